//! A small read-only element tree for checking answer files: local names only
//! (namespaces aside, as the planned-section paths are written), attributes, and the
//! text directly inside each element.

use quick_xml::Reader;
use quick_xml::events::{BytesStart, Event};

/// Deeper nesting than any answer file has is refused rather than followed.
const MAX_DEPTH: usize = 64;

#[derive(Debug, Default)]
pub(super) struct Element {
    pub name: String,
    attrs: Vec<(String, String)>,
    pub children: Vec<Element>,
    pub text: String,
}

impl Element {
    pub(super) fn attr(&self, local: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k == local)
            .map(|(_, v)| v.as_str())
    }

    pub(super) fn children_named<'a>(
        &'a self,
        local: &'a str,
    ) -> impl Iterator<Item = &'a Element> + 'a {
        self.children.iter().filter(move |c| c.name == local)
    }

    /// This element and every element below it, depth first.
    pub(super) fn descendants(&self) -> Vec<&Element> {
        let mut out = vec![self];
        let mut i = 0;
        while let Some(e) = out.get(i).copied() {
            out.extend(e.children.iter());
            i += 1;
        }
        out
    }
}

/// Decode an answer file: UTF-16 with a byte-order mark (as Windows tools save them)
/// or UTF-8 (with or without one).
pub(super) fn decode(bytes: &[u8]) -> Result<String, String> {
    let utf16 = |rest: &[u8], from: fn([u8; 2]) -> u16| {
        if rest.len() % 2 != 0 {
            return Err("odd number of bytes in UTF-16 text".to_string());
        }
        let units = rest.chunks_exact(2).map(|c| from([c[0], c[1]]));
        char::decode_utf16(units)
            .collect::<Result<String, _>>()
            .map_err(|e| format!("not valid UTF-16: {e}"))
    };
    match bytes {
        [0xFF, 0xFE, rest @ ..] => utf16(rest, u16::from_le_bytes),
        [0xFE, 0xFF, rest @ ..] => utf16(rest, u16::from_be_bytes),
        [0xEF, 0xBB, 0xBF, rest @ ..] => {
            String::from_utf8(rest.to_vec()).map_err(|e| format!("not valid UTF-8: {e}"))
        }
        _ => String::from_utf8(bytes.to_vec()).map_err(|e| format!("not valid UTF-8: {e}")),
    }
}

/// Parse a whole document: exactly one root, every element closed with its own name,
/// no DOCTYPE (answer files never have one, and entity expansion is not wanted).
pub(super) fn parse(text: &str) -> Result<Element, String> {
    let mut reader = Reader::from_str(text);
    reader.config_mut().check_end_names = true;
    let mut stack: Vec<Element> = Vec::new();
    let mut root: Option<Element> = None;
    let at = |r: &Reader<&[u8]>| r.buffer_position();
    loop {
        let event = reader
            .read_event()
            .map_err(|e| format!("not well-formed at byte {}: {e}", at(&reader)))?;
        match event {
            Event::Start(e) => {
                if root.is_some() {
                    return Err(format!("a second root element at byte {}", at(&reader)));
                }
                if stack.len() >= MAX_DEPTH {
                    return Err(format!("elements nested deeper than {MAX_DEPTH}"));
                }
                stack.push(element(&e, at(&reader))?);
            }
            Event::Empty(e) => {
                let el = element(&e, at(&reader))?;
                close(el, &mut stack, &mut root, at(&reader))?;
            }
            Event::End(_) => {
                let el = stack.pop().ok_or_else(|| {
                    format!("closing tag without element at byte {}", at(&reader))
                })?;
                close(el, &mut stack, &mut root, at(&reader))?;
            }
            Event::Text(t) => {
                let s = t
                    .unescape()
                    .map_err(|e| format!("bad text at byte {}: {e}", at(&reader)))?;
                match stack.last_mut() {
                    Some(top) => top.text.push_str(&s),
                    None if s.trim().is_empty() => {}
                    None => {
                        return Err(format!(
                            "text outside the root element at byte {}",
                            at(&reader)
                        ));
                    }
                }
            }
            Event::CData(c) => {
                let s = String::from_utf8_lossy(&c.into_inner()).into_owned();
                match stack.last_mut() {
                    Some(top) => top.text.push_str(&s),
                    None => {
                        return Err(format!(
                            "CDATA outside the root element at byte {}",
                            at(&reader)
                        ));
                    }
                }
            }
            Event::DocType(_) => return Err("a DOCTYPE is not allowed in an answer file".into()),
            Event::Decl(_) | Event::PI(_) | Event::Comment(_) => {}
            Event::Eof => break,
        }
    }
    if let Some(open) = stack.last() {
        return Err(format!("element <{}> is never closed", open.name));
    }
    root.ok_or_else(|| "no root element".to_string())
}

fn element(e: &BytesStart<'_>, pos: u64) -> Result<Element, String> {
    let name = String::from_utf8_lossy(e.local_name().as_ref()).into_owned();
    let mut attrs = Vec::new();
    for a in e.attributes() {
        let a = a.map_err(|err| format!("bad attribute in <{name}> at byte {pos}: {err}"))?;
        let key = String::from_utf8_lossy(a.key.local_name().as_ref()).into_owned();
        let value = a
            .unescape_value()
            .map_err(|err| format!("bad attribute value in <{name}> at byte {pos}: {err}"))?
            .into_owned();
        attrs.push((key, value));
    }
    Ok(Element {
        name,
        attrs,
        ..Element::default()
    })
}

fn close(
    el: Element,
    stack: &mut [Element],
    root: &mut Option<Element>,
    pos: u64,
) -> Result<(), String> {
    match stack.last_mut() {
        Some(parent) => parent.children.push(el),
        None if root.is_none() => *root = Some(el),
        None => return Err(format!("a second root element at byte {pos}")),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn malformed_documents_are_refused() {
        for (xml, want) in [
            ("", "no root"),
            ("<a>", "never closed"),
            ("<a></b>", "not well-formed"),
            ("<a/><b/>", "second root"),
            ("<a></a><b></b>", "second root"),
            ("text<a/>", "text outside"),
            ("<a/>tail", "text outside"),
            ("<!DOCTYPE a><a/>", "DOCTYPE"),
            ("<a x='1' x='2'/>", "bad attribute"),
            ("<a>&bogus;</a>", "bad text"),
            ("</a>", "not well-formed"),
        ] {
            let err = parse(xml).expect_err(xml);
            assert!(err.contains(want), "{xml}: {err}");
        }
    }

    #[test]
    fn names_lose_their_prefixes_and_text_is_unescaped() {
        let root = parse(
            r#"<?xml version="1.0"?><u:unattend xmlns:u="urn:x"><u:settings u:pass="a">x &amp; y</u:settings><e/></u:unattend>"#,
        )
        .unwrap();
        assert_eq!(root.name, "unattend");
        let s = root.children_named("settings").next().unwrap();
        assert_eq!(s.attr("pass"), Some("a"));
        assert_eq!(s.text, "x & y");
        assert_eq!(root.descendants().len(), 3);
    }

    #[test]
    fn utf16_with_a_byte_order_mark_decodes() {
        let mut bytes = vec![0xFF, 0xFE];
        for u in "<a/>".encode_utf16() {
            bytes.extend_from_slice(&u.to_le_bytes());
        }
        assert_eq!(decode(&bytes).unwrap(), "<a/>");
        assert!(decode(&[0xFF, 0xFE, 0x41]).is_err());
        assert!(decode(&[0xC3]).is_err());
        assert_eq!(decode(b"\xEF\xBB\xBF<a/>").unwrap(), "<a/>");
    }
}

//! A small owned tree of a customer's answer file.
//!
//! Merging needs to find WAIT's components, edit inside them and write everything else
//! back as it was: attributes, comments, whitespace and order. The tree keeps every
//! event quick-xml read (text stays escaped exactly as written) and adds WAIT's own
//! markup as raw, already well-formed text.

use quick_xml::Reader;
use quick_xml::Writer;
use quick_xml::events::{BytesDecl, BytesStart, BytesText, Event};

use crate::PipelineError;

#[derive(Debug)]
pub(super) enum Node {
    Element(Element),
    /// Text, comments, CDATA, processing instructions and the XML declaration, as read.
    Other(Event<'static>),
    /// Markup WAIT wrote, well-formed by construction.
    Raw(String),
}

/// The namespace bindings in scope at an element that WAIT's own markup relies on: the
/// default namespace (unprefixed elements) and the `wcm` prefix.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct Scope {
    pub default_ns: Option<String>,
    pub wcm: Option<String>,
}

#[derive(Debug)]
pub(super) struct Element {
    start: BytesStart<'static>,
    pub children: Vec<Node>,
    /// Written as `<x/>` in the input; kept that way while it has no children.
    self_closing: bool,
    /// Bindings in scope inside this element (its own declarations included).
    pub scope: Scope,
    /// 0 for the root; used to indent what WAIT inserts.
    pub depth: usize,
}

/// A parsed answer file: what comes before the root, the root, and what follows it.
#[derive(Debug)]
pub(super) struct Document {
    prolog: Vec<Node>,
    pub root: Element,
    epilog: Vec<Node>,
    /// The file used Windows line ends; WAIT's markup is written with them too.
    crlf: bool,
}

/// Read `xml` into a tree. Refuses DOCTYPE (entity expansion), a root other than
/// `<unattend>`, and anything not well-formed, naming `source` and the byte position.
pub(super) fn parse(xml: &str, source: &str) -> Result<Document, PipelineError> {
    let bad = |msg: String| PipelineError::Permanent(format!("answer file {source}: {msg}"));
    // A byte-order mark is not markup; the output is UTF-8 without one.
    let (xml, bom) = match xml.strip_prefix('\u{feff}') {
        Some(rest) => (rest, 3),
        None => (xml, 0),
    };
    let mut reader = Reader::from_str(xml);
    reader.config_mut().check_comments = true;
    let mut prolog = Vec::new();
    let mut epilog = Vec::new();
    let mut root: Option<Element> = None;
    let mut open: Vec<Element> = Vec::new();
    loop {
        let at = reader.buffer_position() + bom;
        let event = reader.read_event().map_err(|e| {
            bad(format!(
                "not well-formed XML at byte {}: {e}",
                reader.error_position() + bom
            ))
        })?;
        let malformed =
            |e: &dyn std::fmt::Display| bad(format!("not well-formed XML at byte {at}: {e}"));
        match event {
            Event::DocType(_) => {
                return Err(bad(format!(
                    "DOCTYPE declaration at byte {at} is not accepted (it can expand entities)"
                )));
            }
            Event::Start(e) | Event::Empty(e) if open.is_empty() && root.is_some() => {
                let name = String::from_utf8_lossy(e.name().as_ref()).into_owned();
                return Err(bad(format!(
                    "a second root element <{name}> at byte {at}; only one <unattend> is allowed"
                )));
            }
            Event::Start(e) | Event::Empty(e)
                if open.is_empty() && e.local_name().as_ref() != b"unattend" =>
            {
                let name = String::from_utf8_lossy(e.name().as_ref()).into_owned();
                return Err(bad(format!(
                    "the root element at byte {at} is <{name}>; it must be <unattend>"
                )));
            }
            Event::Start(e) => {
                let parent = open.last().map(|p| (&p.scope, p.depth + 1));
                let el = Element::read(e, false, parent).map_err(|e| malformed(&e))?;
                open.push(el);
            }
            Event::Empty(e) => {
                let parent = open.last().map(|p| (&p.scope, p.depth + 1));
                let el = Element::read(e, true, parent).map_err(|e| malformed(&e))?;
                match open.last_mut() {
                    Some(p) => p.children.push(Node::Element(el)),
                    None => root = Some(el),
                }
            }
            Event::End(_) => {
                // quick-xml has checked that the name matches the open element.
                let el = open.pop().ok_or_else(|| {
                    bad(format!(
                        "not well-formed XML at byte {at}: unmatched end tag"
                    ))
                })?;
                match open.last_mut() {
                    Some(p) => p.children.push(Node::Element(el)),
                    None => root = Some(el),
                }
            }
            Event::Text(t) => {
                t.unescape().map_err(|e| malformed(&e))?;
                let container = match open.last_mut() {
                    Some(p) => &mut p.children,
                    None if t.iter().all(u8::is_ascii_whitespace) => {
                        if root.is_some() {
                            &mut epilog
                        } else {
                            &mut prolog
                        }
                    }
                    None => {
                        return Err(bad(format!(
                            "not well-formed XML at byte {at}: text outside the root element"
                        )));
                    }
                };
                container.push(Node::Other(Event::Text(t.into_owned())));
            }
            Event::Decl(d) => prolog.push(Node::Other(Event::Decl(utf8_decl(d)))),
            Event::Eof => {
                if let Some(el) = open.last() {
                    return Err(bad(format!(
                        "not well-formed XML: <{}> is not closed at the end of the file (byte {at})",
                        el.qualified_name()
                    )));
                }
                break;
            }
            other @ (Event::Comment(_) | Event::CData(_) | Event::PI(_)) => {
                let node = Node::Other(other.into_owned());
                match open.last_mut() {
                    Some(p) => p.children.push(node),
                    None if root.is_some() => epilog.push(node),
                    None => prolog.push(node),
                }
            }
        }
    }
    let root = root.ok_or_else(|| bad("no <unattend> element".into()))?;
    Ok(Document {
        prolog,
        root,
        epilog,
        crlf: xml.contains("\r\n"),
    })
}

/// The output is always UTF-8: a declaration naming another encoding would lie.
fn utf8_decl(d: BytesDecl<'_>) -> BytesDecl<'static> {
    let declared = d.encoding().and_then(Result::ok);
    match declared {
        Some(enc) if !enc.eq_ignore_ascii_case(b"utf-8") => {
            let version = d
                .version()
                .map(|v| String::from_utf8_lossy(&v).into_owned())
                .unwrap_or_else(|_| "1.0".into());
            let standalone = d
                .standalone()
                .and_then(Result::ok)
                .map(|s| String::from_utf8_lossy(&s).into_owned());
            BytesDecl::new(&version, Some("utf-8"), standalone.as_deref())
        }
        _ => d.into_owned(),
    }
}

impl Document {
    /// The file as text again: the customer's markup as read, WAIT's where it was added.
    pub(super) fn to_xml(&self) -> Result<String, String> {
        let mut w = Writer::new(Vec::new());
        for n in &self.prolog {
            write_node(&mut w, n, self.crlf)?;
        }
        self.root.write(&mut w, self.crlf)?;
        for n in &self.epilog {
            write_node(&mut w, n, self.crlf)?;
        }
        String::from_utf8(w.into_inner()).map_err(|_| "the result is not UTF-8".to_string())
    }
}

fn write_node(w: &mut Writer<Vec<u8>>, node: &Node, crlf: bool) -> Result<(), String> {
    match node {
        Node::Element(e) => e.write(w, crlf),
        Node::Other(ev) => w.write_event(ev.borrow()).map_err(|e| e.to_string()),
        // Parsers read CR LF as LF, so this changes no value, only how the file looks.
        Node::Raw(text) if crlf => {
            w.get_mut()
                .extend_from_slice(text.replace('\n', "\r\n").as_bytes());
            Ok(())
        }
        Node::Raw(text) => {
            w.get_mut().extend_from_slice(text.as_bytes());
            Ok(())
        }
    }
}

fn pad(level: usize) -> String {
    "  ".repeat(level)
}

/// `markup` (lines indented relative to its first) shifted to `level`.
pub(super) fn indented(markup: &str, level: usize) -> String {
    let pad = pad(level);
    markup
        .lines()
        .map(|l| format!("{pad}{l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

impl Element {
    fn read(
        start: BytesStart<'_>,
        self_closing: bool,
        parent: Option<(&Scope, usize)>,
    ) -> Result<Self, quick_xml::Error> {
        let (mut scope, depth) = parent.map_or_else(Default::default, |(s, d)| (s.clone(), d));
        for a in start.attributes() {
            let a = a?;
            let value = a.unescape_value()?;
            match a.key.as_ref() {
                b"xmlns" => scope.default_ns = Some(value.into_owned()),
                b"xmlns:wcm" => scope.wcm = Some(value.into_owned()),
                _ => {}
            }
        }
        Ok(Self {
            start: start.into_owned(),
            children: Vec::new(),
            self_closing,
            scope,
            depth,
        })
    }

    fn write(&self, w: &mut Writer<Vec<u8>>, crlf: bool) -> Result<(), String> {
        let err = |e: std::io::Error| e.to_string();
        if self.self_closing && self.children.is_empty() {
            return w
                .write_event(Event::Empty(self.start.borrow()))
                .map_err(err);
        }
        w.write_event(Event::Start(self.start.borrow()))
            .map_err(err)?;
        for c in &self.children {
            write_node(w, c, crlf)?;
        }
        w.write_event(Event::End(self.start.to_end())).map_err(err)
    }

    fn qualified_name(&self) -> String {
        String::from_utf8_lossy(self.start.name().as_ref()).into_owned()
    }

    /// Whether the element's local name (prefix aside) is `local`.
    pub(super) fn is(&self, local: &str) -> bool {
        self.start.local_name().as_ref() == local.as_bytes()
    }

    /// An attribute by local name, unescaped.
    pub(super) fn attr(&self, local: &str) -> Option<String> {
        self.start
            .attributes()
            .flatten()
            .filter(|a| !a.key.as_ref().starts_with(b"xmlns"))
            .find(|a| a.key.local_name().as_ref() == local.as_bytes())
            .and_then(|a| a.unescape_value().ok().map(|v| v.into_owned()))
    }

    pub(super) fn elements(&self) -> impl Iterator<Item = &Element> {
        self.children.iter().filter_map(|n| match n {
            Node::Element(e) => Some(e),
            _ => None,
        })
    }

    pub(super) fn elements_mut(&mut self) -> impl Iterator<Item = &mut Element> {
        self.children.iter_mut().filter_map(|n| match n {
            Node::Element(e) => Some(e),
            _ => None,
        })
    }

    pub(super) fn child(&self, local: &str) -> Option<&Element> {
        self.elements().find(|e| e.is(local))
    }

    pub(super) fn child_mut(&mut self, local: &str) -> Option<&mut Element> {
        self.elements_mut().find(|e| e.is(local))
    }

    /// The element's own text (CDATA included), unescaped.
    pub(super) fn text(&self) -> String {
        let mut out = String::new();
        for n in &self.children {
            match n {
                // Checked while parsing, so unescaping cannot fail here.
                Node::Other(Event::Text(t)) => out.push_str(&t.unescape().unwrap_or_default()),
                Node::Other(Event::CData(c)) => out.push_str(&String::from_utf8_lossy(c)),
                _ => {}
            }
        }
        out
    }

    /// Replace the element's content with `text` (escaped here).
    pub(super) fn set_text(&mut self, text: &str) {
        self.children = vec![Node::Other(Event::Text(BytesText::new(text).into_owned()))];
        self.self_closing = false;
    }

    /// Remove the child elements `pred` selects, with the indentation before each;
    /// returns them in document order.
    pub(super) fn remove_elements(
        &mut self,
        mut pred: impl FnMut(&Element) -> bool,
    ) -> Vec<Element> {
        let mut kept: Vec<Node> = Vec::with_capacity(self.children.len());
        let mut removed = Vec::new();
        for n in std::mem::take(&mut self.children) {
            match n {
                Node::Element(e) if pred(&e) => {
                    if kept.last().is_some_and(is_whitespace) {
                        kept.pop();
                    }
                    removed.push(e);
                }
                other => kept.push(other),
            }
        }
        self.children = kept;
        removed
    }

    /// Add `markup` as the last child, indented one level deeper than this element.
    pub(super) fn append_markup(&mut self, markup: &str) {
        let block = format!("\n{}", indented(markup, self.depth + 1));
        self.self_closing = false;
        match self.children.last() {
            // Keep the whitespace before our closing tag last, so the tag stays in place.
            Some(last) if is_whitespace(last) => {
                let at = self.children.len() - 1;
                self.children.insert(at, Node::Raw(block));
            }
            // Our own closing indentation, separate so later additions go before it.
            _ => {
                self.children.push(Node::Raw(block));
                self.children
                    .push(Node::Raw(format!("\n{}", pad(self.depth))));
            }
        }
    }

    /// Add `markup` as a child right after the `n`-th child element (0-based), or last
    /// when there is no such element.
    pub(super) fn insert_markup_after_element(&mut self, n: usize, markup: &str) {
        let at = self
            .children
            .iter()
            .enumerate()
            .filter(|(_, c)| matches!(c, Node::Element(_)))
            .nth(n)
            .map(|(i, _)| i + 1);
        match at {
            Some(at) => {
                let block = format!("\n{}", indented(markup, self.depth + 1));
                self.children.insert(at, Node::Raw(block));
            }
            None => self.append_markup(markup),
        }
    }
}

fn is_whitespace(n: &Node) -> bool {
    match n {
        Node::Other(Event::Text(t)) => t.iter().all(u8::is_ascii_whitespace),
        Node::Raw(text) => text.bytes().all(|b| b.is_ascii_whitespace()),
        _ => false,
    }
}

//! Base-image identity from any seekable stream of a WIM or ESD, without libwim.
//!
//! libwim opens files by path only, so an install.wim inside an ISO would have to be
//! extracted whole (gigabytes) to be opened. The identity lives in two small places
//! instead: the fixed header says where the XML document is, and the XML document (never
//! compressed, UTF-16LE) holds NAME, EDITIONID, ARCH, VERSION, LANGUAGES… per image. This
//! reads just those two, typically a few kilobytes.

use std::collections::HashMap;
use std::io::{Read, Seek, SeekFrom};

use quick_xml::events::Event;
use quick_xml::reader::Reader;
use wait_wim::ImageInfo;

use crate::ImageIdentity;

const MAGIC: &[u8; 8] = b"MSWIM\0\0\0";
const PIPABLE_MAGIC: &[u8; 8] = b"WLPWM\0\0\0";
/// Size of the fixed header (WIM version 1.13).
const HEADER_BYTES: usize = 208;
/// Offset of the XML resource header inside the fixed header.
const XML_RESHDR: usize = 72;
/// Resource flag: the resource is compressed (the XML never legitimately is).
const RESHDR_COMPRESSED: u8 = 0x04;
/// Largest XML document accepted; real ones are a few kB per image.
const MAX_XML_BYTES: u64 = 32 * 1024 * 1024;
/// Deepest element nesting accepted.
const MAX_DEPTH: usize = 16;
/// Most images accepted in one file.
const MAX_IMAGES: usize = 1024;

fn u64_at(b: &[u8], at: usize) -> u64 {
    let mut v = [0u8; 8];
    v.copy_from_slice(&b[at..at + 8]);
    u64::from_le_bytes(v)
}

/// Identity of every image, read from the header and XML of the WIM/ESD that `r`
/// streams. `Err` is a sentence for a problem list (the caller adds the file name).
pub(crate) fn identities<R: Read + Seek>(r: &mut R) -> Result<Vec<ImageIdentity>, String> {
    let mut header = [0u8; HEADER_BYTES];
    r.seek(SeekFrom::Start(0))
        .and_then(|_| r.read_exact(&mut header))
        .map_err(|e| format!("cannot read the WIM header: {e}"))?;
    if &header[..8] == PIPABLE_MAGIC {
        return Err("pipable WIM: its XML is at the end of the stream; identity not read".into());
    }
    if &header[..8] != MAGIC {
        return Err("not a WIM or ESD file (bad magic)".into());
    }
    // A resource header: 7-byte stored size, 1 flag byte, 8-byte offset, 8-byte size.
    let flags = header[XML_RESHDR + 7];
    let offset = u64_at(&header, XML_RESHDR + 8);
    let size = u64_at(&header, XML_RESHDR + 16);
    if size == 0 {
        return Ok(Vec::new());
    }
    if flags & RESHDR_COMPRESSED != 0 {
        return Err("the XML resource is marked compressed, which WIM files never do".into());
    }
    if size > MAX_XML_BYTES {
        return Err(format!(
            "the XML resource is {size} bytes, more than the {MAX_XML_BYTES}-byte limit"
        ));
    }
    let mut xml = vec![0u8; size as usize];
    r.seek(SeekFrom::Start(offset))
        .and_then(|_| r.read_exact(&mut xml))
        .map_err(|e| format!("cannot read the XML resource ({size} bytes at {offset}): {e}"))?;
    parse(&utf16le(&xml))
}

fn utf16le(bytes: &[u8]) -> String {
    let units: Vec<u16> = bytes
        .chunks_exact(2)
        .map(|p| u16::from_le_bytes([p[0], p[1]]))
        .collect();
    let units = units.strip_prefix(&[0xFEFF]).unwrap_or(&units);
    String::from_utf16_lossy(units)
}

/// The properties of one `<IMAGE>`: '/'-joined element path below IMAGE → text.
#[derive(Default)]
struct RawImage {
    index: Option<u32>,
    values: HashMap<String, String>,
    languages: Vec<String>,
}

/// Parse the WIM XML document (already decoded).
pub(crate) fn parse(text: &str) -> Result<Vec<ImageIdentity>, String> {
    let mut reader = Reader::from_str(text);
    reader.config_mut().trim_text(true);
    let mut stack: Vec<String> = Vec::new();
    let mut images: Vec<RawImage> = Vec::new();
    let mut current: Option<RawImage> = None;
    loop {
        let event = reader
            .read_event()
            .map_err(|e| format!("WIM XML is not well-formed: {e}"))?;
        match event {
            Event::DocType(_) => return Err("WIM XML has a DOCTYPE, which is refused".into()),
            Event::Start(e) => {
                let name = String::from_utf8_lossy(e.name().as_ref()).to_ascii_uppercase();
                if stack.len() >= MAX_DEPTH {
                    return Err(format!("WIM XML nests deeper than {MAX_DEPTH} levels"));
                }
                if stack.len() == 1 && stack[0] == "WIM" && name == "IMAGE" {
                    if images.len() >= MAX_IMAGES {
                        return Err(format!("WIM XML lists more than {MAX_IMAGES} images"));
                    }
                    let index =
                        e.try_get_attribute("INDEX").ok().flatten().and_then(|a| {
                            a.unescape_value().ok().and_then(|v| v.trim().parse().ok())
                        });
                    current = Some(RawImage {
                        index,
                        ..RawImage::default()
                    });
                }
                stack.push(name);
            }
            Event::End(_) => {
                if stack.len() == 2 && stack[1] == "IMAGE" {
                    if let Some(done) = current.take() {
                        images.push(done);
                    }
                }
                stack.pop();
            }
            Event::Text(t) => {
                let (Some(image), true) = (current.as_mut(), stack.len() > 2) else {
                    continue;
                };
                let value = t
                    .unescape()
                    .map_err(|e| format!("WIM XML has a bad escape: {e}"))?
                    .trim()
                    .to_string();
                let key = stack[2..].join("/");
                if key == "WINDOWS/LANGUAGES/LANGUAGE" {
                    image.languages.push(value);
                } else {
                    image.values.entry(key).or_insert(value);
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if !stack.is_empty() {
        return Err("WIM XML ends inside an element".into());
    }
    let mut out = Vec::with_capacity(images.len());
    for (i, raw) in images.into_iter().enumerate() {
        // INDEX is 1-based and in document order in practice; fall back to the order.
        let index = raw.index.unwrap_or(i as u32 + 1);
        out.push(identity(index, raw));
    }
    out.sort_by_key(|i| i.index);
    Ok(out)
}

fn number<T: std::str::FromStr>(raw: Option<&String>) -> Option<T> {
    let s = raw?.trim();
    if let Some(hex) = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        return u64::from_str_radix(hex, 16)
            .ok()
            .and_then(|v| v.to_string().parse().ok());
    }
    s.parse().ok()
}

/// The same mapping libwim's view goes through ([`crate::identity_from_info`]), so an
/// image reads the same whether it came from a file or from inside an ISO.
fn identity(index: u32, raw: RawImage) -> ImageIdentity {
    let get = |k: &str| raw.values.get(k).cloned();
    let major = number::<u32>(raw.values.get("WINDOWS/VERSION/MAJOR"));
    let minor = number::<u32>(raw.values.get("WINDOWS/VERSION/MINOR"));
    let build = number::<u32>(raw.values.get("WINDOWS/VERSION/BUILD"));
    let sp = match raw.values.get("WINDOWS/VERSION/SPBUILD") {
        None => Some(0),
        Some(s) => number::<u32>(Some(s)),
    };
    let version = match (major, minor, build, sp) {
        (Some(a), Some(b), Some(c), Some(d)) => Some((a, b, c, d)),
        _ => None,
    };
    let info = ImageInfo {
        index,
        name: get("NAME"),
        description: get("DESCRIPTION"),
        display_name: get("DISPLAYNAME"),
        flags: get("FLAGS"),
        arch: number(raw.values.get("WINDOWS/ARCH")),
        product_name: get("WINDOWS/PRODUCTNAME"),
        edition_id: get("WINDOWS/EDITIONID"),
        installation_type: get("WINDOWS/INSTALLATIONTYPE"),
        version,
        languages: raw.languages.clone(),
        default_language: get("WINDOWS/LANGUAGES/DEFAULT"),
        total_bytes: number(raw.values.get("TOTALBYTES")),
        file_count: number(raw.values.get("FILECOUNT")),
        dir_count: number(raw.values.get("DIRCOUNT")),
    };
    let mut identity = crate::identity_from_info(index, info);
    if identity.build.is_none() {
        // Some tools write BUILD without the rest of VERSION.
        identity.build = build;
    }
    identity
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "<WIM><TOTALBYTES>123</TOTALBYTES>\
        <IMAGE INDEX=\"2\"><NAME>Pro</NAME><TOTALBYTES>99</TOTALBYTES><WINDOWS><ARCH>9</ARCH>\
        <EDITIONID>Professional</EDITIONID><LANGUAGES><LANGUAGE>en-US</LANGUAGE>\
        <LANGUAGE>de-DE</LANGUAGE><DEFAULT>en-US</DEFAULT></LANGUAGES><VERSION><MAJOR>10</MAJOR>\
        <MINOR>0</MINOR><BUILD>26100</BUILD><SPBUILD>1742</SPBUILD></VERSION></WINDOWS></IMAGE>\
        <IMAGE INDEX=\"1\"><NAME>Home &amp; more</NAME><WINDOWS><ARCH>12</ARCH><VERSION>\
        <BUILD>19045</BUILD></VERSION></WINDOWS></IMAGE></WIM>";

    #[test]
    fn images_are_read_in_index_order() {
        let images = parse(SAMPLE).expect("parse");
        assert_eq!(images.len(), 2);
        assert_eq!(images[0].index, 1);
        assert_eq!(images[0].name, "Home & more");
        assert_eq!(images[0].arch, Some(crate::Arch::Arm64));
        assert_eq!(images[0].build, Some(19045));
        assert_eq!(images[0].version, None);
        let pro = &images[1];
        assert_eq!(pro.edition.as_deref(), Some("Professional"));
        assert_eq!(pro.version.as_deref(), Some("10.0.26100.1742"));
        assert_eq!(pro.languages, vec!["en-US", "de-DE"]);
        assert_eq!(pro.size, 99);
    }

    #[test]
    fn bad_documents_are_errors_not_panics() {
        for bad in [
            "<WIM><IMAGE>",
            "<!DOCTYPE x [<!ENTITY a \"b\">]><WIM/>",
            "<WIM><IMAGE INDEX=\"1\"><NAME>&bogus;</NAME></IMAGE></WIM>",
            &"<A>".repeat(40),
        ] {
            assert!(parse(bad).is_err(), "{bad:?}");
        }
        assert!(parse("").expect("empty").is_empty());
    }

    #[test]
    fn headers_that_lie_are_refused() {
        let mut h = vec![0u8; HEADER_BYTES];
        h[..8].copy_from_slice(MAGIC);
        // XML said to be 16 bytes at offset 1 GiB: beyond the stream.
        h[XML_RESHDR + 16] = 16;
        h[XML_RESHDR + 8 + 3] = 0x40;
        assert!(identities(&mut std::io::Cursor::new(h.clone())).is_err());
        h[XML_RESHDR + 7] = RESHDR_COMPRESSED;
        assert!(identities(&mut std::io::Cursor::new(h.clone())).is_err());
        assert!(identities(&mut std::io::Cursor::new(b"short".to_vec())).is_err());
        assert!(identities(&mut std::io::Cursor::new(vec![0u8; 300])).is_err());
    }
}

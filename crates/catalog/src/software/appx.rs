//! `.appx`/`.msix`: a zip whose `AppxManifest.xml` has
//! `<Package><Identity Name Publisher Version ProcessorArchitecture/></Package>`.
//! The manifest's size is checked before it is inflated and the inflated bytes are capped
//! (a zip entry can lie about its size); a `<!DOCTYPE` is refused.

use std::io::Read;
use std::path::Path;

use quick_xml::events::Event;
use quick_xml::reader::Reader;

use super::{SoftwareError, SoftwareProblem, err};
use crate::text;

/// Largest manifest read.
pub const MAX_MANIFEST_BYTES: u64 = 4 * 1024 * 1024;
const MANIFEST: &str = "AppxManifest.xml";
const MAX_DEPTH: usize = 64;

pub(super) struct AppxIdentity {
    pub name: Option<String>,
    pub version: Option<String>,
    pub publisher: Option<String>,
    pub arch: Option<String>,
}

pub(super) fn read(path: &Path, file: &str) -> Result<AppxIdentity, SoftwareError> {
    let handle = std::fs::File::open(path)
        .map_err(|e| err(file, None, SoftwareProblem::Io(e.to_string())))?;
    let bad_zip = |m: String| err(file, None, SoftwareProblem::BadZip(m));
    let mut archive = zip::ZipArchive::new(handle).map_err(|e| bad_zip(e.to_string()))?;
    let index = (0..archive.len())
        .find(|&i| {
            archive
                .name_for_index(i)
                .is_some_and(|n| n.eq_ignore_ascii_case(MANIFEST))
        })
        .ok_or_else(|| err(file, None, SoftwareProblem::NoManifest))?;
    let entry = archive
        .by_index(index)
        .map_err(|e| err(file, Some(MANIFEST), SoftwareProblem::BadZip(e.to_string())))?;
    if entry.size() > MAX_MANIFEST_BYTES {
        return Err(err(
            file,
            Some(MANIFEST),
            SoftwareProblem::TooLarge {
                size: entry.size(),
                limit: MAX_MANIFEST_BYTES,
            },
        ));
    }
    let mut bytes = Vec::new();
    entry
        .take(MAX_MANIFEST_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| err(file, Some(MANIFEST), SoftwareProblem::BadZip(e.to_string())))?;
    if bytes.len() as u64 > MAX_MANIFEST_BYTES {
        return Err(err(
            file,
            Some(MANIFEST),
            SoftwareProblem::TooLarge {
                size: bytes.len() as u64,
                limit: MAX_MANIFEST_BYTES,
            },
        ));
    }
    parse_manifest(&bytes).map_err(|(line, message)| {
        err(
            file,
            Some(MANIFEST),
            SoftwareProblem::BadXml { line, message },
        )
    })
}

/// The `Identity` child of the root `<Package>`. Errors carry a 1-based line.
fn parse_manifest(bytes: &[u8]) -> Result<AppxIdentity, (usize, String)> {
    let (decoded, _) = text::decode(bytes);
    let body = decoded.strip_prefix('\u{FEFF}').unwrap_or(&decoded);
    let mut reader = Reader::from_str(body);
    reader.config_mut().trim_text(true);
    let line =
        |offset: u64| text::line_of_offset(body, usize::try_from(offset).unwrap_or(usize::MAX));
    let mut depth = 0usize;
    loop {
        let event = reader.read_event().map_err(|e| {
            (
                line(reader.error_position()),
                format!("not well-formed XML: {e}"),
            )
        })?;
        let here = line(reader.buffer_position());
        match event {
            Event::DocType(_) => {
                return Err((here, "a DOCTYPE is not accepted in a manifest".into()));
            }
            Event::Start(e) | Event::Empty(e)
                if depth == 1 && e.local_name().as_ref() == b"Identity" =>
            {
                let mut id = AppxIdentity {
                    name: None,
                    version: None,
                    publisher: None,
                    arch: None,
                };
                for a in e.attributes() {
                    let a = a.map_err(|e| (here, format!("not well-formed XML: {e}")))?;
                    let value = a
                        .unescape_value()
                        .map_err(|e| (here, format!("not well-formed XML: {e}")))?
                        .into_owned();
                    let slot = match a.key.as_ref() {
                        b"Name" => &mut id.name,
                        b"Version" => &mut id.version,
                        b"Publisher" => &mut id.publisher,
                        b"ProcessorArchitecture" => &mut id.arch,
                        _ => continue,
                    };
                    *slot = Some(value);
                }
                if id.name.is_none() {
                    return Err((here, "<Identity> has no Name attribute".into()));
                }
                return Ok(id);
            }
            Event::Start(e) => {
                if depth == 0 && e.local_name().as_ref() != b"Package" {
                    let found = String::from_utf8_lossy(e.local_name().as_ref()).into_owned();
                    return Err((
                        here,
                        format!("root element is <{found}>, expected <Package>"),
                    ));
                }
                depth += 1;
                if depth > MAX_DEPTH {
                    return Err((
                        here,
                        format!("elements nest deeper than {MAX_DEPTH} levels"),
                    ));
                }
            }
            Event::End(_) => depth = depth.saturating_sub(1),
            Event::Eof => return Err((here, "no <Identity> under <Package>".into())),
            _ => {}
        }
    }
}

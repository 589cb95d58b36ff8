//! `*-pkgProperties.txt` of a classic `.msu` (and `*-pkgProperties_PSFX.txt` of the
//! current cumulative updates): UTF-16LE or UTF-8 text, one `Key="Value"` (or
//! `Key=Value`) per line, keys with spaces such as `KB Article Number`.
//!
//! The PSFX variant is recognised by its file name (`…_PSFX.txt`): the two files share
//! their keys, and the name is what marks a cumulative update that has to be applied as a
//! whole .msu at first boot rather than through the answer file.

use serde::Serialize;

use super::error::{PackageError, PackageProblem, fail};
use crate::text;

/// Largest properties file accepted; real ones are well under a kilobyte.
pub const MAX_PROPS_BYTES: u64 = 1024 * 1024;

/// What a pkgProperties file says about its package.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PkgProperties {
    /// True for `…-pkgProperties_PSFX.txt`.
    pub psfx: bool,
    pub applies_to: Option<String>,
    pub build_date: Option<String>,
    /// The number of `KB Article Number` (a leading `KB` is accepted and dropped).
    pub kb: u32,
    pub language: Option<String>,
    pub package_type: Option<String>,
    pub processor_architecture: Option<String>,
    pub product_name: Option<String>,
    pub installation_type: Option<String>,
    /// Every other line, in file order.
    pub other: Vec<(String, String)>,
}

impl PkgProperties {
    /// `KB5043080`.
    pub fn kb_article(&self) -> String {
        format!("KB{}", self.kb)
    }
}

/// Parse a pkgProperties file. `name` is the file (or `.msu` member) name: it is used in
/// errors and decides [`PkgProperties::psfx`].
pub fn parse_pkg_properties(name: &str, bytes: &[u8]) -> Result<PkgProperties, PackageError> {
    let size = bytes.len() as u64;
    if size > MAX_PROPS_BYTES {
        return Err(fail(
            name,
            1,
            PackageProblem::TooLarge {
                size,
                limit: MAX_PROPS_BYTES,
            },
        ));
    }
    let (decoded, _) = text::decode(bytes);
    let body = text::strip_eof_marker(&decoded);
    if let Some((line, c)) = text::find_binary(body) {
        return Err(fail(name, line, PackageProblem::Binary { code: c as u32 }));
    }
    let mut out = PkgProperties {
        psfx: name.to_ascii_lowercase().ends_with("_psfx.txt"),
        applies_to: None,
        build_date: None,
        kb: 0,
        language: None,
        package_type: None,
        processor_architecture: None,
        product_name: None,
        installation_type: None,
        other: Vec::new(),
    };
    let mut kb_seen = false;
    let mut last_line = 1;
    for (i, raw) in body.lines().enumerate() {
        let number = i + 1;
        last_line = number;
        let line = raw.trim();
        if line.is_empty() {
            continue;
        }
        let Some((key, value)) = line.split_once('=') else {
            return Err(fail(name, number, PackageProblem::NoEquals));
        };
        let key = key.trim();
        if key.is_empty() {
            return Err(fail(name, number, PackageProblem::EmptyKey));
        }
        let value = unquote(value.trim())
            .ok_or_else(|| fail(name, number, PackageProblem::UnterminatedQuote))?
            .to_string();
        // Keys are compared without case and with runs of spaces folded.
        let folded = key
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .to_ascii_lowercase();
        let slot = match folded.as_str() {
            "applies to" => &mut out.applies_to,
            "build date" => &mut out.build_date,
            "language" => &mut out.language,
            "package type" => &mut out.package_type,
            "processor architecture" => &mut out.processor_architecture,
            "product name" => &mut out.product_name,
            "installation type" => &mut out.installation_type,
            "kb article number" => {
                out.kb = kb_number(&value).ok_or_else(|| {
                    fail(
                        name,
                        number,
                        PackageProblem::BadValue {
                            key: "KB Article Number",
                            value: value.clone(),
                            reason: "not a KB number".into(),
                        },
                    )
                })?;
                kb_seen = true;
                continue;
            }
            _ => {
                out.other.push((key.to_string(), value));
                continue;
            }
        };
        *slot = Some(value);
    }
    if !kb_seen {
        return Err(fail(
            name,
            last_line,
            PackageProblem::MissingKey("KB Article Number"),
        ));
    }
    Ok(out)
}

/// The value without its quotes; `None` when a quote is opened and never closed.
fn unquote(value: &str) -> Option<&str> {
    let Some(inner) = value.strip_prefix('"') else {
        return Some(value);
    };
    let end = inner.rfind('"')?;
    Some(&inner[..end])
}

/// `5043080` or `KB5043080`.
fn kb_number(value: &str) -> Option<u32> {
    let v = value.trim();
    let digits = match v.get(..2) {
        Some(p) if p.eq_ignore_ascii_case("kb") => &v[2..],
        _ => v,
    };
    if digits.is_empty() || digits.len() > 9 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

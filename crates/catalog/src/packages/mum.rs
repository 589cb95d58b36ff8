//! `update.mum`: the package manifest of a servicing `.cab` (namespace
//! `urn:schemas-microsoft-com:asm.v3`).
//!
//! Only the root's direct children are read: `<assemblyIdentity>` (the package identity)
//! and `<package>`. Deeper `<assemblyIdentity>` elements (parents, components) describe
//! other assemblies and are skipped.
//!
//! Namespaces are resolved here, for the root and its children only, instead of by the
//! reader's namespace-aware mode: that mode scans every binding in scope for every element,
//! which a document declaring thousands of prefixes turns into quadratic work.
//!
//! The XML reader never expands entities beyond the five predefined ones and character
//! references, and a document with a `<!DOCTYPE` is refused outright, so neither
//! exponential entity expansion nor external entities can happen.

use quick_xml::events::{BytesStart, Event};
use quick_xml::reader::Reader;
use serde::Serialize;

use super::error::{PackageError, PackageProblem, fail};
use crate::text;

/// Largest `update.mum` accepted, in bytes.
pub const MAX_MUM_BYTES: u64 = 16 * 1024 * 1024;
/// Longest attribute value read from the root, its identity and its package element.
pub const MAX_ATTRIBUTE: usize = 4096;
/// Deepest element nesting accepted.
const MAX_DEPTH: usize = 64;
/// Most attributes read on one element (the reader's duplicate check is quadratic).
const MAX_ATTRIBUTES: usize = 64;

const NAMESPACE: &[u8] = b"urn:schemas-microsoft-com:asm.v3";

/// The five attributes that identify a package.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AssemblyIdentity {
    pub name: String,
    pub version: String,
    pub processor_architecture: String,
    /// `neutral` for language-independent packages.
    pub language: String,
    pub public_key_token: String,
}

impl AssemblyIdentity {
    /// The identity as DISM prints it: `name~token~arch~language~version`. DISM writes a
    /// neutral package with an empty language (`Package_for_RollupFix~31bf3856ad364e35~amd64~~26100.1742.1.10`),
    /// as the feature-on-demand file names in SERVICING.md show, so `neutral` becomes
    /// empty here.
    pub fn dism_identity(&self) -> String {
        let language = if self.language.eq_ignore_ascii_case("neutral") {
            ""
        } else {
            self.language.as_str()
        };
        format!(
            "{}~{}~{}~{}~{}",
            self.name, self.public_key_token, self.processor_architecture, language, self.version
        )
    }
}

/// The `<package>` element.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MumPackage {
    /// `KB5043080` for updates; language packs use other identifiers.
    pub identifier: Option<String>,
    /// `Update`, `Security Update`, `Language Pack`, `Feature Pack`, …
    pub release_type: Option<String>,
    /// `possible`, `required`, …
    pub restart: Option<String>,
}

impl MumPackage {
    /// The KB number when the identifier is `KB` followed by digits.
    pub fn kb_number(&self) -> Option<u32> {
        let id = self.identifier.as_deref()?;
        let (prefix, digits) = (id.get(..2)?, id.get(2..)?);
        let numeric = !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit());
        if !prefix.eq_ignore_ascii_case("kb") || !numeric {
            return None;
        }
        digits.parse().ok()
    }
}

/// What WAIT reads from `update.mum`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UpdateMum {
    pub identity: AssemblyIdentity,
    pub package: MumPackage,
    /// Root attributes, when present.
    pub display_name: Option<String>,
    pub description: Option<String>,
}

/// Parse an `update.mum`. `name` names the file (or the container member) in errors.
pub fn parse_update_mum(name: &str, bytes: &[u8]) -> Result<UpdateMum, PackageError> {
    let size = bytes.len() as u64;
    if size > MAX_MUM_BYTES {
        return Err(fail(
            name,
            1,
            PackageProblem::TooLarge {
                size,
                limit: MAX_MUM_BYTES,
            },
        ));
    }
    let (decoded, _) = text::decode(bytes);
    if let Some((line, c)) = text::find_binary(&decoded) {
        return Err(fail(name, line, PackageProblem::Binary { code: c as u32 }));
    }
    Parser::new(name, &decoded).run()
}

struct Parser<'a> {
    name: &'a str,
    text: &'a str,
    reader: Reader<&'a [u8]>,
    /// Namespace bindings declared on the root: (prefix, namespace).
    root_bindings: Vec<(Option<String>, String)>,
    root: Option<(Option<String>, Option<String>)>,
    identity: Option<AssemblyIdentity>,
    package: Option<MumPackage>,
}

impl<'a> Parser<'a> {
    fn new(name: &'a str, text: &'a str) -> Self {
        let mut reader = Reader::from_str(text);
        reader.config_mut().trim_text(true);
        Parser {
            name,
            text,
            reader,
            root_bindings: Vec::new(),
            root: None,
            identity: None,
            package: None,
        }
    }

    fn line(&self, offset: u64) -> usize {
        text::line_of_offset(self.text, usize::try_from(offset).unwrap_or(usize::MAX))
    }

    fn here(&self, problem: PackageProblem) -> PackageError {
        fail(self.name, self.line(self.reader.buffer_position()), problem)
    }

    fn run(mut self) -> Result<UpdateMum, PackageError> {
        let mut depth = 0usize;
        let mut root_done = false;
        loop {
            let event = match self.reader.read_event() {
                Ok(event) => event,
                Err(e) => {
                    let line = self.line(self.reader.error_position());
                    return Err(fail(self.name, line, PackageProblem::NotXml(e.to_string())));
                }
            };
            match event {
                Event::DocType(_) => return Err(self.here(PackageProblem::DocType)),
                Event::Start(e) | Event::Empty(e) if root_done && depth == 0 => {
                    let found = String::from_utf8_lossy(e.local_name().as_ref()).into_owned();
                    return Err(self.here(PackageProblem::NotXml(format!(
                        "second root element <{found}>"
                    ))));
                }
                Event::Start(e) => {
                    self.element(&e, depth)?;
                    depth += 1;
                    if depth > MAX_DEPTH {
                        return Err(self.here(PackageProblem::TooDeep { limit: MAX_DEPTH }));
                    }
                }
                Event::Empty(e) => {
                    self.element(&e, depth)?;
                    if depth == 0 {
                        root_done = true;
                    }
                }
                Event::End(_) => {
                    depth = depth.saturating_sub(1);
                    if depth == 0 {
                        root_done = true;
                    }
                }
                Event::Text(_) | Event::CData(_) if depth == 0 => {
                    return Err(self.here(PackageProblem::NotXml(
                        "text outside the root element".into(),
                    )));
                }
                Event::Eof => break,
                _ => {}
            }
        }
        let end_line = self.line(self.reader.buffer_position());
        if self.root.is_none() {
            return Err(fail(
                self.name,
                end_line,
                PackageProblem::NotXml("no root element".into()),
            ));
        }
        if !root_done {
            return Err(fail(
                self.name,
                end_line,
                PackageProblem::NotXml("the root element is not closed".into()),
            ));
        }
        let identity = self.identity.ok_or_else(|| {
            fail(
                self.name,
                end_line,
                PackageProblem::MissingElement("assemblyIdentity"),
            )
        })?;
        let package = self.package.ok_or_else(|| {
            fail(
                self.name,
                end_line,
                PackageProblem::MissingElement("package"),
            )
        })?;
        let (display_name, description) = self.root.unwrap_or_default();
        Ok(UpdateMum {
            identity,
            package,
            display_name,
            description,
        })
    }

    fn element(&mut self, e: &BytesStart<'_>, depth: usize) -> Result<(), PackageError> {
        let local = e.local_name();
        let local = local.as_ref();
        let prefix = e
            .name()
            .prefix()
            .map(|p| String::from_utf8_lossy(p.as_ref()).into_owned());
        if depth == 0 {
            if local != b"assembly" {
                let found = String::from_utf8_lossy(local).into_owned();
                return Err(self.here(PackageProblem::WrongRoot { found }));
            }
            let attrs = self.attributes(e, "assembly")?;
            self.root_bindings = bindings(&attrs);
            let found = lookup(&self.root_bindings, &prefix).unwrap_or_default();
            if found.as_bytes() != NAMESPACE {
                return Err(self.here(PackageProblem::WrongNamespace { found }));
            }
            self.root = Some((attr(&attrs, "displayName"), attr(&attrs, "description")));
            return Ok(());
        }
        let wanted = match local {
            b"assemblyIdentity" => self.identity.is_none(),
            b"package" => self.package.is_none(),
            _ => false,
        };
        if depth != 1 || !wanted {
            return Ok(());
        }
        let element = if local == b"package" {
            "package"
        } else {
            "assemblyIdentity"
        };
        let attrs = self.attributes(e, element)?;
        // The element's own declarations win over the root's.
        let namespace = lookup(&bindings(&attrs), &prefix)
            .or_else(|| lookup(&self.root_bindings, &prefix))
            .unwrap_or_default();
        if namespace.as_bytes() != NAMESPACE {
            return Ok(());
        }
        if element == "package" {
            self.package = Some(MumPackage {
                identifier: attr(&attrs, "identifier"),
                release_type: attr(&attrs, "releaseType"),
                restart: attr(&attrs, "restart"),
            });
            return Ok(());
        }
        let need = |key: &'static str| {
            attr(&attrs, key).ok_or_else(|| {
                self.here(PackageProblem::MissingAttribute {
                    element: "assemblyIdentity",
                    attribute: key,
                })
            })
        };
        self.identity = Some(AssemblyIdentity {
            name: need("name")?,
            version: need("version")?,
            processor_architecture: need("processorArchitecture")?,
            language: need("language")?,
            public_key_token: need("publicKeyToken")?,
        });
        Ok(())
    }

    /// The attributes of an element we read, unescaped, each at most [`MAX_ATTRIBUTE`].
    fn attributes(
        &self,
        e: &BytesStart<'_>,
        element: &str,
    ) -> Result<Vec<(String, String)>, PackageError> {
        let mut out = Vec::new();
        for (count, a) in e.attributes().enumerate() {
            if count >= MAX_ATTRIBUTES {
                return Err(self.here(PackageProblem::TooManyAttributes {
                    element: element.to_string(),
                    limit: MAX_ATTRIBUTES,
                }));
            }
            let a = a.map_err(|err| self.here(PackageProblem::NotXml(err.to_string())))?;
            // The qualified name: `xmlns:a` must stay apart from a plain `a`.
            let key = String::from_utf8_lossy(a.key.as_ref()).into_owned();
            if a.value.len() > MAX_ATTRIBUTE {
                return Err(self.here(PackageProblem::TooLong {
                    what: format!("attribute {key} of <{element}>"),
                    limit: MAX_ATTRIBUTE,
                }));
            }
            let value = a.unescape_value().map_err(|err| {
                self.here(PackageProblem::NotXml(format!(
                    "attribute {key} of <{element}>: {err}"
                )))
            })?;
            out.push((key, value.into_owned()));
        }
        Ok(out)
    }
}

/// A non-empty attribute value (an empty one counts as missing).
fn attr(attrs: &[(String, String)], key: &str) -> Option<String> {
    attrs
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

/// Namespace declarations among `attrs`: `xmlns` (prefix `None`) and `xmlns:p`.
fn bindings(attrs: &[(String, String)]) -> Vec<(Option<String>, String)> {
    attrs
        .iter()
        .filter_map(|(k, v)| {
            if k == "xmlns" {
                Some((None, v.clone()))
            } else {
                k.strip_prefix("xmlns:")
                    .map(|p| (Some(p.to_string()), v.clone()))
            }
        })
        .collect()
}

/// The namespace bound to `prefix`, the last declaration winning.
fn lookup(bindings: &[(Option<String>, String)], prefix: &Option<String>) -> Option<String> {
    bindings
        .iter()
        .rev()
        .find(|(p, _)| p == prefix)
        .map(|(_, ns)| ns.clone())
}

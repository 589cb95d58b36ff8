//! A parser for driver INF files, written by hand (no maintained crate reads them).
//!
//! [`parse_inf`] decodes the bytes (see [`crate::text`]), lexes sections and entries,
//! substitutes `%tokens%` and extracts what WAIT needs: the `[Version]` facts, the
//! `[Manufacturer]` entries with their target-OS decorations and the models sections with
//! their hardware IDs. [`InfFile::applies_to`] then says which models section Windows would
//! use on a given image.
//!
//! Choices worth knowing:
//! - A `[Manufacturer]` decoration that cannot be parsed (`NTfoo`) is a *warning*, not an
//!   error: Windows skips such entries and still uses the rest of the INF, and a driver set
//!   report is more useful when it shows the rest.
//! - A missing `Signature`, a missing `[Version]` and a malformed `DriverVer` are errors;
//!   a missing `DriverVer` is a warning.
//! - Sizes are bounded: the file ([`MAX_INF_BYTES`]), every line ([`MAX_LINE`]) and string
//!   substitution (see `strings`), so a hostile file costs bounded time and memory.

mod applicability;
mod decoration;
mod error;
mod lexer;
mod strings;
mod version;

use std::collections::HashMap;

use serde::Serialize;

pub use applicability::{Applicability, ChosenModels, OsTarget};
pub use decoration::{InfArch, TargetOs};
pub use error::{InfError, InfProblem, InfWarning};
pub use lexer::MAX_LINE;
pub use version::{DriverVer, DriverVersion, InfDate};

use crate::text::{self, TextEncoding};
use error::Blame;
use lexer::{Lexed, RawEntry};
use strings::Strings;

/// Largest INF accepted, in bytes as stored.
pub const MAX_INF_BYTES: u64 = 32 * 1024 * 1024;
/// Most models sections `[Manufacturer]` may refer to (counting every reference).
pub const MAX_MODELS_SECTIONS: usize = 4096;
/// Most device lines read from models sections, all references together. A section that
/// many manufacturer lines refer to counts once per reference: that is what a hostile file
/// would use to multiply a small input into a large result.
pub const MAX_DEVICES: usize = 100_000;

/// What WAIT reads from an INF file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InfFile {
    /// The name the caller gave (usually the path); used in messages.
    pub name: String,
    pub encoding: TextEncoding,
    /// `$Windows NT$`, `$Chicago$`, … as written.
    pub signature: String,
    pub class: Option<String>,
    pub class_guid: Option<String>,
    pub provider: Option<String>,
    pub driver_ver: Option<DriverVer>,
    /// `CatalogFile` and its decorated forms (`CatalogFile.NTamd64`).
    pub catalog_files: Vec<CatalogFile>,
    pub manufacturers: Vec<Manufacturer>,
    pub warnings: Vec<InfWarning>,
}

/// One `CatalogFile[.decoration] = name.cat` entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CatalogFile {
    /// `None` for plain `CatalogFile`.
    pub decoration: Option<TargetOs>,
    pub file: String,
    pub line: usize,
}

/// One `[Manufacturer]` entry: `%Mfg% = Models, NTamd64, NTarm64.10.0...22000`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Manufacturer {
    /// The manufacturer name after substitution.
    pub name: String,
    /// The undecorated models section name (`Models`).
    pub models: String,
    /// Decorations that parsed; those that did not are in [`InfFile::warnings`].
    pub targets: Vec<TargetOs>,
    /// The sections Windows may pick from: one per decoration, plus the undecorated one
    /// when the entry has no decoration or the INF has such a section.
    pub sections: Vec<ModelsSection>,
    pub line: usize,
}

/// A models section such as `[Models.NTamd64.10.0...22000]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ModelsSection {
    /// `Models.NTamd64.10.0...22000`.
    pub name: String,
    /// `None` for the undecorated section.
    pub target: Option<TargetOs>,
    /// Whether the INF actually has this section.
    pub present: bool,
    pub devices: Vec<Device>,
}

/// One model line: `%DeviceDesc% = Install_Section, PCI\VEN_8086&DEV_51E8, compatible…`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Device {
    pub description: String,
    pub install_section: String,
    /// `None` when the line leaves it empty (`%Desc% = Inst,,compatible`).
    pub hardware_id: Option<String>,
    pub compatible_ids: Vec<String>,
    pub line: usize,
}

impl InfFile {
    /// Which models section Windows would use on `arch`, version `major.minor`, `build`,
    /// and why. The image's product type is not known here: product-type decorations are
    /// accepted (use [`InfFile::applies_to_os`] to give one).
    pub fn applies_to(&self, arch: InfArch, major: u32, minor: u32, build: u32) -> Applicability {
        self.applies_to_os(&OsTarget {
            arch,
            major,
            minor,
            build,
            product_type: None,
        })
    }

    /// [`InfFile::applies_to`] with every detail of the target.
    pub fn applies_to_os(&self, os: &OsTarget) -> Applicability {
        applicability::evaluate(self, os)
    }

    /// The catalog file for `arch`: a `CatalogFile.NT<arch>` entry if there is one, else
    /// plain `CatalogFile` (or a bare `CatalogFile.NT`).
    pub fn catalog_file_for(&self, arch: InfArch) -> Option<&str> {
        let decorated = self
            .catalog_files
            .iter()
            .find(|c| c.decoration.as_ref().is_some_and(|d| d.arch == Some(arch)));
        let plain = || {
            self.catalog_files
                .iter()
                .find(|c| c.decoration.as_ref().is_none_or(|d| d.arch.is_none()))
        };
        decorated.or_else(plain).map(|c| c.file.as_str())
    }
}

/// Parse INF bytes. `name` (usually the path) is used in errors and warnings.
pub fn parse_inf(name: &str, bytes: &[u8]) -> Result<InfFile, InfError> {
    let blame = Blame { file: name };
    let size = bytes.len() as u64;
    if size > MAX_INF_BYTES {
        return Err(blame.at(
            1,
            InfProblem::TooLarge {
                size,
                limit: MAX_INF_BYTES,
            },
        ));
    }
    let (decoded, encoding) = text::decode(bytes);
    let body = text::strip_eof_marker(&decoded);
    if let Some((line, c)) = text::find_binary(body) {
        return Err(blame.at(line, InfProblem::Binary { code: c as u32 }));
    }
    let lexed = lexer::lex(body, &blame)?;
    let mut strings = Strings::new(&lexed, blame.clone())?;
    let mut warnings = Vec::new();
    let version = read_version(&lexed, &mut strings, &blame, &mut warnings)?;
    let manufacturers = read_manufacturers(&lexed, &mut strings, &mut warnings)?;
    Ok(InfFile {
        name: name.to_string(),
        encoding,
        signature: version.signature,
        class: version.class,
        class_guid: version.class_guid,
        provider: version.provider,
        driver_ver: version.driver_ver,
        catalog_files: version.catalog_files,
        manufacturers,
        warnings,
    })
}

struct VersionFacts {
    signature: String,
    class: Option<String>,
    class_guid: Option<String>,
    provider: Option<String>,
    driver_ver: Option<DriverVer>,
    catalog_files: Vec<CatalogFile>,
}

/// An entry with key and fields substituted.
struct Entry {
    line: usize,
    key: Option<String>,
    fields: Vec<String>,
}

fn substitute(strings: &mut Strings<'_>, raw: &RawEntry) -> Result<Entry, InfError> {
    let key = match &raw.key {
        Some(k) => Some(strings.substitute(k, raw.line)?),
        None => None,
    };
    let mut fields = Vec::with_capacity(raw.fields.len());
    for f in &raw.fields {
        fields.push(strings.substitute(f, raw.line)?);
    }
    Ok(Entry {
        line: raw.line,
        key,
        fields,
    })
}

fn read_version(
    lexed: &Lexed,
    strings: &mut Strings<'_>,
    blame: &Blame<'_>,
    warnings: &mut Vec<InfWarning>,
) -> Result<VersionFacts, InfError> {
    let Some(section) = lexed.section("Version") else {
        return Err(blame.at(1, InfProblem::MissingVersion));
    };
    let mut facts = VersionFacts {
        signature: String::new(),
        class: None,
        class_guid: None,
        provider: None,
        driver_ver: None,
        catalog_files: Vec::new(),
    };
    let mut signature_seen = false;
    let mut driver_ver_seen = false;
    for raw in &section.entries {
        let entry = substitute(strings, raw)?;
        let Some(key) = entry.key.as_deref() else {
            continue;
        };
        let lower = key.to_ascii_lowercase();
        let first = entry.fields.first().cloned().unwrap_or_default();
        let value = (!first.is_empty()).then(|| first.clone());
        match lower.as_str() {
            "signature" => {
                signature_seen = true;
                facts.signature = first;
            }
            "class" => facts.class = value,
            "classguid" => facts.class_guid = value,
            "provider" => facts.provider = value,
            "driverver" => {
                driver_ver_seen = true;
                let parsed = version::parse_driver_ver(&entry.fields).map_err(|reason| {
                    blame.at(
                        entry.line,
                        InfProblem::BadDriverVer {
                            value: entry.fields.join(","),
                            reason,
                        },
                    )
                })?;
                facts.driver_ver = Some(parsed);
            }
            _ => {
                if let Some(catalog) = catalog_entry(&lower, key, &first, entry.line, warnings) {
                    facts.catalog_files.push(catalog);
                }
            }
        }
    }
    if !signature_seen || facts.signature.is_empty() {
        return Err(blame.at(section.line, InfProblem::MissingSignature));
    }
    let known = ["$windows nt$", "$chicago$", "$windows 95$"];
    if !known.contains(&facts.signature.to_ascii_lowercase().as_str()) {
        warnings.push(InfWarning {
            line: section.line,
            message: format!("unusual Signature {:?}", facts.signature),
        });
    }
    if !driver_ver_seen {
        warnings.push(InfWarning {
            line: section.line,
            message: "[Version] has no DriverVer".into(),
        });
    }
    Ok(facts)
}

/// `CatalogFile` or `CatalogFile.<decoration>`; other keys give `None`.
fn catalog_entry(
    lower: &str,
    key: &str,
    file: &str,
    line: usize,
    warnings: &mut Vec<InfWarning>,
) -> Option<CatalogFile> {
    let rest = lower.strip_prefix("catalogfile")?;
    let decoration = if rest.is_empty() {
        None
    } else {
        let text = key.get("catalogfile.".len()..).unwrap_or("");
        if !rest.starts_with('.') {
            return None;
        }
        match TargetOs::parse(text) {
            Ok(t) => Some(t),
            Err(message) => {
                warnings.push(InfWarning { line, message });
                return None;
            }
        }
    };
    Some(CatalogFile {
        decoration,
        file: file.to_string(),
        line,
    })
}

fn read_manufacturers(
    lexed: &Lexed,
    strings: &mut Strings<'_>,
    warnings: &mut Vec<InfWarning>,
) -> Result<Vec<Manufacturer>, InfError> {
    let Some(section) = lexed.section("Manufacturer") else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    let mut budget = ModelsBudget {
        cache: HashMap::new(),
        sections: 0,
        devices: 0,
    };
    for raw in &section.entries {
        let entry = substitute(strings, raw)?;
        let models = entry.fields.first().cloned().unwrap_or_default();
        // `%Mfg%` alone names both the manufacturer and its models section.
        let name = entry.key.clone().unwrap_or_else(|| models.clone());
        if models.is_empty() {
            warnings.push(InfWarning {
                line: entry.line,
                message: format!("manufacturer {name:?} names no models section"),
            });
            continue;
        }
        let mut targets = Vec::new();
        for text in entry.fields.iter().skip(1) {
            if text.is_empty() {
                continue;
            }
            match TargetOs::parse(text) {
                Ok(t) => targets.push(t),
                Err(message) => warnings.push(InfWarning {
                    line: entry.line,
                    message: format!("{message}; the entry is ignored"),
                }),
            }
        }
        let mut sections = Vec::new();
        let undecorated = lexed.section(&models).is_some();
        if undecorated || entry.fields.len() <= 1 {
            sections.push(budget.section(lexed, strings, &models, None, warnings, entry.line)?);
        }
        for target in &targets {
            let name = format!("{models}.{}", target.text);
            sections.push(budget.section(
                lexed,
                strings,
                &name,
                Some(target.clone()),
                warnings,
                entry.line,
            )?);
        }
        for s in sections.iter().filter(|s| !s.present) {
            warnings.push(InfWarning {
                line: entry.line,
                message: format!("models section [{}] is missing", s.name),
            });
        }
        out.push(Manufacturer {
            name,
            models,
            targets,
            sections,
            line: entry.line,
        });
    }
    Ok(out)
}

/// Parses each models section once and bounds how much the references may produce.
struct ModelsBudget {
    cache: HashMap<String, ModelsSection>,
    sections: usize,
    devices: usize,
}

impl ModelsBudget {
    fn section(
        &mut self,
        lexed: &Lexed,
        strings: &mut Strings<'_>,
        name: &str,
        target: Option<TargetOs>,
        warnings: &mut Vec<InfWarning>,
        line: usize,
    ) -> Result<ModelsSection, InfError> {
        self.sections += 1;
        if self.sections > MAX_MODELS_SECTIONS {
            return Err(strings.blame().at(
                line,
                InfProblem::TooManyModelsSections {
                    limit: MAX_MODELS_SECTIONS,
                },
            ));
        }
        let key = name.to_ascii_lowercase();
        let mut section = match self.cache.get(&key).cloned() {
            Some(cached) => {
                self.count(cached.devices.len(), strings, line)?;
                cached
            }
            None => {
                let parsed = models_section(lexed, strings, name, None, warnings)?;
                self.count(parsed.devices.len(), strings, line)?;
                self.cache.insert(key, parsed.clone());
                parsed
            }
        };
        section.target = target;
        Ok(section)
    }

    fn count(
        &mut self,
        devices: usize,
        strings: &Strings<'_>,
        line: usize,
    ) -> Result<(), InfError> {
        self.devices += devices;
        if self.devices > MAX_DEVICES {
            return Err(strings
                .blame()
                .at(line, InfProblem::TooManyDevices { limit: MAX_DEVICES }));
        }
        Ok(())
    }
}

fn models_section(
    lexed: &Lexed,
    strings: &mut Strings<'_>,
    name: &str,
    target: Option<TargetOs>,
    warnings: &mut Vec<InfWarning>,
) -> Result<ModelsSection, InfError> {
    let Some(section) = lexed.section(name) else {
        return Ok(ModelsSection {
            name: name.to_string(),
            target,
            present: false,
            devices: Vec::new(),
        });
    };
    let mut devices = Vec::new();
    for raw in &section.entries {
        let entry = substitute(strings, raw)?;
        let Some(description) = entry.key else {
            warnings.push(InfWarning {
                line: entry.line,
                message: format!("[{name}]: model line without '='"),
            });
            continue;
        };
        let mut fields = entry.fields.into_iter();
        let install_section = fields.next().unwrap_or_default();
        let hardware_id = fields.next().filter(|id| !id.is_empty());
        let compatible_ids = fields.filter(|id| !id.is_empty()).collect();
        devices.push(Device {
            description,
            install_section,
            hardware_id,
            compatible_ids,
            line: entry.line,
        });
    }
    Ok(ModelsSection {
        name: section.name.clone(),
        target,
        present: true,
        devices,
    })
}

//! Which models section of an INF Windows would use on a given system.
//!
//! Rules (see SERVICING.md, "Drivers"): a decorated section applies when its architecture
//! is the system's and the system's version and build are at least those of the
//! decoration; a section without architecture (undecorated, or a bare `NT…`) applies to
//! x86 only, because every other architecture requires the decoration. Among the sections
//! that apply, the most specific one wins: an architecture beats none, then the highest
//! version, then the highest minimum build, then a product type or suite mask. A tie goes
//! to the first one listed.

use serde::Serialize;

use super::decoration::{InfArch, TargetOs};
use super::{InfFile, ModelsSection};

/// The system an INF is checked against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct OsTarget {
    pub arch: InfArch,
    pub major: u32,
    pub minor: u32,
    pub build: u32,
    /// 1 workstation, 2 domain controller, 3 server; `None` when unknown, in which case
    /// product-type decorations are not held against a section.
    pub product_type: Option<u32>,
}

impl std::fmt::Display for OsTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {}.{} build {}",
            self.arch, self.major, self.minor, self.build
        )
    }
}

/// The models section chosen for one manufacturer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChosenModels {
    pub manufacturer: String,
    /// Section name, e.g. `Models.NTamd64.10.0...22000`.
    pub section: String,
    /// The decoration text, `None` for the undecorated section.
    pub decoration: Option<String>,
    /// First hardware ID of every model line, in order, without duplicates.
    pub hardware_ids: Vec<String>,
    /// Compatible IDs of every model line, in order, without duplicates.
    pub compatible_ids: Vec<String>,
}

/// The answer of [`InfFile::applies_to`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Applicability {
    pub applies: bool,
    pub reason: String,
    /// One entry per manufacturer that has a section for the system.
    pub chosen: Vec<ChosenModels>,
}

impl Applicability {
    /// The first chosen section's name.
    pub fn section(&self) -> Option<&str> {
        self.chosen.first().map(|c| c.section.as_str())
    }

    /// Hardware IDs of every chosen section.
    pub fn hardware_ids(&self) -> Vec<&str> {
        self.chosen
            .iter()
            .flat_map(|c| c.hardware_ids.iter().map(String::as_str))
            .collect()
    }
}

/// How specific a matching section is; larger wins.
type Rank = (bool, u32, u32, u32, bool, bool);

fn check(target: Option<&TargetOs>, os: &OsTarget) -> Result<Rank, String> {
    let Some(t) = target else {
        return if os.arch == InfArch::X86 {
            Ok((false, 0, 0, 0, false, false))
        } else {
            Err(format!("undecorated, so x86 only, not {}", os.arch))
        };
    };
    match t.arch {
        Some(a) if a != os.arch => return Err(format!("for {a}, not {}", os.arch)),
        None if os.arch != InfArch::X86 => {
            return Err(format!(
                "names no architecture, so x86 only, not {}",
                os.arch
            ));
        }
        _ => {}
    }
    let major = t.major.unwrap_or(0);
    let minor = t.minor.unwrap_or(0);
    if (os.major, os.minor) < (major, minor) {
        return Err(format!(
            "needs Windows {major}.{minor} or later, not {}.{}",
            os.major, os.minor
        ));
    }
    let build = t.build.unwrap_or(0);
    if os.build < build {
        return Err(format!("needs build {build} or later, not {}", os.build));
    }
    if let (Some(want), Some(have)) = (t.product_type, os.product_type) {
        if want != have {
            return Err(format!("for product type {want}, not {have}"));
        }
    }
    Ok((
        t.arch.is_some(),
        major,
        minor,
        build,
        t.product_type.is_some(),
        t.suite_mask.is_some(),
    ))
}

/// Keep the first of IDs that differ only in case (hardware IDs are case-insensitive).
fn unique(ids: impl Iterator<Item = String>) -> Vec<String> {
    let mut seen = std::collections::HashSet::new();
    ids.filter(|id| seen.insert(id.to_ascii_uppercase()))
        .collect()
}

fn chosen(manufacturer: &str, s: &ModelsSection) -> ChosenModels {
    ChosenModels {
        manufacturer: manufacturer.to_string(),
        section: s.name.clone(),
        decoration: s.target.as_ref().map(|t| t.text.clone()),
        hardware_ids: unique(s.devices.iter().filter_map(|d| d.hardware_id.clone())),
        compatible_ids: unique(s.devices.iter().flat_map(|d| d.compatible_ids.clone())),
    }
}

pub(crate) fn evaluate(inf: &InfFile, os: &OsTarget) -> Applicability {
    if inf.manufacturers.is_empty() {
        return Applicability {
            applies: false,
            reason: "no [Manufacturer] entries: the INF installs no device".into(),
            chosen: Vec::new(),
        };
    }
    let mut picked = Vec::new();
    let mut notes = Vec::new();
    for m in &inf.manufacturers {
        let mut best: Option<(Rank, &ModelsSection)> = None;
        let mut rejected = Vec::new();
        for s in &m.sections {
            match check(s.target.as_ref(), os) {
                Ok(rank) => {
                    if best.is_none_or(|(r, _)| rank > r) {
                        best = Some((rank, s));
                    }
                }
                Err(why) => rejected.push(format!("[{}] {why}", s.name)),
            }
        }
        match best {
            Some((_, s)) if s.present => {
                notes.push(format!("{}: [{}] applies", m.name, s.name));
                picked.push(chosen(&m.name, s));
            }
            Some((_, s)) => notes.push(format!(
                "{}: [{}] would apply but the INF does not have it",
                m.name, s.name
            )),
            None if rejected.is_empty() => {
                notes.push(format!("{}: no models section", m.name));
            }
            None => notes.push(format!("{}: {}", m.name, rejected.join("; "))),
        }
    }
    let applies = !picked.is_empty();
    let reason = if applies {
        format!("applies to {os}: {}", notes.join("; "))
    } else {
        format!("does not apply to {os}: {}", notes.join("; "))
    };
    Applicability {
        applies,
        reason,
        chosen: picked,
    }
}

//! What the INFs of one driver set say about an image: per INF its class, provider,
//! version, catalog file and whether Windows would use it on that image.
//!
//! A bad INF is a problem listed in the report, never a failure of the whole report: the
//! operator wants to see the set, warts and all.

use std::io::Read;
use std::path::Path;

use serde::Serialize;

use crate::inf::{self, InfArch, InfFile, OsTarget};
use crate::{CatalogError, ImageIdentity, Repository, Result, paths, walk};

const FIELD: &str = "driver_set";

/// The report of [`Repository::driver_set_report`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DriverSetReport {
    pub board: String,
    pub set: String,
    /// Repository-relative path of the set folder.
    pub path: String,
    /// The system the INFs were checked against; `None` when the image's architecture or
    /// build is unknown (then no INF applies, and each says why).
    pub target: Option<OsTarget>,
    pub infs: Vec<InfReport>,
    /// INFs that apply to the image.
    pub applicable: usize,
    /// INFs with at least one problem.
    pub with_problems: usize,
}

/// One INF of a driver set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InfReport {
    /// Repository-relative path.
    pub path: String,
    pub class: Option<String>,
    pub class_guid: Option<String>,
    pub provider: Option<String>,
    /// `w.x.y.z` from `DriverVer`.
    pub version: Option<String>,
    /// `yyyy-mm-dd` from `DriverVer`.
    pub date: Option<String>,
    /// The catalog the INF names for the image's architecture.
    pub catalog_file: Option<String>,
    /// Whether that catalog exists beside the INF (name compared without case).
    pub catalog_present: bool,
    pub applies: bool,
    pub reason: String,
    /// The models section chosen for the image (first manufacturer's).
    pub models_section: Option<String>,
    pub hardware_ids: Vec<String>,
    /// Why the INF cannot be used as it is (parse error, missing catalog, …).
    pub problems: Vec<String>,
    /// Things the parser noticed that do not stop the INF from working.
    pub warnings: Vec<String>,
}

/// The system an image is, as INF decorations see it.
pub(crate) fn os_target(image: &ImageIdentity) -> Option<OsTarget> {
    let arch = InfArch::from(image.arch?);
    let build = image.build?;
    let mut parts = image.version.as_deref().unwrap_or("").split('.');
    let major = parts.next().and_then(|p| p.parse().ok());
    let minor = parts.next().and_then(|p| p.parse().ok());
    // Every Windows 10 and 11 build is version 10.0.
    let (major, minor) = match (major, minor) {
        (Some(a), Some(b)) => (a, b),
        _ => (10, 0),
    };
    let product_type = match image.installation_type.as_deref() {
        Some(t) if t.eq_ignore_ascii_case("client") => Some(1),
        Some(t) if t.to_ascii_lowercase().starts_with("server") => Some(3),
        _ => None,
    };
    Some(OsTarget {
        arch,
        major,
        minor,
        build,
        product_type,
    })
}

pub(crate) fn report(
    repo: &Repository,
    board: &str,
    set_name: &str,
    image: &ImageIdentity,
) -> Result<DriverSetReport> {
    paths::validate_name("motherboard_model", board)?;
    paths::validate_name(FIELD, set_name)?;
    let rel = format!("{board}/{set_name}");
    let dir = repo.resolve(FIELD, "2_Drivers", &rel)?;
    if !dir.is_dir() {
        return Err(CatalogError::NotFound {
            field: FIELD,
            name: rel,
        });
    }
    let target = os_target(image);
    let mut infs = Vec::new();
    for file in walk::files(&dir)? {
        if !walk::has_extension(&file.rel, "inf") {
            continue;
        }
        let path = format!("2_Drivers/{rel}/{}", file.rel);
        infs.push(inf_report(&dir.join(&file.rel), path, target.as_ref()));
    }
    Ok(DriverSetReport {
        board: board.to_string(),
        set: set_name.to_string(),
        path: format!("2_Drivers/{rel}"),
        target,
        applicable: infs.iter().filter(|i| i.applies).count(),
        with_problems: infs.iter().filter(|i| !i.problems.is_empty()).count(),
        infs,
    })
}

/// How many INFs of a set apply to the image (0 when the set cannot be read).
pub(crate) fn applicable_count(
    repo: &Repository,
    board: &str,
    set: &str,
    image: &ImageIdentity,
) -> usize {
    report(repo, board, set, image).map_or(0, |r| r.applicable)
}

fn empty_report(path: String, reason: String) -> InfReport {
    InfReport {
        path,
        class: None,
        class_guid: None,
        provider: None,
        version: None,
        date: None,
        catalog_file: None,
        catalog_present: false,
        applies: false,
        reason,
        models_section: None,
        hardware_ids: Vec::new(),
        problems: Vec::new(),
        warnings: Vec::new(),
    }
}

fn read_capped(file: &Path) -> std::io::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    std::fs::File::open(file)?
        .take(inf::MAX_INF_BYTES + 1)
        .read_to_end(&mut bytes)?;
    Ok(bytes)
}

fn inf_report(file: &Path, path: String, target: Option<&OsTarget>) -> InfReport {
    let bytes = match read_capped(file) {
        Ok(b) => b,
        Err(e) => {
            let mut r = empty_report(path.clone(), "the INF could not be read".into());
            r.problems.push(format!("{path}: {e}"));
            return r;
        }
    };
    let parsed = match inf::parse_inf(&path, &bytes) {
        Ok(p) => p,
        Err(e) => {
            let mut r = empty_report(path, "the INF could not be parsed".into());
            r.problems.push(e.to_string());
            return r;
        }
    };
    describe(file, path, &parsed, target)
}

fn describe(file: &Path, path: String, inf: &InfFile, target: Option<&OsTarget>) -> InfReport {
    let mut r = empty_report(path, String::new());
    r.class = inf.class.clone();
    r.class_guid = inf.class_guid.clone();
    r.provider = inf.provider.clone();
    r.version = inf
        .driver_ver
        .and_then(|d| d.version)
        .map(|v| v.to_string());
    r.date = inf.driver_ver.map(|d| d.date.to_string());
    r.warnings = inf.warnings.iter().map(ToString::to_string).collect();
    match target {
        Some(os) => {
            let verdict = inf.applies_to_os(os);
            r.applies = verdict.applies;
            r.reason = verdict.reason.clone();
            r.models_section = verdict.section().map(str::to_string);
            r.hardware_ids = verdict
                .hardware_ids()
                .into_iter()
                .map(str::to_string)
                .collect();
        }
        None => {
            r.reason = "the image's architecture or build is unknown".into();
        }
    }
    // Without a known architecture, the undecorated catalog is the one to look for.
    let arch = target.map_or(InfArch::X86, |t| t.arch);
    r.catalog_file = inf
        .catalog_file_for(arch)
        .or_else(|| inf.catalog_files.first().map(|c| c.file.as_str()))
        .map(str::to_string);
    match r.catalog_file.as_deref() {
        None => r
            .problems
            .push("names no CatalogFile: the package is unsigned".into()),
        Some(cat) => {
            r.catalog_present = file
                .parent()
                .is_some_and(|dir| exists_ignoring_case(dir, cat));
            if !r.catalog_present {
                r.problems
                    .push(format!("catalog file {cat:?} is not beside the INF"));
            }
        }
    }
    r
}

/// Whether `dir` holds a regular file named `name`, compared without case (Windows
/// names are case-insensitive, the repository's file system may not be).
fn exists_ignoring_case(dir: &Path, name: &str) -> bool {
    if name.contains(['/', '\\']) {
        return false;
    }
    walk::read_dir_sorted(dir).is_ok_and(|entries| {
        entries.iter().any(|e| {
            e.is_file
                && e.name
                    .to_str()
                    .is_some_and(|n| n.eq_ignore_ascii_case(name))
        })
    })
}

//! `inspect_package`: what a `.cab` or `.msu` in `3_LangPacks/` or `4_Updates/` is, and
//! how WAIT will apply it.
//!
//! - `.cab`: its `update.mum` gives the identity the answer file's `<servicing>` needs.
//! - Classic `.msu` (a cabinet): `*-pkgProperties.txt` gives "Applies to", KB, build date,
//!   architecture and language; the inner `Windows…-KB…-<arch>.cab` gives the identity.
//! - PSFX `.msu` (current cumulative updates: WIM + PSF payloads, `…_PSFX.txt` properties):
//!   cannot go through `<servicing>`; applied whole by DISM at first boot.
//!
//! See SERVICING.md, "Packages" and "Language packs".

use std::path::Path;

use serde::Serialize;

use super::cabfile::{CabFile, Member};
use super::error::{PackageError, PackageProblem, fail};
use super::names;
use super::{AssemblyIdentity, MAX_MUM_BYTES, MAX_PROPS_BYTES, PkgProperties, UpdateMum};
use crate::Arch;

/// Largest inner cabinet read out of a classic `.msu` (the format's own limit per member).
pub const MAX_INNER_CAB: u64 = u32::MAX as u64;

/// What container a package is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum PackageKind {
    Cab,
    ClassicMsu,
    PsfxMsu,
}

/// How the package reaches the image.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ApplyPlan {
    /// Answer file, offlineServicing pass: `<servicing><package action="install">` with the
    /// identity from `update.mum`.
    AnswerFileServicing,
    /// `dism /online /add-package /packagepath:…` at first boot.
    FirstBootDism,
}

/// Everything WAIT knows about one package file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PackageInfo {
    /// File name (no folder).
    pub file: String,
    pub kind: PackageKind,
    pub identity: Option<AssemblyIdentity>,
    /// `KB5044284`.
    pub kb: Option<String>,
    /// `Update`, `Security Update`, `Language Pack`, …
    pub release_type: Option<String>,
    /// The pkgProperties "Applies to" line.
    pub applies_to: Option<String>,
    pub arch: Option<Arch>,
    /// `de-DE`; for updates the pkgProperties "Language" value (often `ALL`).
    pub language: Option<String>,
    /// Windows build (26100).
    pub build: Option<u32>,
    pub is_language_pack: bool,
    pub plan: ApplyPlan,
    /// Member names, in cabinet order.
    pub members: Vec<String>,
    /// Things that did not stop the inspection but that a person should know.
    pub problems: Vec<String>,
    /// Revision after the build (1742 in 26100.1742), when known.
    pub revision: Option<u32>,
    /// The pkgProperties "Product Name" line.
    pub product_name: Option<String>,
    /// The pkgProperties "Build Date" line.
    pub build_date: Option<String>,
    /// The inner cabinet read for the identity of a classic `.msu`, and where it was
    /// unpacked ("memory" or "temp file").
    pub inner_cab: Option<(String, &'static str)>,
}

/// Inspect a `.cab` or `.msu` package.
pub fn inspect_package(path: &Path) -> Result<PackageInfo, PackageError> {
    let file = path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    let lower = file.to_ascii_lowercase();
    let is_msu = if lower.ends_with(".msu") {
        true
    } else if lower.ends_with(".cab") {
        false
    } else {
        return Err(fail(&file, 0, PackageProblem::UnknownExtension));
    };
    let io = |e: std::io::Error| fail(&file, 0, PackageProblem::Io(e.to_string()));
    let handle = std::fs::File::open(path).map_err(io)?;
    let len = handle.metadata().map_err(io)?.len();
    let mut cab = CabFile::open(&file, Box::new(handle), len)?;
    let mut info = PackageInfo {
        file: file.clone(),
        kind: PackageKind::Cab,
        identity: None,
        kb: None,
        release_type: None,
        applies_to: None,
        arch: None,
        language: None,
        build: None,
        is_language_pack: false,
        plan: ApplyPlan::AnswerFileServicing,
        members: cab.members.iter().map(|m| m.name.clone()).collect(),
        problems: Vec::new(),
        revision: None,
        product_name: None,
        build_date: None,
        inner_cab: None,
    };
    if is_msu {
        inspect_msu(&mut cab, &mut info)?;
    } else {
        let mum = read_mum(&mut cab)?;
        apply_mum(&mut info, mum);
    }
    fill_from_name(&mut info);
    Ok(info)
}

/// `update.mum` of a cabinet (member name compared without case).
fn read_mum(cab: &mut CabFile) -> Result<UpdateMum, PackageError> {
    let member = cab
        .find(|n| n == "update.mum")
        .ok_or_else(|| fail(&cab.display, 0, PackageProblem::MissingMember("update.mum")))?;
    let bytes = cab.read(&member, MAX_MUM_BYTES)?;
    super::parse_update_mum(&cab.member_display(&member.name), &bytes)
}

fn apply_mum(info: &mut PackageInfo, mum: UpdateMum) {
    let id = &mum.identity;
    info.kb = mum
        .package
        .kb_number()
        .map(|n| format!("KB{n}"))
        .or(info.kb.take());
    info.release_type = mum.package.release_type.clone();
    info.arch = names::arch_from(&id.processor_architecture).or(info.arch);
    let (build, revision) = names::build_of_version(&id.version);
    info.build = build.or(info.build);
    info.revision = revision.or(info.revision);
    let lp_release = mum
        .package
        .release_type
        .as_deref()
        .is_some_and(|r| r.eq_ignore_ascii_case("language pack"));
    info.is_language_pack |= lp_release || names::is_language_pack_name(&id.name);
    let language = id.language.trim();
    if !language.is_empty() && !language.eq_ignore_ascii_case("neutral") {
        info.language = names::normalize_tag(language).or_else(|| Some(language.to_string()));
    }
    info.identity = Some(mum.identity);
}

fn inspect_msu(cab: &mut CabFile, info: &mut PackageInfo) -> Result<(), PackageError> {
    info.plan = ApplyPlan::FirstBootDism;
    let psfx_props = cab.find(|n| n.ends_with("-pkgproperties_psfx.txt"));
    let classic_props = cab.find(|n| n.ends_with("-pkgproperties.txt"));
    let payload = cab.find(|n| n.ends_with(".wim") || n.ends_with(".psf"));
    if psfx_props.is_some() || payload.is_some() {
        info.kind = PackageKind::PsfxMsu;
        match psfx_props.or(classic_props) {
            Some(m) => apply_props(info, read_props(cab, &m)?),
            None => info.problems.push(
                "no *-pkgProperties_PSFX.txt member: KB and architecture come from the file name"
                    .into(),
            ),
        }
        return Ok(());
    }
    info.kind = PackageKind::ClassicMsu;
    let props = classic_props.ok_or_else(|| {
        fail(
            &cab.display,
            0,
            PackageProblem::MissingMember("*-pkgProperties.txt"),
        )
    })?;
    let props = read_props(cab, &props)?;
    let kb_lower = props.kb_article().to_ascii_lowercase();
    apply_props(info, props);
    let is_inner = |n: &str| n.ends_with(".cab") && n != "wsusscan.cab";
    let inner = cab
        .find(|n| is_inner(n) && n.contains(&kb_lower))
        .or_else(|| cab.find(|n| is_inner(n) && n.contains("-kb")));
    let Some(inner) = inner else {
        info.problems.push(format!(
            "no Windows…-{}-….cab member: the package identity is unknown",
            info.kb.as_deref().unwrap_or("KB")
        ));
        return Ok(());
    };
    let (mum, place) = inner_mum(cab, &inner)?;
    info.inner_cab = Some((inner.name.clone(), place));
    let props_arch = info.arch;
    apply_mum(info, mum);
    if let (Some(a), Some(b)) = (props_arch, info.arch) {
        if a != b {
            info.problems.push(format!(
                "pkgProperties says {a}, the inner package's update.mum says {b}"
            ));
        }
    }
    Ok(())
}

/// The `update.mum` of an inner cabinet, and where the inner cabinet was unpacked.
fn inner_mum(cab: &mut CabFile, inner: &Member) -> Result<(UpdateMum, &'static str), PackageError> {
    let (reader, len, place) = cab.extract(inner, MAX_INNER_CAB)?;
    let mut inner_cab = CabFile::open(&cab.member_display(&inner.name), reader, len)?;
    Ok((read_mum(&mut inner_cab)?, place))
}

fn read_props(cab: &mut CabFile, member: &Member) -> Result<PkgProperties, PackageError> {
    let bytes = cab.read(member, MAX_PROPS_BYTES)?;
    // The member's base name decides PSFX or not; the message names the container too.
    let shown = cab.member_display(&member.name);
    super::parse_pkg_properties(&shown, &bytes)
}

fn apply_props(info: &mut PackageInfo, props: PkgProperties) {
    info.kb = Some(props.kb_article());
    info.arch = props
        .processor_architecture
        .as_deref()
        .and_then(names::arch_from);
    info.language = props.language.clone();
    if let Some(build) = props
        .applies_to
        .as_deref()
        .and_then(super::fit::build_of_release)
        .or_else(|| {
            props
                .product_name
                .as_deref()
                .and_then(super::fit::build_of_release)
        })
    {
        info.build = Some(build);
    }
    info.release_type = props.package_type.clone();
    info.applies_to = props.applies_to;
    info.product_name = props.product_name;
    info.build_date = props.build_date;
}

/// Fill what the contents did not say from the file name.
fn fill_from_name(info: &mut PackageInfo) {
    if info.kb.is_none() {
        info.kb = names::kb_in_name(&info.file);
    }
    if info.arch.is_none() {
        info.arch = names::arch_in_name(&info.file);
    }
    if names::is_language_pack_name(&info.file) {
        info.is_language_pack = true;
    }
    if info.is_language_pack {
        let (language, version) = names::language_pack_name(&info.file);
        if info.language.is_none() {
            info.language = language;
        }
        if info.build.is_none() {
            if let Some(v) = version {
                let (build, revision) = names::build_of_version(&v);
                info.build = build;
                info.revision = info.revision.or(revision);
            }
        }
        if info.build.is_none() {
            info.problems.push(
                "the language pack's build is unknown (no version in update.mum or the name)"
                    .into(),
            );
        }
    }
}

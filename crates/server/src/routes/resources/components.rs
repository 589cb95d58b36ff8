//! Language packs, updates, software and answer files: what a job can name, what each
//! file says, and, for a chosen image, whether a job could use it and why.
//!
//! Listed are the files where a job looks for them: `3_LangPacks/<TOKEN>/<file>`,
//! `4_Updates/<customer>/<TOKEN>/<file>`, `6_Software/<customer>/<TOKEN>/<file>`, and
//! every `.xml` under `5_AnswerFiles/`. Misplaced files are the repository scan's to
//! report.
//!
//! The fit is the rule `POST /api/job` applies (`Repository::locate_component`): a job
//! naming the file must be led to this very copy for the image, and a package must fit
//! the image. It is worked out from the inspection made for the listing, so no file is
//! read twice.

use std::io::Read;
use std::path::PathBuf;

use serde::Serialize;
use wait_catalog::answer::MAX_ANSWER_BYTES;
use wait_catalog::components::ComponentKind;
use wait_catalog::packages::{Fit, PackageInfo, inspect_package, package_fits};
use wait_catalog::software::{SoftwareInfo, inspect_software};
use wait_catalog::token::DriverToken;
use wait_catalog::{CatalogError, ImageIdentity, Repository};

use super::errors::unreadable;
use super::image::{ImageRef, Selected};
use super::tree;
use crate::error::ApiError;

const LANGPACK_EXTENSIONS: [&str; 2] = ["cab", "esd"];
const UPDATE_EXTENSIONS: [&str; 2] = ["msu", "cab"];

/// A file in a version folder, where a job can name it.
struct Placed {
    /// The customer folder (updates, software).
    owner: Option<String>,
    token: String,
    file: String,
    size: u64,
    /// Repository-relative path.
    rel: String,
    path: PathBuf,
}

fn has_extension(file: &str, extensions: &[&str]) -> bool {
    file.rsplit_once('.')
        .is_some_and(|(_, ext)| extensions.iter().any(|e| e.eq_ignore_ascii_case(ext)))
}

/// Files of `kind` in their version folders; `extensions` empty = any file.
fn placed(
    repo: &Repository,
    kind: ComponentKind,
    extensions: &[&str],
) -> Result<Vec<Placed>, ApiError> {
    let top = kind.folder();
    let dir = repo.root().join(top);
    let owners = match kind {
        ComponentKind::LangPack => vec![None],
        _ => tree::subdirs(&dir)?.into_iter().map(Some).collect(),
    };
    let mut out = Vec::new();
    for owner in owners {
        let (owner_dir, prefix) = match &owner {
            Some(o) => (dir.join(o), format!("{top}/{o}")),
            None => (dir.clone(), top.to_string()),
        };
        for token in tree::subdirs(&owner_dir)? {
            let token_dir = owner_dir.join(&token);
            for (file, size) in tree::files(&token_dir)? {
                if !extensions.is_empty() && !has_extension(&file, extensions) {
                    continue;
                }
                out.push(Placed {
                    rel: format!("{prefix}/{token}/{file}"),
                    path: token_dir.join(&file),
                    owner: owner.clone(),
                    token: token.clone(),
                    file,
                    size,
                });
            }
        }
    }
    Ok(out)
}

fn reason_of(e: CatalogError) -> String {
    match e {
        CatalogError::Incompatible { reason, .. } => reason,
        CatalogError::Invalid { message, .. } => message,
        CatalogError::NotFound { name, .. } => format!("{name} not found"),
        other => other.to_string(),
    }
}

fn unfit(reason: impl Into<String>) -> Fit {
    Fit {
        fits: false,
        reason: reason.into(),
    }
}

/// Whether a job naming `p.file` is led to this copy for `image`; Err says why not.
fn found_here(
    repo: &Repository,
    kind: ComponentKind,
    p: &Placed,
    image: &ImageIdentity,
) -> Result<(), String> {
    let customer = p.owner.as_deref().unwrap_or("");
    match repo.find_component(kind, customer, &p.file, image) {
        Ok((_, found)) if found == p.rel => Ok(()),
        Ok((_, found)) => Err(format!(
            "a job naming {} gets {found} for this image",
            p.file
        )),
        Err(e) => Err(reason_of(e)),
    }
}

/// A language pack or an update.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct PackageEntry {
    /// Repository-relative path.
    pub path: String,
    /// The name a job uses for it.
    pub file: String,
    /// The customer folder (updates only).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = String)]
    pub customer: Option<String>,
    /// The version folder it is in.
    pub token: String,
    pub size: u64,
    #[schema(value_type = Option<crate::openapi::mirrors::PackageInfo>)]
    pub info: Option<PackageInfo>,
    /// Why `info` is missing.
    pub error: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = crate::openapi::mirrors::Fit)]
    pub fit: Option<Fit>,
}

fn package_fit(
    repo: &Repository,
    kind: ComponentKind,
    p: &Placed,
    info: &Result<PackageInfo, String>,
    image: &ImageIdentity,
) -> Fit {
    if let Err(why) = found_here(repo, kind, p, image) {
        return unfit(why);
    }
    match info {
        Err(e) => unfit(format!("the package cannot be read: {e}")),
        Ok(info) if kind == ComponentKind::LangPack && !info.is_language_pack => {
            unfit("not a language pack")
        }
        Ok(info) => package_fits(info, image),
    }
}

fn packages(
    repo: &Repository,
    kind: ComponentKind,
    extensions: &[&str],
    image: Option<&Selected>,
) -> Result<Vec<PackageEntry>, ApiError> {
    Ok(placed(repo, kind, extensions)?
        .into_iter()
        .map(|p| {
            let info = inspect_package(&p.path).map_err(|e| e.to_string());
            let fit = image.map(|s| package_fit(repo, kind, &p, &info, &s.identity));
            let (info, error) = match info {
                Ok(info) => (Some(info), None),
                Err(e) => (None, Some(e)),
            };
            PackageEntry {
                path: p.rel,
                file: p.file,
                customer: p.owner,
                token: p.token,
                size: p.size,
                info,
                error,
                fit,
            }
        })
        .collect())
}

/// `GET /api/resources/langpacks`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct LangPacks {
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = ImageRef)]
    pub image: Option<ImageRef>,
    pub langpacks: Vec<PackageEntry>,
}

pub(super) fn langpacks(
    repo: &Repository,
    image: Option<&Selected>,
) -> Result<LangPacks, ApiError> {
    Ok(LangPacks {
        image: image.map(Selected::view),
        langpacks: packages(repo, ComponentKind::LangPack, &LANGPACK_EXTENSIONS, image)?,
    })
}

/// `GET /api/resources/updates`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct Updates {
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = ImageRef)]
    pub image: Option<ImageRef>,
    pub updates: Vec<PackageEntry>,
}

pub(super) fn updates(repo: &Repository, image: Option<&Selected>) -> Result<Updates, ApiError> {
    Ok(Updates {
        image: image.map(Selected::view),
        updates: packages(repo, ComponentKind::Update, &UPDATE_EXTENSIONS, image)?,
    })
}

/// An installer.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct SoftwareEntry {
    pub path: String,
    pub file: String,
    pub customer: String,
    pub token: String,
    pub size: u64,
    #[schema(value_type = Option<crate::openapi::mirrors::SoftwareInfo>)]
    pub info: Option<SoftwareInfo>,
    /// Why `info` is missing (the file is not an installer WAIT can run).
    pub error: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = crate::openapi::mirrors::Fit)]
    pub fit: Option<Fit>,
}

/// `GET /api/resources/software`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct Software {
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = ImageRef)]
    pub image: Option<ImageRef>,
    pub software: Vec<SoftwareEntry>,
}

fn software_fit(
    repo: &Repository,
    p: &Placed,
    info: &Result<SoftwareInfo, String>,
    image: &ImageIdentity,
) -> Fit {
    if let Err(why) = found_here(repo, ComponentKind::Software, p, image) {
        return unfit(why);
    }
    match info {
        Err(e) => unfit(format!("the installer cannot be read: {e}")),
        Ok(_) => token_fit(&p.token, image),
    }
}

pub(super) fn software(repo: &Repository, image: Option<&Selected>) -> Result<Software, ApiError> {
    let software = placed(repo, ComponentKind::Software, &[])?
        .into_iter()
        .map(|p| {
            let info = inspect_software(&p.path).map_err(|e| e.to_string());
            let fit = image.map(|s| software_fit(repo, &p, &info, &s.identity));
            let (info, error) = match info {
                Ok(info) => (Some(info), None),
                Err(e) => (None, Some(e)),
            };
            SoftwareEntry {
                path: p.rel,
                file: p.file,
                customer: p.owner.unwrap_or_default(),
                token: p.token,
                size: p.size,
                info,
                error,
                fit,
            }
        })
        .collect();
    Ok(Software {
        image: image.map(Selected::view),
        software,
    })
}

/// Whether the version folder `token` suits the image, and why.
fn token_fit(token: &str, image: &ImageIdentity) -> Fit {
    match DriverToken::parse(token) {
        Ok(parsed) => match parsed.fit(token, image) {
            Ok(fit) => Fit {
                fits: true,
                reason: fit.reason,
            },
            Err(why) => unfit(why),
        },
        Err(e) => unfit(e.to_string()),
    }
}

/// An answer file and what it sets.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct AnswerFileEntry {
    /// Repository-relative path; a job names it by this path (with or without the
    /// leading `5_AnswerFiles/`).
    pub path: String,
    pub board: Option<String>,
    pub token: Option<String>,
    pub size: u64,
    pub well_formed: bool,
    pub passes: Vec<String>,
    pub sets_product_key: bool,
    pub sets_driver_paths: bool,
    /// What is wrong with it, with line numbers where known.
    pub problems: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = crate::openapi::mirrors::Fit)]
    pub fit: Option<Fit>,
}

/// `GET /api/resources/answer-files` (optionally `?motherboard=` for one board's).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct AnswerFiles {
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = ImageRef)]
    pub image: Option<ImageRef>,
    pub answer_files: Vec<AnswerFileEntry>,
}

fn answer_entry(repo: &Repository, rel: String, image: Option<&Selected>) -> AnswerFileEntry {
    let parts: Vec<&str> = rel.split('/').collect();
    let board = (parts.len() >= 3).then(|| parts[1].to_string());
    let token = (parts.len() >= 4).then(|| parts[2].to_string());
    let path = repo.root().join(&rel);
    let mut bytes = Vec::new();
    // One byte past the limit, so the inspector sees a file that is too large.
    let read = std::fs::File::open(&path)
        .and_then(|f| f.take(MAX_ANSWER_BYTES as u64 + 1).read_to_end(&mut bytes));
    let size = std::fs::metadata(&path).map_or(0, |m| m.len());
    let (well_formed, passes, sets_product_key, sets_driver_paths, problems) = match read {
        Ok(_) => {
            let report = wait_catalog::inspect_answer_file(&rel, &bytes);
            let problems = report
                .problems
                .iter()
                .map(|p| match p.line {
                    Some(line) => format!("line {line}: {}", p.message),
                    None => p.message.clone(),
                })
                .collect();
            (
                report.well_formed,
                report.passes,
                report.sets_product_key,
                report.sets_driver_paths,
                problems,
            )
        }
        Err(e) => (false, Vec::new(), false, false, vec![format!("{rel}: {e}")]),
    };
    let fit = image.map(|s| match &token {
        Some(t) => token_fit(t, &s.identity),
        None => Fit {
            fits: true,
            reason: "not in a version folder: used for every image".to_string(),
        },
    });
    AnswerFileEntry {
        path: rel,
        board,
        token,
        size,
        well_formed,
        passes,
        sets_product_key,
        sets_driver_paths,
        problems,
        fit,
    }
}

pub(super) fn answer_files(
    repo: &Repository,
    board: Option<&str>,
    image: Option<&Selected>,
) -> Result<AnswerFiles, ApiError> {
    let all = repo.answer_files().map_err(unreadable)?;
    let answer_files = all
        .into_iter()
        .filter(|rel| match board {
            // Board folders are compared without case, like board names everywhere.
            Some(b) => rel.split('/').nth(1).is_some_and(|folder| {
                folder.eq_ignore_ascii_case(b) && rel.split('/').count() >= 3
            }),
            None => true,
        })
        .map(|rel| answer_entry(repo, rel, image))
        .collect();
    Ok(AnswerFiles {
        image: image.map(Selected::view),
        answer_files,
    })
}

//! What of the repository fits one (board, base image) pair: the driver sets (by their
//! version folder and by what their INFs say), the best of them and why, the language
//! packs and updates that apply, and the board's answer files with their problems.
//!
//! [`CompatReport::fits`] is true when a driver set fits: drivers are what makes a board
//! work, and `waitctl repo check` exits 1 without one.

use serde::Serialize;

use crate::scan::{self, Inspected, PackageInfo, identity_tokens};
use crate::token::DriverToken;
use crate::{
    BaseImage, CatalogError, ImageIdentity, Recommendation, Repository, Result, paths, walk,
};

/// One driver set of the board, judged against the image.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DriverSetFit {
    pub name: String,
    pub path: String,
    pub fits: bool,
    pub reason: String,
    pub inf_count: usize,
    /// INFs whose decorations accept the image.
    pub applicable_infs: usize,
    pub infs_with_problems: usize,
}

/// A language pack, update or answer file, judged against the image.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ItemFit {
    /// Repository-relative path.
    pub path: String,
    /// The customer folder (updates only).
    pub customer: Option<String>,
    /// The version folder it is in.
    pub token: Option<String>,
    pub fits: bool,
    pub reason: String,
    pub problems: Vec<String>,
}

/// The result of [`Repository::compatibility`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CompatReport {
    pub base_image: String,
    pub image: ImageIdentity,
    /// Folder tokens that describe the image.
    pub tokens: Vec<String>,
    pub board: String,
    pub driver_sets: Vec<DriverSetFit>,
    pub recommended: Option<Recommendation>,
    pub langpacks: Vec<ItemFit>,
    pub updates: Vec<ItemFit>,
    pub answer_files: Vec<ItemFit>,
    /// A driver set fits the image.
    pub fits: bool,
    pub problems: Vec<String>,
}

const BOARD_FIELD: &str = "motherboard_model";

pub(crate) fn compatibility(
    repo: &Repository,
    base_image: &str,
    index: &str,
    board: &str,
) -> Result<CompatReport> {
    paths::validate_name(BOARD_FIELD, board)?;
    let base = base_with_identities(repo, base_image)?;
    let image = crate::select_index(&base, index)?;
    let mut problems = base.problems.clone();

    let sets = match repo.driver_sets(board) {
        Ok(sets) => sets,
        Err(CatalogError::NotFound { .. }) => {
            problems.push(format!("no driver folder 2_Drivers/{board}/"));
            Vec::new()
        }
        Err(e) => return Err(e),
    };
    let mut driver_sets = Vec::new();
    for set in &sets {
        let (fits, reason) = token_fit(&set.name, &image);
        let (applicable_infs, infs_with_problems) =
            match repo.driver_set_report(board, &set.name, &image) {
                Ok(r) => (r.applicable, r.with_problems),
                Err(e) => {
                    problems.push(e.to_string());
                    (0, 0)
                }
            };
        driver_sets.push(DriverSetFit {
            name: set.name.clone(),
            path: set.path.clone(),
            fits,
            reason,
            inf_count: set.inf_count,
            applicable_infs,
            infs_with_problems,
        });
    }
    let recommended = if sets.is_empty() {
        None
    } else {
        repo.recommend_driver_set(board, &image)?
    };

    let langpacks = packages(repo, "3_LangPacks", 1, &["cab", "esd"], &image)?;
    let updates = packages(repo, "4_Updates", 2, &["msu", "cab"], &image)?;
    let answer_files = answer_files(repo, board, &image)?;
    Ok(CompatReport {
        base_image: base.name.clone(),
        tokens: identity_tokens(&image),
        fits: recommended.is_some(),
        image,
        board: board.to_string(),
        driver_sets,
        recommended,
        langpacks,
        updates,
        answer_files,
        problems,
    })
}

/// The base image with identities, read from inside the ISO for ISOs.
fn base_with_identities(repo: &Repository, name: &str) -> Result<BaseImage> {
    let mut base = repo.base_image(name)?;
    if base.format == "iso" && base.images.is_empty() {
        let path = repo.resolve("base_image", "1_BaseImages", name)?;
        let (images, problems) = scan::iso_identities(&path);
        base.images = images;
        base.problems.extend(problems);
    }
    Ok(base)
}

/// Whether the version folder `token` suits the image, and why.
fn token_fit(token: &str, image: &ImageIdentity) -> (bool, String) {
    match DriverToken::parse(token) {
        Ok(parsed) => match parsed.fit(token, image) {
            Ok(fit) => (true, fit.reason),
            Err(why) => (false, why),
        },
        Err(e) => (false, e.to_string()),
    }
}

/// Language packs (`3_LangPacks/<TOKEN>/…`, token at depth 1) or updates
/// (`4_Updates/<customer>/<TOKEN>/…`, token at depth 2).
fn packages(
    repo: &Repository,
    folder: &str,
    token_depth: usize,
    extensions: &[&str],
    image: &ImageIdentity,
) -> Result<Vec<ItemFit>> {
    let dir = repo.root().join(folder);
    let mut out = Vec::new();
    for file in walk::files(&dir)? {
        if !extensions.iter().any(|e| walk::has_extension(&file.rel, e)) {
            continue;
        }
        let parts: Vec<&str> = file.rel.split('/').collect();
        let customer = (token_depth == 2 && parts.len() >= 2).then(|| parts[0].to_string());
        let token = (parts.len() > token_depth).then(|| parts[token_depth - 1].to_string());
        let (mut fits, mut reason) = match &token {
            Some(t) => token_fit(t, image),
            None => (false, "not in a version folder".to_string()),
        };
        let mut problems = Vec::new();
        let inspected: Inspected<PackageInfo> = scan_package(&dir.join(&file.rel));
        match (&inspected.info, &inspected.error) {
            (Some(info), _) => {
                if let Some((ok, why)) = scan::package_fits(info, image) {
                    fits = fits && ok;
                    reason = format!("{reason}; {why}");
                }
            }
            (None, Some(e)) if e == scan::NOT_SUPPORTED => {
                reason = format!("{reason}; package content not checked ({e})");
            }
            // A package that cannot be read would fail at servicing time: it does not fit.
            (None, Some(e)) => {
                fits = false;
                reason = format!("{reason}; but the package cannot be read");
                problems.push(e.clone());
            }
            (None, None) => {}
        }
        out.push(ItemFit {
            path: format!("{folder}/{}", file.rel),
            customer,
            token,
            fits,
            reason,
            problems,
        });
    }
    Ok(out)
}

fn scan_package(path: &std::path::Path) -> Inspected<PackageInfo> {
    scan::inspect_package(path)
}

fn answer_files(repo: &Repository, board: &str, image: &ImageIdentity) -> Result<Vec<ItemFit>> {
    let dir = repo.root().join("5_AnswerFiles");
    let mut out = Vec::new();
    for file in walk::files(&dir)? {
        if !walk::has_extension(&file.rel, "xml") {
            continue;
        }
        let parts: Vec<&str> = file.rel.split('/').collect();
        // Board folders are compared without case, like board names everywhere.
        if parts.len() < 2 || !parts[0].eq_ignore_ascii_case(board) {
            continue;
        }
        let token = (parts.len() >= 3).then(|| parts[1].to_string());
        let (fits, reason) = match &token {
            Some(t) => token_fit(t, image),
            None => (
                true,
                "not in a version folder: used for every image".to_string(),
            ),
        };
        let rel = format!("5_AnswerFiles/{}", file.rel);
        let inspected = scan::inspect_answer(&dir.join(&file.rel), &rel);
        let mut problems = Vec::new();
        match (&inspected.info, &inspected.error) {
            (Some(r), _) => problems.extend(scan::answer_problems(r)),
            (None, Some(e)) if e != scan::NOT_SUPPORTED => problems.push(e.clone()),
            _ => {}
        }
        let reason = match &inspected.error {
            Some(e) if e == scan::NOT_SUPPORTED => format!("{reason}; content not checked ({e})"),
            _ => reason,
        };
        out.push(ItemFit {
            path: rel,
            customer: None,
            token,
            fits,
            reason,
            problems,
        });
    }
    Ok(out)
}

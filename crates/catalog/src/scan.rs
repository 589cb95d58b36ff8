//! The repository scan: every file under the eight folders classified (base image,
//! driver set, language pack, update, answer file, software, tool, output) with what can
//! be read from it, and everything else listed as unknown, so an operator sees at a
//! glance what the repository holds and what is misplaced.
//!
//! A scan never fails because of one bad file: an unreadable WIM, a bad INF, a symlink
//! leaving the repository are problems in the report. Only an unreadable root fails.
//!
//! Content hashes are computed only when a [`HashCache`] is given (hashing a repository
//! of ISOs takes minutes the first time; with the cache, later scans only re-hash files
//! that changed). Driver sets get one digest over their files; output folders are not
//! hashed (their `checksum.sha256` is their record).

mod inspect;
pub(crate) mod iso;
mod outputs;
mod tokens;
mod tree;
mod wim_xml;

use std::collections::BTreeMap;

use serde::Serialize;
use sha2::{Digest, Sha256};

pub use inspect::{AnswerFileReport, Inspected, NOT_SUPPORTED, PackageInfo, SoftwareInfo};
pub use iso::IsoInstall;
pub use outputs::ScannedOutput;
pub use tokens::{TokenFolder, identity_tokens};

pub(crate) use inspect::{
    answer_file as inspect_answer, answer_problems, package as inspect_package, package_fits,
};
use tree::Item;

use crate::hash_cache::{CacheStats, HashCache};
use crate::token::DriverToken;
use crate::{ImageIdentity, Repository, Result, driver_report, walk};

/// A file and what the scan knows of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ScannedFile {
    /// Repository-relative path.
    pub path: String,
    pub size: u64,
    /// Present when the scan was given a hash cache.
    pub sha256: Option<String>,
    pub problems: Vec<String>,
}

/// One image index of a base image, with the folder tokens that describe it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ScannedImage {
    #[serde(flatten)]
    pub identity: ImageIdentity,
    /// e.g. `WINDOWS11_X64`, `WIN11_24H2`, `WIN11_IOT_24H2_X64`, …
    pub tokens: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ScannedBaseImage {
    #[serde(flatten)]
    pub file: ScannedFile,
    /// "wim", "esd", "swm" or "iso".
    pub format: String,
    pub images: Vec<ScannedImage>,
    /// For ISOs: the install image inside.
    pub iso: Option<IsoInstall>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ScannedDriverSet {
    pub board: String,
    pub name: String,
    /// Repository-relative path of the set folder.
    pub path: String,
    /// What the folder name says (absent when it is not a version token).
    pub token: Option<DriverToken>,
    pub categories: Vec<String>,
    pub file_count: usize,
    pub total_size: u64,
    pub inf_count: usize,
    /// INFs that apply to the system the folder name stands for.
    pub applicable_infs: usize,
    pub infs_with_problems: usize,
    /// sha256 over the sorted lines `<sha256>  <path in set>`, when hashed.
    pub content_sha256: Option<String>,
    pub problems: Vec<String>,
}

/// A language pack or an update.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ScannedPackage {
    #[serde(flatten)]
    pub file: ScannedFile,
    /// For updates: the customer folder.
    pub customer: Option<String>,
    /// The version-token folder it sits in.
    pub token: Option<String>,
    pub package: Inspected<PackageInfo>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ScannedSoftware {
    #[serde(flatten)]
    pub file: ScannedFile,
    pub customer: String,
    pub software: Inspected<SoftwareInfo>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ScannedAnswerFile {
    #[serde(flatten)]
    pub file: ScannedFile,
    pub board: Option<String>,
    pub token: Option<String>,
    pub report: Inspected<AnswerFileReport>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ScanTotals {
    pub files: usize,
    pub bytes: u64,
    pub unknown: usize,
    pub problems: usize,
    pub hashed: usize,
    /// Cache counters after the scan (absent without a cache).
    pub cache: Option<CacheStats>,
}

/// The result of [`Repository::scan`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ScanReport {
    pub root: String,
    pub base_images: Vec<ScannedBaseImage>,
    pub driver_sets: Vec<ScannedDriverSet>,
    pub langpacks: Vec<ScannedPackage>,
    pub updates: Vec<ScannedPackage>,
    pub answer_files: Vec<ScannedAnswerFile>,
    pub software: Vec<ScannedSoftware>,
    pub tools: Vec<ScannedFile>,
    pub outputs: Vec<ScannedOutput>,
    /// Files the scan could not place.
    pub unknown: Vec<ScannedFile>,
    /// Version-token folders, each with the base images it fits.
    pub token_folders: Vec<TokenFolder>,
    /// Problems that belong to no single listed file (symlinks refused, unreadable
    /// folders, names that are not UTF-8).
    pub problems: Vec<String>,
    pub totals: ScanTotals,
}

/// The kinds `waitctl repo ls` accepts, in display order.
pub const KINDS: [&str; 8] = [
    "base-images",
    "drivers",
    "langpacks",
    "updates",
    "software",
    "answer-files",
    "tools",
    "outputs",
];

const BASE_FORMATS: [&str; 4] = ["wim", "esd", "swm", "iso"];
const LANGPACK_EXTENSIONS: [&str; 2] = ["cab", "esd"];
const UPDATE_EXTENSIONS: [&str; 2] = ["msu", "cab"];

fn ext_in(name: &str, list: &[&str]) -> Option<String> {
    let ext = walk::extension(name)?.to_ascii_lowercase();
    list.contains(&ext.as_str()).then_some(ext)
}

/// Hashes through the cache, when there is one.
struct Hasher<'a> {
    cache: Option<&'a mut HashCache>,
    hashed: usize,
}

impl Hasher<'_> {
    fn hash(&mut self, item: &Item, problems: &mut Vec<String>) -> Option<String> {
        let cache = self.cache.as_deref_mut()?;
        match cache.hash(&item.abs) {
            Ok(h) => {
                self.hashed += 1;
                Some(h.sha256)
            }
            Err(e) => {
                problems.push(format!("cannot hash: {e}"));
                None
            }
        }
    }

    fn file(&mut self, item: &Item) -> ScannedFile {
        let mut problems = Vec::new();
        let sha256 = self.hash(item, &mut problems);
        ScannedFile {
            path: item.rel(),
            size: item.size,
            sha256,
            problems,
        }
    }
}

fn plain(item: &Item) -> ScannedFile {
    ScannedFile {
        path: item.rel(),
        size: item.size,
        sha256: None,
        problems: Vec::new(),
    }
}

pub(crate) fn scan(repo: &Repository, cache: Option<&mut HashCache>) -> Result<ScanReport> {
    let root = repo.root();
    let walked = tree::walk(root)?;
    let mut hasher = Hasher { cache, hashed: 0 };
    let mut report = ScanReport {
        root: root.display().to_string(),
        base_images: Vec::new(),
        driver_sets: Vec::new(),
        langpacks: Vec::new(),
        updates: Vec::new(),
        answer_files: Vec::new(),
        software: Vec::new(),
        tools: Vec::new(),
        outputs: Vec::new(),
        unknown: Vec::new(),
        token_folders: Vec::new(),
        problems: walked.problems,
        totals: ScanTotals {
            files: walked.files.len(),
            bytes: walked.files.iter().map(|f| f.size).sum(),
            unknown: 0,
            problems: 0,
            hashed: 0,
            cache: None,
        },
    };
    let mut drivers: BTreeMap<(String, String), Vec<Item>> = BTreeMap::new();
    let mut output_files = Vec::new();
    for item in walked.files {
        let parts = &item.parts;
        let name = parts.last().map_or("", String::as_str);
        let depth = parts.len();
        match parts[0].as_str() {
            "1_BaseImages" if depth == 2 => match ext_in(name, &BASE_FORMATS) {
                Some(format) => report
                    .base_images
                    .push(base_image(&item, format, &mut hasher)),
                None => report.unknown.push(plain(&item)),
            },
            "2_Drivers" if depth >= 4 => drivers
                .entry((parts[1].clone(), parts[2].clone()))
                .or_default()
                .push(item),
            "3_LangPacks" if ext_in(name, &LANGPACK_EXTENSIONS).is_some() => {
                let mut file = hasher.file(&item);
                let token = (depth >= 3).then(|| parts[1].clone());
                if token.is_none() {
                    file.problems
                        .push("not in a version folder (3_LangPacks/<TOKEN>/)".into());
                }
                report.langpacks.push(ScannedPackage {
                    package: inspect::package(&item.abs),
                    file,
                    customer: None,
                    token,
                });
            }
            "4_Updates" if depth >= 3 && ext_in(name, &UPDATE_EXTENSIONS).is_some() => {
                let mut file = hasher.file(&item);
                let token = (depth >= 4).then(|| parts[2].clone());
                if token.is_none() {
                    file.problems
                        .push("not in a version folder (4_Updates/<customer>/<TOKEN>/)".into());
                }
                report.updates.push(ScannedPackage {
                    package: inspect::package(&item.abs),
                    file,
                    customer: Some(parts[1].clone()),
                    token,
                });
            }
            "5_AnswerFiles" if walk::has_extension(name, "xml") => {
                let mut file = hasher.file(&item);
                let board = (depth >= 3).then(|| parts[1].clone());
                let token = (depth >= 4).then(|| parts[2].clone());
                if token.is_none() {
                    file.problems.push(
                        "not in a board and version folder (5_AnswerFiles/<board>/<TOKEN>/)".into(),
                    );
                }
                report.answer_files.push(ScannedAnswerFile {
                    report: inspect::answer_file(&item.abs, &file.path),
                    file,
                    board,
                    token,
                });
            }
            "6_Software" if depth >= 3 => {
                let file = hasher.file(&item);
                report.software.push(ScannedSoftware {
                    software: inspect::software(&item.abs),
                    file,
                    customer: parts[1].clone(),
                });
            }
            "7_Tools" if depth >= 2 => report.tools.push(hasher.file(&item)),
            "8_Output" => output_files.push(item),
            _ => report.unknown.push(plain(&item)),
        }
    }
    let (outputs, stray) = outputs::collect(output_files);
    report.outputs = outputs;
    report.unknown.extend(stray.iter().map(plain));

    let images: Vec<(String, ImageIdentity)> = report
        .base_images
        .iter()
        .flat_map(|b| {
            let name = b.file.path.trim_start_matches("1_BaseImages/").to_string();
            b.images
                .iter()
                .map(move |i| (format!("{name}#{}", i.identity.index), i.identity.clone()))
        })
        .collect();
    for ((board, set), items) in drivers {
        report
            .driver_sets
            .push(driver_set(repo, &board, &set, &items, &mut hasher));
    }
    report.token_folders = walked
        .dirs
        .iter()
        .filter(|d| is_token_folder(d))
        .map(|d| {
            let token = d.last().map_or("", String::as_str);
            tokens::folder(d.join("/"), token, &images)
        })
        .collect();

    report.totals.unknown = report.unknown.len();
    report.totals.hashed = hasher.hashed;
    report.totals.cache = hasher.cache.as_deref().map(HashCache::stats);
    report.totals.problems = report.problems.len() + count_file_problems(&report);
    Ok(report)
}

/// Folders whose name is a version token by the repository layout.
fn is_token_folder(parts: &[String]) -> bool {
    matches!(
        (parts.first().map(String::as_str), parts.len()),
        (Some("2_Drivers" | "4_Updates" | "5_AnswerFiles"), 3) | (Some("3_LangPacks"), 2)
    )
}

fn count_file_problems(r: &ScanReport) -> usize {
    let files = r
        .base_images
        .iter()
        .map(|b| &b.file)
        .chain(r.langpacks.iter().map(|p| &p.file))
        .chain(r.updates.iter().map(|p| &p.file))
        .chain(r.answer_files.iter().map(|a| &a.file))
        .chain(r.software.iter().map(|s| &s.file))
        .chain(r.tools.iter());
    files.filter(|f| !f.problems.is_empty()).count()
        + r.driver_sets
            .iter()
            .filter(|d| !d.problems.is_empty())
            .count()
        + r.outputs.iter().filter(|o| !o.problems.is_empty()).count()
}

fn base_image(item: &Item, format: String, hasher: &mut Hasher<'_>) -> ScannedBaseImage {
    let mut file = hasher.file(item);
    let mut iso_install = None;
    let identities = if format == "iso" {
        let (install, images, problems) = iso::read(&item.abs);
        iso_install = install;
        file.problems.extend(problems);
        images
    } else {
        match crate::wim_identities(&item.abs) {
            Ok(images) => images,
            Err(e) => {
                file.problems.push(e.to_string());
                Vec::new()
            }
        }
    };
    ScannedBaseImage {
        file,
        format,
        images: identities
            .into_iter()
            .map(|identity| ScannedImage {
                tokens: identity_tokens(&identity),
                identity,
            })
            .collect(),
        iso: iso_install,
    }
}

fn driver_set(
    repo: &Repository,
    board: &str,
    set: &str,
    items: &[Item],
    hasher: &mut Hasher<'_>,
) -> ScannedDriverSet {
    let path = format!("2_Drivers/{board}/{set}");
    let mut problems = Vec::new();
    let token = match DriverToken::parse(set) {
        Ok(t) => Some(t),
        Err(e) => {
            problems.push(e.to_string());
            None
        }
    };
    let mut categories: Vec<String> = items
        .iter()
        .filter(|i| i.parts.len() >= 5)
        .map(|i| i.parts[3].clone())
        .collect();
    categories.dedup();
    let inf_count = items
        .iter()
        .filter(|i| walk::has_extension(&i.rel(), "inf"))
        .count();
    // Without a token, INFs are still parsed for their own problems; none applies.
    let target = token.as_ref().map_or_else(
        || ImageIdentity {
            index: 1,
            name: String::new(),
            edition: None,
            product_name: None,
            installation_type: None,
            arch: None,
            version: None,
            build: None,
            languages: Vec::new(),
            size: 0,
        },
        tokens::representative_image,
    );
    let (applicable_infs, infs_with_problems) =
        match driver_report::report(repo, board, set, &target) {
            Ok(r) => {
                for inf in r.infs.iter().filter(|i| !i.problems.is_empty()) {
                    for p in &inf.problems {
                        problems.push(format!("{}: {p}", inf.path));
                    }
                }
                (r.applicable, r.with_problems)
            }
            Err(e) => {
                problems.push(e.to_string());
                (0, 0)
            }
        };
    if inf_count == 0 {
        problems.push("no INF file: Windows cannot install anything from this set".into());
    }
    let content_sha256 = if hasher.cache.is_some() {
        let mut lines = Vec::with_capacity(items.len());
        let mut complete = true;
        for item in items {
            match hasher.hash(item, &mut problems) {
                Some(h) => lines.push(format!("{h}  {}\n", item.parts[3..].join("/"))),
                None => complete = false,
            }
        }
        lines.sort();
        complete.then(|| {
            let mut digest = Sha256::new();
            for line in &lines {
                digest.update(line.as_bytes());
            }
            hex::encode(digest.finalize())
        })
    } else {
        None
    };
    ScannedDriverSet {
        board: board.to_string(),
        name: set.to_string(),
        path,
        token,
        categories,
        file_count: items.len(),
        total_size: items.iter().map(|i| i.size).sum(),
        inf_count,
        applicable_infs,
        infs_with_problems,
        content_sha256,
        problems,
    }
}

/// Identities of a base image file inside `1_BaseImages/` when the ordinary listing
/// does not read them (ISOs): used by the compatibility report.
pub(crate) fn iso_identities(path: &std::path::Path) -> (Vec<ImageIdentity>, Vec<String>) {
    let (_, images, problems) = iso::read(path);
    (images, problems)
}

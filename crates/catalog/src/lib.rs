//! The resource repository (`1_BaseImages` … `8_Output`): layout, safe paths, base-image
//! identity, drivers per board, answer files, content hashes, and the generated fixtures
//! used by tests and `waitctl demo`.
//!
//! API CONTRACT (skeleton: signatures are fixed, bodies to be written). Helpers may ADD
//! items; they must not rename or remove these.

pub mod answer;
mod base_images;
pub mod compat;
pub mod components;
mod driver_report;
mod drivers;
pub mod fixtures;
mod hash;
pub mod hash_cache;
pub mod inf;
mod layout;
mod media;
pub mod naming;
pub mod packages;
mod paths;
pub mod scan;
pub mod search;
pub mod software;
mod text;
pub mod token;
mod walk;

use std::path::{Path, PathBuf};

use serde::Serialize;

pub use answer::{AnswerFileReport, AnswerProblem, inspect_answer_file};
pub use base_images::{identity_from_info, wim_identities};
pub use driver_report::{DriverSetReport, InfReport};
pub use paths::validate_name;
pub use text::TextEncoding;

pub use compat::CompatReport;
pub use hash_cache::{CacheStats, HashCache};
pub use scan::ScanReport;
pub use search::{BoardMatch, search_boards};

#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    #[error("{field}: {message}")]
    Invalid {
        field: &'static str,
        message: String,
    },
    #[error("{field}: {name:?} not found in the repository")]
    NotFound { field: &'static str, name: String },
    #[error("{field}: path {path:?} escapes the repository")]
    Escapes { field: &'static str, path: String },
    #[error("{field}: {reason}")]
    Incompatible { field: &'static str, reason: String },
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: {source}")]
    Wim {
        path: PathBuf,
        #[source]
        source: wait_wim::WimError,
    },
}

impl CatalogError {
    /// Shorthand for an I/O error about `path`.
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        CatalogError::Io {
            path: path.into(),
            source,
        }
    }

    /// Shorthand for a wimlib error about `path`.
    pub(crate) fn wim(path: impl Into<PathBuf>, source: wait_wim::WimError) -> Self {
        CatalogError::Wim {
            path: path.into(),
            source,
        }
    }
}

pub type Result<T> = std::result::Result<T, CatalogError>;

/// The eight top-level folders, in order.
pub const FOLDERS: [&str; 8] = [
    "1_BaseImages",
    "2_Drivers",
    "3_LangPacks",
    "4_Updates",
    "5_AnswerFiles",
    "6_Software",
    "7_Tools",
    "8_Output",
];

/// CPU architecture of an image or driver.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Arch {
    X86,
    X64,
    Arm64,
}

impl Arch {
    /// From WIM XML WINDOWS/ARCH (0, 9, 12).
    pub fn from_wim(code: u32) -> Option<Self> {
        match code {
            0 => Some(Arch::X86),
            9 => Some(Arch::X64),
            12 => Some(Arch::Arm64),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Arch::X86 => "x86",
            Arch::X64 => "x64",
            Arch::Arm64 => "arm64",
        }
    }

    /// The WINDOWS/ARCH code used in WIM XML (inverse of [`Arch::from_wim`]).
    pub fn wim_code(self) -> u32 {
        match self {
            Arch::X86 => 0,
            Arch::X64 => 9,
            Arch::Arm64 => 12,
        }
    }

    /// The spelling used in driver folder tokens ("X64", "X86", "ARM64").
    pub fn token(self) -> &'static str {
        match self {
            Arch::X86 => "X86",
            Arch::X64 => "X64",
            Arch::Arm64 => "ARM64",
        }
    }
}

impl std::fmt::Display for Arch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Identity of one image index inside a base image.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ImageIdentity {
    pub index: u32,
    pub name: String,
    pub edition: Option<String>,
    pub product_name: Option<String>,
    pub installation_type: Option<String>,
    pub arch: Option<Arch>,
    /// "10.0.26100.1" (major.minor.build.spbuild)
    pub version: Option<String>,
    pub build: Option<u32>,
    pub languages: Vec<String>,
    pub size: u64,
}

/// A file in `1_BaseImages/`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BaseImage {
    /// File name inside `1_BaseImages/`.
    pub name: String,
    /// "wim", "esd", "swm" or "iso".
    pub format: String,
    pub size: u64,
    pub images: Vec<ImageIdentity>,
    /// Why the file could not be read (for example a damaged WIM). Empty when all is well;
    /// [`Repository::base_images`] lists unreadable files with their problem instead of
    /// failing the whole listing.
    pub problems: Vec<String>,
}

/// One driver set: `2_Drivers/<board>/<set>/` (e.g. set = "WINDOWS11_X64").
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DriverSet {
    pub board: String,
    pub name: String,
    /// Repository-relative path of the set folder.
    pub path: String,
    /// Category subfolders (chipset, network, storage, …).
    pub categories: Vec<String>,
    pub inf_count: usize,
    pub file_count: usize,
    pub total_size: u64,
}

/// A recommendation with the reason, for the API and the job log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Recommendation {
    pub driver_set: DriverSet,
    pub reason: String,
}

/// A file and its content hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HashedFile {
    pub path: PathBuf,
    pub sha256: String,
    pub size: u64,
}

/// The repository root.
#[derive(Debug, Clone)]
pub struct Repository {
    root: PathBuf,
}

impl Repository {
    /// Open an existing repository (the root must exist).
    pub fn open(root: &Path) -> Result<Self> {
        layout::open(root).map(|root| Repository { root })
    }

    /// Create the root and the eight folders if missing (idempotent).
    pub fn init(root: &Path) -> Result<Self> {
        layout::init(root).map(|root| Repository { root })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn output_root(&self) -> PathBuf {
        self.root.join("8_Output")
    }

    /// Absolute path of one of the eight top-level folders (it need not exist yet).
    pub fn folder(&self, folder: &str) -> Result<PathBuf> {
        paths::check_folder(folder)?;
        Ok(self.root.join(folder))
    }

    /// Resolve a user-supplied relative path inside `folder` (one of FOLDERS). Refuses
    /// absolute paths, `..`, NUL, backslashes, and symlinks that leave the repository.
    /// The target need not exist.
    pub fn resolve(&self, field: &'static str, folder: &str, rel: &str) -> Result<PathBuf> {
        paths::resolve(&self.root, field, folder, rel)
    }

    /// Every file in `1_BaseImages/` with identity per index (WIM/ESD only for now;
    /// other formats are listed with empty `images`).
    pub fn base_images(&self) -> Result<Vec<BaseImage>> {
        base_images::list(self)
    }

    pub fn base_image(&self, name: &str) -> Result<BaseImage> {
        base_images::one(self, name)
    }

    /// Board folder names under `2_Drivers/`, sorted.
    pub fn motherboards(&self) -> Result<Vec<String>> {
        drivers::motherboards(self)
    }

    /// Boards under `2_Drivers/` plus `extra` (boards known elsewhere, e.g. registered
    /// in the database), without case-only duplicates, ranked against `query` by
    /// [`search_boards`].
    pub fn search_motherboards(
        &self,
        query: &str,
        extra: &[String],
        limit: usize,
    ) -> Result<Vec<BoardMatch>> {
        let boards = search::merge_boards(self.motherboards()?, extra);
        Ok(search_boards(query, &boards, limit))
    }

    /// Walk all eight folders and classify every file; see [`scan`]. With a cache,
    /// content hashes are computed once per file version.
    pub fn scan(&self, cache: Option<&mut HashCache>) -> Result<ScanReport> {
        scan::scan(self, cache)
    }

    /// What of the repository fits `board` on image `index` of `base_image`; see
    /// [`compat`].
    pub fn compatibility(
        &self,
        base_image: &str,
        index: &str,
        board: &str,
    ) -> Result<CompatReport> {
        compat::compatibility(self, base_image, index, board)
    }

    pub fn driver_sets(&self, board: &str) -> Result<Vec<DriverSet>> {
        drivers::driver_sets(self, board)
    }

    /// The set that fits the image (arch + Windows generation from the build), with why.
    pub fn recommend_driver_set(
        &self,
        board: &str,
        image: &ImageIdentity,
    ) -> Result<Option<Recommendation>> {
        let sets = self.driver_sets(board)?;
        // Among sets whose folder token fits equally well, prefer the one with more INFs
        // that apply to the image.
        Ok(drivers::recommend(sets, image, |set| {
            driver_report::applicable_count(self, board, &set.name, image)
        }))
    }

    /// Parse every INF of `2_Drivers/<board>/<set_name>/` and say, per INF, its class,
    /// provider, version and date, whether its catalog file is beside it, and whether it
    /// applies to `image` (and why). An INF that cannot be parsed is listed with its
    /// problem; only a bad board or set name, a missing set or an unreadable folder fail
    /// the call.
    pub fn driver_set_report(
        &self,
        board: &str,
        set_name: &str,
        image: &ImageIdentity,
    ) -> Result<DriverSetReport> {
        driver_report::report(self, board, set_name, image)
    }

    /// Repository-relative paths of answer files under `5_AnswerFiles/`.
    pub fn answer_files(&self) -> Result<Vec<String>> {
        let dir = self.root.join("5_AnswerFiles");
        let mut out = Vec::new();
        for file in walk::files(&dir)? {
            if walk::has_extension(&file.rel, "xml") {
                out.push(format!("5_AnswerFiles/{}", file.rel));
            }
        }
        out.sort();
        Ok(out)
    }
}

/// Pick the image index from a request value: a number ("1") or an edition/name
/// (case-insensitive match on EDITIONID or NAME).
pub fn select_index(base: &BaseImage, wanted: &str) -> Result<ImageIdentity> {
    base_images::select_index(base, wanted)
}

/// sha256 and size of a file, streamed.
pub fn hash_file(path: &Path) -> Result<HashedFile> {
    hash::hash_file(path)
}

/// Windows version folder token for an identity, e.g. build 26100 x64 → "WINDOWS11_X64".
pub fn driver_folder_token(image: &ImageIdentity) -> Option<String> {
    let generation = token::Generation::from_build(image.build?)?;
    let arch = image.arch?;
    Some(format!("WINDOWS{}_{}", generation.number(), arch.token()))
}

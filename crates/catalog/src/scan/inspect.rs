//! The content inspectors for packages, software and answer files, as the scan and
//! the compatibility report use them: each result is kept with the error that replaced
//! it, so one unreadable file is a line in the report, not a failed scan.

use std::io::Read;
use std::path::Path;

use serde::Serialize;

pub use crate::answer::AnswerFileReport;
pub use crate::packages::PackageInfo;
pub use crate::software::SoftwareInfo;

use crate::ImageIdentity;

/// Said in reports where an inspector is not available in this build (none today; kept
/// so clients can recognise the phrase should a kind of file lose its inspector).
pub const NOT_SUPPORTED: &str = "not supported yet: content inspection of this kind of file";

/// Read one byte past the inspector's limit, so it sees the file is too large without
/// the scan reading a huge file whole.
const ANSWER_READ_CAP: u64 = crate::answer::MAX_ANSWER_BYTES as u64 + 1;

/// What an inspector said: its findings, or why there are none.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Inspected<T> {
    pub info: Option<T>,
    /// Why `info` is missing (an error naming the file).
    pub error: Option<String>,
}

fn from_result<T, E: std::fmt::Display>(r: Result<T, E>) -> Inspected<T> {
    match r {
        Ok(info) => Inspected {
            info: Some(info),
            error: None,
        },
        Err(e) => Inspected {
            info: None,
            error: Some(e.to_string()),
        },
    }
}

pub(crate) fn package(path: &Path) -> Inspected<PackageInfo> {
    from_result(crate::packages::inspect_package(path))
}

pub(crate) fn software(path: &Path) -> Inspected<SoftwareInfo> {
    from_result(crate::software::inspect_software(path))
}

/// `rel` is the repository-relative name the report uses.
pub(crate) fn answer_file(path: &Path, rel: &str) -> Inspected<AnswerFileReport> {
    let mut bytes = Vec::new();
    let read =
        std::fs::File::open(path).and_then(|f| f.take(ANSWER_READ_CAP).read_to_end(&mut bytes));
    match read {
        Ok(_) => Inspected {
            info: Some(crate::answer::inspect_answer_file(rel, &bytes)),
            error: None,
        },
        Err(e) => Inspected {
            info: None,
            error: Some(format!("{rel}: {e}")),
        },
    }
}

/// Whether a package applies to an image, and why.
pub(crate) fn package_fits(info: &PackageInfo, image: &ImageIdentity) -> Option<(bool, String)> {
    let fit = crate::packages::package_fits(info, image);
    Some((fit.fits, fit.reason))
}

/// The problems an answer-file report lists, with their lines.
pub(crate) fn answer_problems(report: &AnswerFileReport) -> Vec<String> {
    report
        .problems
        .iter()
        .map(|p| match p.line {
            Some(line) => format!("line {line}: {}", p.message),
            None => p.message.clone(),
        })
        .collect()
}

//! The checksum checks: `checksum.md5` and `checksum.sha256` each list every file of
//! the folder but themselves, and every line matches. Each file is read once for both
//! digests, and the digests are kept for the checks that compare files with the
//! manifest.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};

use super::{ValidationReport, plain_name};
use crate::checksum::{digest_file, read_checksum_file};
use crate::{FileDigests, PipelineError};

const LISTS: [&str; 2] = ["checksum.md5", "checksum.sha256"];

/// What the checksum pass learned about the folder.
#[derive(Debug, Default)]
pub(super) struct Sums {
    /// Digests of every file in the folder and every plain name a list mentions.
    digests: HashMap<String, Result<FileDigests, String>>,
    /// Names each checksum file lists (index as in `LISTS`).
    listed: [BTreeSet<String>; 2],
}

impl Sums {
    pub(super) fn digest(&self, name: &str) -> Option<&FileDigests> {
        self.digests.get(name).and_then(|d| d.as_ref().ok())
    }

    /// Problems with the output file `name` against the manifest's record of it: it must
    /// be in the folder, in both checksum files, and have the recorded size and digests.
    pub(super) fn file_check(&self, name: &str, size: u64, md5: &str, sha256: &str) -> Vec<String> {
        if !plain_name(name) {
            return vec![format!("{name:?} is not a plain file name")];
        }
        let mut problems = Vec::new();
        for (list, listed) in LISTS.iter().zip(&self.listed) {
            if !listed.contains(name) {
                problems.push(format!("{name} is not listed in {list}"));
            }
        }
        match self.digests.get(name) {
            None => problems.push(format!("{name} is not in the folder")),
            Some(Err(e)) => problems.push(e.clone()),
            Some(Ok(d)) => {
                if d.size != size {
                    problems.push(format!("{name} is {} bytes, manifest says {size}", d.size));
                }
                if !d.md5.eq_ignore_ascii_case(md5) {
                    problems.push(format!("{name}: MD5 differs from the manifest"));
                }
                if !d.sha256.eq_ignore_ascii_case(sha256) {
                    problems.push(format!("{name}: SHA-256 differs from the manifest"));
                }
            }
        }
        problems
    }
}

/// Push the `checksum.md5` and `checksum.sha256` checks.
pub(super) fn check_sums(
    dir: &Path,
    report: &mut ValidationReport,
    cancel: &AtomicBool,
) -> Result<Sums, PipelineError> {
    // Folder contents: name → whether it is a regular file.
    let mut present: BTreeMap<String, bool> = BTreeMap::new();
    for entry in std::fs::read_dir(dir).map_err(|e| PipelineError::io(dir, e))? {
        let entry = entry.map_err(|e| PipelineError::io(dir, e))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if LISTS.contains(&name.as_str()) {
            continue;
        }
        let is_file = entry
            .file_type()
            .map_err(|e| PipelineError::io(entry.path(), e))?
            .is_file();
        present.insert(name, is_file);
    }

    let lists: Vec<Result<Vec<(String, String)>, String>> = LISTS
        .iter()
        .map(|l| read_checksum_file(&dir.join(l)).map_err(|e| e.to_string()))
        .collect();

    let mut sums = Sums::default();
    let wanted: BTreeSet<&str> = present
        .iter()
        .filter(|(_, is_file)| **is_file)
        .map(|(n, _)| n.as_str())
        .chain(
            lists
                .iter()
                .flatten()
                .flatten()
                .map(|(n, _)| n.as_str())
                .filter(|n| plain_name(n) && !LISTS.contains(n)),
        )
        .collect();
    for name in wanted {
        let path = dir.join(name);
        let result = if present.get(name) == Some(&true) {
            match digest_file(&path, |_| !cancel.load(Ordering::Relaxed)) {
                Ok(d) => Ok(d),
                Err(PipelineError::Cancelled) => return Err(PipelineError::Cancelled),
                Err(e) => Err(e.to_string()),
            }
        } else {
            Err(format!("{name} is not in the folder"))
        };
        sums.digests.insert(name.to_string(), result);
    }

    for (i, (list, lines)) in LISTS.iter().zip(lists).enumerate() {
        let lines = match lines {
            Ok(l) if l.is_empty() => {
                report.push(list, false, format!("{list} is empty"));
                continue;
            }
            Ok(l) => l,
            Err(e) => {
                report.push(list, false, e);
                continue;
            }
        };
        let mut problems = Vec::new();
        for (name, want) in &lines {
            if !sums.listed[i].insert(name.clone()) {
                problems.push(format!("{name} is listed twice"));
                continue;
            }
            if !plain_name(name) || LISTS.contains(&name.as_str()) {
                problems.push(format!(
                    "{name:?} cannot be listed (not a plain file of the folder)"
                ));
                continue;
            }
            if present.get(name.as_str()) != Some(&true) {
                problems.push(format!("{name} is listed but not in the folder"));
                continue;
            }
            match sums.digests.get(name.as_str()) {
                Some(Ok(d)) => {
                    let have = if i == 0 { &d.md5 } else { &d.sha256 };
                    if have != want {
                        problems.push(format!("{name}: digest does not match"));
                    }
                }
                Some(Err(e)) => problems.push(e.clone()),
                None => problems.push(format!("{name} was not checked")),
            }
        }
        for (name, is_file) in &present {
            if !is_file {
                problems.push(format!("{name} is not a regular file"));
            } else if !sums.listed[i].contains(name) {
                problems.push(format!("{name} is in the folder but not listed"));
            }
        }
        if problems.is_empty() {
            report.push(
                list,
                true,
                format!("{} file(s) listed, all present and matching", lines.len()),
            );
        } else {
            report.push(list, false, problems.join("; "));
        }
    }
    Ok(sums)
}

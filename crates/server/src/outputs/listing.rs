//! `GET /api/outputs`: every output folder, grouped by customer, newest first.

use std::path::Path;
use std::time::SystemTime;

use serde::Serialize;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::OutputError;
use super::manifest::{
    CHECKSUM_MD5, CHECKSUM_SHA256, MANIFEST_JSON, ManifestView, VariantView, read_manifest,
};
use super::names::PlainName;

/// Suffix a build gives a folder whose validation failed (kept for inspection).
pub const FAILED_SUFFIX: &str = "_FAILED_VALIDATION";

/// The outputs of one customer, newest first.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CustomerOutputs {
    pub customer: String,
    pub outputs: Vec<OutputEntry>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct OutputEntry {
    pub customer: String,
    /// The folder name: the `{job}` of the download URLs.
    pub folder: String,
    /// `<customer>/<folder>`, relative to `8_Output/`.
    pub path: String,
    pub job_id: Option<String>,
    pub board: Option<String>,
    /// When the build finished (the manifest's `built_at`), else the folder's
    /// modification time; RFC 3339.
    pub created_at: Option<String>,
    pub failed_validation: bool,
    pub variants: Vec<VariantEntry>,
    pub has_checksums: bool,
    /// What is wrong with the folder, in words (missing manifest, missing files, …).
    pub problems: Vec<String>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct VariantEntry {
    pub variant: String,
    pub image_file: String,
    /// Size on disk when the file is there, else the manifest's record.
    pub size: Option<u64>,
    pub sha256: Option<String>,
    pub md5: Option<String>,
    pub iso: Option<FileEntry>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct FileEntry {
    pub file: String,
    pub size: Option<u64>,
    pub sha256: Option<String>,
    pub md5: Option<String>,
}

/// Every output folder below `output_root` whose customer, board or folder contains
/// `query` (case-insensitive; empty = all). Customers come in the order of their newest
/// output, each customer's outputs newest first. Hidden and non-plain names, links and
/// plain files are skipped: none of them can be served.
pub fn list_outputs(
    output_root: &Path,
    query: Option<&str>,
) -> Result<Vec<CustomerOutputs>, OutputError> {
    let needle = query
        .map(str::trim)
        .filter(|q| !q.is_empty())
        .map(str::to_lowercase);
    let mut groups: Vec<(OffsetDateTime, CustomerOutputs)> = Vec::new();
    for (customer, customer_dir) in plain_dirs(output_root)? {
        let mut outputs = Vec::new();
        for (folder, dir) in plain_dirs(&customer_dir)? {
            let (when, entry) = describe(&customer, &folder, &dir);
            let matches = needle.as_ref().is_none_or(|n| {
                [
                    Some(&entry.customer),
                    Some(&entry.folder),
                    entry.board.as_ref(),
                ]
                .into_iter()
                .flatten()
                .any(|field| field.to_lowercase().contains(n))
            });
            if matches {
                outputs.push((when, entry));
            }
        }
        if outputs.is_empty() {
            continue;
        }
        outputs.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| b.1.folder.cmp(&a.1.folder)));
        let newest = outputs[0].0;
        groups.push((
            newest,
            CustomerOutputs {
                customer,
                outputs: outputs.into_iter().map(|(_, e)| e).collect(),
            },
        ));
    }
    groups.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.customer.cmp(&b.1.customer)));
    Ok(groups.into_iter().map(|(_, g)| g).collect())
}

/// Real directories (not links) directly in `dir` with plain names, sorted by name.
/// A missing `dir` has none.
fn plain_dirs(dir: &Path) -> Result<Vec<(String, std::path::PathBuf)>, OutputError> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(OutputError::io(dir, e)),
    };
    let mut out = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| OutputError::io(dir, e))?;
        let is_dir = entry
            .file_type()
            .map_err(|e| OutputError::io(entry.path(), e))?
            .is_dir();
        let Ok(name) = entry.file_name().into_string() else {
            continue;
        };
        if is_dir && PlainName::parse("folder", &name).is_ok() {
            out.push((name, entry.path()));
        }
    }
    out.sort();
    Ok(out)
}

/// One folder as the listing shows it, with its sort time.
fn describe(customer: &str, folder: &str, dir: &Path) -> (OffsetDateTime, OutputEntry) {
    let mut problems = Vec::new();
    let manifest = match read_manifest(dir) {
        Ok(Some(m)) => m,
        Ok(None) => {
            problems.push(format!("no {MANIFEST_JSON}"));
            ManifestView::default()
        }
        Err(problem) => {
            problems.push(problem);
            ManifestView::default()
        }
    };
    let has_checksums = [CHECKSUM_MD5, CHECKSUM_SHA256]
        .iter()
        .all(|name| dir.join(name).is_file());
    if !has_checksums {
        problems.push(format!("{CHECKSUM_MD5} or {CHECKSUM_SHA256} is missing"));
    }
    let variants = manifest
        .variants()
        .iter()
        .map(|v| variant_entry(dir, v, &mut problems))
        .collect();

    let built = manifest
        .job
        .built_at
        .as_deref()
        .and_then(|t| OffsetDateTime::parse(t, &Rfc3339).ok());
    let when = built.unwrap_or_else(|| modified(dir));
    let entry = OutputEntry {
        customer: customer.to_string(),
        folder: folder.to_string(),
        path: format!("{customer}/{folder}"),
        job_id: manifest.job.job_id.clone(),
        board: manifest
            .job
            .motherboard_model
            .clone()
            .or_else(|| board_from_folder(folder)),
        created_at: when.format(&Rfc3339).ok(),
        failed_validation: folder.ends_with(FAILED_SUFFIX),
        variants,
        has_checksums,
        problems,
    };
    (when, entry)
}

fn variant_entry(dir: &Path, v: &VariantView, problems: &mut Vec<String>) -> VariantEntry {
    VariantEntry {
        variant: v.name().to_string(),
        image_file: v.image_file.clone(),
        size: on_disk(dir, &v.image_file, problems).or(v.size),
        sha256: v.sha256.clone(),
        md5: v.md5.clone(),
        iso: v.iso.as_ref().map(|iso| FileEntry {
            file: iso.file.clone(),
            size: on_disk(dir, &iso.file, problems).or(iso.size),
            sha256: iso.sha256.clone(),
            md5: iso.md5.clone(),
        }),
    }
}

/// Size of the plain file `name` in `dir`; a problem when the manifest names something
/// that is not there.
fn on_disk(dir: &Path, name: &str, problems: &mut Vec<String>) -> Option<u64> {
    let meta = PlainName::parse("file", name)
        .ok()
        .and_then(|n| std::fs::symlink_metadata(dir.join(n)).ok())
        .filter(std::fs::Metadata::is_file);
    if meta.is_none() {
        problems.push(format!(
            "{MANIFEST_JSON} names {name:?}, which is not a file in the folder"
        ));
    }
    meta.map(|m| m.len())
}

fn modified(dir: &Path) -> OffsetDateTime {
    std::fs::metadata(dir)
        .and_then(|m| m.modified())
        .unwrap_or(SystemTime::UNIX_EPOCH)
        .into()
}

/// The board of the default folder name `<YYYYMMDD_HHMMSS>_<board>`, for folders
/// without a readable manifest.
fn board_from_folder(folder: &str) -> Option<String> {
    let name = folder.strip_suffix(FAILED_SUFFIX).unwrap_or(folder);
    let stamp = name.get(..15)?;
    let shaped = stamp.bytes().enumerate().all(|(i, b)| {
        if i == 8 {
            b == b'_'
        } else {
            b.is_ascii_digit()
        }
    });
    let board = name
        .get(16..)
        .filter(|_| name.as_bytes().get(15) == Some(&b'_'))?;
    (shaped && !board.is_empty()).then(|| board.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn board_is_taken_from_default_folder_names_only() {
        assert_eq!(
            board_from_folder("20250102_030405_X13SAW").as_deref(),
            Some("X13SAW")
        );
        assert_eq!(
            board_from_folder("20250102_030405_X13SAW_FAILED_VALIDATION").as_deref(),
            Some("X13SAW")
        );
        for other in [
            "custom",
            "20250102_030405_",
            "2025010x_030405_B",
            "20250102-030405_B",
        ] {
            assert_eq!(board_from_folder(other), None, "{other}");
        }
    }
}

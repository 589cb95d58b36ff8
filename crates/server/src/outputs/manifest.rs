//! What the API needs from an output folder's `manifest.json` and checksum files.
//!
//! The view is lenient on purpose: it takes the few fields it uses, ignores the rest,
//! and reads format 1 (one `output` object) as well as format 2 (an `outputs` list), so
//! older folders stay listable and downloadable while the full manifest grows.

use std::collections::HashMap;
use std::io::Read;
use std::path::Path;

use serde::Deserialize;

/// Largest manifest read; real ones are a few kB.
pub const MAX_MANIFEST_BYTES: u64 = 16 * 1024 * 1024;
/// Largest checksum file read; real ones list a handful of files.
pub const MAX_CHECKSUM_BYTES: u64 = 1024 * 1024;

pub const MANIFEST_JSON: &str = "manifest.json";
pub const MANIFEST_TXT: &str = "manifest.txt";
pub const CHECKSUM_MD5: &str = "checksum.md5";
pub const CHECKSUM_SHA256: &str = "checksum.sha256";

/// The variant name of a job that asked for one deliverable.
const DEFAULT_VARIANT: &str = "default";

#[derive(Debug, Clone, Default, Deserialize)]
pub struct ManifestView {
    #[serde(default)]
    pub job: JobView,
    /// Format 2.
    #[serde(default)]
    outputs: Vec<VariantView>,
    /// Format 1.
    #[serde(default)]
    output: Option<VariantView>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct JobView {
    pub job_id: Option<String>,
    pub customer_name: Option<String>,
    pub motherboard_model: Option<String>,
    pub created_at: Option<String>,
    pub built_at: Option<String>,
}

/// One deliverable: a WIM and maybe its ISO.
#[derive(Debug, Clone, Deserialize)]
pub struct VariantView {
    #[serde(default)]
    variant: Option<String>,
    pub image_file: String,
    pub size: Option<u64>,
    pub md5: Option<String>,
    pub sha256: Option<String>,
    #[serde(default)]
    pub iso: Option<IsoView>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct IsoView {
    pub file: String,
    pub size: Option<u64>,
    pub md5: Option<String>,
    pub sha256: Option<String>,
}

impl ManifestView {
    /// The deliverables, in manifest order (the first is the default download).
    pub fn variants(&self) -> &[VariantView] {
        if self.outputs.is_empty() {
            self.output.as_slice()
        } else {
            &self.outputs
        }
    }
}

impl VariantView {
    /// `key`, `nokey` or `default`.
    pub fn name(&self) -> &str {
        self.variant.as_deref().unwrap_or(DEFAULT_VARIANT)
    }
}

/// Read `manifest.json` of a folder: `Ok(None)` when there is none, `Err` with a
/// readable problem when it cannot be read or parsed.
pub fn read_manifest(folder: &Path) -> Result<Option<ManifestView>, String> {
    let path = folder.join(MANIFEST_JSON);
    let bytes = match read_bounded(&path, MAX_MANIFEST_BYTES) {
        Ok(Some(bytes)) => bytes,
        Ok(None) => return Ok(None),
        Err(problem) => return Err(format!("{MANIFEST_JSON}: {problem}")),
    };
    serde_json::from_slice(&bytes)
        .map(Some)
        .map_err(|e| format!("{MANIFEST_JSON}: {e}"))
}

/// The `name → hash` lines of a checksum file (`<hash> *<name>` or `<hash>  <name>`),
/// hashes lower-cased. Missing, unreadable or oversized files give an empty map: the
/// hashes only improve validators, and serving does not depend on them.
pub fn read_checksums(path: &Path) -> HashMap<String, String> {
    let Ok(Some(bytes)) = read_bounded(path, MAX_CHECKSUM_BYTES) else {
        return HashMap::new();
    };
    String::from_utf8_lossy(&bytes)
        .lines()
        .filter_map(|line| {
            let (hash, rest) = line.trim_end().split_once(' ')?;
            let name = rest.trim_start_matches([' ', '*']);
            let hex = !hash.is_empty() && hash.bytes().all(|b| b.is_ascii_hexdigit());
            (hex && !name.is_empty()).then(|| (name.to_string(), hash.to_ascii_lowercase()))
        })
        .collect()
}

/// The whole file when it is at most `limit` bytes; `Ok(None)` when it does not exist.
/// A link is refused like anything else that is not a regular file: the folder's own
/// records are never read from elsewhere.
fn read_bounded(path: &Path, limit: u64) -> Result<Option<Vec<u8>>, String> {
    match std::fs::symlink_metadata(path) {
        Ok(meta) if meta.is_file() => {}
        Ok(_) => return Err("not a regular file".to_string()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e.to_string()),
    }
    let file = match std::fs::File::open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e.to_string()),
    };
    let mut bytes = Vec::new();
    file.take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| e.to_string())?;
    if bytes.len() as u64 > limit {
        return Err(format!("larger than {limit} bytes; not read"));
    }
    Ok(Some(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_one_and_two_manifests_give_their_variants() {
        let two: ManifestView = serde_json::from_str(
            r#"{"format": 2, "job": {"job_id": "j", "extra": 1},
                "outputs": [{"variant": "key", "image_file": "a_key.wim", "size": 3,
                             "iso": {"file": "a_key.iso", "size": 9}},
                            {"variant": "nokey", "image_file": "a_nokey.wim"}]}"#,
        )
        .unwrap();
        let names: Vec<_> = two.variants().iter().map(VariantView::name).collect();
        assert_eq!(names, ["key", "nokey"]);
        assert_eq!(two.variants()[0].iso.as_ref().unwrap().file, "a_key.iso");
        assert_eq!(two.job.job_id.as_deref(), Some("j"));

        let one: ManifestView =
            serde_json::from_str(r#"{"format": 1, "output": {"image_file": "install.wim"}}"#)
                .unwrap();
        assert_eq!(one.variants().len(), 1);
        assert_eq!(one.variants()[0].name(), "default");
        assert!(ManifestView::default().variants().is_empty());
    }

    #[test]
    fn checksum_lines_in_both_styles_are_read_and_junk_is_skipped() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("checksum.sha256");
        std::fs::write(
            &path,
            "ABCDEF *install.wim\n0123  manifest.json\nnot a hash line\n\nzz *x\n",
        )
        .unwrap();
        let sums = read_checksums(&path);
        assert_eq!(sums.get("install.wim").map(String::as_str), Some("abcdef"));
        assert_eq!(sums.get("manifest.json").map(String::as_str), Some("0123"));
        assert_eq!(sums.len(), 2);
        assert!(read_checksums(&dir.path().join("absent")).is_empty());
    }

    #[test]
    fn missing_oversized_and_malformed_manifests_are_told_apart() {
        let dir = tempfile::tempdir().unwrap();
        assert!(read_manifest(dir.path()).unwrap().is_none());
        std::fs::write(dir.path().join(MANIFEST_JSON), b"{not json").unwrap();
        assert!(
            read_manifest(dir.path())
                .unwrap_err()
                .starts_with("manifest.json: ")
        );
        let big = vec![b' '; (MAX_MANIFEST_BYTES + 1) as usize];
        std::fs::write(dir.path().join(MANIFEST_JSON), big).unwrap();
        assert!(
            read_manifest(dir.path())
                .unwrap_err()
                .contains("larger than")
        );
        let outside = dir.path().join("elsewhere.json");
        std::fs::write(&outside, b"{}").unwrap();
        std::fs::remove_file(dir.path().join(MANIFEST_JSON)).unwrap();
        std::os::unix::fs::symlink(&outside, dir.path().join(MANIFEST_JSON)).unwrap();
        assert!(
            read_manifest(dir.path())
                .unwrap_err()
                .contains("not a regular file")
        );
    }
}

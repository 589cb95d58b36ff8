//! Finished builds under `8_Output/<customer>/<YYYYMMDD_HHMMSS>_<board>/`: what their
//! `manifest.json` says and how big they are. Their files are not hashed: each folder
//! carries `checksum.sha256`, which is the record of its content.

use std::collections::BTreeMap;
use std::io::Read;

use serde::Serialize;

use super::tree::Item;

/// Largest manifest read; real ones are a few kB.
const MAX_MANIFEST_BYTES: u64 = 16 * 1024 * 1024;

/// One output folder.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ScannedOutput {
    pub customer: String,
    pub folder: String,
    /// Repository-relative path of the folder.
    pub path: String,
    pub job_id: Option<String>,
    pub board: Option<String>,
    pub image_file: Option<String>,
    pub files: usize,
    /// Sum of the sizes of every file in the folder.
    pub size: u64,
    pub has_manifest: bool,
    pub has_checksums: bool,
    pub problems: Vec<String>,
}

/// Group the files below `8_Output/<customer>/<folder>/` into outputs. Files that sit
/// higher up are returned as unknown.
pub(crate) fn collect(files: Vec<Item>) -> (Vec<ScannedOutput>, Vec<Item>) {
    let mut groups: BTreeMap<(String, String), Vec<Item>> = BTreeMap::new();
    let mut unknown = Vec::new();
    for item in files {
        if item.parts.len() >= 4 {
            groups
                .entry((item.parts[1].clone(), item.parts[2].clone()))
                .or_default()
                .push(item);
        } else {
            unknown.push(item);
        }
    }
    let outputs = groups
        .into_iter()
        .map(|((customer, folder), items)| describe(customer, folder, &items))
        .collect();
    (outputs, unknown)
}

fn describe(customer: String, folder: String, items: &[Item]) -> ScannedOutput {
    let path = format!("8_Output/{customer}/{folder}");
    let top = |name: &str| {
        items
            .iter()
            .find(|i| i.parts.len() == 4 && i.parts[3].eq_ignore_ascii_case(name))
    };
    let mut out = ScannedOutput {
        board: folder
            .get(16..)
            .filter(|_| folder.as_bytes().get(15) == Some(&b'_'))
            .map(str::to_string),
        customer,
        folder,
        path,
        job_id: None,
        image_file: None,
        files: items.len(),
        size: items.iter().map(|i| i.size).sum(),
        has_manifest: false,
        has_checksums: top("checksum.sha256").is_some() && top("checksum.md5").is_some(),
        problems: Vec::new(),
    };
    if !out.has_checksums {
        out.problems
            .push("checksum.md5 or checksum.sha256 is missing".into());
    }
    let Some(manifest) = top("manifest.json") else {
        out.problems.push("no manifest.json".into());
        return out;
    };
    out.has_manifest = true;
    let mut bytes = Vec::new();
    let read = std::fs::File::open(&manifest.abs)
        .and_then(|f| f.take(MAX_MANIFEST_BYTES + 1).read_to_end(&mut bytes));
    if let Err(e) = read {
        out.problems.push(format!("manifest.json: {e}"));
        return out;
    }
    if bytes.len() as u64 > MAX_MANIFEST_BYTES {
        out.problems.push(format!(
            "manifest.json is larger than {MAX_MANIFEST_BYTES} bytes; not read"
        ));
        return out;
    }
    let value: serde_json::Value = match serde_json::from_slice(&bytes) {
        Ok(v) => v,
        Err(e) => {
            out.problems.push(format!("manifest.json: {e}"));
            return out;
        }
    };
    let text = |a: &str, b: &str| value[a][b].as_str().map(str::to_string);
    out.job_id = text("job", "job_id");
    if let Some(board) = text("job", "motherboard_model") {
        out.board = Some(board);
    }
    out.image_file = text("output", "image_file");
    match text("job", "customer_name") {
        Some(c) if c != out.customer => out.problems.push(format!(
            "manifest.json names customer {c:?} but the folder is under {:?}",
            out.customer
        )),
        _ => {}
    }
    if out.job_id.is_none() {
        out.problems.push("manifest.json has no job.job_id".into());
    }
    if let Some(image) = &out.image_file {
        if top(image).is_none() {
            out.problems.push(format!(
                "manifest.json names {image:?}, which is not in the folder"
            ));
        }
    }
    out
}

//! `manifest.json` and `manifest.txt`: what went into the image, where it was staged,
//! and how and when Windows applies each component.

use serde::Serialize;
use wait_store::Resource;

use crate::checksum::FileDigests;

/// One file WAIT placed inside the image.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct StagedFile {
    /// Path inside the image, '/'-separated.
    pub image_path: String,
    pub size: u64,
    /// SHA-1 as libwim records it, so validation can compare without extracting.
    pub sha1: String,
    pub sha256: String,
}

/// A component and how Windows will apply it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct ComponentEntry {
    pub kind: String,
    pub name: String,
    /// Where it sits in the image.
    pub staged_at: String,
    /// The mechanism that applies it.
    pub how: String,
    /// When that happens.
    pub when: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct ManifestJob {
    pub job_id: String,
    pub customer_name: String,
    pub motherboard_model: String,
    pub created_by: Option<String>,
    pub created_at: String,
    pub built_at: String,
    pub attempt: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct ManifestBaseImage {
    pub file: String,
    pub index: u32,
    pub name: String,
    pub edition: Option<String>,
    pub version: Option<String>,
    pub build: Option<u32>,
    pub arch: Option<String>,
    pub languages: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct ManifestOutput {
    pub folder: String,
    pub image_file: String,
    pub image_name: String,
    pub compression: String,
    pub size: u64,
    pub md5: String,
    pub sha256: String,
}

/// The whole manifest. `manifest.json` is this struct; `manifest.txt` renders it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Manifest {
    pub format: u32,
    pub tool: String,
    pub job: ManifestJob,
    pub base_image: ManifestBaseImage,
    pub output: ManifestOutput,
    pub inputs: Vec<Resource>,
    pub components: Vec<ComponentEntry>,
    pub staged_files: Vec<StagedFile>,
    /// Masked: only the last group is shown.
    pub product_key: Option<String>,
    pub warnings: Vec<String>,
    pub notes: Vec<String>,
}

impl ManifestOutput {
    pub(crate) fn new(
        folder: String,
        image_name: String,
        compression: &str,
        d: &FileDigests,
    ) -> Self {
        Self {
            folder,
            image_file: crate::IMAGE_FILE.to_string(),
            image_name,
            compression: compression.to_string(),
            size: d.size,
            md5: d.md5.clone(),
            sha256: d.sha256.clone(),
        }
    }
}

impl Manifest {
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
    }

    pub fn to_text(&self) -> String {
        let mut t = String::new();
        let mut line = |s: String| {
            t.push_str(&s);
            t.push('\n');
        };
        line("WAIT build manifest".into());
        line("===================".into());
        line(format!("Job ID:        {}", self.job.job_id));
        line(format!("Customer:      {}", self.job.customer_name));
        line(format!("Motherboard:   {}", self.job.motherboard_model));
        line(format!(
            "Created by:    {}",
            self.job.created_by.as_deref().unwrap_or("-")
        ));
        line(format!("Created at:    {}", self.job.created_at));
        line(format!("Built at:      {}", self.job.built_at));
        line(format!("Attempt:       {}", self.job.attempt));
        line(String::new());
        line("Base image".into());
        line("----------".into());
        let b = &self.base_image;
        line(format!("File:          {}", b.file));
        line(format!("Index:         {} ({})", b.index, b.name));
        line(format!(
            "Edition:       {}",
            b.edition.as_deref().unwrap_or("-")
        ));
        line(format!(
            "Version:       {}",
            b.version.as_deref().unwrap_or("-")
        ));
        line(format!(
            "Architecture:  {}",
            b.arch.as_deref().unwrap_or("-")
        ));
        line(format!("Languages:     {}", b.languages.join(", ")));
        line(String::new());
        line("Output".into());
        line("------".into());
        let o = &self.output;
        line(format!("Folder:        {}", o.folder));
        line(format!(
            "Image file:    {} ({} bytes)",
            o.image_file, o.size
        ));
        line(format!("Image name:    {}", o.image_name));
        line(format!("Compression:   {}", o.compression));
        line(format!("MD5:           {}", o.md5));
        line(format!("SHA-256:       {}", o.sha256));
        line(format!(
            "Product key:   {}",
            self.product_key.as_deref().unwrap_or("none")
        ));
        line(String::new());
        line("Components (how and when Windows applies them)".into());
        line("----------------------------------------------".into());
        for c in &self.components {
            line(format!("[{}] {}", c.kind, c.name));
            line(format!("    staged at: {}", c.staged_at));
            line(format!("    how:       {}", c.how));
            line(format!("    when:      {}", c.when));
        }
        line(String::new());
        line("Inputs".into());
        line("------".into());
        for r in &self.inputs {
            line(format!(
                "{:<12} {}  {:>12}  {}",
                r.kind, r.sha256, r.size, r.path
            ));
        }
        line(String::new());
        line(format!("Staged files ({})", self.staged_files.len()));
        line("------------".into());
        for f in &self.staged_files {
            line(format!("{}  {:>10}  {}", f.sha256, f.size, f.image_path));
        }
        if !self.warnings.is_empty() {
            line(String::new());
            line("Warnings".into());
            line("--------".into());
            for w in &self.warnings {
                line(format!("- {w}"));
            }
        }
        line(String::new());
        line("Notes".into());
        line("-----".into());
        for n in &self.notes {
            line(format!("- {n}"));
        }
        t
    }
}

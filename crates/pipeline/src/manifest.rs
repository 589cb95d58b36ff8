//! `manifest.json` and `manifest.txt`: what went into the image, where it was staged,
//! and how and when Windows applies each component.

use serde::Serialize;
use wait_store::Resource;

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
    /// For an ISO base image: the install image inside it (`sources/install.wim`).
    pub install_image: Option<String>,
}

/// One answer-file section WAIT planned, addressable by XPath as
/// `/unattend/settings[@pass=PASS]/component[@name=COMPONENT]/ELEMENT` (namespaces aside).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct PlannedSection {
    pub pass: String,
    pub component: String,
    /// The child element of the component, e.g. `DriverPaths`, `ProductKey`.
    pub element: String,
}

/// The bootable ISO of one output variant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct ManifestIso {
    pub file: String,
    pub size: u64,
    pub md5: String,
    pub sha256: String,
    pub label: String,
    /// Paths inside the ISO of the El Torito boot images.
    pub bios_boot: String,
    pub uefi_boot: String,
    /// Paths inside the ISO of the install image file(s).
    pub install_files: Vec<String>,
    /// SHA-256 of `autounattend.xml` at the media root, when one was placed.
    pub autounattend_sha256: Option<String>,
    /// The sections planned in that `autounattend.xml`.
    pub autounattend_sections: Vec<PlannedSection>,
    /// `$WinPEDriver$` folder on the media holding storage and network drivers, if any.
    pub winpe_drivers: Option<String>,
}

/// One deliverable: a WIM (and optionally its ISO). `key_variants: "both"` gives two.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct ManifestOutput {
    /// `key`, `nokey`, or `default` when the job asked for one variant.
    pub variant: String,
    /// `<customer>/<folder>`, relative to `8_Output/`.
    pub folder: String,
    pub image_file: String,
    pub image_name: String,
    pub compression: String,
    pub size: u64,
    pub md5: String,
    pub sha256: String,
    /// Masked product key in this variant's answer files, if any.
    pub product_key: Option<String>,
    /// SHA-256 over the sorted `path` + file hash list of the image (see
    /// [`crate::content_digest`]); equal inputs give an equal digest.
    pub content_digest: String,
    /// This variant's `Windows/Panther/unattend.xml` inside the image.
    pub unattend: StagedFile,
    /// The sections planned in that answer file.
    pub answer_sections: Vec<PlannedSection>,
    pub iso: Option<ManifestIso>,
}

/// What runs at first boot and which image files it needs.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct FirstBoot {
    /// Image path of the script (`/Windows/Setup/Scripts/SetupComplete.cmd`).
    pub script: String,
    /// Where `.msu` updates and software install commands run: `SetupComplete.cmd` or
    /// `FirstLogonCommands`.
    pub software_runs_from: String,
    /// Windows paths the script and the answer-file commands reference.
    pub references: Vec<String>,
}

/// WinRE as found in the image, and what was done to it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct ManifestWinre {
    /// Image path, or None when the image carries no WinRE.
    pub path: Option<String>,
    pub size: Option<u64>,
    pub build: Option<u32>,
    pub languages: Vec<String>,
    pub compression: Option<String>,
    /// Size after recompression, when the job asked for it.
    pub recompressed_size: Option<u64>,
    /// Compression WinRE was rewritten with, when the job asked for it.
    #[serde(default)]
    pub recompressed_to: Option<String>,
    pub note: String,
}

/// How long one build stage took.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct StageTiming {
    pub stage: String,
    pub seconds: f64,
}

/// The whole manifest. `manifest.json` is this struct; `manifest.txt` renders it.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct Manifest {
    /// 2 since outputs became a list (key variants, ISO).
    pub format: u32,
    pub tool: String,
    pub job: ManifestJob,
    pub base_image: ManifestBaseImage,
    pub outputs: Vec<ManifestOutput>,
    pub inputs: Vec<Resource>,
    pub components: Vec<ComponentEntry>,
    /// Files WAIT placed in every output image (each variant's unattend.xml is listed
    /// on its output instead).
    pub staged_files: Vec<StagedFile>,
    pub first_boot: FirstBoot,
    pub winre: Option<ManifestWinre>,
    /// Conflicts between the customer's answer file and the generated sections, and
    /// how each was settled.
    pub answer_conflicts: Vec<String>,
    pub timings: Vec<StageTiming>,
    /// Masked: only the last group is shown.
    pub product_key: Option<String>,
    pub warnings: Vec<String>,
    pub notes: Vec<String>,
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
        if let Some(inner) = &b.install_image {
            line(format!("Inside ISO:    {inner}"));
        }
        for o in &self.outputs {
            line(String::new());
            let title = format!("Output ({})", o.variant);
            line(title.clone());
            line("-".repeat(title.len()));
            line(format!("Folder:        {}", o.folder));
            line(format!(
                "Image file:    {} ({} bytes)",
                o.image_file, o.size
            ));
            line(format!("Image name:    {}", o.image_name));
            line(format!("Compression:   {}", o.compression));
            line(format!("MD5:           {}", o.md5));
            line(format!("SHA-256:       {}", o.sha256));
            line(format!("Content hash:  {}", o.content_digest));
            line(format!(
                "Product key:   {}",
                o.product_key.as_deref().unwrap_or("none")
            ));
            let sections: Vec<String> = o
                .answer_sections
                .iter()
                .map(|s| format!("{}/{}/{}", s.pass, s.component, s.element))
                .collect();
            line(format!("Answer file:   {}", sections.join(", ")));
            if let Some(iso) = &o.iso {
                line(format!("ISO:           {} ({} bytes)", iso.file, iso.size));
                line(format!("ISO SHA-256:   {}", iso.sha256));
                line(format!("ISO label:     {}", iso.label));
                line(format!(
                    "Boot images:   BIOS {}, UEFI {}",
                    iso.bios_boot, iso.uefi_boot
                ));
                line(format!(
                    "autounattend:  {}",
                    if iso.autounattend_sha256.is_some() {
                        "at the media root"
                    } else {
                        "none"
                    }
                ));
                if let Some(d) = &iso.winpe_drivers {
                    line(format!("WinPE drivers: {d}"));
                }
            }
        }
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
        line("First boot".into());
        line("----------".into());
        line(format!("Script:        {}", self.first_boot.script));
        line(format!(
            "Software from: {}",
            self.first_boot.software_runs_from
        ));
        for r in &self.first_boot.references {
            line(format!("  uses {r}"));
        }
        if let Some(w) = &self.winre {
            line(String::new());
            line("WinRE".into());
            line("-----".into());
            line(format!(
                "Path:          {}",
                w.path.as_deref().unwrap_or("none")
            ));
            if let Some(size) = w.size {
                line(format!("Size:          {size} bytes"));
            }
            if let Some(size) = w.recompressed_size {
                let to = w.recompressed_to.as_deref().unwrap_or("?");
                line(format!("Recompressed:  {size} bytes ({to})"));
            }
            line(format!("Note:          {}", w.note));
        }
        if !self.answer_conflicts.is_empty() {
            line(String::new());
            line("Answer-file conflicts".into());
            line("---------------------".into());
            for c in &self.answer_conflicts {
                line(format!("- {c}"));
            }
        }
        line(String::new());
        line("Stage timings".into());
        line("-------------".into());
        for t in &self.timings {
            line(format!("{:<14} {:>9.2} s", t.stage, t.seconds));
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

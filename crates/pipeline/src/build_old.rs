//! The build stages: resolve → source/export → stage drivers → answer file and first-boot
//! script → write → checksums and manifest → publish.

use std::path::{Path, PathBuf};

use time::OffsetDateTime;
use wait_catalog::{ImageIdentity, Repository};
use wait_store::{Job, Resource};
use wait_wim::{
    Compression, ImageSelector, Progress, ProgressControl, Stage, UpdateCommand, Wim, WriteOptions,
};

use crate::build_manifest::build_manifest;
use crate::checksum::{digest_file, staged_digest, write_checksum_files, write_synced};
use crate::manifest::StagedFile;

use crate::plan::{
    file_name_of, plan_components, setupcomplete_may_be_skipped, staged_location, switches_sidecar,
};
use crate::report::Reporter;
use crate::resolve::{Hasher, resolve};
use crate::setupcomplete::{self, SetupCompletePlan};
use crate::unattend::{
    DriverPath, FirstLogonCommand, UnattendPlan, merge_answer_file, render_unattend,
};
use crate::{
    IMAGE_DRIVER_ROOT, IMAGE_FILE, IMAGE_SETUPCOMPLETE_PATH, IMAGE_UNATTEND_PATH,
    WINDOWS_DRIVER_ROOT,
};
use crate::{PipelineError, publish};

/// What a successful build hands to the validation stage and the job record.
#[derive(Debug, Clone)]
pub(crate) struct BuildOutcome {
    /// `<customer>/<folder>`, relative to `8_Output/`.
    pub output_dir: String,
    pub output_files: Vec<String>,
    pub resources: Vec<Resource>,
    pub warnings: Vec<String>,
}

/// Output files in the order they are listed on the job.
const OUTPUT_FILES: [&str; 5] = [
    IMAGE_FILE,
    "manifest.txt",
    "manifest.json",
    "checksum.md5",
    "checksum.sha256",
];

pub(crate) fn run(
    job: &Job,
    repo: &Repository,
    work_dir: &Path,
    hash_cache: Option<&Path>,
    r: &Reporter,
) -> Result<BuildOutcome, PipelineError> {
    let mut warnings = Vec::new();
    r.progress("resolve", 1);
    let mut hasher = Hasher::new(hash_cache);
    let resolved = resolve(job, repo, r, &mut warnings, &mut hasher);
    hasher.save(r);
    let resolved = resolved?;
    r.check_cancel()?;

    let req = &job.request;
    let customer_dir = repo.output_root().join(&req.customer_name);
    std::fs::create_dir_all(&customer_dir).map_err(|e| PipelineError::io(&customer_dir, e))?;
    let job_id = job.job_id.to_string();
    for stale in publish::remove_stale_partials(&customer_dir, &job_id) {
        r.info(
            "source",
            format!(
                "Removed the unfinished folder of an earlier attempt: {}",
                stale.display()
            ),
        );
    }
    let partial = PartialDir::create(publish::partial_dir(&customer_dir, &job_id, job.attempt))?;
    std::fs::create_dir_all(work_dir).map_err(|e| PipelineError::io(work_dir, e))?;
    // Host files added to the image are read when the WIM is written, so this folder
    // lives until the end of the build.
    let scratch = tempfile::Builder::new()
        .prefix(&format!("job-{job_id}-"))
        .tempdir_in(work_dir)
        .map_err(|e| PipelineError::io(work_dir, e))?;

    let compression = parse_compression(&req.compression)?;
    r.progress("source", 5);
    r.info(
        "source",
        format!(
            "Opening {} and exporting index {} ({})",
            req.base_image, resolved.identity.index, resolved.identity.name
        ),
    );
    // The base image is changed in memory only (it is never written back), then
    // exported: libwim refuses to modify an image once two WIMs share it.
    let mut src = Wim::open(&resolved.base_path)
        .map_err(|e| PipelineError::wim(format!("open 1_BaseImages/{}", req.base_image), e))?;
    let index = resolved.identity.index;

    r.progress("drivers", 8);
    let set = &resolved.driver_set;
    r.info(
        "drivers",
        format!(
            "Staging driver set {} ({} INF files, {} files) at {}",
            set.path,
            set.inf_count,
            resolved.driver_files.len(),
            IMAGE_DRIVER_ROOT
        ),
    );
    let set_dir = repo.root().join(&set.path);
    let mut commands = vec![UpdateCommand::Add {
        source: set_dir,
        target: IMAGE_DRIVER_ROOT.to_string(),
    }];

    let mut component_files: Vec<PathBuf> = Vec::new();
    for c in &resolved.components {
        let (target, _) = staged_location(c.kind, file_name_of(c));
        r.info("packages", format!("Staging {} at {target}", c.rel));
        commands.push(UpdateCommand::Add {
            source: c.path.clone(),
            target: target.clone(),
        });
        component_files.push(c.path.clone());
        if let Some(sidecar) = switches_sidecar(c) {
            let (target, _) = staged_location(c.kind, &format!("{}.switches", file_name_of(c)));
            commands.push(UpdateCommand::Add {
                source: sidecar,
                target,
            });
        }
    }
    let key_set = req.product_key.is_some() && req.key_variants != "nokey";
    let software_at_logon = setupcomplete_may_be_skipped(&resolved.identity, key_set);
    let component_plan = plan_components(&resolved.components, software_at_logon)?;
    if software_at_logon && !component_plan.commands.is_empty() {
        r.info("answer-file", "A product key is set and the edition is neither Enterprise nor Server, so SetupComplete.cmd may be skipped: software goes to FirstLogonCommands");
    }
    if key_set && software_at_logon && !component_plan.dism.is_empty() {
        let w = "the .msu updates are applied by SetupComplete.cmd, which Windows skips when an OEM product key is used on this edition".to_string();
        r.info("answer-file", format!("Warning: {w}"));
        warnings.push(w);
    }

    r.progress("answer-file", 10);
    let existing = ExistingFiles::probe(&src, index)?;
    if existing.unattend {
        let w = format!("the base image already had {IMAGE_UNATTEND_PATH}; it was replaced");
        r.info("answer-file", format!("Warning: {w}"));
        warnings.push(w);
    }
    let plan = UnattendPlan {
        arch: unattend_arch(&resolved.identity),
        driver_paths: vec![DriverPath {
            path: WINDOWS_DRIVER_ROOT.to_string(),
        }],
        product_key: req
            .product_key
            .clone()
            .filter(|_| req.key_variants != "nokey"),
        servicing: component_plan.servicing.clone(),
        first_logon: if software_at_logon {
            component_plan
                .commands
                .iter()
                .map(|(d, c)| FirstLogonCommand {
                    command_line: c.clone(),
                    description: d.clone(),
                })
                .collect()
        } else {
            Vec::new()
        },
    };
    let unattend_xml = match &resolved.answer {
        Some((rel, text)) => {
            r.info(
                "answer-file",
                format!("Merging driver paths into answer file {rel}"),
            );
            merge_answer_file(text, rel, &plan)?
        }
        None => render_unattend(&plan)?,
    };
    let unattend_host = scratch.path().join("unattend.xml");
    write_synced(&unattend_host, unattend_xml.as_bytes())?;
    commands.push(UpdateCommand::Add {
        source: unattend_host,
        target: IMAGE_UNATTEND_PATH.to_string(),
    });

    let chained = format!("/Windows/Setup/Scripts/{}", setupcomplete::CHAINED_NAME);
    if existing.setupcomplete {
        r.info("answer-file", format!("The base image has its own SetupComplete.cmd; it is kept as {chained} and called first"));
        commands.push(UpdateCommand::Rename {
            from: IMAGE_SETUPCOMPLETE_PATH.to_string(),
            to: chained,
        });
    }
    let script = setupcomplete::render(&SetupCompletePlan {
        job_id: &job_id,
        board: &req.motherboard_model,
        driver_root: Some(WINDOWS_DRIVER_ROOT),
        chain_existing: existing.setupcomplete,
        dism_packages: component_plan.dism.clone(),
        commands: if software_at_logon {
            Vec::new()
        } else {
            component_plan.commands.clone()
        },
    });
    let script_host = scratch.path().join("SetupComplete.cmd");
    write_synced(&script_host, script.as_bytes())?;
    commands.push(UpdateCommand::Add {
        source: script_host,
        target: IMAGE_SETUPCOMPLETE_PATH.to_string(),
    });
    src.update_image(index, &commands)
        .map_err(|e| PipelineError::wim("stage files into the image", e))?;
    r.check_cancel()?;
    let mut dest =
        Wim::create_new(compression).map_err(|e| PipelineError::wim("create the output WIM", e))?;
    dest.export_image_from(&src, index, None)
        .map_err(|e| PipelineError::wim(format!("export index {index}"), e))?;

    let mut staged: Vec<StagedFile> = resolved
        .driver_files
        .iter()
        .map(|(_, s)| s.clone())
        .collect();
    for c in &resolved.components {
        let mut files = vec![(c.path.clone(), file_name_of(c).to_string())];
        if let Some(sidecar) = switches_sidecar(c) {
            files.push((sidecar, format!("{}.switches", file_name_of(c))));
        }
        for (host, file) in files {
            let (image_path, _) = staged_location(c.kind, &file);
            let (size, sha1, sha256) = staged_digest(&host)?;
            staged.push(StagedFile {
                image_path,
                size,
                sha1,
                sha256,
            });
        }
    }
    for (host, image_path) in [
        (scratch.path().join("unattend.xml"), IMAGE_UNATTEND_PATH),
        (
            scratch.path().join("SetupComplete.cmd"),
            IMAGE_SETUPCOMPLETE_PATH,
        ),
    ] {
        let (size, sha1, sha256) = staged_digest(&host)?;
        staged.push(StagedFile {
            image_path: image_path.to_string(),
            size,
            sha1,
            sha256,
        });
    }

    r.progress("write", 15);
    r.info(
        "write",
        format!("Writing {IMAGE_FILE} ({} compression)", req.compression),
    );
    let image_path = partial.path().join(IMAGE_FILE);
    let progress_reporter = r.clone();
    let cancel = r.cancel_flag();
    dest.set_progress(move |p: Progress| {
        if cancel.load(std::sync::atomic::Ordering::Relaxed) {
            return ProgressControl::Abort;
        }
        if p.stage == Stage::Write && p.total > 0 {
            let share = (p.done.min(p.total) * 60 / p.total) as u8;
            progress_reporter.progress("write", 15 + share);
        }
        ProgressControl::Continue
    });
    let opts = WriteOptions {
        compression: Some(compression),
        threads: 0,
        check_integrity: false,
        recompress: false,
        ..WriteOptions::default()
    };
    dest.write(&image_path, ImageSelector::All, &opts)
        .map_err(|e| PipelineError::wim(format!("write {IMAGE_FILE}"), e))?;
    dest.clear_progress();
    drop(dest);
    drop(src);
    r.check_cancel()?;

    r.progress("checksums", 75);
    r.info("checksums", "Computing MD5 and SHA-256 of the image");
    let total = std::fs::metadata(&image_path)
        .map_err(|e| PipelineError::io(&image_path, e))?
        .len()
        .max(1);
    let image_digests = digest_file(&image_path, |done| {
        r.progress("checksums", 75 + (done * 10 / total) as u8);
        !r.cancelled()
    })?;
    r.info(
        "checksums",
        format!(
            "{IMAGE_FILE}: {} bytes, sha256 {}",
            image_digests.size, image_digests.sha256
        ),
    );

    let now = OffsetDateTime::now_utc();
    let folder = crate::naming::output_folder_name(now, &req.motherboard_model);
    let manifest = build_manifest(
        job,
        &resolved,
        &folder,
        image_digests.clone(),
        (staged, component_plan.entries),
        &warnings,
        now,
    );
    write_synced(
        &partial.path().join("manifest.json"),
        manifest.to_json().as_bytes(),
    )?;
    write_synced(
        &partial.path().join("manifest.txt"),
        manifest.to_text().as_bytes(),
    )?;
    let mut sums = vec![(IMAGE_FILE.to_string(), image_digests)];
    for name in ["manifest.json", "manifest.txt"] {
        sums.push((
            name.to_string(),
            digest_file(&partial.path().join(name), |_| true)?,
        ));
    }
    write_checksum_files(partial.path(), &sums)?;
    r.check_cancel()?;

    r.progress("publish", 88);
    let published = publish::publish(partial.path(), &customer_dir, &folder)?;
    partial.disarm();
    let output_dir = format!("{}/{}", req.customer_name, published);
    r.info("publish", format!("Published 8_Output/{output_dir}"));
    Ok(BuildOutcome {
        output_dir,
        output_files: OUTPUT_FILES.iter().map(|s| s.to_string()).collect(),
        resources: resolved.resources,
        warnings,
    })
}

pub(crate) fn parse_compression(s: &str) -> Result<Compression, PipelineError> {
    match s {
        "lzx" => Ok(Compression::Lzx),
        "xpress" => Ok(Compression::Xpress),
        "lzms" => Ok(Compression::Lzms),
        "none" => Ok(Compression::None),
        other => Err(PipelineError::Permanent(format!(
            "compression: unknown value {other:?}"
        ))),
    }
}

fn unattend_arch(identity: &ImageIdentity) -> String {
    match identity.arch {
        Some(wait_catalog::Arch::X86) => "x86",
        Some(wait_catalog::Arch::Arm64) => "arm64",
        _ => "amd64",
    }
    .to_string()
}

/// Which of the files WAIT writes the base image already has.
struct ExistingFiles {
    unattend: bool,
    setupcomplete: bool,
}

impl ExistingFiles {
    fn probe(wim: &Wim<'_>, index: u32) -> Result<Self, PipelineError> {
        Ok(Self {
            unattend: exists_in_image(wim, index, IMAGE_UNATTEND_PATH)?,
            setupcomplete: exists_in_image(wim, index, IMAGE_SETUPCOMPLETE_PATH)?,
        })
    }
}

fn exists_in_image(wim: &Wim<'_>, index: u32, path: &str) -> Result<bool, PipelineError> {
    match wim.for_each_file(index, path, |_| false) {
        Ok(()) => Ok(true),
        Err(wait_wim::WimError::PathNotInImage { .. }) => Ok(false),
        Err(e) => Err(PipelineError::wim(format!("look up {path}"), e)),
    }
}

/// The job's private build folder, removed unless it was published.
struct PartialDir {
    path: PathBuf,
    armed: bool,
}

impl PartialDir {
    fn create(path: PathBuf) -> Result<Self, PipelineError> {
        std::fs::create_dir(&path).map_err(|e| PipelineError::io(&path, e))?;
        Ok(Self { path, armed: true })
    }

    fn path(&self) -> &Path {
        &self.path
    }

    fn disarm(mut self) {
        self.armed = false;
    }
}

impl Drop for PartialDir {
    fn drop(&mut self) {
        if self.armed {
            let _ = std::fs::remove_dir_all(&self.path);
        }
    }
}

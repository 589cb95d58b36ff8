//! The build stages: resolve → source/export → stage drivers → answer file and first-boot
//! script → write → checksums and manifest → publish.

use std::path::{Path, PathBuf};

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use wait_catalog::components::{ComponentDetail, ComponentKind, FoundComponent};
use wait_catalog::packages::PackageKind;
use wait_catalog::software::SoftwareKind;
use wait_catalog::{DriverSet, ImageIdentity, Repository};
use wait_store::{Job, Resource};
use wait_wim::{
    Compression, ImageSelector, Progress, ProgressControl, Stage, UpdateCommand, Wim, WriteOptions,
};

use crate::checksum::{digest_file, staged_digest, write_checksum_files, write_synced};
use crate::manifest::{
    ComponentEntry, Manifest, ManifestBaseImage, ManifestJob, ManifestOutput, StagedFile,
};
use crate::report::Reporter;
use crate::setupcomplete::{self, SetupCompletePlan};
use crate::unattend::{
    DriverPath, FirstLogonCommand, ServicingPackage, UnattendPlan, merge_answer_file,
    render_unattend,
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

/// Everything the resolve stage found, before any heavy work.
struct Resolved {
    base_path: PathBuf,
    identity: ImageIdentity,
    driver_set: DriverSet,
    driver_files: Vec<(PathBuf, StagedFile)>,
    answer: Option<(String, String)>,
    /// Language packs, then updates, then software, each in request order.
    components: Vec<FoundComponent>,
    resources: Vec<Resource>,
}

/// Where a component is staged: image path (for libwim) and Windows path.
fn staged_location(kind: ComponentKind, file: &str) -> (String, String) {
    let (image_dir, win_dir) = match kind {
        ComponentKind::LangPack => ("/WAIT/Packages/LangPacks", r"C:\WAIT\Packages\LangPacks"),
        ComponentKind::Update => ("/WAIT/Packages/Updates", r"C:\WAIT\Packages\Updates"),
        ComponentKind::Software => ("/WAIT/Software", r"C:\WAIT\Software"),
    };
    (format!("{image_dir}/{file}"), format!("{win_dir}\\{file}"))
}

/// The host file beside an `.exe` holding its silent switches, when there is one.
fn switches_sidecar(c: &FoundComponent) -> Option<PathBuf> {
    let ComponentDetail::Software(info) = &c.detail else {
        return None;
    };
    if info.kind != SoftwareKind::Exe {
        return None;
    }
    let mut name = c.path.as_os_str().to_owned();
    name.push(".switches");
    let path = PathBuf::from(name);
    path.is_file().then_some(path)
}

/// How the packages and software of a job reach the image.
#[derive(Default)]
struct ComponentPlan {
    servicing: Vec<ServicingPackage>,
    dism: Vec<String>,
    commands: Vec<(String, String)>,
    entries: Vec<ComponentEntry>,
}

/// SetupComplete.cmd is skipped when an OEM product key is used, except on Enterprise
/// and Server editions (SERVICING.md, "First-boot commands").
fn setupcomplete_may_be_skipped(identity: &ImageIdentity, product_key: bool) -> bool {
    if !product_key {
        return false;
    }
    let edition = identity
        .edition
        .as_deref()
        .unwrap_or("")
        .to_ascii_lowercase();
    !(edition.contains("enterprise") || edition.contains("server"))
}

fn plan_components(
    components: &[FoundComponent],
    software_at_logon: bool,
) -> Result<ComponentPlan, PipelineError> {
    let mut plan = ComponentPlan::default();
    for c in components {
        let field = c.kind.field();
        let (_, win) = staged_location(c.kind, file_name_of(c));
        match &c.detail {
            ComponentDetail::Package(info) => {
                let label = if c.kind == ComponentKind::LangPack {
                    "langpack"
                } else {
                    "update"
                };
                if info.kind == PackageKind::Cab {
                    let id = info.identity.as_ref().ok_or_else(|| {
                        PipelineError::Permanent(format!(
                            "{field}: {} has no assembly identity in update.mum",
                            c.rel
                        ))
                    })?;
                    plan.servicing.push(ServicingPackage {
                        name: id.name.clone(),
                        version: id.version.clone(),
                        processor_architecture: id.processor_architecture.clone(),
                        language: id.language.clone(),
                        public_key_token: id.public_key_token.clone(),
                        location: win.clone(),
                    });
                    plan.entries.push(ComponentEntry {
                        kind: label.into(),
                        name: c.rel.clone(),
                        staged_at: win,
                        how: format!(
                            "<servicing> package {} in Windows\\Panther\\unattend.xml",
                            id.dism_identity()
                        ),
                        when: "offlineServicing pass, when Windows Setup installs the image".into(),
                    });
                } else {
                    plan.dism.push(win.clone());
                    plan.entries.push(ComponentEntry {
                        kind: label.into(),
                        name: c.rel.clone(),
                        staged_at: win.clone(),
                        how: format!(
                            "dism /online /add-package /packagepath:\"{win}\" in SetupComplete.cmd"
                        ),
                        when:
                            "first boot (first-boot DISM), after Setup and before the first logon"
                                .into(),
                    });
                }
            }
            ComponentDetail::Software(info) => {
                let quoted = format!("\"{}\"", info.file);
                let command = match info.kind {
                    SoftwareKind::Appx | SoftwareKind::Msix => format!(
                        "powershell -NoProfile -ExecutionPolicy Bypass -Command \"Add-AppxProvisionedPackage -Online -PackagePath '{win}' -SkipLicense\""
                    ),
                    SoftwareKind::Msi | SoftwareKind::Exe => {
                        if info.default_command.contains(&quoted) {
                            info.default_command
                                .replacen(&quoted, &format!("\"{win}\""), 1)
                        } else if info.kind == SoftwareKind::Msi {
                            format!("msiexec /i \"{win}\" /qn /norestart")
                        } else {
                            format!("\"{win}\"")
                        }
                    }
                };
                let description = format!("WAIT: install {}", info.file);
                let (how, when) = if software_at_logon {
                    (
                        format!("Microsoft-Windows-Shell-Setup/FirstLogonCommands: {command}"),
                        "first administrator logon (oobeSystem FirstLogonCommands; SetupComplete.cmd is skipped with an OEM product key on this edition)",
                    )
                } else {
                    (
                        format!("first-boot command in SetupComplete.cmd: {command}"),
                        "first boot, after Setup and before the first logon",
                    )
                };
                plan.entries.push(ComponentEntry {
                    kind: "software".into(),
                    name: c.rel.clone(),
                    staged_at: win,
                    how,
                    when: when.into(),
                });
                plan.commands.push((description, command));
            }
        }
    }
    Ok(plan)
}

fn file_name_of(c: &FoundComponent) -> &str {
    c.rel.rsplit('/').next().unwrap_or(&c.rel)
}

pub(crate) fn run(
    job: &Job,
    repo: &Repository,
    work_dir: &Path,
    r: &Reporter,
) -> Result<BuildOutcome, PipelineError> {
    let mut warnings = Vec::new();
    r.progress("resolve", 1);
    let resolved = resolve(job, repo, r, &mut warnings)?;
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
        r.info("drivers", format!("Staging {} at {target}", c.rel));
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

fn resolve(
    job: &Job,
    repo: &Repository,
    r: &Reporter,
    warnings: &mut Vec<String>,
) -> Result<Resolved, PipelineError> {
    let req = &job.request;
    let base = repo.base_image(&req.base_image)?;
    let identity = wait_catalog::select_index(&base, &req.image_index)?;
    let base_path = repo.resolve("base_image", "1_BaseImages", &req.base_image)?;
    r.info(
        "resolve",
        format!(
            "Base image {} index {}: {} {} build {} {}",
            req.base_image,
            identity.index,
            identity.name,
            identity.edition.as_deref().unwrap_or("?"),
            identity.version.as_deref().unwrap_or("?"),
            identity.arch.map(|a| a.as_str()).unwrap_or("?"),
        ),
    );
    let driver_set = choose_driver_set(repo, req, &identity, r)?;

    let mut resources = Vec::new();
    r.info("resolve", format!("Hashing {}", req.base_image));
    let hashed = wait_catalog::hash_file(&base_path)?;
    resources.push(Resource {
        kind: "base_image".into(),
        path: format!("1_BaseImages/{}", req.base_image),
        sha256: hashed.sha256,
        size: hashed.size,
    });
    r.check_cancel()?;

    let set_dir = repo.root().join(&driver_set.path);
    let mut driver_files = Vec::new();
    for host in walk_files(&set_dir, warnings, r)? {
        let rel = host.strip_prefix(&set_dir).map_err(|_| {
            PipelineError::Permanent(format!(
                "{} is outside {}",
                host.display(),
                set_dir.display()
            ))
        })?;
        let rel = rel.to_string_lossy().replace('\\', "/");
        let (size, sha1, sha256) = staged_digest(&host)?;
        resources.push(Resource {
            kind: "driver".into(),
            path: format!("{}/{}", driver_set.path, rel),
            sha256: sha256.clone(),
            size,
        });
        r.verbose("resolve", || {
            format!("driver file {}/{rel} ({size} bytes)", driver_set.path)
        });
        driver_files.push((
            host,
            StagedFile {
                image_path: format!("{IMAGE_DRIVER_ROOT}/{rel}"),
                size,
                sha1,
                sha256,
            },
        ));
    }
    if driver_files.is_empty() {
        return Err(PipelineError::Permanent(format!(
            "driver_set: {} holds no files",
            driver_set.path
        )));
    }

    let answer = match &req.answer_file {
        Some(name) => {
            let rel = name.strip_prefix("5_AnswerFiles/").unwrap_or(name);
            let path = repo.resolve("answer_file", "5_AnswerFiles", rel)?;
            let text = read_text(&path)?;
            let hashed = wait_catalog::hash_file(&path)?;
            let shown = format!("5_AnswerFiles/{rel}");
            resources.push(Resource {
                kind: "answer_file".into(),
                path: shown.clone(),
                sha256: hashed.sha256,
                size: hashed.size,
            });
            Some((shown, text))
        }
        None => None,
    };
    let mut components = Vec::new();
    for (kind, names) in [
        (ComponentKind::LangPack, &req.langpacks),
        (ComponentKind::Update, &req.updates),
        (ComponentKind::Software, &req.software),
    ] {
        for name in names {
            let found = repo
                .locate_component(kind, &req.customer_name, name, &identity)
                .map_err(|e| PipelineError::Permanent(e.to_string()))?;
            r.info(
                "resolve",
                format!("{}: {} ({})", kind.field(), found.rel, found.reason),
            );
            let hashed = wait_catalog::hash_file(&found.path)?;
            resources.push(Resource {
                kind: kind.resource_kind().into(),
                path: found.rel.clone(),
                sha256: hashed.sha256,
                size: hashed.size,
            });
            let twice = components.iter().any(|c: &FoundComponent| {
                c.kind == kind && file_name_of(c) == file_name_of(&found)
            });
            if twice {
                return Err(PipelineError::Permanent(format!(
                    "{}: {name} is named twice",
                    kind.field()
                )));
            }
            components.push(found);
        }
    }
    r.info("resolve", format!("Recorded {} inputs", resources.len()));
    Ok(Resolved {
        base_path,
        identity,
        driver_set,
        driver_files,
        answer,
        components,
        resources,
    })
}

fn choose_driver_set(
    repo: &Repository,
    req: &wait_store::JobRequest,
    identity: &ImageIdentity,
    r: &Reporter,
) -> Result<DriverSet, PipelineError> {
    let board = &req.motherboard_model;
    if let Some(name) = &req.driver_set {
        let set = repo
            .driver_sets(board)?
            .into_iter()
            .find(|s| &s.name == name)
            .ok_or_else(|| {
                PipelineError::Permanent(format!(
                    "driver_set: {board}/{name} not found in 2_Drivers"
                ))
            })?;
        r.info(
            "resolve",
            format!("Driver set {} (chosen by the request)", set.path),
        );
        return Ok(set);
    }
    match repo.recommend_driver_set(board, identity)? {
        Some(rec) => {
            r.info(
                "resolve",
                format!(
                    "Driver set {} (recommended: {})",
                    rec.driver_set.path, rec.reason
                ),
            );
            Ok(rec.driver_set)
        }
        None => Err(PipelineError::Permanent(format!(
            "driver_set: no driver set of board {board} fits {} build {}",
            identity.arch.map(|a| a.as_str()).unwrap_or("unknown arch"),
            identity
                .build
                .map(|b| b.to_string())
                .unwrap_or_else(|| "unknown".into())
        ))),
    }
}

/// Regular files under `dir`, sorted, without following symlinks (a link in a driver
/// folder could point anywhere on the host, so it is skipped with a warning).
fn walk_files(
    dir: &Path,
    warnings: &mut Vec<String>,
    r: &Reporter,
) -> Result<Vec<PathBuf>, PipelineError> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let entries = std::fs::read_dir(&d).map_err(|e| PipelineError::io(&d, e))?;
        for entry in entries {
            let entry = entry.map_err(|e| PipelineError::io(&d, e))?;
            let ft = entry
                .file_type()
                .map_err(|e| PipelineError::io(entry.path(), e))?;
            if ft.is_dir() {
                stack.push(entry.path());
            } else if ft.is_file() {
                out.push(entry.path());
            } else {
                let w = format!("skipped {} (not a regular file)", entry.path().display());
                r.info("resolve", format!("Warning: {w}"));
                warnings.push(w);
            }
        }
    }
    out.sort();
    Ok(out)
}

/// Answer files are UTF-8, or UTF-16LE with a byte-order mark as some editors save them.
fn read_text(path: &Path) -> Result<String, PipelineError> {
    let bytes = std::fs::read(path).map_err(|e| PipelineError::io(path, e))?;
    if let Some(rest) = bytes.strip_prefix(&[0xFF, 0xFE]) {
        let units: Vec<u16> = rest
            .chunks_exact(2)
            .map(|c| u16::from_le_bytes([c[0], c[1]]))
            .collect();
        return String::from_utf16(&units)
            .map_err(|_| PipelineError::Permanent(format!("{}: invalid UTF-16", path.display())));
    }
    let bytes = bytes.strip_prefix(&[0xEF, 0xBB, 0xBF]).unwrap_or(&bytes);
    String::from_utf8(bytes.to_vec())
        .map_err(|_| PipelineError::Permanent(format!("{}: not UTF-8 or UTF-16LE", path.display())))
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

fn build_manifest(
    job: &Job,
    resolved: &Resolved,
    folder: &str,
    image: crate::FileDigests,
    (staged_files, component_entries): (Vec<StagedFile>, Vec<ComponentEntry>),
    warnings: &[String],
    now: OffsetDateTime,
) -> Manifest {
    let req = &job.request;
    let id = &resolved.identity;
    let rfc = |t: OffsetDateTime| t.format(&Rfc3339).unwrap_or_default();
    let mut components = vec![
        ComponentEntry {
            kind: "drivers".into(),
            name: resolved.driver_set.path.clone(),
            staged_at: WINDOWS_DRIVER_ROOT.into(),
            how: "Microsoft-Windows-PnpCustomizationsNonWinPE DriverPaths in Windows\\Panther\\unattend.xml".into(),
            when: "offlineServicing pass, when Windows Setup installs the image".into(),
        },
        ComponentEntry {
            kind: "drivers".into(),
            name: format!("{} (first-boot fallback)", resolved.driver_set.path),
            staged_at: WINDOWS_DRIVER_ROOT.into(),
            how: format!("pnputil /add-driver {WINDOWS_DRIVER_ROOT}\\*.inf /subdirs /install in SetupComplete.cmd"),
            when: "first boot, after Setup and before the first logon (also for images applied without Setup)".into(),
        },
        ComponentEntry {
            kind: "answer_file".into(),
            name: resolved.answer.as_ref().map(|(p, _)| format!("{p} (merged)")).unwrap_or_else(|| "generated".into()),
            staged_at: "C:\\Windows\\Panther\\unattend.xml".into(),
            how: "read by Windows Setup from the installed image".into(),
            when: "offlineServicing (when Setup applies it), specialize and oobeSystem passes".into(),
        },
    ];
    components.extend(component_entries);
    let masked = req
        .product_key
        .as_deref()
        .filter(|_| req.key_variants != "nokey")
        .map(wait_store::mask_product_key);
    if let Some(m) = &masked {
        components.push(ComponentEntry {
            kind: "product_key".into(),
            name: m.clone(),
            staged_at: "C:\\Windows\\Panther\\unattend.xml".into(),
            how: "Microsoft-Windows-Shell-Setup/ProductKey".into(),
            when: "specialize pass".into(),
        });
    }
    Manifest {
        format: 1,
        tool: format!("WAIT {}", env!("CARGO_PKG_VERSION")),
        job: ManifestJob {
            job_id: job.job_id.to_string(),
            customer_name: req.customer_name.clone(),
            motherboard_model: req.motherboard_model.clone(),
            created_by: job.created_by.clone(),
            created_at: rfc(job.created_at),
            built_at: rfc(now),
            attempt: job.attempt,
        },
        base_image: ManifestBaseImage {
            file: req.base_image.clone(),
            index: id.index,
            name: id.name.clone(),
            edition: id.edition.clone(),
            version: id.version.clone(),
            build: id.build,
            arch: id.arch.map(|a| a.as_str().to_string()),
            languages: id.languages.clone(),
        },
        output: ManifestOutput::new(format!("{}/{}", req.customer_name, folder), id.name.clone(), &req.compression, &image),
        inputs: resolved.resources.clone(),
        components,
        staged_files,
        product_key: masked,
        warnings: warnings.to_vec(),
        notes: vec![
            format!("Only index {} of {} was exported; data no other image needs was left out.", id.index, req.base_image),
            "Drivers are staged in the image, not injected: Windows adds them to its driver store itself.".into(),
            "Component-store cleanup (DISM /Cleanup-Image /StartComponentCleanup /ResetBase) runs only on Windows and was not performed.".into(),
            format!("{IMAGE_FILE}, manifest.json and manifest.txt are listed in checksum.md5 and checksum.sha256."),
        ],
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

#[cfg(test)]
mod tests {
    use super::*;

    fn identity(edition: Option<&str>) -> ImageIdentity {
        ImageIdentity {
            index: 1,
            name: "Windows".into(),
            edition: edition.map(str::to_string),
            product_name: None,
            installation_type: None,
            arch: Some(wait_catalog::Arch::X64),
            version: None,
            build: Some(26100),
            languages: vec![],
            size: 0,
        }
    }

    #[test]
    fn oem_key_moves_software_to_first_logon_except_on_enterprise_and_server() {
        assert!(!setupcomplete_may_be_skipped(
            &identity(Some("Professional")),
            false
        ));
        assert!(setupcomplete_may_be_skipped(
            &identity(Some("Professional")),
            true
        ));
        assert!(setupcomplete_may_be_skipped(&identity(None), true));
        assert!(!setupcomplete_may_be_skipped(
            &identity(Some("IoTEnterprise")),
            true
        ));
        assert!(!setupcomplete_may_be_skipped(
            &identity(Some("ServerStandard")),
            true
        ));
    }
}

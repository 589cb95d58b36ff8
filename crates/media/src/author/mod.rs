//! Bootable (BIOS + UEFI) Windows install ISO authoring.
//!
//! The source media tree is never modified or copied: genisoimage is given the tree,
//! `-x` exclusions for the old `sources/install.*` (and an old root `autounattend.xml`)
//! and `-graft-points` for the new install image and answer file. The ISO is written to
//! a hidden temporary file next to the destination and renamed only on success; on
//! failure or cancel nothing is left behind.

mod child;
mod error;
mod genisoimage;
mod label;
mod layout;
mod oscdimg;
mod progress;
mod request;
mod staging;
mod swm;
mod tools;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

pub use error::AuthorError;
pub use label::{MAX_LABEL_ISO9660, MAX_LABEL_UDF, validate_label};
pub use layout::{BIOS_BOOT, ISO9660_MAX_FILE_SIZE, UEFI_BOOT, UEFI_BOOT_NOPROMPT};
pub use progress::{AuthorProgress, AuthorStage};
pub use request::{AuthorOptions, AuthorOutcome, AuthorRequest, InstallImage, IsoTool};
pub use swm::{DEFAULT_SWM_PART_MIB, split_wim, swm_part_name};
pub use tools::ExternalTool;

use child::{ToolRun, run_tool};
use genisoimage::{IsoSettings, genisoimage_args};
use layout::MediaLayout;
use oscdimg::oscdimg_args;
use progress::genisoimage_percent;
use staging::{Graft, StagingPlan};

const MIB: u64 = 1024 * 1024;

/// Author the ISO described by `request`.
///
/// `progress` receives percentages per stage; `cancel` is polled throughout (also
/// while a child process runs, which is then killed) and makes the call return
/// [`AuthorError::Cancelled`] with no output left.
pub fn author_iso(
    request: &AuthorRequest,
    progress: &mut dyn FnMut(AuthorProgress),
    cancel: &Arc<AtomicBool>,
) -> Result<AuthorOutcome, AuthorError> {
    let opts = &request.options;
    let udf = !opts.iso9660_only;
    validate_label(&request.label, udf)?;
    let (tool, program) = resolve_tool(opts.tool)?;
    let out = OutputTarget::new(&request.output)?;
    let layout = MediaLayout::scan(
        &request.source_tree,
        request.boot_files_from.as_deref(),
        opts.uefi_noprompt,
    )?;
    if out.dir.starts_with(&layout.root) {
        return Err(AuthorError::BadOutput {
            path: request.output.clone(),
            reason: format!(
                "it is inside the source media tree {}, which would include it in itself",
                layout.root.display()
            ),
        });
    }
    if let Some(answer) = &request.autounattend {
        require_file("autounattend.xml", answer)?;
    }
    let excludes = layout.excluded(request.autounattend.is_some());
    if opts.iso9660_only {
        layout.check_iso9660_sizes(&excludes)?;
    }
    check_cancel(cancel)?;

    // Split parts and oscdimg's staging tree live here, next to the output, and vanish
    // with it whatever happens.
    let work = tempfile::Builder::new()
        .prefix(&format!(".{}.", out.name))
        .suffix(".work")
        .tempdir_in(&out.dir)
        .map_err(|e| AuthorError::io(&out.dir, e))?;

    let install = install_grafts(request, &layout.sources_dir, work.path(), progress, cancel)?;
    let install_files: Vec<String> = install.iter().map(|g| g.target.clone()).collect();
    let mut grafts = install;
    for boot in [&layout.bios, &layout.uefi] {
        if boot.grafted {
            grafts.push(Graft {
                target: boot.relative.clone(),
                source: boot.host.clone(),
            });
        }
    }
    if let Some(answer) = &request.autounattend {
        grafts.push(Graft {
            target: "autounattend.xml".to_owned(),
            source: answer.clone(),
        });
    }
    let plan = StagingPlan {
        root: layout.root.clone(),
        excludes,
        grafts,
    };
    check_cancel(cancel)?;

    let partial = tempfile::Builder::new()
        .prefix(&format!(".{}.", out.name))
        .suffix(".partial")
        .tempfile_in(&out.dir)
        .map_err(|e| AuthorError::io(&out.dir, e))?;
    let args = match tool {
        ExternalTool::Oscdimg => {
            let stage = work.path().join("stage");
            plan.materialize(&stage)?;
            let host = |rel: &str| rel.split('/').fold(stage.clone(), |p, s| p.join(s));
            oscdimg_args(
                &stage,
                &request.label,
                &host(&layout.bios.relative),
                &host(&layout.uefi.relative),
                udf,
                partial.path(),
            )?
        }
        _ => genisoimage_args(
            &plan,
            &IsoSettings {
                label: &request.label,
                bios_boot: &layout.bios.relative,
                uefi_boot: &layout.uefi.relative,
                udf,
            },
            partial.path(),
        ),
    };
    let mut on_write = |percent: f64| {
        progress(AuthorProgress {
            stage: AuthorStage::Write,
            percent,
        })
    };
    run_tool(
        &ToolRun {
            tool,
            program: &program,
            args: &args,
            // oscdimg prints its own progress format; only genisoimage's is parsed.
            percent: genisoimage_percent,
        },
        &mut on_write,
        cancel,
    )?;
    check_cancel(cancel)?;

    let size = publish(partial, &request.output)?;
    on_write(100.0);
    Ok(AuthorOutcome {
        output: request.output.clone(),
        size,
        tool,
        label: request.label.clone(),
        udf,
        bios_boot: layout.bios.relative.clone(),
        uefi_boot: layout.uefi.relative.clone(),
        install_files,
        answer_file: request.autounattend.is_some(),
    })
}

fn check_cancel(cancel: &AtomicBool) -> Result<(), AuthorError> {
    if cancel.load(Ordering::Relaxed) {
        Err(AuthorError::Cancelled)
    } else {
        Ok(())
    }
}

fn resolve_tool(choice: IsoTool) -> Result<(ExternalTool, PathBuf), AuthorError> {
    let pick = |t: ExternalTool| t.locate().map(|p| (t, p));
    match choice {
        IsoTool::Genisoimage => pick(ExternalTool::Genisoimage),
        IsoTool::Oscdimg => pick(ExternalTool::Oscdimg),
        // genisoimage first: it grafts instead of needing a staging tree. When neither
        // exists, the error names genisoimage, the one a Linux host can install.
        IsoTool::Auto => pick(ExternalTool::Genisoimage)
            .or_else(|_| pick(ExternalTool::Oscdimg))
            .map_err(|_| AuthorError::MissingTool {
                tool: ExternalTool::Genisoimage,
            }),
    }
}

/// The destination split into an existing (canonical) directory and a file name.
struct OutputTarget {
    dir: PathBuf,
    name: String,
}

impl OutputTarget {
    fn new(output: &Path) -> Result<Self, AuthorError> {
        let bad = |reason: String| AuthorError::BadOutput {
            path: output.to_path_buf(),
            reason,
        };
        let name = output
            .file_name()
            .ok_or_else(|| bad("does not name a file".to_owned()))?
            .to_string_lossy()
            .into_owned();
        if output.is_dir() {
            return Err(bad("is a directory".to_owned()));
        }
        let parent = match output.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        let dir = std::fs::canonicalize(parent)
            .map_err(|e| bad(format!("its directory cannot be used: {e}")))?;
        Ok(OutputTarget { dir, name })
    }
}

fn require_file(what: &'static str, path: &Path) -> Result<u64, AuthorError> {
    let meta = std::fs::metadata(path)
        .map_err(|e| AuthorError::bad_input(what, path, format!("cannot read: {e}")))?;
    if !meta.is_file() {
        return Err(AuthorError::bad_input(what, path, "not a regular file"));
    }
    Ok(meta.len())
}

/// Where the install image goes in the ISO, splitting it first when an ISO 9660-only
/// medium needs that.
fn install_grafts(
    request: &AuthorRequest,
    sources_dir: &str,
    work: &Path,
    progress: &mut dyn FnMut(AuthorProgress),
    cancel: &Arc<AtomicBool>,
) -> Result<Vec<Graft>, AuthorError> {
    let opts = &request.options;
    let at = |name: &str| format!("{sources_dir}/{name}");
    let parts_as_grafts = |parts: Vec<PathBuf>| {
        parts
            .into_iter()
            .enumerate()
            .map(|(i, source)| Graft {
                target: at(&swm_part_name(i + 1)),
                source,
            })
            .collect::<Vec<_>>()
    };
    match &request.install_image {
        InstallImage::Single(path) => {
            let size = require_file("install image", path)?;
            let ext = path
                .extension()
                .map(|e| e.to_string_lossy().to_lowercase())
                .unwrap_or_default();
            if ext == "swm" {
                return Err(AuthorError::bad_input(
                    "install image",
                    path,
                    "a single .swm part; pass all parts as InstallImage::Split",
                ));
            }
            let part_bytes = opts.swm_part_mib.saturating_mul(MIB);
            if opts.iso9660_only && size > part_bytes {
                let mut on_split = |percent: f64| {
                    progress(AuthorProgress {
                        stage: AuthorStage::Split,
                        percent,
                    })
                };
                let parts = split_wim(path, work, opts.swm_part_mib, &mut on_split, cancel)?;
                return Ok(parts_as_grafts(parts));
            }
            if opts.iso9660_only && size > ISO9660_MAX_FILE_SIZE {
                return Err(AuthorError::TooLargeForIso9660 {
                    path: path.clone(),
                    size,
                });
            }
            let name = if ext == "esd" {
                "install.esd"
            } else {
                "install.wim"
            };
            Ok(vec![Graft {
                target: at(name),
                source: path.clone(),
            }])
        }
        InstallImage::Split(parts) => {
            if parts.is_empty() {
                return Err(AuthorError::bad_input(
                    "install image",
                    PathBuf::new(),
                    "an empty list of SWM parts",
                ));
            }
            for part in parts {
                require_file("install image part", part)?;
                if opts.iso9660_only {
                    swm::check_part_size(part)?;
                }
            }
            Ok(parts_as_grafts(parts.clone()))
        }
    }
}

/// Make the finished temporary file world-readable like any other output and rename
/// it over the destination. Returns the ISO's size.
fn publish(partial: tempfile::NamedTempFile, output: &Path) -> Result<u64, AuthorError> {
    let meta = std::fs::metadata(partial.path()).map_err(|e| AuthorError::io(partial.path(), e))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(partial.path(), std::fs::Permissions::from_mode(0o644))
            .map_err(|e| AuthorError::io(partial.path(), e))?;
    }
    partial
        .persist(output)
        .map_err(|e| AuthorError::BadOutput {
            path: output.to_path_buf(),
            reason: format!("cannot rename the finished ISO into place: {}", e.error),
        })?;
    Ok(meta.len())
}

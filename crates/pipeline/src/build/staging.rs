//! Drivers, packages and software: put the files in the image (they are applied by
//! Windows itself; see the answer-file stage) and, for ISO output, offer storage and
//! network drivers to Setup's WinPE through `$WinPEDriver$`.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use wait_catalog::components::ComponentKind;
use wait_store::Resource;
use wait_wim::UpdateCommand;

use super::BuildEnv;
use crate::checksum::staged_digest_until;
use crate::manifest::{ComponentEntry, StagedFile};
use crate::plan::{file_name_of, staged_location, switches_sidecar};
use crate::stage::StageContext;
use crate::{IMAGE_DRIVER_ROOT, PipelineError, WINDOWS_DRIVER_ROOT};

/// Where a downloaded driver archive is staged, below the driver root so that the
/// same DriverPaths entry and pnputil call cover it.
const DOWNLOAD_DIR: &str = "_Downloaded";
/// The folder Setup scans for drivers while it runs in WinPE.
const WINPE_DRIVER_DIR: &str = "$WinPEDriver$";
/// INF classes WinPE needs to see the disks and the network.
const WINPE_CLASSES: [&str; 3] = ["scsiadapter", "hdc", "net"];

/// A tree of driver files on the host and where its folders go below `$WinPEDriver$`.
struct DriverTree {
    /// The tree's root; folders keep their place relative to it.
    root: PathBuf,
    /// Sub-folder of `$WinPEDriver$` the tree goes to ("" for the repository's set).
    under: &'static str,
    files: Vec<PathBuf>,
}

pub(super) fn drivers_stage(
    cx: &mut StageContext<'_>,
    env: &BuildEnv,
) -> Result<(), PipelineError> {
    let resolved = cx.state.resolved()?;
    let set = resolved.driver_set.clone();
    let files: Vec<(PathBuf, StagedFile)> = resolved.driver_files.clone();
    cx.info(format!(
        "Staging driver set {} ({} INF files, {} files) at {IMAGE_DRIVER_ROOT}",
        set.path,
        set.inf_count,
        files.len()
    ));
    cx.state.commands.push(UpdateCommand::Add {
        source: cx.repo.root().join(&set.path),
        target: IMAGE_DRIVER_ROOT.to_string(),
    });
    cx.state.staged.extend(files.iter().map(|(_, s)| s.clone()));
    let mut trees = vec![DriverTree {
        root: cx.repo.root().join(&set.path),
        under: "",
        files: files.into_iter().map(|(host, _)| host).collect(),
    }];

    if let Some(d) = &env.download {
        trees.push(stage_download(cx, d)?);
    }

    if cx.state.media.is_some() {
        offer_drivers_to_winpe(cx, &trees)?;
    }
    Ok(())
}

/// Stage the board's downloaded driver archive below the driver root and record it;
/// returns its files for the WinPE offer.
fn stage_download(
    cx: &mut StageContext<'_>,
    d: &crate::download::DriverDownload,
) -> Result<DriverTree, PipelineError> {
    let target = format!("{IMAGE_DRIVER_ROOT}/{DOWNLOAD_DIR}");
    cx.info(format!(
        "Staging the downloaded driver archive {} ({} INF files) at {target}",
        d.url, d.inf_count
    ));
    cx.state.commands.push(UpdateCommand::Add {
        source: d.extracted.clone(),
        target: target.clone(),
    });
    let files = walk(&d.extracted)?;
    for host in &files {
        let rel = rel_path(&d.extracted, host)?;
        let (size, sha1, sha256) = staged_digest_until(host, &cx.r.cancel_flag())?;
        cx.state.staged.push(StagedFile {
            image_path: format!("{target}/{rel}"),
            size,
            sha1,
            sha256,
        });
    }
    cx.state.extra_resources.push(Resource {
        kind: "driver_download".into(),
        path: d.url.clone(),
        sha256: d.sha256.clone(),
        size: d.size,
    });
    cx.add_component(ComponentEntry {
        kind: "drivers".into(),
        name: format!(
            "{} (downloaded{})",
            d.url,
            if d.from_cache { ", cached copy" } else { "" }
        ),
        staged_at: format!("{WINDOWS_DRIVER_ROOT}\\{DOWNLOAD_DIR}"),
        how: "below the staged driver folder: the same DriverPaths entry and pnputil call cover it"
            .into(),
        when: "offlineServicing pass, or first boot for images applied without Setup".into(),
    });
    // In `$WinPEDriver$` too it sits in its own folder, as in the image, so its
    // folders cannot mix with the repository set's.
    Ok(DriverTree {
        root: d.extracted.clone(),
        under: DOWNLOAD_DIR,
        files,
    })
}

/// The folders holding storage or network INFs among `files`.
fn winpe_folders(files: &[PathBuf]) -> Result<BTreeSet<PathBuf>, PipelineError> {
    let mut folders = BTreeSet::new();
    for host in files {
        let is_inf = host
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("inf"));
        if !is_inf {
            continue;
        }
        let bytes = std::fs::read(host).map_err(|e| PipelineError::io(host, e))?;
        let Ok(inf) = wait_catalog::inf::parse_inf(&host.to_string_lossy(), &bytes) else {
            continue;
        };
        let class = inf.class.unwrap_or_default().to_ascii_lowercase();
        if WINPE_CLASSES.contains(&class.as_str()) {
            if let Some(dir) = host.parent() {
                folders.insert(dir.to_path_buf());
            }
        }
    }
    Ok(folders)
}

/// Copy the folders of storage and network INFs (from the repository's driver set and
/// the downloaded archive alike) to `$WinPEDriver$` on the media, so Setup can reach
/// the disk and the network before the image is applied.
fn offer_drivers_to_winpe(
    cx: &mut StageContext<'_>,
    trees: &[DriverTree],
) -> Result<(), PipelineError> {
    let mut copies: Vec<(PathBuf, PathBuf)> = Vec::new();
    let mut downloaded = 0;
    for tree in trees {
        for dir in winpe_folders(&tree.files)? {
            let rel = dir.strip_prefix(&tree.root).map_err(|_| {
                PipelineError::Permanent(format!(
                    "internal: driver folder {} is outside {}",
                    dir.display(),
                    tree.root.display()
                ))
            })?;
            if !tree.under.is_empty() {
                downloaded += 1;
            }
            copies.push((dir.clone(), Path::new(tree.under).join(rel)));
        }
    }
    let Some(media) = cx.state.media.as_mut() else {
        return Ok(());
    };
    if copies.is_empty() {
        cx.r.info(
            "drivers",
            "No storage or network drivers among the board's drivers; nothing offered to WinPE",
        );
        return Ok(());
    }
    let winpe_root = media.dir.join(WINPE_DRIVER_DIR);
    for (from, rel) in &copies {
        copy_tree(from, &winpe_root.join(rel))?;
    }
    media.winpe_drivers = Some(WINPE_DRIVER_DIR.to_string());
    let count = copies.len();
    let from_download = if downloaded > 0 {
        format!(", {downloaded} of them from the downloaded archive")
    } else {
        String::new()
    };
    cx.info(format!(
        "Offered {count} storage/network driver folder(s){from_download} to WinPE at \\{WINPE_DRIVER_DIR} on the media"
    ));
    cx.add_component(ComponentEntry {
        kind: "drivers".into(),
        name: format!("{count} storage/network driver folder(s) for WinPE{from_download}"),
        staged_at: format!("\\{WINPE_DRIVER_DIR} at the media root"),
        how: "scanned by Windows Setup when it starts from the ISO".into(),
        when: "windowsPE, before the image is applied".into(),
    });
    Ok(())
}

pub(super) fn packages_stage(
    cx: &mut StageContext<'_>,
    _env: &BuildEnv,
) -> Result<(), PipelineError> {
    stage_components(cx, &[ComponentKind::LangPack, ComponentKind::Update])
}

pub(super) fn software_stage(
    cx: &mut StageContext<'_>,
    _env: &BuildEnv,
) -> Result<(), PipelineError> {
    stage_components(cx, &[ComponentKind::Software])
}

/// Stage the job's components of `kinds` in request order (language packs first).
fn stage_components(
    cx: &mut StageContext<'_>,
    kinds: &[ComponentKind],
) -> Result<(), PipelineError> {
    let components: Vec<_> = cx
        .state
        .resolved()?
        .components
        .iter()
        .filter(|c| kinds.contains(&c.kind))
        .cloned()
        .collect();
    if components.is_empty() {
        cx.info("Nothing to stage");
    }
    for c in &components {
        let mut files = vec![(c.path.clone(), file_name_of(c).to_string())];
        if let Some(sidecar) = switches_sidecar(c) {
            files.push((sidecar, format!("{}.switches", file_name_of(c))));
        }
        for (host, file) in files {
            let (target, _) = staged_location(c.kind, &file);
            cx.info(format!("Staging {} at {target}", c.rel));
            cx.stage_file(&host, &target)?;
        }
    }
    Ok(())
}

fn walk(dir: &Path) -> Result<Vec<PathBuf>, PipelineError> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for entry in std::fs::read_dir(&d).map_err(|e| PipelineError::io(&d, e))? {
            let entry = entry.map_err(|e| PipelineError::io(&d, e))?;
            let kind = entry
                .file_type()
                .map_err(|e| PipelineError::io(entry.path(), e))?;
            if kind.is_dir() {
                todo.push(entry.path());
            } else if kind.is_file() {
                out.push(entry.path());
            }
        }
    }
    out.sort();
    Ok(out)
}

fn rel_path(root: &Path, file: &Path) -> Result<String, PipelineError> {
    let rel = file.strip_prefix(root).map_err(|_| {
        PipelineError::Permanent(format!("{} is outside {}", file.display(), root.display()))
    })?;
    Ok(rel.to_string_lossy().replace('\\', "/"))
}

fn copy_tree(from: &Path, to: &Path) -> Result<(), PipelineError> {
    for file in walk(from)? {
        let rel = file.strip_prefix(from).unwrap_or(&file);
        let dest = to.join(rel);
        if let Some(parent) = dest.parent() {
            std::fs::create_dir_all(parent).map_err(|e| PipelineError::io(parent, e))?;
        }
        std::fs::copy(&file, &dest).map_err(|e| PipelineError::io(&dest, e))?;
    }
    Ok(())
}

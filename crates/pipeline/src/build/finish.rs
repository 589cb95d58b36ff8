//! Checksums, manifest and publication. The big output files are hashed once for both
//! digests, several files at a time; the manifest and checksum files are written last
//! and the folder is renamed into place in one step.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use time::OffsetDateTime;

use super::BuildEnv;
use crate::build_manifest::{BuiltParts, build_manifest};
use crate::checksum::{digest_file, write_checksum_files, write_synced};
use crate::manifest::ManifestOutput;
use crate::stage::StageContext;
use crate::{FileDigests, PipelineError, publish};
use wait_catalog::naming::{DEFAULT_FOLDER_TEMPLATE, NamingVars, render_folder_name};

/// Files hashed at the same time (the machine's cores are shared with libwim's own
/// threads in other jobs, so two is the sweet spot measured on small hosts).
const HASH_THREADS: usize = 2;

pub(super) fn checksums_stage(
    cx: &mut StageContext<'_>,
    _env: &BuildEnv,
) -> Result<(), PipelineError> {
    let mut files: Vec<String> = Vec::new();
    for v in &cx.state.variants {
        files.push(v.image_file());
        if let Some(iso) = &v.iso {
            files.push(iso.file.clone());
        }
    }
    let paths: Vec<_> = files.iter().map(|f| cx.partial.join(f)).collect();
    let total: u64 = paths
        .iter()
        .map(|p| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0))
        .sum::<u64>()
        .max(1);
    cx.info(format!(
        "Computing MD5 and SHA-256 of {} ({} bytes)",
        files.join(", "),
        total
    ));
    let done = AtomicU64::new(0);
    let queue = Mutex::new((0..paths.len()).collect::<Vec<_>>());
    let results: Mutex<Vec<Option<Result<FileDigests, PipelineError>>>> =
        Mutex::new((0..paths.len()).map(|_| None).collect());
    let (from, to) = cx.state.share;
    let span = u64::from(to.saturating_sub(from));
    let r = cx.r;
    std::thread::scope(|s| {
        for _ in 0..HASH_THREADS.min(paths.len()) {
            s.spawn(|| {
                loop {
                    let next = queue.lock().ok().and_then(|mut q| q.pop());
                    let Some(i) = next else { break };
                    let mut last = 0u64;
                    let result = digest_file(&paths[i], |n| {
                        let all = done.fetch_add(n - last, Ordering::Relaxed) + (n - last);
                        last = n;
                        r.progress("checksums", (u64::from(from) + all * span / total) as u8);
                        !r.cancelled()
                    });
                    if let Ok(mut slots) = results.lock() {
                        slots[i] = Some(result);
                    }
                }
            });
        }
    });
    let results = results
        .into_inner()
        .map_err(|_| PipelineError::Permanent("internal: a hashing thread failed".into()))?;
    for (file, result) in files.iter().zip(results) {
        let d = result.ok_or_else(|| {
            PipelineError::Permanent(format!("internal: {file} was not hashed"))
        })??;
        cx.info(format!("{file}: {} bytes, sha256 {}", d.size, d.sha256));
        for v in &mut cx.state.variants {
            if &v.image_file() == file {
                v.digests = Some(d.clone());
            }
            if let Some(iso) = v.iso.as_mut().filter(|i| &i.file == file) {
                iso.md5 = d.md5.clone();
                iso.sha256 = d.sha256.clone();
                iso.size = d.size;
            }
        }
        cx.state.sums.push((file.clone(), d));
    }
    Ok(())
}

pub(super) fn publish_stage(
    cx: &mut StageContext<'_>,
    env: &BuildEnv,
) -> Result<(), PipelineError> {
    publish_output(cx, env)
}

/// A build whose private folder disappeared lost its shared output folder (an NFS
/// server gone, a share unmounted): say so, instead of a bare "No such file" about
/// some file inside it. Once published, the folder has moved and its absence means
/// nothing. Applied to the error of any stage: a share lost while libwim writes the
/// image surfaces as a bare "failed to open a file".
pub(super) fn explain_vanished(cx: &StageContext<'_>, e: PipelineError) -> PipelineError {
    if matches!(e, PipelineError::Cancelled) || cx.state.published_dir.is_some() {
        return e;
    }
    match std::fs::metadata(&cx.partial) {
        Ok(m) if m.is_dir() => return e,
        Err(err) if err.kind() != std::io::ErrorKind::NotFound => {
            // The share answers with an error (a soft NFS mount timing out): the original
            // I/O error already names the path and stays retryable.
            return e;
        }
        _ => {}
    }
    let gone = vanished(cx);
    match e {
        PipelineError::Permanent(m) if m == gone => PipelineError::Permanent(m),
        e => PipelineError::Permanent(format!("{gone} ({e})")),
    }
}

fn vanished(cx: &StageContext<'_>) -> String {
    let shared = cx.partial.parent().unwrap_or(&cx.partial);
    format!(
        "the shared folder {} is unavailable: the build's folder {} is gone (was the share \
         unmounted, or did its server go away?); nothing was published",
        shared.display(),
        cx.partial.display()
    )
}

/// The folder name's `{variant}` token (see `wait_catalog::naming::NamingVars`): empty
/// when the job has one output, whichever key variant it is, so a template gives the
/// same name as before for single-variant jobs. A job that builds both variants puts
/// `<stem>_key` and `<stem>_nokey` in one folder, so the token cannot name just one of
/// them: it is the job's `key_variants` value, `both`, which tells such a folder apart
/// from a single-variant build of the same board.
fn folder_variant(key_variants: &str, outputs: usize) -> Option<&str> {
    (outputs > 1).then_some(key_variants)
}

fn publish_output(cx: &mut StageContext<'_>, env: &BuildEnv) -> Result<(), PipelineError> {
    let job = cx.job;
    let req = &job.request;
    let now = OffsetDateTime::now_utc();
    let resolved = cx.state.resolved()?.clone();
    let id = &resolved.identity;
    let template = env
        .folder_template
        .as_deref()
        .unwrap_or(DEFAULT_FOLDER_TEMPLATE);
    let job_id = job.job_id.to_string();
    let folder = render_folder_name(
        template,
        &NamingVars {
            at: now,
            board: &req.motherboard_model,
            customer: &req.customer_name,
            job_id: &job_id,
            edition: id.edition.as_deref(),
            build: id.build,
            index: id.index,
            variant: folder_variant(&req.key_variants, cx.state.variants.len()),
        },
    )
    .map_err(|e| PipelineError::Permanent(format!("customer {}: {e}", req.customer_name)))?;
    cx.state.folder = Some(folder.clone());

    let mut outputs = Vec::new();
    for v in &cx.state.variants {
        let missing = |what: &str| {
            PipelineError::Permanent(format!("internal: variant {} has no {what}", v.name))
        };
        let d = v.digests.clone().ok_or_else(|| missing("digests"))?;
        let answer = v.answer.as_ref().ok_or_else(|| missing("answer file"))?;
        outputs.push(ManifestOutput {
            variant: v.name.to_string(),
            folder: format!("{}/{}", req.customer_name, folder),
            image_file: v.image_file(),
            image_name: id.name.clone(),
            compression: req.compression.clone(),
            size: d.size,
            md5: d.md5,
            sha256: d.sha256,
            product_key: v.product_key.as_deref().map(wait_store::mask_product_key),
            content_digest: v.content_digest.clone(),
            unattend: v.unattend.clone().ok_or_else(|| missing("unattend.xml"))?,
            answer_sections: answer.sections.clone(),
            iso: v.iso.clone(),
        });
    }
    let state = &cx.state;
    let manifest = build_manifest(
        job,
        &resolved,
        BuiltParts {
            outputs,
            staged_files: state.staged.clone(),
            component_entries: state.component_entries.clone(),
            first_boot: state.first_boot.clone(),
            winre: state.winre.clone(),
            answer_conflicts: state.answer_conflicts.clone(),
            timings: state.timings.clone(),
            warnings: state.warnings.clone(),
            install_image: state.base.as_ref().and_then(|b| b.inside_iso.clone()),
            extra_inputs: state.extra_resources.clone(),
        },
        now,
    );
    for (name, text) in [
        ("manifest.json", manifest.to_json()),
        ("manifest.txt", manifest.to_text()),
    ] {
        let path = cx.partial.join(name);
        write_synced(&path, text.as_bytes())?;
        let d = digest_file(&path, |_| true)?;
        cx.state.sums.push((name.to_string(), d));
    }
    write_checksum_files(&cx.partial, &cx.state.sums)?;
    for name in ["checksum.md5", "checksum.sha256"] {
        let path = cx.partial.join(name);
        let d = digest_file(&path, |_| true)?;
        // Listed on the job as outputs, not inside the checksum files themselves.
        cx.state.sums.push((name.to_string(), d));
    }
    super::run_hooks(cx, env, "before_publish")?;
    cx.check_cancel()?;
    if std::fs::metadata(&cx.partial).is_err_and(|e| e.kind() == std::io::ErrorKind::NotFound) {
        // Publishing would claim a name in whatever is at the output path now, such
        // as the empty folder under a vanished mount.
        return Err(PipelineError::Permanent(vanished(cx)));
    }

    let customer_dir = cx.repo.output_root().join(&req.customer_name);
    let published = publish::publish(&cx.partial, &customer_dir, &folder)?;
    let output_dir = format!("{}/{}", req.customer_name, published);
    cx.info(format!("Published 8_Output/{output_dir}"));
    cx.state.published_dir = Some(customer_dir.join(&published));
    cx.state.output_dir = Some(output_dir);
    super::run_hooks(cx, env, "after_publish")?;
    Ok(())
}

//! WinRE: report what the image's recovery environment is and, when the job asks,
//! rewrite `Winre.wim` with the job's compression. Adding languages or drivers to
//! WinRE is DISM-only work; the manifest says so instead of pretending.

use std::sync::atomic::{AtomicBool, Ordering};

use wait_media::winre::WinreError;
use wait_wim::{UpdateCommand, WimError};

use super::BuildEnv;
use crate::PipelineError;
use crate::manifest::ManifestWinre;
use crate::stage::StageContext;

pub(super) fn winre_stage(cx: &mut StageContext<'_>, _env: &BuildEnv) -> Result<(), PipelineError> {
    let index = cx.state.resolved()?.identity.index;
    let compression = super::parse_compression(&cx.job.request.compression)?;
    let recompress = cx.job.request.options.recompress_winre;
    let scratch = cx.scratch.clone();
    let Some(probe) = cx.state.probe.as_mut() else {
        return Err(PipelineError::Permanent(
            "internal: no base image was opened".into(),
        ));
    };
    let cancel = cx.r.cancel_flag();
    // Extracting Winre.wim (hundreds of MB on real images) goes through the probe, so
    // the probe's progress callback is what can stop it.
    probe.abort_when_set(&cancel);
    let outcome = if recompress {
        wait_media::winre::recompress_winre_until(probe, index, compression, &scratch, &cancel)
            .map(|done| (done.report.clone(), Some(done)))
    } else {
        wait_media::winre::inspect_winre(probe, index, &scratch).map(|report| (report, None))
    };
    probe.clear_progress();
    let (report, keep) = outcome.map_err(|e| winre_error(&e, &cancel))?;
    if !report.present {
        cx.info("The image has no WinRE (Windows/System32/Recovery/Winre.wim)");
    } else {
        cx.info(format!(
            "WinRE {}: {} bytes, build {}, languages {}",
            report.path.as_deref().unwrap_or("?"),
            report.size.unwrap_or(0),
            report
                .build()
                .map(|b| b.to_string())
                .unwrap_or_else(|| "?".into()),
            report.languages().join(", ")
        ));
    }
    let (mut recompressed_size, mut recompressed_to) = (None, None);
    if let (Some(done), Some(path)) = (&keep, report.path.clone()) {
        if let (Some(file), Some(r)) = (done.staged_file(), &report.recompression) {
            cx.info(format!(
                "WinRE recompressed from {} to {}: {} → {} bytes",
                r.from.name(),
                r.to.name(),
                r.old_size,
                r.new_size
            ));
            recompressed_size = Some(r.new_size);
            recompressed_to = Some(r.to.name().to_string());
            // The probe already has the new file; the output images are opened afresh,
            // so they get the same change through the common update list.
            cx.state.commands.push(UpdateCommand::Add {
                source: file,
                target: format!("/{}", path.trim_start_matches('/')),
            });
        }
    }
    let mut note: Vec<String> = report.not_done.clone();
    note.extend(report.notes.iter().cloned());
    cx.state.winre = Some(ManifestWinre {
        path: report.path.clone(),
        size: report.size,
        build: report.build(),
        languages: report.languages().to_vec(),
        compression: report
            .wim
            .as_ref()
            .map(|w| w.compression.name().to_string()),
        recompressed_size,
        recompressed_to,
        note: note.join(" "),
    });
    cx.state.winre_keep = keep;
    Ok(())
}

/// A stop on request is a cancel, not a broken WinRE.
fn winre_error(e: &WinreError, cancel: &AtomicBool) -> PipelineError {
    let aborted = matches!(
        e,
        WinreError::OuterWim {
            source: WimError::Aborted,
            ..
        } | WinreError::Recompress {
            source: WimError::Aborted,
            ..
        } | WinreError::InvalidWinre {
            source: WimError::Aborted,
            ..
        }
    );
    if aborted || cancel.load(Ordering::Relaxed) {
        return PipelineError::Cancelled;
    }
    PipelineError::Permanent(format!("WinRE: {e}"))
}

//! Write: each output variant is the base image with the common changes and its own
//! answer file, exported alone (data no other image needs is left out) and written
//! with the job's compression. Already-compressed data is copied, not recompressed.

use std::sync::atomic::Ordering;

use wait_wim::{ImageSelector, Progress, ProgressControl, Stage, UpdateCommand, Wim, WriteOptions};

use super::BuildEnv;
use crate::stage::StageContext;
use crate::{IMAGE_UNATTEND_PATH, PipelineError};

pub(super) fn write_stage(cx: &mut StageContext<'_>, _env: &BuildEnv) -> Result<(), PipelineError> {
    let req = &cx.job.request;
    let compression = super::parse_compression(&req.compression)?;
    let index = cx.state.resolved()?.identity.index;
    let base = cx.state.base()?.wim.clone();
    // The probe is no longer needed; free its memory before the big writes.
    cx.state.probe = None;
    let count = cx.state.variants.len().max(1);
    let (from, to) = cx.state.share;
    let span = u64::from(to.saturating_sub(from)) / count as u64;
    for n in 0..cx.state.variants.len() {
        cx.check_cancel()?;
        let (name, file, unattend_host) = {
            let v = &cx.state.variants[n];
            (v.name, v.image_file(), v.unattend_host.clone())
        };
        cx.info(format!(
            "Writing {file} ({} compression, variant {name})",
            req.compression
        ));
        let mut src = Wim::open_split(&base)
            .map_err(|e| PipelineError::wim(format!("open 1_BaseImages/{}", req.base_image), e))?;
        let mut commands = cx.state.commands.clone();
        commands.push(UpdateCommand::Add {
            source: unattend_host,
            target: IMAGE_UNATTEND_PATH.to_string(),
        });
        src.update_image(index, &commands)
            .map_err(|e| PipelineError::wim("stage files into the image", e))?;
        cx.check_cancel()?;
        let mut dest = Wim::create_new(compression)
            .map_err(|e| PipelineError::wim("create the output WIM", e))?;
        dest.export_image_from(&src, index, None)
            .map_err(|e| PipelineError::wim(format!("export index {index}"), e))?;
        let r = cx.r.clone();
        let cancel = cx.r.cancel_flag();
        let start = u64::from(from) + span * n as u64;
        dest.set_progress(move |p: Progress| {
            if cancel.load(Ordering::Relaxed) {
                return ProgressControl::Abort;
            }
            if p.stage == Stage::Write && p.total > 0 {
                let pct = start + p.done.min(p.total) * span / p.total;
                r.progress("write", pct as u8);
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
        let path = cx.partial.join(&file);
        dest.write(&path, ImageSelector::All, &opts)
            .map_err(|e| PipelineError::wim(format!("write {file}"), e))?;
        dest.clear_progress();
        drop(dest);
        drop(src);
        // Hashes of the data added in this build exist only once it is written.
        let digest = crate::digest::content_digest_of_file(&path, 1)?;
        cx.info(format!("{file}: content digest {digest}"));
        cx.state.variants[n].content_digest = digest;
    }
    cx.state.written = true;
    // libwim has read the recompressed WinRE; its temporary copy can go.
    cx.state.winre_keep = None;
    Ok(())
}

//! Write: each output variant is the base image with the common changes and its own
//! answer file, exported alone (data no other image needs is left out) and written
//! with the job's compression: a `.wim`, or a solid LZMS `.esd` for `esd`. Data the
//! base image already holds in the output's format is copied as it is, unless the
//! request asks for `recompress`.

use std::sync::atomic::Ordering;
use std::time::Instant;

use wait_wim::{
    Compression, ImageSelector, Progress, ProgressControl, Stage, UpdateCommand, Wim, WriteOptions,
};

use super::{BuildEnv, OutputFormat};
use crate::stage::StageContext;
use crate::{IMAGE_UNATTEND_PATH, PipelineError};

pub(super) fn write_stage(cx: &mut StageContext<'_>, _env: &BuildEnv) -> Result<(), PipelineError> {
    let req = &cx.job.request;
    let format = super::output_format(&req.compression)?;
    let compression = format.compression;
    let recompress = req.options.recompress;
    let index = cx.state.resolved()?.identity.index;
    let base = cx.state.base()?.wim.clone();
    for v in &mut cx.state.variants {
        v.image_ext = format.extension();
    }
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
        if n == 0 {
            let have = BaseFormat {
                compression: src.info().compression,
                // Only decides the log line: an unreadable blob table reads as plain.
                solid: src.has_solid_resources().unwrap_or(false),
            };
            cx.info(recompress_note(have, format, recompress));
        }
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
            recompress,
            solid: format.solid,
            ..WriteOptions::default()
        };
        let path = cx.partial.join(&file);
        let started = Instant::now();
        dest.write(&path, ImageSelector::All, &opts)
            .map_err(|e| PipelineError::wim(format!("write {file}"), e))?;
        dest.clear_progress();
        let size = std::fs::metadata(&path)
            .map_err(|e| PipelineError::io(&path, e))?
            .len();
        cx.info(format!(
            "Wrote {file}: {size} bytes in {:.2} s",
            started.elapsed().as_secs_f64()
        ));
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

/// The compression and layout of the base image's data.
#[derive(Debug, Clone, Copy)]
struct BaseFormat {
    compression: Compression,
    solid: bool,
}

fn label(c: Compression, solid: bool) -> String {
    let name = match c {
        Compression::None => "uncompressed",
        Compression::Xpress => "XPRESS",
        Compression::Lzx => "LZX",
        Compression::Lzms => "LZMS",
    };
    if solid {
        format!("solid {name}")
    } else {
        name.to_string()
    }
}

/// The log line that says whether the base image's compressed data is reused or
/// compressed again, and why.
fn recompress_note(from: BaseFormat, to: OutputFormat, recompress: bool) -> String {
    let (have, want) = (
        label(from.compression, from.solid),
        label(to.compression, to.solid),
    );
    if to.compression == Compression::None {
        return format!("The base image is {have}; the output is written uncompressed");
    }
    if recompress {
        return format!(
            "Recompressing: every resource is compressed again as {want} (recompress requested; the base image is {have})"
        );
    }
    if from.compression == to.compression && from.solid == to.solid {
        format!(
            "Not recompressing: data the base image already holds as {have} is copied as it is (recompress not requested)"
        )
    } else {
        format!(
            "The base image is {have}, so its data is compressed as {want}; recompress was not requested, which only spares data already in the output's format"
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base(compression: Compression, solid: bool) -> BaseFormat {
        BaseFormat { compression, solid }
    }

    fn out(name: &str) -> OutputFormat {
        super::super::output_format(name).expect(name)
    }

    #[test]
    fn the_note_says_which_happened() {
        let lzx = base(Compression::Lzx, false);
        assert!(recompress_note(lzx, out("lzx"), false).starts_with("Not recompressing"));
        assert!(recompress_note(lzx, out("lzx"), true).starts_with("Recompressing"));
        let other = recompress_note(lzx, out("esd"), false);
        assert!(other.contains("compressed as solid LZMS"), "{other}");
        let esd = base(Compression::Lzms, true);
        assert!(recompress_note(esd, out("esd"), false).starts_with("Not recompressing"));
        assert!(!recompress_note(esd, out("lzms"), false).starts_with("Not"));
        assert!(recompress_note(lzx, out("none"), true).contains("uncompressed"));
    }
}

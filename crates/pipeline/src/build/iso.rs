//! ISO output: each variant's WIM goes onto a copy of the Setup media as
//! `sources/install.wim` (`sources/install.esd` for ESD output), with the variant's answer
//! file as `autounattend.xml` at the root, authored as UDF with BIOS and UEFI El Torito
//! boot entries.

use std::sync::atomic::Ordering;

use sha2::{Digest, Sha256};
use wait_media::author::{
    AuthorError, AuthorOptions, AuthorProgress, AuthorRequest, InstallImage, author_iso,
    validate_label,
};

use super::BuildEnv;
use crate::PipelineError;
use crate::checksum::write_synced;
use crate::manifest::ManifestIso;
use crate::stage::StageContext;

pub(super) fn iso_stage(cx: &mut StageContext<'_>, _env: &BuildEnv) -> Result<(), PipelineError> {
    let Some(media) = cx.state.media.as_ref() else {
        if cx.job.request.create_iso {
            return Err(PipelineError::Permanent(
                "internal: ISO output without media".into(),
            ));
        }
        cx.info("No ISO requested");
        return Ok(());
    };
    let (media_dir, media_from, winpe) = (
        media.dir.clone(),
        media.from.clone(),
        media.winpe_drivers.clone(),
    );
    let label = iso_label(&media.label, &cx.job.request.motherboard_model);
    let count = cx.state.variants.len().max(1);
    for n in 0..cx.state.variants.len() {
        cx.check_cancel()?;
        let (name, wim_file, iso_file, xml, sections) = {
            let v = &cx.state.variants[n];
            let answer = v.answer.as_ref().ok_or_else(|| {
                PipelineError::Permanent("internal: the answer file was not written".into())
            })?;
            (
                v.name,
                v.image_file(),
                v.iso_file(),
                answer.xml.clone(),
                answer.sections.clone(),
            )
        };
        let autounattend = cx.scratch.join(format!("autounattend-{name}.xml"));
        write_synced(&autounattend, xml.as_bytes())?;
        cx.info(format!(
            "Authoring {iso_file} from the Setup media of {media_from} (label {label})"
        ));
        let request = AuthorRequest {
            source_tree: media_dir.clone(),
            boot_files_from: None,
            install_image: InstallImage::Single(cx.partial.join(&wim_file)),
            autounattend: Some(autounattend),
            label: label.clone(),
            output: cx.partial.join(&iso_file),
            options: AuthorOptions::default(),
        };
        let (from, to) = cx.state.share;
        let span = f64::from(to.saturating_sub(from)) / count as f64;
        let start = f64::from(from) + span * n as f64;
        let r = cx.r.clone();
        let mut progress = |p: AuthorProgress| {
            r.progress("iso", (start + span * p.percent / 100.0) as u8);
        };
        let cancel = cx.r.cancel_flag();
        let outcome = match author_iso(&request, &mut progress, &cancel) {
            Ok(o) => o,
            Err(AuthorError::Cancelled) => return Err(PipelineError::Cancelled),
            Err(_) if cancel.load(Ordering::Relaxed) => return Err(PipelineError::Cancelled),
            Err(e) => return Err(PipelineError::Permanent(format!("create_iso: {e}"))),
        };
        cx.info(format!(
            "{iso_file}: {} bytes, {} ({}), BIOS {} and UEFI {} boot images",
            outcome.size,
            outcome.tool.program(),
            if outcome.udf { "UDF" } else { "ISO 9660" },
            outcome.bios_boot,
            outcome.uefi_boot
        ));
        cx.state.variants[n].iso = Some(ManifestIso {
            file: iso_file,
            size: outcome.size,
            md5: String::new(),
            sha256: String::new(),
            label: outcome.label,
            bios_boot: outcome.bios_boot,
            uefi_boot: outcome.uefi_boot,
            install_files: outcome.install_files,
            autounattend_sha256: outcome
                .answer_file
                .then(|| hex::encode(Sha256::digest(xml.as_bytes()))),
            autounattend_sections: sections,
            winpe_drivers: winpe.clone(),
        });
    }
    Ok(())
}

/// The media's own label when it is valid for UDF, else one made from the board name.
fn iso_label(media_label: &str, board: &str) -> String {
    if validate_label(media_label, true).is_ok() {
        return media_label.to_string();
    }
    let cleaned: String = board
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "_-.".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    let mut label = format!("WAIT_{cleaned}");
    label.truncate(wait_media::author::MAX_LABEL_UDF);
    label
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_fall_back_to_the_board() {
        assert_eq!(
            iso_label("CCCOMA_X64FRE_EN-US_DV9", "B"),
            "CCCOMA_X64FRE_EN-US_DV9"
        );
        assert_eq!(iso_label("", "X13 SAW"), "WAIT_X13_SAW");
        let long = iso_label("", &"B".repeat(60));
        assert!(validate_label(&long, true).is_ok(), "{long}");
    }
}

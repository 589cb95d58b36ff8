//! Filling the manifest from what the build resolved and produced.

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use wait_store::Job;

use crate::WINDOWS_DRIVER_ROOT;
use crate::manifest::{
    ComponentEntry, FirstBoot, Manifest, ManifestBaseImage, ManifestJob, ManifestOutput,
    ManifestWinre, StageTiming, StagedFile,
};

use crate::resolve::Resolved;

/// What the build stages produced, beyond what was resolved.
pub(crate) struct BuiltParts {
    pub outputs: Vec<ManifestOutput>,
    pub staged_files: Vec<StagedFile>,
    pub component_entries: Vec<ComponentEntry>,
    pub first_boot: FirstBoot,
    pub winre: Option<ManifestWinre>,
    pub answer_conflicts: Vec<String>,
    pub timings: Vec<StageTiming>,
    pub warnings: Vec<String>,
    pub install_image: Option<String>,
    /// Inputs found during the build (a downloaded driver archive).
    pub extra_inputs: Vec<wait_store::Resource>,
}

pub(crate) fn build_manifest(
    job: &Job,
    resolved: &Resolved,
    parts: BuiltParts,
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
    components.extend(parts.component_entries);
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
        format: 2,
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
            install_image: parts.install_image,
        },
        notes: notes(job, resolved, &parts.outputs),
        outputs: parts.outputs,
        inputs: resolved
            .resources
            .iter()
            .cloned()
            .chain(parts.extra_inputs)
            .collect(),
        components,
        staged_files: parts.staged_files,
        first_boot: parts.first_boot,
        winre: parts.winre,
        answer_conflicts: parts.answer_conflicts,
        timings: parts.timings,
        product_key: masked,
        warnings: parts.warnings,
    }
}

fn notes(job: &Job, resolved: &Resolved, outputs: &[ManifestOutput]) -> Vec<String> {
    let req = &job.request;
    let id = &resolved.identity;
    let files: Vec<&str> = outputs
        .iter()
        .flat_map(|o| {
            std::iter::once(o.image_file.as_str()).chain(o.iso.as_ref().map(|i| i.file.as_str()))
        })
        .collect();
    vec![
        format!("Only index {} of {} was exported; data no other image needs was left out.", id.index, req.base_image),
        "Drivers are staged in the image, not injected: Windows adds them to its driver store itself.".into(),
        "Component-store cleanup (DISM /Cleanup-Image /StartComponentCleanup /ResetBase) runs only on Windows and was not performed.".into(),
        format!("The content digest covers every path and data hash of the image except {} (which names the job).", crate::digest::BUILD_INFO_PATH),
        format!("{}, manifest.json and manifest.txt are listed in checksum.md5 and checksum.sha256.", files.join(", ")),
    ]
}

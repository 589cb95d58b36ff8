//! The answer-file stage: decide the output variants (with and without the product
//! key), write each variant's answer file, the first-boot script and the build's
//! identity file.

use serde_json::json;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use wait_wim::UpdateCommand;

use super::BuildEnv;
use super::state::Variant;
use crate::checksum::{staged_digest, write_synced};
use crate::digest::BUILD_INFO_PATH;
use crate::manifest::{FirstBoot, StagedFile};
use crate::plan::{dism_command, plan_components, setupcomplete_may_be_skipped};
use crate::setupcomplete::{self, SetupCompletePlan};
use crate::stage::StageContext;
use crate::unattend::{
    DriverPath, FirstLogonCommand, UnattendPlan, merge_answer_file, render_unattend,
};
use crate::{IMAGE_SETUPCOMPLETE_PATH, IMAGE_UNATTEND_PATH, PipelineError, WINDOWS_DRIVER_ROOT};

/// The default output file stem.
const DEFAULT_STEM: &str = "install";

pub(super) fn answer_stage(
    cx: &mut StageContext<'_>,
    _env: &BuildEnv,
) -> Result<(), PipelineError> {
    let req = cx.job.request.clone();
    let resolved = cx.state.resolved()?.clone();
    let stem = req
        .options
        .image_name
        .clone()
        .unwrap_or_else(|| DEFAULT_STEM.to_string());
    let mut variants = match (req.key_variants.as_str(), &req.product_key) {
        ("both", Some(key)) => vec![
            variant("key", Some(key.clone()), format!("{stem}_key")),
            variant("nokey", None, format!("{stem}_nokey")),
        ],
        ("both", None) => {
            return Err(PipelineError::Permanent(
                "key_variants: \"both\" needs a product_key".into(),
            ));
        }
        ("nokey", _) | (_, None) => vec![variant("default", None, stem.clone())],
        (_, Some(key)) => vec![variant("default", Some(key.clone()), stem.clone())],
    };

    // One place for software in every variant, so the variants differ only in the key.
    let any_key = variants.iter().any(|v| v.product_key.is_some());
    let at_logon = setupcomplete_may_be_skipped(&resolved.identity, any_key);
    let plan = plan_components(
        &resolved.components,
        at_logon,
        &req.options.software_switches,
    )?;
    if at_logon {
        cx.info("A product key is set and the edition is neither Enterprise nor Server, so Windows may skip SetupComplete.cmd: the pnputil driver fallback, the .msu updates and the software go to FirstLogonCommands, in that order");
    }
    if cx.state.existing.unattend {
        cx.warn(format!(
            "the base image already had {IMAGE_UNATTEND_PATH}; it was replaced"
        ));
    }

    if at_logon {
        write_setupcomplete(cx, &[], &[])?;
    } else {
        write_setupcomplete(cx, &plan.dism, &plan.commands)?;
    }
    write_build_info(cx)?;

    // SetupComplete.cmd may not run, so its driver fallback runs at logon too (for
    // images applied without Setup's offlineServicing pass).
    let first_logon: Vec<FirstLogonCommand> = if at_logon {
        std::iter::once(FirstLogonCommand {
            command_line: setupcomplete::pnputil_command(WINDOWS_DRIVER_ROOT),
            description: "WAIT: drivers (pnputil)".to_string(),
        })
        .chain(plan.dism.iter().map(|win| FirstLogonCommand {
            command_line: dism_command(win),
            description: format!("WAIT: update {}", win.rsplit('\\').next().unwrap_or(win)),
        }))
        .chain(plan.commands.iter().map(|(d, c)| FirstLogonCommand {
            command_line: c.clone(),
            description: d.clone(),
        }))
        .collect()
    } else {
        Vec::new()
    };
    let several = variants.len() > 1;
    for v in &mut variants {
        let unattend_plan = UnattendPlan {
            arch: unattend_arch(&resolved.identity),
            driver_paths: vec![DriverPath {
                path: WINDOWS_DRIVER_ROOT.to_string(),
            }],
            winpe_driver_paths: Vec::new(),
            product_key: v.product_key.clone(),
            servicing: plan.servicing.clone(),
            first_logon: first_logon.clone(),
        };
        let rendered = match &resolved.answer {
            Some((rel, text)) => {
                cx.info(format!(
                    "Merging WAIT's sections into answer file {rel} ({})",
                    v.name
                ));
                merge_answer_file(text, rel, &unattend_plan)?
            }
            None => render_unattend(&unattend_plan)?,
        };
        for c in &rendered.conflicts {
            let line = if several {
                format!("{}: {c}", v.name)
            } else {
                c.clone()
            };
            cx.info(format!("Answer-file conflict: {line}"));
            cx.state.answer_conflicts.push(line);
        }
        v.unattend_host = cx.scratch.join(format!("unattend-{}.xml", v.name));
        write_synced(&v.unattend_host, rendered.xml.as_bytes())?;
        let (size, sha1, sha256) = staged_digest(&v.unattend_host)?;
        v.unattend = Some(StagedFile {
            image_path: IMAGE_UNATTEND_PATH.to_string(),
            size,
            sha1,
            sha256,
        });
        v.answer = Some(rendered);
    }

    let mut references = vec![format!("{WINDOWS_DRIVER_ROOT}\\*.inf")];
    references.extend(plan.dism.iter().cloned());
    references.extend(
        plan.entries
            .iter()
            .filter(|e| e.kind == "software")
            .map(|e| e.staged_at.clone()),
    );
    cx.state.first_boot = FirstBoot {
        script: IMAGE_SETUPCOMPLETE_PATH.to_string(),
        software_runs_from: if at_logon {
            "FirstLogonCommands"
        } else {
            "SetupComplete.cmd"
        }
        .into(),
        references,
    };
    cx.state
        .component_entries
        .extend(plan.entries.iter().cloned());
    cx.state.software_at_logon = at_logon;
    cx.state.variants = variants;
    cx.state.plan = Some(plan);
    Ok(())
}

fn variant(name: &'static str, product_key: Option<String>, stem: String) -> Variant {
    Variant {
        name,
        product_key,
        stem,
        image_ext: "wim",
        answer: None,
        unattend_host: Default::default(),
        unattend: None,
        digests: None,
        content_digest: String::new(),
        iso: None,
    }
}

fn write_setupcomplete(
    cx: &mut StageContext<'_>,
    dism: &[String],
    commands: &[(String, String)],
) -> Result<(), PipelineError> {
    let chain = cx.state.existing.setupcomplete;
    if chain {
        let chained = format!("/Windows/Setup/Scripts/{}", setupcomplete::CHAINED_NAME);
        cx.info(format!(
            "The base image has its own SetupComplete.cmd; it is kept as {chained} and called first"
        ));
        cx.state.commands.push(UpdateCommand::Rename {
            from: IMAGE_SETUPCOMPLETE_PATH.to_string(),
            to: chained,
        });
    }
    let script = setupcomplete::render(&SetupCompletePlan {
        board: &cx.job.request.motherboard_model,
        driver_root: Some(WINDOWS_DRIVER_ROOT),
        chain_existing: chain,
        dism_packages: dism.to_vec(),
        commands: commands.to_vec(),
    });
    let host = cx.scratch.join("SetupComplete.cmd");
    write_synced(&host, script.as_bytes())?;
    cx.stage_file(&host, IMAGE_SETUPCOMPLETE_PATH)
}

/// `C:\WAIT\BuildInfo.json`: which job built the image, for people looking at a
/// machine later. It is the only file that differs between two builds of the same inputs.
fn write_build_info(cx: &mut StageContext<'_>) -> Result<(), PipelineError> {
    let job = cx.job;
    let info = json!({
        "tool": format!("WAIT {}", env!("CARGO_PKG_VERSION")),
        "job_id": job.job_id.to_string(),
        "customer": job.request.customer_name,
        "board": job.request.motherboard_model,
        "base_image": job.request.base_image,
        "built_at": OffsetDateTime::now_utc().format(&Rfc3339).unwrap_or_default(),
    });
    let host = cx.scratch.join("BuildInfo.json");
    let text = serde_json::to_string_pretty(&info)
        .map_err(|e| PipelineError::Permanent(format!("BuildInfo.json: {e}")))?;
    write_synced(&host, text.as_bytes())?;
    cx.stage_file(&host, BUILD_INFO_PATH)
}

fn unattend_arch(identity: &wait_catalog::ImageIdentity) -> String {
    match identity.arch {
        Some(wait_catalog::Arch::X86) => "x86",
        Some(wait_catalog::Arch::Arm64) => "arm64",
        _ => "amd64",
    }
    .to_string()
}

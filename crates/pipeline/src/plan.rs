//! How the language packs, updates and software of a job reach the image: where each
//! file is staged, and which mechanism (answer-file servicing, first-boot DISM, a
//! first-boot command or FirstLogonCommands) applies it.

use std::collections::BTreeMap;
use std::path::PathBuf;

use wait_catalog::ImageIdentity;
use wait_catalog::components::{ComponentDetail, ComponentKind, FoundComponent};
use wait_catalog::packages::PackageKind;
use wait_catalog::software::SoftwareKind;

use crate::PipelineError;
use crate::manifest::ComponentEntry;
use crate::unattend::ServicingPackage;

/// Where a component is staged: image path (for libwim) and Windows path.
pub(crate) fn staged_location(kind: ComponentKind, file: &str) -> (String, String) {
    let (image_dir, win_dir) = match kind {
        ComponentKind::LangPack => ("/WAIT/Packages/LangPacks", r"C:\WAIT\Packages\LangPacks"),
        ComponentKind::Update => ("/WAIT/Packages/Updates", r"C:\WAIT\Packages\Updates"),
        ComponentKind::Software => ("/WAIT/Software", r"C:\WAIT\Software"),
    };
    (format!("{image_dir}/{file}"), format!("{win_dir}\\{file}"))
}

/// The host file beside an `.exe` holding its silent switches, when there is one.
pub(crate) fn switches_sidecar(c: &FoundComponent) -> Option<PathBuf> {
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
pub(crate) struct ComponentPlan {
    pub(crate) servicing: Vec<ServicingPackage>,
    pub(crate) dism: Vec<String>,
    pub(crate) commands: Vec<(String, String)>,
    pub(crate) entries: Vec<ComponentEntry>,
}

/// SetupComplete.cmd is skipped when an OEM product key is used, except on Enterprise
/// and Server editions (SERVICING.md, "First-boot commands").
pub(crate) fn setupcomplete_may_be_skipped(identity: &ImageIdentity, product_key: bool) -> bool {
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

/// The first-boot DISM line for one staged `.msu` (its Windows path).
pub(crate) fn dism_command(win: &str) -> String {
    format!("dism /online /add-package /packagepath:\"{win}\" /quiet /norestart")
}

/// `at_logon`: SetupComplete.cmd may be skipped (see [`setupcomplete_may_be_skipped`]),
/// so `.msu` packages and installers are planned as FirstLogonCommands instead.
///
/// `switches`: silent switches from the request per `.exe` file name; they take the
/// place of the repository's `.switches` sidecar.
pub(crate) fn plan_components(
    components: &[FoundComponent],
    at_logon: bool,
    switches: &BTreeMap<String, String>,
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
                    let command = dism_command(&win);
                    let (how, when) = if at_logon {
                        (
                            format!("Microsoft-Windows-Shell-Setup/FirstLogonCommands: {command}"),
                            "first administrator logon, before the software (oobeSystem FirstLogonCommands; SetupComplete.cmd is skipped with an OEM product key on this edition)",
                        )
                    } else {
                        (
                            format!("{command} in SetupComplete.cmd"),
                            "first boot (first-boot DISM), after Setup and before the first logon",
                        )
                    };
                    plan.dism.push(win.clone());
                    plan.entries.push(ComponentEntry {
                        kind: label.into(),
                        name: c.rel.clone(),
                        staged_at: win,
                        how,
                        when: when.into(),
                    });
                }
            }
            ComponentDetail::Software(info) => {
                let quoted = format!("\"{}\"", info.file);
                let given = match info.kind {
                    SoftwareKind::Exe => requested_switches(switches, &info.file),
                    _ => None,
                };
                let command = match (info.kind, given) {
                    (SoftwareKind::Appx | SoftwareKind::Msix, _) => format!(
                        "powershell -NoProfile -ExecutionPolicy Bypass -Command \"Add-AppxProvisionedPackage -Online -PackagePath '{win}' -SkipLicense\""
                    ),
                    (_, Some(given)) => format!("\"{win}\" {given}").trim_end().to_string(),
                    (SoftwareKind::Msi | SoftwareKind::Exe, None) => {
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
                let (how, when) = if at_logon {
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

/// The request's switches for `file`, matched without regard to case as Windows would.
fn requested_switches<'a>(switches: &'a BTreeMap<String, String>, file: &str) -> Option<&'a str> {
    switches
        .iter()
        .find(|(name, _)| {
            let name = name.rsplit(['/', '\\']).next().unwrap_or(name);
            name.eq_ignore_ascii_case(file)
        })
        .map(|(_, s)| s.as_str())
}

pub(crate) fn file_name_of(c: &FoundComponent) -> &str {
    c.rel.rsplit('/').next().unwrap_or(&c.rel)
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

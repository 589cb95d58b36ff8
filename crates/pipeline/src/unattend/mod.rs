//! The answer file written into the image (`Windows/Panther/unattend.xml`).
//!
//! WAIT cannot service an image offline from Linux, so it hands the work to Windows
//! Setup: staged drivers are listed in `Microsoft-Windows-PnpCustomizationsNonWinPE`
//! (offlineServicing pass) and the product key goes to `Microsoft-Windows-Shell-Setup`
//! (specialize). When the job names an answer file from the repository, our components
//! are merged into it: into the customer's own component where there is one (Windows
//! rejects or ignores duplicates), keeping everything the customer wrote, and every
//! clash between their values and ours is reported with the value that was kept.

mod merge;
mod render;
mod tree;

#[cfg(test)]
mod facts;
#[cfg(test)]
mod merge_props;
#[cfg(test)]
mod merge_tests;
#[cfg(test)]
mod tests;

use crate::PipelineError;

const UNATTEND_NS: &str = "urn:schemas-microsoft-com:unattend";
const WCM_NS: &str = "http://schemas.microsoft.com/WMIConfig/2002/State";
const XSI_NS: &str = "http://www.w3.org/2001/XMLSchema-instance";
/// Windows paths in DriverPaths are limited to 259 characters.
const MAX_DRIVER_PATH: usize = 259;

/// One folder of drivers as Windows will see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DriverPath {
    pub path: String,
}

/// What WAIT adds to the answer file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnattendPlan {
    /// `processorArchitecture` of the components: amd64, x86 or arm64.
    pub arch: String,
    /// Folders for `Microsoft-Windows-PnpCustomizationsNonWinPE` (offlineServicing).
    pub driver_paths: Vec<DriverPath>,
    /// Folders for `Microsoft-Windows-PnpCustomizationsWinPE` (windowsPE pass): only in
    /// the media's `autounattend.xml`, where Setup itself still runs in WinPE.
    pub winpe_driver_paths: Vec<DriverPath>,
    /// Activation key (specialize pass). Already validated by the caller. `None` means
    /// the output carries no key at all: a merge removes the answer file's keys.
    pub product_key: Option<String>,
    /// `.cab` packages for the `<servicing>` element, in install order (language packs
    /// first, then updates).
    pub servicing: Vec<ServicingPackage>,
    /// Commands for `Microsoft-Windows-Shell-Setup/FirstLogonCommands` (oobeSystem).
    pub first_logon: Vec<FirstLogonCommand>,
}

/// One `<package action="install">` of the `<servicing>` element.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServicingPackage {
    pub name: String,
    pub version: String,
    pub processor_architecture: String,
    pub language: String,
    pub public_key_token: String,
    /// Windows path of the staged `.cab`.
    pub location: String,
}

/// One `<SynchronousCommand>` run at the first administrator logon.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FirstLogonCommand {
    pub command_line: String,
    pub description: String,
}

/// An answer file WAIT wrote, with what it planned in it and how clashes with the
/// customer's own settings were settled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderedAnswerFile {
    pub xml: String,
    /// Every section WAIT put in. `<servicing>` packages are listed with pass
    /// `servicing`, component `package` and the package identity name as element.
    pub sections: Vec<crate::manifest::PlannedSection>,
    /// One line per conflict with the customer's file, saying which value was kept.
    pub conflicts: Vec<String>,
}

impl UnattendPlan {
    /// The sections this plan writes, in file order.
    pub fn sections(&self) -> Result<Vec<crate::manifest::PlannedSection>, PipelineError> {
        let mut out: Vec<crate::manifest::PlannedSection> = self
            .components()?
            .iter()
            .map(|c| crate::manifest::PlannedSection {
                pass: c.pass.to_string(),
                component: c.name.to_string(),
                element: c.element().to_string(),
            })
            .collect();
        out.extend(
            self.servicing
                .iter()
                .map(|p| crate::manifest::PlannedSection {
                    pass: "servicing".into(),
                    component: "package".into(),
                    element: p.name.clone(),
                }),
        );
        Ok(out)
    }
}

/// A complete answer file holding only WAIT's components.
pub fn render_unattend(plan: &UnattendPlan) -> Result<RenderedAnswerFile, PipelineError> {
    Ok(RenderedAnswerFile {
        xml: render::render(plan)?,
        sections: plan.sections()?,
        conflicts: Vec::new(),
    })
}

/// Merge WAIT's components into a customer's answer file. `source_name` names the file
/// in errors. The customer's attributes, comments, order and namespaces are kept; see
/// `merge` for which value wins where both set one.
pub fn merge_answer_file(
    user_xml: &str,
    source_name: &str,
    plan: &UnattendPlan,
) -> Result<RenderedAnswerFile, PipelineError> {
    let components = plan.components()?;
    let mut doc = tree::parse(user_xml, source_name)?;
    let conflicts = merge::merge(&mut doc.root, plan, &components);
    let xml = doc.to_xml().map_err(|e| {
        PipelineError::Permanent(format!("answer file {source_name}: cannot rewrite: {e}"))
    })?;
    Ok(RenderedAnswerFile {
        xml,
        sections: plan.sections()?,
        conflicts,
    })
}

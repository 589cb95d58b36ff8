//! WAIT's own answer-file markup: the components a plan asks for, and the pieces of
//! them (one driver path, one first-logon command, one package) that a merge adds to a
//! customer's existing elements.
//!
//! Every builder returns lines indented relative to the first line, two spaces a level,
//! without a trailing newline; `tree::indented` places them. `decls` is extra attribute
//! text for the outermost element (namespace declarations a merge may need).

use std::fmt::Write as _;

use quick_xml::escape::escape;

use super::tree::{Scope, indented};
use super::{
    DriverPath, FirstLogonCommand, MAX_DRIVER_PATH, ServicingPackage, UNATTEND_NS, UnattendPlan,
    WCM_NS, XSI_NS,
};
use crate::PipelineError;

/// What one of WAIT's components carries.
#[derive(Debug)]
pub(super) enum Content<'a> {
    DriverPaths(&'a [DriverPath]),
    ProductKey(&'a str),
    FirstLogon(&'a [FirstLogonCommand]),
}

#[derive(Debug)]
pub(super) struct Component<'a> {
    pub pass: &'static str,
    pub name: &'static str,
    pub content: Content<'a>,
}

impl Component<'_> {
    /// The child element WAIT writes (reported as a planned section).
    pub(super) fn element(&self) -> &'static str {
        match self.content {
            Content::DriverPaths(_) => "DriverPaths",
            Content::ProductKey(_) => "ProductKey",
            Content::FirstLogon(_) => "FirstLogonCommands",
        }
    }
}

impl UnattendPlan {
    /// WAIT's components in file order, driver paths checked.
    pub(super) fn components(&self) -> Result<Vec<Component<'_>>, PipelineError> {
        let mut out = Vec::new();
        for (paths, pass, name) in [
            (
                &self.winpe_driver_paths,
                "windowsPE",
                "Microsoft-Windows-PnpCustomizationsWinPE",
            ),
            (
                &self.driver_paths,
                "offlineServicing",
                "Microsoft-Windows-PnpCustomizationsNonWinPE",
            ),
        ] {
            if paths.is_empty() {
                continue;
            }
            for dp in paths {
                if dp.path.is_empty() || dp.path.chars().count() > MAX_DRIVER_PATH {
                    return Err(PipelineError::Permanent(format!(
                        "driver path {:?} must be 1 to {MAX_DRIVER_PATH} characters",
                        dp.path
                    )));
                }
            }
            out.push(Component {
                pass,
                name,
                content: Content::DriverPaths(paths),
            });
        }
        if let Some(key) = &self.product_key {
            out.push(Component {
                pass: "specialize",
                name: "Microsoft-Windows-Shell-Setup",
                content: Content::ProductKey(key),
            });
        }
        if !self.first_logon.is_empty() {
            out.push(Component {
                pass: "oobeSystem",
                name: "Microsoft-Windows-Shell-Setup",
                content: Content::FirstLogon(&self.first_logon),
            });
        }
        Ok(out)
    }
}

/// Namespace declarations an element WAIT inserts needs where `scope` is in force: its
/// elements belong to the unattend namespace, its `wcm:` attributes to WCM's.
pub(super) fn decls(scope: &Scope, uses_wcm: bool) -> String {
    let mut out = String::new();
    if scope.default_ns.as_deref() != Some(UNATTEND_NS) {
        let _ = write!(out, " xmlns=\"{UNATTEND_NS}\"");
    }
    if uses_wcm && scope.wcm.as_deref() != Some(WCM_NS) {
        let _ = write!(out, " xmlns:wcm=\"{WCM_NS}\"");
    }
    out
}

pub(super) fn path_and_credentials(key: u32, dp: &DriverPath, decls: &str) -> String {
    format!(
        "<PathAndCredentials wcm:action=\"add\" wcm:keyValue=\"{key}\"{decls}>\n  <Path>{}</Path>\n</PathAndCredentials>",
        escape(dp.path.as_str())
    )
}

pub(super) fn synchronous_command(order: u32, c: &FirstLogonCommand, decls: &str) -> String {
    format!(
        "<SynchronousCommand wcm:action=\"add\"{decls}>\n  <Order>{order}</Order>\n  <CommandLine>{}</CommandLine>\n  <Description>{}</Description>\n  <RequiresUserInput>false</RequiresUserInput>\n</SynchronousCommand>",
        escape(c.command_line.as_str()),
        escape(c.description.as_str())
    )
}

pub(super) fn product_key(key: &str, decls: &str) -> String {
    format!("<ProductKey{decls}>{}</ProductKey>", escape(key))
}

/// The whole element of a component's content, entries numbered from 1.
pub(super) fn content_xml(content: &Content<'_>, decls: &str) -> String {
    let (tag, entries): (&str, Vec<String>) = match content {
        Content::ProductKey(key) => return product_key(key, decls),
        Content::DriverPaths(paths) => (
            "DriverPaths",
            paths
                .iter()
                .zip(1..)
                .map(|(dp, n)| path_and_credentials(n, dp, ""))
                .collect(),
        ),
        Content::FirstLogon(cmds) => (
            "FirstLogonCommands",
            cmds.iter()
                .zip(1..)
                .map(|(c, n)| synchronous_command(n, c, ""))
                .collect(),
        ),
    };
    let mut out = format!("<{tag}{decls}>\n");
    for e in entries {
        out.push_str(&indented(&e, 1));
        out.push('\n');
    }
    let _ = write!(out, "</{tag}>");
    out
}

pub(super) fn component_xml(c: &Component<'_>, arch: &str, decls: &str) -> String {
    format!(
        "<component name=\"{}\" processorArchitecture=\"{}\" publicKeyToken=\"31bf3856ad364e35\" language=\"neutral\" versionScope=\"nonSxS\"{decls} xmlns:wcm=\"{WCM_NS}\" xmlns:xsi=\"{XSI_NS}\">\n{}\n</component>",
        c.name,
        escape(arch),
        indented(&content_xml(&c.content, ""), 1)
    )
}

/// A `<settings>` element holding the given components of one pass.
pub(super) fn settings_xml(
    pass: &str,
    comps: &[&Component<'_>],
    arch: &str,
    decls: &str,
) -> String {
    let mut out = format!("<settings pass=\"{pass}\"{decls}>\n");
    for c in comps {
        out.push_str(&indented(&component_xml(c, arch, ""), 1));
        out.push('\n');
    }
    out.push_str("</settings>");
    out
}

pub(super) fn package_xml(p: &ServicingPackage, decls: &str) -> String {
    format!(
        "<package action=\"install\"{decls}>\n  <assemblyIdentity name=\"{}\" version=\"{}\" processorArchitecture=\"{}\" language=\"{}\" publicKeyToken=\"{}\"/>\n  <source location=\"{}\"/>\n</package>",
        escape(p.name.as_str()),
        escape(p.version.as_str()),
        escape(p.processor_architecture.as_str()),
        escape(p.language.as_str()),
        escape(p.public_key_token.as_str()),
        escape(p.location.as_str()),
    )
}

/// The `<servicing>` element for `packages` (callers skip it when there are none).
pub(super) fn servicing_xml(packages: &[ServicingPackage], decls: &str) -> String {
    let mut out = format!("<servicing{decls}>\n");
    for p in packages {
        out.push_str(&indented(&package_xml(p, ""), 1));
        out.push('\n');
    }
    out.push_str("</servicing>");
    out
}

/// The passes of `components`, each once, in file order.
pub(super) fn passes_in_order(components: &[Component<'_>]) -> Vec<&'static str> {
    let mut passes: Vec<&'static str> = Vec::new();
    for c in components {
        if !passes.contains(&c.pass) {
            passes.push(c.pass);
        }
    }
    passes
}

/// A complete answer file holding only WAIT's components.
pub(super) fn render(plan: &UnattendPlan) -> Result<String, PipelineError> {
    let components = plan.components()?;
    let mut xml =
        format!("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<unattend xmlns=\"{UNATTEND_NS}\">\n");
    for pass in passes_in_order(&components) {
        let comps: Vec<&Component<'_>> = components.iter().filter(|c| c.pass == pass).collect();
        xml.push_str(&indented(&settings_xml(pass, &comps, &plan.arch, ""), 1));
        xml.push('\n');
    }
    if !plan.servicing.is_empty() {
        xml.push_str(&indented(&servicing_xml(&plan.servicing, ""), 1));
        xml.push('\n');
    }
    xml.push_str("</unattend>\n");
    Ok(xml)
}

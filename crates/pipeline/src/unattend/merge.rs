//! Merging WAIT's components into a customer's answer file.
//!
//! Windows rejects or ignores a second component of the same name and architecture in
//! one pass, so WAIT's settings go into the customer's component when there is one,
//! keeping everything the customer wrote. Where both say something:
//! - `DriverPaths`: ours follow theirs with the next free keyValue; a path they already
//!   list is not repeated.
//! - Shell-Setup `ProductKey`: the job's key wins (the request is the newer, explicit
//!   instruction); without a key (nokey) the file's keys are removed.
//! - Setup `UserData/ProductKey/Key`: removed for nokey, else kept (it only picks the
//!   edition to install).
//! - `FirstLogonCommands`: ours follow theirs, Orders continuing after their highest.
//! - `<servicing>`: a package they list by name keeps their entry.
//! - A component for another architecture is left alone (Windows skips it); ours use the
//!   image's.
//!
//! Every value lost or left in place against the plan becomes one conflict line.

use std::collections::HashSet;

use wait_store::mask_product_key;

use super::UnattendPlan;
use super::render::{self, Component, Content, decls};
use super::tree::Element;

const SHELL_SETUP: &str = "Microsoft-Windows-Shell-Setup";
const SETUP: &str = "Microsoft-Windows-Setup";

/// Merge `components` (and the plan's servicing packages) into `root`; returns the
/// conflict lines.
pub(super) fn merge(
    root: &mut Element,
    plan: &UnattendPlan,
    components: &[Component<'_>],
) -> Vec<String> {
    let mut conflicts = Vec::new();
    report_foreign_arch(root, &plan.arch, &mut conflicts);
    settle_setup_keys(root, plan.product_key.as_deref(), &mut conflicts);
    if plan.product_key.is_none() {
        remove_shell_setup_keys(root, &mut conflicts);
    }

    let mut new_passes = Vec::new();
    for pass in render::passes_in_order(components) {
        let ours: Vec<&Component<'_>> = components.iter().filter(|c| c.pass == pass).collect();
        if !root
            .elements()
            .any(|s| s.is("settings") && pass_is(s, pass))
        {
            new_passes.push(render::settings_xml(
                pass,
                &ours,
                &plan.arch,
                &decls(&root.scope, false),
            ));
            continue;
        }
        for c in ours {
            // A file may repeat a pass; the component is looked for in each of them.
            let target = root
                .elements_mut()
                .filter(|s| s.is("settings") && pass_is(s, pass))
                .flat_map(|s| s.elements_mut())
                .find(|e| e.is("component") && name_is(e, c.name) && merges_into(e, &plan.arch));
            if let Some(component) = target {
                merge_content(component, c, &mut conflicts);
            } else if let Some(settings) = root
                .elements_mut()
                .find(|s| s.is("settings") && pass_is(s, pass))
            {
                let markup = render::component_xml(c, &plan.arch, &decls(&settings.scope, false));
                settings.append_markup(&markup);
            }
        }
    }
    if !new_passes.is_empty() {
        // After the customer's last <settings>, so their layout stays as it was.
        let markup = new_passes.join("\n");
        match root
            .elements()
            .enumerate()
            .filter(|(_, e)| e.is("settings"))
            .last()
            .map(|(n, _)| n)
        {
            Some(n) => root.insert_markup_after_element(n, &markup),
            None => root.append_markup(&markup),
        }
    }
    merge_servicing(root, plan, &mut conflicts);
    conflicts
}

fn pass_is(settings: &Element, pass: &str) -> bool {
    settings
        .attr("pass")
        .is_some_and(|p| p.eq_ignore_ascii_case(pass))
}

fn name_is(component: &Element, name: &str) -> bool {
    component
        .attr("name")
        .is_some_and(|n| n.eq_ignore_ascii_case(name))
}

/// Whether WAIT's settings may go into this customer component: same architecture as
/// the image (a component without one is taken as meant for it).
fn merges_into(component: &Element, arch: &str) -> bool {
    component
        .attr("processorArchitecture")
        .is_none_or(|a| a.eq_ignore_ascii_case(arch))
}

/// Whether Windows applies a component of `component_arch` on an `image_arch` image.
/// wow64 components serve the 32-bit side of a 64-bit Windows.
fn arch_applies(component_arch: &str, image_arch: &str) -> bool {
    component_arch.eq_ignore_ascii_case(image_arch)
        || (component_arch.eq_ignore_ascii_case("wow64")
            && ["amd64", "arm64"]
                .iter()
                .any(|a| image_arch.eq_ignore_ascii_case(a)))
}

/// Every (settings, component) pair of the file, with the pass name.
fn components_mut(root: &mut Element) -> impl Iterator<Item = (String, &mut Element)> {
    root.elements_mut()
        .filter(|s| s.is("settings"))
        .flat_map(|s| {
            let pass = s.attr("pass").unwrap_or_default();
            s.elements_mut()
                .filter(|c| c.is("component"))
                .map(move |c| (pass.clone(), c))
        })
}

fn report_foreign_arch(root: &mut Element, arch: &str, conflicts: &mut Vec<String>) {
    for (pass, c) in components_mut(root) {
        let Some(theirs) = c.attr("processorArchitecture") else {
            continue;
        };
        if !arch_applies(&theirs, arch) {
            conflicts.push(format!(
                "{pass} {}: the answer file's component is for {theirs} but the image is {arch}, so Windows skips it; kept it unchanged (WAIT's own components use {arch})",
                c.attr("name").unwrap_or_default()
            ));
        }
    }
}

/// `Microsoft-Windows-Setup/UserData/ProductKey/Key` selects the edition Setup installs.
/// A nokey output carries no key, so it goes; with a key it stays (it only picks the
/// edition) and a difference from the job's key is reported.
fn settle_setup_keys(root: &mut Element, job_key: Option<&str>, conflicts: &mut Vec<String>) {
    for (pass, c) in components_mut(root) {
        if !name_is(c, SETUP) {
            continue;
        }
        let Some(user_data) = c.child_mut("UserData") else {
            continue;
        };
        let Some(pk) = user_data.child_mut("ProductKey") else {
            continue;
        };
        let at = format!("{pass} {SETUP}/UserData/ProductKey/Key");
        match job_key {
            None => {
                for key in pk.remove_elements(|e| e.is("Key")) {
                    let theirs = key.text();
                    if !theirs.trim().is_empty() {
                        conflicts.push(format!(
                            "{at}: removed the answer file's key {}; a nokey output carries no key",
                            mask_product_key(theirs.trim())
                        ));
                    }
                }
                // <WillShowUI> alone still means something; an empty element does not.
                if pk.elements().next().is_none() {
                    user_data.remove_elements(|e| e.is("ProductKey"));
                }
            }
            Some(ours) => {
                for key in pk.elements().filter(|e| e.is("Key")) {
                    let theirs = key.text();
                    let theirs = theirs.trim();
                    if !theirs.is_empty() && !theirs.eq_ignore_ascii_case(ours) {
                        conflicts.push(format!(
                            "{at}: the answer file has {}, the job's key is {}; kept the answer file's key (it only selects the edition to install)",
                            mask_product_key(theirs),
                            mask_product_key(ours)
                        ));
                    }
                }
            }
        }
    }
}

/// The nokey case: no `Microsoft-Windows-Shell-Setup/ProductKey` may stay, in any pass.
fn remove_shell_setup_keys(root: &mut Element, conflicts: &mut Vec<String>) {
    for (pass, c) in components_mut(root) {
        if !name_is(c, SHELL_SETUP) {
            continue;
        }
        for key in c.remove_elements(|e| e.is("ProductKey")) {
            let theirs = key.text();
            if !theirs.trim().is_empty() {
                conflicts.push(format!(
                    "{pass} {SHELL_SETUP}/ProductKey: removed the answer file's key {}; a nokey output carries no key",
                    mask_product_key(theirs.trim())
                ));
            }
        }
    }
}

/// Put one of WAIT's components' content into the customer's matching component.
fn merge_content(component: &mut Element, c: &Component<'_>, conflicts: &mut Vec<String>) {
    let Some(existing) = component.child_mut(c.element()) else {
        let markup = render::content_xml(&c.content, &decls(&component.scope, false));
        component.append_markup(&markup);
        return;
    };
    match &c.content {
        Content::DriverPaths(paths) => {
            let used: HashSet<String> = existing
                .elements()
                .filter(|e| e.is("PathAndCredentials"))
                .filter_map(|e| e.attr("keyValue"))
                .collect();
            let mut listed: HashSet<String> = existing
                .elements()
                .filter(|e| e.is("PathAndCredentials"))
                .filter_map(|e| e.child("Path"))
                .map(|p| normal_path(&p.text()))
                .collect();
            let mut next = used
                .iter()
                .filter_map(|k| k.trim().parse::<u32>().ok())
                .max()
                .unwrap_or(0)
                .saturating_add(1);
            let decls = decls(&existing.scope, true);
            for dp in paths.iter() {
                if !listed.insert(normal_path(&dp.path)) {
                    continue;
                }
                while used.contains(&next.to_string()) {
                    next = next.saturating_add(1);
                }
                existing.append_markup(&render::path_and_credentials(next, dp, &decls));
                next = next.saturating_add(1);
            }
        }
        Content::FirstLogon(cmds) => {
            let highest = existing
                .elements()
                .filter(|e| e.is("SynchronousCommand"))
                .filter_map(|e| e.child("Order"))
                .filter_map(|o| o.text().trim().parse::<u32>().ok())
                .max()
                .unwrap_or(0);
            let decls = decls(&existing.scope, true);
            for (c, order) in cmds.iter().zip(highest.saturating_add(1)..) {
                existing.append_markup(&render::synchronous_command(order, c, &decls));
            }
        }
        Content::ProductKey(ours) => {
            // The job's key wins: the request is the newer, explicit instruction. A second
            // <ProductKey> would make the component invalid, so extra ones go.
            let mut first = true;
            let extra =
                component.remove_elements(|e| e.is("ProductKey") && !std::mem::take(&mut first));
            let kept = component.child_mut("ProductKey");
            let mut theirs: Vec<String> = extra.iter().map(Element::text).collect();
            if let Some(kept) = kept {
                theirs.insert(0, kept.text());
                kept.set_text(ours);
            }
            for t in theirs {
                let t = t.trim();
                if !t.is_empty() && !t.eq_ignore_ascii_case(ours) {
                    conflicts.push(format!(
                        "specialize {SHELL_SETUP}/ProductKey: the answer file has {}, the job asks for {}; kept the job's key",
                        mask_product_key(t),
                        mask_product_key(ours)
                    ));
                }
            }
        }
    }
}

/// Windows paths compare without case and without a trailing backslash.
fn normal_path(path: &str) -> String {
    path.trim().trim_end_matches('\\').to_ascii_lowercase()
}

/// Our `<package>` entries go into the customer's `<servicing>` (or a new one); a package
/// the customer already lists by name keeps the customer's entry.
fn merge_servicing(root: &mut Element, plan: &UnattendPlan, conflicts: &mut Vec<String>) {
    if plan.servicing.is_empty() {
        return;
    }
    let Some(servicing) = root.child_mut("servicing") else {
        let markup = render::servicing_xml(&plan.servicing, &decls(&root.scope, false));
        root.append_markup(&markup);
        return;
    };
    let theirs: Vec<(String, String)> = servicing
        .elements()
        .filter(|p| p.is("package"))
        .filter_map(|p| p.child("assemblyIdentity"))
        .filter_map(|a| Some((a.attr("name")?, a.attr("version").unwrap_or_default())))
        .collect();
    let decls = decls(&servicing.scope, false);
    for p in &plan.servicing {
        match theirs.iter().find(|(n, _)| n.eq_ignore_ascii_case(&p.name)) {
            Some((_, version)) => conflicts.push(format!(
                "servicing package {}: the answer file already lists it (version {version}); kept the answer file's entry instead of WAIT's (version {})",
                p.name, p.version
            )),
            None => servicing.append_markup(&render::package_xml(p, &decls)),
        }
    }
}

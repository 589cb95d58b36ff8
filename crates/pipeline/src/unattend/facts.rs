//! Test-only reading of an answer file, independent of the merge's own tree: every
//! element, attribute and comment becomes a path fact, with namespaces resolved by
//! quick-xml's `NsReader`.
//!
//! Paths use local names; `settings` carry their pass and `component` its name and
//! architecture, e.g. `/unattend/settings[specialize]/component[Microsoft-Windows-Shell-Setup@amd64]/ProductKey`.
//! Attributes are `…/@keyValue`, comments `…/#comment`.

use std::collections::{HashMap, HashSet};

use quick_xml::NsReader;
use quick_xml::events::Event;
use quick_xml::name::{Namespace, ResolveResult};

use super::{RenderedAnswerFile, UNATTEND_NS, UnattendPlan, WCM_NS};

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Fact {
    pub path: String,
    pub text: String,
}

fn bound_to(ns: &ResolveResult<'_>, uri: &str) -> bool {
    matches!(ns, ResolveResult::Bound(Namespace(n)) if *n == uri.as_bytes())
}

/// All facts of `xml` in document order. Panics when it is not well-formed, when an
/// element is outside the unattend namespace, or a `wcm:` attribute outside WCM's.
pub(super) fn facts(xml: &str) -> Vec<Fact> {
    let mut r = NsReader::from_str(xml);
    let mut stack: Vec<(String, usize)> = Vec::new();
    let mut out: Vec<Fact> = Vec::new();
    loop {
        let (ns, event) = match r.read_resolved_event() {
            Ok(x) => x,
            Err(e) => panic!("not well-formed at {}: {e}\n{xml}", r.error_position()),
        };
        let parent = stack.last().map(|(p, _)| p.clone()).unwrap_or_default();
        match event {
            Event::Start(ref e) | Event::Empty(ref e) => {
                let local = String::from_utf8_lossy(e.local_name().as_ref()).into_owned();
                assert!(
                    bound_to(&ns, UNATTEND_NS),
                    "<{local}> under {parent} is not in the unattend namespace\n{xml}"
                );
                let mut attrs: Vec<(String, String)> = Vec::new();
                for a in e.attributes() {
                    let a = a.unwrap_or_else(|err| panic!("bad attribute under {parent}: {err}"));
                    if a.key.as_ref().starts_with(b"xmlns") {
                        continue;
                    }
                    let (ans, alocal) = r.resolve_attribute(a.key);
                    let alocal = String::from_utf8_lossy(alocal.as_ref()).into_owned();
                    // `action` of a servicing <package> is a plain attribute; elsewhere it is wcm's.
                    if alocal == "keyValue" || (alocal == "action" && local != "package") {
                        assert!(
                            bound_to(&ans, WCM_NS),
                            "@{alocal} of <{local}> under {parent} is not in the wcm namespace\n{xml}"
                        );
                    }
                    let value = a.unescape_value().expect("attribute value").into_owned();
                    attrs.push((alocal, value));
                }
                let get = |k: &str| {
                    attrs
                        .iter()
                        .find(|(n, _)| n == k)
                        .map(|(_, v)| v.clone())
                        .unwrap_or_default()
                };
                let segment = match local.as_str() {
                    "settings" => format!("settings[{}]", get("pass")),
                    "component" => {
                        format!(
                            "component[{}@{}]",
                            get("name"),
                            get("processorArchitecture")
                        )
                    }
                    _ => local.clone(),
                };
                let path = format!("{parent}/{segment}");
                let at = out.len();
                out.push(Fact {
                    path: path.clone(),
                    text: String::new(),
                });
                for (n, v) in attrs {
                    out.push(Fact {
                        path: format!("{path}/@{n}"),
                        text: v,
                    });
                }
                if matches!(event, Event::Start(_)) {
                    stack.push((path, at));
                }
            }
            Event::End(_) => {
                let (_, at) = stack.pop().expect("an open element");
                out[at].text = out[at].text.trim().to_string();
            }
            Event::Text(t) => {
                if let Some((_, at)) = stack.last() {
                    out[*at].text.push_str(&t.unescape().expect("text"));
                }
            }
            Event::CData(c) => {
                if let Some((_, at)) = stack.last() {
                    out[*at].text.push_str(&String::from_utf8_lossy(&c));
                }
            }
            Event::Comment(c) => out.push(Fact {
                path: format!("{parent}/#comment"),
                text: String::from_utf8_lossy(&c).trim().to_string(),
            }),
            Event::Eof => break,
            _ => {}
        }
    }
    out
}

pub(super) fn count(facts: &[Fact], path: &str) -> usize {
    facts.iter().filter(|f| f.path == path).count()
}

pub(super) fn texts<'a>(facts: &'a [Fact], path: &str) -> Vec<&'a str> {
    facts
        .iter()
        .filter(|f| f.path == path)
        .map(|f| f.text.as_str())
        .collect()
}

/// The path of `component` in `pass` for `arch`.
pub(super) fn component_path(pass: &str, component: &str, arch: &str) -> String {
    format!("/unattend/settings[{pass}]/component[{component}@{arch}]")
}

/// What every merge result must satisfy, whatever the input:
/// - the sections are the plan's, and each is present exactly once for the plan's arch;
/// - no pass appears twice, no component twice in a pass (same name and arch);
/// - keyValues are unique in each DriverPaths, Orders unique and increasing in each
///   FirstLogonCommands;
/// - the customer's own facts (product keys aside, which the rules may change) are all
///   still there, in their order.
pub(super) fn check_invariants(customer: &str, out: &RenderedAnswerFile, plan: &UnattendPlan) {
    let xml = &out.xml;
    let got = facts(xml);
    let sections = plan.sections().expect("sections");
    assert_eq!(out.sections, sections);
    for s in &sections {
        if s.pass == "servicing" {
            let names = texts(&got, "/unattend/servicing/package/assemblyIdentity/@name");
            let n = names
                .iter()
                .filter(|n| n.eq_ignore_ascii_case(&s.element))
                .count();
            assert_eq!(n, 1, "package {} in\n{xml}", s.element);
        } else {
            let c = component_path(&s.pass, &s.component, &plan.arch);
            assert_eq!(count(&got, &c), 1, "{c} in\n{xml}");
            let e = format!("{c}/{}", s.element);
            assert_eq!(count(&got, &e), 1, "{e} in\n{xml}");
        }
    }
    // WAIT adds no pass and no component a second time (a file that already repeats
    // one keeps its repeats).
    let theirs_all = facts(customer.trim_start_matches('\u{feff}'));
    for f in &got {
        let last = f.path.rsplit('/').next().unwrap_or_default();
        if last.starts_with("settings[") || last.starts_with("component[") {
            let n = count(&got, &f.path);
            let before = count(&theirs_all, &f.path).max(1);
            assert_eq!(n, before, "{} appears {n} times in\n{xml}", f.path);
        }
    }

    let mut keys: HashMap<&str, HashSet<&str>> = HashMap::new();
    for f in got.iter().filter(|f| {
        f.path
            .ends_with("/DriverPaths/PathAndCredentials/@keyValue")
    }) {
        assert!(
            keys.entry(f.path.as_str())
                .or_default()
                .insert(f.text.as_str()),
            "keyValue {} twice at {} in\n{xml}",
            f.text,
            f.path
        );
    }
    let mut orders: HashMap<&str, u32> = HashMap::new();
    for f in got.iter().filter(|f| {
        f.path
            .ends_with("/FirstLogonCommands/SynchronousCommand/Order")
    }) {
        let n: u32 = f.text.parse().expect("numeric Order");
        let prev = orders.insert(f.path.as_str(), n);
        assert!(
            prev.is_none_or(|p| p < n),
            "Order {n} after {prev:?} at {} in\n{xml}",
            f.path
        );
    }

    let theirs: Vec<Fact> = theirs_all
        .into_iter()
        .filter(|f| !f.path.contains("/ProductKey"))
        .collect();
    let mut rest = got.iter();
    for f in &theirs {
        assert!(
            rest.any(|g| g == f),
            "the customer's {} = {:?} is missing or out of order in\n{xml}",
            f.path,
            f.text
        );
    }
}

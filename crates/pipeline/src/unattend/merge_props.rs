//! Merging into any generated customer file keeps the invariants of `facts`: no pass or
//! component twice, every planned section once, keyValues and Orders unique, the
//! customer's own facts kept, and the key rules applied.

use proptest::prelude::*;

use super::facts::{check_invariants, component_path, facts, texts};
use super::*;

const JOB_KEY: &str = "AAAAA-BBBBB-CCCCC-DDDDD-EEEEE";
const THEIR_KEY: &str = "VVVVV-WWWWW-XXXXX-YYYYY-ZZZZZ";
const PASSES: [&str; 4] = ["windowsPE", "offlineServicing", "specialize", "oobeSystem"];
const NAMES: [&str; 5] = [
    "Microsoft-Windows-PnpCustomizationsWinPE",
    "Microsoft-Windows-PnpCustomizationsNonWinPE",
    "Microsoft-Windows-Shell-Setup",
    "Microsoft-Windows-Setup",
    "Microsoft-Windows-International-Core",
];
const ARCHES: [&str; 4] = ["amd64", "arm64", "x86", "wow64"];
const PATHS: [&str; 3] = [r"C:\WAIT\Drivers", r"D:\Vendor", r"X:\WAIT\WinPE"];
const PACKAGES: [&str; 3] = ["LangPack", "Package_for_KB1", "Package_for_KB2"];

#[derive(Debug, Clone)]
struct GenComponent {
    name: usize,
    arch: usize,
    /// keyValues, Orders or paths, depending on the component.
    entries: Vec<u8>,
    /// A key of the customer's: the job's own or another one.
    key: Option<bool>,
}

#[derive(Debug, Clone)]
struct GenSettings {
    pass: usize,
    components: Vec<GenComponent>,
}

fn component() -> impl Strategy<Value = GenComponent> {
    (
        0..NAMES.len(),
        0..ARCHES.len(),
        prop::collection::vec(0u8..6, 0..4),
        any::<Option<bool>>(),
    )
        .prop_map(|(name, arch, entries, key)| GenComponent {
            name,
            arch,
            entries,
            key,
        })
}

fn customer_file() -> impl Strategy<Value = String> {
    let settings = (0..PASSES.len(), prop::collection::vec(component(), 0..4))
        .prop_map(|(pass, components)| GenSettings { pass, components });
    (
        prop::collection::vec(settings, 0..5),
        prop::option::of(prop::collection::vec(0..PACKAGES.len(), 0..3)),
        any::<bool>(),
    )
        .prop_map(|(settings, servicing, servicing_first)| {
            render_file(&settings, servicing.as_deref(), servicing_first)
        })
}

fn component_body(c: &GenComponent) -> String {
    let mut entries = c.entries.clone();
    entries.sort_unstable();
    entries.dedup();
    let key = c.key.map(|ours| if ours { JOB_KEY } else { THEIR_KEY });
    match c.name {
        0 | 1 => {
            let items: String = entries
                .iter()
                .map(|e| {
                    format!(
                        "<PathAndCredentials wcm:action=\"add\" wcm:keyValue=\"{e}\"><Path>{}</Path></PathAndCredentials>",
                        PATHS[usize::from(*e) % PATHS.len()]
                    )
                })
                .collect();
            if entries.is_empty() {
                String::new()
            } else {
                format!("<DriverPaths>{items}</DriverPaths>")
            }
        }
        2 => {
            let mut out = key
                .map(|k| format!("<ProductKey>{k}</ProductKey>"))
                .unwrap_or_default();
            if !entries.is_empty() {
                out.push_str("<FirstLogonCommands>");
                for e in &entries {
                    out.push_str(&format!(
                        "<SynchronousCommand wcm:action=\"add\"><Order>{e}</Order><CommandLine>cmd /c echo {e}</CommandLine></SynchronousCommand>"
                    ));
                }
                out.push_str("</FirstLogonCommands>");
            }
            out.push_str("<TimeZone>UTC</TimeZone>");
            out
        }
        3 => match key {
            Some(k) => format!(
                "<UserData><AcceptEula>true</AcceptEula><ProductKey><Key>{k}</Key></ProductKey></UserData>"
            ),
            None => "<UserData><AcceptEula>true</AcceptEula></UserData>".into(),
        },
        _ => "<UILanguage>en-US</UILanguage>".into(),
    }
}

/// The customer's file: each pass and each (component, arch) of a pass at most once,
/// as Windows requires of a valid file.
fn render_file(
    settings: &[GenSettings],
    servicing: Option<&[usize]>,
    servicing_first: bool,
) -> String {
    let mut body = String::new();
    let mut passes_seen = Vec::new();
    for s in settings {
        if passes_seen.contains(&s.pass) {
            continue;
        }
        passes_seen.push(s.pass);
        let pass = PASSES[s.pass];
        if s.components.is_empty() {
            body.push_str(&format!("<settings pass=\"{pass}\"/>"));
            continue;
        }
        body.push_str(&format!("<settings pass=\"{pass}\">"));
        let mut seen = Vec::new();
        for c in &s.components {
            if seen.contains(&(c.name, c.arch)) {
                continue;
            }
            seen.push((c.name, c.arch));
            body.push_str(&format!(
                "<component name=\"{}\" processorArchitecture=\"{}\">{}</component>",
                NAMES[c.name],
                ARCHES[c.arch],
                component_body(c)
            ));
        }
        body.push_str("</settings>");
    }
    let servicing = servicing.map(|pkgs| {
        let mut out = String::from("<servicing>");
        let mut seen = Vec::new();
        for p in pkgs {
            if seen.contains(p) {
                continue;
            }
            seen.push(*p);
            out.push_str(&format!(
                "<package action=\"install\"><assemblyIdentity name=\"{}\" version=\"1.0\" processorArchitecture=\"amd64\" language=\"neutral\" publicKeyToken=\"31bf3856ad364e35\"/><source location=\"D:\\p{p}.cab\"/></package>",
                PACKAGES[*p]
            ));
        }
        out.push_str("</servicing>");
        out
    });
    let (before, after) = match (servicing, servicing_first) {
        (Some(s), true) => (s, String::new()),
        (Some(s), false) => (String::new(), s),
        (None, _) => (String::new(), String::new()),
    };
    format!(
        "<unattend xmlns=\"urn:schemas-microsoft-com:unattend\" xmlns:wcm=\"http://schemas.microsoft.com/WMIConfig/2002/State\">{before}{body}{after}</unattend>"
    )
}

fn plan() -> impl Strategy<Value = UnattendPlan> {
    (
        prop::sample::select(vec!["amd64", "arm64"]),
        prop::collection::vec(any::<bool>(), PATHS.len()),
        prop::collection::vec(any::<bool>(), PATHS.len()),
        any::<bool>(),
        prop::collection::vec(any::<bool>(), PACKAGES.len()),
        0usize..3,
    )
        .prop_map(|(arch, drivers, winpe, key, pkgs, logon)| {
            let pick = |mask: &[bool]| -> Vec<DriverPath> {
                PATHS
                    .iter()
                    .zip(mask)
                    .filter(|(_, on)| **on)
                    .map(|(p, _)| DriverPath { path: (*p).into() })
                    .collect()
            };
            UnattendPlan {
                arch: arch.into(),
                driver_paths: pick(&drivers),
                winpe_driver_paths: pick(&winpe),
                product_key: key.then(|| JOB_KEY.into()),
                servicing: PACKAGES
                    .iter()
                    .zip(&pkgs)
                    .filter(|(_, on)| **on)
                    .map(|(n, _)| ServicingPackage {
                        name: (*n).into(),
                        version: "10.0.26100.1".into(),
                        processor_architecture: arch.into(),
                        language: "neutral".into(),
                        public_key_token: "31bf3856ad364e35".into(),
                        location: format!(r"C:\WAIT\Packages\{n}.cab"),
                    })
                    .collect(),
                first_logon: (0..logon)
                    .map(|n| FirstLogonCommand {
                        command_line: format!("cmd /c echo wait {n}"),
                        description: format!("step {n}"),
                    })
                    .collect(),
            }
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn merging_never_duplicates_components_and_applies_the_key_rules(
        customer in customer_file(),
        plan in plan(),
    ) {
        let out = merge_answer_file(&customer, "gen.xml", &plan)
            .map_err(|e| TestCaseError::fail(format!("{e}\n{customer}")))?;
        check_invariants(&customer, &out, &plan);
        let got = facts(&out.xml);
        let keys: Vec<&str> = got
            .iter()
            .filter(|f| f.path.ends_with("/ProductKey") || f.path.ends_with("/ProductKey/Key"))
            .map(|f| f.text.as_str())
            .collect();
        match &plan.product_key {
            None => prop_assert!(keys.is_empty(), "a nokey output has keys {:?}\n{}", keys, out.xml),
            Some(k) => {
                let ours = component_path("specialize", "Microsoft-Windows-Shell-Setup", &plan.arch) + "/ProductKey";
                prop_assert_eq!(texts(&got, &ours), vec![k.as_str()]);
            }
        }
    }
}

//! Rendering WAIT's own answer file, and refusing answer files that cannot be merged.

use quick_xml::Reader;
use quick_xml::events::{BytesStart, Event};

use super::facts::{component_path, count, facts, texts};
use super::*;

fn plan() -> UnattendPlan {
    UnattendPlan {
        arch: "amd64".into(),
        driver_paths: vec![DriverPath {
            path: r"C:\WAIT\Drivers".into(),
        }],
        winpe_driver_paths: vec![],
        product_key: None,
        servicing: vec![],
        first_logon: vec![],
    }
}

fn package(name: &str, loc: &str) -> ServicingPackage {
    ServicingPackage {
        name: name.into(),
        version: "10.0.26100.1".into(),
        processor_architecture: "amd64".into(),
        language: "neutral".into(),
        public_key_token: "31bf3856ad364e35".into(),
        location: loc.into(),
    }
}

fn attr(e: &BytesStart<'_>, key: &[u8]) -> Option<String> {
    e.attributes()
        .flatten()
        .find(|a| a.key.local_name().as_ref() == key)
        .and_then(|a| a.unescape_value().ok().map(|v| v.into_owned()))
}

/// (name, version, arch, language, token, location) of every servicing package;
/// asserts `<servicing>` is a direct child of `<unattend>` after all settings.
fn servicing_of(xml: &str) -> Vec<[String; 6]> {
    let mut r = Reader::from_str(xml);
    let mut stack: Vec<String> = Vec::new();
    let mut out = Vec::new();
    let mut seen_servicing = false;
    loop {
        match r.read_event().expect("well-formed") {
            Event::Start(e) | Event::Empty(e) if e.local_name().as_ref() == b"assemblyIdentity" => {
                assert_eq!(stack.last().map(String::as_str), Some("package"));
                let g = |k: &[u8]| attr(&e, k).expect("identity attribute");
                out.push([
                    g(b"name"),
                    g(b"version"),
                    g(b"processorArchitecture"),
                    g(b"language"),
                    g(b"publicKeyToken"),
                    String::new(),
                ]);
            }
            Event::Empty(e) if e.local_name().as_ref() == b"source" => {
                let last: &mut [String; 6] = out.last_mut().expect("a package before its source");
                last[5] = attr(&e, b"location").expect("location");
            }
            Event::Start(e) => {
                let n = String::from_utf8_lossy(e.local_name().as_ref()).into_owned();
                if n == "servicing" {
                    assert_eq!(stack, vec!["unattend".to_string()]);
                    seen_servicing = true;
                }
                if n == "settings" {
                    assert!(!seen_servicing, "settings after servicing");
                }
                stack.push(n);
            }
            Event::End(_) => {
                stack.pop();
            }
            Event::Eof => break,
            _ => {}
        }
    }
    out
}

#[test]
fn servicing_packages_are_rendered_in_order_with_full_identity() {
    let mut p = plan();
    p.servicing = vec![
        package("LangPack", r"C:\WAIT\Packages\LangPacks\lp.cab"),
        package("Package_for_KB1", r"C:\WAIT\Packages\Updates\kb1.cab"),
    ];
    for xml in [
        render_unattend(&p).unwrap().xml,
        merge_answer_file(
            r#"<unattend xmlns="urn:schemas-microsoft-com:unattend"><settings pass="oobeSystem"/></unattend>"#,
            "a.xml",
            &p,
        )
        .unwrap()
        .xml,
    ] {
        let pkgs = servicing_of(&xml);
        assert_eq!(pkgs.len(), 2, "{xml}");
        assert_eq!(pkgs[0][0], "LangPack");
        assert_eq!(pkgs[1][0], "Package_for_KB1");
        assert_eq!(pkgs[0][4], "31bf3856ad364e35");
        assert_eq!(pkgs[0][3], "neutral");
        assert_eq!(pkgs[1][5], r"C:\WAIT\Packages\Updates\kb1.cab");
    }
}

#[test]
fn user_servicing_is_kept_as_it_is_when_no_packages_are_added() {
    let user = r#"<unattend xmlns="urn:schemas-microsoft-com:unattend"><servicing/></unattend>"#;
    let out = merge_answer_file(user, "a.xml", &plan()).unwrap();
    let f = facts(&out.xml);
    assert_eq!(count(&f, "/unattend/servicing"), 1);
    assert_eq!(count(&f, "/unattend/servicing/package"), 0);
    assert!(out.conflicts.is_empty());
}

#[test]
fn first_logon_commands_go_to_oobe_system() {
    let mut p = plan();
    p.first_logon = vec![FirstLogonCommand {
        command_line: r#"msiexec /i "C:\WAIT\Software\a.msi" /qn /norestart"#.into(),
        description: "Install a.msi".into(),
    }];
    let xml = render_unattend(&p).unwrap().xml;
    let f = facts(&xml);
    let cmd = format!(
        "{}/FirstLogonCommands/SynchronousCommand",
        component_path("oobeSystem", "Microsoft-Windows-Shell-Setup", "amd64")
    );
    assert_eq!(texts(&f, &format!("{cmd}/Order")), ["1"]);
    assert_eq!(
        texts(&f, &format!("{cmd}/CommandLine")),
        [r#"msiexec /i "C:\WAIT\Software\a.msi" /qn /norestart"#]
    );
    assert_eq!(texts(&f, &format!("{cmd}/RequiresUserInput")), ["false"]);
    assert_eq!(texts(&f, &format!("{cmd}/@action")), ["add"]);
}

#[test]
fn rendered_file_lists_driver_paths_in_offline_servicing() {
    let xml = render_unattend(&plan()).unwrap().xml;
    let f = facts(&xml);
    let dp = format!(
        "{}/DriverPaths/PathAndCredentials",
        component_path(
            "offlineServicing",
            "Microsoft-Windows-PnpCustomizationsNonWinPE",
            "amd64"
        )
    );
    assert_eq!(texts(&f, &format!("{dp}/Path")), [r"C:\WAIT\Drivers"]);
    assert_eq!(texts(&f, &format!("{dp}/@keyValue")), ["1"]);
    assert!(xml.starts_with("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"));
}

#[test]
fn product_key_goes_to_specialize() {
    let mut p = plan();
    p.product_key = Some("AAAAA-BBBBB-CCCCC-DDDDD-EEEEE".into());
    let f = facts(&render_unattend(&p).unwrap().xml);
    let pk = format!(
        "{}/ProductKey",
        component_path("specialize", "Microsoft-Windows-Shell-Setup", "amd64")
    );
    assert_eq!(texts(&f, &pk), ["AAAAA-BBBBB-CCCCC-DDDDD-EEEEE"]);
}

#[test]
fn malformed_answer_files_are_refused_with_the_file_name_and_position() {
    // (input, what the message says, byte position it names)
    let cases: &[(&str, &str, Option<usize>)] = &[
        ("", "no <unattend>", None),
        ("   ", "no <unattend>", None),
        ("<!-- only a comment -->", "no <unattend>", None),
        ("<notunattend/>", "root element", Some(0)),
        ("\u{feff}<notunattend/>", "root element", Some(3)),
        (
            "<?xml version=\"1.0\"?>\n<answers/>",
            "root element",
            Some(22),
        ),
        ("<unattend><settings pass=\"x\">", "not closed", Some(29)),
        (
            "<unattend></settings></unattend>",
            "not well-formed",
            Some(10),
        ),
        ("<unattend><a></b></unattend>", "not well-formed", Some(13)),
        (
            "<?xml version=\"1.0\"?>\n<!DOCTYPE unattend [<!ENTITY x SYSTEM \"file:///etc/passwd\">]><unattend/>",
            "DOCTYPE",
            Some(22),
        ),
        ("<unattend/><unattend/>", "second root", Some(11)),
        ("<unattend/>\njunk", "text outside the root", Some(11)),
        ("junk<unattend/>", "text outside the root", Some(0)),
        (
            "<unattend><a>&bogus;</a></unattend>",
            "not well-formed",
            Some(13),
        ),
        ("<unattend a=\"1\" a=\"2\"/>", "not well-formed", Some(0)),
        (
            "<unattend><a b=\"&bogus;\"/></unattend>",
            "not well-formed",
            Some(10),
        ),
        // The forbidden `--` itself is at byte 17.
        (
            "<unattend><!-- a -- b --></unattend>",
            "not well-formed",
            Some(17),
        ),
        (
            "<unattend><!-- never closed</unattend>",
            "not well-formed",
            Some(10),
        ),
    ];
    for (xml, want, at) in cases {
        let err = merge_answer_file(xml, "5_AnswerFiles/B/x.xml", &plan()).unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("5_AnswerFiles/B/x.xml"), "{xml:?}: {msg}");
        assert!(msg.contains(want), "{xml:?}: {msg}");
        if let Some(at) = at {
            assert!(msg.contains(&format!("byte {at}")), "{xml:?}: {msg}");
        }
        assert!(!err.is_transient(), "{xml:?}");
    }
}

#[test]
fn overlong_driver_path_is_refused() {
    let mut p = plan();
    p.driver_paths = vec![DriverPath {
        path: "C:\\".to_string() + &"a".repeat(300),
    }];
    assert!(render_unattend(&p).is_err());
    assert!(merge_answer_file("<unattend/>", "a.xml", &p).is_err());
}

#[test]
fn another_declared_encoding_becomes_utf8_and_a_bom_is_dropped() {
    let user = "\u{feff}<?xml version=\"1.0\" encoding=\"windows-1252\" standalone=\"yes\"?>\n<unattend xmlns=\"urn:schemas-microsoft-com:unattend\"><settings pass=\"specialize\"><component name=\"Microsoft-Windows-Shell-Setup\" processorArchitecture=\"amd64\"><ComputerName>Caf\u{e9}</ComputerName></component></settings></unattend>";
    let out = merge_answer_file(user, "a.xml", &plan()).unwrap().xml;
    let mut r = Reader::from_str(&out);
    let mut decl = None;
    loop {
        match r.read_event().expect("well-formed") {
            Event::Decl(d) => {
                let enc = d.encoding().expect("an encoding").expect("readable");
                let sa = d.standalone().expect("standalone").expect("readable");
                decl = Some((
                    String::from_utf8_lossy(&enc).into_owned(),
                    String::from_utf8_lossy(&sa).into_owned(),
                ));
            }
            Event::Eof => break,
            _ => {}
        }
    }
    assert_eq!(decl, Some(("utf-8".into(), "yes".into())));
    assert!(!out.starts_with('\u{feff}'));
    let f = facts(&out);
    let cn = format!(
        "{}/ComputerName",
        component_path("specialize", "Microsoft-Windows-Shell-Setup", "amd64")
    );
    assert_eq!(texts(&f, &cn), ["Caf\u{e9}"]);
}

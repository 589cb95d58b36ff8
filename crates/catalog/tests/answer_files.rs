//! `inspect_answer_file`: the generated answer file, product keys, driver paths, and
//! broken files with their line numbers.

use wait_catalog::inspect_answer_file;

const HEAD: &str = r#"<?xml version="1.0" encoding="utf-8"?>
<unattend xmlns="urn:schemas-microsoft-com:unattend" xmlns:wcm="http://schemas.microsoft.com/WMIConfig/2002/State">
"#;

#[test]
fn generated_answer_file_is_read() {
    let dir = tempfile::tempdir().expect("tempdir");
    let rel = wait_catalog::fixtures::write_answer_file(dir.path(), "X13SAW").expect("answer");
    let bytes = std::fs::read(dir.path().join(&rel)).expect("read");
    let r = inspect_answer_file("autounattend.xml", &bytes);
    assert!(r.well_formed, "{:?}", r.problems);
    assert!(r.problems.is_empty(), "{:?}", r.problems);
    assert_eq!(r.passes, vec!["windowsPE", "specialize", "oobeSystem"]);
    assert!(
        r.components
            .contains(&("windowsPE".into(), "Microsoft-Windows-Setup".into()))
    );
    assert!(!r.sets_product_key);
    assert!(!r.sets_driver_paths);
}

#[test]
fn product_keys_and_driver_paths_are_seen_in_utf8_and_utf16() {
    let text = format!(
        "{HEAD}<settings pass=\"windowsPE\"><component name=\"Microsoft-Windows-Setup\"><UserData><ProductKey><Key>AAAAA-BBBBB-CCCCC-DDDDD-EEEEE</Key></ProductKey></UserData></component>\
<component name=\"Microsoft-Windows-PnpCustomizationsWinPE\"><DriverPaths><PathAndCredentials wcm:action=\"add\" wcm:keyValue=\"1\"><Path>D:\\Drivers</Path></PathAndCredentials></DriverPaths></component></settings></unattend>"
    );
    let r = inspect_answer_file("a.xml", text.as_bytes());
    assert!(
        r.well_formed && r.sets_product_key && r.sets_driver_paths,
        "{r:?}"
    );
    let mut utf16 = vec![0xFF, 0xFE];
    for u in text.encode_utf16() {
        utf16.extend_from_slice(&u.to_le_bytes());
    }
    let r16 = inspect_answer_file("a.xml", &utf16);
    assert!(r16.sets_product_key && r16.sets_driver_paths, "{r16:?}");

    let spec = format!(
        "{HEAD}<settings pass=\"specialize\"><component name=\"Microsoft-Windows-Shell-Setup\"><ProductKey>AAAAA-BBBBB-CCCCC-DDDDD-EEEEE</ProductKey></component></settings></unattend>"
    );
    assert!(inspect_answer_file("s.xml", spec.as_bytes()).sets_product_key);
    let empty = spec.replace("AAAAA-BBBBB-CCCCC-DDDDD-EEEEE", "");
    assert!(!inspect_answer_file("s.xml", empty.as_bytes()).sets_product_key);
}

#[test]
fn broken_answer_files_give_problems_with_lines() {
    let cases: Vec<(&str, String, bool, Option<u32>, &str)> = vec![
        ("unclosed", format!("{HEAD}<settings pass=\"windowsPE\">\n<component name=\"a\">\n</settings></unattend>"), false, Some(5), "not well-formed"),
        ("doctype", "<?xml version=\"1.0\"?>\n<!DOCTYPE u [<!ENTITY a \"b\">]>\n<unattend/>".into(), false, Some(2), "DOCTYPE"),
        ("wrong root", "<?xml version=\"1.0\"?>\n<answers xmlns=\"urn:schemas-microsoft-com:unattend\"><settings pass=\"specialize\"><component name=\"c\"/></settings></answers>".into(), true, Some(2), "expected <unattend>"),
        ("wrong namespace", "<unattend xmlns=\"urn:other\"><settings pass=\"specialize\"><component name=\"c\"/></settings></unattend>".into(), true, Some(1), "namespace"),
        ("no passes", format!("{HEAD}</unattend>"), true, None, "configures nothing"),
        ("bad pass", format!("{HEAD}\n<settings pass=\"lunch\"><component name=\"c\"/></settings></unattend>"), true, Some(4), "unknown pass"),
        ("empty", String::new(), false, Some(1), "no root"),
    ];
    for (what, text, well_formed, line, needle) in cases {
        let r = inspect_answer_file("x.xml", text.as_bytes());
        assert_eq!(r.well_formed, well_formed, "{what}: {r:?}");
        let p = r
            .problems
            .iter()
            .find(|p| p.message.contains(needle))
            .unwrap_or_else(|| panic!("{what}: {r:?}"));
        assert_eq!(p.line, line, "{what}: {p:?}");
    }
    let deep = format!("{HEAD}{}", "<a>".repeat(200));
    let r = inspect_answer_file("deep.xml", deep.as_bytes());
    assert!(
        !r.well_formed && r.problems[0].message.contains("deeper"),
        "{r:?}"
    );
}

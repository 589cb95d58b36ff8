//! `update.mum` and `*-pkgProperties.txt`: good files and malformed tables.

use wait_catalog::packages::{PackageProblem, parse_pkg_properties, parse_update_mum};

const MUM: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<assembly xmlns="urn:schemas-microsoft-com:asm.v3" manifestVersion="1.0" description="Fix for KB5043080" displayName="default" company="Microsoft Corporation" copyright="Microsoft Corporation" supportInformation="https://support.microsoft.com/help/5043080">
  <assemblyIdentity name="Package_for_RollupFix" version="26100.1742.1.10" processorArchitecture="amd64" language="neutral" publicKeyToken="31bf3856ad364e35" buildType="release"/>
  <package identifier="KB5043080" releaseType="Update" restart="possible" targetPartition="MainOS" binaryPartition="false">
    <parent buildCompare="EQ" integrate="separate" disposition="detect">
      <assemblyIdentity name="Microsoft-Windows-Foundation-Package" version="10.0.26100.1" processorArchitecture="amd64" language="neutral" publicKeyToken="31bf3856ad364e35"/>
    </parent>
    <update name="b8c7e0b1c0c1d0a5e6f7a8b9c0d1e2f3">
      <component>
        <assemblyIdentity name="Other" version="1.0.0.0" processorArchitecture="amd64" language="neutral" publicKeyToken="31bf3856ad364e35"/>
      </component>
    </update>
  </package>
</assembly>
"#;

const LANGUAGE_PACK_MUM: &str = r#"<?xml version="1.0" encoding="utf-8"?>
<a:assembly xmlns:a="urn:schemas-microsoft-com:asm.v3" manifestVersion="1.0">
  <a:assemblyIdentity name="Microsoft-Windows-Client-LanguagePack-Package" version="10.0.26100.1" processorArchitecture="amd64" language="de-DE" publicKeyToken="31bf3856ad364e35"/>
  <a:package identifier="Language Pack" releaseType="Language Pack" restart="required"/>
</a:assembly>
"#;

fn utf16le_bom(text: &str) -> Vec<u8> {
    let mut out = vec![0xFF, 0xFE];
    for unit in text.encode_utf16() {
        out.extend_from_slice(&unit.to_le_bytes());
    }
    out
}

#[test]
fn update_mum_gives_identity_and_package() {
    let mum = parse_update_mum("x.cab/update.mum", MUM.as_bytes()).expect("parse");
    assert_eq!(mum.identity.name, "Package_for_RollupFix");
    assert_eq!(mum.identity.version, "26100.1742.1.10");
    assert_eq!(mum.identity.processor_architecture, "amd64");
    assert_eq!(mum.identity.language, "neutral");
    assert_eq!(mum.identity.public_key_token, "31bf3856ad364e35");
    assert_eq!(
        mum.identity.dism_identity(),
        "Package_for_RollupFix~31bf3856ad364e35~amd64~~26100.1742.1.10"
    );
    assert_eq!(mum.package.identifier.as_deref(), Some("KB5043080"));
    assert_eq!(mum.package.kb_number(), Some(5_043_080));
    assert_eq!(mum.package.release_type.as_deref(), Some("Update"));
    assert_eq!(mum.package.restart.as_deref(), Some("possible"));
    assert_eq!(mum.description.as_deref(), Some("Fix for KB5043080"));

    let lp = parse_update_mum("lp.cab/update.mum", &utf16le_bom(LANGUAGE_PACK_MUM)).expect("lp");
    assert_eq!(
        lp.identity.dism_identity(),
        "Microsoft-Windows-Client-LanguagePack-Package~31bf3856ad364e35~amd64~de-DE~10.0.26100.1"
    );
    assert_eq!(lp.package.kb_number(), None);
    assert_eq!(lp.package.release_type.as_deref(), Some("Language Pack"));

    // Character references and predefined entities are fine.
    let escaped = MUM.replace("Package_for_RollupFix", "A&amp;B&#x41;");
    let m = parse_update_mum("e.mum", escaped.as_bytes()).expect("escaped");
    assert_eq!(m.identity.name, "A&BA");
}

type Check = fn(&PackageProblem) -> bool;

#[test]
fn malformed_update_mum_is_refused_with_file_and_line() {
    let huge = MUM.replace("KB5043080\"", &format!("KB{}\"", "9".repeat(10_000)));
    let table: Vec<(&str, Vec<u8>, Check)> = vec![
        ("not XML", b"this is not xml at all".to_vec(), |p| {
            matches!(p, PackageProblem::NotXml(_))
        }),
        ("empty", Vec::new(), |p| matches!(p, PackageProblem::NotXml(_))),
        ("binary", b"<assembly>\0\0\0\x01</assembly>".to_vec(), |p| {
            matches!(p, PackageProblem::Binary { .. })
        }),
        ("unclosed root", MUM.replace("</assembly>", "").into_bytes(), |p| {
            matches!(p, PackageProblem::NotXml(_))
        }),
        ("mismatched end tag", MUM.replace("</package>", "</pkg>").into_bytes(), |p| {
            matches!(p, PackageProblem::NotXml(_))
        }),
        (
            "missing identity",
            MUM.replace("<assemblyIdentity name=\"Package_for", "<other name=\"Package_for")
                .into_bytes(),
            |p| matches!(p, PackageProblem::MissingElement("assemblyIdentity")),
        ),
        (
            "missing package",
            MUM.replace("<package ", "<notpackage ")
                .replace("</package>", "</notpackage>")
                .into_bytes(),
            |p| matches!(p, PackageProblem::MissingElement("package")),
        ),
        (
            "missing publicKeyToken",
            MUM.replacen(" publicKeyToken=\"31bf3856ad364e35\" buildType", " buildType", 1)
                .into_bytes(),
            |p| {
                matches!(p, PackageProblem::MissingAttribute { attribute: "publicKeyToken", .. })
            },
        ),
        (
            "missing language",
            MUM.replacen(" language=\"neutral\" publicKeyToken=\"31bf3856ad364e35\" buildType", " publicKeyToken=\"31bf3856ad364e35\" buildType", 1)
                .into_bytes(),
            |p| matches!(p, PackageProblem::MissingAttribute { attribute: "language", .. }),
        ),
        (
            "empty version",
            MUM.replacen("version=\"26100.1742.1.10\"", "version=\"\"", 1).into_bytes(),
            |p| matches!(p, PackageProblem::MissingAttribute { attribute: "version", .. }),
        ),
        (
            "wrong root",
            b"<?xml version=\"1.0\"?><unattend xmlns=\"urn:schemas-microsoft-com:unattend\"/>"
                .to_vec(),
            |p| matches!(p, PackageProblem::WrongRoot { found } if found == "unattend"),
        ),
        (
            "wrong namespace",
            MUM.replace("asm.v3", "asm.v1").into_bytes(),
            |p| matches!(p, PackageProblem::WrongNamespace { .. }),
        ),
        (
            "DOCTYPE with entities (billion laughs)",
            format!(
                "<?xml version=\"1.0\"?>\n<!DOCTYPE lolz [\n<!ENTITY lol \"lol\">\n<!ENTITY lol2 \"&lol;&lol;&lol;&lol;\">\n]>\n{}",
                MUM.split_once("?>").map(|(_, rest)| rest).unwrap_or(MUM).replace("Package_for_RollupFix", "&lol2;")
            )
            .into_bytes(),
            |p| matches!(p, PackageProblem::DocType),
        ),
        (
            "external entity",
            b"<?xml version=\"1.0\"?><!DOCTYPE a [<!ENTITY x SYSTEM \"file:///etc/passwd\">]><assembly xmlns=\"urn:schemas-microsoft-com:asm.v3\">&x;</assembly>".to_vec(),
            |p| matches!(p, PackageProblem::DocType),
        ),
        (
            "undefined entity in an attribute",
            MUM.replace("Package_for_RollupFix", "&undefined;").into_bytes(),
            |p| matches!(p, PackageProblem::NotXml(_)),
        ),
        ("huge attribute", huge.into_bytes(), |p| {
            matches!(p, PackageProblem::TooLong { .. })
        }),
        ("second root", format!("{MUM}<assembly/>").into_bytes(), |p| {
            matches!(p, PackageProblem::NotXml(_))
        }),
        (
            "too deep",
            format!(
                "<assembly xmlns=\"urn:schemas-microsoft-com:asm.v3\">{}",
                "<a>".repeat(100)
            )
            .into_bytes(),
            |p| matches!(p, PackageProblem::TooDeep { .. }),
        ),
        (
            "too many attributes",
            MUM.replacen("<assembly ", &format!("<assembly {}", (0..100).map(|i| format!("a{i}=\"\" ")).collect::<String>()), 1)
                .into_bytes(),
            |p| matches!(p, PackageProblem::TooManyAttributes { .. }),
        ),
        ("too large", vec![b' '; 17 * 1024 * 1024], |p| {
            matches!(p, PackageProblem::TooLarge { .. })
        }),
    ];
    for (what, bytes, check) in table {
        let err = parse_update_mum("pkg.cab/update.mum", &bytes).expect_err(what);
        assert!(check(&err.problem), "{what}: {err}");
        assert_eq!(err.file, "pkg.cab/update.mum");
        assert!(err.line >= 1, "{what}: {err}");
        assert!(
            err.to_string().starts_with("pkg.cab/update.mum, line "),
            "{err}"
        );
    }
    // The line points at the offending element.
    let err = parse_update_mum(
        "m",
        MUM.replacen(
            " language=\"neutral\" publicKeyToken=\"31bf3856ad364e35\" buildType",
            " publicKeyToken=\"31bf3856ad364e35\" buildType",
            1,
        )
        .as_bytes(),
    )
    .expect_err("missing language");
    assert_eq!(err.line, 3, "{err}");
}

const PROPS: &str = "ApplicabilityInfo=\"Windows 11.0\"\r\n\
Applies to=\"Windows 11\"\r\n\
Build Date=\"2024/09/06\"\r\n\
Company=\"Microsoft Corporation\"\r\n\
File Version=\"10.0.26100.1742\"\r\n\
Installation Type=\"Software Update\"\r\n\
Installer Engine=\"Component Based Servicing API\"\r\n\
KB Article Number=\"5043080\"\r\n\
Language=\"ALL\"\r\n\
Package Type=\"Update\"\r\n\
Processor Architecture=\"amd64\"\r\n\
Product Name=\"Windows 11, version 24H2\"\r\n\
Support Link=\"http://support.microsoft.com/?kbid=5043080\"\r\n";

#[test]
fn pkg_properties_in_both_encodings_and_the_psfx_variant() {
    let name = "windows11.0-kb5043080-x64-pkgProperties.txt";
    for bytes in [PROPS.as_bytes().to_vec(), utf16le_bom(PROPS)] {
        let p = parse_pkg_properties(name, &bytes).expect("parse");
        assert!(!p.psfx);
        assert_eq!(p.kb, 5_043_080);
        assert_eq!(p.kb_article(), "KB5043080");
        assert_eq!(p.applies_to.as_deref(), Some("Windows 11"));
        assert_eq!(p.build_date.as_deref(), Some("2024/09/06"));
        assert_eq!(p.language.as_deref(), Some("ALL"));
        assert_eq!(p.package_type.as_deref(), Some("Update"));
        assert_eq!(p.processor_architecture.as_deref(), Some("amd64"));
        assert_eq!(p.product_name.as_deref(), Some("Windows 11, version 24H2"));
        assert_eq!(p.installation_type.as_deref(), Some("Software Update"));
        assert_eq!(p.other.len(), 5);
        assert_eq!(
            p.other[0],
            ("ApplicabilityInfo".to_string(), "Windows 11.0".to_string())
        );
    }
    let psfx = parse_pkg_properties(
        "Windows11.0-KB5043080-x64-pkgProperties_PSFX.txt",
        b"KB Article Number=KB5043080\nProcessor  Architecture = amd64\n\n",
    )
    .expect("psfx");
    assert!(psfx.psfx);
    assert_eq!(psfx.kb, 5_043_080);
    assert_eq!(psfx.processor_architecture.as_deref(), Some("amd64"));
}

#[test]
fn malformed_pkg_properties_are_refused_with_file_and_line() {
    let table: Vec<(&str, Vec<u8>, usize, Check)> = vec![
        (
            "binary",
            b"KB Article Number=\"1\"\n\x00\x01\x02".to_vec(),
            2,
            |p| matches!(p, PackageProblem::Binary { .. }),
        ),
        (
            "no '='",
            format!("{PROPS}just some words\r\n").into_bytes(),
            14,
            |p| matches!(p, PackageProblem::NoEquals),
        ),
        ("empty key", b"=\"x\"\n".to_vec(), 1, |p| {
            matches!(p, PackageProblem::EmptyKey)
        }),
        (
            "unterminated quote",
            PROPS.replace("\"Windows 11\"", "\"Windows 11").into_bytes(),
            2,
            |p| matches!(p, PackageProblem::UnterminatedQuote),
        ),
        (
            "missing KB",
            PROPS
                .replace("KB Article Number=\"5043080\"\r\n", "")
                .into_bytes(),
            0,
            |p| matches!(p, PackageProblem::MissingKey("KB Article Number")),
        ),
        (
            "KB not a number",
            PROPS.replace("\"5043080\"", "\"soon\"").into_bytes(),
            8,
            |p| matches!(p, PackageProblem::BadValue { .. }),
        ),
        ("huge file", vec![b'a'; 2 * 1024 * 1024], 1, |p| {
            matches!(p, PackageProblem::TooLarge { .. })
        }),
    ];
    for (what, bytes, line, check) in table {
        let err = parse_pkg_properties("p-pkgProperties.txt", &bytes).expect_err(what);
        assert!(check(&err.problem), "{what}: {err}");
        assert_eq!(err.file, "p-pkgProperties.txt");
        if line != 0 {
            assert_eq!(err.line, line, "{what}: {err}");
        }
        assert!(
            err.to_string().starts_with("p-pkgProperties.txt, line "),
            "{err}"
        );
    }
}

#[test]
fn many_namespace_declarations_cost_linear_work() {
    // A namespace-aware reader would search 20,000 bindings for each of 20,000 elements.
    let declarations: String = (0..20_000).map(|i| format!(" xmlns:p{i}=\"u\"")).collect();
    let doc = MUM.replacen(
        "<package ",
        &format!("<x{declarations}>{}</x><package ", "<y/>".repeat(20_000)),
        1,
    );
    let mum = parse_update_mum("ns.mum", doc.as_bytes()).expect("parse");
    assert_eq!(mum.package.kb_number(), Some(5_043_080));
}

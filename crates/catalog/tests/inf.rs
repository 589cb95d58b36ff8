//! The INF parser: fixture INFs, encodings, syntax corners, applicability and malformed
//! input. Tables first, one loop each.

use wait_catalog::TextEncoding;
use wait_catalog::inf::{InfArch, InfFile, InfProblem, parse_inf};

/// A minimal valid INF around the given `[Manufacturer]` and models sections.
fn inf(manufacturer: &str, models: &str) -> String {
    format!(
        "[Version]\r\nSignature=\"$WINDOWS NT$\"\r\nClass=Net\r\nProvider=%P%\r\n\
         DriverVer=01/02/2024,1.2.3.4\r\nCatalogFile=x.cat\r\n\r\n\
         [Manufacturer]\r\n{manufacturer}\r\n\r\n{models}\r\n[Strings]\r\nP=\"Prov\"\r\nM=\"Maker\"\r\n"
    )
}

fn utf16le(text: &str, bom: bool) -> Vec<u8> {
    let mut out = if bom { vec![0xFF, 0xFE] } else { Vec::new() };
    for unit in text.encode_utf16() {
        out.extend_from_slice(&unit.to_le_bytes());
    }
    out
}

fn parse(text: &str) -> InfFile {
    parse_inf("test.inf", text.as_bytes()).unwrap_or_else(|e| panic!("{e}\n{text}"))
}

#[test]
fn every_fixture_inf_parses_with_its_facts() {
    let dir = tempfile::tempdir().expect("tempdir");
    wait_catalog::fixtures::write_board_drivers(dir.path(), "X13SAW", 7).expect("fixtures");
    let set = dir.path().join("2_Drivers/X13SAW/WINDOWS11_X64");
    // (relative path, class, encoding, number of devices)
    let table = [
        (
            "chipset/SerialIO/iaLPSS2_I2C_ADL.inf",
            "System",
            TextEncoding::Utf8,
            2,
        ),
        ("chipset/MEI/heci.inf", "System", TextEncoding::Utf8, 1),
        ("network/I226/e2f.inf", "Net", TextEncoding::Utf8, 2),
        ("network/I219/e1d.inf", "Net", TextEncoding::Utf8, 2),
        (
            "storage/RST_VMD/iaStorVD.inf",
            "SCSIAdapter",
            TextEncoding::Utf16LeBom,
            2,
        ),
    ];
    for (rel, class, encoding, devices) in table {
        let bytes = std::fs::read(set.join(rel)).expect("read");
        let inf = parse_inf(rel, &bytes).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(inf.encoding, encoding, "{rel}");
        assert_eq!(inf.signature, "$WINDOWS NT$", "{rel}");
        assert_eq!(inf.class.as_deref(), Some(class), "{rel}");
        assert!(
            inf.class_guid
                .as_deref()
                .is_some_and(|g| g.starts_with('{')),
            "{rel}"
        );
        assert_eq!(inf.provider.as_deref(), Some("Intel"), "{rel}");
        let ver = inf.driver_ver.expect("DriverVer");
        assert!((2023..=2025).contains(&ver.date.year), "{rel}");
        assert!(ver.version.is_some(), "{rel}");
        let stem = rel
            .rsplit('/')
            .next()
            .and_then(|f| f.strip_suffix(".inf"))
            .expect("stem");
        assert_eq!(
            inf.catalog_file_for(InfArch::Amd64),
            Some(format!("{stem}.cat").as_str())
        );
        assert_eq!(inf.manufacturers.len(), 1, "{rel}");
        let m = &inf.manufacturers[0];
        assert_eq!(m.name, "Intel Corporation");
        assert_eq!(m.sections.len(), 1, "{rel}: only the decorated section");
        let s = &m.sections[0];
        assert_eq!(s.name, "Models.NTamd64.10.0...22000");
        assert!(s.present);
        assert_eq!(s.devices.len(), devices, "{rel}");
        for d in &s.devices {
            assert!(d.description.starts_with("Intel(R)"), "{}", d.description);
            assert!(d.install_section.ends_with("_Inst"));
            let id = d.hardware_id.as_deref().expect("hardware id");
            assert!(id.starts_with("PCI\\VEN_8086&DEV_"), "{id}");
        }
        assert!(inf.warnings.is_empty(), "{rel}: {:?}", inf.warnings);
        let on_24h2 = inf.applies_to(InfArch::Amd64, 10, 0, 26100);
        assert!(on_24h2.applies, "{}", on_24h2.reason);
        assert_eq!(on_24h2.section(), Some("Models.NTamd64.10.0...22000"));
        assert_eq!(on_24h2.hardware_ids().len(), devices);
        let on_ltsc_2021 = inf.applies_to(InfArch::Amd64, 10, 0, 19044);
        assert!(!on_ltsc_2021.applies);
        assert!(
            on_ltsc_2021.reason.contains("needs build 22000"),
            "{}",
            on_ltsc_2021.reason
        );
    }
}

type Check = fn(&InfFile);

#[test]
fn good_inputs_parse_as_expected() {
    let table: Vec<(&str, Vec<u8>, Check)> = vec![
        (
            "UTF-16LE without BOM",
            utf16le(&inf("%M%=Models,NTamd64", "[Models.NTamd64]\r\n%D%=I,PCI\\A"), false),
            |f| {
                assert_eq!(f.encoding, TextEncoding::Utf16Le);
                assert_eq!(f.manufacturers[0].name, "Maker");
            },
        ),
        (
            "UTF-16LE with BOM",
            utf16le(&inf("%M%=Models,NTamd64", "[Models.NTamd64]\r\nD=I,PCI\\A"), true),
            |f| assert_eq!(f.encoding, TextEncoding::Utf16LeBom),
        ),
        (
            "UTF-8 with BOM, LF line ends, section names in any case",
            [
                b"\xEF\xBB\xBF".as_slice(),
                inf("%m%=Models", "[MODELS]\nD=I,PCI\\A").replace("\r\n", "\n").as_bytes(),
            ]
            .concat(),
            |f| {
                assert_eq!(f.encoding, TextEncoding::Utf8Bom);
                assert_eq!(f.manufacturers[0].name, "Maker");
                assert_eq!(f.manufacturers[0].sections[0].devices.len(), 1);
            },
        ),
        (
            "Windows-1252 bytes",
            [
                inf("%M%=Models", "[Models]\r\n").as_bytes(),
                b"[strings.0407]\r\nD=\"Ger\xE4t \x80\"\r\n".as_slice(),
            ]
            .concat(),
            |f| assert_eq!(f.encoding, TextEncoding::Windows1252),
        ),
        (
            "decorated, undecorated and multi-arch manufacturer lines",
            inf(
                "%M%=Models,NTx86,NTamd64.10.0...22000,NTarm64\r\nOther=Legacy",
                "[Models.NTx86]\r\nA=I,ID_X86\r\n[Models.NTamd64.10.0...22000]\r\nB=I,ID_AMD64\r\n\
                 [models.ntarm64]\r\nC=I,ID_ARM64\r\n[Legacy]\r\nD=I,ID_LEGACY\r\n",
            )
            .into_bytes(),
            |f| {
                assert_eq!(f.manufacturers.len(), 2);
                let m = &f.manufacturers[0];
                assert_eq!(m.targets.len(), 3);
                assert_eq!(m.sections.len(), 3, "no [Models] section, so none undecorated");
                assert_eq!(f.manufacturers[1].models, "Legacy");
                assert!(f.manufacturers[1].sections[0].target.is_none());
                let arm = f.applies_to(InfArch::Arm64, 10, 0, 26100);
                assert_eq!(arm.hardware_ids(), ["ID_ARM64"]);
                let x86 = f.applies_to(InfArch::X86, 10, 0, 19044);
                assert_eq!(x86.hardware_ids(), ["ID_X86", "ID_LEGACY"]);
            },
        ),
        (
            "continuation lines, comments inside and outside quotes",
            inf(
                "%M%=Models,\\\r\n   NTamd64 ; the 64-bit one",
                "[Models.NTamd64]\r\n\"Desc; not a comment\" = Inst, \\\r\n PCI\\A, \\ ; note\r\n PCI\\B, \"C;D\"\r\n",
            )
            .into_bytes(),
            |f| {
                let d = &f.manufacturers[0].sections[0].devices[0];
                assert_eq!(d.description, "Desc; not a comment");
                assert_eq!(d.install_section, "Inst");
                assert_eq!(d.hardware_id.as_deref(), Some("PCI\\A"));
                assert_eq!(d.compatible_ids, ["PCI\\B", "C;D"]);
            },
        ),
        (
            "quoted strings with doubled quotes and %% escapes",
            inf(
                "%M%=Models,NTamd64",
                "[Models.NTamd64]\r\n%Q% = I, \"ID \"\"1\"\"\"\r\n\"100%% %M%\" = I, X\r\n[Strings.0409]\r\nQ=\"say \"\"hi\"\", 50%%\"\r\n",
            )
            .into_bytes(),
            |f| {
                let devices = &f.manufacturers[0].sections[0].devices;
                assert_eq!(devices[0].description, "say \"hi\", 50%");
                assert_eq!(devices[0].hardware_id.as_deref(), Some("ID \"1\""));
                assert_eq!(devices[1].description, "100% Maker");
            },
        ),
        (
            "localized strings are a fallback; [Strings] wins; nested references expand",
            inf(
                "%M%=Models,NTamd64",
                "[Models.NTamd64]\r\n%Only409%=I,A\r\n%Both%=I,B\r\n%Nested%=I,C\r\n%Undefined%=I,%13%\r\n\
                 [Strings.0407]\r\nBoth=\"German\"\r\nOnly409=\"German only\"\r\n\
                 [Strings.0409]\r\nOnly409=\"English only\"\r\nBoth=\"English\"\r\n\
                 [Strings]\r\nBoth=\"Neutral\"\r\nNested=\"%M% (%Both%)\"\r\n",
            )
            .into_bytes(),
            |f| {
                let d: Vec<&str> = f.manufacturers[0].sections[0]
                    .devices
                    .iter()
                    .map(|d| d.description.as_str())
                    .collect();
                assert_eq!(d, ["English only", "Neutral", "Maker (Neutral)", "%Undefined%"]);
                let ids = &f.manufacturers[0].sections[0].devices[3].hardware_id;
                assert_eq!(ids.as_deref(), Some("%13%"), "directory ids stay as written");
            },
        ),
        (
            "a string value keeps its commas",
            inf("%M%=Models,NTamd64", "[Models.NTamd64]\r\n%C%=I,A\r\n[Strings.0409]\r\nC=Intel, Inc.\r\n")
                .into_bytes(),
            |f| assert_eq!(f.manufacturers[0].sections[0].devices[0].description, "Intel, Inc."),
        ),
        (
            "unknown decoration is a warning and the entry is skipped",
            inf("%M%=Models,NTamd64,NTsparc", "[Models.NTamd64]\r\nD=I,A\r\n").into_bytes(),
            |f| {
                assert_eq!(f.manufacturers[0].targets.len(), 1);
                assert!(f.warnings.iter().any(|w| w.message.contains("sparc") && w.line == 9), "{:?}", f.warnings);
            },
        ),
        (
            "decorated catalog files",
            inf("%M%=Models,NTamd64", "[Models.NTamd64]\r\nD=I,A\r\n")
                .replace("CatalogFile=x.cat", "CatalogFile=all.cat\r\nCatalogFile.NTamd64=x64.cat\r\nCATALOGFILE.ntarm64=arm.cat")
                .into_bytes(),
            |f| {
                assert_eq!(f.catalog_files.len(), 3);
                assert_eq!(f.catalog_file_for(InfArch::Amd64), Some("x64.cat"));
                assert_eq!(f.catalog_file_for(InfArch::Arm64), Some("arm.cat"));
                assert_eq!(f.catalog_file_for(InfArch::X86), Some("all.cat"));
            },
        ),
        (
            "a trailing Ctrl-Z and text before the first section are ignored",
            [b"junk before sections\r\n".as_slice(), inf("%M%=Models", "[Models]\r\n").as_bytes(), b"\x1A"].concat(),
            |f| assert_eq!(f.manufacturers.len(), 1),
        ),
        (
            "no DriverVer is a warning",
            inf("%M%=Models", "[Models]\r\n").replace("DriverVer=01/02/2024,1.2.3.4\r\n", "").into_bytes(),
            |f| {
                assert!(f.driver_ver.is_none());
                assert!(f.warnings.iter().any(|w| w.message.contains("DriverVer")));
            },
        ),
    ];
    for (what, bytes, check) in table {
        let parsed = parse_inf(what, &bytes).unwrap_or_else(|e| panic!("{what}: {e}"));
        check(&parsed);
    }
}

/// (manufacturer line, models sections, arch, build, applies, chosen section)
type ApplicabilityCase = (
    &'static str,
    &'static str,
    InfArch,
    u32,
    bool,
    Option<&'static str>,
);

#[test]
fn applicability_follows_the_decoration_rules() {
    // (manufacturer line, models sections, arch, build, applies, chosen section)
    let table: &[ApplicabilityCase] = &[
        (
            "%M%=M,NTamd64.10.0...22000",
            "[M.NTamd64.10.0...22000]\r\nD=I,A",
            InfArch::Amd64,
            26100,
            true,
            Some("M.NTamd64.10.0...22000"),
        ),
        (
            "%M%=M,NTamd64.10.0...22000",
            "[M.NTamd64.10.0...22000]\r\nD=I,A",
            InfArch::Amd64,
            22000,
            true,
            Some("M.NTamd64.10.0...22000"),
        ),
        (
            "%M%=M,NTamd64.10.0...22000",
            "[M.NTamd64.10.0...22000]\r\nD=I,A",
            InfArch::Amd64,
            19044,
            false,
            None,
        ),
        ("%M%=M", "[M]\r\nD=I,A", InfArch::Amd64, 26100, false, None),
        (
            "%M%=M",
            "[M]\r\nD=I,A",
            InfArch::X86,
            19044,
            true,
            Some("M"),
        ),
        (
            "%M%=M,NT",
            "[M.NT]\r\nD=I,A",
            InfArch::Amd64,
            26100,
            false,
            None,
        ),
        (
            "%M%=M,NTamd64",
            "[M.NTamd64]\r\nD=I,A",
            InfArch::Amd64,
            10240,
            true,
            Some("M.NTamd64"),
        ),
        (
            "%M%=M,NTamd64",
            "[M.NTamd64]\r\nD=I,A",
            InfArch::Amd64,
            26100,
            true,
            Some("M.NTamd64"),
        ),
        (
            "%M%=M,NTarm64",
            "[M.NTarm64]\r\nD=I,A",
            InfArch::Amd64,
            26100,
            false,
            None,
        ),
        (
            "%M%=M,NTarm64",
            "[M.NTarm64]\r\nD=I,A",
            InfArch::Arm64,
            26100,
            true,
            Some("M.NTarm64"),
        ),
        // The most specific decoration wins; order in the line does not matter.
        (
            "%M%=M,NTamd64.10.0...22000,NTamd64,NTamd64.6.3",
            "[M.NTamd64]\r\nD=I,A\r\n[M.NTamd64.6.3]\r\nD=I,B\r\n[M.NTamd64.10.0...22000]\r\nD=I,C",
            InfArch::Amd64,
            26100,
            true,
            Some("M.NTamd64.10.0...22000"),
        ),
        (
            "%M%=M,NTamd64.10.0...22000,NTamd64,NTamd64.6.3",
            "[M.NTamd64]\r\nD=I,A\r\n[M.NTamd64.6.3]\r\nD=I,B\r\n[M.NTamd64.10.0...22000]\r\nD=I,C",
            InfArch::Amd64,
            19044,
            true,
            Some("M.NTamd64.6.3"),
        ),
        (
            "%M%=M,NTamd64.10.0...22000,NTamd64.10.0...26100",
            "[M.NTamd64.10.0...22000]\r\nD=I,A\r\n[M.NTamd64.10.0...26100]\r\nD=I,B",
            InfArch::Amd64,
            26100,
            true,
            Some("M.NTamd64.10.0...26100"),
        ),
        (
            "%M%=M,NTamd64.10.0...22000,NTamd64.10.0...26100",
            "[M.NTamd64.10.0...22000]\r\nD=I,A\r\n[M.NTamd64.10.0...26100]\r\nD=I,B",
            InfArch::Amd64,
            22631,
            true,
            Some("M.NTamd64.10.0...22000"),
        ),
        (
            "%M%=M,NTamd64.11.0",
            "[M.NTamd64.11.0]\r\nD=I,A",
            InfArch::Amd64,
            26100,
            false,
            None,
        ),
        // Listed but missing: does not apply, and says so.
        ("%M%=M,NTamd64", "", InfArch::Amd64, 26100, false, None),
    ];
    for &(mfg, models, arch, build, applies, section) in table {
        let f = parse(&inf(mfg, models));
        let verdict = f.applies_to(arch, 10, 0, build);
        assert_eq!(
            verdict.applies, applies,
            "{mfg} on {arch} {build}: {}",
            verdict.reason
        );
        assert_eq!(verdict.section(), section, "{mfg} on {arch} {build}");
        assert!(!verdict.reason.is_empty());
    }
    let f = parse(&inf("%M%=M,NTamd64", ""));
    assert!(
        f.applies_to(InfArch::Amd64, 10, 0, 26100)
            .reason
            .contains("does not have it")
    );
    let f = parse(&inf(
        "%M%=M,NTamd64.10.0...22000",
        "[M.NTamd64.10.0...22000]\r\nD=I,A",
    ));
    let x86 = f.applies_to(InfArch::X86, 10, 0, 26100);
    assert!(
        !x86.applies && x86.reason.contains("for amd64, not x86"),
        "{}",
        x86.reason
    );
}

type ProblemCheck = fn(&InfProblem) -> bool;

#[test]
fn malformed_inputs_are_errors_with_file_and_line() {
    let base = inf("%M%=Models", "[Models]\r\nD=I,A\r\n");
    let mut huge_line = base.clone();
    huge_line.push_str(&format!("X={}\r\n", "a".repeat(10 * 1024 * 1024)));
    let table: Vec<(&str, Vec<u8>, usize, ProblemCheck)> = vec![
        (
            "NUL bytes in UTF-8 text",
            b"[Version]\r\nSignature=x\r\nA=\0\0\0\0\0\0\0\0\0\0".to_vec(),
            3,
            |p| matches!(p, InfProblem::Binary { code: 0 }),
        ),
        (
            "control characters",
            b"[Version]\r\n\x01\x02\x03".to_vec(),
            2,
            |p| matches!(p, InfProblem::Binary { code: 1 }),
        ),
        (
            "NUL after UTF-16 decoding",
            utf16le("[Version]\r\nSignature=\"$Windows NT$\"\r\n\0", true),
            3,
            |p| matches!(p, InfProblem::Binary { .. }),
        ),
        (
            "unterminated quote",
            base.replace("Class=Net", "Class=\"Net").into_bytes(),
            3,
            |p| matches!(p, InfProblem::UnterminatedQuote),
        ),
        (
            "string refers to itself",
            format!("{base}Self=\"a %self% b\"\r\n").into_bytes(),
            17,
            |p| matches!(p, InfProblem::StringLoop { name, .. } if name == "self"),
        ),
        (
            "strings refer to each other",
            format!("{base}A=%B%\r\nB=x%C%\r\nC=%a%\r\n").into_bytes(),
            17,
            |p| matches!(p, InfProblem::StringLoop { path, .. } if path.contains("->")),
        ),
        (
            "exponential strings",
            {
                let mut s = format!("{base}S0=\"0123456789abcdef\"\r\n");
                for i in 1..40 {
                    s.push_str(&format!("S{i}=%S{}%%S{}%\r\n", i - 1, i - 1));
                }
                s.into_bytes()
            },
            0,
            |p| matches!(p, InfProblem::ExpansionTooLarge { .. }),
        ),
        (
            "strings nested too deeply",
            {
                // Defined from the top of the chain down, so that nothing is resolved
                // (and remembered) before the deepest reference is followed.
                let mut s = base.clone();
                for i in (1..100).rev() {
                    s.push_str(&format!("S{i}=%S{}%\r\n", i - 1));
                }
                s.push_str("S0=end\r\n");
                s.into_bytes()
            },
            0,
            |p| matches!(p, InfProblem::StringsTooDeep { .. }),
        ),
        ("a 10 MB line", huge_line.into_bytes(), 17, |p| {
            matches!(p, InfProblem::LineTooLong { .. })
        }),
        (
            "a 10 MB line made of continuations",
            format!(
                "{base}X=\\\r\n{}",
                "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\\\r\n".repeat(320_000)
            )
            .into_bytes(),
            0,
            |p| matches!(p, InfProblem::LineTooLong { .. }),
        ),
        (
            "missing [Version]",
            b"[Manufacturer]\r\n%M%=Models\r\n".to_vec(),
            1,
            |p| matches!(p, InfProblem::MissingVersion),
        ),
        (
            "missing Signature",
            b"\r\n[Version]\r\nClass=Net\r\n".to_vec(),
            2,
            |p| matches!(p, InfProblem::MissingSignature),
        ),
        (
            "bad DriverVer date",
            base.replace("01/02/2024", "2024-01-02").into_bytes(),
            5,
            |p| matches!(p, InfProblem::BadDriverVer { .. }),
        ),
        (
            "bad DriverVer version",
            base.replace("1.2.3.4", "1.2.x").into_bytes(),
            5,
            |p| matches!(p, InfProblem::BadDriverVer { .. }),
        ),
        (
            "DriverVer date that does not exist",
            base.replace("01/02/2024", "02/30/2023").into_bytes(),
            5,
            |p| matches!(p, InfProblem::BadDriverVer { .. }),
        ),
        (
            "unterminated section header",
            format!("{base}[Broken\r\n").into_bytes(),
            17,
            |p| matches!(p, InfProblem::UnterminatedSection),
        ),
        (
            "many manufacturer lines multiplying one models section",
            {
                let devices = "D=I,PCI\\X\r\n".repeat(1000);
                let mut s = base.replace("[Models]\r\nD=I,A\r\n", &format!("[Big]\r\n{devices}"));
                s.push_str("[Manufacturer]\r\n");
                s.push_str(&"M=Big\r\n".repeat(200));
                s.into_bytes()
            },
            0,
            |p| matches!(p, InfProblem::TooManyDevices { .. }),
        ),
        (
            "thousands of decorations",
            format!(
                "{base}[Manufacturer]\r\nM=Models{}\r\n",
                ",NTamd64".repeat(5000)
            )
            .into_bytes(),
            18,
            |p| matches!(p, InfProblem::TooManyModelsSections { .. }),
        ),
        (
            "more than the size limit",
            vec![b' '; 33 * 1024 * 1024],
            1,
            |p| matches!(p, InfProblem::TooLarge { .. }),
        ),
    ];
    for (what, bytes, line, check) in table {
        let Err(err) = parse_inf("bad.inf", &bytes) else {
            panic!("{what}: parsed without error");
        };
        assert_eq!(err.file, "bad.inf", "{what}");
        assert!(check(&err.problem), "{what}: {err}");
        if line != 0 {
            assert_eq!(err.line, line, "{what}: {err}");
        }
        assert!(err.line >= 1, "{what}: {err}");
        let text = err.to_string();
        assert!(text.starts_with("bad.inf, line "), "{text}");
    }
}

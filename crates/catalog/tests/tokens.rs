//! Parsing Windows version folder tokens.

use wait_catalog::Arch;
use wait_catalog::token::{DriverToken, Generation, Release};

#[test]
fn tokens_parse_into_generation_release_arch_and_qualifiers() {
    // (token, generation, release build, arch, language, iot, ltsc)
    type Row = (
        &'static str,
        Generation,
        Option<u32>,
        Option<Arch>,
        Option<&'static str>,
        bool,
        bool,
    );
    use Generation::{Windows10 as W10, Windows11 as W11};
    let cases: &[Row] = &[
        (
            "WINDOWS11_X64",
            W11,
            None,
            Some(Arch::X64),
            None,
            false,
            false,
        ),
        (
            "WINDOWS10_X64",
            W10,
            None,
            Some(Arch::X64),
            None,
            false,
            false,
        ),
        (
            "windows11_x64",
            W11,
            None,
            Some(Arch::X64),
            None,
            false,
            false,
        ),
        ("WIN11", W11, None, None, None, false, false),
        ("WIN11_24H2", W11, Some(26100), None, None, false, false),
        ("WIN11_23H2", W11, Some(22631), None, None, false, false),
        ("WIN11_22H2", W11, Some(22621), None, None, false, false),
        ("WIN11_21H2", W11, Some(22000), None, None, false, false),
        ("WIN10_22H2", W10, Some(19045), None, None, false, false),
        ("WIN10_21H2", W10, Some(19044), None, None, false, false),
        (
            "WIN11_IOT_24H2_X64",
            W11,
            Some(26100),
            Some(Arch::X64),
            None,
            true,
            false,
        ),
        (
            "WINDOWS10_IOT_LTSC_21H2_EN_US_X64",
            W10,
            Some(19044),
            Some(Arch::X64),
            Some("en-US"),
            true,
            true,
        ),
        (
            "WINDOWS11_IOT_LTSC_24H2_EN_US_X64",
            W11,
            Some(26100),
            Some(Arch::X64),
            Some("en-US"),
            true,
            true,
        ),
        (
            "WIN11_24H2_DE-DE_ARM64",
            W11,
            Some(26100),
            Some(Arch::Arm64),
            Some("de-DE"),
            false,
            false,
        ),
        ("WIN10_X86", W10, None, Some(Arch::X86), None, false, false),
        (
            "WIN11_AMD64",
            W11,
            None,
            Some(Arch::X64),
            None,
            false,
            false,
        ),
        (
            "WINDOWS_11_X64",
            W11,
            None,
            Some(Arch::X64),
            None,
            false,
            false,
        ),
        (
            "WIN10_1809_X64",
            W10,
            Some(17763),
            Some(Arch::X64),
            None,
            false,
            false,
        ),
    ];
    for &(token, generation, build, arch, language, iot, ltsc) in cases {
        let parsed = DriverToken::parse(token).unwrap_or_else(|e| panic!("{token}: {e}"));
        assert_eq!(parsed.generation, generation, "{token}");
        assert_eq!(parsed.release.map(|r| r.build), build, "{token}");
        assert_eq!(parsed.arch, arch, "{token}");
        assert_eq!(parsed.language.as_deref(), language, "{token}");
        assert_eq!((parsed.iot, parsed.ltsc), (iot, ltsc), "{token}");
    }
}

#[test]
fn malformed_tokens_are_refused_with_a_reason() {
    let cases = [
        "",
        "_",
        "WINDOWS11_",
        "_WINDOWS11",
        "WINDOWS11__X64",
        "WINDOWS12_X64",
        "WINDOWS",
        "WINDOWS_12",
        "X64_WINDOWS11",
        "WIN11_X64_X64",
        "WIN11_X64_ARM64",
        "WIN11_24H2_23H2",
        "WIN11_19H1",
        "WIN11_1809",
        "WIN10_24H2",
        "WIN11_IOT_IOT",
        "WIN11_PRO_X64",
        "WIN11_X64_OLD",
        "WIN11 X64",
        "WIN11/X64",
        "WIN11_X64.bak",
        "WIN11_EN_US_FR_FR",
        "drivers",
    ];
    for token in cases {
        let err = DriverToken::parse(token).expect_err(token);
        assert_eq!(err.token, token);
        assert!(!err.message.is_empty());
        assert!(
            err.to_string().contains("not a Windows version token"),
            "{err}"
        );
    }
}

#[test]
fn generation_follows_the_build_number() {
    assert_eq!(Generation::from_build(26100), Some(Generation::Windows11));
    assert_eq!(Generation::from_build(22000), Some(Generation::Windows11));
    assert_eq!(Generation::from_build(21999), Some(Generation::Windows10));
    assert_eq!(Generation::from_build(19044), Some(Generation::Windows10));
    assert_eq!(Generation::from_build(10240), Some(Generation::Windows10));
    assert_eq!(Generation::from_build(9600), None);
    assert_eq!(
        Release::lookup(Generation::Windows11, "22h2").map(|r| r.build),
        Some(22621)
    );
    assert_eq!(
        Release::lookup(Generation::Windows10, "22H2").map(|r| r.build),
        Some(19045)
    );
    assert_eq!(Release::lookup(Generation::Windows10, "24H2"), None);
}

//! Property tests: the INF, update.mum and pkgProperties parsers take any bytes (random,
//! or valid files with random damage) and answer with a value or an error, never a panic,
//! and with results whose size stays within the documented limits.
//!
//! `PROPTEST_CASES` sets the number of cases per property (default 3000).

use std::sync::OnceLock;

use proptest::prelude::*;
use wait_catalog::inf::{InfArch, MAX_LINE, parse_inf};
use wait_catalog::packages::{parse_pkg_properties, parse_update_mum};
use wait_catalog::software::parse_pe_version;

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3000)
}

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: cases(),
        ..ProptestConfig::default()
    }
}

/// The fixture generator's INF files (one of them UTF-16LE), read once.
fn fixture_infs() -> &'static [Vec<u8>] {
    static INFS: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
    INFS.get_or_init(|| {
        let dir = tempfile::tempdir().expect("tempdir");
        wait_catalog::fixtures::write_board_drivers(dir.path(), "B", 3).expect("fixtures");
        let mut out = Vec::new();
        let mut pending = vec![dir.path().to_path_buf()];
        while let Some(d) = pending.pop() {
            for entry in std::fs::read_dir(&d).expect("read_dir") {
                let path = entry.expect("entry").path();
                if path.is_dir() {
                    pending.push(path);
                } else if path.extension().is_some_and(|e| e == "inf") {
                    out.push(std::fs::read(&path).expect("read"));
                }
            }
        }
        out.sort();
        out
    })
}

const MUM: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<assembly xmlns="urn:schemas-microsoft-com:asm.v3" manifestVersion="1.0">
  <assemblyIdentity name="Package_for_RollupFix" version="26100.1742.1.10" processorArchitecture="amd64" language="neutral" publicKeyToken="31bf3856ad364e35"/>
  <package identifier="KB5043080" releaseType="Update" restart="possible">
    <parent><assemblyIdentity name="P" version="1.0" processorArchitecture="amd64" language="neutral" publicKeyToken="31bf3856ad364e35"/></parent>
  </package>
</assembly>
"#;

const PROPS: &str = "Applies to=\"Windows 11\"\r\nBuild Date=\"2024/09/06\"\r\n\
KB Article Number=\"5043080\"\r\nLanguage=\"ALL\"\r\nPackage Type=\"Update\"\r\n\
Processor Architecture=\"amd64\"\r\nProduct Name=\"Windows 11, version 24H2\"\r\n\
Installation Type=\"Software Update\"\r\n";

/// Pieces of syntax that matter to the parsers, spliced in by mutations.
const SPLICES: &[&str] = &[
    "%",
    "%%",
    "\"",
    "\"\"",
    ";",
    "\\\r\n",
    "\\",
    "[",
    "]",
    "=",
    ",",
    "\r\n",
    "\n",
    "\0",
    "%ProviderName%",
    "%MfgName%",
    "[Strings]\r\nA=%B%\r\nB=%A%\r\n",
    "[Version]",
    "NTamd64.10.0...22000",
    "NTarm64.",
    "..",
    "<",
    ">",
    "/>",
    "&",
    "&lt;",
    "&#x0;",
    "&#1114112;",
    "<!DOCTYPE a [<!ENTITY b \"c\">]>",
    "<![CDATA[",
    "xmlns=\"\"",
    "\u{FEFF}",
    "\u{1A}",
    "\u{FFFD}",
    "é",
    "\u{10FFFF}",
];

#[derive(Debug, Clone)]
enum Mutation {
    Flip(usize, u8),
    Insert(usize, u8),
    Delete(usize, usize),
    Splice(usize, usize),
    Duplicate(usize, usize, usize),
    Truncate(usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), any::<u8>()).prop_map(|(a, b)| Mutation::Flip(a, b)),
        (any::<usize>(), any::<u8>()).prop_map(|(a, b)| Mutation::Insert(a, b)),
        (any::<usize>(), 1usize..64).prop_map(|(a, n)| Mutation::Delete(a, n)),
        (any::<usize>(), 0..SPLICES.len()).prop_map(|(a, i)| Mutation::Splice(a, i)),
        (any::<usize>(), 1usize..256, 1usize..8).prop_map(|(a, n, k)| Mutation::Duplicate(a, n, k)),
        any::<usize>().prop_map(Mutation::Truncate),
    ]
}

fn apply(mut bytes: Vec<u8>, mutations: &[Mutation]) -> Vec<u8> {
    for m in mutations {
        let len = bytes.len();
        let at = |p: usize| if len == 0 { 0 } else { p % (len + 1) };
        match *m {
            Mutation::Flip(p, b) if len > 0 => bytes[p % len] ^= b,
            Mutation::Flip(..) => {}
            Mutation::Insert(p, b) => bytes.insert(at(p), b),
            Mutation::Delete(p, n) => {
                let start = at(p);
                let end = (start + n).min(len);
                bytes.drain(start..end);
            }
            Mutation::Splice(p, i) => {
                let start = at(p);
                let piece = SPLICES[i].as_bytes();
                bytes.splice(start..start, piece.iter().copied());
            }
            Mutation::Duplicate(p, n, k) => {
                let start = at(p);
                let end = (start + n).min(len);
                let chunk = bytes[start..end].to_vec();
                for _ in 0..k {
                    bytes.splice(end..end, chunk.iter().copied());
                }
            }
            Mutation::Truncate(p) => bytes.truncate(at(p)),
        }
    }
    bytes
}

/// UTF-16LE with a byte order mark.
fn utf16(text: &[u8]) -> Vec<u8> {
    let mut out = vec![0xFF, 0xFE];
    for unit in String::from_utf8_lossy(text).encode_utf16() {
        out.extend_from_slice(&unit.to_le_bytes());
    }
    out
}

/// Parse an INF and use every part of the result, checking the documented bounds.
fn exercise_inf(bytes: &[u8]) {
    let Ok(inf) = parse_inf("fuzz.inf", bytes) else {
        return;
    };
    for m in &inf.manufacturers {
        assert!(m.name.len() <= MAX_LINE);
        for s in &m.sections {
            for d in &s.devices {
                assert!(d.description.len() <= MAX_LINE);
            }
        }
    }
    for arch in [InfArch::X86, InfArch::Amd64, InfArch::Arm64] {
        for build in [0, 19044, 26100, u32::MAX] {
            let verdict = inf.applies_to(arch, 10, 0, build);
            assert_eq!(verdict.applies, !verdict.chosen.is_empty());
        }
        let _ = inf.catalog_file_for(arch);
    }
}

/// A random INF whose `[Strings]` refer to each other: loops, chains and blow-ups.
fn strings_inf() -> impl Strategy<Value = String> {
    let value = proptest::collection::vec(
        prop_oneof![
            (0usize..12).prop_map(|i| format!("%S{i}%")),
            "[a-z ,;\"%]{0,6}".prop_map(|s| s),
        ],
        0..6,
    );
    proptest::collection::vec(value, 1..12).prop_map(|values| {
        let mut s = String::from(
            "[Version]\r\nSignature=\"$Windows NT$\"\r\nProvider=%S0%\r\n[Manufacturer]\r\n%S1%=M,NTamd64\r\n[M.NTamd64]\r\n%S2%=I,%S3%\r\n[Strings]\r\n",
        );
        for (i, parts) in values.iter().enumerate() {
            s.push_str(&format!("S{i}=\"{}\"\r\n", parts.concat().replace('"', "\"\"")));
        }
        s
    })
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn inf_parser_survives_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..4096)) {
        exercise_inf(&bytes);
    }

    #[test]
    fn inf_parser_survives_damaged_fixture_infs(
        which in any::<usize>(),
        as_utf16 in any::<bool>(),
        mutations in proptest::collection::vec(mutation(), 1..12),
    ) {
        let infs = fixture_infs();
        let base = infs[which % infs.len()].clone();
        let base = if as_utf16 && base.first() != Some(&0xFF) { utf16(&base) } else { base };
        exercise_inf(&apply(base, &mutations));
    }

    #[test]
    fn inf_parser_survives_tangled_strings(text in strings_inf()) {
        exercise_inf(text.as_bytes());
    }

    #[test]
    fn mum_parser_survives_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        if let Ok(mum) = parse_update_mum("fuzz.mum", &bytes) {
            let _ = mum.identity.dism_identity();
        }
    }

    #[test]
    fn mum_parser_survives_damaged_manifests(
        as_utf16 in any::<bool>(),
        mutations in proptest::collection::vec(mutation(), 1..12),
    ) {
        let base = if as_utf16 { utf16(MUM.as_bytes()) } else { MUM.as_bytes().to_vec() };
        if let Ok(mum) = parse_update_mum("fuzz.mum", &apply(base, &mutations)) {
            prop_assert!(mum.identity.name.len() <= wait_catalog::packages::MAX_ATTRIBUTE);
            let _ = mum.package.kb_number();
        }
    }

    #[test]
    fn props_parser_survives_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let _ = parse_pkg_properties("fuzz-pkgProperties.txt", &bytes);
    }

    #[test]
    fn props_parser_survives_damaged_files(
        as_utf16 in any::<bool>(),
        mutations in proptest::collection::vec(mutation(), 1..12),
    ) {
        let base = if as_utf16 { utf16(PROPS.as_bytes()) } else { PROPS.as_bytes().to_vec() };
        if let Ok(p) = parse_pkg_properties("fuzz-pkgProperties_PSFX.txt", &apply(base, &mutations)) {
            prop_assert!(p.psfx);
        }
    }

    #[test]
    fn answer_file_inspection_survives_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..4096)) {
        let r = wait_catalog::inspect_answer_file("fuzz.xml", &bytes);
        prop_assert!(r.problems.len() <= 100);
        prop_assert!(r.passes.len() <= r.components.len() + r.passes.len());
    }

    #[test]
    fn answer_file_inspection_survives_damaged_answer_files(
        as_utf16 in any::<bool>(),
        mutations in proptest::collection::vec(mutation(), 1..12),
    ) {
        let dir = tempfile::tempdir().expect("tempdir");
        let rel = wait_catalog::fixtures::write_answer_file(dir.path(), "B").expect("answer");
        let base = std::fs::read(dir.path().join(rel)).expect("read");
        let base = if as_utf16 { utf16(&base) } else { base };
        let r = wait_catalog::inspect_answer_file("fuzz.xml", &apply(base, &mutations));
        for p in &r.problems {
            prop_assert!(p.line.is_none_or(|l| l >= 1));
        }
    }

    #[test]
    fn pe_version_parser_survives_damaged_fixture_exes(
        mutations in proptest::collection::vec(mutation(), 1..12),
    ) {
        let base = wait_catalog::fixtures::version_exe("Product", "Company", [1, 2, 3, 4]);
        if let Ok(v) = parse_pe_version(&apply(base, &mutations)) {
            prop_assert!(v.product_name.map_or(0, |s| s.len()) <= 64 * 1024);
        }
    }
}

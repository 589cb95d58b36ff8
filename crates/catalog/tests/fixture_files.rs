//! Board drivers and answer files written by the fixtures (no WIM involved).

use std::collections::BTreeMap;
use std::path::Path;

use wait_catalog::fixtures::{DEMO_BOARD, write_answer_file, write_board_drivers};
use wait_catalog::{CatalogError, Repository, hash_file};

fn digest_tree(dir: &Path) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(current) = pending.pop() {
        for entry in std::fs::read_dir(&current).expect("read_dir") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                pending.push(path);
            } else {
                let rel = path
                    .strip_prefix(dir)
                    .expect("prefix")
                    .to_string_lossy()
                    .into_owned();
                out.insert(rel, hash_file(&path).expect("hash").sha256);
            }
        }
    }
    out
}

fn decode_inf(bytes: &[u8]) -> String {
    if let Some(rest) = bytes.strip_prefix(&[0xFF, 0xFE]) {
        assert_eq!(rest.len() % 2, 0, "odd UTF-16 length");
        let units: Vec<u16> = rest
            .chunks_exact(2)
            .map(|c| u16::from_le_bytes([c[0], c[1]]))
            .collect();
        String::from_utf16(&units).expect("valid UTF-16LE")
    } else {
        String::from_utf8(bytes.to_vec()).expect("valid UTF-8")
    }
}

#[test]
fn board_drivers_have_real_inf_syntax_sys_and_cat_files() {
    let dir = tempfile::tempdir().expect("tempdir");
    let repo = Repository::init(dir.path()).expect("init");
    write_board_drivers(repo.root(), DEMO_BOARD, 7).expect("drivers");
    let sets = repo.driver_sets(DEMO_BOARD).expect("sets");
    assert_eq!(sets.len(), 1);
    let set = &sets[0];
    assert_eq!(set.name, "WINDOWS11_X64");
    assert_eq!(set.categories, ["chipset", "network", "storage"]);
    assert_eq!(set.inf_count, 5);
    assert_eq!(set.file_count, 15);

    let set_dir = repo.root().join(&set.path);
    let mut utf16 = 0;
    for category in &set.categories {
        for package in std::fs::read_dir(set_dir.join(category)).expect("read_dir") {
            let package = package.expect("entry").path();
            let mut names: Vec<String> = std::fs::read_dir(&package)
                .expect("read_dir")
                .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
                .collect();
            names.sort();
            let stems: Vec<&str> = names
                .iter()
                .filter_map(|n| n.rsplit_once('.'))
                .map(|(s, _)| s)
                .collect();
            assert!(
                stems.windows(2).all(|w| w[0] == w[1]),
                "one stem per package: {names:?}"
            );
            let stem = stems[0];
            let raw = std::fs::read(package.join(format!("{stem}.inf"))).expect("inf");
            if raw.starts_with(&[0xFF, 0xFE]) {
                utf16 += 1;
            }
            let inf = decode_inf(&raw);
            for needle in [
                "[Version]",
                "Signature   = \"$WINDOWS NT$\"",
                "Provider    = %ProviderName%",
                &format!("CatalogFile = {stem}.cat"),
                "PnpLockdown = 1",
                "[Manufacturer]",
                "%MfgName% = Models,NTamd64.10.0...22000",
                "[Models.NTamd64.10.0...22000]",
                "PCI\\VEN_8086&DEV_",
                "[SourceDisksNames]",
                "[SourceDisksFiles]",
                "[DestinationDirs]",
                ".NT.Services]",
                "AddService = ",
                "[Strings]",
            ] {
                assert!(inf.contains(needle), "{stem}.inf lacks {needle:?}");
            }
            let class_guid = match category.as_str() {
                "chipset" => {
                    "Class       = System\r\nClassGuid   = {4d36e97d-e325-11ce-bfc1-08002be10318}"
                }
                "network" => {
                    "Class       = Net\r\nClassGuid   = {4d36e972-e325-11ce-bfc1-08002be10318}"
                }
                _ => {
                    "Class       = SCSIAdapter\r\nClassGuid   = {4d36e97b-e325-11ce-bfc1-08002be10318}"
                }
            };
            assert!(inf.contains(class_guid), "{stem}.inf class");
            let driver_ver = inf
                .lines()
                .find(|l| l.starts_with("DriverVer"))
                .expect("DriverVer");
            let value = driver_ver.split('=').nth(1).expect("value").trim();
            let (date, version) = value.split_once(',').expect("date,version");
            let date: Vec<u32> = date
                .split('/')
                .map(|p| p.parse().expect("number"))
                .collect();
            assert!(
                date.len() == 3
                    && (1..=12).contains(&date[0])
                    && (1..=31).contains(&date[1])
                    && date[2] >= 2000
            );
            assert_eq!(
                version
                    .split('.')
                    .filter(|p| p.parse::<u32>().is_ok())
                    .count(),
                4,
                "{value}"
            );

            let sys = std::fs::read(package.join(format!("{stem}.sys"))).expect("sys");
            assert!(sys.starts_with(b"MZ"));
            let cat = std::fs::read(package.join(format!("{stem}.cat"))).expect("cat");
            assert_eq!(cat[0], 0x30, "DER SEQUENCE");
            assert_eq!(
                usize::from(u16::from_be_bytes([cat[2], cat[3]])) + 4,
                cat.len()
            );
        }
    }
    assert_eq!(utf16, 1, "exactly one INF ships as UTF-16LE with BOM");
}

#[test]
fn board_drivers_are_deterministic_per_seed() {
    let a = tempfile::tempdir().expect("tempdir");
    let b = tempfile::tempdir().expect("tempdir");
    let c = tempfile::tempdir().expect("tempdir");
    write_board_drivers(a.path(), "X13SAW", 1).expect("a");
    write_board_drivers(b.path(), "X13SAW", 1).expect("b");
    write_board_drivers(c.path(), "X13SAW", 2).expect("c");
    let (da, db, dc) = (
        digest_tree(a.path()),
        digest_tree(b.path()),
        digest_tree(c.path()),
    );
    assert_eq!(da, db);
    assert_eq!(da.keys().collect::<Vec<_>>(), dc.keys().collect::<Vec<_>>());
    assert_ne!(da, dc);
    // Writing again over an existing set keeps the same bytes.
    write_board_drivers(a.path(), "X13SAW", 1).expect("again");
    assert_eq!(digest_tree(a.path()), db);
}

#[test]
fn fixture_writers_refuse_bad_board_names() {
    let dir = tempfile::tempdir().expect("tempdir");
    for bad in ["", "..", "a/b", "../x", "a\\b"] {
        let err = write_board_drivers(dir.path(), bad, 1).expect_err(bad);
        assert!(matches!(
            err,
            CatalogError::Invalid {
                field: "motherboard_model",
                ..
            } | CatalogError::Escapes { .. }
        ));
        assert!(write_answer_file(dir.path(), bad).is_err(), "{bad:?}");
    }
    assert_eq!(
        std::fs::read_dir(dir.path()).expect("read_dir").count(),
        0,
        "nothing written"
    );
}

#[test]
fn answer_file_is_well_formed_unattend_xml_without_a_product_key() {
    let dir = tempfile::tempdir().expect("tempdir");
    let repo = Repository::init(dir.path()).expect("init");
    let rel = write_answer_file(repo.root(), "X13SAW").expect("answer file");
    assert_eq!(rel, "5_AnswerFiles/X13SAW/WIN11_24H2/autounattend.xml");
    assert_eq!(repo.answer_files().expect("list"), vec![rel.clone()]);
    let text = std::fs::read_to_string(repo.root().join(&rel)).expect("read");

    let mut reader = quick_xml::Reader::from_str(&text);
    let mut passes = Vec::new();
    let mut components = Vec::new();
    let mut elements = Vec::new();
    let mut depth = 0i32;
    let mut root_ns = None;
    loop {
        match reader.read_event().expect("well-formed XML") {
            quick_xml::events::Event::Start(e) => {
                depth += 1;
                let name = String::from_utf8_lossy(e.name().as_ref()).into_owned();
                for attr in e.attributes() {
                    let attr = attr.expect("attribute");
                    let key = String::from_utf8_lossy(attr.key.as_ref()).into_owned();
                    let value = attr.unescape_value().expect("value").into_owned();
                    match (name.as_str(), key.as_str()) {
                        ("unattend", "xmlns") => root_ns = Some(value),
                        ("settings", "pass") => passes.push(value),
                        ("component", "name") => components.push(value),
                        _ => {}
                    }
                }
                elements.push(name);
            }
            quick_xml::events::Event::End(_) => depth -= 1,
            quick_xml::events::Event::Eof => break,
            _ => {}
        }
    }
    assert_eq!(depth, 0);
    assert_eq!(
        root_ns.as_deref(),
        Some("urn:schemas-microsoft-com:unattend")
    );
    assert_eq!(passes, ["windowsPE", "specialize", "oobeSystem"]);
    for c in [
        "Microsoft-Windows-International-Core-WinPE",
        "Microsoft-Windows-Setup",
        "Microsoft-Windows-Shell-Setup",
    ] {
        assert!(components.iter().any(|x| x == c), "{c} missing");
    }
    for e in ["OOBE", "LocalAccount", "UserAccounts"] {
        assert!(elements.iter().any(|x| x == e), "{e} missing");
    }
    assert!(
        !elements.iter().any(|x| x == "ProductKey" || x == "Key"),
        "no product key in fixtures"
    );
}

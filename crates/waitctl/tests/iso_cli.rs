//! `waitctl iso …` on ISOs made by genisoimage, checked with 7z.

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

fn waitctl(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_waitctl"))
        .args(args)
        .output()
        .expect("run waitctl")
}

/// Install-media-like tree with a random `sources/install.wim`, authored as UDF + ISO 9660.
fn make_iso(dir: &Path) -> (String, Vec<u8>) {
    let tree = dir.join("tree");
    std::fs::create_dir_all(tree.join("sources")).expect("mkdir");
    std::fs::create_dir_all(tree.join("boot")).expect("mkdir");
    let wim: Vec<u8> = (0..2_500_000u32)
        .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
        .collect();
    std::fs::write(tree.join("sources/install.wim"), &wim).expect("write");
    std::fs::write(tree.join("boot/etfsboot.com"), vec![0x90u8; 4096]).expect("write");
    std::fs::write(tree.join("setup.exe"), b"MZ").expect("write");
    let iso = dir.join("media.iso");
    let status = Command::new("genisoimage")
        .args([
            "-quiet",
            "-udf",
            "-allow-limited-size",
            "-iso-level",
            "4",
            "-J",
            "-l",
            "-V",
            "WAITTEST",
            "-o",
        ])
        .arg(&iso)
        .arg(&tree)
        .status()
        .expect("genisoimage");
    assert!(status.success());
    (iso.to_str().expect("utf-8 path").to_string(), wim)
}

#[test]
fn iso_ls_json_lists_what_7z_lists_and_names_the_install_image() {
    let tmp = tempfile::tempdir().unwrap();
    let (iso, _) = make_iso(tmp.path());
    let out = waitctl(&["iso", "ls", &iso, "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["volume_label"], "WAITTEST");
    assert!(v["filesystem"].as_str().unwrap().starts_with("UDF"));
    assert_eq!(v["install_image"][0], "sources/install.wim");
    let mut ours: Vec<String> = v["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["is_dir"] == false)
        .map(|e| e["path"].as_str().unwrap().to_string())
        .collect();
    let slt = Command::new("7z")
        .args(["l", "-slt", &iso])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&slt.stdout);
    let mut theirs: Vec<String> = Vec::new();
    let mut path = None;
    for line in text.lines() {
        if let Some(p) = line.strip_prefix("Path = ") {
            path = Some(p.to_string());
        }
        if line == "Folder = -" {
            if let Some(p) = path.take() {
                theirs.push(p);
            }
        }
    }
    ours.sort();
    theirs.sort();
    assert_eq!(ours, theirs);
}

#[test]
fn iso_extract_copies_the_exact_bytes_and_ignores_case() {
    let tmp = tempfile::tempdir().unwrap();
    let (iso, wim) = make_iso(tmp.path());
    let dest = tmp.path().join("out/install.wim");
    let out = waitctl(&[
        "iso",
        "extract",
        &iso,
        "SOURCES/INSTALL.WIM",
        "-o",
        dest.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(std::fs::read(&dest).unwrap(), wim);
    let leftovers: Vec<_> = std::fs::read_dir(tmp.path().join("out"))
        .unwrap()
        .flatten()
        .collect();
    assert_eq!(leftovers.len(), 1, "no partial files left");
}

#[test]
fn iso_commands_fail_with_a_message_naming_the_file() {
    let tmp = tempfile::tempdir().unwrap();
    let (iso, _) = make_iso(tmp.path());
    let not_iso = tmp.path().join("notes.txt");
    std::fs::write(&not_iso, vec![b'x'; 100_000]).unwrap();
    let truncated = tmp.path().join("cut.iso");
    let bytes = std::fs::read(&iso).unwrap();
    std::fs::write(&truncated, &bytes[..40_000]).unwrap();
    let out_dir = tmp.path().join("o/");
    for (args, want) in [
        (vec!["iso", "ls", not_iso.to_str().unwrap()], "notes.txt"),
        (vec!["iso", "ls", truncated.to_str().unwrap()], "cut.iso"),
        (
            vec![
                "iso",
                "extract",
                &iso,
                "sources/boot.wim",
                "-o",
                out_dir.to_str().unwrap(),
            ],
            "sources/boot.wim",
        ),
        (
            vec![
                "iso",
                "extract",
                &iso,
                "sources",
                "-o",
                out_dir.to_str().unwrap(),
            ],
            "sources",
        ),
    ] {
        let out = waitctl(&args);
        assert!(!out.status.success(), "{args:?} should fail");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("error") && err.contains(want),
            "{args:?}: {err}"
        );
    }
}

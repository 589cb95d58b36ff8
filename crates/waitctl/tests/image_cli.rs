//! `waitctl image …` against `wimlib-imagex` on the same generated WIM.

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

fn waitctl(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_waitctl"))
        .args(args)
        .output()
        .expect("run waitctl")
}

fn oracle(args: &[&str]) -> Vec<u8> {
    let out = Command::new("wimlib-imagex")
        .args(args)
        .output()
        .expect("wimlib-imagex");
    assert!(
        out.status.success(),
        "wimlib-imagex {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

fn base_wim(dir: &Path) -> String {
    let path = dir.join("base.wim");
    wait_catalog::fixtures::write_base_wim(&path, &wait_catalog::fixtures::TreeSpec::small(3))
        .expect("generate base WIM");
    path.to_str().expect("utf-8 temp path").to_string()
}

#[test]
fn image_info_json_matches_wimlib_imagex() {
    let tmp = tempfile::tempdir().unwrap();
    let wim = base_wim(tmp.path());
    let out = waitctl(&["image", "info", &wim, "--json"]);
    assert!(out.status.success());
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let text = String::from_utf8(oracle(&["info", &wim, "1"])).unwrap();
    let field = |name: &str| {
        text.lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_once(':'))
            .map(|(_, v)| v.trim().to_string())
            .unwrap()
    };
    assert_eq!(v["image_count"], 1);
    assert_eq!(v["images"][0]["edition"], field("Edition ID"));
    assert_eq!(v["images"][0]["build"].to_string(), field("Build"));
    assert_eq!(v["images"][0]["languages"][0], field("Languages"));
    assert_eq!(v["images"][0]["size"].to_string(), field("Total Bytes"));
    assert_eq!(v["compression"], "lzx");
}

#[test]
fn image_ls_lists_what_wimlib_imagex_lists() {
    let tmp = tempfile::tempdir().unwrap();
    let wim = base_wim(tmp.path());
    let ours = waitctl(&["image", "ls", &wim, "1"]);
    assert!(ours.status.success());
    let mut ours: Vec<String> = String::from_utf8(ours.stdout)
        .unwrap()
        .lines()
        .map(String::from)
        .collect();
    let mut theirs: Vec<String> = String::from_utf8(oracle(&["dir", &wim, "1"]))
        .unwrap()
        .lines()
        .map(String::from)
        .collect();
    ours.sort();
    theirs.sort();
    assert_eq!(ours, theirs);
}

#[test]
fn image_extract_gives_the_same_bytes_as_wimlib_imagex() {
    let tmp = tempfile::tempdir().unwrap();
    let wim = base_wim(tmp.path());
    let inner = "/Windows/System32/Recovery/Winre.wim";
    let dest = tmp.path().join("out/winre-copy.wim");
    let out = waitctl(&[
        "image",
        "extract",
        &wim,
        "1",
        inner,
        "-o",
        dest.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let theirs = oracle(&["extract", &wim, "1", inner, "--to-stdout"]);
    assert_eq!(std::fs::read(&dest).unwrap(), theirs);
    // Into a folder: the file keeps its name, and no scratch folder is left.
    let dir = tmp.path().join("dir/");
    std::fs::create_dir_all(&dir).unwrap();
    assert!(
        waitctl(&[
            "image",
            "extract",
            &wim,
            "1",
            inner,
            "-o",
            dir.to_str().unwrap()
        ])
        .status
        .success()
    );
    let names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name())
        .collect();
    assert_eq!(names, vec![std::ffi::OsString::from("Winre.wim")]);
}

#[test]
fn image_commands_fail_with_a_message_naming_the_file() {
    let tmp = tempfile::tempdir().unwrap();
    let wim = base_wim(tmp.path());
    assert!(waitctl(&["image", "verify", &wim]).status.success());

    let bad = tmp.path().join("truncated.wim");
    let bytes = std::fs::read(&wim).unwrap();
    std::fs::write(&bad, &bytes[..bytes.len() / 2]).unwrap();
    let not_wim = tmp.path().join("notes.txt");
    std::fs::write(&not_wim, "just text").unwrap();
    let missing = tmp.path().join("missing.wim");
    for (args, file) in [
        (
            vec!["image", "verify", bad.to_str().unwrap()],
            "truncated.wim",
        ),
        (
            vec!["image", "info", not_wim.to_str().unwrap()],
            "notes.txt",
        ),
        (
            vec!["image", "ls", missing.to_str().unwrap()],
            "missing.wim",
        ),
        (vec!["image", "ls", &wim, "9"], "image 9"),
        (
            vec![
                "image",
                "extract",
                &wim,
                "1",
                "/nope",
                "-o",
                tmp.path().to_str().unwrap(),
            ],
            "/nope",
        ),
    ] {
        let out = waitctl(&args);
        assert!(!out.status.success(), "{args:?} should fail");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("error") && err.contains(file),
            "{args:?}: {err}"
        );
    }
}

#[test]
fn image_winre_reports_the_recovery_image_and_what_is_not_done() {
    let tmp = tempfile::tempdir().unwrap();
    let wim = base_wim(tmp.path());
    let out = waitctl(&["image", "winre", &wim, "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["present"], true);
    assert_eq!(v["wim"]["images"][0]["build"], 26100);
    assert_eq!(v["wim"]["images"][0]["languages"][0], "en-US");
    assert!(!v["not_done"].as_array().unwrap().is_empty());
    let sha = oracle(&[
        "extract",
        &wim,
        "1",
        "/Windows/System32/Recovery/Winre.wim",
        "--to-stdout",
    ]);
    assert_eq!(v["size"], sha.len());
}

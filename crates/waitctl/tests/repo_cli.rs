//! `waitctl repo scan|ls|check` on a generated demo repository with a few odd files.

use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, SystemTime};

use serde_json::Value;
use wait_catalog::fixtures::{BASE_WIM_FILE, TreeSpec, demo_repository};

fn waitctl(data: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_waitctl"))
        .args(args)
        .arg("--data-dir")
        .arg(data)
        .env_remove("WAIT_REPOSITORY")
        .env_remove("WAIT_DATABASE_URL")
        .output()
        .expect("run waitctl")
}

fn json(out: &Output) -> Value {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("json")
}

fn age_all(dir: &Path) {
    let when = SystemTime::now() - Duration::from_secs(3600);
    for entry in std::fs::read_dir(dir).expect("list") {
        let entry = entry.expect("entry");
        let ty = entry.file_type().expect("type");
        if ty.is_dir() {
            age_all(&entry.path());
        } else if ty.is_file() {
            std::fs::File::options()
                .write(true)
                .open(entry.path())
                .expect("open")
                .set_modified(when)
                .expect("mtime");
        }
    }
}

/// Data dir with the repository at its default place, DATA_DIR/WAIT_Repository.
fn setup() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().expect("tempdir");
    let root = tmp.path().join("WAIT_Repository");
    demo_repository(&root, &TreeSpec::small(1)).expect("demo");
    std::fs::write(root.join("1_BaseImages/notes.txt"), b"what is this").expect("write");
    std::os::unix::fs::symlink("/etc/passwd", root.join("7_Tools/passwd")).expect("symlink");
    std::fs::create_dir_all(root.join("2_Drivers/X13SAW/WINDOWS10_X64/net")).expect("mkdir");
    std::fs::write(
        root.join("2_Drivers/X13SAW/WINDOWS10_X64/net/a.inf"),
        b"[Version]\r\nSignature=\"$WINDOWS NT$\"\r\n",
    )
    .expect("write");
    age_all(&root);
    tmp
}

#[test]
fn scan_reports_classification_unknown_files_and_refused_symlinks() {
    let tmp = setup();
    let out = waitctl(tmp.path(), &["repo", "scan"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("base images     1"), "{text}");
    assert!(text.contains("driver sets     2"), "{text}");
    assert!(text.contains("1_BaseImages/notes.txt"), "{text}");
    assert!(
        text.contains("7_Tools/passwd: symlink pointing outside"),
        "{text}"
    );
    // The cache was written at DATA_DIR/cache/hashes.json.
    assert!(tmp.path().join("cache/hashes.json").is_file());

    // Second run: everything comes from the cache.
    let v = json(&waitctl(tmp.path(), &["repo", "scan", "--json"]));
    assert_eq!(v["totals"]["cache"]["misses"], 0, "{}", v["totals"]);
    assert!(v["totals"]["cache"]["hits"].as_u64().expect("hits") > 0);
    let base = &v["base_images"][0];
    assert_eq!(base["path"], format!("1_BaseImages/{BASE_WIM_FILE}"));
    assert_eq!(base["sha256"].as_str().expect("sha").len(), 64);
    assert_eq!(base["images"][0]["build"], 26100);
    assert_eq!(v["unknown"][0]["path"], "1_BaseImages/notes.txt");

    let v = json(&waitctl(
        tmp.path(),
        &["repo", "scan", "--json", "--no-hash"],
    ));
    assert!(v["base_images"][0]["sha256"].is_null());
    assert!(v["totals"]["cache"].is_null());
}

#[test]
fn ls_lists_one_kind_or_all() {
    let tmp = setup();
    let v = json(&waitctl(tmp.path(), &["repo", "ls", "drivers", "--json"]));
    let sets: Vec<&str> = v["drivers"]
        .as_array()
        .expect("array")
        .iter()
        .map(|d| d["name"].as_str().expect("name"))
        .collect();
    assert_eq!(sets, ["WINDOWS10_X64", "WINDOWS11_X64"]);
    assert_eq!(v.as_object().expect("object").len(), 1);

    let v = json(&waitctl(tmp.path(), &["repo", "ls", "--json"]));
    assert_eq!(v.as_object().expect("object").len(), 8);
    assert_eq!(v["answer-files"][0]["board"], "X13SAW");

    let out = waitctl(tmp.path(), &["repo", "ls", "base-images"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("WINDOWS11_IOT_LTSC_24H2_EN_US_X64"), "{text}");

    let out = waitctl(tmp.path(), &["repo", "ls", "nonsense"]);
    assert!(!out.status.success());
}

#[test]
fn check_exits_zero_when_a_set_fits_and_one_when_none_does() {
    let tmp = setup();
    let out = waitctl(
        tmp.path(),
        &[
            "repo",
            "check",
            "--base",
            BASE_WIM_FILE,
            "--board",
            "X13SAW",
            "--json",
        ],
    );
    let v = json(&out);
    assert_eq!(v["fits"], true);
    assert_eq!(v["recommended"]["driver_set"]["name"], "WINDOWS11_X64");

    let out = waitctl(
        tmp.path(),
        &[
            "repo",
            "check",
            "--base",
            BASE_WIM_FILE,
            "--index",
            "1",
            "--board",
            "X13SAW",
        ],
    );
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("Recommended: WINDOWS11_X64"), "{text}");
    assert!(text.contains("[ no ] WINDOWS10_X64"), "{text}");

    // A board with no drivers: nothing fits, exit 1.
    let out = waitctl(
        tmp.path(),
        &[
            "repo",
            "check",
            "--base",
            BASE_WIM_FILE,
            "--board",
            "NOBOARD",
        ],
    );
    assert_eq!(out.status.code(), Some(1));

    // A base image that does not exist is an error naming it.
    let out = waitctl(
        tmp.path(),
        &[
            "repo",
            "check",
            "--base",
            "missing.wim",
            "--board",
            "X13SAW",
        ],
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("missing.wim"));
}

#[test]
fn a_missing_repository_is_an_error_not_created() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let out = waitctl(tmp.path(), &["repo", "scan"]);
    assert!(!out.status.success());
    assert!(!tmp.path().join("WAIT_Repository").exists());
}

//! `waitctl demo --once` end to end, as a user runs it, checked with independent tools.

use std::path::{Path, PathBuf};
use std::process::Command;

fn run_ok(dir: &Path, program: &str, args: &[&str]) -> String {
    let out = Command::new(program)
        .args(args)
        .current_dir(dir)
        .output()
        .expect(program);
    assert!(
        out.status.success(),
        "{program} {args:?}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn demo_once(data: &Path) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_waitctl"))
        .args(["demo", "--once", "--data-dir"])
        .arg(data)
        .env_remove("WAIT_DATABASE_URL")
        .env_remove("WAIT_REPOSITORY")
        .output()
        .expect("run waitctl");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "demo failed: {stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), stdout)
}

#[test]
fn demo_once_builds_an_image_that_independent_tools_accept() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let (_, stdout) = demo_once(&data);
    assert!(stdout.contains("Admin login: admin / "), "{stdout}");
    let dir = PathBuf::from(stdout.lines().last().expect("output folder line").trim());
    assert!(
        dir.starts_with(data.join("WAIT_Repository/8_Output/DEMO")),
        "{}",
        dir.display()
    );

    run_ok(&dir, "md5sum", &["-c", "checksum.md5"]);
    run_ok(&dir, "sha256sum", &["-c", "checksum.sha256"]);
    run_ok(&dir, "wimlib-imagex", &["verify", "install.wim"]);
    let listing = run_ok(&dir, "wimlib-imagex", &["dir", "install.wim", "1"]);
    for want in [
        "/Windows/Panther/unattend.xml",
        "/Windows/Setup/Scripts/SetupComplete.cmd",
        "/WAIT/Drivers/",
    ] {
        assert!(listing.contains(want), "{want} not in image");
    }
    let info = run_ok(&dir, "wimlib-imagex", &["info", "install.wim", "1"]);
    assert!(
        info.contains("IoTEnterpriseS") && info.contains("26100"),
        "{info}"
    );

    // A second run reuses the repository and the admin, and builds again.
    let (_, again) = demo_once(&data);
    let login = |out: &str| {
        out.lines()
            .find(|l| l.starts_with("Admin login: admin / "))
            .map(str::to_string)
    };
    assert!(login(&stdout).is_some(), "{stdout}");
    assert_eq!(
        login(&again),
        login(&stdout),
        "the same password is shown again"
    );

    // An admin made some other way keeps its password, and the demo says so.
    std::fs::remove_file(data.join("demo-admin-password")).unwrap();
    let (_, third) = demo_once(&data);
    assert!(
        third.contains(
            "Admin login: admin (the account already existed; its password was left as it was)"
        ),
        "{third}"
    );
    let second = PathBuf::from(again.lines().last().unwrap().trim());
    assert_ne!(second, dir);
    assert!(second.join("install.wim").is_file());
}

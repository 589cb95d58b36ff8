//! `waitctl bench build` on a tiny generated repository: both sides run, the table,
//! the RSS line and the verdict are printed, and the kept outputs check out with
//! md5sum, sha256sum and wimlib-imagex.
#![allow(clippy::unwrap_used)]

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

fn run_ok(dir: &Path, program: &str, args: &[&str]) -> String {
    let out = Command::new(program)
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {program}: {e}"));
    assert!(
        out.status.success(),
        "{program} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The only entry of `dir` (a kept scratch folder, a published output folder).
fn only_entry(dir: &Path) -> PathBuf {
    let entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("list folder")
        .map(|e| e.expect("entry").path())
        .collect();
    assert_eq!(entries.len(), 1, "{}: {entries:?}", dir.display());
    entries.into_iter().next().expect("one entry")
}

/// The numbers of a table row whose step name is `step`.
fn row(stdout: &str, step: &str) -> Vec<Option<f64>> {
    let line = stdout
        .lines()
        .find(|l| l.starts_with(step))
        .unwrap_or_else(|| panic!("no row {step:?} in:\n{stdout}"));
    line[step.len()..]
        .split_whitespace()
        .map(|c| c.parse().ok())
        .collect()
}

#[test]
fn bench_build_runs_both_sides_and_reports_time_and_memory() {
    let tmp = tempfile::tempdir().unwrap();
    let out = support::waitctl()
        .args([
            "bench",
            "build",
            "--size-mib",
            "8",
            "--extra-mib",
            "2",
            "--keep",
            "--dir",
        ])
        .arg(tmp.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "stdout:\n{stdout}\nstderr:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // Rows where both sides do the same work carry both times and their ratio.
    for step in [
        "update + export",
        "MD5 + SHA-256",
        "validate / verify",
        "total",
    ] {
        let cells = row(&stdout, step);
        assert_eq!(cells.len(), 3, "{step}: {cells:?}");
        assert!(cells.iter().all(Option::is_some), "{step}: {cells:?}");
    }
    // Work only one side does has a dash on the other.
    assert_eq!(row(&stdout, "copy the base (cp)")[0], None);
    assert!(row(&stdout, "copy the base (cp)")[1].is_some());
    assert!(row(&stdout, "resolve, hash inputs")[0].is_some());

    let rss = stdout
        .lines()
        .find(|l| l.starts_with("peak RSS: ours "))
        .unwrap_or_else(|| panic!("no RSS line in:\n{stdout}"));
    assert!(rss.contains("MiB (worker process)"), "{rss}");
    assert!(stdout.contains("goal time: ours ÷ script = "), "{stdout}");
    assert!(stdout.contains("goal memory: ours "), "{stdout}");
    assert!(stdout.contains("our build stages (manifest.json timings):"));
    assert!(stdout.contains("  write "), "{stdout}");

    // Our published output passes independent checks.
    let kept = only_entry(tmp.path());
    let ours = only_entry(&kept.join("data/WAIT_Repository/8_Output/DEMO"));
    run_ok(&ours, "md5sum", &["-c", "checksum.md5"]);
    run_ok(&ours, "sha256sum", &["-c", "checksum.sha256"]);
    // The script staged the same drivers, installer and answer file.
    let script = kept.join("script");
    for path in ["/WAIT/Drivers", "/WAIT/Software"] {
        let arg = format!("--path={path}");
        let a = run_ok(&ours, "wimlib-imagex", &["dir", "install.wim", "1", &arg]);
        let b = run_ok(&script, "wimlib-imagex", &["dir", "install.wim", "1", &arg]);
        assert_eq!(a, b, "{path} differs between ours and the script");
        // The folder itself and at least one file in it.
        assert!(a.lines().count() >= 2, "{path}: {a}");
    }
    assert!(
        a_file_in(&script, "/Windows/Panther/unattend.xml"),
        "the script's image has no answer file"
    );
}

fn a_file_in(dir: &Path, path: &str) -> bool {
    let arg = format!("--path={path}");
    let out = Command::new("wimlib-imagex")
        .args(["dir", "install.wim", "1", &arg])
        .current_dir(dir)
        .output()
        .expect("run wimlib-imagex");
    out.status.success()
}

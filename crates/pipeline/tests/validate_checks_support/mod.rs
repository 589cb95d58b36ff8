//! Shared set-up for the validation-stage tests: one good output folder built from the
//! generated repository, private copies of it, and the ways the cases damage and re-seal it.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, OnceLock};

use crate::common::Env;
use wait_catalog::fixtures::TreeSpec;
use wait_pipeline::{
    Manifest, ValidationReport, digest_file, validate_output, write_checksum_files,
};
use wait_store::JobStatus;

/// One good output folder, built once per test binary (in a folder named after the binary,
/// so two binaries never clear each other's copy); each case works on a copy.
pub fn built() -> &'static Path {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT.get_or_init(|| {
        let keep = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
            .join(concat!(env!("CARGO_CRATE_NAME"), "_output"));
        let _ = std::fs::remove_dir_all(&keep);
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        runtime.block_on(async {
            let env = Env::new(TreeSpec::small(41)).await;
            let job = env
                .store
                .create_job(&env.request(), Some("tester"))
                .await
                .expect("create job");
            env.worker().run_until_idle().await.expect("run the job");
            let job = env
                .store
                .get_job(job.job_id)
                .await
                .expect("get job")
                .expect("job exists");
            assert_eq!(job.status, JobStatus::Completed, "{:?}", job.error);
            let dir = env.output(job.output_dir.as_deref().expect("output dir"));
            copy_folder(&dir, &keep);
        });
        keep
    })
}

pub fn copy_folder(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("create copy");
    for entry in std::fs::read_dir(from).expect("read output folder") {
        let entry = entry.expect("entry");
        std::fs::copy(entry.path(), to.join(entry.file_name())).expect("copy file");
    }
}

/// A private copy of the good output.
pub fn fresh() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().expect("tempdir");
    copy_folder(built(), tmp.path());
    tmp
}

pub fn validate(dir: &Path) -> ValidationReport {
    validate_output(dir, Arc::new(AtomicBool::new(false))).expect("validation runs")
}

pub fn failing(report: &ValidationReport) -> BTreeSet<String> {
    report.failures().iter().map(|c| c.name.clone()).collect()
}

pub fn names(list: &[&str]) -> BTreeSet<String> {
    list.iter().map(|s| s.to_string()).collect()
}

pub fn detail<'a>(report: &'a ValidationReport, name: &str) -> &'a str {
    &report
        .checks
        .iter()
        .find(|c| c.name == name)
        .unwrap_or_else(|| panic!("no check {name} in {report:#?}"))
        .detail
}

pub fn manifest(dir: &Path) -> Manifest {
    serde_json::from_str(&std::fs::read_to_string(dir.join("manifest.json")).expect("read"))
        .expect("manifest parses")
}

pub fn write_manifest(dir: &Path, m: &Manifest) {
    std::fs::write(dir.join("manifest.json"), m.to_json()).expect("write manifest");
}

/// Rewrite both checksum files for what the folder holds now, so a case damages one
/// thing only.
pub fn reseal(dir: &Path) {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).expect("read folder") {
        let name = entry
            .expect("entry")
            .file_name()
            .to_string_lossy()
            .into_owned();
        if name == "checksum.md5" || name == "checksum.sha256" {
            continue;
        }
        let d = digest_file(&dir.join(&name), |_| true).expect("digest");
        files.push((name, d));
    }
    files.sort_by(|a, b| a.0.cmp(&b.0));
    write_checksum_files(dir, &files).expect("write checksum files");
}

/// Record the WIM's current size and digests in the manifest after it was changed.
pub fn record_wim(dir: &Path, m: &mut Manifest) {
    let d = digest_file(&dir.join(&m.outputs[0].image_file), |_| true).expect("digest");
    m.outputs[0].size = d.size;
    m.outputs[0].md5 = d.md5;
    m.outputs[0].sha256 = d.sha256;
}

/// `wimlib-imagex update` with one command line on standard input.
pub fn wim_update(dir: &Path, command: &str) {
    use std::io::Write;
    let mut child = std::process::Command::new("wimlib-imagex")
        .args(["update", "install.wim", "1"])
        .current_dir(dir)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("run wimlib-imagex");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(format!("{command}\n").as_bytes())
        .expect("write command");
    assert!(child.wait().expect("wait").success(), "update {command}");
}

pub const ALL_SINGLE: &[&str] = &[
    "manifest",
    "checksum.md5",
    "checksum.sha256",
    "wim_file",
    "wim_verify",
    "image_count",
    "image_identity",
    "staged_files",
    "content_digest",
    "answer_file",
    "answer_sections",
    "answer_key",
    "first_boot",
];

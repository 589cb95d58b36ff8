//! A board with a driver download URL: a failing vendor server is a warning and the
//! build goes on; a working one puts the archive's drivers in the image, below the
//! staged driver folder, and records the archive as an input.

mod common;

use std::sync::atomic::Ordering;

use common::http::{download_worker, inf, serve};
use common::{Env, run};
use wait_catalog::fixtures::{TreeSpec, zip_archive};
use wait_pipeline::Worker;
use wait_store::JobStatus;

fn worker(env: &Env) -> Worker {
    download_worker(env, "dl-worker")
}

/// A network driver for "Vendor NIC".
fn nic_inf() -> String {
    inf(
        "Net",
        "{4d36e972-e325-11ce-bfc1-08002be10318}",
        "Vendor NIC",
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_vendor_server_is_a_warning_and_the_build_goes_on() {
    let env = Env::new(TreeSpec::small(81)).await;
    let (url, hits) = serve(500, b"vendor site down".to_vec());
    env.store
        .add_motherboard(&env.demo.board, Some(&url))
        .await
        .expect("board");
    let job = env.run_job(&worker(&env), &env.request()).await;
    assert_eq!(job.status, JobStatus::Completed, "{:?}", job.error);
    assert!(hits.load(Ordering::SeqCst) >= 1, "the server was asked");
    assert!(
        job.warnings
            .iter()
            .any(|w| w.contains("driver download failed")),
        "{:?}",
        job.warnings
    );
    let dir = env.output(job.output_dir.as_deref().expect("output"));
    let manifest = common::manifest(&dir);
    assert!(
        manifest
            .warnings
            .iter()
            .any(|w| w.contains("driver download failed"))
    );
    assert!(!manifest.inputs.iter().any(|i| i.kind == "driver_download"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_downloaded_archive_is_staged_and_recorded() {
    let env = Env::new(TreeSpec::small(82)).await;
    let nic = nic_inf();
    let archive = zip_archive(&[
        ("NIC/vendor_nic.inf", nic.as_bytes()),
        ("NIC/vendor_nic.sys", b"MZ driver payload".as_slice()),
    ])
    .expect("zip");
    let (url, _) = serve(200, archive.clone());
    env.store
        .add_motherboard(&env.demo.board, Some(&url))
        .await
        .expect("board");
    let job = env.run_job(&worker(&env), &env.request()).await;
    assert_eq!(job.status, JobStatus::Completed, "{:?}", job.error);
    let dir = env.output(job.output_dir.as_deref().expect("output"));
    let listing = run(&dir, "wimlib-imagex", &["dir", "install.wim", "1"]);
    assert!(
        listing.contains("/WAIT/Drivers/_Downloaded/NIC/vendor_nic.inf"),
        "{listing}"
    );
    let recorded = job
        .resources
        .iter()
        .find(|r| r.kind == "driver_download")
        .expect("download recorded as an input");
    let zip_path = env.dir.path().join("board.zip");
    std::fs::write(&zip_path, &archive).expect("write");
    let sum = run(env.dir.path(), "sha256sum", &["board.zip"]);
    assert!(
        sum.starts_with(&recorded.sha256),
        "{sum} vs {}",
        recorded.sha256
    );
}

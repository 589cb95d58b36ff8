//! A board with a driver download URL: a failing vendor server is a warning and the
//! build goes on; a working one puts the archive's drivers in the image, below the
//! staged driver folder, and records the archive as an input.

mod common;

use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use common::{Env, run};
use wait_catalog::fixtures::{TreeSpec, zip_archive};
use wait_pipeline::{Manifest, Worker, WorkerConfig};
use wait_store::JobStatus;

/// A one-route HTTP server on 127.0.0.1 answering every request with `status` and
/// `body`; counts requests.
fn serve(status: u16, body: Vec<u8>) -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    let hits = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&hits);
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut s) = stream else { continue };
            counter.fetch_add(1, Ordering::SeqCst);
            let mut buf = [0u8; 4096];
            let _ = s.read(&mut buf);
            let head = format!(
                "HTTP/1.1 {status} X\r\nContent-Length: {}\r\nContent-Type: application/zip\r\nConnection: close\r\n\r\n",
                body.len()
            );
            let _ = s.write_all(head.as_bytes());
            let _ = s.write_all(&body);
        }
    });
    (format!("http://{addr}/drivers/board.zip"), hits)
}

fn worker(env: &Env) -> Worker {
    let mut config = WorkerConfig::new("dl-worker", env.dir.path().join("work"));
    config.heartbeat = Duration::from_millis(20);
    config.poll_interval = Duration::from_millis(20);
    config.download.allow_private = true;
    config.download.attempts = 1;
    config.download.timeout = Duration::from_secs(5);
    Worker::new(env.store.clone(), env.repo.clone(), config)
}

const INF: &str = "[Version]\r\nSignature=\"$WINDOWS NT$\"\r\nClass=Net\r\nClassGuid={4d36e972-e325-11ce-bfc1-08002be10318}\r\nProvider=%Mfg%\r\nDriverVer=01/02/2025,1.2.3.4\r\n\r\n[Manufacturer]\r\n%Mfg%=Models,NTamd64\r\n\r\n[Models.NTamd64]\r\n%Dev%=Install,PCI\\VEN_8086&DEV_15F3\r\n\r\n[Strings]\r\nMfg=\"Vendor\"\r\nDev=\"Vendor NIC\"\r\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_vendor_server_is_a_warning_and_the_build_goes_on() {
    let env = Env::new(TreeSpec::small(81)).await;
    let (url, hits) = serve(500, b"vendor site down".to_vec());
    env.store
        .add_motherboard(&env.demo.board, Some(&url))
        .await
        .expect("board");
    let job = env
        .store
        .create_job(&env.request(), None)
        .await
        .expect("create");
    worker(&env).run_until_idle().await.expect("worker");
    let job = env
        .store
        .get_job(job.job_id)
        .await
        .expect("get")
        .expect("job");
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
    let manifest: Manifest = serde_json::from_str(
        &std::fs::read_to_string(dir.join("manifest.json")).expect("manifest"),
    )
    .expect("parses");
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
    let archive = zip_archive(&[
        ("NIC/vendor_nic.inf", INF.as_bytes()),
        ("NIC/vendor_nic.sys", b"MZ driver payload".as_slice()),
    ])
    .expect("zip");
    let (url, _) = serve(200, archive.clone());
    env.store
        .add_motherboard(&env.demo.board, Some(&url))
        .await
        .expect("board");
    let job = env
        .store
        .create_job(&env.request(), None)
        .await
        .expect("create");
    worker(&env).run_until_idle().await.expect("worker");
    let job = env
        .store
        .get_job(job.job_id)
        .await
        .expect("get")
        .expect("job");
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

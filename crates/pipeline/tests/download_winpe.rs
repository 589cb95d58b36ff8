//! ISO output with a downloaded driver archive: its storage and network drivers are
//! offered to Setup's WinPE through `$WinPEDriver$` on the media, like the repository's
//! driver set, and its other drivers are not.

mod common;

use common::http::{download_worker, inf, serve};
use common::{Env, run};
use wait_catalog::fixtures::{TreeSpec, zip_archive};
use wait_store::JobStatus;

const MEDIA: &str = "WIN11_24H2_MEDIA.iso";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn downloaded_storage_and_network_drivers_reach_winpe_on_the_iso() {
    let spec = TreeSpec::small(91);
    let env = Env::new(spec).await;
    env.add_base_iso(&spec, MEDIA, "CCCOMA_X64FRE_EN-US_DV9");
    let net = inf(
        "Net",
        "{4d36e972-e325-11ce-bfc1-08002be10318}",
        "Vendor NIC",
    );
    let raid = inf(
        "SCSIAdapter",
        "{4d36e97b-e325-11ce-bfc1-08002be10318}",
        "Vendor RAID",
    );
    let gpu = inf(
        "Display",
        "{4d36e968-e325-11ce-bfc1-08002be10318}",
        "Vendor GPU",
    );
    let archive = zip_archive(&[
        ("NIC/vendor_nic.inf", net.as_bytes()),
        ("NIC/vendor_nic.sys", b"MZ nic".as_slice()),
        ("RAID/vendor_raid.inf", raid.as_bytes()),
        ("RAID/vendor_raid.sys", b"MZ raid".as_slice()),
        ("GPU/vendor_gpu.inf", gpu.as_bytes()),
        ("GPU/vendor_gpu.sys", b"MZ gpu".as_slice()),
    ])
    .expect("zip");
    let (url, _) = serve(200, archive);
    env.store
        .add_motherboard(&env.demo.board, Some(&url))
        .await
        .expect("board");

    let mut req = env.request();
    req.base_image = MEDIA.into();
    req.create_iso = true;
    let job = env
        .run_job(&download_worker(&env, "winpe-worker"), &req)
        .await;
    assert_eq!(job.status, JobStatus::Completed, "{:?}", job.error);
    assert!(
        job.resources.iter().any(|r| r.kind == "driver_download"),
        "the archive was used"
    );
    let dir = env.output(job.output_dir.as_deref().expect("output"));

    let listing = run(&dir, "7z", &["l", "-slt", "install.iso"]);
    let paths: Vec<&str> = listing
        .lines()
        .filter_map(|l| l.strip_prefix("Path = "))
        .collect();
    for wanted in [
        "$WinPEDriver$/_Downloaded/NIC/vendor_nic.inf",
        "$WinPEDriver$/_Downloaded/NIC/vendor_nic.sys",
        "$WinPEDriver$/_Downloaded/RAID/vendor_raid.inf",
        "$WinPEDriver$/_Downloaded/RAID/vendor_raid.sys",
    ] {
        assert!(
            paths.contains(&wanted),
            "{wanted} not on the media: {paths:?}"
        );
    }
    assert!(
        !paths.iter().any(|p| p.contains("vendor_gpu")),
        "a display driver is not for WinPE: {paths:?}"
    );
    // The repository's set is still offered, outside the download's folder.
    assert!(
        paths.iter().any(|p| p.starts_with("$WinPEDriver$/")
            && !p.starts_with("$WinPEDriver$/_Downloaded")
            && p.to_lowercase().ends_with(".inf")),
        "{paths:?}"
    );

    // The files on the media are the archive's, byte for byte.
    let x = env.dir.path().join("iso-x");
    std::fs::create_dir_all(&x).expect("mkdir");
    let out = format!("-o{}", x.display());
    run(
        &dir,
        "7z",
        &[
            "x",
            "-y",
            &out,
            "install.iso",
            "$WinPEDriver$/_Downloaded/NIC/vendor_nic.inf",
        ],
    );
    let copied = std::fs::read_to_string(x.join("$WinPEDriver$/_Downloaded/NIC/vendor_nic.inf"))
        .expect("inf");
    assert_eq!(copied, net);

    let manifest = common::manifest(&dir);
    let winpe = manifest
        .components
        .iter()
        .find(|c| c.name.contains("for WinPE"))
        .expect("WinPE component entry");
    assert!(
        winpe.name.contains("2 of them from the downloaded archive"),
        "{winpe:?}"
    );
    let iso = manifest.outputs[0]
        .iso
        .as_ref()
        .expect("ISO in the manifest");
    assert_eq!(iso.winpe_drivers.as_deref(), Some("$WinPEDriver$"));
    run(&dir, "sha256sum", &["-c", "checksum.sha256"]);
}

//! End-to-end builds through the real store, the real libwim and the generated
//! repository, checked with independent tools (md5sum, sha256sum, wimlib-imagex).

mod common;

use std::time::Duration;

use common::{Env, assert_validates, extract_from_image, extract_to_dir, manifest, run};
use wait_catalog::fixtures::TreeSpec;
use wait_pipeline::{Manifest, validate_output};
use wait_store::{JobRequest, JobStatus, StoreError};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn completed_build_publishes_output_that_independent_tools_accept() {
    let env = Env::new(TreeSpec::small(7)).await;
    let job = env
        .store
        .create_job(&env.request(), Some("tester"))
        .await
        .unwrap();
    assert_eq!(env.worker().run_until_idle().await.unwrap(), 1);

    let job = env.store.get_job(job.job_id).await.unwrap().unwrap();
    assert_eq!(job.status, JobStatus::Completed, "error: {:?}", job.error);
    assert_eq!(job.progress, 100);
    assert!(job.started_at.is_some() && job.finished_at.is_some());
    let rel = job.output_dir.clone().unwrap();
    assert!(rel.starts_with("ACME/"), "{rel}");
    assert!(rel.ends_with("_X13SAW"), "{rel}");
    let dir = env.output(&rel);
    for f in &job.output_files {
        assert!(dir.join(f).is_file(), "{f} missing");
    }

    run(&dir, "md5sum", &["-c", "checksum.md5"]);
    run(&dir, "sha256sum", &["-c", "checksum.sha256"]);
    run(&dir, "wimlib-imagex", &["verify", "install.wim"]);
    let listing = run(&dir, "wimlib-imagex", &["dir", "install.wim", "1"]);
    assert!(listing.contains("/Windows/Panther/unattend.xml"));
    assert!(listing.contains("/Windows/Setup/Scripts/SetupComplete.cmd"));
    assert!(
        listing
            .lines()
            .any(|l| l.starts_with("/WAIT/Drivers/") && l.to_lowercase().ends_with(".inf"))
    );
    assert!(
        listing
            .lines()
            .any(|l| l.starts_with("/WAIT/Drivers/") && l.ends_with(".sys"))
    );

    // The answer file inside the image carries the driver path and the user's content.
    let extract = env.dir.path().join("extract");
    extract_to_dir(
        &dir,
        "install.wim",
        "/Windows/Panther/unattend.xml",
        &extract,
    );
    let unattend = std::fs::read_to_string(extract.join("unattend.xml")).unwrap();
    assert!(unattend.contains("Microsoft-Windows-PnpCustomizationsNonWinPE"));
    assert!(unattend.contains(r"<Path>C:\WAIT\Drivers</Path>"));
    assert!(
        unattend.contains("oobeSystem"),
        "user's answer file content kept"
    );

    // Every input is recorded with a hash an independent tool agrees with.
    let manifest = manifest(&dir);
    let base = job
        .resources
        .iter()
        .find(|r| r.kind == "base_image")
        .unwrap();
    let base_path = env.repo.root().join(&base.path);
    let sha = run(env.repo.root(), "sha256sum", &[base_path.to_str().unwrap()]);
    assert!(sha.starts_with(&base.sha256));
    assert!(job.resources.iter().any(|r| r.kind == "driver"));
    assert!(job.resources.iter().any(|r| r.kind == "answer_file"));
    assert_eq!(manifest.inputs, job.resources);
    assert_eq!(manifest.base_image.build, Some(26100));
    assert!(
        manifest
            .components
            .iter()
            .any(|c| c.how.contains("pnputil"))
    );

    // Nothing private is left next to the output.
    let leftovers: Vec<_> = std::fs::read_dir(env.output("ACME"))
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with('.'))
        .collect();
    assert!(leftovers.is_empty());

    // Status flow and log lines were recorded.
    let logs = env
        .store
        .logs_after(job.job_id, 0, true, 10_000)
        .await
        .unwrap();
    let seqs: Vec<i64> = logs.iter().map(|l| l.seq).collect();
    assert_eq!(seqs, (1..=logs.len() as i64).collect::<Vec<_>>());
    assert!(logs.iter().any(|l| l.message.contains("PASS wim_verify")));
    assert!(
        logs.iter()
            .any(|l| l.level == wait_store::LogLevel::Verbose)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn board_without_drivers_fails_the_build_with_the_reason() {
    let env = Env::new(TreeSpec::small(7)).await;
    std::fs::create_dir_all(env.repo.root().join("2_Drivers/EMPTYBOARD")).unwrap();
    let mut req = env.request();
    req.motherboard_model = "EMPTYBOARD".into();
    let job = env.store.create_job(&req, None).await.unwrap();
    env.worker().run_until_idle().await.unwrap();
    let job = env.store.get_job(job.job_id).await.unwrap().unwrap();
    assert_eq!(job.status, JobStatus::FailedBuild);
    let err = job.error.unwrap();
    assert!(
        err.contains("driver_set") && err.contains("EMPTYBOARD"),
        "{err}"
    );
    assert!(
        !env.output("ACME").exists()
            || std::fs::read_dir(env.output("ACME"))
                .unwrap()
                .next()
                .is_none()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_during_build_leaves_no_output_dir() {
    let env = Env::new(TreeSpec::demo(3)).await;
    let job = env.store.create_job(&env.request(), None).await.unwrap();
    let worker = env.worker();
    let running = tokio::spawn(async move { worker.run_one().await });
    // Wait until the worker holds the job, then ask it to stop.
    loop {
        let j = env.store.get_job(job.job_id).await.unwrap().unwrap();
        if j.status == JobStatus::ProcessingBuild {
            break;
        }
        assert_eq!(j.status, JobStatus::Queued);
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    env.store.request_cancel(job.job_id).await.unwrap();
    let status = running.await.unwrap().unwrap();
    assert_eq!(status, Some(JobStatus::Cancelled));
    let job = env.store.get_job(job.job_id).await.unwrap().unwrap();
    assert_eq!(job.status, JobStatus::Cancelled);
    let left: Vec<_> = std::fs::read_dir(env.output("ACME"))
        .map(|d| d.flatten().collect())
        .unwrap_or_default();
    assert!(
        left.is_empty(),
        "left behind: {:?}",
        left.iter().map(|e| e.path()).collect::<Vec<_>>()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn validation_catches_tampered_outputs() {
    let env = Env::new(TreeSpec::small(9)).await;
    let job = env.store.create_job(&env.request(), None).await.unwrap();
    env.worker().run_until_idle().await.unwrap();
    let job = env.store.get_job(job.job_id).await.unwrap().unwrap();
    let dir = env.output(job.output_dir.as_deref().unwrap());
    let flag = || std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    assert!(validate_output(&dir, flag()).unwrap().passed());

    // A changed manifest breaks both checksum files.
    let text = std::fs::read_to_string(dir.join("manifest.txt")).unwrap();
    std::fs::write(dir.join("manifest.txt"), text.replace("WAIT", "TIAW")).unwrap();
    let report = validate_output(&dir, flag()).unwrap();
    let failed: Vec<_> = report.failures().iter().map(|c| c.name.clone()).collect();
    assert_eq!(failed, vec!["checksum.md5", "checksum.sha256"]);
    std::fs::write(dir.join("manifest.txt"), text).unwrap();

    // A staged file the manifest promises but the image lacks is reported by name.
    let mut manifest: Manifest =
        serde_json::from_str(&std::fs::read_to_string(dir.join("manifest.json")).unwrap()).unwrap();
    manifest.staged_files[0].image_path = "/WAIT/Drivers/nowhere.inf".into();
    std::fs::write(dir.join("manifest.json"), manifest.to_json()).unwrap();
    let report = validate_output(&dir, flag()).unwrap();
    let staged = report
        .checks
        .iter()
        .find(|c| c.name == "staged_files")
        .unwrap();
    assert!(
        !staged.ok
            && staged
                .detail
                .contains("/WAIT/Drivers/nowhere.inf is missing")
    );

    // A truncated image fails to open or verify.
    let wim = dir.join("install.wim");
    let len = std::fs::metadata(&wim).unwrap().len();
    let f = std::fs::OpenOptions::new().write(true).open(&wim).unwrap();
    f.set_len(len / 2).unwrap();
    let report = validate_output(&dir, flag()).unwrap();
    assert!(!report.passed());
    assert!(report.failures().iter().any(|c| c.name.starts_with("wim_")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn worker_that_lost_its_lease_cannot_finish_the_job() {
    let env = Env::new(TreeSpec::small(5)).await;
    let job = env.store.create_job(&env.request(), None).await.unwrap();
    let first = env
        .store
        .claim_job("w1", Duration::from_millis(1))
        .await
        .unwrap()
        .unwrap();
    tokio::time::sleep(Duration::from_millis(20)).await;
    let second = env
        .store
        .claim_job("w2", Duration::from_secs(60))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(second.job_id, job.job_id);
    assert_eq!(second.attempt, first.attempt + 1);
    let err = env
        .store
        .transition(
            job.job_id,
            first.attempt,
            JobStatus::Completed,
            &Default::default(),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::LeaseLost { .. }));
}

/// The demo packages (language packs, updates, software) written to the repository,
/// and a request for the customer they belong to.
fn demo_request(env: &Env) -> JobRequest {
    wait_catalog::fixtures::write_demo_packages(env.repo.root()).expect("demo packages");
    let mut req = env.request();
    req.customer_name = "DEMO".into();
    req
}

const LANGPACK: &str = "Microsoft-Windows-Client-Language-Pack_x64_de-de.cab";
const UPDATE_CAB: &str = "Windows11.0-KB5999001-x64.cab";
const PSFX_MSU: &str = "windows11.0-kb5046617-x64.msu";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn language_packs_updates_and_software_are_staged_and_scheduled() {
    let env = Env::new(TreeSpec::small(7)).await;
    let mut req = demo_request(&env);
    req.langpacks = vec![LANGPACK.into()];
    req.updates = vec![UPDATE_CAB.into(), PSFX_MSU.into()];
    req.software = vec!["DemoAgent.msi".into(), "DemoViewer.msix".into()];
    let job = env.store.create_job(&req, None).await.unwrap();
    env.worker().run_until_idle().await.unwrap();
    let job = env.store.get_job(job.job_id).await.unwrap().unwrap();
    assert_eq!(job.status, JobStatus::Completed, "error: {:?}", job.error);
    let dir = env.output(job.output_dir.as_deref().unwrap());

    let listing = run(&dir, "wimlib-imagex", &["dir", "install.wim", "1"]);
    for path in [
        format!("/WAIT/Packages/LangPacks/{LANGPACK}"),
        format!("/WAIT/Packages/Updates/{UPDATE_CAB}"),
        format!("/WAIT/Packages/Updates/{PSFX_MSU}"),
        "/WAIT/Software/DemoAgent.msi".to_string(),
        "/WAIT/Software/DemoViewer.msix".to_string(),
    ] {
        assert!(listing.lines().any(|l| l == path), "{path} not in image");
    }

    let extract = |image_path: &str| extract_from_image(&dir, image_path);
    let unattend = extract("/Windows/Panther/unattend.xml");
    let mut reader = quick_xml::Reader::from_str(&unattend);
    let mut identities = Vec::new();
    let mut locations = Vec::new();
    let mut in_servicing = false;
    loop {
        match reader.read_event().unwrap() {
            quick_xml::events::Event::Start(e) if e.local_name().as_ref() == b"servicing" => {
                in_servicing = true;
            }
            quick_xml::events::Event::End(e) if e.local_name().as_ref() == b"servicing" => {
                in_servicing = false;
            }
            quick_xml::events::Event::Empty(e) if in_servicing => {
                let attrs: std::collections::HashMap<String, String> = e
                    .attributes()
                    .flatten()
                    .map(|a| {
                        (
                            String::from_utf8_lossy(a.key.as_ref()).into_owned(),
                            a.unescape_value().unwrap().into_owned(),
                        )
                    })
                    .collect();
                match e.local_name().as_ref() {
                    b"assemblyIdentity" => identities.push(attrs),
                    b"source" => locations.push(attrs["location"].clone()),
                    _ => {}
                }
            }
            quick_xml::events::Event::Eof => break,
            _ => {}
        }
    }
    assert_eq!(identities.len(), 2, "{unattend}");
    for id in &identities {
        for key in [
            "name",
            "version",
            "processorArchitecture",
            "language",
            "publicKeyToken",
        ] {
            assert!(!id[key].is_empty(), "{key} missing in {id:?}");
        }
    }
    assert_eq!(
        identities[0]["name"],
        "Microsoft-Windows-Client-LanguagePack-Package"
    );
    assert_eq!(identities[1]["name"], "Package_for_KB5999001");
    assert_eq!(
        locations,
        vec![
            format!(r"C:\WAIT\Packages\LangPacks\{LANGPACK}"),
            format!(r"C:\WAIT\Packages\Updates\{UPDATE_CAB}"),
        ]
    );

    let script = extract("/Windows/Setup/Scripts/SetupComplete.cmd");
    assert!(script.contains(&format!(
        r#"dism /online /add-package /packagepath:"C:\WAIT\Packages\Updates\{PSFX_MSU}" /quiet /norestart"#
    )));
    assert!(script.contains(r#"msiexec /i "C:\WAIT\Software\DemoAgent.msi" /qn /norestart"#));
    assert!(script.contains(
        r"Add-AppxProvisionedPackage -Online -PackagePath 'C:\WAIT\Software\DemoViewer.msix'"
    ));
    assert!(
        !script.contains(UPDATE_CAB),
        "cab updates go through the answer file"
    );

    let manifest = manifest(&dir);
    let kinds: Vec<&str> = manifest
        .components
        .iter()
        .filter(|c| ["langpack", "update", "software"].contains(&c.kind.as_str()))
        .map(|c| c.kind.as_str())
        .collect();
    // The PSFX update needs checkpoint KB5043080, found in the same folder and staged
    // right before it.
    assert_eq!(
        kinds,
        vec![
            "langpack", "update", "update", "update", "software", "software"
        ]
    );
    let updates: Vec<&str> = manifest
        .components
        .iter()
        .filter(|c| c.kind == "update")
        .map(|c| c.name.as_str())
        .collect();
    let checkpoint = updates
        .iter()
        .position(|n| n.to_lowercase().contains("kb5043080"))
        .expect("checkpoint staged");
    let target = updates.iter().position(|n| n.ends_with(PSFX_MSU)).unwrap();
    assert!(checkpoint < target, "{updates:?}");
    assert!(
        job.resources
            .iter()
            .any(|r| r.kind == "update" && r.path.to_lowercase().contains("kb5043080"))
    );
    assert!(
        manifest
            .components
            .iter()
            .any(|c| c.name.ends_with(PSFX_MSU) && c.how.contains("dism /online"))
    );
    assert!(
        manifest
            .staged_files
            .iter()
            .any(|s| s.image_path == "/WAIT/Software/DemoAgent.msi")
    );
    for kind in ["langpack", "update", "software"] {
        assert!(job.resources.iter().any(|r| r.kind == kind), "{kind}");
    }
    assert_validates(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn update_for_another_architecture_fails_the_build_naming_the_field() {
    let env = Env::new(TreeSpec::small(7)).await;
    let mut req = demo_request(&env);
    let mum = wait_catalog::fixtures::update_mum(
        "Package_for_KB5999002",
        "26100.2033.1.3",
        "arm64",
        "neutral",
        "KB5999002",
        "Update",
    );
    let cab = wait_catalog::fixtures::cabinet(&[("update.mum", mum.as_bytes())]).unwrap();
    let dest = env
        .repo
        .root()
        .join("4_Updates/DEMO/WIN11_24H2/Windows11.0-KB5999002-arm64.cab");
    std::fs::write(&dest, cab).unwrap();
    req.updates = vec!["Windows11.0-KB5999002-arm64.cab".into()];
    let job = env.store.create_job(&req, None).await.unwrap();
    env.worker().run_until_idle().await.unwrap();
    let job = env.store.get_job(job.job_id).await.unwrap().unwrap();
    assert_eq!(job.status, JobStatus::FailedBuild);
    let err = job.error.unwrap();
    assert!(
        err.contains("updates") && err.contains("KB5999002"),
        "{err}"
    );
    assert!(err.to_lowercase().contains("arm64"), "{err}");
}

/// The FirstLogonCommands command lines of an answer file, in order.
fn first_logon_command_lines(unattend: &str) -> Vec<String> {
    let mut reader = quick_xml::Reader::from_str(unattend);
    let (mut lines, mut inside) = (Vec::new(), false);
    loop {
        match reader.read_event().expect("answer file parses") {
            quick_xml::events::Event::Start(e) if e.local_name().as_ref() == b"CommandLine" => {
                inside = true;
            }
            quick_xml::events::Event::Text(t) if inside => {
                lines.push(t.unescape().expect("text").into_owned());
                inside = false;
            }
            quick_xml::events::Event::End(_) => inside = false,
            quick_xml::events::Event::Eof => break,
            _ => {}
        }
    }
    lines
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oem_key_on_a_professional_image_moves_updates_and_software_to_first_logon() {
    let env = Env::new(TreeSpec::small(8)).await;
    let mut req = demo_request(&env);
    // Windows skips SetupComplete.cmd with an OEM key on this edition.
    let base = env.base_image_path();
    run(
        env.dir.path(),
        "wimlib-imagex",
        &[
            "info",
            base.to_str().unwrap(),
            "1",
            "--image-property",
            "WINDOWS/EDITIONID=Professional",
            "--image-property",
            "FLAGS=Professional",
        ],
    );
    req.updates = vec![UPDATE_CAB.into(), PSFX_MSU.into()];
    req.software = vec!["DemoAgent.msi".into()];
    req.product_key = Some("VK7JG-NPHTM-C97JM-9MPGT-3V66T".into());
    req.key_variants = "key".into();
    let job = env.store.create_job(&req, None).await.unwrap();
    env.worker().run_until_idle().await.unwrap();
    let job = env.store.get_job(job.job_id).await.unwrap().unwrap();
    assert_eq!(job.status, JobStatus::Completed, "error: {:?}", job.error);
    let dir = env.output(job.output_dir.as_deref().unwrap());
    let extract = |image_path: &str| extract_from_image(&dir, image_path);

    let script = extract("/Windows/Setup/Scripts/SetupComplete.cmd");
    assert!(
        !script.contains("dism ") && !script.contains("msiexec"),
        "nothing that matters may wait for a script Windows skips:\n{script}"
    );

    let commands = first_logon_command_lines(&extract("/Windows/Panther/unattend.xml"));
    let position = |needle: &str| {
        commands
            .iter()
            .position(|c| c.to_lowercase().contains(needle))
            .unwrap_or_else(|| panic!("{needle} not in FirstLogonCommands: {commands:?}"))
    };
    let pnputil = position("pnputil /add-driver");
    let checkpoint = position("kb5043080");
    let target = position(PSFX_MSU);
    let msi = position("msiexec /i");
    assert!(
        pnputil < checkpoint && checkpoint < target && target < msi,
        "{commands:?}"
    );
    assert!(commands[target].starts_with("dism /online /add-package /packagepath:"));
    assert!(
        commands.iter().all(|c| !c.contains(UPDATE_CAB)),
        "cab updates still go through <servicing>"
    );

    let manifest = manifest(&dir);
    assert_eq!(manifest.first_boot.software_runs_from, "FirstLogonCommands");
    let msu = manifest
        .components
        .iter()
        .find(|c| c.name.ends_with(PSFX_MSU))
        .expect("msu in the manifest");
    assert!(msu.how.contains("FirstLogonCommands"), "{msu:?}");
    assert!(msu.when.contains("first administrator logon"), "{msu:?}");
    assert!(
        job.warnings.iter().all(|w| !w.contains("SetupComplete")),
        "{:?}",
        job.warnings
    );
    assert_validates(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exe_switches_come_from_the_request_or_else_from_the_sidecar() {
    let env = Env::new(TreeSpec::small(9)).await;
    let mut plain = demo_request(&env);
    plain.software = vec!["DemoTool.exe".into()];
    let mut given = plain.clone();
    given.options.software_switches = [(
        "DemoTool.exe".to_string(),
        r#"/VERYSILENT /DIR="C:\Tools""#.to_string(),
    )]
    .into();
    let mut scripts = Vec::new();
    for req in [&plain, &given] {
        let job = env.store.create_job(req, None).await.unwrap();
        env.worker().run_until_idle().await.unwrap();
        let job = env.store.get_job(job.job_id).await.unwrap().unwrap();
        assert_eq!(job.status, JobStatus::Completed, "error: {:?}", job.error);
        let dir = env.output(job.output_dir.as_deref().unwrap());
        scripts.push(extract_from_image(
            &dir,
            "/Windows/Setup/Scripts/SetupComplete.cmd",
        ));
        let manifest = manifest(&dir);
        let tool = manifest
            .components
            .iter()
            .find(|c| c.name.ends_with("DemoTool.exe"))
            .expect("exe in the manifest");
        let expected = if req.options.software_switches.is_empty() {
            "/S /norestart"
        } else {
            "/VERYSILENT"
        };
        assert!(tool.how.contains(expected), "{tool:?}");
        // The sidecar is an input either way: it is staged beside the installer.
        assert!(
            job.resources
                .iter()
                .any(|r| r.kind == "software" && r.path.ends_with("DemoTool.exe.switches")),
            "{:?}",
            job.resources
        );
    }
    assert!(
        scripts[0].contains(r#""C:\WAIT\Software\DemoTool.exe" /S /norestart"#),
        "{}",
        scripts[0]
    );
    assert!(
        scripts[1].contains(r#""C:\WAIT\Software\DemoTool.exe" /VERYSILENT /DIR="C:\Tools""#),
        "{}",
        scripts[1]
    );
    assert!(!scripts[1].contains("/S /norestart"), "{}", scripts[1]);
}

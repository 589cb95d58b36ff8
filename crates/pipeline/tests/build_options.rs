//! Build options and the paths they take, each through a real build checked with
//! independent tools: the customer's naming template and the request's image name,
//! WinRE recompression, the single-index rebuild of a two-image base chosen by edition,
//! answer-file conflicts, and a tampered output failing validation on a second worker.

mod common;

use std::path::{Path, PathBuf};

use common::{
    Env, assert_validates as validates, extract_from_image, extract_to_dir, manifest, run,
};
use wait_catalog::fixtures::TreeSpec;
use wait_pipeline::Worker;
use wait_store::{Job, JobRequest, JobStatus, Stages};

const KEY: &str = "VK7JG-NPHTM-C97JM-9MPGT-3V66T";
/// Another well-formed key, for the customer's answer file to clash with `KEY`.
const THEIR_KEY: &str = "NPPR9-FWDCX-D2C8J-H872K-2YT43";
const RESET_BASE_NOTE: &str = "Component-store cleanup (DISM /Cleanup-Image /StartComponentCleanup /ResetBase) runs only on Windows and was not performed.";

/// Queue `req`, let the test worker run everything, and return the finished job.
async fn build(env: &Env, req: &JobRequest) -> Job {
    let id = env.submit(req, Some("tester")).await;
    env.worker().run_until_idle().await.expect("worker");
    env.job(id).await
}

/// Size and `wimlib-imagex info` of the `Winre.wim` extracted into `dir`.
fn winre_copy(dir: &Path) -> (u64, String) {
    let size = std::fs::metadata(dir.join("Winre.wim"))
        .expect("Winre.wim")
        .len();
    (size, run(dir, "wimlib-imagex", &["info", "Winre.wim"]))
}

/// The file names a checksum file lists.
fn listed_in(dir: &Path, sums: &str) -> Vec<String> {
    std::fs::read_to_string(dir.join(sums))
        .expect("checksum file")
        .lines()
        .filter_map(|l| l.split_whitespace().nth(1))
        .map(|f| f.trim_start_matches('*').to_string())
        .collect()
}

/// The value after `Label:` in `wimlib-imagex info` output (first occurrence).
fn info_field(info: &str, label: &str) -> Option<String> {
    info.lines()
        .find_map(|l| l.trim().strip_prefix(label))
        .map(|v| v.trim_start_matches(':').trim().to_string())
}

/// The first 8 hex digits of a job id, as `{job}` renders them.
fn short_id(job: &Job) -> String {
    job.job_id
        .to_string()
        .chars()
        .filter(|c| *c != '-')
        .take(8)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn naming_template_and_image_name_shape_the_output() {
    let env = Env::new(TreeSpec::small(41)).await;
    let template = "{customer}-{board}-{edition}-{build}-idx{index}-{job}{variant}";
    env.store
        .upsert_customer("ACME", Some(template), &serde_json::json!({}))
        .await
        .expect("customer");
    let mut req = env.request();
    req.options.image_name = Some("LineA_Kiosk-v2".into());
    let job = build(&env, &req).await;
    let dir = env.completed_dir(&job);

    // Every token expanded; {variant} is empty for a job with one output.
    let want = format!(
        "ACME/ACME-X13SAW-IoTEnterpriseS-26100-idx1-{}",
        short_id(&job)
    );
    assert_eq!(job.output_dir.as_deref(), Some(want.as_str()));
    assert!(dir.is_dir(), "{}", dir.display());

    let image = "LineA_Kiosk-v2.wim";
    assert!(dir.join(image).is_file());
    assert!(
        !dir.join("install.wim").exists(),
        "the default name is not used"
    );
    assert!(
        job.output_files.iter().any(|f| f == image),
        "{:?}",
        job.output_files
    );
    for sums in ["checksum.md5", "checksum.sha256"] {
        let files = listed_in(&dir, sums);
        assert!(files.iter().any(|f| f == image), "{sums}: {files:?}");
        assert!(
            files.iter().any(|f| f == "manifest.json"),
            "{sums}: {files:?}"
        );
    }
    run(&dir, "md5sum", &["-c", "checksum.md5"]);
    run(&dir, "sha256sum", &["-c", "checksum.sha256"]);
    run(&dir, "wimlib-imagex", &["verify", image]);

    let m = manifest(&dir);
    assert_eq!(m.outputs.len(), 1);
    assert_eq!(m.outputs[0].image_file, image);
    assert_eq!(m.outputs[0].folder, want);
    let text = std::fs::read_to_string(dir.join("manifest.txt")).expect("manifest.txt");
    assert!(text.contains(image), "{text}");
    validates(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_with_both_key_variants_names_its_folder_by_them() {
    let env = Env::new(TreeSpec::small(42)).await;
    env.store
        .upsert_customer(
            "ACME",
            Some("{board}_{variant}_{job}"),
            &serde_json::json!({}),
        )
        .await
        .expect("customer");

    // One output: {variant} stays empty whichever variant it is.
    let mut single = env.request();
    single.product_key = Some(KEY.into());
    single.key_variants = "key".into();
    let job = build(&env, &single).await;
    env.completed_dir(&job);
    assert_eq!(
        job.output_dir.as_deref(),
        Some(format!("ACME/X13SAW__{}", short_id(&job)).as_str())
    );

    // Both variants share one folder: {variant} names the pair.
    let mut both = single.clone();
    both.key_variants = "both".into();
    both.options.image_name = Some("Kiosk".into());
    let job = build(&env, &both).await;
    let dir = env.completed_dir(&job);
    let want = format!("ACME/X13SAW_both_{}", short_id(&job));
    assert_eq!(job.output_dir.as_deref(), Some(want.as_str()));
    let m = manifest(&dir);
    let files: Vec<&str> = m.outputs.iter().map(|o| o.image_file.as_str()).collect();
    assert_eq!(files, ["Kiosk_key.wim", "Kiosk_nokey.wim"]);
    assert!(m.outputs.iter().all(|o| o.folder == want));
    for f in files {
        assert!(listed_in(&dir, "checksum.sha256").iter().any(|l| l == f));
    }
    run(&dir, "sha256sum", &["-c", "checksum.sha256"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recompressed_winre_is_recorded_and_the_image_verifies() {
    let env = Env::new(TreeSpec::small(43)).await;
    let winre = "/Windows/System32/Recovery/Winre.wim";
    let base = env.base_image_path();
    let probe = env.dir.path().join("probe");
    extract_to_dir(
        env.dir.path(),
        base.to_str().expect("UTF-8 path"),
        winre,
        &probe,
    );
    let (before, before_info) = winre_copy(&probe);
    assert_eq!(
        info_field(&before_info, "Compression").as_deref(),
        Some("LZX"),
        "{before_info}"
    );

    // XPRESS differs from the fixture's LZX, so the rewrite is visible in the file.
    let mut req = env.request();
    req.compression = "xpress".into();
    req.options.recompress_winre = true;
    let job = build(&env, &req).await;
    let dir = env.completed_dir(&job);
    run(&dir, "wimlib-imagex", &["verify", "install.wim"]);
    run(&dir, "sha256sum", &["-c", "checksum.sha256"]);

    let out = env.dir.path().join("out-winre");
    extract_to_dir(&dir, "install.wim", winre, &out);
    let (after, after_info) = winre_copy(&out);
    assert_eq!(
        info_field(&after_info, "Compression").as_deref(),
        Some("XPRESS"),
        "{after_info}"
    );
    run(&out, "wimlib-imagex", &["verify", "Winre.wim"]);
    println!("Winre.wim: {before} bytes (LZX) -> {after} bytes (XPRESS)");

    let m = manifest(&dir);
    let w = m.winre.as_ref().expect("WinRE section");
    assert_eq!(
        w.path.as_deref().map(|p| p.trim_start_matches('/')),
        Some(winre.trim_start_matches('/'))
    );
    assert_eq!(w.size, Some(before), "size before recompression");
    assert_eq!(w.recompressed_size, Some(after), "size after recompression");
    assert_eq!(w.compression.as_deref(), Some("LZX"), "{w:?}");
    assert_eq!(w.recompressed_to.as_deref(), Some("XPRESS"), "{w:?}");
    let text = std::fs::read_to_string(dir.join("manifest.txt")).expect("manifest.txt");
    assert!(
        text.contains(&format!("Recompressed:  {after} bytes (XPRESS)")),
        "{text}"
    );
    let logs = env.logs(job.job_id).await;
    assert!(
        logs.iter()
            .any(|l| l.message.contains("WinRE recompressed from LZX to XPRESS")),
        "no recompression log line"
    );
    validates(&dir);
}

/// Turn the demo base into a two-image WIM at `1_BaseImages/<name>`: image 1 as it is,
/// image 2 a copy with edition `IoTEnterprise` and a marker file only it has.
fn two_image_base(env: &Env, name: &str) {
    let images = env.repo.root().join("1_BaseImages");
    let src = images.join(&env.demo.base_image);
    let src = src.to_str().expect("UTF-8 path");
    run(&images, "wimlib-imagex", &["export", src, "1", name]);
    run(
        &images,
        "wimlib-imagex",
        &["export", src, "1", name, "Windows 11 IoT Enterprise"],
    );
    run(
        &images,
        "wimlib-imagex",
        &[
            "info",
            name,
            "2",
            "--image-property",
            "WINDOWS/EDITIONID=IoTEnterprise",
            "--image-property",
            "FLAGS=IoTEnterprise",
            "--image-property",
            "DISPLAYNAME=Windows 11 IoT Enterprise",
        ],
    );
    let marker = env.dir.path().join("marker.txt");
    std::fs::write(&marker, b"edition two").expect("marker file");
    let add = format!("--command=add {} /EDITION_TWO.txt", marker.display());
    run(&images, "wimlib-imagex", &["update", name, "2", &add]);
    let info = run(&images, "wimlib-imagex", &["info", name]);
    assert_eq!(
        info_field(&info, "Image Count").as_deref(),
        Some("2"),
        "{info}"
    );
}

/// Build image `index` (a number or an edition) of the base image `name`; returns the
/// output folder and `wimlib-imagex info` of the output image.
async fn build_from_base(env: &Env, name: &str, index: &str) -> (PathBuf, String) {
    let mut req = env.request();
    req.base_image = name.into();
    req.image_index = index.into();
    let job = build(env, &req).await;
    let dir = env.completed_dir(&job);
    let info = run(&dir, "wimlib-imagex", &["info", "install.wim"]);
    (dir, info)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_chosen_edition_alone_is_rebuilt_and_the_notes_say_what_was_not_done() {
    let env = Env::new(TreeSpec::small(44)).await;
    let name = "TWO_EDITIONS_24H2.wim";
    two_image_base(&env, name);
    let (dir, info) = build_from_base(&env, name, "IoTEnterprise").await;
    assert_eq!(
        info_field(&info, "Image Count").as_deref(),
        Some("1"),
        "{info}"
    );
    assert_eq!(
        info_field(&info, "Edition ID").as_deref(),
        Some("IoTEnterprise"),
        "{info}"
    );
    let listing = run(&dir, "wimlib-imagex", &["dir", "install.wim", "1"]);
    assert!(
        listing.lines().any(|l| l == "/EDITION_TWO.txt"),
        "image 2 was chosen"
    );
    run(&dir, "wimlib-imagex", &["verify", "install.wim"]);

    let m = manifest(&dir);
    assert_eq!(m.base_image.index, 2);
    assert_eq!(m.base_image.edition.as_deref(), Some("IoTEnterprise"));
    assert!(
        m.notes.iter().any(|n| n == RESET_BASE_NOTE),
        "{:?}",
        m.notes
    );
    assert!(
        m.notes
            .iter()
            .any(|n| n.starts_with(&format!("Only index 2 of {name} was exported"))),
        "{:?}",
        m.notes
    );
    let text = std::fs::read_to_string(dir.join("manifest.txt")).expect("manifest.txt");
    assert!(text.contains(RESET_BASE_NOTE), "{text}");
    validates(&dir);

    // The same base by number gives the other image.
    let (dir, info) = build_from_base(&env, name, "1").await;
    assert_eq!(
        info_field(&info, "Image Count").as_deref(),
        Some("1"),
        "{info}"
    );
    let listing = run(&dir, "wimlib-imagex", &["dir", "install.wim", "1"]);
    assert!(!listing.lines().any(|l| l == "/EDITION_TWO.txt"));
}

/// The demo answer file with the customer's own settings that clash with WAIT's: a
/// Shell-Setup product key of their own, beside their computer name, organization
/// and an existing DriverPaths entry.
fn conflicting_answer_file(env: &Env) -> String {
    let demo = std::fs::read_to_string(env.repo.root().join(&env.demo.answer_file))
        .expect("demo answer file");
    let specialize = "<ComputerName>*</ComputerName>";
    assert!(demo.contains(specialize));
    let text = demo.replacen(
        specialize,
        &format!(
            "<ComputerName>ACME-KIOSK</ComputerName>\n      <RegisteredOrganization>ACME Ltd</RegisteredOrganization>\n      <ProductKey>{THEIR_KEY}</ProductKey>"
        ),
        1,
    );
    let attrs = r#"processorArchitecture="amd64" publicKeyToken="31bf3856ad364e35" language="neutral" versionScope="nonSxS" xmlns:wcm="http://schemas.microsoft.com/WMIConfig/2002/State""#;
    let offline = format!(
        r#"  <settings pass="offlineServicing">
    <component name="Microsoft-Windows-PnpCustomizationsNonWinPE" {attrs}>
      <DriverPaths>
        <PathAndCredentials wcm:action="add" wcm:keyValue="1">
          <Path>D:\Vendor\Drivers</Path>
        </PathAndCredentials>
      </DriverPaths>
    </component>
  </settings>
</unattend>"#
    );
    let text = text.replacen("</unattend>", &offline, 1);
    let rel = "5_AnswerFiles/X13SAW/WIN11_24H2/acme_conflicting.xml";
    std::fs::write(env.repo.root().join(rel), text).expect("answer file written");
    rel.to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answer_file_conflicts_are_reported_and_the_customer_settings_kept() {
    let env = Env::new(TreeSpec::small(45)).await;
    let mut req = env.request();
    req.answer_file = Some(conflicting_answer_file(&env));
    req.product_key = Some(KEY.into());
    req.key_variants = "key".into();
    let job = build(&env, &req).await;
    let dir = env.completed_dir(&job);

    let m = manifest(&dir);
    let conflict = m
        .answer_conflicts
        .iter()
        .find(|c| c.contains("Microsoft-Windows-Shell-Setup/ProductKey"))
        .unwrap_or_else(|| panic!("no product-key conflict in {:?}", m.answer_conflicts));
    assert!(conflict.starts_with("specialize"), "{conflict}");
    assert!(conflict.contains("kept the job's key"), "{conflict}");
    assert!(
        conflict.contains("2YT43") && conflict.contains("3V66T"),
        "{conflict}"
    );
    assert!(
        !conflict.contains("NPPR9") && !conflict.contains("VK7JG"),
        "keys are masked: {conflict}"
    );
    let text = std::fs::read_to_string(dir.join("manifest.txt")).expect("manifest.txt");
    assert!(text.contains("Answer-file conflicts"), "{text}");
    assert!(text.contains(conflict.as_str()), "{text}");
    let logs = env.logs(job.job_id).await;
    assert!(
        logs.iter()
            .any(|l| l.message == format!("Answer-file conflict: {conflict}")),
        "conflict not in the job log"
    );

    let unattend = extract_from_image(&dir, "/Windows/Panther/unattend.xml");
    for kept in [
        "<ComputerName>ACME-KIOSK</ComputerName>",
        "<RegisteredOrganization>ACME Ltd</RegisteredOrganization>",
        r"<Path>D:\Vendor\Drivers</Path>",
        "<TimeZone>UTC</TimeZone>",
        "<Name>Operator</Name>",
    ] {
        assert!(unattend.contains(kept), "{kept} lost:\n{unattend}");
    }
    assert!(
        unattend.contains(r"<Path>C:\WAIT\Drivers</Path>"),
        "{unattend}"
    );
    assert!(unattend.contains(KEY), "the job's key is in the image");
    assert!(!unattend.contains(THEIR_KEY), "their key was replaced");
    assert_eq!(
        unattend
            .matches("Microsoft-Windows-PnpCustomizationsNonWinPE")
            .count(),
        1,
        "one component, theirs, holds both paths:\n{unattend}"
    );
    validates(&dir);
}

fn staged_worker(env: &Env, name: &str, stages: Stages) -> Worker {
    env.quick_worker(name, |config| config.stages = stages)
}

/// Invert `count` bytes in the middle of `path`, keeping its size.
fn flip_bytes(path: &Path, count: usize) {
    let mut bytes = std::fs::read(path).expect("image read");
    let len = bytes.len();
    let at = len / 3;
    for b in &mut bytes[at..at + count] {
        *b = !*b;
    }
    std::fs::write(path, &bytes).expect("image written");
    assert_eq!(
        std::fs::metadata(path).expect("image size").len(),
        len as u64
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tampered_image_fails_validation_on_the_validation_worker() {
    let env = Env::new(TreeSpec::small(46)).await;
    let id = env.submit(&env.request(), None).await;
    let builder = staged_worker(&env, "builder", Stages::Build);
    assert_eq!(
        builder.run_one().await.unwrap(),
        Some(JobStatus::PendingValidation)
    );
    let built = env.job(id).await;
    let rel = built.output_dir.clone().expect("output_dir");
    let dir = env.output(&rel);
    flip_bytes(&dir.join("install.wim"), 256);
    let verify = std::process::Command::new("wimlib-imagex")
        .args(["verify", "install.wim"])
        .current_dir(&dir)
        .output()
        .unwrap();
    assert!(!verify.status.success(), "the damage is real");

    let validator = staged_worker(&env, "validator", Stages::Validate);
    assert_eq!(
        validator.run_one().await.unwrap(),
        Some(JobStatus::FailedValidation)
    );
    let failed = env.job(id).await;
    assert_eq!(failed.status, JobStatus::FailedValidation);
    let error = failed.error.clone().expect("error");
    println!("{error}");
    for check in [
        "wim_verify:",
        "checksum.md5:",
        "checksum.sha256:",
        "wim_file:",
    ] {
        assert!(error.contains(check), "{check} not in {error}");
    }
    assert!(error.contains("install.wim"), "{error}");

    // The folder is kept for inspection under a name no one takes for a good build.
    let renamed = format!("{rel}_FAILED_VALIDATION");
    assert_eq!(failed.output_dir.as_deref(), Some(renamed.as_str()));
    assert!(!dir.exists(), "the good-looking name is gone");
    assert!(env.output(&renamed).join("install.wim").is_file());
    let logs = env.logs(id).await;
    assert!(
        logs.iter()
            .any(|l| l.message.starts_with("FAIL wim_verify"))
    );
    assert!(
        logs.iter()
            .any(|l| l.message.starts_with("Validation failed:"))
    );
    assert!(
        validator.run_until_idle().await.unwrap() == 0,
        "a failed validation is final"
    );
}

//! Output formats and base image formats, end to end: every `compression` value
//! (including the solid LZMS `esd`), ESD output on ISO media, `recompress`, and
//! ESD and split (SWM) base images. Outputs are checked with wimlib-imagex, md5sum,
//! sha256sum and 7z, and with WAIT's own validation.

mod common;

use std::collections::BTreeMap;
use std::path::Path;

use common::{Env, assert_validates, manifest, run};
use uuid::Uuid;
use wait_catalog::fixtures::TreeSpec;
use wait_pipeline::Manifest;
use wait_store::{Job, JobRequest, JobStatus};

const MEDIA: &str = "WIN11_24H2_MEDIA.iso";

/// `Key: value` lines of `wimlib-imagex info FILE [INDEX]` (first occurrence wins).
fn imagex_info(dir: &Path, file: &str, index: Option<&str>) -> BTreeMap<String, String> {
    let mut args = vec!["info", file];
    args.extend(index);
    let mut map = BTreeMap::new();
    for line in run(dir, "wimlib-imagex", &args).lines() {
        if let Some((k, v)) = line.split_once(':') {
            map.entry(k.trim().to_string())
                .or_insert_with(|| v.trim().to_string());
        }
    }
    map
}

async fn submit(env: &Env, req: &JobRequest) -> Uuid {
    env.submit(req, Some("tester")).await
}

/// The job, which must have completed.
async fn completed(env: &Env, id: Uuid) -> Job {
    let job = env.job(id).await;
    assert_eq!(
        job.status,
        JobStatus::Completed,
        "{}: error {:?}",
        job.request.compression,
        job.error
    );
    job
}

/// The checks every output folder must pass: both checksum files, `verify` on each
/// image, and WAIT's validation run again from scratch.
fn check_folder(dir: &Path, manifest: &Manifest) {
    run(dir, "md5sum", &["-c", "checksum.md5"]);
    run(dir, "sha256sum", &["-c", "checksum.sha256"]);
    for o in &manifest.outputs {
        run(dir, "wimlib-imagex", &["verify", &o.image_file]);
    }
    assert_validates(dir);
}

async fn log_text(env: &Env, job: &Job) -> Vec<String> {
    env.logs(job.job_id)
        .await
        .into_iter()
        .map(|l| l.message)
        .collect()
}

fn write_seconds(m: &Manifest) -> f64 {
    m.timings
        .iter()
        .find(|t| t.stage == "write")
        .map(|t| t.seconds)
        .expect("write timing")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_output_compression_writes_what_it_names() {
    let env = Env::new(TreeSpec::small(71)).await;
    // (compression, file, what `wimlib-imagex info` prints, header version). libwim
    // gives every LZMS WIM the solid version (3584), as WIMGAPI expects; only the
    // resource flags tell an ESD from a non-solid LZMS WIM.
    let formats = [
        ("lzx", "install.wim", "LZX", "68864"),
        ("xpress", "install.wim", "XPRESS", "68864"),
        ("lzms", "install.wim", "LZMS", "3584"),
        ("none", "install.wim", "None", "68864"),
        ("esd", "install.esd", "LZMS", "3584"),
    ];
    let mut ids = Vec::new();
    for (compression, ..) in formats {
        let mut req = env.request();
        req.compression = compression.into();
        ids.push(submit(&env, &req).await);
    }
    assert_eq!(env.worker().run_until_idle().await.expect("worker"), 5);

    let mut sizes = Vec::new();
    for ((compression, file, shown, version), id) in formats.into_iter().zip(ids) {
        let job = completed(&env, id).await;
        let dir = env.output(job.output_dir.as_deref().expect("output dir"));
        assert!(
            job.output_files.iter().any(|f| f == file),
            "{compression}: {file} not in {:?}",
            job.output_files
        );
        let m = manifest(&dir);
        assert_eq!(m.outputs.len(), 1);
        assert_eq!(m.outputs[0].image_file, file, "{compression}");
        assert_eq!(m.outputs[0].compression, compression);
        let info = imagex_info(&dir, file, None);
        assert_eq!(info["Compression"], shown, "{compression}: {info:?}");
        assert_eq!(info["Version"], version, "{compression}: {info:?}");
        let blobs = run(&dir, "wimlib-imagex", &["info", file, "--blobs"]);
        assert_eq!(
            blobs.contains("WIM_RESHDR_FLAG_SOLID"),
            compression == "esd",
            "{compression}: solid resources"
        );
        if compression == "esd" {
            // No stray `.wim` next to it.
            assert!(!dir.join("install.wim").exists());
        }
        check_folder(&dir, &m);
        let size = std::fs::metadata(dir.join(file)).expect("size").len();
        sizes.push((compression, size, write_seconds(&m)));
    }
    for (compression, size, seconds) in &sizes {
        println!("{compression:>6}: {size:>10} bytes, write stage {seconds:.2} s");
    }
    let size_of = |c: &str| sizes.iter().find(|s| s.0 == c).map(|s| s.1).expect(c);
    // Uncompressed is the largest; solid LZMS beats non-solid LZMS.
    for c in ["lzx", "xpress", "lzms", "esd"] {
        assert!(size_of(c) < size_of("none"), "{c} vs none: {sizes:?}");
    }
    assert!(size_of("esd") < size_of("lzms"), "{sizes:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn esd_output_on_iso_media_is_sources_install_esd() {
    let spec = TreeSpec::small(72);
    let env = Env::new(spec).await;
    env.add_base_iso(&spec, MEDIA, "CCCOMA_X64FRE_EN-US_DV9");
    let mut req = env.request();
    req.compression = "esd".into();
    req.create_iso = true;
    let id = submit(&env, &req).await;
    env.worker().run_until_idle().await.expect("worker");
    let job = completed(&env, id).await;
    let dir = env.output(job.output_dir.as_deref().expect("output dir"));
    for f in ["install.esd", "install.iso"] {
        assert!(job.output_files.iter().any(|o| o == f), "{f} not listed");
    }
    let m = manifest(&dir);
    let iso = m.outputs[0].iso.as_ref().expect("ISO in the manifest");
    let list = run(&dir, "7z", &["l", "-slt", &iso.file]);
    assert!(list.contains("Path = sources/install.esd"), "{list}");
    assert!(!list.contains("Path = sources/install.wim"), "{list}");
    // The install image on the media is the output ESD, byte for byte.
    let x = env.dir.path().join("x");
    let out = format!("-o{}", x.display());
    run(
        &dir,
        "7z",
        &["x", "-y", &out, &iso.file, "sources/install.esd"],
    );
    let inner = run(&x, "sha256sum", &["sources/install.esd"]);
    assert!(inner.starts_with(&m.outputs[0].sha256), "{inner}");
    check_folder(&dir, &m);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recompress_is_honoured_and_logged() {
    let env = Env::new(TreeSpec::small(73)).await;
    // The fixture base is LZX, so an LZX output can reuse its compressed data.
    let base = env.base_image_path();
    let base_info = imagex_info(
        base.parent().expect("folder"),
        base.to_str().expect("utf-8"),
        None,
    );
    assert_eq!(base_info["Compression"], "LZX");
    let mut ids = Vec::new();
    for recompress in [false, true] {
        let mut req = env.request();
        req.compression = "lzx".into();
        req.options.recompress = recompress;
        ids.push((recompress, submit(&env, &req).await));
    }
    assert_eq!(env.worker().run_until_idle().await.expect("worker"), 2);
    for (recompress, id) in ids {
        let job = completed(&env, id).await;
        assert_eq!(job.request.options.recompress, recompress);
        let dir = env.output(job.output_dir.as_deref().expect("output dir"));
        let m = manifest(&dir);
        check_folder(&dir, &m);
        let logs = log_text(&env, &job).await;
        let said = |prefix: &str| logs.iter().any(|l| l.starts_with(prefix));
        if recompress {
            assert!(said("Recompressing:"), "{logs:#?}");
            assert!(!said("Not recompressing:"), "{logs:#?}");
        } else {
            assert!(said("Not recompressing:"), "{logs:#?}");
            assert!(!said("Recompressing:"), "{logs:#?}");
        }
        println!(
            "recompress {recompress:>5}: {} bytes, write stage {:.2} s",
            m.outputs[0].size,
            write_seconds(&m)
        );
    }
}

/// What `wimlib-imagex info` says about image 1 of the fixture's base WIM.
fn original_identity(env: &Env) -> BTreeMap<String, String> {
    let bases = env.repo.root().join("1_BaseImages");
    imagex_info(&bases, &env.demo.base_image, Some("1"))
}

/// Build from `base_image` (already in `1_BaseImages/`) and check the output and
/// the manifest's record of the base image against `want`, the original WIM's identity.
async fn build_from(env: &Env, base_image: &str, want: &BTreeMap<String, String>) -> Job {
    let mut req = env.request();
    req.base_image = base_image.into();
    let id = submit(env, &req).await;
    env.worker().run_until_idle().await.expect("worker");
    let job = completed(env, id).await;
    let dir = env.output(job.output_dir.as_deref().expect("output dir"));
    let m = manifest(&dir);
    check_folder(&dir, &m);
    let b = &m.base_image;
    assert_eq!(b.file, base_image);
    assert_eq!(b.index, 1);
    assert_eq!(b.name, want["Name"], "{b:?}");
    assert_eq!(b.edition.as_deref(), Some(want["Edition ID"].as_str()));
    assert_eq!(b.build, Some(26100));
    assert_eq!(b.install_image, None);
    assert!(
        job.resources
            .iter()
            .any(|r| r.kind == "base_image" && r.path.ends_with(base_image)),
        "{:?}",
        job.resources
    );
    // The output image carries the base image's identity.
    let out = imagex_info(&dir, &m.outputs[0].image_file, Some("1"));
    assert_eq!(out["Name"], want["Name"]);
    assert_eq!(out["Build"], want["Build"]);
    job
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_esd_base_image_builds_and_validates() {
    let env = Env::new(TreeSpec::small(74)).await;
    let bases = env.repo.root().join("1_BaseImages");
    run(
        &bases,
        "wimlib-imagex",
        &["export", &env.demo.base_image, "1", "X.esd", "--solid"],
    );
    assert_eq!(imagex_info(&bases, "X.esd", None)["Version"], "3584");
    let job = build_from(&env, "X.esd", &original_identity(&env)).await;
    // The ESD's solid data is not what an LZX output holds, so it is compressed anew.
    let logs = log_text(&env, &job).await;
    assert!(
        logs.iter().any(
            |l| l.starts_with("The base image is solid LZMS, so its data is compressed as LZX")
        ),
        "{logs:#?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_split_base_image_builds_and_validates() {
    // Enough files for the image to span two 1 MiB parts.
    let spec = TreeSpec {
        system32_files: 400,
        ..TreeSpec::small(75)
    };
    let env = Env::new(spec).await;
    let bases = env.repo.root().join("1_BaseImages");
    let want = original_identity(&env);
    run(
        &bases,
        "wimlib-imagex",
        &["split", &env.demo.base_image, "X.swm", "1"],
    );
    assert!(bases.join("X2.swm").is_file(), "split made only one part");
    // Only the split set is left to build from.
    std::fs::remove_file(bases.join(&env.demo.base_image)).expect("remove the WIM");
    let job = build_from(&env, "X.swm", &want).await;
    let logs = log_text(&env, &job).await;
    assert!(
        logs.iter().any(|l| l.starts_with("Not recompressing")),
        "an LZX split set feeds an LZX output as it is: {logs:#?}"
    );
}

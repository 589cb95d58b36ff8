//! Cancellation in the middle of long work inside a stage: while libwim writes the
//! output image, while the base image is hashed (cold cache) and while the published
//! output is validated. The cancel is requested through the store, as the API does,
//! from outside the worker once the job shows that the long step has begun. Each case
//! prints how long the job took from the request to `Cancelled`, asserts a generous
//! bound, and checks that nothing is left: no output folder, no scratch folder, no
//! open file, and proof that the long step did not simply run to its end.

mod common;

use std::path::Path;
use std::time::Duration;

use common::Env;
use common::cancel::{assert_left_nothing, cancel_and_time, wait_for};
use uuid::Uuid;
use wait_catalog::fixtures::{DRIVER_SET, TreeSpec};
use wait_pipeline::Worker;
use wait_store::{Job, JobRequest, JobStatus, LogLine};

/// Far above the 2 s the issue asks for: the machine running the tests is shared.
const CANCEL_BOUND: Duration = Duration::from_secs(10);
/// Longest wait for a job to reach the step a case cancels in.
const REACH_BOUND: Duration = Duration::from_secs(120);
const MIB: u64 = 1 << 20;

fn worker(env: &Env, hash_cache: Option<&Path>) -> Worker {
    env.quick_worker("midway-worker", |config| {
        config.hash_cache = hash_cache.map(Path::to_path_buf);
    })
}

/// Queue `req`, let `w` work on it in the background until the job shows `what`
/// (`ready` holds), cancel it there and wait for the worker to finish. Returns the
/// job's id and how long the cancel took.
async fn cancel_midway(
    env: &Env,
    w: Worker,
    req: &JobRequest,
    what: &str,
    ready: impl Fn(&Job, &[LogLine]) -> bool,
) -> (Uuid, Duration) {
    let id = env.submit(req, None).await;
    let run = tokio::spawn(async move { w.run_until_idle().await });
    wait_for(env, id, REACH_BOUND, what, ready).await;
    let took = cancel_and_time(env, id).await;
    run.await.expect("join").expect("worker");
    (id, took)
}

/// Add `files` incompressible files of `mib` MiB each to the demo driver set, so that
/// compressing the output image takes seconds.
fn add_random_driver_data(env: &Env, files: usize, mib: u64) {
    let dir = driver_data_dir(env);
    for n in 0..files {
        let copied = write_random(&dir.join(format!("blob{n}.bin")), mib);
        assert_eq!(copied, mib * MIB);
    }
}

/// Write `mib` MiB of random (incompressible) data to `path`; returns the bytes written.
fn write_random(path: &Path, mib: u64) -> u64 {
    let mut src = std::fs::File::open("/dev/urandom").expect("urandom");
    let mut dest = std::fs::File::create(path).expect("create");
    std::io::copy(&mut std::io::Read::take(&mut src, mib * MIB), &mut dest).expect("random data")
}

fn driver_data_dir(env: &Env) -> std::path::PathBuf {
    let dir = env
        .repo
        .root()
        .join("2_Drivers")
        .join(&env.demo.board)
        .join(DRIVER_SET)
        .join("chipset/data");
    std::fs::create_dir_all(&dir).expect("driver data folder");
    dir
}

/// The cancel took less than `CANCEL_BOUND` and the build left nothing behind.
fn assert_quick_and_clean(env: &Env, took: Duration, customer: &str, case: &str) {
    assert!(took < CANCEL_BOUND, "cancel took {took:?}");
    assert_left_nothing(env, customer, case);
}

/// The checks a case ends with: `stage` never logged the line that starts with `end`
/// (so the long step did not run to its end; `why` otherwise), then
/// [`assert_quick_and_clean`] with `stage` as the case.
async fn assert_stopped_early(
    env: &Env,
    (id, took): (Uuid, Duration),
    customer: &str,
    (stage, end): (&str, &str),
    why: &str,
) {
    let lines = env.logs(id).await;
    assert!(!has_line(&lines, stage, end), "{why}");
    assert_quick_and_clean(env, took, customer, stage);
}

/// The demo request, for an output folder of its own.
fn request(env: &Env, customer: &str) -> JobRequest {
    let mut req = env.request();
    req.customer_name = customer.into();
    req
}

fn has_line(lines: &[LogLine], stage: &str, starts: &str) -> bool {
    lines
        .iter()
        .any(|l| l.stage.as_deref() == Some(stage) && l.message.starts_with(starts))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_while_the_output_image_is_written() {
    let env = Env::new(TreeSpec::small(81)).await;
    add_random_driver_data(&env, 4, 32);
    let w = worker(&env, None);
    let mut req = request(&env, "MIDWRITE");
    req.compression = "lzx".into();

    // The write stage starts at 15 %; anything above means libwim is writing data.
    let (id, took) = cancel_midway(&env, w, &req, "libwim writing install.wim", |j, _| {
        j.stage.as_deref() == Some("write") && j.progress > 15
    })
    .await;
    println!("write: cancelled {} ms after the request", took.as_millis());

    assert_stopped_early(
        &env,
        (id, took),
        &req.customer_name,
        ("write", "install.wim: content digest"),
        "the write ran to its end instead of stopping",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_while_the_base_image_is_hashed() {
    let env = Env::new(TreeSpec::small(82)).await;
    // A 4 GiB base without 4 GiB of disk: the WIM with a sparse tail, which libwim
    // ignores and hashing reads in full (several seconds on any machine).
    let base = env.base_image_path();
    let file = std::fs::OpenOptions::new()
        .write(true)
        .open(&base)
        .expect("base");
    let len = file.metadata().expect("size").len();
    file.set_len(len + 4096 * MIB).expect("sparse tail");
    drop(file);
    let cache = env.dir.path().join("cache/hashes.json");
    let w = worker(&env, Some(&cache));
    let req = request(&env, "MIDHASH");

    let hashing = format!("Hashing {}", req.base_image);
    let (id, took) = cancel_midway(&env, w, &req, "hashing the base image", |_, lines| {
        has_line(lines, "resolve", &hashing)
    })
    .await;
    println!(
        "resolve: cancelled {} ms after the request while hashing a {} MiB base",
        took.as_millis(),
        (len + 4096 * MIB) / MIB
    );

    // A hash that ran to its end would be in the cache (and the job would have moved on
    // to the next input).
    let cached = std::fs::read_to_string(&cache).unwrap_or_default();
    assert!(
        !cached.contains(&req.base_image),
        "the base image was hashed to the end: {cached}"
    );
    assert_stopped_early(
        &env,
        (id, took),
        &req.customer_name,
        ("resolve", "Recorded"),
        "resolve finished instead of stopping",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_while_the_output_is_validated() {
    let env = Env::new(TreeSpec::small(83)).await;
    // One big file of zeros (sparse, so cheap to make) written without compression:
    // validation then reads and hashes hundreds of MiB (checksums, then `verify`).
    let big = std::fs::File::create(driver_data_dir(&env).join("zeros.bin")).expect("create");
    big.set_len(512 * MIB).expect("size");
    drop(big);
    let w = worker(&env, None);
    let mut req = request(&env, "MIDVALIDATE");
    req.compression = "none".into();

    // The store accepts a cancel while validation runs (it is a running state) and
    // leaves stopping to the worker.
    let (id, took) = cancel_midway(&env, w, &req, "Processing_Validation", |j, _| {
        j.status == JobStatus::ProcessingValidation
    })
    .await;
    println!(
        "validate: cancelled {} ms after the request",
        took.as_millis()
    );

    let lines = env.logs(id).await;
    assert!(
        !lines.iter().any(|l| l.stage.as_deref() == Some("validate")
            && (l.message.starts_with("PASS ") || l.message.starts_with("FAIL "))),
        "validation ran to its end instead of stopping"
    );
    assert!(has_line(&lines, "cancel", "Cancelled on request"));
    let j = env.job(id).await;
    assert_eq!(j.error.as_deref(), Some("cancelled by request"));
    // The output had been published before validation; a cancelled validation removes it.
    assert_quick_and_clean(&env, took, &req.customer_name, "validate");
}

/// Replace the demo base image by one whose Winre.wim holds `mib` MiB of random data,
/// everything stored uncompressed so that making it is quick and recompressing its
/// WinRE (to LZX) takes seconds.
fn base_with_big_winre(env: &Env, mib: u64) {
    use wait_catalog::fixtures::WINRE_PATH;
    use wait_wim::{Compression, ImageSelector, UpdateCommand, Wim, WriteOptions};

    let work = env.dir.path().join("winre-fixture");
    std::fs::create_dir_all(&work).expect("fixture folder");
    let base = env.base_image_path();
    let stored = WriteOptions {
        compression: Some(Compression::None),
        recompress: true,
        ..WriteOptions::default()
    };
    let small = Wim::open(&base)
        .expect("open base")
        .extract_file(1, WINRE_PATH, &work)
        .expect("extract WinRE");
    let data = work.join("recovery-data.bin");
    write_random(&data, mib);
    let big = work.join("big-winre.wim");
    let mut winre = Wim::open(&small).expect("open WinRE");
    winre
        .update_image(
            1,
            &[UpdateCommand::Add {
                source: data,
                target: "/sources/recovery/data.bin".into(),
            }],
        )
        .expect("grow WinRE");
    winre
        .write(&big, ImageSelector::All, &stored)
        .expect("write WinRE");
    drop(winre);
    let new_base = work.join("base.wim");
    let mut outer = Wim::open(&base).expect("open base");
    outer
        .update_image(
            1,
            &[UpdateCommand::Add {
                source: big,
                target: format!("/{WINRE_PATH}"),
            }],
        )
        .expect("replace WinRE");
    outer
        .write(&new_base, ImageSelector::All, &stored)
        .expect("write base");
    drop(outer);
    std::fs::rename(&new_base, &base).expect("replace base");
    std::fs::remove_dir_all(&work).expect("remove fixture folder");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_while_winre_is_recompressed() {
    let env = Env::new(TreeSpec::small(84)).await;
    base_with_big_winre(&env, 96);
    let w = worker(&env, None);
    let mut req = request(&env, "MIDWINRE");
    req.compression = "lzx".into();
    req.options.recompress_winre = true;

    let (id, took) = cancel_midway(&env, w, &req, "the winre stage", |j, _| {
        j.stage.as_deref() == Some("winre")
    })
    .await;
    println!("winre: cancelled {} ms after the request", took.as_millis());

    assert_stopped_early(
        &env,
        (id, took),
        &req.customer_name,
        ("winre", "WinRE recompressed"),
        "the recompression ran to its end instead of stopping",
    )
    .await;
}

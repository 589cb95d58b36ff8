//! The shared output folder disappears in the middle of a build: a tmpfs mounted on
//! the repository's `8_Output` is unmounted by a hook (just before publication, or
//! before the image is written), as an unmounted share looks to the worker. The job
//! fails naming the folder (just before publication: saying the shared folder is
//! unavailable), nothing partial is left anywhere, the worker process keeps running
//! without claiming work while the share is gone, and it builds again once the share is
//! mounted again.
//!
//! Needs root (CAP_SYS_ADMIN) to mount; without it the test fails and says so.

// Helpers below are not #[test] fns themselves; a panic is still the failure report.
#![allow(clippy::unwrap_used)]

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use support::{Proc, waitctl};
use wait_catalog::fixtures::{TreeSpec, demo_repository};
use wait_store::{Job, JobRequest, JobStatus, LogLevel, Store};

const CUSTOMER: &str = "SHAREDMOUNT";
const WARNING: &str = "it was a mount point when this worker started and is not one now";

/// A tmpfs on `dir` for the length of the test; detached again at the end, however the
/// test ends.
struct Tmpfs(PathBuf);

impl Tmpfs {
    fn mount(dir: &Path) -> Self {
        let out = Command::new("mount")
            .args(["-t", "tmpfs", "-o", "size=256m", "tmpfs"])
            .arg(dir)
            .output()
            .expect("run mount");
        assert!(
            out.status.success(),
            "this test needs root (CAP_SYS_ADMIN) to mount a tmpfs on {}: {}",
            dir.display(),
            String::from_utf8_lossy(&out.stderr).trim()
        );
        Tmpfs(dir.to_path_buf())
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        // Already gone when the hook unmounted it; that failure is expected.
        let _ = Command::new("umount")
            .arg("-l")
            .arg(&self.0)
            .stderr(Stdio::null())
            .status();
    }
}

fn request(board: &str, base_image: &str) -> JobRequest {
    JobRequest {
        motherboard_model: board.into(),
        base_image: base_image.into(),
        customer_name: CUSTOMER.into(),
        image_index: "1".into(),
        driver_set: None,
        langpacks: vec![],
        updates: vec![],
        software: vec![],
        answer_file: None,
        product_key: None,
        key_variants: "nokey".into(),
        create_iso: false,
        compression: "lzx".into(),
        log_level: LogLevel::Normal,
        options: Default::default(),
    }
}

async fn wait_for(store: &Store, id: uuid::Uuid, log: &Path, done: impl Fn(&Job) -> bool) -> Job {
    let deadline = Instant::now() + Duration::from_secs(180);
    loop {
        let job = store.get_job(id).await.unwrap().unwrap();
        if done(&job) {
            return job;
        }
        assert!(
            Instant::now() < deadline,
            "job stuck in {:?}; worker log:\n{}",
            job.status,
            std::fs::read_to_string(log).unwrap_or_default()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Every `.partial-*` folder below `dir`.
fn partials(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            if e.file_type().is_ok_and(|t| t.is_dir()) {
                if e.file_name().to_string_lossy().starts_with(".partial-") {
                    found.push(e.path());
                }
                todo.push(e.path());
            }
        }
    }
    found
}

fn warnings_in(log: &Path) -> usize {
    std::fs::read_to_string(log)
        .unwrap_or_default()
        .matches(WARNING)
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_vanished_output_mount_fails_the_job_cleanly_and_the_worker_carries_on() {
    vanish_at("before_publish").await;
}

/// Earlier in the build the lost folder first shows as libwim failing to create the
/// image file; the job still ends with the message about the share.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mount_that_vanishes_before_the_image_is_written_fails_the_job_cleanly() {
    vanish_at("before_stage.write").await;
}

/// Unmount the share at hook `point` of the first build, then check the aftermath:
/// the first job failed with a message naming the share, nothing partial anywhere, the
/// worker waits for the share, and builds again once it is mounted.
async fn vanish_at(point: &str) {
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path().join("WAIT_Repository");
    let demo = demo_repository(&repo, &TreeSpec::small(81)).unwrap();
    let output = repo.join("8_Output");
    let share = Tmpfs::mount(&output);

    let data = tmp.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    let store = Store::open_sqlite(&data.join("wait.db")).await.unwrap();
    // The hook unmounts the share once, in the first build only.
    let once = tmp.path().join("vanish-once");
    std::fs::write(&once, b"").unwrap();
    let hook = format!(
        "{point}=if [ -e '{flag}' ]; then rm '{flag}' && umount -l '{out}'; fi",
        flag = once.display(),
        out = output.display()
    );
    let log = data.join("worker.log");
    let mut worker = Proc(
        waitctl()
            .args(["worker", "--data-dir"])
            .arg(&data)
            .arg("--repository")
            .arg(&repo)
            .args(["--hook", &hook])
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .expect("start waitctl worker"),
    );

    let first = store
        .create_job(&request(&demo.board, &demo.base_image), None)
        .await
        .unwrap();
    let failed = wait_for(&store, first.job_id, &log, |j| {
        j.status.is_final() || (j.attempt == 1 && j.status == JobStatus::Queued)
    })
    .await;
    let error = failed.error.clone().unwrap_or_default();
    assert!(!once.exists(), "the hook did unmount the share");
    assert!(
        error.contains(&output.display().to_string()),
        "the error names the folder: {error}"
    );
    assert_eq!(failed.status, JobStatus::FailedBuild, "{failed:?}");
    assert!(
        error.contains("is unavailable"),
        "the error says the shared folder is unavailable: {error}"
    );
    assert!(failed.output_dir.is_none(), "nothing was published");
    // What is at the path now is the folder under the vanished mount: untouched.
    assert_eq!(partials(&output), Vec::<PathBuf>::new());
    assert_eq!(std::fs::read_dir(&output).unwrap().count(), 0);
    assert!(
        worker.0.try_wait().unwrap().is_none(),
        "the worker process keeps running"
    );

    // While the share is gone the worker says so on every poll and claims nothing.
    let second = store
        .create_job(&request(&demo.board, &demo.base_image), None)
        .await
        .unwrap();
    let seen = warnings_in(&log);
    let deadline = Instant::now() + Duration::from_secs(60);
    while warnings_in(&log) < seen + 2 {
        assert!(
            Instant::now() < deadline,
            "no warning about the missing share; worker log:\n{}",
            std::fs::read_to_string(&log).unwrap_or_default()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let waiting = store.get_job(second.job_id).await.unwrap().unwrap();
    assert_eq!((waiting.status, waiting.attempt), (JobStatus::Queued, 0));
    let again = store.get_job(first.job_id).await.unwrap().unwrap();
    assert_eq!(again.attempt, 1, "no attempt ran while the share was gone");
    assert!(
        std::fs::read_to_string(&log)
            .unwrap()
            .contains(&output.display().to_string())
    );

    // The share is back: the same worker process builds what waits.
    drop(share);
    let _share = Tmpfs::mount(&output);
    for (id, attempt) in [(second.job_id, 1)] {
        let done = wait_for(&store, id, &log, |j| j.status.is_final()).await;
        assert_eq!(done.status, JobStatus::Completed, "{:?}", done.error);
        assert_eq!(done.attempt, attempt);
        let folder = output.join(done.output_dir.unwrap());
        let check = Command::new("md5sum")
            .args(["-c", "checksum.md5"])
            .current_dir(&folder)
            .output()
            .unwrap();
        assert!(
            check.status.success(),
            "{}",
            String::from_utf8_lossy(&check.stdout)
        );
    }
    assert_eq!(partials(&output), Vec::<PathBuf>::new());
    assert!(worker.0.try_wait().unwrap().is_none());
    drop(worker);
    store.close().await;
}

/// A worker started before its share is mounted: the mount point is an empty folder.
/// The worker must not make a local repository in it; it waits, saying why, and builds
/// once the real repository is there.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_on_an_empty_mount_point_waits_instead_of_creating_a_repository() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path().join("mnt-repository");
    std::fs::create_dir_all(&repo).unwrap();
    let data = tmp.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    let store = Store::open_sqlite(&data.join("wait.db")).await.unwrap();
    let log = data.join("worker.log");
    let mut worker = Proc(
        waitctl()
            .args(["worker", "--data-dir"])
            .arg(&data)
            .arg("--repository")
            .arg(&repo)
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .expect("start waitctl worker"),
    );
    let missing = repo.join("8_Output").display().to_string();
    let deadline = Instant::now() + Duration::from_secs(60);
    while !std::fs::read_to_string(&log)
        .unwrap_or_default()
        .contains(&missing)
    {
        assert!(
            Instant::now() < deadline,
            "no warning naming {missing}; worker log:\n{}",
            std::fs::read_to_string(&log).unwrap_or_default()
        );
        assert!(worker.0.try_wait().unwrap().is_none(), "the worker exited");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        std::fs::read_dir(&repo).unwrap().count(),
        0,
        "the worker created folders on the empty mount point"
    );

    // The share arrives (here: its content appears) and the queued job is built.
    let demo = demo_repository(&repo, &TreeSpec::small(82)).unwrap();
    let job = store
        .create_job(&request(&demo.board, &demo.base_image), None)
        .await
        .unwrap();
    let done = wait_for(&store, job.job_id, &log, |j| j.status.is_final()).await;
    assert_eq!(done.status, JobStatus::Completed, "{:?}", done.error);
    assert_eq!(done.attempt, 1);
    drop(worker);
    store.close().await;
}

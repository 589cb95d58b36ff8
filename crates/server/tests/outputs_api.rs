//! The outputs API on the real app: a real build (both key variants, each with its ISO)
//! and hand-made output folders. Listing, manifest views, single-file downloads with
//! ranges and validators, the streamed zip64 bundle (checked with unzip, Python's
//! zipfile, md5sum and sha256sum), path attacks and authentication.
#![allow(clippy::unwrap_used)]
mod common;

use std::io::{Seek, SeekFrom, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;

use reqwest::header::{
    ACCEPT_RANGES, CONTENT_DISPOSITION, CONTENT_LENGTH, CONTENT_RANGE, CONTENT_TYPE, ETAG,
    IF_NONE_MATCH, IF_RANGE, LAST_MODIFIED, RANGE,
};
use reqwest::{Client, RequestBuilder, Response, StatusCode};
use serde_json::{Value, json};
use tempfile::TempDir;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::{RwLock, oneshot};
use wait_catalog::Repository;
use wait_catalog::fixtures::{
    BASE_ISO_FILE, BASE_ISO_LABEL, TreeSpec, demo_repository, write_base_iso,
};
use wait_pipeline::{Worker, WorkerConfig, digest_file, write_checksum_files};
use wait_server::{AppState, job_request};
use wait_store::{JobStatus, Role, Store};

use common::error_parts;

/// Held for writing by the test that measures the process's peak memory, for reading
/// by every other test, so nothing else allocates while it measures.
static MEMORY: RwLock<()> = RwLock::const_new(());

/// Marker in files outside `8_Output/` that no response may ever contain.
const SECRET: &str = "TOP-SECRET-CONTENT";

// ---------------------------------------------------------------------------------------
// Harness

/// The real server on 127.0.0.1:0 over a repository root, with a viewer token.
struct App {
    addr: SocketAddr,
    viewer: String,
    client: Client,
    _db: TempDir,
    stop: Option<oneshot::Sender<()>>,
}

impl Drop for App {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

async fn start(root: &Path) -> App {
    let db = tempfile::tempdir().expect("db dir");
    let store = Store::open_sqlite(&db.path().join("wait.db"))
        .await
        .expect("store");
    let user = store
        .create_user("viewer", Role::Viewer, "correct horse battery staple")
        .await
        .expect("viewer");
    let viewer = store
        .create_session(user.id, Duration::from_secs(3600))
        .await
        .expect("session");
    let repo = Repository::open(root).expect("open repository");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(wait_server::serve(
        listener,
        AppState::new(store, repo),
        async {
            let _ = stopped.await;
        },
    ));
    let app = App {
        addr,
        viewer,
        client: Client::new(),
        _db: db,
        stop: Some(stop),
    };
    for _ in 0..200 {
        if let Ok(r) = app.client.get(app.url("/api/health")).send().await {
            if r.status().is_success() {
                return app;
            }
        }
        tokio::task::yield_now().await;
    }
    panic!("server never became healthy");
}

impl App {
    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// A GET as the viewer.
    fn get(&self, path: &str) -> RequestBuilder {
        self.client.get(self.url(path)).bearer_auth(&self.viewer)
    }

    async fn json(&self, path: &str) -> (StatusCode, Value) {
        let r = self.get(path).send().await.expect("send");
        let status = r.status();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    /// A GET written byte for byte, so encoded dots and slashes reach the server as
    /// sent (an HTTP client library would normalise them away). Returns the status and
    /// the whole response as text.
    async fn raw_get(&self, target: &str) -> (u16, String) {
        let mut stream = tokio::net::TcpStream::connect(self.addr)
            .await
            .expect("connect");
        let request = format!(
            "GET {target} HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {}\r\n\
             Connection: close\r\n\r\n",
            self.addr, self.viewer
        );
        stream.write_all(request.as_bytes()).await.expect("write");
        let mut bytes = Vec::new();
        stream.read_to_end(&mut bytes).await.expect("read");
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let status = text
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("no status line in {text:?}"));
        (status, text)
    }
}

/// Stream a response body into `path`, leaving runs of zero bytes as holes so a
/// multi-gigabyte archive of a sparse file costs no disk. Returns the byte count.
async fn download_to(mut response: Response, path: &Path) -> u64 {
    static ZEROS: [u8; 64 * 1024] = [0; 64 * 1024];
    let mut out = std::fs::File::create(path).expect("create download file");
    let mut total = 0u64;
    while let Some(chunk) = response.chunk().await.expect("body chunk") {
        for part in chunk.chunks(ZEROS.len()) {
            if part == &ZEROS[..part.len()] {
                out.seek(SeekFrom::Current(part.len() as i64)).unwrap();
            } else {
                out.write_all(part).unwrap();
            }
        }
        total += chunk.len() as u64;
    }
    out.set_len(total).unwrap();
    total
}

fn header(r: &Response, name: reqwest::header::HeaderName) -> &str {
    r.headers()
        .get(&name)
        .unwrap_or_else(|| panic!("no {name} header"))
        .to_str()
        .expect("ascii header")
}

/// Run a program and return its stdout; fails the test with its output otherwise.
fn run(program: &str, args: &[&str], dir: &Path) -> String {
    let out = Command::new(program)
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap_or_else(|e| panic!("{program}: {e}"));
    assert!(
        out.status.success(),
        "{program} {args:?} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Python's zipfile opens the archive, CRC-checks every member (`testzip`) and prints
/// `name size compress_type` per member.
fn python_zip_members(zip: &Path) -> Vec<(String, u64, u32)> {
    let script = "import sys, zipfile\n\
                  z = zipfile.ZipFile(sys.argv[1])\n\
                  bad = z.testzip()\n\
                  assert bad is None, 'bad member: %s' % bad\n\
                  for i in z.infolist(): print('%s\\t%d\\t%d' % (i.filename, i.file_size, i.compress_type))\n";
    let out = run(
        "python3",
        &["-c", script, zip.to_str().unwrap()],
        Path::new("."),
    );
    out.lines()
        .map(|line| {
            let mut parts = line.split('\t');
            let name = parts.next().unwrap().to_string();
            let size = parts.next().unwrap().parse().unwrap();
            let method = parts.next().unwrap().parse().unwrap();
            (name, size, method)
        })
        .collect()
}

// ---------------------------------------------------------------------------------------
// A real build, made once per test process

struct Built {
    root: PathBuf,
    customer: String,
    folder: String,
    job_id: String,
}

impl Built {
    fn dir(&self) -> PathBuf {
        self.root
            .join("8_Output")
            .join(&self.customer)
            .join(&self.folder)
    }

    fn api(&self, rest: &str) -> String {
        format!("/api/outputs/{}/{}{rest}", self.customer, self.folder)
    }

    fn manifest(&self) -> Value {
        serde_json::from_slice(&std::fs::read(self.dir().join("manifest.json")).unwrap()).unwrap()
    }
}

static BUILT: OnceLock<Built> = OnceLock::new();

/// The demo repository with an install ISO, and one job built by the real worker with
/// both key variants and ISO output. Built on its own thread and runtime, once.
fn built() -> &'static Built {
    BUILT.get_or_init(|| {
        std::thread::spawn(|| {
            tokio::runtime::Runtime::new()
                .expect("runtime")
                .block_on(build_output())
        })
        .join()
        .expect("fixture build")
    })
}

/// A folder for this process's build under Cargo's test scratch space. A static is never
/// dropped, so a temp dir held by one would outlive every run; instead each run removes
/// the folders of earlier test processes that have ended.
fn fixture_dir() -> PathBuf {
    let base = Path::new(env!("CARGO_TARGET_TMPDIR")).join("outputs_api");
    if let Ok(entries) = std::fs::read_dir(&base) {
        for entry in entries.flatten() {
            let pid = entry.file_name().to_string_lossy().parse::<u32>();
            if pid.is_ok_and(|pid| !Path::new("/proc").join(pid.to_string()).exists()) {
                let _ = std::fs::remove_dir_all(entry.path());
            }
        }
    }
    let dir = base.join(std::process::id().to_string());
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("fixture dir");
    dir
}

async fn build_output() -> Built {
    let dir = fixture_dir();
    let root = dir.join("repo");
    let demo = demo_repository(&root, &TreeSpec::small(1)).expect("demo repository");
    let iso = root.join("1_BaseImages").join(BASE_ISO_FILE);
    write_base_iso(&iso, &TreeSpec::small(1), BASE_ISO_LABEL).expect("install ISO");
    let repo = Repository::open(&root).expect("open repository");
    let store = Store::open_sqlite(&dir.join("build.db"))
        .await
        .expect("store");
    let body = json!({
        "motherboard_model": demo.board,
        "base_image": demo.base_image,
        "customer_name": "ACME",
        "answer_file": demo.answer_file,
        "product_key": "ABCDE-FGHIJ-KLMNO-PQRST-VWXYZ",
        "key_variants": "both",
        "create_iso": true,
    });
    let request = job_request::parse(&body).expect("request parses");
    let request = job_request::resolve(&repo, request).expect("request resolves");
    let job = store
        .create_job(&request, Some("builder"))
        .await
        .expect("job");
    let mut config = WorkerConfig::new("outputs-test", dir.join("work"));
    config.heartbeat = Duration::from_millis(50);
    config.poll_interval = Duration::from_millis(20);
    Worker::new(store.clone(), repo, config)
        .run_until_idle()
        .await
        .expect("worker run");
    let job = store.get_job(job.job_id).await.unwrap().expect("job");
    assert_eq!(
        job.status,
        JobStatus::Completed,
        "build: {:?} {:?}",
        job.error,
        job.warnings
    );
    let output_dir = job.output_dir.expect("output_dir");
    let (customer, folder) = output_dir.split_once('/').expect("customer/folder");
    Built {
        customer: customer.to_string(),
        folder: folder.to_string(),
        job_id: job.job_id.to_string(),
        root,
    }
}

// ---------------------------------------------------------------------------------------
// Hand-made output folders

/// A new empty repository in a temp dir.
fn empty_repo() -> (TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().join("repo");
    Repository::init(&root).expect("init repository");
    (dir, root)
}

/// A format-2 manifest naming `variants` as (variant, image file, ISO file).
fn manifest_json(
    customer: &str,
    board: &str,
    built_at: &str,
    variants: &[(&str, &str, Option<&str>)],
) -> Value {
    let outputs: Vec<Value> = variants
        .iter()
        .map(|(variant, image, iso)| {
            json!({
                "variant": variant,
                "image_file": image,
                "size": 0,
                "md5": "",
                "sha256": "",
                "iso": iso.map(|file| json!({"file": file, "size": 0})),
            })
        })
        .collect();
    json!({
        "format": 2,
        "job": {
            "job_id": format!("job-{board}-{built_at}"),
            "customer_name": customer,
            "motherboard_model": board,
            "created_at": built_at,
            "built_at": built_at,
        },
        "outputs": outputs,
    })
}

/// Write an output folder: `files`, `manifest.json`, `manifest.txt`, and checksum files
/// over `summed` (names among the files plus the two manifests).
fn write_output(
    root: &Path,
    customer: &str,
    folder: &str,
    manifest: &Value,
    files: &[(&str, &[u8])],
) -> PathBuf {
    let dir = root.join("8_Output").join(customer).join(folder);
    std::fs::create_dir_all(&dir).unwrap();
    for (name, data) in files {
        std::fs::write(dir.join(name), data).unwrap();
    }
    std::fs::write(dir.join("manifest.json"), manifest.to_string()).unwrap();
    std::fs::write(dir.join("manifest.txt"), "WAIT build manifest\n").unwrap();
    let names = files
        .iter()
        .map(|(n, _)| *n)
        .chain(["manifest.json", "manifest.txt"]);
    let sums: Vec<_> = names
        .map(|n| (n.to_string(), digest_file(&dir.join(n), |_| true).unwrap()))
        .collect();
    write_checksum_files(&dir, &sums).unwrap();
    dir
}

// ---------------------------------------------------------------------------------------
// Listing and manifest

#[tokio::test]
async fn listing_shows_the_real_build_with_both_variants_their_isos_sizes_and_hashes() {
    let _shared = MEMORY.read().await;
    let built = built();
    let app = start(&built.root).await;
    let (status, body) = app.json("/api/outputs").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["total"], 1);
    let group = &body["customers"][0];
    assert_eq!(group["customer"], "ACME");
    let out = &group["outputs"][0];
    assert_eq!(out["folder"], built.folder.as_str());
    assert_eq!(out["path"], format!("ACME/{}", built.folder));
    assert_eq!(out["job_id"], built.job_id.as_str());
    assert_eq!(out["board"], "X13SAW");
    assert_eq!(out["failed_validation"], false);
    assert!(out["created_at"].is_string());
    assert_eq!(out["problems"], json!([]), "{out}");

    let variants = out["variants"].as_array().unwrap();
    let names: Vec<&str> = variants
        .iter()
        .map(|v| v["variant"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["key", "nokey"]);
    for v in variants {
        for (file, entry) in [(&v["image_file"], v), (&v["iso"]["file"], &v["iso"])] {
            let path = built.dir().join(file.as_str().expect("file name"));
            assert_eq!(entry["size"], std::fs::metadata(&path).unwrap().len());
            let sha = run("sha256sum", &[path.to_str().unwrap()], Path::new("."));
            assert_eq!(entry["sha256"], sha.split_whitespace().next().unwrap());
        }
    }
}

#[tokio::test]
async fn listing_groups_customers_newest_first_marks_failed_validation_and_filters_by_q() {
    let _shared = MEMORY.read().await;
    let (_dir, root) = empty_repo();
    let wim: &[u8] = b"wim bytes";
    for (customer, folder, board, at) in [
        (
            "ACME",
            "20250101_000000_X13SAW",
            "X13SAW",
            "2025-01-01T00:00:00Z",
        ),
        (
            "ACME",
            "20250201_000000_X13SAW_FAILED_VALIDATION",
            "X13SAW",
            "2025-02-01T00:00:00.5Z",
        ),
        ("Zeta", "20250301_000000_B2", "B2", "2025-03-01T00:00:00Z"),
    ] {
        let m = manifest_json(customer, board, at, &[("default", "install.wim", None)]);
        write_output(&root, customer, folder, &m, &[("install.wim", wim)]);
    }
    // Without a manifest: listed with its problem, dated by the folder, board from the
    // name.
    let bare = root.join("8_Output/Old/20200101_000000_OLDBOARD");
    std::fs::create_dir_all(&bare).unwrap();
    run(
        "touch",
        &["-d", "2020-01-01T00:00:00Z", bare.to_str().unwrap()],
        &root,
    );
    // Never listed: a build in progress, a link, a stray file.
    std::fs::create_dir_all(root.join("8_Output/ACME/.partial-123-1")).unwrap();
    std::os::unix::fs::symlink(
        root.join("8_Output/ACME/20250101_000000_X13SAW"),
        root.join("8_Output/ACME/linked"),
    )
    .unwrap();
    std::fs::write(root.join("8_Output/ACME/stray.txt"), b"x").unwrap();

    let app = start(&root).await;
    let (status, body) = app.json("/api/outputs").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["total"], 4);
    let customers: Vec<&str> = body["customers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["customer"].as_str().unwrap())
        .collect();
    assert_eq!(customers, ["Zeta", "ACME", "Old"]);
    let acme = &body["customers"][1]["outputs"];
    assert_eq!(
        acme[0]["folder"],
        "20250201_000000_X13SAW_FAILED_VALIDATION"
    );
    assert_eq!(acme[0]["failed_validation"], true);
    assert_eq!(acme[1]["folder"], "20250101_000000_X13SAW");
    assert_eq!(acme[1]["failed_validation"], false);
    assert_eq!(acme[1]["variants"][0]["image_file"], "install.wim");
    assert_eq!(acme[1]["variants"][0]["size"], wim.len());
    assert_eq!(acme[1]["job_id"], "job-X13SAW-2025-01-01T00:00:00Z");
    let old = &body["customers"][2]["outputs"][0];
    assert_eq!(old["job_id"], Value::Null);
    assert_eq!(old["board"], "OLDBOARD");
    assert!(
        old["created_at"]
            .as_str()
            .unwrap()
            .starts_with("2020-01-01")
    );
    assert!(
        old["problems"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p.as_str().unwrap().contains("no manifest.json")),
        "{old}"
    );

    for (q, folders) in [
        (
            "x13saw",
            vec![
                "20250201_000000_X13SAW_FAILED_VALIDATION",
                "20250101_000000_X13SAW",
            ],
        ),
        ("zeta", vec!["20250301_000000_B2"]),
        ("failed", vec!["20250201_000000_X13SAW_FAILED_VALIDATION"]),
        ("oldboard", vec!["20200101_000000_OLDBOARD"]),
        (
            "  ",
            vec![
                "20250301_000000_B2",
                "20250201_000000_X13SAW_FAILED_VALIDATION",
                "20250101_000000_X13SAW",
                "20200101_000000_OLDBOARD",
            ],
        ),
        ("nothing-like-this", vec![]),
    ] {
        let (status, body) = app.json(&format!("/api/outputs?q={q}")).await;
        assert_eq!(status, StatusCode::OK);
        let got: Vec<&str> = body["customers"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|c| c["outputs"].as_array().unwrap())
            .map(|o| o["folder"].as_str().unwrap())
            .collect();
        assert_eq!(got, folders, "q={q}");
        assert_eq!(body["total"], folders.len());
    }
}

#[tokio::test]
async fn manifest_is_served_as_json_by_default_and_as_text_on_request() {
    let _shared = MEMORY.read().await;
    let built = built();
    let app = start(&built.root).await;
    let r = app.get(&built.api("/manifest")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(header(&r, CONTENT_TYPE), "application/json");
    assert!(header(&r, CONTENT_DISPOSITION).starts_with("inline;"));
    let body: Value = r.json().await.unwrap();
    assert_eq!(body, built.manifest());
    assert_eq!(body["job"]["job_id"], built.job_id.as_str());

    for format in ["text", "txt"] {
        let r = app
            .get(&built.api(&format!("/manifest?format={format}")))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        assert!(header(&r, CONTENT_TYPE).starts_with("text/plain"));
        let text = r.text().await.unwrap();
        assert_eq!(
            text,
            std::fs::read_to_string(built.dir().join("manifest.txt")).unwrap()
        );
        assert!(text.starts_with("WAIT build manifest"));
    }
    let (status, body) = app.json(&built.api("/manifest?format=xml")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(error_parts(&body).0, "invalid_query");
}

// ---------------------------------------------------------------------------------------
// Single files

#[tokio::test]
async fn wim_download_has_validators_and_answers_ranges_with_the_files_bytes() {
    let _shared = MEMORY.read().await;
    let built = built();
    let app = start(&built.root).await;
    let manifest = built.manifest();
    let image = manifest["outputs"][0]["image_file"].as_str().unwrap();
    let path = built.dir().join(image);
    let data = std::fs::read(&path).unwrap();
    let len = data.len() as u64;
    let sha = run("sha256sum", &[path.to_str().unwrap()], Path::new("."));
    let etag = format!("\"sha256-{}\"", sha.split_whitespace().next().unwrap());
    let url = built.api("/download/wim");

    let r = app.get(&url).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(header(&r, CONTENT_LENGTH), len.to_string());
    assert_eq!(header(&r, ETAG), etag);
    assert_eq!(header(&r, ACCEPT_RANGES), "bytes");
    assert!(
        header(&r, CONTENT_DISPOSITION).starts_with(&format!("attachment; filename=\"{image}\"")),
        "{}",
        header(&r, CONTENT_DISPOSITION)
    );
    let last_modified = header(&r, LAST_MODIFIED).to_string();
    assert!(last_modified.ends_with(" GMT"), "{last_modified}");
    assert_eq!(r.bytes().await.unwrap(), data);

    let head = app.client.head(app.url(&url)).bearer_auth(&app.viewer);
    let r = head.send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(header(&r, CONTENT_LENGTH), len.to_string());
    assert!(r.bytes().await.unwrap().is_empty());

    let mid = len / 2;
    for (range, first, last) in [
        ("bytes=0-0".to_string(), 0, 0),
        ("bytes=0-1023".to_string(), 0, 1023),
        (format!("bytes={mid}-{}", mid + 4095), mid, mid + 4095),
        (format!("bytes={}-", len - 100), len - 100, len - 1),
        (
            format!("bytes={}-{}", len - 1, len + 1000),
            len - 1,
            len - 1,
        ),
        ("bytes=-1".to_string(), len - 1, len - 1),
        ("bytes=-777".to_string(), len - 777, len - 1),
        (format!("bytes=-{}", len + 5), 0, len - 1),
    ] {
        let r = app.get(&url).header(RANGE, &range).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::PARTIAL_CONTENT, "{range}");
        assert_eq!(
            header(&r, CONTENT_RANGE),
            format!("bytes {first}-{last}/{len}")
        );
        assert_eq!(header(&r, CONTENT_LENGTH), (last - first + 1).to_string());
        assert_eq!(header(&r, ETAG), etag);
        let body = r.bytes().await.unwrap();
        assert_eq!(body, data[first as usize..=last as usize], "{range}");
    }

    for range in [
        format!("bytes={len}-"),
        format!("bytes={}-{}", len + 10, len + 20),
        "bytes=-0".into(),
    ] {
        let r = app.get(&url).header(RANGE, &range).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::RANGE_NOT_SATISFIABLE, "{range}");
        assert_eq!(header(&r, CONTENT_RANGE), format!("bytes */{len}"));
        let (code, field) = error_parts(&r.json().await.unwrap());
        assert_eq!(
            (code.as_str(), field.as_deref()),
            ("range_not_satisfiable", Some("Range"))
        );
    }

    // A stale If-Range (other tag, other date, weak tag) gets the whole current file.
    let weak = format!("W/{etag}");
    for stale in [
        "\"sha256-0000\"",
        "Thu, 01 Jan 1970 00:00:00 GMT",
        weak.as_str(),
    ] {
        let r = app
            .get(&url)
            .header(RANGE, "bytes=0-9")
            .header(IF_RANGE, stale)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK, "If-Range {stale}");
        assert!(r.headers().get(CONTENT_RANGE).is_none());
        assert_eq!(r.bytes().await.unwrap(), data);
    }
    for current in [etag.as_str(), last_modified.as_str()] {
        let r = app
            .get(&url)
            .header(RANGE, "bytes=0-9")
            .header(IF_RANGE, current)
            .send()
            .await
            .unwrap();
        assert_eq!(
            r.status(),
            StatusCode::PARTIAL_CONTENT,
            "If-Range {current}"
        );
        assert_eq!(r.bytes().await.unwrap(), data[..10]);
    }

    let r = app
        .get(&url)
        .header(IF_NONE_MATCH, &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_MODIFIED);
    assert_eq!(header(&r, ETAG), etag);
    let r = app
        .get(&url)
        .header(IF_NONE_MATCH, "\"sha256-other\"")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
}

#[tokio::test]
async fn variants_isos_checksums_and_manifests_download_as_their_own_files() {
    let _shared = MEMORY.read().await;
    let built = built();
    let app = start(&built.root).await;
    let manifest = built.manifest();
    let file = |name: &str| std::fs::read(built.dir().join(name)).unwrap();
    let nokey = &manifest["outputs"][1];
    assert_eq!(nokey["variant"], "nokey");

    let cases = [
        (
            "/download/wim?variant=key",
            manifest["outputs"][0]["image_file"].as_str().unwrap(),
        ),
        (
            "/download/wim?variant=nokey",
            nokey["image_file"].as_str().unwrap(),
        ),
        (
            "/download/iso",
            manifest["outputs"][0]["iso"]["file"].as_str().unwrap(),
        ),
        (
            "/download/iso?variant=nokey",
            nokey["iso"]["file"].as_str().unwrap(),
        ),
        ("/download/checksum", "checksum.sha256"),
        ("/download/checksum?algo=sha256", "checksum.sha256"),
        ("/download/checksum?algo=md5", "checksum.md5"),
        ("/download/manifest", "manifest.json"),
        ("/download/manifest?format=txt", "manifest.txt"),
        ("/download/manifest?format=json", "manifest.json"),
    ];
    for (rest, name) in cases {
        let r = app.get(&built.api(rest)).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{rest}");
        assert!(
            header(&r, CONTENT_DISPOSITION).contains(&format!("filename=\"{name}\"")),
            "{rest}"
        );
        assert_eq!(r.bytes().await.unwrap(), file(name), "{rest}");
    }
    // Files not listed in checksum.sha256 are tagged by size and time, still strongly.
    let r = app
        .get(&built.api("/download/checksum"))
        .send()
        .await
        .unwrap();
    let tag = header(&r, ETAG);
    assert!(tag.starts_with('"') && !tag.contains("sha256"), "{tag}");

    for (rest, status, code, field) in [
        (
            "/download/wim?variant=bogus",
            404,
            "not_found",
            Some("variant"),
        ),
        (
            "/download/iso?variant=bogus",
            404,
            "not_found",
            Some("variant"),
        ),
        ("/download/checksum?algo=crc32", 400, "invalid_query", None),
        ("/download/manifest?format=xml", 400, "invalid_query", None),
        ("/download?include_iso=maybe", 400, "invalid_query", None),
    ] {
        let (got, body) = app.json(&built.api(rest)).await;
        assert_eq!(got.as_u16(), status, "{rest}: {body}");
        let (got_code, got_field) = error_parts(&body);
        assert_eq!(
            (got_code.as_str(), got_field.as_deref()),
            (code, field),
            "{rest}"
        );
    }
}

#[tokio::test]
async fn outputs_without_an_iso_or_a_manifest_answer_404_for_what_is_missing() {
    let _shared = MEMORY.read().await;
    let (_dir, root) = empty_repo();
    let m = manifest_json(
        "ACME",
        "X13SAW",
        "2025-01-01T00:00:00Z",
        &[("default", "install.wim", None)],
    );
    write_output(&root, "ACME", "plain", &m, &[("install.wim", b"wim")]);
    std::fs::create_dir_all(root.join("8_Output/ACME/bare")).unwrap();
    std::fs::write(root.join("8_Output/ACME/bare/install.wim"), b"wim").unwrap();
    let app = start(&root).await;
    for path in [
        "/api/outputs/ACME/plain/download/iso",
        "/api/outputs/ACME/bare/download/wim",
        "/api/outputs/ACME/bare/download",
        "/api/outputs/ACME/bare/manifest",
        "/api/outputs/ACME/bare/download/checksum",
        "/api/outputs/ACME/nope/download/wim",
        "/api/outputs/NOPE/plain/manifest",
    ] {
        let (status, body) = app.json(path).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}: {body}");
        assert_eq!(error_parts(&body).0, "not_found", "{path}");
    }
    let r = app
        .get("/api/outputs/ACME/plain/download/wim")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.bytes().await.unwrap(), &b"wim"[..]);
}

// ---------------------------------------------------------------------------------------
// The bundle

#[tokio::test]
async fn bundle_is_a_stored_zip_that_unzip_and_python_accept_and_whose_files_pass_md5sum() {
    let _shared = MEMORY.read().await;
    let built = built();
    let app = start(&built.root).await;
    let work = tempfile::tempdir().unwrap();
    let manifest = built.manifest();
    let mut images = Vec::new();
    let mut isos = Vec::new();
    for o in manifest["outputs"].as_array().unwrap() {
        images.push(o["image_file"].as_str().unwrap().to_string());
        isos.push(o["iso"]["file"].as_str().unwrap().to_string());
    }
    let meta = [
        "checksum.md5",
        "checksum.sha256",
        "manifest.json",
        "manifest.txt",
    ];

    for include_iso in [true, false] {
        let r = app
            .get(&built.api(&format!("/download?include_iso={include_iso}")))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(header(&r, CONTENT_TYPE), "application/zip");
        assert!(
            header(&r, CONTENT_DISPOSITION)
                .contains(&format!("filename=\"ACME_{}.zip\"", built.folder)),
            "{}",
            header(&r, CONTENT_DISPOSITION)
        );
        let announced: u64 = header(&r, CONTENT_LENGTH).parse().unwrap();
        let zip = work.path().join(format!("bundle-{include_iso}.zip"));
        assert_eq!(download_to(r, &zip).await, announced);

        run("unzip", &["-tq", zip.to_str().unwrap()], work.path());
        let members = python_zip_members(&zip);
        let mut want: Vec<String> = images.clone();
        if include_iso {
            // Each variant's WIM is followed by its ISO.
            want = images
                .iter()
                .zip(&isos)
                .flat_map(|(w, i)| [w.clone(), i.clone()])
                .collect();
        }
        want.extend(meta.iter().map(|m| m.to_string()));
        let got: Vec<String> = members.iter().map(|(n, _, _)| n.clone()).collect();
        let want: Vec<String> = want
            .iter()
            .map(|n| format!("{}/{n}", built.folder))
            .collect();
        assert_eq!(got, want);
        for (name, size, method) in &members {
            assert_eq!(*method, 0, "{name} is stored");
            let on_disk = built.dir().join(name.rsplit('/').next().unwrap());
            assert_eq!(*size, std::fs::metadata(on_disk).unwrap().len(), "{name}");
        }
    }

    // Unpacked, the folder checks out against its own checksum files.
    let out = work.path().join("unpacked");
    run(
        "unzip",
        &["-q", "bundle-true.zip", "-d", out.to_str().unwrap()],
        work.path(),
    );
    let folder = out.join(&built.folder);
    let md5 = run("md5sum", &["-c", "checksum.md5"], &folder);
    let sha = run("sha256sum", &["-c", "checksum.sha256"], &folder);
    for name in images.iter().chain(&isos) {
        assert!(md5.contains(&format!("{name}: OK")), "{md5}");
        assert!(sha.contains(&format!("{name}: OK")), "{sha}");
    }
}

/// Linux reports these in kB in /proc/self/status.
fn status_kib(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|rest| rest.trim_start_matches(':').split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no {field} in /proc/self/status"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bundle_of_an_image_over_4_gib_is_zip64_and_streams_in_flat_memory() {
    let _alone = MEMORY.write().await;
    const BIG: u64 = 4 * 1024 * 1024 * 1024 + 512 * 1024 * 1024;
    let (_dir, root) = empty_repo();
    let m = manifest_json(
        "ACME",
        "X13SAW",
        "2025-01-01T00:00:00Z",
        &[("default", "install.wim", None)],
    );
    let dir = write_output(&root, "ACME", "big", &m, &[]);
    // Sparse: 4.5 GiB of holes with a marker at each end, so misplaced bytes show.
    let image = dir.join("install.wim");
    run(
        "truncate",
        &["-s", &BIG.to_string(), image.to_str().unwrap()],
        &dir,
    );
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .open(&image)
        .unwrap();
    f.write_all(b"HEAD").unwrap();
    f.seek(SeekFrom::Start(BIG - 4)).unwrap();
    f.write_all(b"TAIL").unwrap();
    drop(f);

    let app = start(&root).await;
    let work = tempfile::tempdir().unwrap();
    let zip = work.path().join("big.zip");
    // Peak memory from here on: reset the high-water mark to the current size.
    std::fs::write("/proc/self/clear_refs", "5").expect("reset VmHWM");
    let before = status_kib("VmRSS");
    let r = app
        .get("/api/outputs/ACME/big/download")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let announced: u64 = header(&r, CONTENT_LENGTH).parse().unwrap();
    assert!(announced > BIG);
    assert_eq!(download_to(r, &zip).await, announced);
    let peak = status_kib("VmHWM");
    let grew_mib = peak.saturating_sub(before) / 1024;
    eprintln!("streaming a {BIG}-byte bundle grew peak memory by {grew_mib} MiB");
    assert!(
        grew_mib < 200,
        "peak memory grew by {grew_mib} MiB while streaming a {BIG}-byte bundle"
    );

    let members = python_zip_members(&zip);
    let names: Vec<&str> = members.iter().map(|(n, _, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "big/install.wim",
            "big/checksum.md5",
            "big/checksum.sha256",
            "big/manifest.json",
            "big/manifest.txt"
        ]
    );
    assert_eq!(members[0].1, BIG);
    // The archive's central directory lies past 4 GiB, so only the zip64 records can
    // place it; zipinfo reads them independently of Python.
    let listing = run("zipinfo", &["-1", zip.to_str().unwrap()], work.path());
    assert_eq!(listing.lines().collect::<Vec<_>>(), names);
}

// ---------------------------------------------------------------------------------------
// Path safety and authentication

#[tokio::test]
async fn path_attacks_get_400_or_404_and_never_a_file_from_outside_8_output() {
    let _shared = MEMORY.read().await;
    let (dir, root) = empty_repo();
    // Outside 8_Output: a folder that looks like an output.
    let secret = dir.path().join("secret");
    let m = manifest_json(
        "ACME",
        "X13SAW",
        "2025-01-01T00:00:00Z",
        &[("default", "install.wim", None)],
    );
    std::fs::create_dir_all(&secret).unwrap();
    std::fs::write(secret.join("install.wim"), SECRET).unwrap();
    std::fs::write(secret.join("manifest.json"), m.to_string()).unwrap();
    std::fs::write(secret.join("checksum.sha256"), SECRET).unwrap();
    let outputs = root.join("8_Output");
    write_output(&root, "ACME", "ok", &m, &[("install.wim", b"fine")]);
    std::os::unix::fs::symlink(&secret, outputs.join("ACME/leak")).unwrap();
    std::os::unix::fs::symlink(dir.path(), outputs.join("LINKED")).unwrap();
    let secret_wim = secret.join("install.wim");
    for (folder, image) in [
        ("dotdot", "../../../../secret/install.wim".to_string()),
        ("absolute", secret_wim.to_str().unwrap().to_string()),
        ("linkfile", "install.wim".to_string()),
    ] {
        let m = manifest_json(
            "ACME",
            "X13SAW",
            "2025-01-01T00:00:00Z",
            &[("default", &image, None)],
        );
        write_output(&root, "ACME", folder, &m, &[]);
    }
    std::os::unix::fs::symlink(&secret_wim, outputs.join("ACME/linkfile/install.wim")).unwrap();

    let app = start(&root).await;
    let cases: &[(&str, u16)] = &[
        ("/api/outputs/ACME/ok/download/wim", 200),
        ("/api/outputs/%2e%2e/%2e%2e/manifest", 400),
        ("/api/outputs/ACME/%2e%2e/manifest", 400),
        ("/api/outputs/ACME/%2E%2E/download/wim", 400),
        ("/api/outputs/ACME/../manifest", 400),
        ("/api/outputs/../../manifest", 400),
        ("/api/outputs/%2e%2e%2F%2e%2e%2Fsecret/x/manifest", 400),
        ("/api/outputs/ACME/..%2F..%2F..%2Fsecret/download/wim", 400),
        (
            "/api/outputs/ACME/ok%2F..%2F..%2F..%2Fsecret/download/wim",
            400,
        ),
        ("/api/outputs/%2Ftmp/x/manifest", 400),
        ("/api/outputs/ACME/%2Fetc%2Fpasswd/download/manifest", 400),
        ("/api/outputs/ACME/ok%00/manifest", 400),
        ("/api/outputs/ACME/%00/download", 400),
        ("/api/outputs/ACME/..%5C..%5Csecret/manifest", 400),
        ("/api/outputs/ACME/%5Csecret/download/wim", 400),
        ("/api/outputs/ACME/.partial-1-1/manifest", 400),
        ("/api/outputs/%FF/ok/manifest", 400),
        // Decoded exactly once: `%252e%252e` is the plain name `%2e%2e`, which is absent.
        ("/api/outputs/ACME/%252e%252e/manifest", 404),
        ("/api/outputs/ACME/leak/manifest", 404),
        ("/api/outputs/ACME/leak/download/wim", 404),
        ("/api/outputs/ACME/leak/download/checksum", 404),
        ("/api/outputs/ACME/leak/download", 404),
        ("/api/outputs/LINKED/secret/manifest", 404),
        ("/api/outputs/LINKED/secret/download/wim", 404),
        ("/api/outputs/ACME/dotdot/download/wim", 404),
        ("/api/outputs/ACME/dotdot/download", 404),
        ("/api/outputs/ACME/absolute/download/wim", 404),
        ("/api/outputs/ACME/absolute/download", 404),
        ("/api/outputs/ACME/linkfile/download/wim", 404),
        ("/api/outputs/ACME/linkfile/download", 404),
        ("/api/outputs/ACME/missing/manifest", 404),
    ];
    for (target, want) in cases {
        let (status, response) = app.raw_get(target).await;
        assert_eq!(status, *want, "{target}: {response}");
        assert!(!response.contains(SECRET), "{target} leaked: {response}");
        if *want == 400 {
            assert!(
                response.contains("\"code\":\"invalid_path\""),
                "{target}: {response}"
            );
        }
    }
    // The listing shows neither the linked folders nor the secret.
    let (status, body) = app.json("/api/outputs").await;
    assert_eq!(status, StatusCode::OK);
    assert!(!body.to_string().contains("leak") && !body.to_string().contains("LINKED"));
}

#[tokio::test]
async fn every_outputs_endpoint_needs_a_session_and_the_viewer_role_is_enough() {
    let _shared = MEMORY.read().await;
    let (_dir, root) = empty_repo();
    let m = manifest_json(
        "ACME",
        "X13SAW",
        "2025-01-01T00:00:00Z",
        &[("default", "install.wim", None)],
    );
    write_output(&root, "ACME", "ok", &m, &[("install.wim", b"wim")]);
    let app = start(&root).await;
    let paths = [
        "/api/outputs",
        "/api/outputs?q=acme",
        "/api/outputs/ACME/ok/manifest",
        "/api/outputs/ACME/ok/download",
        "/api/outputs/ACME/ok/download/wim",
        "/api/outputs/ACME/ok/download/checksum",
        "/api/outputs/ACME/ok/download/manifest",
    ];
    // Authentication comes before anything else, malformed names included.
    for path in paths.iter().chain(&[
        "/api/outputs/ACME/ok/download/iso",
        "/api/outputs/ACME/%2Fetc%00/manifest",
    ]) {
        let r = app.client.get(app.url(path)).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "{path}");
        let (code, _) = error_parts(&r.json().await.unwrap());
        assert_eq!(code, "unauthorized");
        let r = app
            .client
            .get(app.url(path))
            .bearer_auth("not-a-session")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "{path}");
    }
    // Viewer is the lowest role, so no caller with a session gets 403 here.
    for path in paths {
        let r = app.get(path).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{path}");
    }
}

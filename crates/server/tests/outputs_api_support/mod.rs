//! Shared harness for the outputs API tests: the real server over a repository root with
//! a viewer token, one real build made once per test process, hand-made output folders,
//! and helpers that fetch, unpack and inspect what the server sends.
// Each test binary that includes this module uses only part of it; the rest would
// otherwise be reported as dead code in that binary.
#![allow(dead_code)]

use std::io::{Seek, SeekFrom, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;

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

/// Held for writing by the test that measures the process's peak memory, for reading
/// by every other test, so nothing else allocates while it measures. Each test binary
/// compiles its own copy: only `outputs_api_downloads` has a writer, so elsewhere the
/// readers never wait.
pub static MEMORY: RwLock<()> = RwLock::const_new(());

/// Marker in files outside `8_Output/` that no response may ever contain.
pub const SECRET: &str = "TOP-SECRET-CONTENT";

// ---------------------------------------------------------------------------------------
// Harness

/// The real server on 127.0.0.1:0 over a repository root, with a viewer token.
pub struct App {
    addr: SocketAddr,
    pub viewer: String,
    pub client: Client,
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

pub async fn start(root: &Path) -> App {
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
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// A GET as the viewer.
    pub fn get(&self, path: &str) -> RequestBuilder {
        self.client.get(self.url(path)).bearer_auth(&self.viewer)
    }

    pub async fn json(&self, path: &str) -> (StatusCode, Value) {
        let r = self.get(path).send().await.expect("send");
        let status = r.status();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    /// A GET written byte for byte, so encoded dots and slashes reach the server as
    /// sent (an HTTP client library would normalise them away). Returns the status and
    /// the whole response as text.
    pub async fn raw_get(&self, target: &str) -> (u16, String) {
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
pub async fn download_to(mut response: Response, path: &Path) -> u64 {
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

pub fn header(r: &Response, name: reqwest::header::HeaderName) -> &str {
    r.headers()
        .get(&name)
        .unwrap_or_else(|| panic!("no {name} header"))
        .to_str()
        .expect("ascii header")
}

/// Run a program and return its stdout; fails the test with its output otherwise.
pub fn run(program: &str, args: &[&str], dir: &Path) -> String {
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
pub fn python_zip_members(zip: &Path) -> Vec<(String, u64, u32)> {
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

pub struct Built {
    pub root: PathBuf,
    pub customer: String,
    pub folder: String,
    pub job_id: String,
}

impl Built {
    pub fn dir(&self) -> PathBuf {
        self.root
            .join("8_Output")
            .join(&self.customer)
            .join(&self.folder)
    }

    pub fn api(&self, rest: &str) -> String {
        format!("/api/outputs/{}/{}{rest}", self.customer, self.folder)
    }

    pub fn manifest(&self) -> Value {
        serde_json::from_slice(&std::fs::read(self.dir().join("manifest.json")).unwrap()).unwrap()
    }
}

static BUILT: OnceLock<Built> = OnceLock::new();

/// The demo repository with an install ISO, and one job built by the real worker with
/// both key variants and ISO output. Built on its own thread and runtime, once.
pub fn built() -> &'static Built {
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
pub fn empty_repo() -> (TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().join("repo");
    Repository::init(&root).expect("init repository");
    (dir, root)
}

/// A format-2 manifest naming `variants` as (variant, image file, ISO file).
pub fn manifest_json(
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
pub fn write_output(
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

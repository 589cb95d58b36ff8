//! Driver downloads against a canned HTTP server on 127.0.0.1: good archives, failing and
//! misbehaving servers, hostile archives, refused addresses, the cache fallback, cancel.
#![allow(clippy::unwrap_used)]

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::Duration;

use sha2::{Digest, Sha256};
use wait_pipeline::{DownloadError, DownloadPolicy, DriverDownload, fetch_driver_archive};

const BOARD: &str = "X13SAW";

/// What the test server answers on one path.
#[derive(Clone)]
enum Reply {
    /// 200 with the body; `length: false` sends no Content-Length and ends by closing.
    Body {
        body: Vec<u8>,
        length: bool,
    },
    Status(u16),
    Redirect(String),
    /// Announce `declared` bytes, send `sent`, close.
    CutOff {
        declared: usize,
        sent: Vec<u8>,
    },
    /// Read the request, say nothing for this long, close.
    Stall(Duration),
    /// Send the head and some body, report on the channel, then go quiet.
    Hang(mpsc::Sender<()>),
}

fn ok(body: Vec<u8>) -> Reply {
    Reply::Body { body, length: true }
}

struct Server {
    addr: SocketAddr,
    routes: Arc<Mutex<HashMap<String, Reply>>>,
    hits: Arc<Mutex<HashMap<String, usize>>>,
}

impl Server {
    fn start() -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let routes: Arc<Mutex<HashMap<String, Reply>>> = Arc::default();
        let hits: Arc<Mutex<HashMap<String, usize>>> = Arc::default();
        let (r, h) = (Arc::clone(&routes), Arc::clone(&hits));
        // Runs until the test process ends; every connection gets its own thread so a
        // stalled answer does not hold up the next request.
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let (r, h) = (Arc::clone(&r), Arc::clone(&h));
                std::thread::spawn(move || answer(stream, &r, &h));
            }
        });
        Server { addr, routes, hits }
    }

    fn route(&self, path: &str, reply: Reply) {
        self.routes.lock().unwrap().insert(path.to_owned(), reply);
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    fn hits(&self, path: &str) -> usize {
        self.hits.lock().unwrap().get(path).copied().unwrap_or(0)
    }

    fn total_hits(&self) -> usize {
        self.hits.lock().unwrap().values().sum()
    }
}

fn answer(
    mut stream: TcpStream,
    routes: &Mutex<HashMap<String, Reply>>,
    hits: &Mutex<HashMap<String, usize>>,
) {
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("read timeout");
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") && head.len() < 16384 {
        match stream.read(&mut byte) {
            Ok(1) => head.push(byte[0]),
            _ => return,
        }
    }
    let text = String::from_utf8_lossy(&head);
    let path = text.split_whitespace().nth(1).unwrap_or("/").to_owned();
    *hits.lock().expect("hits").entry(path.clone()).or_default() += 1;
    let reply = routes
        .lock()
        .expect("routes")
        .get(&path)
        .cloned()
        .unwrap_or(Reply::Status(404));
    // Write errors mean the client gave up, which some tests intend.
    let _ = match reply {
        Reply::Body { body, length } => {
            let length = if length {
                format!("Content-Length: {}\r\n", body.len())
            } else {
                String::new()
            };
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n{length}Connection: close\r\n\r\n"
            );
            stream
                .write_all(head.as_bytes())
                .and_then(|()| stream.write_all(&body))
        }
        Reply::Status(code) => stream.write_all(
            format!("HTTP/1.1 {code} Canned\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                .as_bytes(),
        ),
        Reply::Redirect(location) => stream.write_all(
            format!(
                "HTTP/1.1 302 Found\r\nLocation: {location}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            )
            .as_bytes(),
        ),
        Reply::CutOff { declared, sent } => {
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Length: {declared}\r\nConnection: close\r\n\r\n"
            );
            stream
                .write_all(head.as_bytes())
                .and_then(|()| stream.write_all(&sent))
        }
        Reply::Stall(pause) => {
            std::thread::sleep(pause);
            Ok(())
        }
        Reply::Hang(started) => {
            let head = "HTTP/1.1 200 OK\r\nContent-Length: 1000000\r\nConnection: close\r\n\r\n";
            let sent = stream
                .write_all(head.as_bytes())
                .and_then(|()| stream.write_all(&[0u8; 1000]))
                .and_then(|()| stream.flush());
            let _ = started.send(());
            std::thread::sleep(Duration::from_secs(30));
            sent
        }
    };
}

fn policy() -> DownloadPolicy {
    DownloadPolicy {
        timeout: Duration::from_secs(10),
        max_bytes: 16 << 20,
        attempts: 2,
        allow_private: true,
    }
}

/// The fixture drivers of a board as zip members (repo-relative path, bytes), sorted.
fn driver_files(seed: u64) -> Vec<(String, Vec<u8>)> {
    let repo = tempfile::tempdir().unwrap();
    wait_catalog::fixtures::write_board_drivers(repo.path(), BOARD, seed).unwrap();
    let root = repo.path().join("2_Drivers").join(BOARD);
    let mut files = Vec::new();
    collect(&root, &root, &mut files);
    files.sort();
    files
}

fn collect(root: &Path, dir: &Path, out: &mut Vec<(String, Vec<u8>)>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            collect(root, &path, out);
        } else {
            let rel = path
                .strip_prefix(root)
                .unwrap()
                .to_string_lossy()
                .into_owned();
            out.push((rel, std::fs::read(&path).unwrap()));
        }
    }
}

fn zip_of(files: &[(String, Vec<u8>)]) -> Vec<u8> {
    let members: Vec<(&str, &[u8])> = files
        .iter()
        .map(|(n, d)| (n.as_str(), d.as_slice()))
        .collect();
    wait_catalog::fixtures::zip_archive(&members).unwrap()
}

fn inf_count(files: &[(String, Vec<u8>)]) -> usize {
    files
        .iter()
        .filter(|(n, _)| n.to_ascii_lowercase().ends_with(".inf"))
        .count()
}

async fn fetch(
    url: &str,
    cache: &Path,
    policy: &DownloadPolicy,
) -> Result<DriverDownload, DownloadError> {
    fetch_driver_archive(url, BOARD, cache, policy, &AtomicBool::new(false)).await
}

/// Names in the board's cache folder, to show what a failure left behind.
fn cache_listing(cache: &Path) -> Vec<String> {
    let Ok(listing) = std::fs::read_dir(cache.join(BOARD)) else {
        return Vec::new();
    };
    let mut names: Vec<String> = listing
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

fn sha256sum(path: &Path) -> String {
    let out = Command::new("sha256sum").arg(path).output().unwrap();
    assert!(out.status.success());
    String::from_utf8(out.stdout).unwrap()[..64].to_owned()
}

#[tokio::test]
async fn downloads_unpacks_and_counts_infs() {
    let server = Server::start();
    let files = driver_files(7);
    let zip = zip_of(&files);
    server.route("/X13SAW_drivers.zip", ok(zip.clone()));
    let tmp = tempfile::tempdir().unwrap();
    let cache = tmp.path().join("cache");

    let url = server.url("/X13SAW_drivers.zip");
    let got = fetch(&url, &cache, &policy()).await.unwrap();

    assert_eq!(got.url, url);
    assert!(!got.from_cache);
    assert_eq!(got.stale_reason, None);
    assert_eq!(got.size, zip.len() as u64);
    assert_eq!(got.sha256, hex::encode(Sha256::digest(&zip)));
    assert_eq!(got.sha256, sha256sum(&got.archive), "sha256sum disagrees");
    assert!(got.archive.starts_with(cache.join(BOARD)));
    assert_eq!(std::fs::read(&got.archive).unwrap(), zip);
    assert!(inf_count(&files) > 0);
    assert_eq!(got.inf_count, inf_count(&files));
    for (name, data) in &files {
        let path = got.extracted.join(name);
        assert_eq!(&std::fs::read(&path).unwrap(), data, "{name}");
    }
    // An independent reader agrees on what the archive holds.
    let listed = Command::new("zipinfo")
        .arg("-1")
        .arg(&got.archive)
        .output()
        .unwrap();
    assert!(listed.status.success());
    let mut listed: Vec<String> = String::from_utf8(listed.stdout)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect();
    listed.sort();
    let names: Vec<String> = files.iter().map(|(n, _)| n.clone()).collect();
    assert_eq!(listed, names);
    assert!(
        !cache_listing(&cache)
            .iter()
            .any(|n| n.starts_with(".part-")),
        "{:?}",
        cache_listing(&cache)
    );
}

#[tokio::test]
async fn server_errors_are_retried_then_reported() {
    let server = Server::start();
    server.route("/broken.zip", Reply::Status(503));
    let tmp = tempfile::tempdir().unwrap();
    let url = server.url("/broken.zip");

    let err = fetch(&url, tmp.path(), &policy()).await.unwrap_err();

    assert!(
        matches!(err, DownloadError::Status { status: 503, .. }),
        "{err:?}"
    );
    assert_eq!(server.hits("/broken.zip"), 2, "one retry");
    let message = err.to_string();
    assert!(message.contains(&url), "{message}");
    assert!(message.contains("503"), "{message}");
    assert_eq!(err.url(), url);
}

#[tokio::test]
async fn client_errors_are_not_retried() {
    let server = Server::start();
    let tmp = tempfile::tempdir().unwrap();
    let err = fetch(&server.url("/missing.zip"), tmp.path(), &policy())
        .await
        .unwrap_err();
    assert!(
        matches!(err, DownloadError::Status { status: 404, .. }),
        "{err:?}"
    );
    assert_eq!(server.hits("/missing.zip"), 1);
}

#[tokio::test]
async fn a_connection_closed_mid_body_is_retried_and_fails() {
    let server = Server::start();
    server.route(
        "/cut.zip",
        Reply::CutOff {
            declared: 100_000,
            sent: vec![b'P'; 1000],
        },
    );
    let tmp = tempfile::tempdir().unwrap();
    let cache = tmp.path().join("cache");
    let err = fetch(&server.url("/cut.zip"), &cache, &policy())
        .await
        .unwrap_err();
    assert!(matches!(err, DownloadError::Connection { .. }), "{err:?}");
    assert!(err.to_string().contains("broke off"), "{err}");
    assert_eq!(server.hits("/cut.zip"), 2);
    assert!(
        cache_listing(&cache).is_empty(),
        "{:?}",
        cache_listing(&cache)
    );
}

#[tokio::test]
async fn a_server_slower_than_the_timeout_times_out() {
    let server = Server::start();
    server.route("/slow.zip", Reply::Stall(Duration::from_secs(20)));
    let tmp = tempfile::tempdir().unwrap();
    let policy = DownloadPolicy {
        timeout: Duration::from_millis(300),
        attempts: 1,
        ..policy()
    };
    let err = fetch(&server.url("/slow.zip"), tmp.path(), &policy)
        .await
        .unwrap_err();
    assert!(matches!(err, DownloadError::TimedOut { .. }), "{err:?}");
    assert!(err.to_string().contains("did not answer"), "{err}");
}

#[tokio::test]
async fn bodies_larger_than_max_bytes_are_refused() {
    let server = Server::start();
    let body = vec![7u8; 200_000];
    server.route("/declared.zip", ok(body.clone()));
    server.route(
        "/streamed.zip",
        Reply::Body {
            body,
            length: false,
        },
    );
    let tmp = tempfile::tempdir().unwrap();
    let cache = tmp.path().join("cache");
    let policy = DownloadPolicy {
        max_bytes: 64 << 10,
        ..policy()
    };
    for path in ["/declared.zip", "/streamed.zip"] {
        let err = fetch(&server.url(path), &cache, &policy).await.unwrap_err();
        assert!(
            matches!(err, DownloadError::TooLarge { limit, .. } if limit == 64 << 10),
            "{path}: {err:?}"
        );
        assert!(err.to_string().contains("64 KiB"), "{err}");
        assert_eq!(server.hits(path), 1, "{path}: a size limit is not retried");
    }
    assert!(
        cache_listing(&cache).is_empty(),
        "{:?}",
        cache_listing(&cache)
    );
}

/// A zip whose entries are written exactly as named, with an INF so that only the bad
/// entry can be the reason for refusal.
fn hostile_zip(bad_name: &str) -> Vec<u8> {
    zip_of(&[
        ("good/driver.inf".to_owned(), b"[Version]\r\n".to_vec()),
        (bad_name.to_owned(), b"escaped\r\n".to_vec()),
    ])
}

fn symlink_zip() -> Vec<u8> {
    let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default();
    writer.start_file("driver.inf", options).unwrap();
    writer.write_all(b"[Version]\r\n").unwrap();
    writer.add_symlink("link", "/etc", options).unwrap();
    writer.finish().unwrap().into_inner()
}

#[tokio::test]
async fn escaping_archive_entries_are_refused_and_nothing_escapes() {
    let server = Server::start();
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("/dotdot.zip", hostile_zip("../../evil.inf")),
        ("/nested.zip", hostile_zip("good/../../../evil.inf")),
        ("/absolute.zip", hostile_zip("/tmp/wait-evil.inf")),
        ("/backslash.zip", hostile_zip("..\\..\\evil.inf")),
        ("/drive.zip", hostile_zip("C:\\Windows\\evil.inf")),
        ("/symlink.zip", symlink_zip()),
    ];
    let tmp = tempfile::tempdir().unwrap();
    let cache = tmp.path().join("a").join("cache");
    for (path, body) in &cases {
        server.route(path, ok(body.clone()));
        let err = fetch(&server.url(path), &cache, &policy())
            .await
            .unwrap_err();
        assert!(
            matches!(err, DownloadError::UnsafeEntry { .. }),
            "{path}: {err:?}"
        );
        assert_eq!(server.hits(path), 1, "{path}: a bad archive is not retried");
    }
    let mut everything = Vec::new();
    collect(tmp.path(), tmp.path(), &mut everything);
    assert!(everything.is_empty(), "files were left: {everything:?}");
    assert!(!Path::new("/tmp/wait-evil.inf").exists());
}

#[tokio::test]
async fn an_archive_that_unpacks_too_large_is_refused() {
    let server = Server::start();
    // 1 MiB of zeros deflates to about a kilobyte.
    let bomb = zip_of(&[("drivers/huge.inf".to_owned(), vec![0u8; 1 << 20])]);
    assert!(bomb.len() < 16 << 10);
    server.route("/bomb.zip", ok(bomb));
    let tmp = tempfile::tempdir().unwrap();
    let policy = DownloadPolicy {
        max_bytes: 64 << 10,
        ..policy()
    };
    let err = fetch(&server.url("/bomb.zip"), tmp.path(), &policy)
        .await
        .unwrap_err();
    assert!(
        matches!(err, DownloadError::ExtractedTooLarge { .. }),
        "{err:?}"
    );
    assert!(
        cache_listing(tmp.path()).is_empty(),
        "{:?}",
        cache_listing(tmp.path())
    );
}

#[tokio::test]
async fn an_archive_without_inf_files_is_an_error() {
    let server = Server::start();
    server.route(
        "/readme.zip",
        ok(zip_of(&[
            ("README.txt".to_owned(), b"no drivers here".to_vec()),
            ("setup/Setup.INI".to_owned(), b"[x]".to_vec()),
        ])),
    );
    let tmp = tempfile::tempdir().unwrap();
    let url = server.url("/readme.zip");
    let err = fetch(&url, tmp.path(), &policy()).await.unwrap_err();
    assert!(matches!(err, DownloadError::NoInf { .. }), "{err:?}");
    assert_eq!(err.to_string(), format!("no driver INF files in {url}"));
}

#[tokio::test]
async fn inf_files_are_counted_whatever_their_case() {
    let server = Server::start();
    server.route(
        "/mixed.zip",
        ok(zip_of(&[
            ("a/one.inf".to_owned(), b"[Version]".to_vec()),
            ("b/TWO.INF".to_owned(), b"[Version]".to_vec()),
            ("c/three.Inf".to_owned(), b"[Version]".to_vec()),
            ("c/three.sys".to_owned(), b"MZ".to_vec()),
            ("d/".to_owned(), Vec::new()),
        ])),
    );
    let tmp = tempfile::tempdir().unwrap();
    let got = fetch(&server.url("/mixed.zip"), tmp.path(), &policy())
        .await
        .unwrap();
    assert_eq!(got.inf_count, 3);
}

#[tokio::test]
async fn other_archive_types_are_not_supported_yet() {
    let server = Server::start();
    server.route(
        "/drivers.7z",
        ok(b"7z\xBC\xAF\x27\x1C\x00\x04rest".to_vec()),
    );
    server.route("/drivers.exe", ok(b"\x00\x01\x02 opaque".to_vec()));
    server.route(
        "/download.php",
        ok(b"<!DOCTYPE html><html>login</html>".to_vec()),
    );
    let tmp = tempfile::tempdir().unwrap();

    let url = server.url("/drivers.7z");
    let err = fetch(&url, tmp.path(), &policy()).await.unwrap_err();
    assert!(
        err.to_string()
            .starts_with("not supported yet: 7z driver archives"),
        "{err}"
    );
    assert!(err.to_string().contains(&url), "{err}");

    let err = fetch(&server.url("/drivers.exe"), tmp.path(), &policy())
        .await
        .unwrap_err();
    assert!(
        err.to_string()
            .starts_with("not supported yet: exe driver archives"),
        "{err}"
    );

    let err = fetch(&server.url("/download.php"), tmp.path(), &policy())
        .await
        .unwrap_err();
    assert!(matches!(err, DownloadError::NotAnArchive { .. }), "{err:?}");
    assert!(err.to_string().contains("web page"), "{err}");
}

#[tokio::test]
async fn private_addresses_are_refused_unless_allowed() {
    let server = Server::start();
    server.route("/X13SAW.zip", ok(zip_of(&driver_files(3))));
    let port = server.addr.port();
    let tmp = tempfile::tempdir().unwrap();
    let strict = DownloadPolicy {
        allow_private: false,
        ..policy()
    };
    let urls = [
        format!("http://127.0.0.1:{port}/X13SAW.zip"),
        format!("http://localhost:{port}/X13SAW.zip"),
        format!("http://[::1]:{port}/X13SAW.zip"),
        format!("http://[::ffff:127.0.0.1]:{port}/X13SAW.zip"),
        format!("http://2130706433:{port}/X13SAW.zip"),
        "http://10.0.0.1/drivers.zip".to_owned(),
        "https://192.168.1.20/drivers.zip".to_owned(),
        "http://169.254.169.254/latest/meta-data/".to_owned(),
        "http://0.0.0.0/drivers.zip".to_owned(),
        "http://[fd00::1]/drivers.zip".to_owned(),
    ];
    for url in &urls {
        let err = fetch(url, tmp.path(), &strict).await.unwrap_err();
        assert!(
            matches!(err, DownloadError::PrivateAddress { .. }),
            "{url}: {err:?}"
        );
        assert!(err.to_string().contains("refused"), "{err}");
    }
    assert_eq!(
        server.total_hits(),
        0,
        "a refused address is never contacted"
    );

    // The same server is fine when private addresses are allowed.
    let got = fetch(&urls[0], tmp.path(), &policy()).await.unwrap();
    assert!(got.inf_count > 0);
}

#[tokio::test]
async fn only_http_and_https_urls_are_accepted() {
    let tmp = tempfile::tempdir().unwrap();
    let cases = [
        ("ftp://vendor.example/drivers.zip", "scheme"),
        ("file:///etc/passwd", "scheme"),
        ("gopher://vendor.example/", "scheme"),
        ("not a url", "invalid"),
        ("http://", "invalid"),
        ("", "invalid"),
    ];
    for (url, kind) in cases {
        let err = fetch(url, tmp.path(), &policy()).await.unwrap_err();
        let right = match kind {
            "scheme" => matches!(err, DownloadError::UnsupportedScheme { .. }),
            _ => matches!(err, DownloadError::InvalidUrl { .. }),
        };
        assert!(right, "{url:?}: {err:?}");
    }
}

#[tokio::test]
async fn redirects_are_followed_and_checked() {
    let server = Server::start();
    let files = driver_files(5);
    server.route("/X13SAW.zip", ok(zip_of(&files)));
    server.route("/latest", Reply::Redirect("/X13SAW.zip".to_owned()));
    server.route("/loop", Reply::Redirect("/loop".to_owned()));
    server.route("/to-file", Reply::Redirect("file:///etc/passwd".to_owned()));
    let tmp = tempfile::tempdir().unwrap();

    let got = fetch(&server.url("/latest"), tmp.path(), &policy())
        .await
        .unwrap();
    assert_eq!(got.inf_count, inf_count(&files));
    assert_eq!(
        got.url,
        server.url("/latest"),
        "reported under the URL asked for"
    );

    let err = fetch(&server.url("/loop"), tmp.path(), &policy())
        .await
        .unwrap_err();
    assert!(
        matches!(err, DownloadError::TooManyRedirects { .. }),
        "{err:?}"
    );

    let err = fetch(&server.url("/to-file"), tmp.path(), &policy())
        .await
        .unwrap_err();
    assert!(
        matches!(err, DownloadError::UnsupportedScheme { .. }),
        "{err:?}"
    );
}

#[tokio::test]
async fn a_later_failure_returns_the_cached_copy() {
    let server = Server::start();
    let files = driver_files(11);
    server.route("/X13SAW.zip", ok(zip_of(&files)));
    let tmp = tempfile::tempdir().unwrap();
    let url = server.url("/X13SAW.zip");

    let fresh = fetch(&url, tmp.path(), &policy()).await.unwrap();
    assert!(!fresh.from_cache);

    server.route("/X13SAW.zip", Reply::Status(500));
    let stale = fetch(&url, tmp.path(), &policy()).await.unwrap();
    assert!(stale.from_cache);
    assert!(
        stale
            .stale_reason
            .as_deref()
            .is_some_and(|r| r.contains("500")),
        "{:?}",
        stale.stale_reason
    );
    assert_eq!(stale.sha256, fresh.sha256);
    assert_eq!(stale.archive, fresh.archive);
    assert_eq!(stale.extracted, fresh.extracted);
    assert_eq!(stale.inf_count, fresh.inf_count);
    assert_eq!(sha256sum(&stale.archive), fresh.sha256);

    // A bad archive at the URL is a failure too; the good copy stays in use.
    server.route(
        "/X13SAW.zip",
        ok(zip_of(&[("x.txt".to_owned(), b"x".to_vec())])),
    );
    let stale = fetch(&url, tmp.path(), &policy()).await.unwrap();
    assert!(stale.from_cache);
    assert_eq!(stale.sha256, fresh.sha256);

    // Another URL has no cached copy of its own.
    server.route("/other.zip", Reply::Status(500));
    let err = fetch(&server.url("/other.zip"), tmp.path(), &policy())
        .await
        .unwrap_err();
    assert!(matches!(err, DownloadError::Status { .. }), "{err:?}");
}

#[tokio::test]
async fn refreshes_reuse_unchanged_content_and_keep_one_older_copy() {
    let server = Server::start();
    let tmp = tempfile::tempdir().unwrap();
    let url = server.url("/X13SAW.zip");
    let mut seen: Vec<DriverDownload> = Vec::new();
    for seed in [1, 1, 2, 3] {
        server.route("/X13SAW.zip", ok(zip_of(&driver_files(seed))));
        seen.push(fetch(&url, tmp.path(), &policy()).await.unwrap());
    }
    assert!(seen.iter().all(|d| !d.from_cache));
    assert_eq!(
        seen[0].extracted, seen[1].extracted,
        "same content, same entry"
    );
    assert_ne!(seen[1].sha256, seen[2].sha256);
    // The newest and the one before it stay (a build may still read it); older go.
    assert!(seen[3].extracted.is_dir());
    assert!(seen[2].extracted.is_dir());
    assert!(!seen[0].extracted.exists());
}

#[tokio::test]
async fn an_incomplete_cache_entry_is_rebuilt() {
    let server = Server::start();
    let files = driver_files(9);
    server.route("/X13SAW.zip", ok(zip_of(&files)));
    let tmp = tempfile::tempdir().unwrap();
    let url = server.url("/X13SAW.zip");
    let first = fetch(&url, tmp.path(), &policy()).await.unwrap();

    // Someone removed part of the entry by hand.
    let entry = first.extracted.parent().unwrap().to_owned();
    std::fs::remove_dir_all(&first.extracted).unwrap();
    std::fs::remove_file(entry.join("download.json")).unwrap();

    server.route("/X13SAW.zip", Reply::Status(500));
    let err = fetch(&url, tmp.path(), &policy()).await.unwrap_err();
    assert!(
        matches!(err, DownloadError::Status { .. }),
        "an incomplete entry is no fallback: {err:?}"
    );

    server.route("/X13SAW.zip", ok(zip_of(&files)));
    let again = fetch(&url, tmp.path(), &policy()).await.unwrap();
    assert_eq!(again.extracted, first.extracted);
    assert_eq!(again.inf_count, inf_count(&files));
    for (name, data) in &files {
        assert_eq!(
            &std::fs::read(again.extracted.join(name)).unwrap(),
            data,
            "{name}"
        );
    }
}

#[tokio::test]
async fn cancel_stops_a_download_and_is_not_covered_by_the_cache() {
    let server = Server::start();
    server.route("/X13SAW.zip", ok(zip_of(&driver_files(4))));
    let tmp = tempfile::tempdir().unwrap();
    let cache = tmp.path().join("cache");
    let url = server.url("/X13SAW.zip");
    fetch(&url, &cache, &policy()).await.unwrap();
    let before = cache_listing(&cache);

    let (started_tx, started_rx) = mpsc::channel();
    server.route("/X13SAW.zip", Reply::Hang(started_tx));
    let cancel = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&cancel);
    std::thread::spawn(move || {
        if started_rx.recv().is_ok() {
            flag.store(true, Ordering::Relaxed);
        }
    });
    let err = fetch_driver_archive(&url, BOARD, &cache, &policy(), &cancel)
        .await
        .unwrap_err();

    assert!(matches!(err, DownloadError::Cancelled { .. }), "{err:?}");
    assert_eq!(cache_listing(&cache), before, "no partial download is left");
}

#[tokio::test]
async fn a_cancelled_fetch_does_not_start() {
    let server = Server::start();
    let tmp = tempfile::tempdir().unwrap();
    let err = fetch_driver_archive(
        &server.url("/X13SAW.zip"),
        BOARD,
        tmp.path(),
        &policy(),
        &AtomicBool::new(true),
    )
    .await
    .unwrap_err();
    assert!(matches!(err, DownloadError::Cancelled { .. }), "{err:?}");
    assert_eq!(server.total_hits(), 0);
}

#[tokio::test]
async fn board_names_that_are_not_folder_names_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    for board in ["", "..", "a/b", "..\\x"] {
        let err = fetch_driver_archive(
            "http://vendor.example/d.zip",
            board,
            tmp.path(),
            &policy(),
            &AtomicBool::new(false),
        )
        .await
        .unwrap_err();
        assert!(
            matches!(err, DownloadError::InvalidBoard { .. }),
            "{board:?}: {err:?}"
        );
    }
    let listing: Vec<PathBuf> = std::fs::read_dir(tmp.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert!(listing.is_empty(), "{listing:?}");
}

#[test]
fn the_default_policy_matches_the_documented_limits() {
    let policy = DownloadPolicy::default();
    assert_eq!(policy.timeout, Duration::from_secs(60));
    assert_eq!(policy.max_bytes, 2 << 30);
    assert_eq!(policy.attempts, 2);
    assert!(!policy.allow_private);
}

//! The content-hash cache: hits only for unchanged files, changes noticed, tolerant load,
//! atomic save.

use std::fs::File;
use std::path::Path;
use std::time::{Duration, SystemTime};

use sha2::{Digest, Sha256};
use wait_catalog::HashCache;

fn sha(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Set the mtime explicitly: older than the cache's racy window, and distinct per call.
fn set_mtime(path: &Path, secs_ago: u64) {
    let when = SystemTime::now() - Duration::from_secs(secs_ago);
    File::options()
        .write(true)
        .open(path)
        .expect("open")
        .set_modified(when)
        .expect("set mtime");
}

fn write_aged(path: &Path, bytes: &[u8], secs_ago: u64) {
    std::fs::write(path, bytes).expect("write");
    set_mtime(path, secs_ago);
}

#[test]
fn second_lookup_of_an_unchanged_file_is_a_hit() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("a.bin");
    write_aged(&file, b"hello", 100);
    let mut cache = HashCache::open(&dir.path().join("cache/hashes.json")).expect("open");
    let first = cache.hash(&file).expect("hash");
    assert_eq!(first.sha256, sha(b"hello"));
    assert_eq!(first.size, 5);
    let again = cache.hash(&file).expect("hash");
    assert_eq!(again.sha256, first.sha256);
    let stats = cache.stats();
    assert_eq!((stats.hits, stats.misses, stats.entries), (1, 1, 1));
}

#[test]
fn cache_survives_save_and_reopen() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("a.bin");
    let store = dir.path().join("cache/hashes.json");
    write_aged(&file, b"persist me", 100);
    let mut cache = HashCache::open(&store).expect("open");
    cache.hash(&file).expect("hash");
    cache.save().expect("save");
    assert!(store.is_file());
    let mut reopened = HashCache::open(&store).expect("reopen");
    assert_eq!(reopened.stats().entries, 1);
    assert_eq!(
        reopened.hash(&file).expect("hash").sha256,
        sha(b"persist me")
    );
    assert_eq!(reopened.stats().hits, 1);
    // No temporary files are left next to the cache.
    let names: Vec<String> = std::fs::read_dir(dir.path().join("cache"))
        .expect("list")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, vec!["hashes.json"]);
}

#[test]
fn same_size_new_content_and_touched_mtime_is_rehashed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("a.bin");
    write_aged(&file, b"AAAA", 200);
    let mut cache = HashCache::empty(&dir.path().join("h.json"));
    assert_eq!(cache.hash(&file).expect("hash").sha256, sha(b"AAAA"));
    // Rewrite in place (same inode, same size), mtime moved.
    std::fs::write(&file, b"BBBB").expect("rewrite");
    set_mtime(&file, 100);
    assert_eq!(cache.hash(&file).expect("hash").sha256, sha(b"BBBB"));
    assert_eq!(cache.stats().misses, 2);
}

#[test]
fn size_change_is_noticed_even_with_the_same_mtime() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("a.bin");
    write_aged(&file, b"short", 100);
    let when = std::fs::metadata(&file)
        .expect("meta")
        .modified()
        .expect("mtime");
    let mut cache = HashCache::empty(&dir.path().join("h.json"));
    cache.hash(&file).expect("hash");
    std::fs::write(&file, b"longer content").expect("rewrite");
    File::options()
        .write(true)
        .open(&file)
        .expect("open")
        .set_modified(when)
        .expect("mtime");
    assert_eq!(
        cache.hash(&file).expect("hash").sha256,
        sha(b"longer content")
    );
}

#[test]
fn replace_by_rename_is_noticed_by_the_inode() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("a.bin");
    write_aged(&file, b"old!", 100);
    let when = std::fs::metadata(&file)
        .expect("meta")
        .modified()
        .expect("mtime");
    let mut cache = HashCache::empty(&dir.path().join("h.json"));
    cache.hash(&file).expect("hash");
    // Same size, same mtime, different inode: only the inode tells.
    let staged = dir.path().join("a.bin.new");
    std::fs::write(&staged, b"new!").expect("write");
    File::options()
        .write(true)
        .open(&staged)
        .expect("open")
        .set_modified(when)
        .expect("mtime");
    std::fs::rename(&staged, &file).expect("rename");
    assert_eq!(cache.hash(&file).expect("hash").sha256, sha(b"new!"));
    assert_eq!(cache.stats().hits, 0);
}

#[test]
fn freshly_written_files_are_not_trusted_yet() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("a.bin");
    std::fs::write(&file, b"fresh").expect("write");
    let mut cache = HashCache::empty(&dir.path().join("h.json"));
    cache.hash(&file).expect("hash");
    cache.hash(&file).expect("hash");
    // Within the racy window the second lookup hashes again.
    assert_eq!(cache.stats().hits, 0);
    assert_eq!(cache.stats().misses, 2);
}

#[test]
fn corrupt_or_foreign_cache_files_start_empty() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = dir.path().join("hashes.json");
    for junk in [
        &b"{not json"[..],
        b"",
        b"[1,2,3]",
        b"{\"format\":99,\"entries\":[]}",
        b"\xff\xfe\x00garbage",
    ] {
        std::fs::write(&store, junk).expect("write");
        let cache = HashCache::open(&store).expect("tolerant open");
        assert_eq!(cache.stats().entries, 0);
    }
    // Malformed entries are dropped, good ones kept.
    let file = dir.path().join("a.bin");
    write_aged(&file, b"x", 100);
    let good = {
        let mut c = HashCache::empty(&store);
        c.hash(&file).expect("hash");
        c.save().expect("save");
        std::fs::read_to_string(&store).expect("read")
    };
    let mut v: serde_json::Value = serde_json::from_str(&good).expect("json");
    let mut bad = v["entries"][0].clone();
    bad["sha256"] = "zz".into();
    bad["path"] = "/elsewhere".into();
    v["entries"].as_array_mut().expect("array").push(bad);
    std::fs::write(&store, v.to_string()).expect("write");
    let mut c = HashCache::open(&store).expect("open");
    assert_eq!(c.stats().entries, 1);
    c.hash(&file).expect("hash");
    assert_eq!(c.stats().hits, 1);
}

#[test]
fn missing_files_are_errors_naming_them_and_pruned() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("gone.bin");
    write_aged(&file, b"x", 100);
    let mut cache = HashCache::empty(&dir.path().join("h.json"));
    cache.hash(&file).expect("hash");
    std::fs::remove_file(&file).expect("rm");
    let err = cache.hash(&file).expect_err("missing");
    assert!(err.to_string().contains("gone.bin"), "{err}");
    assert_eq!(cache.prune_missing(), 1);
    assert_eq!(cache.stats().entries, 0);
}

#[test]
fn concurrent_savers_leave_a_valid_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = dir.path().join("hashes.json");
    let files: Vec<_> = (0..8)
        .map(|i| {
            let f = dir.path().join(format!("f{i}"));
            write_aged(&f, format!("content {i}").as_bytes(), 100);
            f
        })
        .collect();
    std::thread::scope(|s| {
        for f in &files {
            let store = store.clone();
            s.spawn(move || {
                let mut c = HashCache::open(&store).expect("open");
                c.hash(f).expect("hash");
                c.save().expect("save");
            });
        }
    });
    // Last writer wins: whatever is there parses and holds at least one entry.
    let c = HashCache::open(&store).expect("open");
    assert!(c.stats().entries >= 1);
    let v: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&store).expect("read")).expect("valid json");
    assert_eq!(v["format"], 1);
}

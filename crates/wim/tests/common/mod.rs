//! Shared fixtures for the integration tests: small host trees generated on the fly,
//! and `wimlib-imagex` / `sha1sum` as independent oracles.

#![allow(
    dead_code,
    reason = "each test binary uses a different subset of the helpers"
)]

use std::path::{Path, PathBuf};
use std::process::Command;

use wait_wim::Compression;

/// Deterministic pseudo-random bytes (xorshift64*), so no extra dependency is needed.
pub fn random_bytes(len: usize, seed: u64) -> Vec<u8> {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        out.extend_from_slice(&state.wrapping_mul(0x2545_F491_4F6C_DD1D).to_le_bytes());
    }
    out.truncate(len);
    out
}

/// The files `make_tree` creates, as (image path, is_directory).
pub const TREE: &[(&str, bool)] = &[
    ("/", true),
    ("/readme.txt", false),
    ("/empty.bin", false),
    ("/emptydir", true),
    ("/nested", true),
    ("/nested/notes.txt", false),
    ("/nested/deeper", true),
    ("/nested/deeper/random.bin", false),
];

/// A small tree: compressible text, an empty file, an empty dir, nested dirs and
/// random data.
pub fn make_tree(root: &Path) {
    std::fs::create_dir_all(root.join("nested/deeper")).expect("mkdir");
    std::fs::create_dir_all(root.join("emptydir")).expect("mkdir");
    std::fs::write(
        root.join("readme.txt"),
        "Windows image factory test data.\n".repeat(200),
    )
    .expect("write");
    std::fs::write(root.join("empty.bin"), b"").expect("write");
    std::fs::write(root.join("nested/notes.txt"), "nested notes\n").expect("write");
    std::fs::write(
        root.join("nested/deeper/random.bin"),
        random_bytes(70_000, 7),
    )
    .expect("write");
}

/// A tree with one big random file (for progress and cancellation tests).
pub fn make_big_tree(root: &Path, megabytes: usize) {
    std::fs::create_dir_all(root).expect("mkdir");
    std::fs::write(
        root.join("big.bin"),
        random_bytes(megabytes * 1024 * 1024, 99),
    )
    .expect("write");
    std::fs::write(root.join("small.txt"), "small\n").expect("write");
}

/// Capture `src` into `wim` with the real CLI (independent of the crate).
pub fn imagex_capture(src: &Path, wim: &Path, name: &str) {
    imagex(&[
        "capture".as_ref(),
        src.as_os_str(),
        wim.as_os_str(),
        name.as_ref(),
    ]);
}

/// Append `src` as a new image to `wim` with the real CLI.
pub fn imagex_append(src: &Path, wim: &Path, name: &str) {
    imagex(&[
        "append".as_ref(),
        src.as_os_str(),
        wim.as_os_str(),
        name.as_ref(),
    ]);
}

/// Run `wimlib-imagex`, require success, return stdout.
pub fn imagex(args: &[&std::ffi::OsStr]) -> String {
    let out = Command::new("wimlib-imagex")
        .args(args)
        .output()
        .expect("run wimlib-imagex");
    assert!(
        out.status.success(),
        "wimlib-imagex {args:?} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Run `wimlib-imagex` and report only whether it succeeded.
pub fn imagex_ok(args: &[&std::ffi::OsStr]) -> bool {
    Command::new("wimlib-imagex")
        .args(args)
        .output()
        .expect("run wimlib-imagex")
        .status
        .success()
}

/// `wimlib-imagex info WIM [IMAGE]` as `key -> value` pairs (first occurrence wins).
pub fn imagex_info(wim: &Path, image: Option<u32>) -> std::collections::HashMap<String, String> {
    let image = image.map(|i| i.to_string());
    let mut args: Vec<&std::ffi::OsStr> = vec!["info".as_ref(), wim.as_os_str()];
    if let Some(i) = &image {
        args.push(i.as_ref());
    }
    let mut map = std::collections::HashMap::new();
    for line in imagex(&args).lines() {
        if let Some((k, v)) = line.split_once(':') {
            map.entry(k.trim().to_owned())
                .or_insert_with(|| v.trim().to_owned());
        }
    }
    map
}

/// `wimlib-imagex dir WIM IMAGE` as a sorted list of paths.
pub fn imagex_dir(wim: &Path, image: u32) -> Vec<String> {
    let image = image.to_string();
    let mut v: Vec<String> = imagex(&["dir".as_ref(), wim.as_os_str(), image.as_ref()])
        .lines()
        .map(str::to_owned)
        .collect();
    v.sort();
    v
}

pub fn imagex_verify_ok(wim: &Path) -> bool {
    imagex_ok(&["verify".as_ref(), wim.as_os_str()])
}

/// SHA-1 of a host file, computed by `sha1sum`.
pub fn sha1sum(path: &Path) -> [u8; 20] {
    let out = Command::new("sha1sum")
        .arg(path)
        .output()
        .expect("run sha1sum");
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).expect("utf8");
    let hex = text.split_whitespace().next().expect("hash");
    let mut bytes = [0u8; 20];
    for (i, b) in bytes.iter_mut().enumerate() {
        *b = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).expect("hex");
    }
    bytes
}

/// The name `wimlib-imagex info` prints for a compression type.
pub fn imagex_compression_name(c: Compression) -> &'static str {
    match c {
        Compression::None => "None",
        Compression::Xpress => "XPRESS",
        Compression::Lzx => "LZX",
        Compression::Lzms => "LZMS",
    }
}

/// A temp dir with a generated tree at `src/` and a WIM of it captured by the CLI at
/// `base.wim` (image name "Base").
pub struct Fixture {
    pub dir: tempfile::TempDir,
    pub src: PathBuf,
    pub wim: PathBuf,
}

pub fn fixture() -> Fixture {
    let dir = tempfile::tempdir().expect("tempdir");
    let src = dir.path().join("src");
    make_tree(&src);
    let wim = dir.path().join("base.wim");
    imagex_capture(&src, &wim, "Base");
    Fixture { dir, src, wim }
}

/// `wimlib-imagex extract WIM IMAGE PATH --to-stdout` (plus `--ref` globs for split
/// sets): the file's bytes as the independent tool reads them.
pub fn imagex_cat(wim: &Path, image: u32, path: &str, refs: &[&Path]) -> Vec<u8> {
    let mut cmd = Command::new("wimlib-imagex");
    cmd.arg("extract")
        .arg(wim)
        .arg(image.to_string())
        .arg(path)
        .arg("--to-stdout");
    for r in refs {
        let mut arg = std::ffi::OsString::from("--ref=");
        arg.push(r.as_os_str());
        cmd.arg(arg);
    }
    let out = cmd.output().expect("run wimlib-imagex extract");
    assert!(
        out.status.success(),
        "extract {path} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// Run `wimlib-imagex` with `args` given as strings or paths.
pub fn imagex_args<I, S>(args: I) -> String
where
    I: IntoIterator<Item = S>,
    S: AsRef<std::ffi::OsStr>,
{
    let owned: Vec<std::ffi::OsString> = args.into_iter().map(|a| a.as_ref().to_owned()).collect();
    let refs: Vec<&std::ffi::OsStr> = owned.iter().map(|a| a.as_os_str()).collect();
    imagex(&refs)
}

/// A tree for the stream reader: compressible text spanning many chunks, random
/// data, an empty file, a tiny file and a directory.
pub fn make_read_tree(root: &Path) {
    std::fs::create_dir_all(root.join("dir/sub")).expect("mkdir");
    let mut text = String::new();
    let mut i = 0u64;
    while text.len() < 5 * 1024 * 1024 {
        text.push_str(&format!(
            "line {i}: the quick brown fox {} jumps\n",
            i * 7919 % 1000
        ));
        i += 1;
    }
    std::fs::write(root.join("dir/many_chunks.txt"), text).expect("write");
    std::fs::write(
        root.join("random.bin"),
        random_bytes(3 * 1024 * 1024 + 17, 5),
    )
    .expect("write");
    std::fs::write(root.join("empty.bin"), b"").expect("write");
    std::fs::write(root.join("dir/sub/tiny.txt"), b"tiny\n").expect("write");
}

/// The regular files of `make_read_tree`.
pub const READ_FILES: &[&str] = &[
    "/dir/many_chunks.txt",
    "/random.bin",
    "/empty.bin",
    "/dir/sub/tiny.txt",
];

//! Shared helpers: a Windows-like source tree, ISO authoring with
//! independent tools, and 7-Zip as an independent reader.

#![allow(dead_code)]

pub mod udf_builder;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use sha2::{Digest, Sha256};

pub const UNICODE_NAME: &str = "Ünïcödé ファイル.txt";
pub const LONG_NAME: &str =
    "a file name that is well over sixty-four characters long, to need joliet-long.txt";

/// Deterministic bytes (xorshift), so failures reproduce.
pub fn pseudo_random(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

pub fn write(root: &Path, rel: &str, bytes: &[u8]) {
    let p = root.join(rel);
    std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
    std::fs::write(p, bytes).expect("write");
}

/// The tree of a Windows install medium, in miniature.
pub fn windows_tree(root: &Path) {
    write(root, "sources/install.wim", &pseudo_random(3 << 20, 7));
    write(root, "sources/boot.wim", &pseudo_random(100_000, 8));
    write(root, "boot/etfsboot.com", &pseudo_random(4096, 9));
    write(
        root,
        "efi/microsoft/boot/efisys.bin",
        &pseudo_random(1 << 20, 10),
    );
    write(
        root,
        "efi/microsoft/boot/efisys_noprompt.bin",
        &pseudo_random(1 << 20, 11),
    );
    write(
        root,
        "README.TXT",
        b"This disc contains a UDF file system.\n",
    );
    write(root, "setup.exe", &pseudo_random(5000, 12));
    write(root, "deep/a/b/c/d/leaf.txt", b"leaf\n");
    write(root, "deep/empty.txt", b"");
    write(root, &format!("names/{UNICODE_NAME}"), b"unicode\n");
    write(root, &format!("names/{LONG_NAME}"), b"long\n");
}

fn run(cmd: &mut Command) {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("{cmd:?}: {e} (install it with scripts/bootstrap)"));
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// UDF 1.02 + ISO 9660/Joliet, as Windows media are authored.
pub fn genisoimage_udf(tree: &Path, iso: &Path, label: &str) {
    run(Command::new("genisoimage")
        .args([
            "-quiet",
            "-udf",
            "-allow-limited-size",
            "-iso-level",
            "4",
            "-J",
            "-joliet-long",
            "-l",
            "-D",
            "-N",
            "-relaxed-filenames",
            "-V",
            label,
            "-o",
        ])
        .arg(iso)
        .arg(tree));
}

/// ISO 9660 + Joliet only.
pub fn xorriso_joliet(tree: &Path, iso: &Path, label: &str, extra: &[&str]) {
    run(Command::new("xorriso")
        .args([
            "-as",
            "mkisofs",
            "-quiet",
            "-J",
            "-joliet-long",
            "-V",
            label,
        ])
        .args(extra)
        .arg("-o")
        .arg(iso)
        .arg(tree));
}

/// 7-Zip's view of the image: (path, size, is_dir).
pub fn seven_zip_list(iso: &Path) -> BTreeSet<(String, u64, bool)> {
    let out = Command::new("7z")
        .arg("l")
        .arg("-slt")
        .arg(iso)
        .output()
        .expect("7z");
    assert!(out.status.success(), "7z l failed");
    let text = String::from_utf8_lossy(&out.stdout);
    let body = text.split("----------\n").nth(1).expect("7z listing body");
    let mut set = BTreeSet::new();
    for block in body.split("\n\n") {
        let field = |k: &str| {
            block
                .lines()
                .find_map(|l| l.strip_prefix(k))
                .map(str::to_string)
        };
        let Some(path) = field("Path = ") else {
            continue;
        };
        let is_dir = field("Folder = ").as_deref() == Some("+");
        let size = if is_dir {
            0
        } else {
            field("Size = ").and_then(|s| s.parse().ok()).unwrap_or(0)
        };
        set.insert((path, size, is_dir));
    }
    set
}

/// Extracts everything with 7-Zip into `dest`.
pub fn seven_zip_extract(iso: &Path, dest: &Path) {
    run(Command::new("7z")
        .arg("x")
        .arg("-y")
        .arg(format!("-o{}", dest.display()))
        .arg(iso));
}

pub fn sha256(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

pub fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

pub fn tmp() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("wait-media-iso")
        .tempdir()
        .expect("tempdir")
}

pub fn path_in(dir: &tempfile::TempDir, name: &str) -> PathBuf {
    dir.path().join(name)
}

//! Generated fixtures and independent-tool oracles shared by the authoring and WinRE
//! tests. Nothing is downloaded: media trees, WIMs and WinRE images are made here.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

use sha2::{Digest, Sha256};

/// Deterministic pseudo-random bytes (xorshift64*), incompressible enough that a WIM of
/// them keeps roughly their size.
pub fn noise(len: usize, seed: u64) -> Vec<u8> {
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

pub fn write(path: &Path, bytes: &[u8]) {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).expect("create parent directory");
    }
    std::fs::write(path, bytes).expect("write fixture file");
}

/// A tree laid out like Windows install media, with old install images that authoring
/// must leave out.
pub fn fake_media(root: &Path) {
    // BIOS boot sector-like data: 4 sectors of 512 bytes, each ending in 55 AA.
    let mut etfs = noise(4096, 1);
    for sector in etfs.chunks_mut(512) {
        sector[510] = 0x55;
        sector[511] = 0xAA;
    }
    write(&root.join("boot/etfsboot.com"), &etfs);
    // A 1.44 MB floppy-sized FAT-like image: zeros with a jump and a boot signature.
    let mut efisys = vec![0u8; 1_474_560];
    efisys[..3].copy_from_slice(&[0xEB, 0x3C, 0x90]);
    efisys[3..11].copy_from_slice(b"MSDOS5.0");
    efisys[510] = 0x55;
    efisys[511] = 0xAA;
    write(&root.join("efi/microsoft/boot/efisys.bin"), &efisys);
    efisys[3..11].copy_from_slice(b"NOPROMPT");
    write(
        &root.join("efi/microsoft/boot/efisys_noprompt.bin"),
        &efisys,
    );
    write(&root.join("sources/install.wim"), b"OLD INSTALL WIM");
    write(&root.join("sources/install.esd"), b"OLD INSTALL ESD");
    write(&root.join("sources/install2.swm"), b"OLD SWM PART");
    write(&root.join("sources/boot.wim"), &noise(10_000, 2));
    write(&root.join("setup.exe"), b"MZ fake setup");
    write(&root.join("bootmgr"), &noise(2000, 3));
}

/// Capture a small WIM of `files` random files of `size` bytes each.
pub fn small_wim(work: &Path, name: &str, files: usize, size: usize) -> PathBuf {
    let tree = work.join(format!("{name}.tree"));
    for i in 0..files {
        write(
            &tree.join(format!("Windows/System32/file{i}.dll")),
            &noise(size, 100 + i as u64),
        );
    }
    write(&tree.join("Windows/win.ini"), b"[fonts]\r\n");
    let wim = work.join(format!("{name}.wim"));
    wait_wim::capture(&tree, &wim, "Test image", wait_wim::Compression::Lzx)
        .expect("capture test WIM");
    wim
}

pub fn sha256_file(path: &Path) -> String {
    let mut file = std::fs::File::open(path).expect("open for hashing");
    let mut hasher = Sha256::new();
    std::io::copy(&mut file, &mut hasher).expect("hash file");
    hex::encode(hasher.finalize())
}

/// Fail with the Debian package to install when an oracle tool is missing.
pub fn require_tool(program: &str, package: &str) {
    let found = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).any(|d| d.join(program).is_file()))
        .unwrap_or(false);
    assert!(
        found,
        "{program} is needed by this test: apt-get install {package}"
    );
}

/// Run a tool and return stdout; panics with its stderr on failure.
pub fn run(program: &str, args: &[&str]) -> String {
    let out = Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {program}: {e}"));
    assert!(
        out.status.success(),
        "{program} {args:?} failed: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Paths inside an ISO as 7-Zip lists them ('/'-separated), and the archive type 7-Zip
/// chose ("Udf" when a UDF file system is present, "Iso" otherwise).
pub fn list_7z(iso: &Path) -> (String, Vec<String>) {
    let text = run("7z", &["l", "-slt", &iso.to_string_lossy()]);
    let mut kind = String::new();
    let mut paths = Vec::new();
    let mut in_entries = false;
    for line in text.lines() {
        if line.starts_with("----------") {
            in_entries = true;
            continue;
        }
        if let Some(v) = line.strip_prefix("Type = ") {
            if kind.is_empty() {
                kind = v.trim().to_owned();
            }
        }
        if in_entries {
            if let Some(p) = line.strip_prefix("Path = ") {
                paths.push(p.replace('\\', "/"));
            }
        }
    }
    (kind, paths)
}

/// Extract `inner` (a path inside the ISO) into `dest` with 7-Zip; returns the file.
pub fn extract_7z(iso: &Path, inner: &str, dest: &Path) -> PathBuf {
    std::fs::create_dir_all(dest).expect("mkdir");
    run(
        "7z",
        &[
            "x",
            "-y",
            &format!("-o{}", dest.display()),
            &iso.to_string_lossy(),
            inner,
        ],
    );
    dest.join(inner)
}

/// One El Torito boot entry as `xorriso -report_el_torito plain` prints it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BootEntry {
    pub platform: String,
    pub emulation: String,
    /// Load size in 512-byte sectors.
    pub load_size: u32,
    pub path: String,
}

pub fn el_torito(iso: &Path) -> Vec<BootEntry> {
    let text = run(
        "xorriso",
        &[
            "-indev",
            &iso.to_string_lossy(),
            "-report_el_torito",
            "plain",
        ],
    );
    let mut entries: Vec<BootEntry> = Vec::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("El Torito boot img :") {
            // N Pltf B Emul Ld_seg Hdpt Ldsiz LBA
            let f: Vec<&str> = rest.split_whitespace().collect();
            assert!(f.len() >= 8, "unexpected xorriso line {line:?}");
            entries.push(BootEntry {
                platform: f[1].to_owned(),
                emulation: f[3].to_owned(),
                load_size: f[6].parse().expect("load size"),
                path: String::new(),
            });
        } else if let Some(rest) = line.strip_prefix("El Torito img path :") {
            let mut parts = rest.split_whitespace();
            let n: usize = parts
                .next()
                .and_then(|n| n.parse().ok())
                .expect("entry number");
            let path = parts.collect::<Vec<_>>().join(" ");
            if let Some(e) = entries.get_mut(n - 1) {
                e.path = path;
            }
        }
    }
    entries
}

/// The "Volume id:" of `isoinfo -d`, and the whole report.
pub fn isoinfo_volume(iso: &Path) -> (String, String) {
    let text = run("isoinfo", &["-d", "-i", &iso.to_string_lossy()]);
    let label = text
        .lines()
        .find_map(|l| l.strip_prefix("Volume id: "))
        .unwrap_or_default()
        .trim()
        .to_owned();
    (label, text)
}

/// Names of the entries in `dir` (for "nothing left behind" checks).
pub fn dir_names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .expect("read dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

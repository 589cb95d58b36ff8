//! The benchmark's repository: the demo layout, board drivers and answer file, a base
//! WIM captured from a large Windows-shaped tree with the real IoT LTSC identity, and
//! the extra components (big driver payload files and one large installer).

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;
use rand::{Rng, RngCore, SeedableRng};
use wait_catalog::Repository;
use wait_catalog::fixtures::{
    BASE_IDENTITY, BASE_WIM_FILE, DEMO_BOARD, DEMO_SOFTWARE_DIR, DRIVER_SET, TreeSpec,
    capture_with_identity, demo_repository, version_exe, write_windows_tree,
};

/// Same seed, same bytes: two runs measure the same data.
const SEED: u64 = 2025;
/// The customer whose software folder holds the installer.
pub const CUSTOMER: &str = "DEMO";
/// The large installer added as software.
pub const SOFTWARE_FILE: &str = "BenchSetup.exe";
const MIB: u64 = 1024 * 1024;

/// What was generated, with the host paths the hand-written script needs.
#[derive(Debug, Clone)]
pub struct BenchRepo {
    /// File name inside `1_BaseImages/`.
    pub base_image: String,
    pub base_path: PathBuf,
    pub base_size: u64,
    pub board: String,
    /// Repository-relative, as a job names it.
    pub answer_file: String,
    pub answer_path: PathBuf,
    /// The board's driver set folder, staged whole at `/WAIT/Drivers`.
    pub driver_dir: PathBuf,
    pub software_path: PathBuf,
}

/// Generate the repository at `root`; the source tree lives in `work` only until it
/// is captured.
pub fn generate(
    root: &Path,
    work: &Path,
    size_mib: u64,
    extra_mib: u64,
) -> anyhow::Result<BenchRepo> {
    let repo = Repository::init(root)?;
    let root = repo.root().to_path_buf();
    let base_path = root.join("1_BaseImages").join(BASE_WIM_FILE);

    std::fs::create_dir_all(work).with_context(|| format!("cannot create {}", work.display()))?;
    let staging = tempfile::Builder::new()
        .prefix("tree-")
        .tempdir_in(work)
        .with_context(|| format!("cannot create a folder in {}", work.display()))?;
    let tree = staging.path().join("tree");
    // The small Windows tree gives the image its shape (System32, WinSxS, a WinRE);
    // the bulk files give it its size.
    write_windows_tree(&tree, &TreeSpec::small(SEED))?;
    write_bulk(&tree, size_mib * MIB)?;
    eprintln!("capturing the base image (LZX) …");
    capture_with_identity(&tree, &base_path, BASE_IDENTITY)?;
    drop(staging);

    // Existing files are kept, so the base captured above stays.
    let demo = demo_repository(&root, &TreeSpec::small(SEED))?;
    let driver_dir = root.join("2_Drivers").join(&demo.board).join(DRIVER_SET);
    let extra = extra_mib * MIB;
    let software_bytes = extra / 4;
    write_driver_payload(&driver_dir, extra - software_bytes)?;
    let software_path = root.join(DEMO_SOFTWARE_DIR).join(SOFTWARE_FILE);
    write_installer(&software_path, software_bytes)?;

    let base_size = std::fs::metadata(&base_path)
        .with_context(|| format!("cannot read {}", base_path.display()))?
        .len();
    Ok(BenchRepo {
        base_image: BASE_WIM_FILE.to_string(),
        base_path,
        base_size,
        board: DEMO_BOARD.to_string(),
        answer_path: root.join(&demo.answer_file),
        answer_file: demo.answer_file,
        driver_dir,
        software_path,
    })
}

/// Folders and names a Windows install spreads its bulk over.
fn bulk_path(n: u64) -> String {
    let k = n % 24;
    match n % 6 {
        0 => format!("Windows/System32/mod{n}.dll"),
        1 => format!("Windows/System32/DriverStore/FileRepository/pkg{k}.inf_amd64/drv{n}.sys"),
        2 => format!("Windows/WinSxS/amd64_microsoft-windows-part{k}_31bf3856ad364e35/f{n}.dll"),
        3 => format!("Windows/SysWOW64/lib{n}.dll"),
        4 => format!("Program Files/App{k}/bin{n}.exe"),
        _ => format!("Windows/System32/en-US/res{n}.dll.mui"),
    }
}

/// Files of 1–8 MiB adding up to `total` bytes, every other one random (compressed
/// resources) and the rest text-like (code and strings that compress well).
fn write_bulk(root: &Path, total: u64) -> anyhow::Result<()> {
    let mut rng = rand::rngs::StdRng::seed_from_u64(SEED);
    let mut written = 0u64;
    let mut n = 0u64;
    while written < total {
        let size = (rng.gen_range(1..=8u64) * MIB).min(total - written);
        write_blob(&root.join(bulk_path(n)), size, n % 2 == 0, &mut rng)?;
        written += size;
        n += 1;
    }
    Ok(())
}

/// Large `.sys` files beside the INFs of the driver set, like a graphics or Wi-Fi
/// package whose firmware blobs dwarf the INF.
fn write_driver_payload(set_dir: &Path, total: u64) -> anyhow::Result<()> {
    let mut folders = Vec::new();
    collect_inf_folders(set_dir, &mut folders)?;
    folders.sort();
    if folders.is_empty() {
        anyhow::bail!("{}: the driver set has no INF folder", set_dir.display());
    }
    let mut rng = rand::rngs::StdRng::seed_from_u64(SEED ^ 0xD1);
    let mut written = 0u64;
    let mut n = 0usize;
    while written < total {
        let size = (rng.gen_range(1..=8u64) * MIB).min(total - written);
        let dir = &folders[n % folders.len()];
        write_blob(
            &dir.join(format!("payload{n}.sys")),
            size,
            n % 2 == 0,
            &mut rng,
        )?;
        written += size;
        n += 1;
    }
    Ok(())
}

fn collect_inf_folders(dir: &Path, out: &mut Vec<PathBuf>) -> anyhow::Result<()> {
    let mut has_inf = false;
    for entry in std::fs::read_dir(dir).with_context(|| format!("cannot list {}", dir.display()))? {
        let entry = entry.with_context(|| format!("cannot list {}", dir.display()))?;
        let path = entry.path();
        if entry.file_type()?.is_dir() {
            collect_inf_folders(&path, out)?;
        } else if path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("inf"))
        {
            has_inf = true;
        }
    }
    if has_inf {
        out.push(dir.to_path_buf());
    }
    Ok(())
}

/// A real PE with a version resource followed by `size` bytes of compressed-looking
/// payload, the way self-extracting installers are built.
fn write_installer(path: &Path, size: u64) -> anyhow::Result<()> {
    let head = version_exe("WAIT Bench Setup", "Contoso Ltd.", [1, 0, 0, 0]);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("cannot create {}", parent.display()))?;
    }
    let file =
        std::fs::File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
    let mut out = std::io::BufWriter::new(file);
    out.write_all(&head)?;
    let mut rng = rand::rngs::StdRng::seed_from_u64(SEED ^ 0x5E);
    write_random(&mut out, size, &mut rng)?;
    out.flush()
        .with_context(|| format!("cannot write {}", path.display()))
}

fn write_blob(path: &Path, size: u64, random: bool, rng: &mut impl RngCore) -> anyhow::Result<()> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("cannot create {}", parent.display()))?;
    }
    let file =
        std::fs::File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
    let mut out = std::io::BufWriter::new(file);
    if random {
        write_random(&mut out, size, rng)?;
    } else {
        const TEXT: &[u8] = b"MZ\x90 system32 driver store component ";
        let offset = rng.gen_range(0..TEXT.len());
        let block: Vec<u8> = (0..MIB as usize)
            .map(|i| TEXT[(i + offset) % TEXT.len()])
            .collect();
        let mut left = size;
        while left > 0 {
            let n = left.min(MIB) as usize;
            out.write_all(&block[..n])?;
            left -= n as u64;
        }
    }
    out.flush()
        .with_context(|| format!("cannot write {}", path.display()))
}

fn write_random(out: &mut impl Write, size: u64, rng: &mut impl RngCore) -> anyhow::Result<()> {
    let mut block = vec![0u8; MIB as usize];
    let mut left = size;
    while left > 0 {
        let n = left.min(MIB) as usize;
        rng.fill_bytes(&mut block[..n]);
        out.write_all(&block[..n])?;
        left -= n as u64;
    }
    Ok(())
}

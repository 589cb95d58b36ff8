//! `waitctl bench repo`: how long a repository scan takes with an empty hash cache
//! (every file hashed) and with a warm one (nothing hashed), and how fast our sha256 is
//! next to `openssl dgst -sha256` on the same file. A benchmark, not a test: it prints
//! numbers and never fails on them.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::{Duration, Instant, SystemTime};

use anyhow::{Context, bail};
use rand::{Rng, RngCore, SeedableRng};
use sha2::{Digest, Sha256};
use wait_catalog::fixtures::{BASE_WIM_FILE, TreeSpec, write_base_wim};
use wait_catalog::{HashCache, Repository};

#[derive(Debug, Clone, clap::Args)]
pub struct BenchRepoArgs {
    /// Files in the generated repository.
    #[arg(long, default_value_t = 10_000)]
    pub files: usize,
    /// Size of the file hashed for the throughput comparison, in MiB.
    #[arg(long, default_value_t = 1024)]
    pub hash_mib: u64,
    /// Where the scratch files go (default: the system temp folder).
    #[arg(long)]
    pub dir: Option<PathBuf>,
}

const INF: &str = "[Version]\r\nSignature=\"$WINDOWS NT$\"\r\nClass=Net\r\n\
ClassGuid={4d36e972-e325-11ce-bfc1-08002be10318}\r\nProvider=%Mfg%\r\n\
DriverVer=05/14/2024,1.2.3.4\r\nCatalogFile=drv.cat\r\n\r\n[Manufacturer]\r\n\
%Mfg%=Models,NTamd64.10.0...22000\r\n\r\n[Models.NTamd64.10.0...22000]\r\n\
%Dev%=Install,PCI\\VEN_8086&DEV_15F3\r\n\r\n[Install]\r\nCopyFiles=Files\r\n\r\n\
[Files]\r\ndrv.sys\r\n\r\n[Strings]\r\nMfg=\"Contoso\"\r\nDev=\"Contoso NIC\"\r\n";

/// Where file number `i` goes and what kind of content it gets.
fn layout(i: usize) -> (String, bool) {
    let board = format!("BOARD{:03}", i % 40);
    match i % 20 {
        0..=9 => {
            let set = ["WINDOWS11_X64", "WINDOWS10_X64"][i % 2];
            let category = ["chipset", "network", "storage", "audio"][(i / 2) % 4];
            let n = i / 20;
            // One INF per folder, its catalog beside it, the rest payload.
            match i % 5 {
                0 => (
                    format!("2_Drivers/{board}/{set}/{category}/d{n}/drv.inf"),
                    true,
                ),
                1 => (
                    format!("2_Drivers/{board}/{set}/{category}/d{n}/drv.cat"),
                    false,
                ),
                _ => (
                    format!("2_Drivers/{board}/{set}/{category}/d{n}/f{i}.sys"),
                    false,
                ),
            }
        }
        10 | 11 => (format!("3_LangPacks/WIN11_IOT_24H2_X64/lp{i}.cab"), false),
        12 | 13 => (
            format!("4_Updates/CUST{}/WIN11_24H2/kb{i}.msu", i % 7),
            false,
        ),
        14 => (format!("5_AnswerFiles/{board}/WIN11_24H2/a{i}.xml"), false),
        15 | 16 => (
            format!("6_Software/CUST{}/app{}/f{i}.msi", i % 7, i % 11),
            false,
        ),
        17 => (format!("7_Tools/t{i}.exe"), false),
        18 => (
            format!(
                "8_Output/CUST{}/20250101_{:06}_{board}/part{i}.bin",
                i % 7,
                i % 97
            ),
            false,
        ),
        _ => (format!("1_BaseImages/extra/junk{i}.txt"), false),
    }
}

fn generate(root: &Path, files: usize) -> anyhow::Result<u64> {
    Repository::init(root)?;
    write_base_wim(
        &root.join("1_BaseImages").join(BASE_WIM_FILE),
        &TreeSpec::small(7),
    )?;
    let mut rng = rand::rngs::StdRng::seed_from_u64(42);
    let mut total = 0u64;
    let mut buf = vec![0u8; 64 * 1024];
    for i in 1..files {
        let (rel, inf) = layout(i);
        let path = root.join(&rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        if inf {
            std::fs::write(&path, INF)?;
            total += INF.len() as u64;
        } else {
            // Mostly small files, a few larger ones, like a real repository by count.
            let size = if rng.gen_ratio(1, 50) {
                buf.len()
            } else {
                rng.gen_range(512..8192)
            };
            rng.fill_bytes(&mut buf[..size]);
            std::fs::write(&path, &buf[..size])?;
            total += size as u64;
        }
    }
    Ok(total)
}

/// Back-date every file: the cache does not trust files younger than its racy window,
/// and a real repository's files are not seconds old.
fn age(dir: &Path, when: SystemTime) -> anyhow::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let ty = entry.file_type()?;
        if ty.is_dir() {
            age(&entry.path(), when)?;
        } else if ty.is_file() {
            std::fs::File::options()
                .write(true)
                .open(entry.path())?
                .set_modified(when)?;
        }
    }
    Ok(())
}

fn secs(d: Duration) -> String {
    format!("{:.3} s", d.as_secs_f64())
}

pub fn run(args: &BenchRepoArgs) -> anyhow::Result<ExitCode> {
    if args.files < 100 {
        bail!("--files must be at least 100");
    }
    let scratch = match &args.dir {
        Some(d) => {
            std::fs::create_dir_all(d)?;
            tempfile::tempdir_in(d)?
        }
        None => tempfile::tempdir()?,
    };
    let root = scratch.path().join("repo");
    eprintln!("generating {} files in {} …", args.files, root.display());
    let bytes = generate(&root, args.files)?;
    age(&root, SystemTime::now() - Duration::from_secs(3600))?;
    let repo = Repository::open(&root)?;
    let cache_file = scratch.path().join("cache/hashes.json");

    let t = Instant::now();
    let plain = repo.scan(None)?;
    let no_hash = t.elapsed();

    let t = Instant::now();
    let mut cache = HashCache::open(&cache_file)?;
    let cold = repo.scan(Some(&mut cache))?;
    cache.save()?;
    let cold_time = t.elapsed();

    let t = Instant::now();
    let mut cache = HashCache::open(&cache_file)?;
    let warm = repo.scan(Some(&mut cache))?;
    cache.save()?;
    let warm_time = t.elapsed();

    let stats = |r: &wait_catalog::ScanReport| r.totals.cache.unwrap_or_default();
    println!(
        "repository scan: {} files, {:.1} MiB ({} generated)",
        plain.totals.files,
        plain.totals.bytes as f64 / 1048576.0,
        bytes
    );
    println!("  no hashing          {}", secs(no_hash));
    println!(
        "  cold (empty cache)  {}   hashed {}, misses {}",
        secs(cold_time),
        cold.totals.hashed,
        stats(&cold).misses
    );
    println!(
        "  warm (cache)        {}   hits {}, misses {}",
        secs(warm_time),
        stats(&warm).hits,
        stats(&warm).misses
    );
    println!(
        "  unknown files {}, problems {}",
        warm.totals.unknown, warm.totals.problems
    );

    sha256_throughput(scratch.path(), args.hash_mib)?;
    Ok(ExitCode::SUCCESS)
}

fn write_big(path: &Path, mib: u64) -> anyhow::Result<()> {
    let mut rng = rand::rngs::StdRng::seed_from_u64(9);
    let mut block = vec![0u8; 1 << 20];
    let mut out = std::io::BufWriter::new(std::fs::File::create(path)?);
    for _ in 0..mib {
        rng.fill_bytes(&mut block);
        out.write_all(&block)?;
    }
    out.flush()?;
    Ok(())
}

/// Best of `runs` timings (the first run also warms the page cache).
fn best(runs: usize, mut f: impl FnMut() -> anyhow::Result<()>) -> anyhow::Result<Duration> {
    let mut best = Duration::MAX;
    for _ in 0..runs {
        let t = Instant::now();
        f()?;
        best = best.min(t.elapsed());
    }
    Ok(best)
}

/// sha256 with a given read size, to choose the library's buffer.
fn hash_with_buffer(path: &Path, size: usize) -> anyhow::Result<String> {
    use std::io::Read;
    let mut file = std::fs::File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; size];
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hex::encode(hasher.finalize()))
}

fn sha256_throughput(dir: &Path, mib: u64) -> anyhow::Result<()> {
    let file = dir.join("big.bin");
    eprintln!("writing a {mib} MiB file …");
    write_big(&file, mib)?;
    let mut ours_hex = String::new();
    let ours = best(3, || {
        ours_hex = wait_catalog::hash_file(&file)?.sha256;
        Ok(())
    })?;
    let mut openssl_hex = String::new();
    let openssl = best(3, || {
        let out = Command::new("openssl")
            .args(["dgst", "-sha256", "-r"])
            .arg(&file)
            .output()
            .context("openssl")?;
        if !out.status.success() {
            bail!("openssl failed: {}", String::from_utf8_lossy(&out.stderr));
        }
        openssl_hex = String::from_utf8_lossy(&out.stdout)
            .split_whitespace()
            .next()
            .unwrap_or_default()
            .to_string();
        Ok(())
    })?;
    let sha256sum = best(2, || {
        let status = Command::new("sha256sum")
            .arg(&file)
            .stdout(std::process::Stdio::null())
            .status()
            .context("sha256sum")?;
        if !status.success() {
            bail!("sha256sum failed");
        }
        Ok(())
    })
    .ok();
    let rate = |d: Duration| mib as f64 / d.as_secs_f64();
    println!("sha256 throughput on {mib} MiB (page cache warm, best of 3):");
    println!("  wait_catalog::hash_file  {:>8.0} MiB/s", rate(ours));
    println!("  openssl dgst -sha256     {:>8.0} MiB/s", rate(openssl));
    if let Some(d) = sha256sum {
        println!("  sha256sum                {:>8.0} MiB/s", rate(d));
    }
    println!(
        "  ratio ours/openssl       {:>8.2}   (goal ≥ 0.80)   digests agree: {}",
        rate(ours) / rate(openssl),
        ours_hex == openssl_hex
    );
    println!("  SHA extensions on this CPU: {}", sha_extensions());
    print!("  read size sweep:");
    for size in [64 << 10, 256 << 10, 1 << 20, 4 << 20] {
        let d = best(2, || hash_with_buffer(&file, size).map(|_| ()))?;
        print!("  {} KiB {:.0} MiB/s", size >> 10, rate(d));
    }
    println!();
    Ok(())
}

#[cfg(target_arch = "x86_64")]
fn sha_extensions() -> &'static str {
    if std::arch::is_x86_feature_detected!("sha") {
        "yes (sha2 uses them, detected at run time)"
    } else {
        "no (sha2 falls back to portable code)"
    }
}

#[cfg(not(target_arch = "x86_64"))]
fn sha_extensions() -> &'static str {
    "not checked on this architecture"
}

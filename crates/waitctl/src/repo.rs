//! `waitctl repo …`: what the resource repository holds, read straight from the folder
//! tree (no database needed), and whether a board and a base image go together.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, bail};
use wait_catalog::scan::{KINDS, ScannedFile};
use wait_catalog::{HashCache, Repository, ScanReport};

use crate::cli::Common;

#[derive(Debug, clap::Subcommand)]
pub enum RepoCommand {
    /// Classify every file of the repository; list unknown files and problems.
    Scan {
        #[command(flatten)]
        common: Common,
        #[arg(long)]
        json: bool,
        /// Skip content hashes (otherwise cached in DATA_DIR/cache/hashes.json).
        #[arg(long)]
        no_hash: bool,
    },
    /// List one kind of resource, or all of them.
    Ls {
        #[command(flatten)]
        common: Common,
        #[arg(value_parser = KINDS)]
        kind: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Which driver sets, language packs, updates and answer files fit a board on an
    /// image; exit 1 when no driver set fits.
    Check {
        #[command(flatten)]
        common: Common,
        /// File name in 1_BaseImages/.
        #[arg(long)]
        base: String,
        /// Image index or edition.
        #[arg(long, default_value = "1")]
        index: String,
        #[arg(long)]
        board: String,
        #[arg(long)]
        json: bool,
    },
}

pub fn dispatch(command: RepoCommand) -> anyhow::Result<ExitCode> {
    match command {
        RepoCommand::Scan {
            common,
            json,
            no_hash,
        } => scan_cmd(&common, json, no_hash),
        RepoCommand::Ls { common, kind, json } => ls(&common, kind.as_deref(), json),
        RepoCommand::Check {
            common,
            base,
            index,
            board,
            json,
        } => check(&common, &base, &index, &board, json),
    }
}

/// The repository the flags name; it must exist (`waitctl init` creates it).
pub fn open_repository(common: &Common) -> anyhow::Result<Repository> {
    let root = common
        .repository
        .clone()
        .unwrap_or_else(|| common.data_dir.join("WAIT_Repository"));
    // The catalog error already ends with its cause; printing the chain would repeat it.
    Repository::open(&root).map_err(|e| anyhow::anyhow!("{e}"))
}

/// Where the content-hash cache lives.
pub fn cache_file(data_dir: &Path) -> PathBuf {
    data_dir.join("cache").join("hashes.json")
}

/// Scan with the cache (unless `no_hash`), saving it afterwards.
fn scan(common: &Common, no_hash: bool) -> anyhow::Result<ScanReport> {
    let repo = open_repository(common)?;
    if no_hash {
        return Ok(repo.scan(None)?);
    }
    let file = cache_file(&common.data_dir);
    let mut cache = HashCache::open(&file)?;
    let report = repo.scan(Some(&mut cache))?;
    cache.prune_missing();
    // A cache that cannot be saved costs time next run, not correctness.
    if let Err(e) = cache.save() {
        tracing::warn!(error = %e, "hash cache not saved");
    }
    Ok(report)
}

fn mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / (1024.0 * 1024.0))
}

fn short_hash(file: &ScannedFile) -> String {
    file.sha256
        .as_deref()
        .map_or_else(|| "-".to_string(), |h| h[..12.min(h.len())].to_string())
}

/// `waitctl repo scan [--json] [--no-hash]`
pub fn scan_cmd(common: &Common, json: bool, no_hash: bool) -> anyhow::Result<ExitCode> {
    let report = scan(common, no_hash)?;
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
        return Ok(ExitCode::SUCCESS);
    }
    println!("Repository: {}", report.root);
    println!(
        "{} files, {} ({} hashed)",
        report.totals.files,
        mib(report.totals.bytes),
        report.totals.hashed
    );
    if let Some(c) = report.totals.cache {
        println!(
            "Hash cache: {} hits, {} misses, {} entries",
            c.hits, c.misses, c.entries
        );
    }
    println!();
    let rows = [
        ("base images", report.base_images.len()),
        ("driver sets", report.driver_sets.len()),
        ("language packs", report.langpacks.len()),
        ("updates", report.updates.len()),
        ("answer files", report.answer_files.len()),
        ("software", report.software.len()),
        ("tools", report.tools.len()),
        ("outputs", report.outputs.len()),
        ("unknown files", report.unknown.len()),
    ];
    for (label, n) in rows {
        println!("  {label:<15} {n}");
    }
    if !report.unknown.is_empty() {
        println!("\nUnknown files (not where the layout expects them):");
        for u in &report.unknown {
            println!("  {} ({} bytes)", u.path, u.size);
        }
    }
    let mut problems: Vec<String> = report.problems.clone();
    for b in &report.base_images {
        problems.extend(
            b.file
                .problems
                .iter()
                .map(|p| format!("{}: {p}", b.file.path)),
        );
    }
    for d in &report.driver_sets {
        problems.extend(d.problems.iter().map(|p| format!("{}: {p}", d.path)));
    }
    for o in &report.outputs {
        problems.extend(o.problems.iter().map(|p| format!("{}: {p}", o.path)));
    }
    if !problems.is_empty() {
        println!("\nProblems:");
        for p in problems {
            println!("  {p}");
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `waitctl repo ls [KIND] [--json]`
pub fn ls(common: &Common, kind: Option<&str>, json: bool) -> anyhow::Result<ExitCode> {
    if let Some(k) = kind {
        if !KINDS.contains(&k) {
            bail!("unknown kind {k:?} (expected one of {})", KINDS.join(", "));
        }
    }
    // Listing should be quick: hashes come only from `repo scan`.
    let report = scan(common, true)?;
    let wanted = |k: &str| kind.is_none_or(|w| w == k);
    if json {
        let value = serde_json::to_value(&report)?;
        let mut out = serde_json::Map::new();
        for k in KINDS.iter().filter(|k| wanted(k)) {
            let field = k.replace('-', "_");
            let field = match field.as_str() {
                "drivers" => "driver_sets".to_string(),
                other => other.to_string(),
            };
            out.insert((*k).to_string(), value[&field].clone());
        }
        println!("{}", serde_json::to_string_pretty(&out)?);
        return Ok(ExitCode::SUCCESS);
    }
    let section = |k: &str| {
        if kind.is_none() {
            println!("\n[{k}]");
        }
    };
    if wanted("base-images") {
        section("base-images");
        for b in &report.base_images {
            println!("{}  {}  {}", b.file.path, b.format, mib(b.file.size));
            if let Some(iso) = &b.iso {
                println!(
                    "    ISO {:?} ({}), install image {} ({})",
                    iso.label,
                    iso.filesystem,
                    iso.install_image.join(", "),
                    mib(iso.install_size)
                );
            }
            for i in &b.images {
                println!(
                    "    #{} {}  {}  build {}  {}  {}",
                    i.identity.index,
                    i.identity.name,
                    i.identity.edition.as_deref().unwrap_or("?"),
                    i.identity.build.map_or("?".into(), |b| b.to_string()),
                    i.identity.arch.map_or("?", |a| a.as_str()),
                    i.tokens.join(" ")
                );
            }
            for p in &b.file.problems {
                println!("    problem: {p}");
            }
        }
    }
    if wanted("drivers") {
        section("drivers");
        for d in &report.driver_sets {
            println!(
                "{}  {} INF ({} apply to the folder's Windows), {} files, {}{}",
                d.path,
                d.inf_count,
                d.applicable_infs,
                d.file_count,
                mib(d.total_size),
                if d.problems.is_empty() {
                    String::new()
                } else {
                    format!(", {} problem(s)", d.problems.len())
                }
            );
        }
    }
    let packages = |list: &[wait_catalog::scan::ScannedPackage]| {
        for p in list {
            let note = match (&p.package.info, &p.package.error) {
                (_, Some(e)) => format!("  ({e})"),
                _ => String::new(),
            };
            println!(
                "{}  {} bytes  {}{note}",
                p.file.path,
                p.file.size,
                short_hash(&p.file)
            );
        }
    };
    if wanted("langpacks") {
        section("langpacks");
        packages(&report.langpacks);
    }
    if wanted("updates") {
        section("updates");
        packages(&report.updates);
    }
    if wanted("software") {
        section("software");
        for s in &report.software {
            println!(
                "{}  customer {}  {} bytes",
                s.file.path, s.customer, s.file.size
            );
        }
    }
    if wanted("answer-files") {
        section("answer-files");
        for a in &report.answer_files {
            println!(
                "{}  board {}  {}",
                a.file.path,
                a.board.as_deref().unwrap_or("?"),
                a.token.as_deref().unwrap_or("(no version folder)")
            );
        }
    }
    if wanted("tools") {
        section("tools");
        for t in &report.tools {
            println!("{}  {} bytes", t.path, t.size);
        }
    }
    if wanted("outputs") {
        section("outputs");
        for o in &report.outputs {
            println!(
                "{}  job {}  {} files  {}{}",
                o.path,
                o.job_id.as_deref().unwrap_or("?"),
                o.files,
                mib(o.size),
                if o.problems.is_empty() {
                    String::new()
                } else {
                    format!("  problems: {}", o.problems.join("; "))
                }
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `waitctl repo check --base FILE [--index N] --board BOARD [--json]`; exit 1 when no
/// driver set fits.
pub fn check(
    common: &Common,
    base: &str,
    index: &str,
    board: &str,
    json: bool,
) -> anyhow::Result<ExitCode> {
    let repo = open_repository(common)?;
    let report = repo
        .compatibility(base, index, board)
        .with_context(|| format!("cannot check {base} (index {index}) against {board}"))?;
    let code = if report.fits {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    };
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
        return Ok(code);
    }
    let img = &report.image;
    println!(
        "{} #{}: {} ({}, build {}, {})",
        report.base_image,
        img.index,
        img.name,
        img.edition.as_deref().unwrap_or("?"),
        img.build.map_or("?".into(), |b| b.to_string()),
        img.arch.map_or("?", |a| a.as_str())
    );
    println!("Tokens: {}", report.tokens.join(" "));
    println!("\nDriver sets for {}:", report.board);
    for d in &report.driver_sets {
        println!(
            "  [{}] {}  {}/{} INF apply — {}",
            if d.fits { "fits" } else { " no " },
            d.name,
            d.applicable_infs,
            d.inf_count,
            d.reason
        );
    }
    match &report.recommended {
        Some(r) => println!("Recommended: {} — {}", r.driver_set.name, r.reason),
        None => println!("Recommended: none (no driver set fits this image)"),
    }
    let items = |title: &str, list: &[wait_catalog::compat::ItemFit]| {
        println!("\n{title}:");
        if list.is_empty() {
            println!("  (none)");
        }
        for i in list {
            println!(
                "  [{}] {} — {}",
                if i.fits { "fits" } else { " no " },
                i.path,
                i.reason
            );
            for p in &i.problems {
                println!("        problem: {p}");
            }
        }
    };
    items("Language packs", &report.langpacks);
    items("Updates", &report.updates);
    items("Answer files", &report.answer_files);
    if !report.problems.is_empty() {
        println!("\nProblems:");
        for p in &report.problems {
            println!("  {p}");
        }
    }
    Ok(code)
}

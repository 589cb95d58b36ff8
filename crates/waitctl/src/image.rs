//! `waitctl image …`: look inside WIM/ESD files the way an engineer debugging a build
//! would, without a repository or a database.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, bail};
use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;
use wait_wim::{Compression, ProgressControl, Wim};

#[derive(Debug, Serialize)]
struct Header {
    file: String,
    guid: String,
    image_count: u32,
    boot_index: u32,
    compression: &'static str,
    chunk_size: u32,
    part_number: u16,
    total_parts: u16,
    has_integrity_table: bool,
    images: Vec<wait_catalog::ImageIdentity>,
}

pub fn compression_name(c: Compression) -> &'static str {
    match c {
        Compression::None => "none",
        Compression::Xpress => "xpress",
        Compression::Lzx => "lzx",
        Compression::Lzms => "lzms",
    }
}

fn open(file: &Path) -> anyhow::Result<Wim<'static>> {
    Wim::open(file).with_context(|| format!("cannot open {}", file.display()))
}

/// `waitctl image info FILE [--json]`
pub fn info(file: &Path, json: bool) -> anyhow::Result<ExitCode> {
    let wim = open(file)?;
    let h = wim.info();
    let mut images = Vec::new();
    for index in 1..=wim.image_count() {
        let info = wim
            .image_info(index)
            .with_context(|| format!("{}: image {index}", file.display()))?;
        images.push(wait_catalog::identity_from_info(index, info));
    }
    let header = Header {
        file: file.display().to_string(),
        guid: h.guid.iter().map(|b| format!("{b:02x}")).collect(),
        image_count: h.image_count,
        boot_index: h.boot_index,
        compression: compression_name(h.compression),
        chunk_size: h.chunk_size,
        part_number: h.part_number,
        total_parts: h.total_parts,
        has_integrity_table: h.has_integrity_table,
        images,
    };
    if json {
        println!("{}", serde_json::to_string_pretty(&header)?);
        return Ok(ExitCode::SUCCESS);
    }
    println!("File:        {}", header.file);
    println!("GUID:        {}", header.guid);
    println!(
        "Images:      {} (boot index {})",
        header.image_count, header.boot_index
    );
    println!(
        "Compression: {} ({} byte chunks)",
        header.compression, header.chunk_size
    );
    println!(
        "Part:        {} of {}",
        header.part_number, header.total_parts
    );
    println!(
        "Integrity:   {}",
        if header.has_integrity_table {
            "yes"
        } else {
            "no"
        }
    );
    for img in &header.images {
        println!();
        println!("Index {}: {}", img.index, img.name);
        println!(
            "  Edition:           {}",
            img.edition.as_deref().unwrap_or("-")
        );
        println!(
            "  Product:           {}",
            img.product_name.as_deref().unwrap_or("-")
        );
        println!(
            "  Installation type: {}",
            img.installation_type.as_deref().unwrap_or("-")
        );
        println!(
            "  Architecture:      {}",
            img.arch.map(|a| a.as_str()).unwrap_or("-")
        );
        println!(
            "  Version:           {}",
            img.version.as_deref().unwrap_or("-")
        );
        println!(
            "  Languages:         {}",
            if img.languages.is_empty() {
                "-".to_string()
            } else {
                img.languages.join(", ")
            }
        );
        println!("  Size:              {} bytes", img.size);
    }
    Ok(ExitCode::SUCCESS)
}

/// `waitctl image verify FILE`: every blob is read back and its hash compared.
pub fn verify(file: &Path) -> anyhow::Result<ExitCode> {
    let mut wim = open(file)?;
    let bar = byte_bar();
    let b = bar.clone();
    wim.set_progress(move |p| {
        if p.total > 0 {
            b.set_length(p.total);
            b.set_position(p.done.min(p.total));
        }
        ProgressControl::Continue
    });
    let result = wim.verify();
    bar.finish_and_clear();
    match result {
        Ok(()) => {
            println!("{}: OK", file.display());
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            eprintln!("error: {}: {e}", file.display());
            Ok(ExitCode::FAILURE)
        }
    }
}

/// `waitctl image ls FILE [INDEX] [--path P] [--long]`
pub fn ls(file: &Path, index: u32, path: &str, long: bool) -> anyhow::Result<ExitCode> {
    let wim = open(file)?;
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let mut write_err = None;
    wim.for_each_file(index, path, |f| {
        use std::io::Write;
        let line = if long {
            let kind = if f.is_directory { 'd' } else { '-' };
            writeln!(out, "{kind} {:>12} {} {}", f.size, hex(&f.sha1), f.path)
        } else {
            writeln!(out, "{}", f.path)
        };
        // A closed pipe (e.g. `| head`) ends the listing quietly.
        if let Err(e) = line {
            write_err = Some(e);
            return false;
        }
        true
    })
    .with_context(|| format!("{}: image {index}", file.display()))?;
    match write_err {
        Some(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(e.into()),
        _ => Ok(ExitCode::SUCCESS),
    }
}

/// `waitctl image extract FILE INDEX PATH -o DEST`. DEST is a directory (existing, or
/// given with a trailing '/') or the path of the file to create.
pub fn extract(file: &Path, index: u32, path: &str, dest: &Path) -> anyhow::Result<ExitCode> {
    let wim = open(file)?;
    let as_dir = dest.is_dir() || dest.as_os_str().to_string_lossy().ends_with('/');
    let (dir, final_path): (PathBuf, Option<PathBuf>) = if as_dir {
        (dest.to_path_buf(), None)
    } else {
        let parent = dest
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        (parent.to_path_buf(), Some(dest.to_path_buf()))
    };
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let scratch = tempfile::Builder::new()
        .prefix(".waitctl-extract-")
        .tempdir_in(&dir)
        .with_context(|| format!("cannot write in {}", dir.display()))?;
    let got = wim
        .extract_file(index, path, scratch.path())
        .with_context(|| format!("{}: image {index}: {path}", file.display()))?;
    let target = match final_path {
        Some(p) => p,
        None => match got.file_name() {
            Some(name) => dir.join(name),
            None => bail!("{path}: not a file"),
        },
    };
    std::fs::rename(&got, &target).with_context(|| format!("cannot write {}", target.display()))?;
    println!("{}", target.display());
    Ok(ExitCode::SUCCESS)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn byte_bar() -> ProgressBar {
    let bar = ProgressBar::new(0);
    bar.set_style(
        ProgressStyle::with_template("{spinner} [{bar:40}] {bytes}/{total_bytes} {bytes_per_sec}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    bar
}

/// `waitctl image winre FILE [INDEX] [--json]`: what a Linux host can tell about the
/// image's recovery environment, and what it cannot do to it.
pub fn winre(file: &Path, index: u32, json: bool) -> anyhow::Result<ExitCode> {
    let wim = open(file)?;
    let scratch = tempfile::tempdir().context("cannot create a scratch folder")?;
    let report = wait_media::winre::inspect_winre(&wim, index, scratch.path())
        .with_context(|| format!("{}: image {index}", file.display()))?;
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
        return Ok(ExitCode::SUCCESS);
    }
    match (&report.path, report.size, &report.wim) {
        (Some(path), Some(size), Some(w)) => {
            println!(
                "WinRE:       {path} ({size} bytes, sha1 {})",
                report.sha1.as_deref().unwrap_or("-")
            );
            println!(
                "Compression: {:?}, {} byte chunks, {} image(s)",
                w.compression, w.chunk_size, w.image_count
            );
            for img in &w.images {
                println!(
                    "Index {}:     {} build {} languages {}",
                    img.index,
                    img.name.as_deref().unwrap_or("-"),
                    img.version.as_deref().unwrap_or("-"),
                    img.languages.join(", ")
                );
            }
        }
        _ => println!("WinRE:       none in image {index}"),
    }
    for n in &report.notes {
        println!("Note:        {n}");
    }
    for n in &report.not_done {
        println!("Not done:    {n}");
    }
    Ok(ExitCode::SUCCESS)
}

//! `waitctl bench image`: the image engine's speed next to plain tools, in one run.
//!
//! Absolute times vary on shared machines, so every step is printed with its ratio to
//! `cp` of the same image and to the same step done by `wimlib-imagex`.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use rand::{Rng, SeedableRng};
use wait_wim::{Compression, ImageSelector, UpdateCommand, Wim, WriteOptions};

/// One measured step: ours and the reference tool's time for the same work.
struct Row {
    step: &'static str,
    ours: Duration,
    reference: Option<(&'static str, Duration)>,
}

pub fn image(dir: Option<PathBuf>, size_mib: u64) -> anyhow::Result<ExitCode> {
    let scratch = match &dir {
        Some(d) => {
            std::fs::create_dir_all(d)?;
            tempfile::tempdir_in(d)?
        }
        None => tempfile::tempdir()?,
    };
    let root = scratch.path();
    eprintln!("generating a ~{size_mib} MiB tree in {} …", root.display());
    let tree = root.join("tree");
    write_tree(&tree, size_mib * 1024 * 1024, 1)?;
    let extra = root.join("extra");
    write_tree(&extra, 200 * 1024 * 1024, 2)?;

    eprintln!("capturing it (LZX) …");
    let base = root.join("base.wim");
    wait_wim::capture(&tree, &base, "bench", Compression::Lzx)?;
    let base_size = std::fs::metadata(&base)?.len();

    let cp = time(|| run("cp", &[arg(&base), arg(&root.join("copy.wim"))]))?;
    let mut rows = Vec::new();

    let ours = time(|| {
        let src = Wim::open(&base)?;
        let mut dest = Wim::create_new(Compression::Lzx)?;
        dest.export_image_from(&src, 1, None)?;
        dest.write(
            &root.join("export-ours.wim"),
            ImageSelector::All,
            &WriteOptions::default(),
        )?;
        Ok(())
    })?;
    let theirs = time(|| {
        run(
            "wimlib-imagex",
            &[
                "export".into(),
                arg(&base),
                "1".into(),
                arg(&root.join("export-ref.wim")),
            ],
        )
    })?;
    rows.push(Row {
        step: "export",
        ours,
        reference: Some(("wimlib-imagex export", theirs)),
    });

    let ours_copy = root.join("update-ours.wim");
    let ref_copy = root.join("update-ref.wim");
    std::fs::copy(&base, &ours_copy)?;
    std::fs::copy(&base, &ref_copy)?;
    let ours = time(|| {
        let mut wim = Wim::open(&ours_copy)?;
        wim.update_image(
            1,
            &[UpdateCommand::Add {
                source: extra.clone(),
                target: "/extra".into(),
            }],
        )?;
        // Append in place, as `wimlib-imagex update` does.
        wim.overwrite(&WriteOptions {
            rebuild: false,
            ..WriteOptions::default()
        })?;
        Ok(())
    })?;
    let theirs = time(|| {
        let mut child = Command::new("wimlib-imagex")
            .args(["update".into(), arg(&ref_copy), "1".into()])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::null())
            .spawn()?;
        if let Some(mut stdin) = child.stdin.take() {
            writeln!(stdin, "add '{}' /extra", extra.display())?;
        }
        let status = child.wait()?;
        if !status.success() {
            bail!("wimlib-imagex update failed");
        }
        Ok(())
    })?;
    rows.push(Row {
        step: "update +200 MiB",
        ours,
        reference: Some(("wimlib-imagex update", theirs)),
    });

    let ours = time(|| {
        Wim::open(&base)?.verify()?;
        Ok(())
    })?;
    let theirs = time(|| run("wimlib-imagex", &["verify".into(), arg(&base)]))?;
    rows.push(Row {
        step: "verify",
        ours,
        reference: Some(("wimlib-imagex verify", theirs)),
    });

    // Media: author a bootable ISO around the base WIM, then read it back out.
    let media = root.join("media");
    write_media_tree(&media)?;
    let iso = root.join("bench.iso");
    let ours = time(|| {
        let request = wait_media::author::AuthorRequest {
            source_tree: media.clone(),
            boot_files_from: None,
            install_image: wait_media::author::InstallImage::Single(base.clone()),
            autounattend: None,
            label: "WAIT_BENCH".into(),
            output: iso.clone(),
            options: wait_media::author::AuthorOptions::default(),
        };
        let cancel = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        wait_media::author::author_iso(&request, &mut |_| {}, &cancel)?;
        Ok(())
    })?;
    rows.push(Row {
        step: "author an ISO",
        ours,
        reference: None,
    });
    let ours = time(|| {
        let mut image = wait_media::IsoImage::open(&iso)?;
        image.extract("sources/install.wim", root.join("from-iso.wim"))?;
        Ok(())
    })?;
    let seven = format!("-o{}", root.join("7z").display());
    let theirs = time(|| {
        run(
            "7z",
            &[
                "x".into(),
                "-y".into(),
                seven,
                arg(&iso),
                "sources/install.wim".into(),
            ],
        )
    })?;
    rows.push(Row {
        step: "read WIM from ISO",
        ours,
        reference: Some(("7z x", theirs)),
    });

    println!(
        "image: {} MiB tree, {} MiB WIM (LZX); cp of the WIM: {:.2} s",
        size_mib,
        base_size / (1024 * 1024),
        cp.as_secs_f64()
    );
    println!(
        "{:<18} {:>9} {:>8}  {:<22} {:>9} {:>8}",
        "step", "ours s", "÷ cp", "reference", "ref s", "ours÷ref"
    );
    for r in &rows {
        let (name, reference, ratio) = match r.reference {
            Some((name, t)) => (
                name,
                format!("{:.2}", t.as_secs_f64()),
                format!("{:.2}", r.ours.as_secs_f64() / t.as_secs_f64().max(1e-9)),
            ),
            None => ("-", "-".to_string(), "-".to_string()),
        };
        println!(
            "{:<18} {:>9.2} {:>8.2}  {:<22} {:>9} {:>8}",
            r.step,
            r.ours.as_secs_f64(),
            r.ours.as_secs_f64() / cp.as_secs_f64().max(1e-9),
            name,
            reference,
            ratio
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// A minimal install-media layout: boot images and a setup program.
fn write_media_tree(dir: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir.join("boot"))?;
    std::fs::create_dir_all(dir.join("efi/microsoft/boot"))?;
    std::fs::create_dir_all(dir.join("sources"))?;
    std::fs::write(dir.join("boot/etfsboot.com"), vec![0x90u8; 4096])?;
    let mut efisys = vec![0u8; 1_474_560];
    efisys[510] = 0x55;
    efisys[511] = 0xAA;
    std::fs::write(dir.join("efi/microsoft/boot/efisys.bin"), efisys)?;
    std::fs::write(dir.join("setup.exe"), b"MZ")?;
    Ok(())
}

fn arg(p: &Path) -> String {
    p.display().to_string()
}

fn run(program: &str, args: &[String]) -> anyhow::Result<()> {
    let out = Command::new(program)
        .args(args)
        .output()
        .with_context(|| format!("cannot run {program}"))?;
    if !out.status.success() {
        bail!("{program} failed: {}", String::from_utf8_lossy(&out.stderr));
    }
    Ok(())
}

fn time(f: impl FnOnce() -> anyhow::Result<()>) -> anyhow::Result<Duration> {
    let start = Instant::now();
    f()?;
    Ok(start.elapsed())
}

/// Files of 1–8 MiB, half of them compressible text-like data, half random.
fn write_tree(dir: &Path, total: u64, seed: u64) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir)?;
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let mut written = 0u64;
    let mut n = 0u32;
    while written < total {
        let size = rng.gen_range(1..=8u64) * 1024 * 1024;
        let size = size.min(total - written);
        let mut buf = vec![0u8; size as usize];
        if n % 2 == 0 {
            rng.fill(&mut buf[..]);
        } else {
            for (i, b) in buf.iter_mut().enumerate() {
                *b = b"MZ\x90 system32 driver store component "[(i + n as usize) % 36];
            }
        }
        let sub = dir.join(format!("d{}", n % 16));
        std::fs::create_dir_all(&sub)?;
        std::fs::write(sub.join(format!("f{n}.bin")), &buf)?;
        written += size;
        n += 1;
    }
    Ok(())
}

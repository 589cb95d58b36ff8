//! `waitctl bench build`: one whole build — submit to Completed, validation included,
//! run by a `waitctl worker` child process — next to the same work done by a
//! hand-written `cp` + `wimlib-imagex` + `md5sum` + `sha256sum` script.
//!
//! A benchmark, not a test: absolute times vary on shared machines, so every step is
//! printed with its ratio to the script, and a missed goal is printed, not an error.

mod fixture;
mod ours;
mod report;
mod script;

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};

#[derive(Debug, Clone, clap::Args)]
pub struct BenchBuildArgs {
    /// Where the scratch files go (default: the system temp folder).
    #[arg(long)]
    pub dir: Option<PathBuf>,
    /// Size of the generated base image's tree in MiB.
    #[arg(long, default_value_t = 1024)]
    pub size_mib: u64,
    /// Size of the added drivers and software in MiB.
    #[arg(long, default_value_t = 200)]
    pub extra_mib: u64,
    /// Compression of the output image, on both sides.
    #[arg(long, default_value = "lzx", value_parser = ["lzx", "xpress", "lzms", "esd", "none"])]
    pub compression: String,
    /// Machine-readable output.
    #[arg(long)]
    pub json: bool,
    /// Keep the scratch folder (repository, database, both outputs) and print its path.
    #[arg(long)]
    pub keep: bool,
}

pub async fn run(args: &BenchBuildArgs) -> anyhow::Result<ExitCode> {
    if args.size_mib == 0 || args.extra_mib == 0 {
        bail!("--size-mib and --extra-mib must be at least 1");
    }
    let scratch = match &args.dir {
        Some(d) => {
            std::fs::create_dir_all(d).with_context(|| format!("cannot create {}", d.display()))?;
            tempfile::Builder::new()
                .prefix("bench-build-")
                .tempdir_in(d)
        }
        None => tempfile::Builder::new().prefix("bench-build-").tempdir(),
    }
    .context("cannot create the scratch folder")?;
    let root = scratch.path().to_path_buf();
    let data_dir = root.join("data");
    let repo_root = data_dir.join("WAIT_Repository");

    eprintln!(
        "generating a ~{} MiB base and {} MiB of components in {} …",
        args.size_mib,
        args.extra_mib,
        root.display()
    );
    let bench = {
        let (repo_root, work, size, extra) = (
            repo_root.clone(),
            root.clone(),
            args.size_mib,
            args.extra_mib,
        );
        tokio::task::spawn_blocking(move || fixture::generate(&repo_root, &work, size, extra))
            .await
            .context("generation stopped unexpectedly")??
    };

    eprintln!("ours: submitting the job to a `waitctl worker` child process …");
    let ours = ours::run(&data_dir, &bench, &args.compression).await?;

    eprintln!("script: cp + wimlib-imagex update/export + md5sum + sha256sum + verify …");
    let script = {
        let (work, bench, compression) =
            (root.join("script"), bench.clone(), args.compression.clone());
        tokio::task::spawn_blocking(move || script::run(&work, &bench, &compression))
            .await
            .context("the reference script stopped unexpectedly")??
    };

    let report = report::build(&report::Inputs {
        size_mib: args.size_mib,
        extra_mib: args.extra_mib,
        compression: &args.compression,
        base_wim_bytes: bench.base_size,
        ours: &ours,
        script: &script,
    });
    if args.json {
        report::print_json(&report)?;
    } else {
        report::print_text(&report);
    }
    if args.keep {
        let kept = scratch.keep();
        eprintln!(
            "kept {} (our output: {})",
            kept.display(),
            ours.output_dir.display()
        );
    }
    Ok(ExitCode::SUCCESS)
}

//! `waitctl demo`: a synthetic repository, an admin user, one build for board X13SAW
//! followed with a progress bar, then (without --once) the server keeps running.

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};
use rand::Rng;
use tokio::sync::watch;
use wait_catalog::fixtures::{TreeSpec, demo_repository, write_demo_packages};
use wait_store::{Job, JobRequest, JobStatus, LogLevel, Role, Store};

use crate::cli::{Common, WorkerArgs};
use crate::env::Env;
use crate::run;

const DEMO_USER: &str = "admin";
const DEMO_CUSTOMER: &str = "DEMO";

pub async fn run(
    common: &Common,
    args: &WorkerArgs,
    bind: &str,
    once: bool,
    seed: u64,
) -> anyhow::Result<ExitCode> {
    let env = Env::open(common).await?;
    // Bind before the long preparation so a busy port fails at once.
    let listener = if once {
        None
    } else {
        Some(run::bind_listener(bind).await?)
    };

    println!(
        "Preparing the demo repository in {} …",
        env.repo.root().display()
    );
    let root = env.repo.root().to_path_buf();
    let (demo, packages) = tokio::task::spawn_blocking(move || {
        let demo = demo_repository(&root, &TreeSpec::demo(seed))?;
        let packages = write_demo_packages(&root)?;
        Ok::<_, wait_catalog::CatalogError>((demo, packages))
    })
    .await
    .context("demo preparation stopped unexpectedly")??;
    println!("  base image:  1_BaseImages/{}", demo.base_image);
    println!(
        "  board:       {} (drivers in 2_Drivers/{})",
        demo.board, demo.board
    );
    println!("  answer file: {}", demo.answer_file);
    println!("  language packs: {}", packages.langpacks.join(", "));
    println!("  updates:        {}", packages.updates.join(", "));
    println!("  software:       {}", packages.software.join(", "));

    let password = ensure_admin(&env.store, &env.data_dir).await?;
    match &password {
        Some(p) => println!("Admin login: {DEMO_USER} / {p}"),
        None => println!(
            "Admin login: {DEMO_USER} (the account already existed; its password was left as it was)"
        ),
    }

    let request = JobRequest {
        motherboard_model: demo.board.clone(),
        base_image: demo.base_image.clone(),
        customer_name: DEMO_CUSTOMER.to_string(),
        image_index: "1".to_string(),
        driver_set: None,
        langpacks: packages.langpacks.clone(),
        updates: packages.updates.clone(),
        software: packages.software.clone(),
        answer_file: Some(demo.answer_file.clone()),
        product_key: None,
        key_variants: "nokey".to_string(),
        create_iso: false,
        compression: "lzx".to_string(),
        log_level: LogLevel::Normal,
        options: Default::default(),
    };
    let job = env.store.create_job(&request, Some(DEMO_USER)).await?;
    println!("Submitted job {} for {}", job.job_id, demo.board);

    let stop = run::shutdown_signal();
    let (worker_stop_tx, worker_stop) = watch::channel(false);
    let workers = run::spawn_workers(&env, args, &worker_stop);
    let server = listener.map(|l| {
        let (env_store, env_repo, stop) = (env.store.clone(), env.repo.clone(), stop.clone());
        tokio::spawn(async move {
            let state = wait_server::AppState::new(env_store, env_repo);
            if let Err(e) = wait_server::serve(l, state, run::until(stop)).await {
                eprintln!("error: HTTP server failed: {e}");
            }
        })
    });
    if let Some(addr) = server.as_ref().and(Some(bind)) {
        println!("Serving http://{addr} (Ctrl-C to stop)");
    }

    let finished = follow(&env.store, &job, &stop).await?;
    let output = finished
        .output_dir
        .as_ref()
        .map(|d| env.repo.output_root().join(d));
    match (&finished.status, &output) {
        (JobStatus::Completed, Some(dir)) => {
            println!("Job {} Completed. Output folder:", finished.job_id);
            println!("{}", dir.display());
        }
        (status, _) => {
            println!(
                "Job {} ended {}: {}",
                finished.job_id,
                status.as_str(),
                finished.error.as_deref().unwrap_or("-")
            );
        }
    }

    if once {
        let _ = worker_stop_tx.send(true);
        run::join_all(workers).await;
        return Ok(if finished.status == JobStatus::Completed {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(1)
        });
    }
    println!("The server keeps running at http://{bind} — Ctrl-C to stop.");
    run::until(stop).await;
    let _ = worker_stop_tx.send(true);
    run::join_all(workers).await;
    if let Some(s) = server {
        let _ = s.await;
    }
    Ok(ExitCode::SUCCESS)
}

/// Create the demo admin with a random password the first time; keep it in a file
/// readable only by the owner so a second `make demo` can say it again.
async fn ensure_admin(store: &Store, data_dir: &Path) -> anyhow::Result<Option<String>> {
    let file = data_dir.join("demo-admin-password");
    if store.get_user(DEMO_USER).await?.is_some() {
        return Ok(std::fs::read_to_string(&file)
            .ok()
            .map(|s| s.trim().to_string()));
    }
    let password: String = rand::thread_rng()
        .sample_iter(&rand::distributions::Alphanumeric)
        .take(20)
        .map(char::from)
        .collect();
    store.create_user(DEMO_USER, Role::Admin, &password).await?;
    write_private(&file, &password).with_context(|| format!("cannot write {}", file.display()))?;
    Ok(Some(password))
}

fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut f = options.open(path)?;
    writeln!(f, "{text}")
}

/// Show a progress bar and the job's normal log lines until it reaches a final state.
async fn follow(store: &Store, job: &Job, stop: &watch::Receiver<bool>) -> anyhow::Result<Job> {
    let bar = ProgressBar::new(100);
    bar.set_style(
        ProgressStyle::with_template("{spinner} [{bar:40}] {pos:>3}% {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    // Without a terminal the bar hides itself and its println too; print plainly then.
    let show = |text: String| {
        if bar.is_hidden() {
            println!("{text}")
        } else {
            bar.println(text)
        }
    };
    let mut seen = 0i64;
    loop {
        for line in store.logs_after(job.job_id, seen, false, 500).await? {
            seen = line.seq;
            show(format!(
                "  [{}] {}",
                line.stage.as_deref().unwrap_or("-"),
                line.message
            ));
        }
        let current = store
            .get_job(job.job_id)
            .await?
            .with_context(|| format!("job {} disappeared", job.job_id))?;
        bar.set_position(u64::from(current.progress));
        bar.set_message(format!(
            "{} {}",
            current.status.as_str(),
            current.stage.as_deref().unwrap_or("")
        ));
        if current.status.is_final() {
            // Pick up the last lines written with the final status.
            for line in store.logs_after(job.job_id, seen, false, 500).await? {
                show(format!(
                    "  [{}] {}",
                    line.stage.as_deref().unwrap_or("-"),
                    line.message
                ));
            }
            bar.finish_and_clear();
            return Ok(current);
        }
        if *stop.borrow() {
            bar.abandon_with_message("interrupted; the job goes on in the queue");
            anyhow::bail!("interrupted");
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

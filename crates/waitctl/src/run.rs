//! `waitctl serve` and `waitctl worker`: long-running processes that stop cleanly on
//! Ctrl-C or SIGTERM (a job in progress is finished first).

use std::time::Duration;

use anyhow::Context;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use wait_pipeline::{Worker, WorkerConfig};
use wait_store::Stages;

use crate::cli::{Common, WorkerArgs};
use crate::env::{Env, worker_name};

pub async fn serve(
    common: &Common,
    args: &WorkerArgs,
    bind: &str,
    with_worker: bool,
) -> anyhow::Result<()> {
    let env = Env::open(common).await?;
    let listener = bind_listener(bind).await?;
    let stop = shutdown_signal();
    let workers = if with_worker {
        spawn_workers(&env, args, &stop)
    } else {
        Vec::new()
    };
    serve_until(listener, &env, &stop).await?;
    join_all(workers).await;
    Ok(())
}

pub async fn worker(common: &Common, args: &WorkerArgs, stages: Stages) -> anyhow::Result<()> {
    let env = Env::open(common).await?;
    let stop = shutdown_signal();
    let workers = spawn_workers_for(&env, args, &stop, stages);
    tracing::info!(
        count = workers.len(),
        database = env.database_display(),
        "workers started"
    );
    join_all(workers).await;
    Ok(())
}

pub async fn bind_listener(bind: &str) -> anyhow::Result<tokio::net::TcpListener> {
    tokio::net::TcpListener::bind(bind).await.with_context(|| {
        format!("cannot listen on {bind} (is another WAIT or another program using it?)")
    })
}

/// Serve HTTP until `stop` flips to true.
pub async fn serve_until(
    listener: tokio::net::TcpListener,
    env: &Env,
    stop: &watch::Receiver<bool>,
) -> anyhow::Result<()> {
    let addr = listener.local_addr().context("listener has no address")?;
    tracing::info!("serving http://{addr}");
    let config = wait_server::ServerConfig {
        slack_signing_secret: std::env::var("WAIT_SLACK_SIGNING_SECRET")
            .ok()
            .filter(|v| !v.is_empty()),
        slack_default_user: std::env::var("WAIT_SLACK_DEFAULT_USER")
            .ok()
            .filter(|v| !v.is_empty()),
        webhook_allow_private: std::env::var("WAIT_WEBHOOK_ALLOW_PRIVATE")
            .is_ok_and(|v| matches!(v.trim(), "1" | "true" | "yes")),
        ..wait_server::ServerConfig::default()
    };
    let state = wait_server::AppState::with_config(env.store.clone(), env.repo.clone(), config)
        .with_hash_cache(crate::repo::cache_file(&env.data_dir));
    wait_server::serve(listener, state, until(stop.clone()))
        .await
        .context("HTTP server failed")?;
    Ok(())
}

pub fn spawn_workers(
    env: &Env,
    args: &WorkerArgs,
    stop: &watch::Receiver<bool>,
) -> Vec<JoinHandle<()>> {
    spawn_workers_for(env, args, stop, Stages::All)
}

pub fn spawn_workers_for(
    env: &Env,
    args: &WorkerArgs,
    stop: &watch::Receiver<bool>,
    stages: Stages,
) -> Vec<JoinHandle<()>> {
    (1..=args.concurrency)
        .map(|n| {
            let mut config = WorkerConfig::new(worker_name(n), env.work_dir());
            config.lease = Duration::from_secs(args.lease_seconds);
            config.drain_deadline = Duration::from_secs(args.drain_seconds);
            config.stages = stages;
            config.hash_cache = Some(crate::repo::cache_file(&env.data_dir));
            config.hooks = args.hooks.clone();
            config.download.allow_private = args.download_allow_private;
            let worker = Worker::new(env.store.clone(), env.repo.clone(), config);
            let stop = stop.clone();
            tokio::spawn(async move { worker.run(until(stop)).await })
        })
        .collect()
}

/// A receiver that turns true on Ctrl-C or SIGTERM.
pub fn shutdown_signal() -> watch::Receiver<bool> {
    let (tx, rx) = watch::channel(false);
    tokio::spawn(async move {
        let ctrl_c = tokio::signal::ctrl_c();
        #[cfg(unix)]
        {
            let mut term = match tokio::signal::unix::signal(
                tokio::signal::unix::SignalKind::terminate(),
            ) {
                Ok(s) => s,
                Err(e) => {
                    tracing::warn!(error = %e, "cannot watch SIGTERM; only Ctrl-C stops the process");
                    let _ = ctrl_c.await;
                    let _ = tx.send(true);
                    return;
                }
            };
            tokio::select! {
                _ = ctrl_c => {}
                _ = term.recv() => {}
            }
        }
        #[cfg(not(unix))]
        let _ = ctrl_c.await;
        tracing::info!("stopping: finishing the work in progress");
        let _ = tx.send(true);
    });
    rx
}

pub async fn until(mut stop: watch::Receiver<bool>) {
    let _ = stop.wait_for(|v| *v).await;
}

pub async fn join_all(handles: Vec<JoinHandle<()>>) {
    for h in handles {
        let _ = h.await;
    }
}

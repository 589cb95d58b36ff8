//! `waitctl serve` and `waitctl worker`: long-running processes that stop cleanly on
//! Ctrl-C or SIGTERM (a job in progress is finished first).

use std::time::Duration;

use anyhow::Context;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use wait_pipeline::{Worker, WorkerConfig};
use wait_store::Stages;

use crate::cli::WorkerArgs;
use crate::config::{Context as RunContext, Settings};
use crate::env::{Env, worker_name};

pub async fn serve(ctx: &RunContext) -> anyhow::Result<()> {
    let settings = &ctx.settings;
    let env = Env::open(&crate::config::apply::common(settings)).await?;
    // Before the listener: once it accepts connections, SIGHUP is handled.
    crate::config::reload::on_sighup(ctx.clone());
    let listener = bind_listener(&settings.bind.value).await?;
    let stop = shutdown_signal();
    let workers = if settings.no_worker.value {
        Vec::new()
    } else {
        spawn_planned(
            &env,
            &WorkerPlan::from_settings(settings)?,
            &stop,
            Stages::All,
        )
    };
    let config = crate::config::apply::server_config(settings);
    serve_with(listener, &env, config, &stop).await?;
    join_all(workers).await;
    Ok(())
}

pub async fn worker(ctx: &RunContext, stages: Stages) -> anyhow::Result<()> {
    let settings = &ctx.settings;
    let env = Env::open_for_worker(&crate::config::apply::common(settings)).await?;
    let stop = shutdown_signal();
    crate::config::reload::on_sighup(ctx.clone());
    let workers = spawn_planned(&env, &WorkerPlan::from_settings(settings)?, &stop, stages);
    tracing::info!(
        count = workers.len(),
        database = %crate::config::redact_url(env.database_display()),
        "workers started"
    );
    join_all(workers).await;
    Ok(())
}

/// What every worker of one process is configured with.
#[derive(Debug, Clone)]
pub struct WorkerPlan {
    pub concurrency: u32,
    pub lease: Duration,
    pub drain: Duration,
    pub hooks: Vec<wait_pipeline::Hook>,
    pub download: wait_pipeline::DownloadPolicy,
}

impl WorkerPlan {
    pub fn from_settings(s: &Settings) -> anyhow::Result<Self> {
        let hooks = s
            .hooks
            .value
            .iter()
            .map(|spec| wait_pipeline::parse_hook(spec))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(WorkerPlan {
            concurrency: s.concurrency.value,
            lease: Duration::from_secs(s.lease_seconds.value),
            drain: Duration::from_secs(s.drain_seconds.value),
            hooks,
            download: wait_pipeline::DownloadPolicy {
                timeout: Duration::from_secs(s.download_timeout_seconds.value),
                max_bytes: s.download_max_mb.value.saturating_mul(1 << 20),
                attempts: s.download_attempts.value,
                allow_private: s.download_allow_private.value,
            },
        })
    }

    fn from_args(args: &WorkerArgs) -> Self {
        WorkerPlan {
            concurrency: args.concurrency,
            lease: Duration::from_secs(args.lease_seconds),
            drain: Duration::from_secs(args.drain_seconds),
            hooks: args.hooks.clone(),
            download: wait_pipeline::DownloadPolicy {
                allow_private: args.download_allow_private,
                ..wait_pipeline::DownloadPolicy::default()
            },
        }
    }
}

pub async fn bind_listener(bind: &str) -> anyhow::Result<tokio::net::TcpListener> {
    tokio::net::TcpListener::bind(bind).await.with_context(|| {
        format!("cannot listen on {bind} (is another WAIT or another program using it?)")
    })
}

/// Serve HTTP until `stop` flips to true.
pub async fn serve_with(
    listener: tokio::net::TcpListener,
    env: &Env,
    config: wait_server::ServerConfig,
    stop: &watch::Receiver<bool>,
) -> anyhow::Result<()> {
    let addr = listener.local_addr().context("listener has no address")?;
    tracing::info!("serving http://{addr}");
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
    spawn_planned(env, &WorkerPlan::from_args(args), stop, Stages::All)
}

pub fn spawn_planned(
    env: &Env,
    plan: &WorkerPlan,
    stop: &watch::Receiver<bool>,
    stages: Stages,
) -> Vec<JoinHandle<()>> {
    (1..=plan.concurrency)
        .map(|n| {
            let mut config = WorkerConfig::new(worker_name(n), env.work_dir());
            config.lease = plan.lease;
            config.drain_deadline = plan.drain;
            config.stages = stages;
            config.hash_cache = Some(crate::repo::cache_file(&env.data_dir));
            config.hooks = plan.hooks.clone();
            config.download = plan.download.clone();
            let worker = Worker::new(env.store.clone(), env.repo.clone(), config);
            let stop = stop.clone();
            tokio::spawn(async move { worker.run(until(stop)).await })
        })
        .collect()
}

/// A receiver that turns true on Ctrl-C or SIGTERM.
pub fn shutdown_signal() -> watch::Receiver<bool> {
    let (tx, rx) = watch::channel(false);
    // SIGTERM is registered before this returns: a SIGTERM that arrives before the task
    // first runs would otherwise take the default action and end the process unclean.
    #[cfg(unix)]
    let term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate());
    tokio::spawn(async move {
        let ctrl_c = tokio::signal::ctrl_c();
        #[cfg(unix)]
        match term {
            Ok(mut term) => {
                tokio::select! {
                    _ = ctrl_c => {}
                    _ = term.recv() => {}
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot watch SIGTERM; only Ctrl-C stops the process");
                let _ = ctrl_c.await;
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

//! `waitctl job create | status | list | logs | cancel | clone` over the HTTP API.

use std::process::ExitCode;

use reqwest::Method;
use serde_json::Value;

use super::download::{self, DownloadArgs};
use super::follow::{self, Show};
use super::http::{Api, json_of};
use super::output;
use super::request::RequestFlags;
use super::session::{ClientArgs, connect};

/// Lines per page of `GET /api/jobs/{id}/logs`.
const LOG_PAGE: &str = "1000";

#[derive(Debug, clap::Subcommand)]
pub enum JobCommand {
    /// Queue a build; prints the job id and its queue position.
    Create {
        /// Motherboard model (folder under 2_Drivers/).
        #[arg(long)]
        board: String,
        /// Base image file name in 1_BaseImages/.
        #[arg(long)]
        image: String,
        #[command(flatten)]
        request: RequestFlags,
        /// Follow the job to its end with a progress bar: exit 0 when Completed, else 1.
        #[arg(long)]
        wait: bool,
    },
    /// A job's state (default: the running job, else the latest).
    Status { id: Option<String> },
    /// Jobs, newest first.
    List {
        /// Only jobs in this state (e.g. Completed, Queued).
        #[arg(long)]
        status: Option<String>,
        /// Only this customer's jobs.
        #[arg(long)]
        customer: Option<String>,
        #[arg(long)]
        limit: Option<u32>,
    },
    /// A job's log; with -f, follow it live until the job ends.
    Logs {
        id: String,
        #[arg(short = 'f', long)]
        follow: bool,
        /// Include verbose lines.
        #[arg(long)]
        verbose: bool,
    },
    /// Cancel a queued or running job.
    Cancel { id: String },
    /// Queue a job's request again, with the given fields changed.
    Clone {
        id: String,
        /// Refuse when an input file changed since the original job.
        #[arg(long)]
        strict: bool,
        /// Another motherboard model.
        #[arg(long)]
        board: Option<String>,
        /// Another base image.
        #[arg(long)]
        image: Option<String>,
        #[command(flatten)]
        request: RequestFlags,
    },
    /// Download a job's output (resuming a partial file).
    Download(DownloadArgs),
}

pub async fn run(client: ClientArgs, command: JobCommand) -> anyhow::Result<ExitCode> {
    let api = connect(&client)?;
    let json = client.json;
    match command {
        JobCommand::Create {
            board,
            image,
            request,
            wait,
        } => {
            let mut body = request.to_body()?;
            body.insert("motherboard_model".into(), board.into());
            body.insert("base_image".into(), image.into());
            create(&api, Value::Object(body), wait, json).await
        }
        JobCommand::Status { id } => {
            let job = get_job(&api, id.as_deref()).await?;
            print(json, &job, output::job_summary);
            Ok(ExitCode::SUCCESS)
        }
        JobCommand::List {
            status,
            customer,
            limit,
        } => list(&api, status, customer, limit, json).await,
        JobCommand::Logs {
            id,
            follow,
            verbose,
        } => logs(&api, &id, follow, verbose, json).await,
        JobCommand::Cancel { id } => cancel(&api, &id, json).await,
        JobCommand::Clone {
            id,
            strict,
            board,
            image,
            request,
        } => {
            let mut body = request.to_body()?;
            if let Some(b) = board {
                body.insert("motherboard_model".into(), b.into());
            }
            if let Some(i) = image {
                body.insert("base_image".into(), i.into());
            }
            clone(&api, &id, strict, Value::Object(body), json).await
        }
        JobCommand::Download(args) => download::run(&api, args, json).await,
    }
}

fn print(json: bool, v: &Value, text: fn(&Value) -> String) {
    if json {
        println!("{v}");
    } else {
        println!("{}", text(v));
    }
}

fn exit_for(status: &str) -> ExitCode {
    if status == "Completed" {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

pub async fn get_job(api: &Api, id: Option<&str>) -> anyhow::Result<Value> {
    let url = api.url(&["api", "job"], &[("job_id", id.unwrap_or_default())]);
    Ok(api.get_json(url, "the job").await?)
}

async fn create(api: &Api, body: Value, wait: bool, json: bool) -> anyhow::Result<ExitCode> {
    let url = api.url(&["api", "job"], &[]);
    let (_, created) = api.post_json(url, &body, "the new job").await?;
    let job_id = created["job_id"].as_str().unwrap_or_default().to_string();
    if json {
        println!("{created}");
    } else {
        let position = created["queue_position"]
            .as_u64()
            .map(|p| format!(", queue position {p}"))
            .unwrap_or_default();
        println!("job {job_id} queued{position}");
    }
    if !wait {
        return Ok(ExitCode::SUCCESS);
    }
    let show = if json { Show::Json } else { Show::Progress };
    let outcome = follow::follow(api, &job_id, false, show).await?;
    let job = get_job(api, Some(&job_id)).await?;
    if json {
        println!("{job}");
    } else {
        let error = outcome.error.map(|e| format!(": {e}")).unwrap_or_default();
        println!("job {job_id} {}{error}", outcome.status);
        if let Some(dir) = job["output_dir"].as_str() {
            println!("output: {dir}");
        }
    }
    Ok(exit_for(&outcome.status))
}

async fn list(
    api: &Api,
    status: Option<String>,
    customer: Option<String>,
    limit: Option<u32>,
    json: bool,
) -> anyhow::Result<ExitCode> {
    let limit = limit.map(|l| l.to_string()).unwrap_or_default();
    let url = api.url(
        &["api", "jobs"],
        &[
            ("status", status.as_deref().unwrap_or_default()),
            ("customer_name", customer.as_deref().unwrap_or_default()),
            ("limit", &limit),
        ],
    );
    let page = api.get_json(url, "the job list").await?;
    if json {
        println!("{page}");
        return Ok(ExitCode::SUCCESS);
    }
    let jobs = page["jobs"].as_array().map(Vec::as_slice).unwrap_or(&[]);
    for job in jobs {
        println!("{}", output::job_row(job));
    }
    println!(
        "{} of {} jobs",
        jobs.len(),
        page["total"].as_u64().unwrap_or(jobs.len() as u64)
    );
    Ok(ExitCode::SUCCESS)
}

async fn logs(
    api: &Api,
    id: &str,
    follow: bool,
    verbose: bool,
    json: bool,
) -> anyhow::Result<ExitCode> {
    if follow {
        let show = if json { Show::Json } else { Show::Logs };
        let outcome = follow::follow(api, id, verbose, show).await?;
        return Ok(exit_for(&outcome.status));
    }
    let level = if verbose { "verbose" } else { "" };
    let mut after = "0".to_string();
    loop {
        let url = api.url(
            &["api", "jobs", id, "logs"],
            &[("level", level), ("after", &after), ("limit", LOG_PAGE)],
        );
        let page = api.get_json(url, "the job log").await?;
        let lines = page["lines"].as_array().map(Vec::as_slice).unwrap_or(&[]);
        for line in lines {
            if json {
                println!("{line}");
            } else {
                println!("{}", output::log_line(line));
            }
        }
        let next = page["next_after"].as_i64().unwrap_or(0).to_string();
        if lines.is_empty() || next == after {
            return Ok(ExitCode::SUCCESS);
        }
        after = next;
    }
}

async fn cancel(api: &Api, id: &str, json: bool) -> anyhow::Result<ExitCode> {
    let url = api.url(&["api", "job", "cancel"], &[("job_id", id)]);
    let resp = api
        .send(api.request(Method::POST, url), "the cancellation")
        .await?;
    let code = resp.status().as_u16();
    let job = json_of(resp, "the cancellation").await?;
    if json {
        println!("{job}");
    } else if code == 202 {
        println!("job {id}: cancellation requested (it stops at the next safe point)");
    } else {
        println!(
            "job {id}: {}",
            job["status"].as_str().unwrap_or("cancelled")
        );
    }
    Ok(ExitCode::SUCCESS)
}

async fn clone(
    api: &Api,
    id: &str,
    strict: bool,
    body: Value,
    json: bool,
) -> anyhow::Result<ExitCode> {
    let url = api.url(
        &["api", "jobs", id, "clone"],
        &[("strict", if strict { "true" } else { "" })],
    );
    let (_, cloned) = api.post_json(url, &body, "the clone").await?;
    if json {
        println!("{cloned}");
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "job {} queued (clone of {id}); inputs {}",
        cloned["job_id"].as_str().unwrap_or("-"),
        cloned["inputs"].as_str().unwrap_or("-")
    );
    for change in cloned["changed"].as_array().into_iter().flatten() {
        println!(
            "  changed: {}  {} -> {}",
            change["path"].as_str().unwrap_or("-"),
            change["recorded_sha256"].as_str().unwrap_or("-"),
            change["current_sha256"].as_str().unwrap_or("(missing)")
        );
    }
    Ok(ExitCode::SUCCESS)
}

//! Command-line surface. Flag and variable names are fixed by the architecture
//! document: operators' scripts depend on them.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "waitctl",
    version,
    about = "WAIT: Windows image factory (API server, workers, admin commands)"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    /// TOML config file (see wait.example.toml): file < environment < flags.
    #[arg(long, env = "WAIT_CONFIG", global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Log line format on stderr [env: WAIT_LOG_FORMAT] [default: text].
    #[arg(long, global = true, value_enum)]
    pub log_format: Option<crate::config::LogFormat>,
    /// Log filter, e.g. `debug` or `info,wait_pipeline=debug` [env: WAIT_LOG, RUST_LOG].
    #[arg(long, global = true, value_name = "FILTER")]
    pub log_level: Option<String>,
    /// The merged settings, filled in by main after parsing.
    #[arg(skip)]
    pub context: Option<crate::config::Context>,
}

/// Where WAIT keeps its data; shared by every subcommand.
#[derive(Debug, Clone, Args)]
pub struct Common {
    /// Database file, caches and scratch space.
    #[arg(
        long,
        env = "WAIT_DATA_DIR",
        default_value = "./wait-data",
        global = true
    )]
    pub data_dir: PathBuf,
    /// The resource repository (1_BaseImages … 8_Output). Default: DATA_DIR/WAIT_Repository.
    #[arg(long, env = "WAIT_REPOSITORY", global = true)]
    pub repository: Option<PathBuf>,
    /// sqlite://… (default: DATA_DIR/wait.db). Also WAIT_DATABASE_URL_FILE.
    // hide_env_values: `--help` must not print a password from the environment.
    #[arg(long, env = "WAIT_DATABASE_URL", global = true, hide_env_values = true)]
    pub database_url: Option<String>,
}

/// Options of processes that run jobs.
#[derive(Debug, Clone, Args)]
pub struct WorkerArgs {
    /// Jobs this process runs at once (1 = the seed's single-job mode).
    #[arg(long, env = "WAIT_CONCURRENCY", default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=64))]
    pub concurrency: u32,
    /// A dead worker's job is reclaimed after this many seconds without a heartbeat.
    #[arg(long, env = "WAIT_LEASE_SECONDS", default_value_t = 60, value_parser = clap::value_parser!(u64).range(5..=86400))]
    pub lease_seconds: u64,
    /// On SIGTERM, how long a running job may take to finish before it is handed back
    /// to the queue.
    #[arg(long, env = "WAIT_DRAIN_SECONDS", default_value_t = 30)]
    pub drain_seconds: u64,
    /// An external command run at a named point of every build, e.g.
    /// `--hook 'after_stage.drivers=/opt/scan.sh'` (repeatable). Points:
    /// before_stage.<stage>, after_stage.<stage>, before_publish, after_publish.
    #[arg(long = "hook", value_parser = parse_hook_arg)]
    pub hooks: Vec<wait_pipeline::Hook>,
    /// Let board driver downloads reach loopback and private addresses (a vendor
    /// mirror on the local network).
    #[arg(long, env = "WAIT_DOWNLOAD_ALLOW_PRIVATE")]
    pub download_allow_private: bool,
}

fn parse_hook_arg(spec: &str) -> Result<wait_pipeline::Hook, String> {
    wait_pipeline::parse_hook(spec).map_err(|e| e.to_string())
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the HTTP API with an embedded worker (unless --no-worker).
    Serve {
        #[command(flatten)]
        common: Common,
        #[command(flatten)]
        worker: WorkerArgs,
        /// HTTP listen address.
        #[arg(long, env = "WAIT_BIND", default_value = "127.0.0.1:8080")]
        bind: String,
        /// Serve the API only; jobs are run by separate `waitctl worker` processes.
        #[arg(long)]
        no_worker: bool,
    },
    /// Run a worker alone (no HTTP).
    Worker {
        #[command(flatten)]
        common: Common,
        #[command(flatten)]
        worker: WorkerArgs,
        /// Which stages this worker runs: build and validation, build only, or
        /// validation only.
        #[arg(long, default_value = "all", value_parser = ["all", "build", "validate"])]
        stages: String,
    },
    /// Run a validation worker alone: it takes only jobs waiting for validation.
    ValidateWorker {
        #[command(flatten)]
        common: Common,
        #[command(flatten)]
        worker: WorkerArgs,
    },
    /// Create the database and the repository folders 1_BaseImages … 8_Output.
    Init {
        #[command(flatten)]
        common: Common,
    },
    /// Manage users.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Jobs on a running server, over HTTP (`--server`, `--token` or `waitctl login`).
    Job {
        #[command(flatten)]
        client: crate::client::ClientArgs,
        // boxed: the request flags would make every Command value large
        #[command(subcommand)]
        command: Box<crate::client::JobCommand>,
    },
    /// Log in to a server and save the session for the `job` commands.
    Login(crate::client::LoginArgs),
    /// Manage API tokens (`Authorization: Bearer`) for scripts and CI.
    Token {
        #[command(subcommand)]
        command: crate::token::TokenCommand,
    },
    /// Inspect WIM/ESD files.
    Image {
        #[command(subcommand)]
        command: ImageCommand,
    },
    /// Read ISO install media.
    Iso {
        #[command(subcommand)]
        command: IsoCommand,
    },
    /// Scan the resource repository, list what it holds, check a board against an image.
    Repo {
        #[command(subcommand)]
        command: crate::repo::RepoCommand,
    },
    /// Measure the image engine against cp and wimlib-imagex (not a test).
    Bench {
        #[command(subcommand)]
        command: BenchCommand,
    },
    /// Validate a job's published output again (its state is not changed): exit 0
    /// when every check passes, 1 when one fails, 2 when nothing could be checked.
    Validate {
        #[command(flatten)]
        common: Common,
        /// The job id.
        job: String,
        /// Print the report as JSON instead of PASS/FAIL lines.
        #[arg(long)]
        json: bool,
    },
    /// Check the configuration (config file, environment, flags), the database schema
    /// and the repository; print the effective settings with secrets redacted.
    Config {
        #[command(subcommand)]
        command: crate::config::check::ConfigCommand,
    },
    /// Apply pending database migrations and say which (--dry-run: list them only).
    Migrate(crate::migrate::MigrateArgs),
    /// Write a checked copy of the SQLite database, safe while WAIT is running.
    Backup(crate::backup::BackupArgs),
    /// Import users, jobs, logs and webhooks from the original WAIT database.
    ImportSeedDb(crate::import_seed::ImportSeedArgs),
    /// Build a demo repository with a synthetic base image, run one build end to end,
    /// and keep serving (or exit with --once).
    Demo {
        #[command(flatten)]
        common: Common,
        #[command(flatten)]
        worker: WorkerArgs,
        #[arg(long, env = "WAIT_BIND", default_value = "127.0.0.1:8080")]
        bind: String,
        /// Print the output folder and exit: 0 when the job completed, 1 otherwise.
        #[arg(long)]
        once: bool,
        /// Seed of the generated fixtures (same seed, same bytes).
        #[arg(long, default_value_t = 2025)]
        seed: u64,
    },
    /// Print the API's OpenAPI document (JSON), or with --markdown the docs/API.md reference.
    Openapi(crate::openapi_cmd::OpenapiArgs),
}

#[derive(Debug, Subcommand)]
pub enum ImageCommand {
    /// Every image of a WIM/ESD with its Windows identity.
    Info {
        file: PathBuf,
        /// Machine-readable output.
        #[arg(long)]
        json: bool,
    },
    /// Read every blob back and check its hash.
    Verify { file: PathBuf },
    /// List the files of one image.
    Ls {
        file: PathBuf,
        #[arg(default_value_t = 1)]
        index: u32,
        /// Start below this folder of the image.
        #[arg(long, default_value = "/")]
        path: String,
        /// Show kind, size and SHA-1.
        #[arg(short, long)]
        long: bool,
    },
    /// Report the image's WinRE (Windows/System32/Recovery/Winre.wim).
    Winre {
        file: PathBuf,
        #[arg(default_value_t = 1)]
        index: u32,
        #[arg(long)]
        json: bool,
    },
    /// Extract one file from an image.
    Extract {
        file: PathBuf,
        index: u32,
        /// Path inside the image, e.g. /Windows/System32/Recovery/Winre.wim
        path: String,
        /// Destination file, or a folder (existing, or with a trailing '/').
        #[arg(short = 'o', long = "output")]
        dest: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
pub enum IsoCommand {
    /// List an ISO's files (UDF preferred over ISO 9660) and its install image.
    Ls {
        iso: PathBuf,
        #[arg(long)]
        json: bool,
    },
    /// Copy one file out of an ISO.
    Extract {
        iso: PathBuf,
        /// Path inside the ISO, e.g. sources/install.wim (case does not matter).
        path: String,
        /// Destination file, or a folder (existing, or with a trailing '/').
        #[arg(short = 'o', long = "output")]
        dest: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// Export, update, verify on a generated image, each next to cp and wimlib-imagex.
    Image {
        /// Where the scratch files go (default: the system temp folder).
        #[arg(long)]
        dir: Option<PathBuf>,
        /// Size of the generated tree in MiB.
        #[arg(long, default_value_t = 1024)]
        size_mib: u64,
    },
    /// Scan a generated repository cold and warm; sha256 throughput next to openssl.
    Repo(crate::bench_repo::BenchRepoArgs),
    /// A whole build (submit to Completed) next to a cp + wimlib-imagex + md5sum script.
    Build(crate::bench_build::BenchBuildArgs),
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Add a user; the password is read from standard input.
    Add {
        #[command(flatten)]
        common: Common,
        name: String,
        #[arg(long, value_parser = ["admin", "builder", "viewer"])]
        role: String,
        /// Read the password from standard input (required: passwords never go on the command line).
        #[arg(long, required = true)]
        password_stdin: bool,
    },
}

pub async fn dispatch(cli: Cli) -> anyhow::Result<ExitCode> {
    // serve, worker and `config check` take every setting from the merged layers; the
    // other subcommands read their flags, whose defaults already carry the file's values.
    let context = cli
        .context
        .ok_or_else(|| anyhow::anyhow!("settings were not loaded"))?;
    match cli.command {
        Command::Serve { .. } => {
            crate::run::serve(&context).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Worker { stages, .. } => {
            let stages = wait_store::Stages::parse(&stages).unwrap_or(wait_store::Stages::All);
            crate::run::worker(&context, stages).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::ValidateWorker { .. } => {
            crate::run::worker(&context, wait_store::Stages::Validate).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Config { command } => crate::config::check::run(&context, command).await,
        Command::Init { common } => {
            let env = crate::env::Env::open(&common).await?;
            println!("database:   {}", env.database_display());
            println!("repository: {}", env.repo.root().display());
            Ok(ExitCode::SUCCESS)
        }
        Command::User {
            command:
                UserCommand::Add {
                    common,
                    name,
                    role,
                    password_stdin: _,
                },
        } => {
            crate::user::add(&common, &name, &role).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Image { command } => match command {
            ImageCommand::Info { file, json } => crate::image::info(&file, json),
            ImageCommand::Verify { file } => crate::image::verify(&file),
            ImageCommand::Winre { file, index, json } => crate::image::winre(&file, index, json),
            ImageCommand::Ls {
                file,
                index,
                path,
                long,
            } => crate::image::ls(&file, index, &path, long),
            ImageCommand::Extract {
                file,
                index,
                path,
                dest,
            } => crate::image::extract(&file, index, &path, &dest),
        },
        Command::Iso {
            command: IsoCommand::Ls { iso, json },
        } => crate::iso::ls(&iso, json),
        Command::Iso {
            command: IsoCommand::Extract { iso, path, dest },
        } => crate::iso::extract(&iso, &path, &dest),
        Command::Bench {
            command: BenchCommand::Image { dir, size_mib },
        } => crate::bench::image(dir, size_mib),
        Command::Bench {
            command: BenchCommand::Repo(args),
        } => crate::bench_repo::run(&args),
        Command::Bench {
            command: BenchCommand::Build(args),
        } => crate::bench_build::run(&args).await,
        Command::Repo { command } => crate::repo::dispatch(command),
        Command::Token { command } => crate::token::run(command).await,
        Command::Job { client, command } => crate::client::run_job(client, *command).await,
        Command::Login(args) => crate::client::run_login(args).await,
        Command::Validate { common, job, json } => crate::validate::run(&common, &job, json).await,
        Command::Migrate(args) => crate::migrate::run(args).await,
        Command::Backup(args) => crate::backup::run(args).await,
        Command::ImportSeedDb(args) => crate::import_seed::run(args).await,
        Command::Demo {
            common,
            worker,
            bind,
            once,
            seed,
        } => crate::demo::run(&common, &worker, &bind, once, seed).await,
        Command::Openapi(args) => crate::openapi_cmd::run(&args),
    }
}

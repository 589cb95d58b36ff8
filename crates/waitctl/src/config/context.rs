//! What a run is configured with: the config file and environment read before the
//! command line is parsed, the flags given, and their merge.

use std::path::{Path, PathBuf};

use clap::ArgMatches;
use clap::parser::ValueSource;

use super::{ConfigError, Partial, Settings, Source, Value, env, file, validate};

/// Which config file is in use and how it was named.
#[derive(Debug, Clone)]
pub struct ConfigFile {
    pub path: PathBuf,
    /// `--config` or `WAIT_CONFIG`.
    pub named_by: &'static str,
}

/// Everything read before the command line is parsed: the config file layer and the
/// environment layer.
#[derive(Debug, Clone, Default)]
pub struct Loaded {
    pub file: Option<ConfigFile>,
    pub file_layer: Partial,
    pub env_layer: Partial,
}

impl Loaded {
    /// Read `--config` (looked up in the raw arguments: the file supplies defaults for
    /// the flags, so it is needed before they are parsed) or `WAIT_CONFIG`, and the
    /// environment.
    pub fn from_process() -> Result<Self, ConfigError> {
        let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
        let file = config_path(&args);
        let file_layer = match &file {
            Some(f) => file::read(&f.path)?,
            None => Partial::default(),
        };
        validate::layer(&file_layer)?;
        let env_layer = env::read()?;
        validate::layer(&env_layer)?;
        Ok(Loaded {
            file,
            file_layer,
            env_layer,
        })
    }

    /// The file read again (SIGHUP); environment and flags do not change while running.
    pub fn reread_file(&self) -> Result<Partial, ConfigError> {
        match &self.file {
            Some(f) => {
                let layer = file::read(&f.path)?;
                validate::layer(&layer)?;
                Ok(layer)
            }
            None => Ok(Partial::default()),
        }
    }
}

fn config_path(args: &[std::ffi::OsString]) -> Option<ConfigFile> {
    let mut it = args.iter().skip(1);
    while let Some(a) = it.next() {
        let Some(s) = a.to_str() else { continue };
        if s == "--" {
            break;
        }
        if s == "--config" {
            return it.next().map(|p| ConfigFile {
                path: PathBuf::from(p),
                named_by: "--config",
            });
        }
        if let Some(p) = s.strip_prefix("--config=") {
            return Some(ConfigFile {
                path: PathBuf::from(p),
                named_by: "--config",
            });
        }
    }
    std::env::var_os("WAIT_CONFIG")
        .filter(|v| !v.is_empty())
        .map(|p| ConfigFile {
            path: PathBuf::from(p),
            named_by: "WAIT_CONFIG",
        })
}

/// The loaded layers, the flags of this invocation and their merge; kept for the whole
/// run so SIGHUP can merge a re-read file with the same environment and flags.
#[derive(Debug, Clone)]
pub struct Context {
    pub loaded: Loaded,
    pub flag_layer: Partial,
    pub settings: Settings,
}

impl Context {
    /// `matches` is the whole command line; the flags of the subcommand that runs are
    /// found in its innermost matches.
    pub fn new(loaded: Loaded, matches: &ArgMatches) -> Result<Self, ConfigError> {
        let flag_layer = flags(matches);
        validate::layer(&flag_layer)?;
        let settings = merge(&flag_layer, &loaded.env_layer, &loaded.file_layer);
        Ok(Context {
            loaded,
            flag_layer,
            settings,
        })
    }

    /// Settings with the config file read again.
    pub fn reload(&self) -> Result<Settings, ConfigError> {
        let file_layer = self.loaded.reread_file()?;
        Ok(merge(&self.flag_layer, &self.loaded.env_layer, &file_layer))
    }

    pub fn config_file(&self) -> Option<&Path> {
        self.loaded.file.as_ref().map(|f| f.path.as_path())
    }
}

fn merge(flags: &Partial, env: &Partial, file: &Partial) -> Settings {
    Settings::from_partial(flags.clone().over(env.clone()).over(file.clone()))
}

/// Values given on the command line (not clap defaults, not clap's environment
/// fallback: those belong to the lower layers).
fn flags(matches: &ArgMatches) -> Partial {
    let mut leaf = matches;
    while let Some((_, sub)) = leaf.subcommand() {
        leaf = sub;
    }
    let given = |id: &str| {
        leaf.try_get_raw(id).is_ok() && leaf.value_source(id) == Some(ValueSource::CommandLine)
    };
    fn one<T: Clone + Send + Sync + 'static>(
        m: &ArgMatches,
        id: &str,
        flag: &'static str,
    ) -> Option<Value<T>> {
        m.try_get_one::<T>(id)
            .ok()
            .flatten()
            .map(|v| Value::new(v.clone(), Source::Flag(flag)))
    }
    let mut p = Partial::default();
    if given("data_dir") {
        p.data_dir = one(leaf, "data_dir", "data-dir");
    }
    if given("repository") {
        p.repository = one::<PathBuf>(leaf, "repository", "repository")
            .map(|v| Value::new(Some(v.value), v.source));
    }
    if given("database_url") {
        p.database_url = one::<String>(leaf, "database_url", "database-url")
            .map(|v| Value::new(Some(v.value), v.source));
    }
    if given("bind") {
        p.bind = one(leaf, "bind", "bind");
    }
    if given("no_worker") {
        p.no_worker = one(leaf, "no_worker", "no-worker");
    }
    if given("concurrency") {
        p.concurrency = one(leaf, "concurrency", "concurrency");
    }
    if given("lease_seconds") {
        p.lease_seconds = one(leaf, "lease_seconds", "lease-seconds");
    }
    if given("drain_seconds") {
        p.drain_seconds = one(leaf, "drain_seconds", "drain-seconds");
    }
    if given("download_allow_private") {
        p.download_allow_private = one(leaf, "download_allow_private", "download-allow-private");
    }
    if given("hooks") {
        let raw = leaf.get_raw("hooks").into_iter().flatten();
        let specs = raw.map(|s| s.to_string_lossy().into_owned()).collect();
        p.hooks = Some(Value::new(specs, Source::Flag("hook")));
    }
    // Global flags are visible in the innermost matches wherever they were written.
    if given("log_level") {
        p.log_level = one(leaf, "log_level", "log-level");
    }
    if given("log_format") {
        p.log_format = one(leaf, "log_format", "log-format");
    }
    p
}

//! The build stages, run in order on one blocking thread:
//! resolve → source → drivers → packages → software → answer-file → winre → write →
//! iso → checksums → publish. Custom stages run after the built-in stage they name;
//! hooks run before and after each stage.

mod answer;
mod finish;
mod iso;
mod source;
mod staging;
mod state;
mod winre;
mod write;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use wait_catalog::Repository;
use wait_store::{Job, Resource};

pub(crate) use state::BuildState;

use crate::PipelineError;
use crate::manifest::StageTiming;
use crate::publish;
use crate::report::Reporter;
use crate::stage::{Stage, StageContext};

/// What a successful build hands to the validation stage and the job record.
#[derive(Debug, Clone)]
pub(crate) struct BuildOutcome {
    /// `<customer>/<folder>`, relative to `8_Output/`.
    pub output_dir: String,
    pub output_files: Vec<String>,
    pub resources: Vec<Resource>,
    pub warnings: Vec<String>,
}

/// Everything around the job that the worker prepared for the build.
#[derive(Clone, Default)]
pub(crate) struct BuildEnv {
    pub work_dir: PathBuf,
    pub hash_cache: Option<PathBuf>,
    /// The customer's output folder naming template (None = the default).
    pub folder_template: Option<String>,
    /// The board's driver archive, downloaded before the build (None when the board
    /// has no download or it failed; the failure is already a warning).
    pub download: Option<crate::download::DriverDownload>,
    /// Warnings found before the build started (a failed download).
    pub warnings: Vec<String>,
    pub hooks: Vec<crate::hooks::Hook>,
    /// Custom stages and the built-in stage each runs after.
    pub custom: Vec<(String, Arc<dyn Stage>)>,
}

type StageFn = fn(&mut StageContext<'_>, &BuildEnv) -> Result<(), PipelineError>;

/// The built-in stages with their share of the progress bar (0–90; validation has the rest).
const STAGES: [(&str, (u8, u8), StageFn); 11] = [
    ("resolve", (0, 4), source::resolve_stage),
    ("source", (4, 8), source::source_stage),
    ("drivers", (8, 9), staging::drivers_stage),
    ("packages", (9, 10), staging::packages_stage),
    ("software", (10, 11), staging::software_stage),
    ("answer-file", (11, 12), answer::answer_stage),
    ("winre", (12, 15), winre::winre_stage),
    ("write", (15, 70), write::write_stage),
    ("iso", (70, 80), iso::iso_stage),
    ("checksums", (80, 88), finish::checksums_stage),
    ("publish", (88, 90), finish::publish_stage),
];

/// The names of the built-in stages, in order (for custom stages and hook points).
pub const BUILTIN_STAGES: [&str; STAGES.len()] = {
    let mut names = [""; STAGES.len()];
    let mut i = 0;
    while i < STAGES.len() {
        names[i] = STAGES[i].0;
        i += 1;
    }
    names
};

pub(crate) fn run(
    job: &Job,
    repo: &Repository,
    env: &BuildEnv,
    r: &Reporter,
) -> Result<BuildOutcome, PipelineError> {
    let req = &job.request;
    let customer_dir = repo.output_root().join(&req.customer_name);
    std::fs::create_dir_all(&customer_dir).map_err(|e| PipelineError::io(&customer_dir, e))?;
    let job_id = job.job_id.to_string();
    for stale in publish::remove_stale_partials(&customer_dir, &job_id) {
        r.info(
            "source",
            format!(
                "Removed the unfinished folder of an earlier attempt: {}",
                stale.display()
            ),
        );
    }
    let partial = PartialDir::create(publish::partial_dir(&customer_dir, &job_id, job.attempt))?;
    std::fs::create_dir_all(&env.work_dir).map_err(|e| PipelineError::io(&env.work_dir, e))?;
    // Host files added to the image are read when the WIM is written, so this folder
    // lives until the end of the build.
    let scratch = tempfile::Builder::new()
        .prefix(&format!("job-{job_id}-"))
        .tempdir_in(&env.work_dir)
        .map_err(|e| PipelineError::io(&env.work_dir, e))?;

    let mut cx = StageContext {
        job,
        repo,
        r,
        stage: String::new(),
        scratch: scratch.path().to_path_buf(),
        partial: partial.path().to_path_buf(),
        state: BuildState::new(env.warnings.clone()),
    };
    for stale in &env.warnings {
        r.info("resolve", format!("Warning: {stale}"));
    }
    if let Err(e) = run_stages(&mut cx, env) {
        let e = finish::explain_vanished(&cx, e);
        // A stage after publication failed (or the job was cancelled then): the
        // folder must not stay behind looking like a good build.
        if let Some(dir) = cx.state.published_dir.take() {
            let _ = std::fs::remove_dir_all(&dir);
            r.info("publish", format!("Removed {} again", dir.display()));
        }
        return Err(e);
    }
    // The folder now has its final name; nothing may remove it any more.
    partial.disarm();
    let state = cx.state;
    Ok(BuildOutcome {
        output_dir: state
            .output_dir
            .ok_or_else(|| PipelineError::Permanent("the build published nothing".into()))?,
        output_files: state.sums.iter().map(|(n, _)| n.clone()).collect(),
        resources: state
            .resolved
            .map(|r| r.resources)
            .unwrap_or_default()
            .into_iter()
            .chain(state.extra_resources)
            .collect(),
        warnings: state.warnings,
    })
}

fn run_stages(cx: &mut StageContext<'_>, env: &BuildEnv) -> Result<(), PipelineError> {
    for (name, share, f) in STAGES {
        run_stage(cx, env, name, share, |cx| f(cx, env))?;
        for (_, custom) in env.custom.iter().filter(|(after, _)| after == name) {
            let name = custom.name().to_string();
            run_stage(cx, env, &name, (share.1, share.1), |cx| custom.run(cx))?;
        }
    }
    Ok(())
}

/// Run one stage between its hooks, timing it and setting its progress share.
fn run_stage(
    cx: &mut StageContext<'_>,
    env: &BuildEnv,
    name: &str,
    share: (u8, u8),
    body: impl FnOnce(&mut StageContext<'_>) -> Result<(), PipelineError>,
) -> Result<(), PipelineError> {
    cx.r.check_cancel()?;
    cx.stage = name.to_string();
    cx.state.share = share;
    cx.r.progress(name.to_string(), share.0);
    let started = Instant::now();
    run_hooks(cx, env, &format!("before_stage.{name}"))?;
    body(cx)?;
    run_hooks(cx, env, &format!("after_stage.{name}"))?;
    cx.state.timings.push(StageTiming {
        stage: name.to_string(),
        seconds: started.elapsed().as_secs_f64(),
    });
    if cx.state.published_dir.is_some() {
        // Published: a cancel from now on is handled by validation, which removes it.
        return Ok(());
    }
    cx.r.check_cancel()
}

/// Run the hooks configured for `point`; their output goes to the job log.
pub(crate) fn run_hooks(
    cx: &mut StageContext<'_>,
    env: &BuildEnv,
    point: &str,
) -> Result<(), PipelineError> {
    for hook in env.hooks.iter().filter(|h| h.point == point) {
        cx.r.info("hook", format!("Running hook {point}: {}", hook.command));
        let output = cx
            .state
            .published_dir
            .clone()
            .unwrap_or_else(|| cx.partial.clone());
        let vars = [
            ("WAIT_JOB_ID", cx.job.job_id.to_string()),
            ("WAIT_HOOK_POINT", point.to_string()),
            ("WAIT_STAGE", cx.stage.clone()),
            ("WAIT_SCRATCH_DIR", path_text(&cx.scratch)),
            ("WAIT_OUTPUT_DIR", path_text(&output)),
            ("WAIT_REPOSITORY", path_text(cx.repo.root())),
            ("WAIT_CUSTOMER", cx.job.request.customer_name.clone()),
            ("WAIT_BOARD", cx.job.request.motherboard_model.clone()),
        ];
        let env_vars: Vec<(String, String)> =
            vars.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
        let cancel = cx.r.cancel_flag();
        let r = cx.r.clone();
        let result = crate::hooks::run_hook(hook, &env_vars, &cx.scratch, &cancel, &mut |line| {
            r.info("hook", format!("[{point}] {line}"));
        });
        match result {
            Ok(()) => {}
            // Once the folder is published a hook can no longer undo the build.
            Err(e) if cx.state.published_dir.is_some() => cx.warn(format!("hook {point}: {e}")),
            Err(crate::hooks::HookError::Cancelled { .. }) => return Err(PipelineError::Cancelled),
            Err(e) => return Err(PipelineError::Permanent(format!("hook {point}: {e}"))),
        }
    }
    Ok(())
}

fn path_text(p: &Path) -> String {
    p.to_string_lossy().into_owned()
}

/// The job's private output folder, removed unless it was published.
struct PartialDir {
    path: PathBuf,
    armed: bool,
}

impl PartialDir {
    fn create(path: PathBuf) -> Result<Self, PipelineError> {
        std::fs::create_dir(&path).map_err(|e| PipelineError::io(&path, e))?;
        Ok(Self { path, armed: true })
    }

    fn path(&self) -> &Path {
        &self.path
    }

    fn disarm(mut self) {
        self.armed = false;
    }
}

impl Drop for PartialDir {
    fn drop(&mut self) {
        if self.armed {
            let _ = std::fs::remove_dir_all(&self.path);
        }
    }
}

/// The compression of a `compression` value. `esd` is LZMS (its solid layout is an
/// output choice, see `output_format`); WinRE recompression uses this too.
pub(crate) fn parse_compression(s: &str) -> Result<wait_wim::Compression, PipelineError> {
    output_format(s).map(|f| f.compression)
}

/// How the output image is written: its compression, whether the file data goes into
/// solid resources, and the file extension that says so.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct OutputFormat {
    pub compression: wait_wim::Compression,
    /// Solid LZMS: an ESD, as Microsoft distributes `install.esd`.
    pub solid: bool,
}

impl OutputFormat {
    /// `esd` for solid output (Setup and DISM recognise the format by it), else `wim`.
    pub fn extension(self) -> &'static str {
        if self.solid { "esd" } else { "wim" }
    }
}

pub(crate) fn output_format(s: &str) -> Result<OutputFormat, PipelineError> {
    use wait_wim::Compression;
    let (compression, solid) = match s {
        "lzx" => (Compression::Lzx, false),
        "xpress" => (Compression::Xpress, false),
        "lzms" => (Compression::Lzms, false),
        "esd" => (Compression::Lzms, true),
        "none" => (Compression::None, false),
        other => {
            return Err(PipelineError::Permanent(format!(
                "compression: unknown value {other:?}"
            )));
        }
    };
    Ok(OutputFormat { compression, solid })
}

#[cfg(test)]
mod tests {
    use super::*;
    use wait_wim::Compression;

    #[test]
    fn every_accepted_compression_has_an_output_format() {
        for name in wait_store::COMPRESSIONS {
            let f = output_format(name).expect(name);
            assert_eq!(f.solid, name == "esd", "{name}");
            assert_eq!(f.extension(), if name == "esd" { "esd" } else { "wim" });
        }
        assert_eq!(parse_compression("esd").ok(), Some(Compression::Lzms));
        assert_eq!(parse_compression("lzms").ok(), Some(Compression::Lzms));
        match output_format("zip") {
            Err(PipelineError::Permanent(m)) => assert!(m.contains("compression"), "{m}"),
            other => panic!("unexpected {other:?}"),
        }
    }
}

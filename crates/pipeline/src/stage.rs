//! The build as a list of named stages, and the context they share.
//!
//! Each stage gets its own log lines (the stage name is the log line's stage), its
//! share of the progress bar and its time in the manifest. Built-in stages and custom
//! ones added with [`crate::Worker::add_stage`] implement the same [`Stage`] trait; hooks
//! (external commands) run before and after each stage.

use std::path::{Path, PathBuf};

use wait_catalog::Repository;
use wait_store::Job;
use wait_wim::UpdateCommand;

use crate::PipelineError;
use crate::checksum::staged_digest_until;
use crate::manifest::{ComponentEntry, StagedFile};
use crate::report::Reporter;

/// One step of a build.
pub trait Stage: Send + Sync {
    /// Short name used in log lines, progress, timings and hook points
    /// (`after_stage.<name>`).
    fn name(&self) -> &str;

    /// Do the work. Long work should call [`StageContext::check_cancel`] now and then;
    /// a cancelled job must stop within a second or two.
    fn run(&self, cx: &mut StageContext<'_>) -> Result<(), PipelineError>;
}

/// What a stage can see and change. Built-in stages also use the crate-private state
/// in [`crate::build::BuildState`].
pub struct StageContext<'a> {
    pub(crate) job: &'a Job,
    pub(crate) repo: &'a Repository,
    pub(crate) r: &'a Reporter,
    pub(crate) stage: String,
    pub(crate) scratch: PathBuf,
    pub(crate) partial: PathBuf,
    pub(crate) state: crate::build::BuildState,
}

impl std::fmt::Debug for StageContext<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StageContext")
            .field("job_id", &self.job.job_id)
            .field("stage", &self.stage)
            .field("scratch", &self.scratch)
            .field("output", &self.partial)
            .finish_non_exhaustive()
    }
}

impl StageContext<'_> {
    /// The job being built.
    pub fn job(&self) -> &Job {
        self.job
    }

    /// The resource repository.
    pub fn repository(&self) -> &Repository {
        self.repo
    }

    /// A private folder for this build; removed when the build ends.
    pub fn scratch_dir(&self) -> &Path {
        &self.scratch
    }

    /// The output folder being filled; it is published (renamed) only at the end.
    pub fn output_dir(&self) -> &Path {
        &self.partial
    }

    /// A log line under this stage's name.
    pub fn info(&self, message: impl Into<String>) {
        self.r.info(self.stage.clone(), message);
    }

    /// A warning: logged now and listed on the job and in the manifest.
    pub fn warn(&mut self, message: impl Into<String>) {
        let message = message.into();
        self.r
            .info(self.stage.clone(), format!("Warning: {message}"));
        self.state.warnings.push(message);
    }

    /// Put a host file into every output image at `image_path` ('/'-separated). It is
    /// hashed now and listed in the manifest, so validation checks it. Only possible
    /// before the `write` stage.
    pub fn stage_file(&mut self, host: &Path, image_path: &str) -> Result<(), PipelineError> {
        if self.state.written {
            return Err(PipelineError::Permanent(format!(
                "stage {}: files can only be added to the image before the write stage",
                self.stage
            )));
        }
        if !image_path.starts_with('/') || image_path.split('/').any(|p| p == "..") {
            return Err(PipelineError::Permanent(format!(
                "stage {}: image path {image_path:?} must be absolute and stay inside the image",
                self.stage
            )));
        }
        let (size, sha1, sha256) = staged_digest_until(host, &self.r.cancel_flag())?;
        self.state.commands.push(UpdateCommand::Add {
            source: host.to_path_buf(),
            target: image_path.to_string(),
        });
        self.state.staged.push(StagedFile {
            image_path: image_path.to_string(),
            size,
            sha1,
            sha256,
        });
        Ok(())
    }

    /// Describe a component in the manifest (what it is, where it sits, how and when
    /// Windows applies it).
    pub fn add_component(&mut self, entry: ComponentEntry) {
        self.state.component_entries.push(entry);
    }

    /// `Err(Cancelled)` once the job was cancelled.
    pub fn check_cancel(&self) -> Result<(), PipelineError> {
        self.r.check_cancel()
    }

    /// Set the job's progress within this stage's share: `fraction` from 0.0 to 1.0.
    pub fn progress(&self, fraction: f64) {
        let (from, to) = self.state.share;
        let span = f64::from(to.saturating_sub(from));
        let pct = f64::from(from) + span * fraction.clamp(0.0, 1.0);
        self.r.progress(self.stage.clone(), pct as u8);
    }
}

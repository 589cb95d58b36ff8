//! The build and validation stages, and the worker loop that runs them.
//!
//! A worker claims a job from the store, runs the build stages on a blocking thread
//! (all WIM work is synchronous libwim calls), publishes the output folder with one
//! atomic rename, then validates what it published. Every step is logged to the job's
//! log table, so the API can stream it even when the worker is another process.

mod build;
mod build_manifest;
mod checksum;
mod digest;
mod download;
mod error;
mod hooks;
mod job_run;
mod lease;
mod manifest;
mod plan;
mod publish;
mod report;
mod resolve;
mod setupcomplete;
mod stage;
mod stale;
mod unattend;
mod validate;
mod worker;

pub use build::BUILTIN_STAGES;
pub use checksum::{FileDigests, digest_file, write_checksum_files};
pub use digest::{BUILD_INFO_PATH, content_digest, content_digest_of_file};
pub use download::{DownloadError, DownloadPolicy, DriverDownload, fetch_driver_archive};
pub use error::PipelineError;
pub use hooks::{
    DEFAULT_HOOK_TIMEOUT, HOOK_STAGES, Hook, HookError, hook_points, parse_hook, run_hook,
};
pub use manifest::{
    ComponentEntry, FirstBoot, Manifest, ManifestBaseImage, ManifestIso, ManifestJob,
    ManifestOutput, ManifestWinre, PlannedSection, StageTiming, StagedFile,
};
pub use stage::{Stage, StageContext};
pub use unattend::{
    DriverPath, RenderedAnswerFile, UnattendPlan, merge_answer_file, render_unattend,
};
pub use validate::{ValidationReport, validate_output};
pub use wait_catalog::naming::{
    DEFAULT_FOLDER_TEMPLATE, MAX_FOLDER_NAME_BYTES, MAX_IMAGE_NAME_CHARS, MAX_TEMPLATE_CHARS,
    NamingError, NamingVars, TOKENS, check_image_name, check_template, output_folder_name,
    render_folder_name,
};
pub use worker::{Worker, WorkerConfig};

/// Where staged drivers live inside the image, '/'-separated.
pub const IMAGE_DRIVER_ROOT: &str = "/WAIT/Drivers";
/// The same folder as Windows sees it after installation.
pub const WINDOWS_DRIVER_ROOT: &str = r"C:\WAIT\Drivers";
/// The answer file Windows reads from inside an applied image.
pub const IMAGE_UNATTEND_PATH: &str = "/Windows/Panther/unattend.xml";
/// The first-boot script Setup runs after installation, before the first logon.
pub const IMAGE_SETUPCOMPLETE_PATH: &str = "/Windows/Setup/Scripts/SetupComplete.cmd";
/// The image file name inside an output folder with the default stem and WIM output
/// (ESD output writes `install.esd`; `image_name` changes the stem).
pub const IMAGE_FILE: &str = "install.wim";

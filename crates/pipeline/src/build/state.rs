//! What the built-in stages hand to each other.

use std::path::PathBuf;

use wait_media::winre::RecompressedWinre;
use wait_store::Resource;
use wait_wim::{UpdateCommand, Wim};

use crate::manifest::{
    ComponentEntry, FirstBoot, ManifestIso, ManifestWinre, StageTiming, StagedFile,
};
use crate::plan::ComponentPlan;
use crate::resolve::Resolved;
use crate::unattend::RenderedAnswerFile;
use crate::{FileDigests, PipelineError};

/// Where the base image's install WIM is read from.
pub(crate) struct BaseSource {
    /// The WIM/ESD to open (for an ISO base: the copy streamed out of the ISO).
    pub wim: PathBuf,
    /// For an ISO base: the install image's path inside the ISO.
    pub inside_iso: Option<String>,
}

/// An extracted Setup media tree for ISO output.
pub(crate) struct MediaTree {
    pub dir: PathBuf,
    /// The ISO it came from, relative to `1_BaseImages/`.
    pub from: String,
    pub label: String,
    /// `$WinPEDriver$` on the media, when storage or network drivers were put there.
    pub winpe_drivers: Option<String>,
}

/// One deliverable of the job: `key`, `nokey` or `default`.
pub(crate) struct Variant {
    pub name: &'static str,
    pub product_key: Option<String>,
    /// File stem: `install`, `install_key`, `install_nokey`, or the job's image name.
    pub stem: String,
    /// `wim`, or `esd` for solid LZMS output; the write stage sets it from the job's
    /// compression before any file is named.
    pub image_ext: &'static str,
    pub answer: Option<RenderedAnswerFile>,
    pub unattend_host: PathBuf,
    pub unattend: Option<StagedFile>,
    pub digests: Option<FileDigests>,
    pub content_digest: String,
    pub iso: Option<ManifestIso>,
}

impl Variant {
    pub fn image_file(&self) -> String {
        format!("{}.{}", self.stem, self.image_ext)
    }

    pub fn iso_file(&self) -> String {
        format!("{}.iso", self.stem)
    }
}

/// Which of the files WAIT writes the base image already has.
#[derive(Default)]
pub(crate) struct ExistingFiles {
    pub unattend: bool,
    pub setupcomplete: bool,
}

#[derive(Default)]
pub(crate) struct BuildState {
    /// This stage's share of the progress bar.
    pub share: (u8, u8),
    pub warnings: Vec<String>,
    pub resolved: Option<Resolved>,
    /// Inputs found during the build (downloads, checkpoints), beyond what resolve recorded.
    pub extra_resources: Vec<Resource>,
    pub base: Option<BaseSource>,
    /// The base image opened for looking (never written back).
    pub probe: Option<Wim<'static>>,
    pub existing: ExistingFiles,
    pub media: Option<MediaTree>,
    /// Changes applied to every output image.
    pub commands: Vec<UpdateCommand>,
    /// Files WAIT put in every output image.
    pub staged: Vec<StagedFile>,
    pub component_entries: Vec<ComponentEntry>,
    pub plan: Option<ComponentPlan>,
    /// Software runs from FirstLogonCommands instead of SetupComplete.cmd.
    pub software_at_logon: bool,
    pub variants: Vec<Variant>,
    pub first_boot: FirstBoot,
    pub winre: Option<ManifestWinre>,
    /// Keeps a recompressed Winre.wim alive until the images are written.
    pub winre_keep: Option<RecompressedWinre>,
    pub answer_conflicts: Vec<String>,
    /// The images are written: no more files can be staged.
    pub written: bool,
    pub timings: Vec<StageTiming>,
    /// Every output file with its digests, in the order listed on the job.
    pub sums: Vec<(String, FileDigests)>,
    pub folder: Option<String>,
    /// `<customer>/<folder>` once published.
    pub output_dir: Option<String>,
    pub published_dir: Option<PathBuf>,
}

impl BuildState {
    pub fn new(warnings: Vec<String>) -> Self {
        Self {
            warnings,
            ..Self::default()
        }
    }

    /// What the resolve stage found; an error only if a stage runs out of order.
    pub fn resolved(&self) -> Result<&Resolved, PipelineError> {
        self.resolved
            .as_ref()
            .ok_or_else(|| PipelineError::Permanent("internal: the build was not resolved".into()))
    }

    pub fn base(&self) -> Result<&BaseSource, PipelineError> {
        self.base
            .as_ref()
            .ok_or_else(|| PipelineError::Permanent("internal: no base image was opened".into()))
    }
}

//! What the caller asks for and what it gets back.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::swm::DEFAULT_SWM_PART_MIB;
use super::tools::ExternalTool;

/// The new install image that replaces `sources/install.*` on the medium.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InstallImage {
    /// One file: `.esd` becomes `sources/install.esd`, anything else `sources/install.wim`.
    Single(PathBuf),
    /// The parts of a split image in order: `sources/install.swm`, `install2.swm`, …
    Split(Vec<PathBuf>),
}

/// Which program writes the ISO.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum IsoTool {
    /// genisoimage when on PATH, else oscdimg when on PATH.
    #[default]
    Auto,
    Genisoimage,
    Oscdimg,
}

/// Options of [`AuthorRequest`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthorOptions {
    /// UEFI-boot `efi/microsoft/boot/efisys_noprompt.bin` (no "Press any key").
    pub uefi_noprompt: bool,
    pub tool: IsoTool,
    /// Write ISO 9660 (+ Joliet) without UDF; an install image larger than
    /// `swm_part_mib` is then split into SWM parts, and any file of 4 GiB or more is
    /// refused.
    pub iso9660_only: bool,
    /// Largest SWM part in MiB when splitting (default 3800).
    pub swm_part_mib: u64,
}

impl Default for AuthorOptions {
    fn default() -> Self {
        AuthorOptions {
            uefi_noprompt: false,
            tool: IsoTool::Auto,
            iso9660_only: false,
            swm_part_mib: DEFAULT_SWM_PART_MIB,
        }
    }
}

/// One bootable ISO to write.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthorRequest {
    /// A directory laid out like Windows install media (`boot/`, `efi/`, `sources/`,
    /// `setup.exe`, …); for an ISO source, a directory the ISO was extracted into.
    pub source_tree: PathBuf,
    /// Optional directory holding `boot/etfsboot.com` and
    /// `efi/microsoft/boot/efisys*.bin` (e.g. extracted from a source ISO); its files
    /// win over the tree's. Lets a caller take only the boot images from an ISO.
    pub boot_files_from: Option<PathBuf>,
    pub install_image: InstallImage,
    /// Placed at the media root as `autounattend.xml`, replacing any existing one.
    pub autounattend: Option<PathBuf>,
    /// Volume label (see [`super::validate_label`]).
    pub label: String,
    /// The ISO to write. Written as a hidden temporary file in the same directory and
    /// renamed over this path only when complete.
    pub output: PathBuf,
    pub options: AuthorOptions,
}

/// What was written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthorOutcome {
    pub output: PathBuf,
    pub size: u64,
    pub tool: ExternalTool,
    pub label: String,
    /// Whether the ISO has a UDF file system (false for `iso9660_only`).
    pub udf: bool,
    /// Paths inside the ISO of the boot images.
    pub bios_boot: String,
    pub uefi_boot: String,
    /// Paths inside the ISO of the install image file(s), in part order.
    pub install_files: Vec<String>,
    /// Whether `autounattend.xml` was placed at the root.
    pub answer_file: bool,
}

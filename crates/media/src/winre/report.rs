//! The serialisable WinRE report.

use serde::{Deserialize, Serialize};

/// Where Windows keeps its recovery environment, as written by Microsoft.
pub const WINRE_PATH: &str = "/Windows/System32/Recovery/Winre.wim";

/// Compression of a WIM, named as `wimlib-imagex info` prints it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum WimCompression {
    None,
    #[serde(rename = "XPRESS")]
    Xpress,
    #[serde(rename = "LZX")]
    Lzx,
    #[serde(rename = "LZMS")]
    Lzms,
}

impl WimCompression {
    /// The name `wimlib-imagex info` uses ("LZX", "LZMS", "XPRESS", "None").
    pub fn name(self) -> &'static str {
        match self {
            WimCompression::None => "None",
            WimCompression::Xpress => "XPRESS",
            WimCompression::Lzx => "LZX",
            WimCompression::Lzms => "LZMS",
        }
    }
}

impl From<wait_wim::Compression> for WimCompression {
    fn from(c: wait_wim::Compression) -> Self {
        match c {
            wait_wim::Compression::None => WimCompression::None,
            wait_wim::Compression::Xpress => WimCompression::Xpress,
            wait_wim::Compression::Lzx => WimCompression::Lzx,
            wait_wim::Compression::Lzms => WimCompression::Lzms,
        }
    }
}

impl From<WimCompression> for wait_wim::Compression {
    fn from(c: WimCompression) -> Self {
        match c {
            WimCompression::None => wait_wim::Compression::None,
            WimCompression::Xpress => wait_wim::Compression::Xpress,
            WimCompression::Lzx => wait_wim::Compression::Lzx,
            WimCompression::Lzms => wait_wim::Compression::Lzms,
        }
    }
}

/// One image inside `Winre.wim` (normally there is exactly one).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WinreImage {
    pub index: u32,
    pub name: Option<String>,
    /// WINDOWS/VERSION/BUILD, e.g. 26100.
    pub build: Option<u32>,
    /// MAJOR.MINOR.BUILD.SPBUILD, e.g. "10.0.26100.1".
    pub version: Option<String>,
    /// WINDOWS/ARCH: 0 x86, 9 x64, 12 arm64.
    pub arch: Option<u32>,
    pub languages: Vec<String>,
    pub default_language: Option<String>,
    /// "WindowsPE" for a recovery environment.
    pub installation_type: Option<String>,
}

/// What `Winre.wim` itself is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WinreWim {
    pub image_count: u32,
    pub boot_index: u32,
    pub compression: WimCompression,
    pub chunk_size: u32,
    pub images: Vec<WinreImage>,
}

/// The result of putting a recompressed `Winre.wim` back into the image.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WinreRecompression {
    pub from: WimCompression,
    pub to: WimCompression,
    pub old_size: u64,
    pub new_size: u64,
    /// SHA-1 of the new file (lower-case hex).
    pub new_sha1: String,
}

/// The WinRE report of one image of an install WIM.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WinreReport {
    /// Index of the image in the install WIM.
    pub image: u32,
    /// Whether the image has a `Winre.wim`.
    pub present: bool,
    /// Its path inside the image, with the image's own spelling.
    pub path: Option<String>,
    /// Size in bytes and SHA-1 (lower-case hex) of `Winre.wim` as found.
    pub size: Option<u64>,
    pub sha1: Option<String>,
    pub wim: Option<WinreWim>,
    pub recompression: Option<WinreRecompression>,
    /// What a Linux host cannot do to WinRE (DISM-only work), for the manifest.
    pub not_done: Vec<String>,
    /// Other facts worth reading (e.g. why WinRE is absent, caveats of recompression).
    pub notes: Vec<String>,
}

impl WinreReport {
    /// The report of an image that has no recovery environment.
    pub(crate) fn absent(image: u32) -> Self {
        WinreReport {
            image,
            present: false,
            path: None,
            size: None,
            sha1: None,
            wim: None,
            recompression: None,
            not_done: Vec::new(),
            notes: vec![format!(
                "image {image} has no {WINRE_PATH} (matched ignoring case): nothing to report"
            )],
        }
    }

    /// Build of the (first) WinRE image, e.g. 26100.
    pub fn build(&self) -> Option<u32> {
        self.first_image().and_then(|i| i.build)
    }

    /// Languages of the (first) WinRE image.
    pub fn languages(&self) -> &[String] {
        self.first_image().map_or(&[], |i| i.languages.as_slice())
    }

    /// Name of the (first) WinRE image.
    pub fn name(&self) -> Option<&str> {
        self.first_image().and_then(|i| i.name.as_deref())
    }

    fn first_image(&self) -> Option<&WinreImage> {
        self.wim.as_ref().and_then(|w| w.images.first())
    }
}

/// DISM-only WinRE work, stated instead of pretended.
pub(crate) fn not_done(build: Option<u32>) -> Vec<String> {
    let level = build.map_or_else(|| "its own build".to_owned(), |b| format!("build {b}"));
    vec![
        "WinRE language packs (WinPE_OCs\\<lang>\\lp.cab) were not added: that needs \
         DISM /Add-Package on the mounted Winre.wim (Windows only)"
            .to_owned(),
        "WinRE optional components (WinPE_OCs\\*.cab and their <lang> parts) were not \
         added: DISM only"
            .to_owned(),
        "DISM /Cleanup-Image (component-store cleanup) was not run inside WinRE: DISM only"
            .to_owned(),
        format!(
            "WinRE was not brought to the servicing level of the OS: updates installed at \
             first boot do not service Winre.wim, which stays at {level} (Safe OS dynamic \
             updates need DISM)"
        ),
    ]
}

//! Software in `6_Software/`: `.msi`, `.appx`/`.msix`, `.exe`. What each is (name,
//! version, publisher, architecture), its size and sha256, and the first-boot command that
//! installs it silently (SERVICING.md, "First-boot commands").

mod appx;
mod msi;
pub mod pe;

use std::path::Path;

use serde::Serialize;

pub use appx::MAX_MANIFEST_BYTES;
pub use pe::{MAX_RSRC_BYTES, PeVersion, parse_pe_version};

/// What kind of installer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SoftwareKind {
    Msi,
    Appx,
    Msix,
    Exe,
}

/// What WAIT knows about one installer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SoftwareInfo {
    /// File name (no folder).
    pub file: String,
    pub kind: SoftwareKind,
    pub name: Option<String>,
    pub version: Option<String>,
    pub publisher: Option<String>,
    pub arch: Option<String>,
    pub size: u64,
    pub sha256: String,
    /// The silent install command, with the file name quoted (relative to the folder the
    /// file is staged in).
    pub default_command: String,
}

/// Why an installer cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("{file}{}: {problem}", member.as_deref().map(|m| format!("/{m}")).unwrap_or_default())]
pub struct SoftwareError {
    pub file: String,
    /// The member of a package (`AppxManifest.xml`) or PE structure (`.rsrc`) at fault.
    pub member: Option<String>,
    pub problem: SoftwareProblem,
}

/// What is wrong.
#[derive(Debug, thiserror::Error)]
pub enum SoftwareProblem {
    #[error("cannot read: {0}")]
    Io(String),
    #[error("not a software file (expected .msi, .appx, .msix or .exe)")]
    UnknownExtension,
    #[error("the file is empty")]
    Empty,
    #[error("not an MSI database: {0}")]
    BadMsi(String),
    #[error("not a usable zip package: {0}")]
    BadZip(String),
    #[error("no AppxManifest.xml in the package")]
    NoManifest,
    #[error("{size} bytes, more than the {limit}-byte limit")]
    TooLarge { size: u64, limit: u64 },
    #[error("line {line}: {message}")]
    BadXml { line: usize, message: String },
    #[error("not a PE file: {0}")]
    NotPe(String),
    #[error("damaged PE file: {0}")]
    BadPe(String),
    #[error("silent switches {switches:?}: {reason}")]
    BadSwitches { switches: String, reason: String },
}

pub(crate) fn err(file: &str, member: Option<&str>, problem: SoftwareProblem) -> SoftwareError {
    SoftwareError {
        file: file.to_string(),
        member: member.map(str::to_string),
        problem,
    }
}

/// Inspect an installer in `6_Software/`.
pub fn inspect_software(path: &Path) -> Result<SoftwareInfo, SoftwareError> {
    let file = path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    let lower = file.to_ascii_lowercase();
    let kind = match lower.rsplit_once('.').map(|(_, e)| e) {
        Some("msi") => SoftwareKind::Msi,
        Some("appx") => SoftwareKind::Appx,
        Some("msix") => SoftwareKind::Msix,
        Some("exe") => SoftwareKind::Exe,
        _ => return Err(err(&file, None, SoftwareProblem::UnknownExtension)),
    };
    let hashed =
        crate::hash_file(path).map_err(|e| err(&file, None, SoftwareProblem::Io(e.to_string())))?;
    if hashed.size == 0 {
        return Err(err(&file, None, SoftwareProblem::Empty));
    }
    let mut info = SoftwareInfo {
        file: file.clone(),
        kind,
        name: None,
        version: None,
        publisher: None,
        arch: None,
        size: hashed.size,
        sha256: hashed.sha256,
        default_command: String::new(),
    };
    match kind {
        SoftwareKind::Msi => {
            let m = msi::read(path, &file)?;
            info.name = m.product_name;
            info.version = m.product_version;
            info.publisher = m.manufacturer;
            info.arch = m.arch;
            info.default_command = format!("msiexec /i \"{file}\" /qn /norestart");
        }
        SoftwareKind::Appx | SoftwareKind::Msix => {
            let id = appx::read(path, &file)?;
            info.name = id.name;
            info.version = id.version;
            info.publisher = id.publisher;
            info.arch = id.arch;
            info.default_command = format!(
                "powershell -NoProfile -Command Add-AppxProvisionedPackage -Online -PackagePath \"{file}\" -SkipLicense"
            );
        }
        SoftwareKind::Exe => {
            let v = pe::read_file(path, &file)?;
            info.name = v.product_name.or(v.file_description);
            info.version = v
                .product_version
                .or(v.fixed_product_version)
                .or(v.file_version)
                .or(v.fixed_file_version);
            info.publisher = v.company_name;
            info.arch = v.machine.map(str::to_string);
            info.default_command = exe_command(path, &file)?;
        }
    }
    Ok(info)
}

/// Longest switches text accepted for one installer.
pub const MAX_SWITCHES_LEN: usize = 400;

/// Silent switches end up on a cmd.exe line (SetupComplete.cmd) or an answer-file
/// command, so characters that would end the command, chain another one or redirect
/// its output are refused, as are line breaks and other control characters. Quotes and
/// `%VAR%` stay allowed: installers take `/DIR="…"` and `/LOG=%TEMP%\x.log`.
pub fn check_switches(switches: &str) -> Result<(), String> {
    if switches.len() > MAX_SWITCHES_LEN {
        return Err(format!(
            "{} characters, more than {MAX_SWITCHES_LEN}",
            switches.len()
        ));
    }
    if let Some(c) = switches.chars().find(|c| c.is_control()) {
        return Err(format!(
            "control character U+{:04X} is not allowed",
            u32::from(c)
        ));
    }
    if let Some(c) = switches.chars().find(|c| "&|<>^".contains(*c)) {
        return Err(format!(
            "{c:?} is not allowed (it would change the command line)"
        ));
    }
    if switches.matches('"').count() % 2 == 1 {
        return Err("unbalanced double quote".to_string());
    }
    Ok(())
}

/// Largest `<file>.switches` sidecar read.
const MAX_SWITCHES: u64 = 4096;

/// `"<file>"` plus the silent switches of `<file>.switches` (first non-empty line, comments
/// with `#` skipped) when that file exists.
fn exe_command(path: &Path, file: &str) -> Result<String, SoftwareError> {
    let mut sidecar = path.as_os_str().to_owned();
    sidecar.push(".switches");
    let sidecar = std::path::PathBuf::from(sidecar);
    let member = format!("{file}.switches");
    let bytes = match std::fs::metadata(&sidecar) {
        Ok(meta) if meta.len() > MAX_SWITCHES => {
            return Err(err(
                &member,
                None,
                SoftwareProblem::TooLarge {
                    size: meta.len(),
                    limit: MAX_SWITCHES,
                },
            ));
        }
        Ok(_) => std::fs::read(&sidecar)
            .map_err(|e| err(&member, None, SoftwareProblem::Io(e.to_string())))?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        Err(e) => return Err(err(&member, None, SoftwareProblem::Io(e.to_string()))),
    };
    let (text, _) = crate::text::decode(&bytes);
    let switches = text
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with('#'))
        .unwrap_or("");
    check_switches(switches).map_err(|reason| {
        err(
            &member,
            None,
            SoftwareProblem::BadSwitches {
                switches: switches.to_string(),
                reason,
            },
        )
    })?;
    Ok(if switches.is_empty() {
        format!("\"{file}\"")
    } else {
        format!("\"{file}\" {switches}")
    })
}

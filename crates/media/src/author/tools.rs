//! The external programs authoring relies on, and finding them on PATH.

use std::ffi::OsStr;
use std::fmt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::error::AuthorError;

/// An external program used (or, for `Xorriso`/`Isoinfo`, recommended as an oracle).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ExternalTool {
    Genisoimage,
    Oscdimg,
    WimlibImagex,
    Isoinfo,
    Xorriso,
}

impl ExternalTool {
    /// The program name looked up on PATH.
    pub fn program(self) -> &'static str {
        match self {
            ExternalTool::Genisoimage => "genisoimage",
            ExternalTool::Oscdimg => "oscdimg",
            ExternalTool::WimlibImagex => "wimlib-imagex",
            ExternalTool::Isoinfo => "isoinfo",
            ExternalTool::Xorriso => "xorriso",
        }
    }

    /// Where the program comes from, phrased for an operator.
    pub fn install_hint(self) -> &'static str {
        match self {
            // isoinfo ships in the genisoimage package on Debian.
            ExternalTool::Genisoimage | ExternalTool::Isoinfo => "Debian package `genisoimage`",
            ExternalTool::WimlibImagex => "Debian package `wimtools`",
            ExternalTool::Xorriso => "Debian package `xorriso`",
            ExternalTool::Oscdimg => {
                "Windows ADK (Deployment Tools); it has no Linux package, use genisoimage there"
            }
        }
    }

    /// The full path of the program on this host's PATH, or a `MissingTool` error.
    pub fn locate(self) -> Result<PathBuf, AuthorError> {
        let path_var = std::env::var_os("PATH").unwrap_or_default();
        find_in_path(self.program(), &path_var).ok_or(AuthorError::MissingTool { tool: self })
    }

    /// Whether the program is on this host's PATH.
    pub fn is_available(self) -> bool {
        self.locate().is_ok()
    }
}

impl fmt::Display for ExternalTool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.program())
    }
}

/// Search the directories of a PATH-style value for an executable `name`
/// (what `which` does; kept in-process so no extra tool is needed).
pub(crate) fn find_in_path(name: &str, path_var: &OsStr) -> Option<PathBuf> {
    std::env::split_paths(path_var)
        .filter(|dir| !dir.as_os_str().is_empty())
        .flat_map(|dir| candidates(&dir, name))
        .find(|p| is_executable(p))
}

fn candidates(dir: &Path, name: &str) -> Vec<PathBuf> {
    let plain = dir.join(name);
    if cfg!(windows) {
        vec![dir.join(format!("{name}.exe")), plain]
    } else {
        vec![plain]
    }
}

#[cfg(unix)]
fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

#[cfg(not(unix))]
fn is_executable(path: &Path) -> bool {
    std::fs::metadata(path).is_ok_and(|m| m.is_file())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_program_is_not_found_and_error_names_package() {
        let dir = tempfile::tempdir().expect("tempdir");
        assert!(find_in_path("genisoimage", dir.path().as_os_str()).is_none());
        let msg = AuthorError::MissingTool {
            tool: ExternalTool::Genisoimage,
        }
        .to_string();
        assert!(
            msg.contains("genisoimage") && msg.contains("Debian package"),
            "{msg}"
        );
        assert!(
            ExternalTool::WimlibImagex
                .install_hint()
                .contains("wimtools")
        );
        assert!(ExternalTool::Xorriso.install_hint().contains("xorriso"));
    }

    #[cfg(unix)]
    #[test]
    fn finds_executable_and_skips_plain_files() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().expect("tempdir");
        let tool = dir.path().join("mytool");
        std::fs::write(&tool, b"#!/bin/sh\n").expect("write");
        assert!(find_in_path("mytool", dir.path().as_os_str()).is_none());
        std::fs::set_permissions(&tool, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        assert_eq!(find_in_path("mytool", dir.path().as_os_str()), Some(tool));
    }
}

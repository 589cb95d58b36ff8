//! Reading the source media tree: where the boot images are, which old install images
//! and answer files must be left out, and the ISO 9660 size limit.
//!
//! Names are matched case-insensitively (media trees copied from Windows keep whatever
//! case the ISO had) and the real on-disk spelling is used in the ISO.

use std::path::{Path, PathBuf};

use super::error::AuthorError;

/// Where the BIOS boot image sits on Windows media.
pub const BIOS_BOOT: &str = "boot/etfsboot.com";
/// The UEFI boot image that asks "Press any key to boot from CD or DVD".
pub const UEFI_BOOT: &str = "efi/microsoft/boot/efisys.bin";
/// The UEFI boot image that boots without asking.
pub const UEFI_BOOT_NOPROMPT: &str = "efi/microsoft/boot/efisys_noprompt.bin";

/// Largest file an ISO 9660 directory record can describe (32-bit size field).
pub const ISO9660_MAX_FILE_SIZE: u64 = u32::MAX as u64;

/// One boot image: its path inside the ISO and the host file providing it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct BootFile {
    /// '/'-separated, relative to the media root, with the tree's own spelling.
    pub relative: String,
    pub host: PathBuf,
    /// Set when the file comes from the boot-files directory instead of the tree, so
    /// it must be grafted in (and the tree's copy, if any, left out).
    pub grafted: bool,
}

/// What authoring needs to know about the source media tree.
#[derive(Debug, Clone)]
pub(crate) struct MediaLayout {
    /// The tree, canonicalised (genisoimage compares exclusions with the paths it walks).
    pub root: PathBuf,
    /// Spelling of the `sources` directory in the tree ("sources" when absent).
    pub sources_dir: String,
    /// Existing `sources/install.{wim,esd,swm}` and `installN.swm` files.
    pub old_install: Vec<PathBuf>,
    /// Existing root-level `autounattend.xml` (any case).
    pub old_answer_files: Vec<PathBuf>,
    pub bios: BootFile,
    pub uefi: BootFile,
    /// Tree copies of boot images that a grafted boot image replaces.
    pub shadowed_boot: Vec<PathBuf>,
}

impl MediaLayout {
    /// Scan `tree`; boot images are taken from `boot_dir` first when given (a directory
    /// laid out like media, e.g. filled from a source ISO), then from the tree.
    pub fn scan(
        tree: &Path,
        boot_dir: Option<&Path>,
        uefi_noprompt: bool,
    ) -> Result<Self, AuthorError> {
        let root = canonical_dir(tree, "source media tree")?;
        let boot_dir = boot_dir
            .map(|d| canonical_dir(d, "boot files directory"))
            .transpose()?;

        let sources = find_ci(&root, "sources")?;
        let sources_dir = sources
            .as_ref()
            .map_or_else(|| "sources".to_owned(), |(name, _)| name.clone());
        let old_install = match &sources {
            Some((_, dir)) if dir.is_dir() => list_ci(dir, is_install_image_name)?,
            _ => Vec::new(),
        };
        let old_answer_files = list_ci(&root, |n| n == "autounattend.xml")?;

        let mut shadowed_boot = Vec::new();
        let bios = locate_boot(
            &root,
            boot_dir.as_deref(),
            BIOS_BOOT,
            "BIOS boot image",
            &mut shadowed_boot,
        )?;
        let uefi_rel = if uefi_noprompt {
            UEFI_BOOT_NOPROMPT
        } else {
            UEFI_BOOT
        };
        let uefi = locate_boot(
            &root,
            boot_dir.as_deref(),
            uefi_rel,
            "UEFI boot image",
            &mut shadowed_boot,
        )?;
        Ok(MediaLayout {
            root,
            sources_dir,
            old_install,
            old_answer_files,
            bios,
            uefi,
            shadowed_boot,
        })
    }

    /// Host paths of tree files that do not go into the ISO.
    pub fn excluded(&self, replace_answer_file: bool) -> Vec<PathBuf> {
        let mut out = self.old_install.clone();
        if replace_answer_file {
            out.extend(self.old_answer_files.iter().cloned());
        }
        out.extend(self.shadowed_boot.iter().cloned());
        out
    }

    /// Fail on the first tree file (not excluded) that ISO 9660 alone cannot hold.
    pub fn check_iso9660_sizes(&self, excluded: &[PathBuf]) -> Result<(), AuthorError> {
        let mut stack = vec![self.root.clone()];
        while let Some(dir) = stack.pop() {
            for entry in read_dir(&dir)? {
                let path = entry.path();
                if excluded.contains(&path) {
                    continue;
                }
                // genisoimage does not follow symbolic links without -f, so neither do we.
                let meta =
                    std::fs::symlink_metadata(&path).map_err(|e| AuthorError::io(&path, e))?;
                if meta.is_dir() {
                    stack.push(path);
                } else if meta.is_file() && meta.len() > ISO9660_MAX_FILE_SIZE {
                    return Err(AuthorError::TooLargeForIso9660 {
                        path,
                        size: meta.len(),
                    });
                }
            }
        }
        Ok(())
    }
}

/// `install.wim`, `install.esd`, `install.swm`, `install2.swm`, … (lower-cased input).
fn is_install_image_name(lower: &str) -> bool {
    if matches!(lower, "install.wim" | "install.esd" | "install.swm") {
        return true;
    }
    lower
        .strip_prefix("install")
        .and_then(|rest| rest.strip_suffix(".swm"))
        .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

fn canonical_dir(path: &Path, what: &'static str) -> Result<PathBuf, AuthorError> {
    let canonical = std::fs::canonicalize(path)
        .map_err(|e| AuthorError::bad_input(what, path, format!("cannot open: {e}")))?;
    if !canonical.is_dir() {
        return Err(AuthorError::bad_input(what, path, "not a directory"));
    }
    Ok(canonical)
}

fn read_dir(dir: &Path) -> Result<Vec<std::fs::DirEntry>, AuthorError> {
    std::fs::read_dir(dir)
        .map_err(|e| AuthorError::io(dir, e))?
        .map(|e| e.map_err(|err| AuthorError::io(dir, err)))
        .collect()
}

/// Entries of `dir` whose lower-cased name satisfies `pred`, sorted for stable output.
fn list_ci(dir: &Path, pred: impl Fn(&str) -> bool) -> Result<Vec<PathBuf>, AuthorError> {
    let mut out: Vec<PathBuf> = read_dir(dir)?
        .into_iter()
        .filter(|e| pred(&e.file_name().to_string_lossy().to_lowercase()))
        .map(|e| e.path())
        .collect();
    out.sort();
    Ok(out)
}

/// The entry of `dir` named `name` ignoring case; an exact match wins.
fn find_ci(dir: &Path, name: &str) -> Result<Option<(String, PathBuf)>, AuthorError> {
    let exact = dir.join(name);
    if std::fs::symlink_metadata(&exact).is_ok() {
        return Ok(Some((name.to_owned(), exact)));
    }
    let lower = name.to_lowercase();
    Ok(read_dir(dir)?.into_iter().find_map(|e| {
        let n = e.file_name().to_string_lossy().into_owned();
        (n.to_lowercase() == lower).then(|| (n, e.path()))
    }))
}

/// Resolve a '/'-separated relative path under `base` ignoring case. Returns the
/// on-disk spelling and the host path of an existing regular file.
fn resolve_file_ci(base: &Path, relative: &str) -> Result<Option<(String, PathBuf)>, AuthorError> {
    let mut host = base.to_path_buf();
    let mut spelled: Vec<String> = Vec::new();
    for part in relative.split('/') {
        if !host.is_dir() {
            return Ok(None);
        }
        match find_ci(&host, part)? {
            Some((name, path)) => {
                spelled.push(name);
                host = path;
            }
            None => return Ok(None),
        }
    }
    Ok(host.is_file().then(|| (spelled.join("/"), host)))
}

fn locate_boot(
    root: &Path,
    boot_dir: Option<&Path>,
    relative: &str,
    which: &'static str,
    shadowed: &mut Vec<PathBuf>,
) -> Result<BootFile, AuthorError> {
    let in_tree = resolve_file_ci(root, relative)?;
    let from_dir = match boot_dir {
        Some(dir) => resolve_file_ci(dir, relative)?,
        None => None,
    };
    let boot = match (from_dir, in_tree) {
        (Some((_, host)), tree) => {
            // Keep the tree's spelling so the grafted file replaces it in place.
            let relative = match tree {
                Some((spelled, tree_host)) => {
                    shadowed.push(tree_host);
                    spelled
                }
                None => relative.to_owned(),
            };
            BootFile {
                relative,
                host,
                grafted: true,
            }
        }
        (None, Some((spelled, host))) => BootFile {
            relative: spelled,
            host,
            grafted: false,
        },
        (None, None) => {
            let mut searched: Vec<PathBuf> = boot_dir.map(Path::to_path_buf).into_iter().collect();
            searched.push(root.to_path_buf());
            return Err(AuthorError::MissingBootFile {
                which,
                relative: relative.to_owned(),
                searched,
            });
        }
    };
    let size = std::fs::metadata(&boot.host)
        .map_err(|e| AuthorError::io(&boot.host, e))?
        .len();
    if size == 0 {
        return Err(AuthorError::bad_input(
            which,
            &boot.host,
            "the file is empty",
        ));
    }
    Ok(boot)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn touch(root: &Path, rel: &str, bytes: usize) {
        let p = root.join(rel);
        std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
        std::fs::write(p, vec![1u8; bytes]).expect("write");
    }

    #[test]
    fn install_names() {
        for yes in [
            "install.wim",
            "install.esd",
            "install.swm",
            "install2.swm",
            "install10.swm",
        ] {
            assert!(is_install_image_name(yes), "{yes}");
        }
        for no in [
            "install.wim.bak",
            "installx.swm",
            "install.swm2",
            "boot.wim",
            "install.swm.txt",
        ] {
            assert!(!is_install_image_name(no), "{no}");
        }
    }

    #[test]
    fn scan_finds_mixed_case_and_old_images() {
        let dir = tempfile::tempdir().expect("tempdir");
        let t = dir.path();
        touch(t, "BOOT/etfsboot.com", 4096);
        touch(t, "EFI/Microsoft/Boot/efisys.bin", 1024);
        touch(t, "Sources/Install.WIM", 1);
        touch(t, "Sources/install2.swm", 1);
        touch(t, "Sources/boot.wim", 1);
        touch(t, "AutoUnattend.xml", 1);
        let l = MediaLayout::scan(t, None, false).expect("scan");
        assert_eq!(l.bios.relative, "BOOT/etfsboot.com");
        assert_eq!(l.uefi.relative, "EFI/Microsoft/Boot/efisys.bin");
        assert_eq!(l.sources_dir, "Sources");
        let names: Vec<_> = l
            .old_install
            .iter()
            .filter_map(|p| p.file_name()?.to_str())
            .collect();
        assert_eq!(names, ["Install.WIM", "install2.swm"]);
        assert_eq!(l.old_answer_files.len(), 1);
        assert!(!l.bios.grafted);
    }

    #[test]
    fn missing_noprompt_names_the_file_and_boot_dir_overrides() {
        let dir = tempfile::tempdir().expect("tempdir");
        let tree = dir.path().join("tree");
        let boot = dir.path().join("bootfiles");
        touch(&tree, "boot/etfsboot.com", 4096);
        touch(&tree, "efi/microsoft/boot/efisys.bin", 1024);
        match MediaLayout::scan(&tree, None, true) {
            Err(AuthorError::MissingBootFile { relative, .. }) => {
                assert_eq!(relative, UEFI_BOOT_NOPROMPT);
            }
            other => panic!("unexpected {other:?}"),
        }
        touch(&boot, "efi/microsoft/boot/efisys_noprompt.bin", 1024);
        touch(&boot, "boot/etfsboot.com", 4096);
        let l = MediaLayout::scan(&tree, Some(&boot), true).expect("scan");
        assert!(l.uefi.grafted && l.bios.grafted);
        assert_eq!(l.shadowed_boot.len(), 1, "tree's etfsboot.com is replaced");
    }
}

//! Reading Windows install ISOs (UDF with an ISO 9660 bridge) and plain
//! ISO 9660/Joliet images without mounting them.
//!
//! [`IsoImage::open`] parses the whole directory tree up front (a Windows
//! ISO has about a thousand entries), so listing and lookup need no further
//! I/O; file contents are streamed on demand. Every offset and length taken
//! from the image is checked against the file size, directory walks have a
//! depth limit and a visited set, and sizes no real medium has are refused
//! as [`MediaError::Corrupt`].

mod bytes;
pub mod eltorito;
mod iso9660;
mod reader;
mod source;
mod tree;
mod udf;

use std::collections::HashMap;
use std::fs::File;
use std::io::{Read, Seek};
use std::path::{Path, PathBuf};

use crate::MediaError;

pub use reader::IsoFile;
pub use tree::Entry;

use source::{Input, Source};
use tree::{Piece, TreeBuilder};

/// Which file system to read when an image has both.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Prefer {
    /// UDF when present (Windows media keep their real tree there), else ISO 9660.
    #[default]
    Udf,
    /// ISO 9660 (Joliet names when present) when present, else UDF.
    Iso9660,
}

/// The file system an [`IsoImage`] was read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Filesystem {
    /// UDF; `revision` as recorded in the domain identifier, e.g. `0x0102`.
    Udf { revision: u16 },
    /// ISO 9660; `joliet` when names came from the Joliet tree.
    Iso9660 { joliet: bool },
}

/// The Windows install image(s) of a medium.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InstallImage {
    /// `sources/install.wim`.
    Wim(Entry),
    /// `sources/install.esd`.
    Esd(Entry),
    /// `sources/install.swm`, `install2.swm`, … in part order.
    Split(Vec<Entry>),
}

/// Boot files of Windows media, when present.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct BootFiles {
    /// `boot/etfsboot.com` (BIOS El Torito image).
    pub bios: Option<Entry>,
    /// `efi/microsoft/boot/efisys.bin` (UEFI image, "press any key").
    pub uefi: Option<Entry>,
    /// `efi/microsoft/boot/efisys_noprompt.bin` (UEFI image without the prompt).
    pub uefi_noprompt: Option<Entry>,
}

/// An opened ISO image with its directory tree in memory.
#[derive(Debug)]
pub struct IsoImage {
    src: Source,
    filesystem: Filesystem,
    label: String,
    entries: Vec<Entry>,
    pieces: Vec<Vec<Piece>>,
    /// Lower-cased path → index, for case-insensitive lookups.
    index: HashMap<String, usize>,
}

impl IsoImage {
    /// Opens the image at `path`, reading UDF when present.
    pub fn open(path: impl AsRef<Path>) -> Result<IsoImage, MediaError> {
        Self::open_with(path, Prefer::Udf)
    }

    /// Opens the image at `path`, choosing the file system by `prefer`.
    pub fn open_with(path: impl AsRef<Path>, prefer: Prefer) -> Result<IsoImage, MediaError> {
        let path = path.as_ref();
        let file = File::open(path).map_err(|source| MediaError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Self::from_input(Input::File(file), path.to_path_buf(), prefer)
    }

    /// Reads an image from any seekable reader; `name` is used in errors.
    pub fn from_reader<R: Read + Seek + Send + 'static>(
        reader: R,
        name: impl Into<PathBuf>,
        prefer: Prefer,
    ) -> Result<IsoImage, MediaError> {
        Self::from_input(Input::Reader(Box::new(reader)), name.into(), prefer)
    }

    fn from_input(input: Input, name: PathBuf, prefer: Prefer) -> Result<IsoImage, MediaError> {
        let mut src = Source::new(input, name)?;
        let vds = iso9660::Descriptors::scan(&mut src)?;
        let has_udf = udf::has_nsr(&mut src)?;
        if vds.primary.is_none() && vds.joliet.is_none() && !has_udf {
            return Err(MediaError::NotAnIso {
                path: src.name.clone(),
            });
        }
        // A cut-off image usually still has intact descriptors; its declared
        // size is what tells us.
        if let Some(needed) = vds.volume_bytes() {
            if needed > src.size {
                return Err(MediaError::Truncated {
                    path: src.name.clone(),
                    what: "ISO 9660 volume".to_string(),
                    needed,
                    size: src.size,
                });
            }
        }
        let use_udf = match prefer {
            Prefer::Udf => has_udf,
            Prefer::Iso9660 => vds.primary.is_none() && vds.joliet.is_none(),
        };
        let mut tree = TreeBuilder::default();
        let (filesystem, label) = if use_udf {
            let u = udf::read(&mut src, &mut tree)?;
            (
                Filesystem::Udf {
                    revision: u.revision,
                },
                u.label,
            )
        } else {
            let i = iso9660::read(&mut src, &vds, &mut tree)?;
            (Filesystem::Iso9660 { joliet: i.joliet }, i.label)
        };
        // Sorting by path gives a stable order whatever the on-disk order.
        let TreeBuilder {
            entries, pieces, ..
        } = tree;
        let mut pairs: Vec<(Entry, Vec<Piece>)> = entries.into_iter().zip(pieces).collect();
        pairs.sort_by(|a, b| a.0.path.cmp(&b.0.path));
        let (entries, pieces): (Vec<Entry>, Vec<Vec<Piece>>) = pairs.into_iter().unzip();
        let mut index = HashMap::with_capacity(entries.len());
        for (i, e) in entries.iter().enumerate() {
            // The first of two names differing only in case wins, as on Windows.
            index.entry(fold(&e.path)).or_insert(i);
        }
        Ok(IsoImage {
            src,
            filesystem,
            label,
            entries,
            pieces,
            index,
        })
    }

    /// The image's file name (or the name given to [`IsoImage::from_reader`]).
    pub fn path(&self) -> &Path {
        self.src.path()
    }

    /// The file system the tree was read from.
    pub fn filesystem(&self) -> Filesystem {
        self.filesystem
    }

    /// The volume label (UDF logical volume identifier or ISO 9660 volume id).
    pub fn volume_label(&self) -> &str {
        &self.label
    }

    /// Every file and directory, sorted by path.
    pub fn list(&self) -> &[Entry] {
        &self.entries
    }

    /// Looks `path` up ignoring case; `\` and a leading `/` are accepted.
    pub fn find(&self, path: &str) -> Option<&Entry> {
        self.lookup(path).and_then(|i| self.entries.get(i))
    }

    fn lookup(&self, path: &str) -> Option<usize> {
        self.index.get(&fold(&normalize(path))).copied()
    }

    fn not_found(&self, path: &str) -> MediaError {
        MediaError::NotFound {
            iso: self.src.name.clone(),
            path: path.to_string(),
        }
    }

    /// Opens a file for streaming; memory use does not depend on its size.
    pub fn open_file(&mut self, path: &str) -> Result<IsoFile<'_>, MediaError> {
        let i = self.lookup(path).ok_or_else(|| self.not_found(path))?;
        let (Some(entry), Some(pieces)) = (self.entries.get(i), self.pieces.get(i)) else {
            return Err(self.not_found(path));
        };
        if entry.is_dir {
            return Err(MediaError::IsADirectory {
                iso: self.src.name.clone(),
                path: entry.path.clone(),
            });
        }
        Ok(IsoFile::new(&mut self.src, pieces, &entry.path, entry.size))
    }

    /// Copies the file at `path` to `dest` (created or truncated); returns
    /// the number of bytes written.
    pub fn extract(&mut self, path: &str, dest: impl AsRef<Path>) -> Result<u64, MediaError> {
        let dest = dest.as_ref();
        let i = self.lookup(path).ok_or_else(|| self.not_found(path))?;
        let (Some(entry), Some(pieces)) = (self.entries.get(i), self.pieces.get(i)) else {
            return Err(self.not_found(path));
        };
        if entry.is_dir {
            return Err(MediaError::IsADirectory {
                iso: self.src.name.clone(),
                path: entry.path.clone(),
            });
        }
        let mut out = File::create(dest).map_err(|source| MediaError::Io {
            path: dest.to_path_buf(),
            source,
        })?;
        // No fsync here: like `cp`, durability is left to whoever publishes
        // the result (the pipeline syncs and renames its output folder).
        reader::copy_out(&mut self.src, pieces, dest, &mut out)
    }

    /// `sources/install.wim`, else `sources/install.esd`, else the
    /// `sources/install*.swm` set in part order.
    pub fn find_install_image(&self) -> Result<InstallImage, MediaError> {
        let file = |p: &str| self.find(p).filter(|e| !e.is_dir).cloned();
        if let Some(e) = file("sources/install.wim") {
            return Ok(InstallImage::Wim(e));
        }
        if let Some(e) = file("sources/install.esd") {
            return Ok(InstallImage::Esd(e));
        }
        let mut parts: Vec<(u32, Entry)> = self
            .entries
            .iter()
            .filter(|e| !e.is_dir)
            .filter_map(|e| swm_part(&e.path).map(|n| (n, e.clone())))
            .collect();
        if parts.is_empty() {
            return Err(MediaError::NoInstallImage {
                iso: self.src.name.clone(),
            });
        }
        parts.sort_by_key(|(n, _)| *n);
        Ok(InstallImage::Split(
            parts.into_iter().map(|(_, e)| e).collect(),
        ))
    }

    /// The El Torito boot images Windows media carry, when present.
    pub fn boot_files(&self) -> BootFiles {
        let file = |p: &str| self.find(p).filter(|e| !e.is_dir).cloned();
        BootFiles {
            bios: file("boot/etfsboot.com"),
            uefi: file("efi/microsoft/boot/efisys.bin"),
            uefi_noprompt: file("efi/microsoft/boot/efisys_noprompt.bin"),
        }
    }
}

/// `sources/install.swm` is part 1, `sources/installN.swm` part N.
fn swm_part(path: &str) -> Option<u32> {
    let lower = fold(path);
    let rest = lower
        .strip_prefix("sources/install")?
        .strip_suffix(".swm")?;
    if rest.is_empty() {
        return Some(1);
    }
    if rest.bytes().all(|b| b.is_ascii_digit()) {
        rest.parse().ok()
    } else {
        None
    }
}

fn normalize(path: &str) -> String {
    path.replace('\\', "/").trim_matches('/').to_string()
}

/// Case folding for lookups. Windows compares names with an upper-case
/// table; Unicode lower-casing agrees with it for the names media use.
fn fold(path: &str) -> String {
    path.to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::{fold, normalize, swm_part};

    #[test]
    fn swm_parts_are_numbered() {
        assert_eq!(swm_part("sources/install.swm"), Some(1));
        assert_eq!(swm_part("SOURCES/INSTALL2.SWM"), Some(2));
        assert_eq!(swm_part("sources/install10.swm"), Some(10));
        assert_eq!(swm_part("sources/installx.swm"), None);
        assert_eq!(swm_part("other/install.swm"), None);
    }

    #[test]
    fn lookups_ignore_case_and_separators() {
        assert_eq!(
            fold(&normalize("\\Sources\\Install.WIM")),
            "sources/install.wim"
        );
        assert_eq!(fold(&normalize("/efi/Microsoft/")), "efi/microsoft");
    }
}

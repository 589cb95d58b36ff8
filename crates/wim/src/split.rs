//! Split WIM sets (.swm): writing them with `wimlib_split` and opening them by
//! referencing the other parts.

use std::collections::HashSet;
use std::ffi::OsString;
use std::path::{Path, PathBuf};

use libc::c_uint;

use crate::cstr;
use crate::error::{Result, WimError, check};
use crate::header::{self, part_path};
use crate::output::{same_file, write_flags};
use crate::sys;
use crate::types::WriteOptions;
use crate::wim::Wim;

/// Names in the directory of `first` before a split, so that a failed split removes
/// only the parts it created.
fn names_in_dir_of(first: &Path) -> HashSet<OsString> {
    let dir = match first.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    std::fs::read_dir(dir)
        .map(|rd| rd.filter_map(|e| e.ok().map(|e| e.file_name())).collect())
        .unwrap_or_default()
}

impl Wim<'_> {
    /// Write this WIM as a split set: `first_part` ("install.swm"), then
    /// "install2.swm", "install3.swm", ... next to it. Returns the part paths in order.
    ///
    /// `part_size` is the most bytes per part, except that a single resource larger
    /// than that still goes into one part. From `opts`, compression, chunk size and
    /// integrity apply; `threads` is not used (libwim copies or compresses with one
    /// thread here) and `solid` is refused: libwim cannot split solid resources (an
    /// ESD cannot be split either: `Unsupported`). On failure or abort, parts that did
    /// not exist before are removed. Progress: [`crate::Stage::Split`] when parts
    /// begin and end, [`crate::Stage::Write`] within each part.
    pub fn split(
        &mut self,
        first_part: &Path,
        part_size: u64,
        opts: &WriteOptions,
    ) -> Result<Vec<PathBuf>> {
        if part_size == 0 {
            return Err(WimError::InvalidArgument("part size 0".to_owned()));
        }
        if opts.solid {
            return Err(WimError::InvalidArgument(
                "split parts cannot hold solid resources".to_owned(),
            ));
        }
        if first_part.file_name().is_none() {
            return Err(WimError::InvalidArgument(format!(
                "{} does not name a file",
                first_part.display()
            )));
        }
        let c_path = cstr::path(first_part)?;
        let before = names_in_dir_of(first_part);
        let rc = {
            let _held = self.begin()?;
            let reads_from = std::iter::once(&self.lock)
                .chain(&self.sources)
                .filter_map(|l| l.path.as_deref());
            for source in reads_from {
                if same_file(first_part, source) {
                    return Err(WimError::InvalidArgument(format!(
                        "{} is a WIM being read from",
                        first_part.display()
                    )));
                }
            }
            self.apply_output(opts)?;
            // SAFETY: live, locked handle (and locked sources); `c_path` outlives the
            // call; the progress hook (if any) is owned by `self`.
            unsafe {
                sys::wimlib_split(
                    self.raw.as_ptr(),
                    c_path.as_ptr(),
                    part_size,
                    (write_flags(opts) & !sys::WIMLIB_WRITE_FLAG_SOLID) | self.guid_flag(),
                )
            }
        };
        if rc != 0 {
            // Parts are written in order, so the created ones form a prefix.
            for n in 1..=u16::MAX {
                let p = part_path(first_part, n);
                if !p.exists() {
                    break;
                }
                let new = p.file_name().is_some_and(|f| !before.contains(f));
                if new {
                    // Best effort: the interesting error is the one libwim reported.
                    let _ = std::fs::remove_file(&p);
                }
            }
        }
        self.resume_progress_panic();
        if rc == sys::WIMLIB_ERR_UNSUPPORTED {
            return Err(WimError::Unsupported(
                "splitting a WIM that contains solid resources (libwim cannot)".to_owned(),
            ));
        }
        check(rc, &self.ctx())?;
        let total = header::read(first_part)?.total_parts.max(1);
        let parts: Vec<PathBuf> = (1..=total).map(|n| part_path(first_part, n)).collect();
        if let Some((n, p)) = (1..=total).zip(&parts).find(|(_, p)| !p.exists()) {
            return Err(WimError::MissingPart {
                part: n,
                path: p.clone(),
            });
        }
        Ok(parts)
    }

    /// Make the other parts of a split set available to this handle, which must have
    /// been opened from its first part. Every part of the set must then be present,
    /// either in `parts` or from an earlier call: otherwise `MissingPart` names the
    /// first one absent (with the file name libwim would have given it). A file from
    /// another set (different GUID) or a standalone WIM is `InvalidArgument`; a
    /// missing file is `NotFound`.
    pub fn reference_parts(&mut self, parts: &[PathBuf]) -> Result<()> {
        let Some(first) = self.path.clone() else {
            return Err(WimError::InvalidArgument(
                "a new in-memory WIM has no split parts".to_owned(),
            ));
        };
        let me = {
            let _held = self.begin()?;
            self.raw_info()
        };
        if me.total_parts <= 1 {
            return Err(WimError::InvalidArgument(format!(
                "{} is not part of a split WIM",
                first.display()
            )));
        }
        let mut known: HashSet<u16> = self.parts.iter().map(|(n, _)| *n).collect();
        known.insert(me.part_number);
        let mut new_parts: Vec<(u16, PathBuf)> = Vec::new();
        for p in parts {
            let h = header::read(p)?;
            if h.guid != me.guid || h.total_parts != me.total_parts {
                return Err(WimError::InvalidArgument(format!(
                    "{} is not a part of the split WIM {}",
                    p.display(),
                    first.display()
                )));
            }
            if known.insert(h.part_number) {
                new_parts.push((h.part_number, p.clone()));
            }
        }
        if let Some(n) = (1..=me.total_parts).find(|n| !known.contains(n)) {
            return Err(WimError::MissingPart {
                part: n,
                path: part_path(&first, n),
            });
        }
        if new_parts.is_empty() {
            return Ok(());
        }
        let c_paths = new_parts
            .iter()
            .map(|(_, p)| cstr::path(p))
            .collect::<Result<Vec<_>>>()?;
        let ptrs: Vec<*const libc::c_char> = c_paths.iter().map(|c| c.as_ptr()).collect();
        let count = c_uint::try_from(ptrs.len())
            .map_err(|_| WimError::InvalidArgument("too many parts".to_owned()))?;
        let rc = {
            let _held = self.begin()?;
            // SAFETY: live, locked handle; `ptrs` holds `count` C strings that, with
            // `c_paths`, outlive the call. libwim opens and owns the part handles.
            unsafe {
                sys::wimlib_reference_resource_files(self.raw.as_ptr(), ptrs.as_ptr(), count, 0, 0)
            }
        };
        check(rc, &self.ctx())?;
        self.parts.extend(new_parts);
        Ok(())
    }
}

impl Wim<'static> {
    /// Open a split set from its first part, finding the other parts next to it by
    /// libwim's naming ("install.swm", "install2.swm", ...). A standalone WIM opens
    /// as with [`Wim::open`]. A missing sibling is `MissingPart` naming the file; a
    /// file that is not part 1 is `InvalidArgument`.
    pub fn open_split(first: &Path) -> Result<Self> {
        let h = header::read(first)?;
        if h.total_parts <= 1 {
            return Self::open(first);
        }
        if h.part_number != 1 {
            return Err(WimError::InvalidArgument(format!(
                "{} is part {} of {}, not the first part",
                first.display(),
                h.part_number,
                h.total_parts
            )));
        }
        let others: Vec<PathBuf> = (2..=h.total_parts).map(|n| part_path(first, n)).collect();
        if let Some((n, p)) = (2..=h.total_parts).zip(&others).find(|(_, p)| !p.exists()) {
            return Err(WimError::MissingPart {
                part: n,
                path: p.clone(),
            });
        }
        let mut wim = Self::open(first)?;
        wim.reference_parts(&others)?;
        Ok(wim)
    }
}

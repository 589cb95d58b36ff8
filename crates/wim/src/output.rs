//! Writing, verifying and extracting, and registering progress closures.

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::ptr::{self, NonNull};

use libc::{c_int, c_uint};

use crate::cstr;
use crate::error::{ErrorContext, Result, WimError, check};
use crate::lock::lock_all;
use crate::progress::{Progress, ProgressControl, ProgressHook};
use crate::sys;
use crate::types::{Compression, ImageSelector, WriteOptions};
use crate::wim::Wim;

pub(crate) fn write_flags(opts: &WriteOptions) -> c_int {
    let mut flags = if opts.check_integrity {
        sys::WIMLIB_WRITE_FLAG_CHECK_INTEGRITY
    } else {
        sys::WIMLIB_WRITE_FLAG_NO_CHECK_INTEGRITY
    };
    if opts.recompress {
        flags |= sys::WIMLIB_WRITE_FLAG_RECOMPRESS;
    }
    if opts.solid {
        flags |= sys::WIMLIB_WRITE_FLAG_SOLID;
    }
    flags
}

/// Check a chunk size before libwim sees it, so that the error names the value.
/// `compression` is `None` when the output compression is not known here; libwim
/// then checks the range itself (see `apply_output`).
fn validate_chunk_size(size: u32, compression: Option<Compression>) -> Result<()> {
    let bad = |why: &str| {
        Err(WimError::InvalidArgument(format!(
            "chunk size {size}: {why}"
        )))
    };
    if !size.is_power_of_two() {
        return bad("not a power of two");
    }
    match compression.map(|c| (c, c.chunk_size_range())) {
        Some((c, None)) => bad(&format!("{c:?} output has no chunks")),
        Some((c, Some((lo, hi)))) if size < lo || size > hi => {
            bad(&format!("{c:?} accepts {lo}..={hi}"))
        }
        _ => Ok(()),
    }
}

pub(crate) fn same_file(a: &Path, b: &Path) -> bool {
    match (std::fs::metadata(a), std::fs::metadata(b)) {
        (Ok(x), Ok(y)) => x.dev() == y.dev() && x.ino() == y.ino(),
        _ => false,
    }
}

impl Wim<'_> {
    /// RETAIN_GUID when the GUID was pinned with `set_guid`.
    pub(crate) fn guid_flag(&self) -> c_int {
        if self.guid_pinned {
            sys::WIMLIB_WRITE_FLAG_RETAIN_GUID
        } else {
            0
        }
    }

    /// Set the output compression (no locking; the caller holds the locks).
    fn apply_compression(&self, compression: Option<Compression>) -> Result<()> {
        if let Some(c) = compression {
            // SAFETY: live, locked handle and a valid compression constant.
            let rc =
                unsafe { sys::wimlib_set_output_compression_type(self.raw.as_ptr(), c.to_raw()) };
            check(rc, &self.ctx())?;
        }
        Ok(())
    }

    /// Apply the compression, solid and chunk-size settings of `opts` to the handle
    /// (no locking; the caller holds the locks). The compression is set first because
    /// libwim resets an incompatible chunk size when the compression changes.
    pub(crate) fn apply_output(&self, opts: &WriteOptions) -> Result<()> {
        let chunk_error = |size: u32, rc| {
            if rc == sys::WIMLIB_ERR_INVALID_CHUNK_SIZE {
                WimError::InvalidArgument(format!(
                    "chunk size {size} is not accepted for this compression"
                ))
            } else {
                crate::error::from_code(rc, &self.ctx())
            }
        };
        if opts.solid {
            // Like `wimlib-imagex --solid`: the non-solid parts (image metadata) use
            // the same compression as the solid data.
            let c = opts.compression.unwrap_or(Compression::Lzms);
            if c == Compression::None {
                return Err(WimError::InvalidArgument(
                    "solid output needs a compression other than None".to_owned(),
                ));
            }
            if let Some(size) = opts.chunk_size {
                validate_chunk_size(size, Some(c))?;
            }
            self.apply_compression(Some(c))?;
            // SAFETY: live, locked handle and a valid (non-NONE) compression constant.
            let rc = unsafe {
                sys::wimlib_set_output_pack_compression_type(self.raw.as_ptr(), c.to_raw())
            };
            check(rc, &self.ctx())?;
            if let Some(size) = opts.chunk_size {
                // SAFETY: live, locked handle.
                let rc = unsafe { sys::wimlib_set_output_pack_chunk_size(self.raw.as_ptr(), size) };
                if rc != 0 {
                    return Err(chunk_error(size, rc));
                }
            }
            return Ok(());
        }
        if let Some(size) = opts.chunk_size {
            // Without an explicit compression the header's is the best guess; a new
            // in-memory WIM reports None there, so libwim is left to judge the range.
            let known = opts.compression.or_else(|| {
                let c = Compression::from_raw(self.raw_info().compression_type);
                (c != Compression::None).then_some(c)
            });
            validate_chunk_size(size, known)?;
        }
        self.apply_compression(opts.compression)?;
        if let Some(size) = opts.chunk_size {
            // SAFETY: live, locked handle.
            let rc = unsafe { sys::wimlib_set_output_chunk_size(self.raw.as_ptr(), size) };
            if rc != 0 {
                return Err(chunk_error(size, rc));
            }
        }
        Ok(())
    }

    /// Set the chunk size used for compressed output by later writes (a power of two
    /// valid for the compression type, e.g. 32768 for LZX; 0 restores the default).
    /// Changing the compression afterwards may reset it. `WriteOptions::chunk_size`
    /// does the same per write.
    pub fn set_output_chunk_size(&mut self, chunk_size: u32) -> Result<()> {
        let _held = self.begin()?;
        // SAFETY: live, locked handle.
        let rc = unsafe { sys::wimlib_set_output_chunk_size(self.raw.as_ptr(), chunk_size) };
        check(rc, &self.ctx())
    }

    /// Write the WIM (all images or one) to a new file at `path`.
    ///
    /// On failure (including `Aborted`), a file that did not exist before the call is
    /// removed. An existing file at `path` is replaced from the start of the write, so
    /// after a failure it holds an incomplete WIM that libwim refuses to open. Writing
    /// onto the file this WIM (or a WIM it exported from) reads from is refused:
    /// use `overwrite` for that.
    pub fn write(&mut self, path: &Path, images: ImageSelector, opts: &WriteOptions) -> Result<()> {
        let c_path = cstr::path(path)?;
        let existed = std::fs::symlink_metadata(path).is_ok();
        let rc = {
            let _held = self.begin()?;
            let reads_from = std::iter::once(&self.lock)
                .chain(&self.sources)
                .filter_map(|l| l.path.as_deref());
            for source in reads_from {
                if existed && same_file(path, source) {
                    return Err(WimError::InvalidArgument(format!(
                        "{} is a WIM being read from; use overwrite instead",
                        path.display()
                    )));
                }
            }
            let image = match images {
                ImageSelector::All => sys::WIMLIB_ALL_IMAGES,
                ImageSelector::One(n) => self.check_image(n)?,
            };
            self.apply_output(opts)?;
            // SAFETY: live, locked handle (and locked sources); `c_path` outlives the
            // call; the progress hook (if any) is owned by `self`.
            unsafe {
                sys::wimlib_write(
                    self.raw.as_ptr(),
                    c_path.as_ptr(),
                    image,
                    write_flags(opts) | self.guid_flag(),
                    opts.threads as c_uint,
                )
            }
        };
        if rc != 0 && !existed {
            // Best effort: the interesting error is the one libwim reported.
            let _ = std::fs::remove_file(path);
        }
        self.resume_progress_panic();
        check(rc, &self.ctx())
    }

    /// Rewrite the WIM it was opened from.
    ///
    /// With `opts.rebuild` (the default), libwim writes a complete new file next to the
    /// original and renames it over the original only on success; on failure or abort
    /// the original is untouched and the temporary file is removed. Without it, new
    /// data and a new blob table are appended in place; space of deleted data is not
    /// reclaimed, and on failure libwim truncates the file back to its old size. Afterwards this handle is reopened on the new
    /// file (libwim allows nothing else on the old handle), and the progress closure
    /// stays registered. `check_integrity: false` drops an existing integrity table.
    /// A WIM made by `create_new` has no file: `InvalidArgument`.
    pub fn overwrite(&mut self, opts: &WriteOptions) -> Result<()> {
        let Some(path) = self.path.clone() else {
            return Err(WimError::InvalidArgument(
                "overwrite needs a WIM opened from a file; use write for a new WIM".to_owned(),
            ));
        };
        let rc = {
            let _held = self.begin()?;
            self.apply_output(opts)?;
            let mut flags = write_flags(opts);
            if opts.rebuild {
                flags |= sys::WIMLIB_WRITE_FLAG_REBUILD;
            }
            // SAFETY: live, locked handle; the progress hook (if any) is owned by `self`.
            unsafe { sys::wimlib_overwrite(self.raw.as_ptr(), flags, opts.threads as c_uint) }
        };
        self.resume_progress_panic();
        check(rc, &self.ctx())?;
        self.reopen(&path)
    }

    /// Replace the handle by a fresh one opened from `path`.
    fn reopen(&mut self, path: &Path) -> Result<()> {
        let flags = self.open_flags & !sys::WIMLIB_OPEN_FLAG_CHECK_INTEGRITY;
        let reopened = crate::wim::open_raw(path, flags, self.progress.borrow().as_ref());
        let new_raw: NonNull<sys::WIMStruct> = match reopened {
            Ok(raw) => raw,
            Err(e) => {
                self.spent = true;
                return Err(e);
            }
        };
        {
            let _held = lock_all(std::iter::once(&self.lock).chain(&self.sources));
            let old = std::mem::replace(&mut self.raw, new_raw);
            // SAFETY: `old` was owned by this handle and is no longer reachable; the
            // locks keep WIMs sharing state with it quiet while it is freed.
            unsafe { sys::wimlib_free(old.as_ptr()) };
        }
        // The new handle reads only its own file.
        self.sources.clear();
        self.spent = false;
        Ok(())
    }

    /// Read every blob and check its hash (plus the image metadata).
    pub fn verify(&mut self) -> Result<()> {
        let rc = {
            let _held = self.begin()?;
            // SAFETY: live, locked handle; flags must be 0.
            unsafe { sys::wimlib_verify_wim(self.raw.as_ptr(), 0) }
        };
        self.resume_progress_panic();
        check(rc, &self.ctx())
    }

    /// Extract one file from the image into `dest_dir` (keeps the file name).
    ///
    /// The file lands directly in `dest_dir` (no parent directories recreated); a
    /// directory path extracts that whole tree under its own name. No ACLs or UNIX
    /// owner data are applied. A missing path is `PathNotInImage`.
    pub fn extract_file(
        &self,
        image: u32,
        path_in_image: &str,
        dest_dir: &Path,
    ) -> Result<PathBuf> {
        let Some(name) = path_in_image.rsplit(['/', '\\']).find(|s| !s.is_empty()) else {
            return Err(WimError::InvalidArgument(format!(
                "{path_in_image:?} does not name a file"
            )));
        };
        if name == "." || name == ".." {
            return Err(WimError::InvalidArgument(format!(
                "{path_in_image:?} does not name a file"
            )));
        }
        let c_path = cstr::text(path_in_image, "image path")?;
        let c_dest = cstr::path(dest_dir)?;
        let rc = {
            let _held = self.begin()?;
            let index = self.check_image(image)?;
            let paths = [c_path.as_ptr()];
            let flags = sys::WIMLIB_EXTRACT_FLAG_NO_PRESERVE_DIR_STRUCTURE
                | sys::WIMLIB_EXTRACT_FLAG_NO_ACLS;
            // SAFETY: live, locked handle; `paths` holds one C string and, with
            // `c_dest`, outlives the call; the progress hook is owned by `self`.
            unsafe {
                sys::wimlib_extract_paths(
                    self.raw.as_ptr(),
                    index,
                    c_dest.as_ptr(),
                    paths.as_ptr(),
                    1,
                    flags,
                )
            }
        };
        self.resume_progress_panic();
        let count = self.image_count();
        check(
            rc,
            &ErrorContext {
                image: Some((image, count)),
                image_path: Some(path_in_image),
                ..self.ctx()
            },
        )?;
        Ok(dest_dir.join(name))
    }

    /// Register a progress closure. It replaces any earlier one.
    ///
    /// The closure runs on the calling thread, inside libwim calls made through this
    /// handle. Returning `Abort` makes the running call fail with `WimError::Aborted`.
    /// A panic in the closure aborts the libwim call and then continues as a normal
    /// Rust panic in the caller once libwim has returned.
    pub fn set_progress<F>(&mut self, f: F)
    where
        F: FnMut(Progress) -> ProgressControl + Send + 'static,
    {
        let hook = ProgressHook::new(f);
        self.register(hook.func(), hook.ctx());
        // The old hook (if any) is dropped only now that libwim no longer points at it.
        drop(self.progress.replace(Some(hook)));
    }

    /// A progress closure that only watches `cancel`: once it is set, the running
    /// libwim call fails with `WimError::Aborted`. For long reads and writes whose
    /// progress nobody shows (it replaces any earlier closure).
    pub fn abort_when_set(&mut self, cancel: &std::sync::Arc<std::sync::atomic::AtomicBool>) {
        let flag = std::sync::Arc::clone(cancel);
        self.set_progress(move |_| {
            if flag.load(std::sync::atomic::Ordering::Relaxed) {
                ProgressControl::Abort
            } else {
                ProgressControl::Continue
            }
        });
    }

    pub fn clear_progress(&mut self) {
        self.register(None, ptr::null_mut());
        drop(self.progress.replace(None));
    }

    fn register(&mut self, func: sys::wimlib_progress_func_t, ctx: *mut libc::c_void) {
        if self.spent {
            return;
        }
        let _held = self.held();
        // SAFETY: live, locked handle; `func`/`ctx` are unset or belong to a hook that
        // `self` keeps until it registers another one or is dropped.
        unsafe { sys::wimlib_register_progress_function(self.raw.as_ptr(), func, ctx) };
    }
}

/// Convenience: capture `source` into a new WIM file at `dest` with one image.
pub fn capture(source: &Path, dest: &Path, name: &str, compression: Compression) -> Result<()> {
    let mut wim = Wim::create_new(compression)?;
    wim.add_image(source, name)?;
    wim.write(dest, ImageSelector::All, &WriteOptions::default())
}

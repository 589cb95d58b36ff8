//! The `Wim` handle: ownership of the `WIMStruct`, opening, creating, reading.

use std::cell::RefCell;
use std::ffi::CStr;
use std::marker::PhantomData;
use std::path::{Path, PathBuf};
use std::ptr::{self, NonNull};
use std::sync::Arc;

use libc::{c_int, c_void};

use crate::cstr;
use crate::error::{ErrorContext, Result, WimError, check};
use crate::init::ensure_init;
use crate::iterate::{self, Walk};
use crate::lock::{DataLock, Held, lock_all};
use crate::progress::{Progress, ProgressControl, ProgressHook};
use crate::property;
use crate::sys;
use crate::types::{Compression, FileEntry, ImageInfo, WimInfo};

/// An open (or new, in-memory) WIM.
///
/// `'src` ties the handle to WIMs that images were exported from: their data is read
/// when this WIM is written, so they must stay open until then.
pub struct Wim<'src> {
    pub(crate) raw: NonNull<sys::WIMStruct>,
    /// The backing file, `None` for a WIM made by `create_new`.
    pub(crate) path: Option<PathBuf>,
    /// Flags the file was opened with (used to reopen it after `overwrite`).
    pub(crate) open_flags: c_int,
    /// The registered progress closure, if any. Interior mutability lets `&self`
    /// operations collect a panic caught inside the closure.
    pub(crate) progress: RefCell<Option<ProgressHook>>,
    /// This handle's lock, and the locks of every WIM it exported images from.
    pub(crate) lock: Arc<DataLock>,
    pub(crate) sources: Vec<Arc<DataLock>>,
    /// Set when `overwrite` succeeded but reopening the file failed: libwim then
    /// allows nothing but freeing the handle.
    pub(crate) spent: bool,
    /// Other parts of a split set referenced by `reference_parts`, with their part
    /// numbers (the stream reader opens them by number).
    pub(crate) parts: Vec<(u16, PathBuf)>,
    /// Set by `set_guid`: `write` and `split` then keep the GUID instead of drawing
    /// a new one (libwim's default for a new file).
    pub(crate) guid_pinned: bool,
    pub(crate) _src: PhantomData<&'src ()>,
}

// SAFETY: a WIMStruct may be used from any thread as long as calls on it do not
// overlap. `Wim` is not `Sync` (the `NonNull` and `RefCell` fields see to that), so
// only one thread at a time can call into a given handle. State shared with other
// handles through exports is serialised by the `DataLock`s (see `lock.rs`), and the
// progress closure is `Send`.
unsafe impl Send for Wim<'_> {}

impl std::fmt::Debug for Wim<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Wim")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl Drop for Wim<'_> {
    fn drop(&mut self) {
        let _held = lock_all(std::iter::once(&self.lock).chain(&self.sources));
        // SAFETY: `raw` is owned by this handle and freed exactly once, here. The locks
        // keep any WIM sharing state with it quiet meanwhile. The progress hook (if
        // any) is dropped after this, once libwim can no longer call it.
        unsafe { sys::wimlib_free(self.raw.as_ptr()) };
    }
}

/// Open `path` with libwim, registering `hook` if given. Returns the raw handle.
pub(crate) fn open_raw(
    path: &Path,
    flags: c_int,
    hook: Option<&ProgressHook>,
) -> Result<NonNull<sys::WIMStruct>> {
    let c_path = cstr::path(path)?;
    let (func, ctx) = hook.map_or((None, ptr::null_mut()), |h| (h.func(), h.ctx()));
    let mut raw: *mut sys::WIMStruct = ptr::null_mut();
    // SAFETY: `c_path` is NUL-terminated and outlives the call; `raw` is a valid out
    // pointer; `func`/`ctx` are either both unset or a live hook's pair.
    let rc =
        unsafe { sys::wimlib_open_wim_with_progress(c_path.as_ptr(), flags, &mut raw, func, ctx) };
    check(
        rc,
        &ErrorContext {
            wim_path: Some(path),
            opening: true,
            ..Default::default()
        },
    )?;
    NonNull::new(raw).ok_or_else(|| WimError::Library {
        code: 0,
        message: "libwim returned no handle".to_owned(),
    })
}

impl<'src> Wim<'src> {
    fn from_raw(
        raw: NonNull<sys::WIMStruct>,
        path: Option<PathBuf>,
        open_flags: c_int,
        hook: Option<ProgressHook>,
    ) -> Self {
        Wim {
            raw,
            lock: DataLock::new(path.clone()),
            path,
            open_flags,
            progress: RefCell::new(hook),
            sources: Vec::new(),
            spent: false,
            parts: Vec::new(),
            guid_pinned: false,
            _src: PhantomData,
        }
    }

    fn open_with_flags(path: &Path, flags: c_int, hook: Option<ProgressHook>) -> Result<Self> {
        ensure_init()?;
        let result = open_raw(path, flags, hook.as_ref());
        let mut hook = hook;
        // A panic in the closure (only possible during an integrity check) wins over
        // the result; a handle opened meanwhile is freed by its Drop while unwinding.
        let wim =
            result.map(|raw| Self::from_raw(raw, Some(path.to_path_buf()), flags, hook.take()));
        if let Some(payload) = hook.as_mut().and_then(ProgressHook::take_panic) {
            drop(wim);
            std::panic::resume_unwind(payload);
        }
        let wim = wim?;
        wim.resume_progress_panic();
        Ok(wim)
    }

    /// Open an existing WIM read-only-ish (it may later be `overwrite`n).
    pub fn open(path: &Path) -> Result<Self> {
        Self::open_with_flags(path, 0, None)
    }

    /// Open and verify the integrity table if present.
    pub fn open_checked(path: &Path) -> Result<Self> {
        Self::open_with_flags(path, sys::WIMLIB_OPEN_FLAG_CHECK_INTEGRITY, None)
    }

    /// Open with a progress closure already registered (as by `set_progress`). With
    /// `check_integrity`, the integrity check reports [`crate::Stage::Verify`] progress
    /// and can be aborted.
    pub fn open_with_progress<F>(path: &Path, check_integrity: bool, f: F) -> Result<Self>
    where
        F: FnMut(Progress) -> ProgressControl + Send + 'static,
    {
        let flags = if check_integrity {
            sys::WIMLIB_OPEN_FLAG_CHECK_INTEGRITY
        } else {
            0
        };
        Self::open_with_flags(path, flags, Some(ProgressHook::new(f)))
    }

    /// A new, empty, in-memory WIM.
    pub fn create_new(compression: Compression) -> Result<Self> {
        ensure_init()?;
        let mut raw: *mut sys::WIMStruct = ptr::null_mut();
        // SAFETY: valid compression constant and a valid out pointer.
        let rc = unsafe { sys::wimlib_create_new_wim(compression.to_raw(), &mut raw) };
        check(rc, &ErrorContext::default())?;
        let raw = NonNull::new(raw).ok_or_else(|| WimError::Library {
            code: 0,
            message: "libwim returned no handle".to_owned(),
        })?;
        Ok(Self::from_raw(raw, None, 0, None))
    }

    /// The file this WIM was opened from (`None` for a new in-memory WIM).
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    // ----- internal helpers -------------------------------------------------------

    /// Lock this handle and everything it exported from, for one libwim call.
    pub(crate) fn held(&self) -> Held<'_> {
        lock_all(std::iter::once(&self.lock).chain(&self.sources))
    }

    /// Like `held`, but refuses a handle that libwim no longer allows to be used.
    pub(crate) fn begin(&self) -> Result<Held<'_>> {
        if self.spent {
            return Err(WimError::InvalidArgument(
                "this handle was overwritten but could not be reopened; open the file again"
                    .to_owned(),
            ));
        }
        Ok(self.held())
    }

    pub(crate) fn ctx(&self) -> ErrorContext<'_> {
        ErrorContext {
            wim_path: self.path.as_deref(),
            ..Default::default()
        }
    }

    /// Resume a panic caught in the progress closure during the last libwim call.
    pub(crate) fn resume_progress_panic(&self) {
        let payload = self
            .progress
            .borrow_mut()
            .as_mut()
            .and_then(ProgressHook::take_panic);
        if let Some(payload) = payload {
            std::panic::resume_unwind(payload);
        }
    }

    /// Header info without locking (the caller holds the locks).
    pub(crate) fn raw_info(&self) -> sys::wimlib_wim_info {
        let mut info = sys::wimlib_wim_info::default();
        // SAFETY: `raw` is a live handle and `info` a properly sized out struct;
        // wimlib_get_wim_info only reads the handle and always returns 0.
        unsafe { sys::wimlib_get_wim_info(self.raw.as_ptr(), &mut info) };
        info
    }

    /// Check a 1-based image number against the image count (no locking).
    pub(crate) fn check_image(&self, image: u32) -> Result<c_int> {
        let count = self.raw_info().image_count;
        if image == 0 || image > count {
            return Err(WimError::NoSuchImage { image, count });
        }
        c_int::try_from(image).map_err(|_| WimError::NoSuchImage { image, count })
    }

    /// One property, without validation or locking.
    fn raw_property(&self, image: c_int, name: &CStr) -> Option<String> {
        // SAFETY: live handle, valid image, NUL-terminated name. The returned string
        // belongs to libwim and may change on later calls, so it is copied at once.
        let value =
            unsafe { sys::wimlib_get_image_property(self.raw.as_ptr(), image, name.as_ptr()) };
        if value.is_null() {
            return None;
        }
        // SAFETY: non-null, NUL-terminated, valid until the next libwim call.
        Some(
            unsafe { CStr::from_ptr(value) }
                .to_string_lossy()
                .into_owned(),
        )
    }

    // ----- reading ----------------------------------------------------------------

    /// Header information of the WIM as opened (or as last reopened after
    /// `overwrite`). For a WIM made by `create_new`, `compression` is `None` until it
    /// is written and reopened: the compression given to `create_new` (or in
    /// `WriteOptions`) applies to the next write, not to the header.
    pub fn info(&self) -> WimInfo {
        let _held = self.held();
        let i = self.raw_info();
        WimInfo {
            guid: i.guid,
            image_count: i.image_count,
            boot_index: i.boot_index,
            compression: Compression::from_raw(i.compression_type),
            chunk_size: i.chunk_size,
            part_number: i.part_number,
            total_parts: i.total_parts,
            has_integrity_table: i.flags & sys::WIM_INFO_FLAG_HAS_INTEGRITY_TABLE != 0,
        }
    }

    /// Whether the WIM holds solid resources (an ESD). The header cannot tell: libwim
    /// gives every LZMS WIM the solid format version, solid or not.
    pub fn has_solid_resources(&self) -> Result<bool> {
        let _held = self.begin()?;
        // SAFETY: the locks are held and `raw` is live for the whole walk.
        let (rc, solid) = unsafe { iterate::any_solid(self.raw.as_ptr()) };
        check(rc, &self.ctx())?;
        Ok(solid)
    }

    pub fn image_count(&self) -> u32 {
        let _held = self.held();
        self.raw_info().image_count
    }

    /// A raw XML property such as "NAME", "WINDOWS/ARCH", "WINDOWS/VERSION/BUILD".
    /// The name is validated before it reaches libwim.
    pub fn image_property(&self, image: u32, name: &str) -> Result<Option<String>> {
        property::validate_name(name)?;
        let c_name = cstr::text(name, "property name")?;
        let _held = self.begin()?;
        let image = self.check_image(image)?;
        Ok(self.raw_property(image, &c_name))
    }

    /// Set (or, with an empty `value`, remove) a property of the in-memory XML. It
    /// reaches the file with the next `write`/`overwrite`. Names are validated like
    /// for `image_property`; a value containing NUL is `InvalidArgument`.
    pub fn set_image_property(&mut self, image: u32, name: &str, value: &str) -> Result<()> {
        property::validate_name(name)?;
        property::validate_value(value)?;
        let c_name = cstr::text(name, "property name")?;
        let c_value = cstr::text(value, "property value")?;
        let _held = self.begin()?;
        let index = self.check_image(image)?;
        // SAFETY: live handle, valid image, two NUL-terminated strings outliving the call.
        let rc = unsafe {
            sys::wimlib_set_image_property(
                self.raw.as_ptr(),
                index,
                c_name.as_ptr(),
                c_value.as_ptr(),
            )
        };
        let count = self.raw_info().image_count;
        check(
            rc,
            &ErrorContext {
                image: Some((image, count)),
                ..self.ctx()
            },
        )
    }

    pub fn image_info(&self, image: u32) -> Result<ImageInfo> {
        let _held = self.begin()?;
        let index = self.check_image(image)?;
        Ok(property::image_info_from(image, |name| {
            // Names used by `image_info_from` are fixed and valid; a failed conversion
            // can only mean a NUL, which they do not contain.
            let c_name = cstr::text(name, "property name").ok()?;
            self.raw_property(index, &c_name)
        }))
    }

    /// The whole XML document (UTF-8).
    ///
    /// libwim reads it from the backing file, so it reflects the file as last written,
    /// not unsaved changes such as `set_image_property` (use `image_property` for
    /// those); for a new in-memory WIM it is empty.
    pub fn xml(&self) -> Result<String> {
        let _held = self.begin()?;
        let mut buf: *mut c_void = ptr::null_mut();
        let mut size: libc::size_t = 0;
        // SAFETY: live handle and valid out pointers.
        let rc = unsafe { sys::wimlib_get_xml_data(self.raw.as_ptr(), &mut buf, &mut size) };
        check(rc, &self.ctx())?;
        if buf.is_null() {
            return Ok(String::new());
        }
        let units: Vec<u16> = {
            // SAFETY: on success libwim hands over a malloc'd buffer of `size` bytes.
            let bytes = unsafe { std::slice::from_raw_parts(buf.cast::<u8>(), size) };
            bytes
                .chunks_exact(2)
                .map(|c| u16::from_le_bytes([c[0], c[1]]))
                .collect()
        };
        // SAFETY: the buffer came from libwim's default allocator (malloc) and is not
        // used after this point.
        unsafe { libc::free(buf) };
        let text = units.strip_prefix(&[0xFEFF]).unwrap_or(&units);
        Ok(String::from_utf16_lossy(text))
    }

    /// Visit every file and directory under `path` ("/" for all), recursively.
    /// The closure returns `false` to stop early.
    ///
    /// The entry for `path` itself is visited first (for "/" that is the root
    /// directory, with path "/"); its descendants follow. `sha1` is all zeros for
    /// data libwim has not hashed yet (files added since the WIM was last written).
    /// Names that are not valid Unicode are converted lossily.
    /// Path lookups are case-sensitive (libwim's default on Unix).
    pub fn for_each_file(
        &self,
        image: u32,
        path: &str,
        mut f: impl FnMut(&FileEntry) -> bool,
    ) -> Result<()> {
        let c_path = cstr::text(path, "image path")?;
        let _held = self.begin()?;
        let index = self.check_image(image)?;
        // SAFETY: the locks are held and `raw` is live for the whole walk.
        let walk = unsafe {
            iterate::walk(
                self.raw.as_ptr(),
                index,
                &c_path,
                sys::WIMLIB_ITERATE_DIR_TREE_FLAG_RECURSIVE,
                &mut f,
            )
        };
        match walk {
            Walk::Panicked(payload) => std::panic::resume_unwind(payload),
            Walk::Code(rc) => {
                let count = self.raw_info().image_count;
                check(
                    rc,
                    &ErrorContext {
                        image: Some((image, count)),
                        image_path: Some(path),
                        ..self.ctx()
                    },
                )
            }
        }
    }

    /// All entries under `path` as a Vec (same order and rules as `for_each_file`).
    pub fn files(&self, image: u32, path: &str) -> Result<Vec<FileEntry>> {
        let mut out = Vec::new();
        self.for_each_file(image, path, |e| {
            out.push(e.clone());
            true
        })?;
        Ok(out)
    }

    /// Whether `path` exists in `image` (no locking; the caller holds the locks).
    pub(crate) fn raw_exists(&self, index: c_int, path: &str) -> bool {
        let Ok(c_path) = cstr::text(path, "image path") else {
            return false;
        };
        let mut stop = |_: &FileEntry| false;
        // SAFETY: the caller holds the locks; `raw` is live.
        let walk = unsafe { iterate::walk(self.raw.as_ptr(), index, &c_path, 0, &mut stop) };
        matches!(walk, Walk::Code(0))
    }
}

/// libwim's version string, e.g. "1.13.5".
pub fn version() -> String {
    // SAFETY: returns a pointer to a static NUL-terminated string (or NULL); no state.
    let s = unsafe { sys::wimlib_get_version_string() };
    if s.is_null() {
        // SAFETY: plain getter with no preconditions.
        let v = unsafe { sys::wimlib_get_version() };
        return format!("{}.{}.{}", v >> 20, (v >> 10) & 0x3ff, v & 0x3ff);
    }
    // SAFETY: non-null static C string.
    unsafe { CStr::from_ptr(s) }.to_string_lossy().into_owned()
}

//! Walking the directory tree of an image with `wimlib_iterate_dir_tree`.

use std::any::Any;
use std::ffi::{CStr, c_void};
use std::panic::{AssertUnwindSafe, catch_unwind};

use libc::c_int;

use crate::sys;
use crate::types::FileEntry;

/// Returned by the callback to stop early. Far above any wimlib error code (< 100).
const STOP: c_int = 0x5741_4954;
/// Returned by the callback after the Rust closure panicked.
const PANICKED: c_int = 0x5741_4955;

struct Visit<'f> {
    f: &'f mut dyn FnMut(&FileEntry) -> bool,
    panic: Option<Box<dyn Any + Send + 'static>>,
}

/// Outcome of one walk.
pub(crate) enum Walk {
    /// wimlib's return code (0, or an error code). A stop requested by the closure is 0.
    Code(c_int),
    /// The closure panicked; resume this after releasing resources.
    Panicked(Box<dyn Any + Send + 'static>),
}

/// Convert one directory entry.
///
/// # Safety
/// `d` must point to a valid `wimlib_dir_entry` as passed to an iterate callback.
unsafe fn entry_from(dp: *const sys::wimlib_dir_entry) -> FileEntry {
    // SAFETY: the caller guarantees `dp` is valid for the duration of the callback.
    let d = unsafe { &*dp };
    let mut path = if d.full_path.is_null() {
        String::new()
    } else {
        // SAFETY: libwim passes a NUL-terminated path that lives during the callback.
        unsafe { CStr::from_ptr(d.full_path) }
            .to_string_lossy()
            .into_owned()
    };
    if !path.starts_with('/') {
        path.insert(0, '/');
    }
    // SAFETY: the streams array always has at least one entry (the unnamed stream,
    // see wimlib.h), directly after the fixed part of the struct; it is reached
    // through the raw entry pointer (whose provenance covers the whole C
    // allocation), not through the reference `d`.
    let unnamed = unsafe {
        (&raw const (*dp).streams)
            .cast::<sys::wimlib_stream_entry>()
            .read()
    };
    let is_directory = d.attributes & sys::WIMLIB_FILE_ATTRIBUTE_DIRECTORY != 0;
    FileEntry {
        path,
        size: unnamed.resource.uncompressed_size,
        sha1: unnamed.resource.sha1_hash,
        attributes: d.attributes,
        is_directory,
    }
}

unsafe extern "C" fn visit(dentry: *const sys::wimlib_dir_entry, ctx: *mut c_void) -> c_int {
    if dentry.is_null() || ctx.is_null() {
        return 0;
    }
    // SAFETY: `ctx` is the `Visit` that `walk` passed, alive and otherwise unused
    // until wimlib_iterate_dir_tree returns.
    let v = unsafe { &mut *ctx.cast::<Visit<'_>>() };
    if v.panic.is_some() {
        return PANICKED;
    }
    // SAFETY: `dentry` comes straight from libwim for this callback.
    let entry = unsafe { entry_from(dentry) };
    let f = &mut v.f;
    match catch_unwind(AssertUnwindSafe(|| f(&entry))) {
        Ok(true) => 0,
        Ok(false) => STOP,
        Err(payload) => {
            v.panic = Some(payload);
            PANICKED
        }
    }
}

/// Walk `path` of `image` recursively (the entry at `path` itself comes first).
///
/// # Safety
/// `raw` must be a valid, exclusively accessed `WIMStruct` for the whole call.
pub(crate) unsafe fn walk(
    raw: *mut sys::WIMStruct,
    image: c_int,
    path: &CStr,
    flags: c_int,
    f: &mut dyn FnMut(&FileEntry) -> bool,
) -> Walk {
    let mut v = Visit { f, panic: None };
    // SAFETY: `raw` is valid per the caller; `path` is NUL-terminated; `visit` matches
    // the callback type and `v` outlives the call.
    let rc = unsafe {
        sys::wimlib_iterate_dir_tree(
            raw,
            image,
            path.as_ptr(),
            flags,
            Some(visit),
            (&raw mut v).cast::<c_void>(),
        )
    };
    if let Some(p) = v.panic.take() {
        return Walk::Panicked(p);
    }
    Walk::Code(if rc == STOP { 0 } else { rc })
}

/// What the stream reader needs to know about one path.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Located {
    pub attributes: u32,
    /// Where the unnamed data stream's blob lives.
    pub resource: sys::wimlib_resource_entry,
}

unsafe extern "C" fn capture_one(dentry: *const sys::wimlib_dir_entry, ctx: *mut c_void) -> c_int {
    if dentry.is_null() || ctx.is_null() {
        return 0;
    }
    // SAFETY: `ctx` is the `Option<Located>` that `locate` passed, alive and otherwise
    // unused until wimlib_iterate_dir_tree returns.
    let out = unsafe { &mut *ctx.cast::<Option<Located>>() };
    // SAFETY: `dentry` is valid during the callback; the streams array always holds at
    // least the unnamed stream (see `entry_from`), reached through the raw pointer.
    let (attributes, stream) = unsafe {
        (
            (*dentry).attributes,
            (&raw const (*dentry).streams)
                .cast::<sys::wimlib_stream_entry>()
                .read(),
        )
    };
    *out = Some(Located {
        attributes,
        resource: stream.resource,
    });
    STOP
}

/// Look up `path` itself (not recursively): its attributes and unnamed stream.
/// Returns wimlib's code (0 on success) and the entry, if one was seen.
///
/// # Safety
/// `raw` must be a valid, exclusively accessed `WIMStruct` for the whole call.
pub(crate) unsafe fn locate(
    raw: *mut sys::WIMStruct,
    image: c_int,
    path: &CStr,
) -> (c_int, Option<Located>) {
    let mut out: Option<Located> = None;
    // SAFETY: `raw` is valid per the caller; `path` is NUL-terminated; `capture_one`
    // matches the callback type, does not unwind, and `out` outlives the call.
    let rc = unsafe {
        sys::wimlib_iterate_dir_tree(
            raw,
            image,
            path.as_ptr(),
            0,
            Some(capture_one),
            (&raw mut out).cast::<c_void>(),
        )
    };
    (if rc == STOP { 0 } else { rc }, out)
}

unsafe extern "C" fn stop_at_solid(
    resource: *const sys::wimlib_resource_entry,
    _ctx: *mut c_void,
) -> c_int {
    // SAFETY: `resource` is valid for the duration of the callback (or null).
    let flags = unsafe { resource.as_ref() }.map_or(0, |r| r.flags);
    if flags & sys::RESOURCE_FLAG_PACKED != 0 {
        STOP
    } else {
        0
    }
}

/// Whether any blob of the WIM sits in a solid (packed) resource, as in an ESD.
/// Returns wimlib's code (0 on success) and the answer.
///
/// # Safety
/// `raw` must be a valid, exclusively accessed `WIMStruct` for the whole call.
pub(crate) unsafe fn any_solid(raw: *mut sys::WIMStruct) -> (c_int, bool) {
    // SAFETY: `raw` is valid per the caller; `stop_at_solid` matches the callback type,
    // does not unwind and uses no context.
    let rc = unsafe {
        sys::wimlib_iterate_lookup_table(raw, 0, Some(stop_at_solid), std::ptr::null_mut())
    };
    if rc == STOP { (0, true) } else { (rc, false) }
}

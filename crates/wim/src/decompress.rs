//! An owned libwim decompressor (the public compression API, independent of any
//! `WIMStruct`).

use std::ptr::{self, NonNull};

use crate::sys;
use crate::types::Compression;

pub(crate) struct Decompressor {
    raw: NonNull<sys::wimlib_decompressor>,
    max_block: usize,
}

// SAFETY: a decompressor is a private block of memory with no ties to other libwim
// state; `decompress` takes `&mut self`, so it is never used by two threads at once.
unsafe impl Send for Decompressor {}

impl std::fmt::Debug for Decompressor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Decompressor")
            .field("max_block", &self.max_block)
            .finish_non_exhaustive()
    }
}

impl Decompressor {
    /// A decompressor for blocks of up to `max_block` bytes, or `None` if libwim
    /// refuses the combination (unknown type or block size out of range).
    pub(crate) fn new(compression: Compression, max_block: usize) -> Option<Self> {
        if compression == Compression::None || max_block == 0 {
            return None;
        }
        let mut raw: *mut sys::wimlib_decompressor = ptr::null_mut();
        // SAFETY: valid compression constant and a valid out pointer.
        let rc =
            unsafe { sys::wimlib_create_decompressor(compression.to_raw(), max_block, &mut raw) };
        if rc != 0 {
            return None;
        }
        NonNull::new(raw).map(|raw| Self { raw, max_block })
    }

    /// Decompress `input` into all of `output` (whose length must be the exact
    /// uncompressed size). `false` if the data is invalid.
    pub(crate) fn decompress(&mut self, input: &[u8], output: &mut [u8]) -> bool {
        if output.len() > self.max_block {
            return false;
        }
        // SAFETY: both slices are valid for their lengths; the output length does not
        // exceed the block size the decompressor was created for; `&mut self` gives
        // exclusive use of the decompressor.
        let rc = unsafe {
            sys::wimlib_decompress(
                input.as_ptr().cast(),
                input.len(),
                output.as_mut_ptr().cast(),
                output.len(),
                self.raw.as_ptr(),
            )
        };
        rc == 0
    }
}

impl Drop for Decompressor {
    fn drop(&mut self) {
        // SAFETY: `raw` came from wimlib_create_decompressor and is freed once, here.
        unsafe { sys::wimlib_free_decompressor(self.raw.as_ptr()) };
    }
}

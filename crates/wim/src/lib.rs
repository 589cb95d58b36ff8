//! Safe binding to the system libwim (wimlib).
//!
//! This is the only crate in the workspace that may use `unsafe`. Raw declarations live
//! in `sys.rs`; everything public here is safe to call.
//!
//! # Safety design
//!
//! * **Ownership.** A [`Wim`] owns one `WIMStruct` through a `NonNull` pointer and frees
//!   it in `Drop`. Strings returned by libwim are copied at once; the XML buffer is
//!   freed right after decoding. libwim is initialised once per process (`std::sync::Once`)
//!   with its own error printing switched off: failures arrive only as [`WimError`],
//!   each carrying libwim's message.
//! * **Threads.** A `WIMStruct` must not be used by two threads at once, so `Wim` is
//!   `Send` but not `Sync`:
//!
//!   ```compile_fail
//!   fn needs_sync<T: Sync>() {}
//!   needs_sync::<wait_wim::Wim<'static>>();
//!   ```
//! * **`'src`.** [`Wim::export_image_from`] copies only metadata; the file data stays in
//!   the source WIM and is read when the destination is written. The destination is
//!   therefore a `Wim<'src>` that borrows the source for `'src`: the source cannot be
//!   dropped, mutated or overwritten while the destination exists. Because the two
//!   handles share libwim state and may sit on different threads, each handle has an
//!   internal lock and a destination also takes its sources' locks (in one global
//!   order) around every libwim call.
//! * **Callbacks and panics.** Progress closures and the `for_each_file` visitor run
//!   behind `extern "C"` trampolines. A panic is caught there with `catch_unwind`, never
//!   crosses into C, makes libwim abort the call, and is resumed with
//!   `std::panic::resume_unwind` after libwim has returned. A progress closure lives in
//!   a box owned by the `Wim` for as long as it is registered.
//! * **Cancellation.** A progress closure returning [`ProgressControl::Abort`] makes the
//!   running call fail with [`WimError::Aborted`]. An aborted [`Wim::write`] removes the
//!   output file if it did not exist before; an aborted [`Wim::overwrite`] leaves the
//!   original file untouched (libwim deletes its temporary file).
//!
//! * **Split sets.** [`Wim::reference_parts`] / [`Wim::open_split`] hand the part
//!   files to libwim, which opens and owns their handles (freed with the first part's
//!   handle); this crate only remembers which file holds which part number.
//! * **Streaming reads.** [`Wim::open_file`] asks libwim (under the locks) where a
//!   file's blob lies, then reads the WIM file itself with positioned reads; the only
//!   libwim objects it uses afterwards are its own decompressors (`decompress.rs`),
//!   which belong to no `WIMStruct`. A [`FileReader`] therefore borrows nothing and
//!   is `Send`. Its output is checked against the blob's SHA-1 before the last piece
//!   is handed out; layouts it does not know are refused, never guessed.
//!
//! Image numbers are 1-based and checked before libwim sees them
//! ([`WimError::NoSuchImage`]); property names are validated
//! ([`WimError::InvalidPropertyName`]) because libwim may otherwise write XML it cannot
//! read back. Paths inside images use '/' and are case-sensitive.

mod cstr;
mod decompress;
mod error;
mod guid;
mod header;
mod init;
mod iterate;
mod lock;
mod output;
mod progress;
mod property;
mod reader;
mod split;
mod stream;
mod sys;
mod types;
mod update;
mod wim;

pub use error::{Result, WimError};
pub use output::capture;
pub use progress::{Progress, ProgressControl, Stage};
pub use reader::FileReader;
pub use types::{
    Compression, FILE_ATTRIBUTE_DIRECTORY, FileEntry, ImageInfo, ImageSelector, UpdateCommand,
    WimInfo, WriteOptions,
};
pub use wim::{Wim, version};

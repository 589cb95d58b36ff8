//! The image file (or any `Read + Seek`) with bounds-checked positioned reads.
//!
//! Every offset and length the parsers take from the image goes through
//! [`Source::read_at`], which refuses ranges past the end of the file before
//! allocating or seeking, so hostile sizes end as typed errors.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use crate::MediaError;

/// Budget of descriptor block reads for parsing one image.
const MAX_DESCRIPTOR_READS: u64 = 4 << 20;

/// What `IsoImage::from_reader` accepts.
pub(crate) trait ReadSeek: Read + Seek + Send {}
impl<T: Read + Seek + Send> ReadSeek for T {}

/// A plain file keeps its concrete type so extraction can hand the copy to
/// the kernel (`copy_file_range`) through `std::io::copy`.
pub(crate) enum Input {
    File(File),
    Reader(Box<dyn ReadSeek>),
}

impl std::fmt::Debug for Input {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Input::File(file) => f.debug_tuple("File").field(file).finish(),
            Input::Reader(_) => f.write_str("Reader"),
        }
    }
}

impl Read for Input {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Input::File(f) => f.read(buf),
            Input::Reader(r) => r.read(buf),
        }
    }
}

impl Seek for Input {
    fn seek(&mut self, pos: SeekFrom) -> io::Result<u64> {
        match self {
            Input::File(f) => f.seek(pos),
            Input::Reader(r) => r.seek(pos),
        }
    }
}

#[derive(Debug)]
pub(crate) struct Source {
    pub(crate) input: Input,
    pub(crate) name: PathBuf,
    pub(crate) size: u64,
    /// Descriptor blocks read so far while parsing (see [`Source::charge_block`]).
    pub(crate) blocks_read: u64,
}

impl Source {
    pub(crate) fn new(mut input: Input, name: PathBuf) -> Result<Self, MediaError> {
        let size = input
            .seek(SeekFrom::End(0))
            .map_err(|source| MediaError::Io {
                path: name.clone(),
                source,
            })?;
        Ok(Source {
            input,
            name,
            size,
            blocks_read: 0,
        })
    }

    pub(crate) fn path(&self) -> &Path {
        &self.name
    }

    pub(crate) fn corrupt(&self, what: impl Into<String>) -> MediaError {
        MediaError::Corrupt {
            path: self.name.clone(),
            what: what.into(),
        }
    }

    pub(crate) fn io(&self, source: io::Error) -> MediaError {
        MediaError::Io {
            path: self.name.clone(),
            source,
        }
    }

    /// Counts one descriptor block read. A hostile image can make many
    /// entries share long allocation chains; this budget (far above the few
    /// thousand reads of a Windows ISO) keeps the total work bounded.
    pub(crate) fn charge_block(&mut self) -> Result<(), MediaError> {
        self.blocks_read += 1;
        if self.blocks_read > MAX_DESCRIPTOR_READS {
            return Err(self.corrupt(format!(
                "more than {MAX_DESCRIPTOR_READS} descriptor blocks to read"
            )));
        }
        Ok(())
    }

    /// Checks that `[offset, offset + len)` lies inside the file.
    pub(crate) fn check_range(&self, offset: u64, len: u64, what: &str) -> Result<(), MediaError> {
        match offset.checked_add(len) {
            Some(end) if end <= self.size => Ok(()),
            _ => Err(self.corrupt(format!(
                "{what} at byte {offset} (+{len}) lies past the end of the image ({} bytes)",
                self.size
            ))),
        }
    }

    pub(crate) fn read_at(
        &mut self,
        offset: u64,
        buf: &mut [u8],
        what: &str,
    ) -> Result<(), MediaError> {
        self.check_range(offset, buf.len() as u64, what)?;
        self.input
            .seek(SeekFrom::Start(offset))
            .and_then(|_| self.input.read_exact(buf))
            .map_err(|e| {
                if e.kind() == io::ErrorKind::UnexpectedEof {
                    // The file shrank under us or the reader lied about its size.
                    MediaError::Truncated {
                        path: self.name.clone(),
                        what: what.to_string(),
                        needed: offset.saturating_add(buf.len() as u64),
                        size: self.size,
                    }
                } else {
                    self.io(e)
                }
            })
    }

    /// Reads `len` bytes; `len` is checked against the file size first, so a
    /// hostile length can never turn into a huge allocation.
    pub(crate) fn read_vec(
        &mut self,
        offset: u64,
        len: u64,
        what: &str,
    ) -> Result<Vec<u8>, MediaError> {
        self.check_range(offset, len, what)?;
        let n = usize::try_from(len).map_err(|_| self.corrupt(format!("{what} is too large")))?;
        let mut buf = vec![0u8; n];
        self.read_at(offset, &mut buf, what)?;
        Ok(buf)
    }
}

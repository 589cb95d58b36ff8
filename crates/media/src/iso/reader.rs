//! Streaming a file's bytes out of the image.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::Path;

use crate::MediaError;

use super::source::{Input, Source};
use super::tree::Piece;

/// Buffer for copies that cannot be handed to the kernel: large enough that
/// per-call overhead vanishes next to the disk, small enough to stay bounded.
pub(crate) const COPY_BUF: usize = 1 << 20;

/// A file inside the image, read as a stream. Reads go straight from the
/// image into the caller's buffer, one contiguous extent at a time.
#[derive(Debug)]
pub struct IsoFile<'a> {
    src: &'a mut Source,
    pieces: &'a [Piece],
    path: &'a str,
    size: u64,
    pos: u64,
    /// Piece holding `pos` and where that piece starts in the file; kept so
    /// sequential reads do not search the piece list again.
    cursor: (usize, u64),
}

impl<'a> IsoFile<'a> {
    pub(crate) fn new(src: &'a mut Source, pieces: &'a [Piece], path: &'a str, size: u64) -> Self {
        IsoFile {
            src,
            pieces,
            path,
            size,
            pos: 0,
            cursor: (0, 0),
        }
    }

    /// The file's size in bytes.
    pub fn len(&self) -> u64 {
        self.size
    }

    /// Whether the file is empty.
    pub fn is_empty(&self) -> bool {
        self.size == 0
    }

    fn error(&self, e: &io::Error) -> io::Error {
        io::Error::new(
            e.kind(),
            format!("{}: {}: {e}", self.src.path().display(), self.path),
        )
    }

    /// Moves the cursor to the piece that holds `pos`.
    fn locate(&mut self) {
        let (mut i, mut start) = self.cursor;
        if self.pos < start {
            (i, start) = (0, 0);
        }
        while let Some(p) = self.pieces.get(i) {
            if self.pos < start + p.len() {
                break;
            }
            start += p.len();
            i += 1;
        }
        self.cursor = (i, start);
    }
}

impl Read for IsoFile<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.pos >= self.size || buf.is_empty() {
            return Ok(0);
        }
        self.locate();
        let (i, start) = self.cursor;
        let Some(piece) = self.pieces.get(i) else {
            return Ok(0);
        };
        let within = self.pos - start;
        let want = usize::try_from(piece.len() - within)
            .unwrap_or(usize::MAX)
            .min(buf.len());
        let out = &mut buf[..want];
        let n = match piece {
            Piece::Disk { offset, .. } => {
                self.src
                    .input
                    .seek(SeekFrom::Start(offset + within))
                    .map_err(|e| self.error(&e))?;
                let n = self.src.input.read(out).map_err(|e| self.error(&e))?;
                if n == 0 {
                    let e =
                        io::Error::new(io::ErrorKind::UnexpectedEof, "image ended inside the file");
                    return Err(self.error(&e));
                }
                n
            }
            Piece::Zero { .. } => {
                out.fill(0);
                want
            }
            Piece::Inline(v) => {
                let from = usize::try_from(within).unwrap_or(usize::MAX);
                let src = v.get(from..from.saturating_add(want)).unwrap_or(&[]);
                out[..src.len()].copy_from_slice(src);
                src.len()
            }
        };
        self.pos += n as u64;
        Ok(n)
    }
}

impl Seek for IsoFile<'_> {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        let target = match to {
            SeekFrom::Start(n) => Some(n),
            SeekFrom::End(d) => self.size.checked_add_signed(d),
            SeekFrom::Current(d) => self.pos.checked_add_signed(d),
        };
        let target = target
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "seek before the start"))?;
        self.pos = target;
        Ok(target)
    }
}

/// Copies `pieces` into `dest`. From a plain file the data runs go through
/// `std::io::copy` on a `Take<&File>`, which Linux turns into
/// `copy_file_range` (no copy through user space, like `cp`).
pub(crate) fn copy_out(
    src: &mut Source,
    pieces: &[Piece],
    dest: &Path,
    out: &mut File,
) -> Result<u64, MediaError> {
    let dest_err = |source: io::Error| MediaError::Io {
        path: dest.to_path_buf(),
        source,
    };
    let mut total = 0u64;
    let mut buf: Vec<u8> = Vec::new();
    for p in pieces {
        match p {
            Piece::Disk { offset, len } => {
                let n = if let Input::File(f) = &src.input {
                    let mut f: &File = f;
                    let name = &src.name;
                    let io_err = |e: io::Error| MediaError::Io {
                        path: dest.to_path_buf(),
                        // Errors here may come from either side; name both.
                        source: io::Error::new(
                            e.kind(),
                            format!("copying from {}: {e}", name.display()),
                        ),
                    };
                    f.seek(SeekFrom::Start(*offset)).map_err(io_err)?;
                    io::copy(&mut f.take(*len), out).map_err(io_err)?
                } else {
                    if buf.is_empty() {
                        buf = vec![0u8; COPY_BUF];
                    }
                    let mut left = *len;
                    let mut at = *offset;
                    while left > 0 {
                        let chunk = buf.len().min(usize::try_from(left).unwrap_or(usize::MAX));
                        let part = &mut buf[..chunk];
                        src.read_at(at, part, "file data")?;
                        out.write_all(part).map_err(dest_err)?;
                        left -= chunk as u64;
                        at += chunk as u64;
                    }
                    *len
                };
                if n != *len {
                    return Err(MediaError::Truncated {
                        path: src.name.clone(),
                        what: format!("data copied to {}", dest.display()),
                        needed: offset + len,
                        size: src.size,
                    });
                }
                total += n;
            }
            Piece::Zero { len } => {
                let zeros = vec![0u8; COPY_BUF.min(usize::try_from(*len).unwrap_or(COPY_BUF))];
                let mut left = *len;
                while left > 0 {
                    let chunk = zeros.len().min(usize::try_from(left).unwrap_or(usize::MAX));
                    out.write_all(&zeros[..chunk]).map_err(dest_err)?;
                    left -= chunk as u64;
                }
                total += len;
            }
            Piece::Inline(v) => {
                out.write_all(v).map_err(dest_err)?;
                total += v.len() as u64;
            }
        }
    }
    Ok(total)
}

//! Reading members out of a cabinet (`.cab`, and the `.msu` that is a cabinet too), with
//! every size bounded and the file or member named in each error.
//!
//! The `cab` crate does the format work. Its reader trusts the header's sizes, so the
//! header is checked here first (signature, declared total size against the real length):
//! a truncated download is then reported as such instead of as a decompression error deep
//! inside some member. Calls into the crate run under `catch_unwind`: hostile input must
//! give an error, and a panic in a third-party parser is not ours to let through.

use std::io::{Cursor, Read, Seek, SeekFrom};
use std::panic::{AssertUnwindSafe, catch_unwind};

use super::error::{PackageError, PackageProblem, fail};

/// A reader the cabinet can seek in: a file, a temp file or bytes in memory.
pub(crate) trait ReadSeek: Read + Seek {}
impl<T: Read + Seek> ReadSeek for T {}

/// Size of the fixed CFHEADER part.
const HEADER_LEN: usize = 36;
/// Inner cabinets up to this size are read into memory; larger ones go to a temp file.
pub(crate) const INNER_IN_MEMORY: u64 = 64 * 1024 * 1024;

/// One member: its name as stored (may hold `\`) and its uncompressed size.
#[derive(Debug, Clone)]
pub(crate) struct Member {
    pub name: String,
    pub size: u64,
}

impl Member {
    /// The name after the last `\` or `/`, lower-cased, for matching.
    pub fn base_lower(&self) -> String {
        let base = self.name.rsplit(['\\', '/']).next().unwrap_or(&self.name);
        base.to_ascii_lowercase()
    }
}

/// An open cabinet.
pub(crate) struct CabFile {
    /// How the cabinet is named in messages (`a.msu` or `a.msu/inner.cab`).
    pub display: String,
    pub members: Vec<Member>,
    cab: cab::Cabinet<Box<dyn ReadSeek>>,
}

impl std::fmt::Debug for CabFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CabFile")
            .field("display", &self.display)
            .field("members", &self.members.len())
            .finish()
    }
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "the cabinet reader failed".to_string())
}

impl CabFile {
    /// Open a cabinet of `len` bytes read from `reader`.
    pub fn open(
        display: &str,
        mut reader: Box<dyn ReadSeek>,
        len: u64,
    ) -> Result<Self, PackageError> {
        let io = |e: std::io::Error| fail(display, 0, PackageProblem::Io(e.to_string()));
        let mut header = [0u8; HEADER_LEN];
        reader.seek(SeekFrom::Start(0)).map_err(io)?;
        let got = read_up_to(&mut reader, &mut header).map_err(io)?;
        if got < 4 || &header[..4] != b"MSCF" {
            return Err(fail(
                display,
                0,
                PackageProblem::NotCab("no MSCF signature at the start".into()),
            ));
        }
        if got < HEADER_LEN {
            return Err(fail(
                display,
                0,
                PackageProblem::Truncated {
                    declared: HEADER_LEN as u64,
                    actual: len,
                },
            ));
        }
        let declared = u64::from(u32::from_le_bytes([
            header[8], header[9], header[10], header[11],
        ]));
        if declared > len {
            return Err(fail(
                display,
                0,
                PackageProblem::Truncated {
                    declared,
                    actual: len,
                },
            ));
        }
        reader.seek(SeekFrom::Start(0)).map_err(io)?;
        let cab = match catch_unwind(AssertUnwindSafe(|| cab::Cabinet::new(reader))) {
            Ok(Ok(cab)) => cab,
            Ok(Err(e)) => return Err(fail(display, 0, PackageProblem::BadCab(e.to_string()))),
            Err(p) => return Err(fail(display, 0, PackageProblem::BadCab(panic_message(&*p)))),
        };
        let mut members = Vec::new();
        for folder in cab.folder_entries() {
            for file in folder.file_entries() {
                members.push(Member {
                    name: file.name().to_string(),
                    size: u64::from(file.uncompressed_size()),
                });
            }
        }
        Ok(CabFile {
            display: display.to_string(),
            members,
            cab,
        })
    }

    /// `display/member`, how a member is named in messages.
    pub fn member_display(&self, member: &str) -> String {
        format!("{}/{}", self.display, member)
    }

    /// The first member whose base name satisfies `pred`.
    pub fn find(&self, pred: impl Fn(&str) -> bool) -> Option<Member> {
        self.members.iter().find(|m| pred(&m.base_lower())).cloned()
    }

    fn check_size(&self, member: &Member, limit: u64) -> Result<(), PackageError> {
        if member.size > limit {
            return Err(fail(
                &self.member_display(&member.name),
                0,
                PackageProblem::MemberTooLarge {
                    size: member.size,
                    limit,
                },
            ));
        }
        Ok(())
    }

    /// Run `f` on a reader over the member's bytes, at most `limit` of them.
    fn with_member<T>(
        &mut self,
        member: &Member,
        limit: u64,
        f: impl FnOnce(&mut dyn Read) -> std::io::Result<T>,
    ) -> Result<T, PackageError> {
        self.check_size(member, limit)?;
        let shown = self.member_display(&member.name);
        let cab = &mut self.cab;
        let result = catch_unwind(AssertUnwindSafe(|| {
            let reader = cab.read_file(&member.name)?;
            f(&mut reader.take(limit))
        }));
        match result {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(e)) => Err(fail(&shown, 0, PackageProblem::BadCab(e.to_string()))),
            Err(p) => Err(fail(&shown, 0, PackageProblem::BadCab(panic_message(&*p)))),
        }
    }

    /// The member's bytes, refusing members over `limit`.
    pub fn read(&mut self, member: &Member, limit: u64) -> Result<Vec<u8>, PackageError> {
        let capacity = usize::try_from(member.size.min(limit)).unwrap_or(0);
        let bytes = self.with_member(member, limit, |r| {
            let mut out = Vec::with_capacity(capacity);
            r.read_to_end(&mut out)?;
            Ok(out)
        })?;
        self.check_complete(member, bytes.len() as u64)?;
        Ok(bytes)
    }

    /// A seekable copy of a member (an inner cabinet): in memory up to
    /// [`INNER_IN_MEMORY`] bytes, else streamed into an anonymous temp file, which the
    /// system deletes when it is closed. Returns the reader, its length and where it went.
    pub fn extract(
        &mut self,
        member: &Member,
        limit: u64,
    ) -> Result<(Box<dyn ReadSeek>, u64, &'static str), PackageError> {
        if member.size <= INNER_IN_MEMORY {
            let bytes = self.read(member, limit.min(INNER_IN_MEMORY))?;
            let len = bytes.len() as u64;
            return Ok((Box::new(Cursor::new(bytes)), len, "memory"));
        }
        let shown = self.member_display(&member.name);
        let mut temp = tempfile::tempfile()
            .map_err(|e| fail(&shown, 0, PackageProblem::Io(format!("temp file: {e}"))))?;
        let written = self.with_member(member, limit, |r| std::io::copy(r, &mut temp))?;
        self.check_complete(member, written)?;
        temp.seek(SeekFrom::Start(0))
            .map_err(|e| fail(&shown, 0, PackageProblem::Io(e.to_string())))?;
        Ok((Box::new(temp), written, "temp file"))
    }

    fn check_complete(&self, member: &Member, got: u64) -> Result<(), PackageError> {
        if got != member.size {
            return Err(fail(
                &self.member_display(&member.name),
                0,
                PackageProblem::BadCab(format!(
                    "member holds {got} bytes, its entry says {}",
                    member.size
                )),
            ));
        }
        Ok(())
    }
}

/// Fill `buf` as far as the reader allows; the count read.
fn read_up_to(reader: &mut dyn Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut done = 0;
    while done < buf.len() {
        match reader.read(&mut buf[done..]) {
            Ok(0) => break,
            Ok(n) => done += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(done)
}

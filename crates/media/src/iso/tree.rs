//! The file tree both parsers produce: entries plus where each file's bytes are.

use crate::MediaError;

use super::source::Source;

/// Deepest directory nesting accepted. Windows paths stop near 260 characters,
/// so real media never come close; the bound keeps hostile images finite.
pub(crate) const MAX_DEPTH: usize = 128;
/// Most entries one image may list.
pub(crate) const MAX_ENTRIES: usize = 4 << 20;
/// Largest single directory read into memory.
pub(crate) const MAX_DIR_BYTES: u64 = 64 << 20;
/// Directory bytes read in total; a bound on memory and time for the walk.
pub(crate) const MAX_TOTAL_DIR_BYTES: u64 = 512 << 20;
/// Most data pieces one file may have.
pub(crate) const MAX_PIECES: usize = 1 << 20;
/// Most data pieces the whole tree may have (memory bound when many entries
/// share one hostile allocation list).
pub(crate) const MAX_TOTAL_PIECES: usize = 8 << 20;

/// One file or directory of the image.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Entry {
    /// Path inside the image, components joined with `/`, no leading slash.
    pub path: String,
    /// Size in bytes (0 for directories).
    pub size: u64,
    /// Whether this is a directory.
    pub is_dir: bool,
}

impl Entry {
    /// The last component of the path.
    pub fn name(&self) -> &str {
        self.path.rsplit('/').next().unwrap_or(&self.path)
    }
}

/// A run of a file's bytes.
#[derive(Debug, Clone)]
pub(crate) enum Piece {
    /// `len` bytes at absolute byte `offset` of the image.
    Disk { offset: u64, len: u64 },
    /// `len` zero bytes (UDF extents allocated but not recorded).
    Zero { len: u64 },
    /// Bytes stored inside the UDF file entry itself.
    Inline(Vec<u8>),
}

impl Piece {
    pub(crate) fn len(&self) -> u64 {
        match self {
            Piece::Disk { len, .. } | Piece::Zero { len } => *len,
            Piece::Inline(v) => v.len() as u64,
        }
    }
}

/// Collects entries while enforcing the global limits.
#[derive(Debug, Default)]
pub(crate) struct TreeBuilder {
    pub(crate) entries: Vec<Entry>,
    pub(crate) pieces: Vec<Vec<Piece>>,
    pub(crate) dir_bytes: u64,
    pub(crate) total_pieces: usize,
}

impl TreeBuilder {
    pub(crate) fn push(
        &mut self,
        src: &Source,
        entry: Entry,
        pieces: Vec<Piece>,
    ) -> Result<(), MediaError> {
        if self.entries.len() >= MAX_ENTRIES {
            return Err(src.corrupt(format!("more than {MAX_ENTRIES} entries")));
        }
        for p in &pieces {
            if let Piece::Disk { offset, len } = p {
                src.check_range(*offset, *len, &format!("data of {:?}", entry.path))?;
            }
        }
        let total: u64 = pieces.iter().map(Piece::len).fold(0, u64::saturating_add);
        if total != entry.size {
            return Err(src.corrupt(format!(
                "{:?}: extents hold {total} bytes but the size is {}",
                entry.path, entry.size
            )));
        }
        self.total_pieces = self.total_pieces.saturating_add(pieces.len());
        if self.total_pieces > MAX_TOTAL_PIECES {
            return Err(src.corrupt(format!("more than {MAX_TOTAL_PIECES} extents in all")));
        }
        self.entries.push(entry);
        self.pieces.push(pieces);
        Ok(())
    }

    /// Accounts for one directory read; refuses sizes no real media has.
    pub(crate) fn charge_dir(
        &mut self,
        src: &Source,
        path: &str,
        len: u64,
    ) -> Result<(), MediaError> {
        if len > MAX_DIR_BYTES {
            return Err(src.corrupt(format!("directory {path:?} claims {len} bytes")));
        }
        self.dir_bytes = self.dir_bytes.saturating_add(len);
        if self.dir_bytes > MAX_TOTAL_DIR_BYTES {
            return Err(src.corrupt("directories hold more than 512 MiB in total"));
        }
        Ok(())
    }
}

/// Joins a parent path and a name, refusing names that would change the
/// meaning of a path (`/`, NUL, `.`/`..`, empty).
pub(crate) fn join(src: &Source, parent: &str, name: &str) -> Result<String, MediaError> {
    // A backslash is legal in names written on Linux; such an entry is listed
    // but cannot be found by a Windows-style path, which is acceptable.
    if name.is_empty() || name == "." || name == ".." || name.contains(['/', '\0']) {
        return Err(src.corrupt(format!("invalid name {name:?} in directory {parent:?}")));
    }
    Ok(if parent.is_empty() {
        name.to_string()
    } else {
        format!("{parent}/{name}")
    })
}

/// Reads the bytes of `pieces` (a directory) into memory.
pub(crate) fn read_pieces(
    src: &mut Source,
    pieces: &[Piece],
    what: &str,
) -> Result<Vec<u8>, MediaError> {
    let mut out = Vec::new();
    for p in pieces {
        match p {
            Piece::Disk { offset, len } => out.extend(src.read_vec(*offset, *len, what)?),
            Piece::Zero { len } => {
                let n = usize::try_from(*len)
                    .map_err(|_| src.corrupt(format!("{what} is too large")))?;
                out.resize(out.len().saturating_add(n), 0);
            }
            Piece::Inline(v) => out.extend_from_slice(v),
        }
    }
    Ok(out)
}

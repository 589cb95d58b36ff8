//! ISO 9660 volumes: primary volume descriptor, Joliet supplementary
//! descriptor (preferred for names), directory records and multi-extent files.

use std::collections::HashSet;

use crate::MediaError;

use super::Entry;
use super::bytes::{le16, le32, slice, u8_at, utf16be};
use super::source::Source;
use super::tree::{MAX_DEPTH, Piece, TreeBuilder, join, read_pieces};

/// Volume descriptors start at sector 16 and are always 2048 bytes apart.
const VD_START: u64 = 16 * 2048;
const VD_SIZE: usize = 2048;
/// Real images have a handful of descriptors; stop scanning after this many.
const MAX_DESCRIPTORS: u64 = 64;

/// Which descriptors the image has.
#[derive(Debug, Default)]
pub(crate) struct Descriptors {
    pub(crate) primary: Option<Vec<u8>>,
    pub(crate) joliet: Option<Vec<u8>>,
}

impl Descriptors {
    /// Scans the descriptor set. A missing or foreign first descriptor means
    /// "no ISO 9660 here", which is not an error: the image may be UDF only.
    pub(crate) fn scan(src: &mut Source) -> Result<Self, MediaError> {
        let mut found = Descriptors::default();
        for i in 0..MAX_DESCRIPTORS {
            let off = VD_START + i * VD_SIZE as u64;
            if off + VD_SIZE as u64 > src.size {
                break;
            }
            let mut vd = vec![0u8; VD_SIZE];
            src.read_at(off, &mut vd, "volume descriptor")?;
            if slice(&vd, 1, 5) != b"CD001" {
                break;
            }
            match u8_at(&vd, 0) {
                1 if found.primary.is_none() => found.primary = Some(vd),
                2 if is_joliet(&vd) && found.joliet.is_none() => found.joliet = Some(vd),
                255 => break,
                _ => {}
            }
        }
        Ok(found)
    }

    /// The number of bytes the primary descriptor says the volume covers.
    pub(crate) fn volume_bytes(&self) -> Option<u64> {
        let pvd = self.primary.as_ref()?;
        Some(u64::from(le32(pvd, 80)) * u64::from(le16(pvd, 128)))
    }
}

/// Joliet marks its supplementary descriptor with a UCS-2 escape sequence.
fn is_joliet(vd: &[u8]) -> bool {
    let esc = slice(vd, 88, 3);
    esc == b"%/@" || esc == b"%/C" || esc == b"%/E"
}

/// The parsed ISO 9660 view.
#[derive(Debug)]
pub(crate) struct Iso9660 {
    pub(crate) label: String,
    pub(crate) joliet: bool,
}

/// Walks the Joliet tree when there is one, else the primary tree.
pub(crate) fn read(
    src: &mut Source,
    vds: &Descriptors,
    tree: &mut TreeBuilder,
) -> Result<Iso9660, MediaError> {
    let (vd, joliet) = match (&vds.joliet, &vds.primary) {
        (Some(j), _) => (j.clone(), true),
        (None, Some(p)) => (p.clone(), false),
        (None, None) => {
            return Err(MediaError::NotAnIso {
                path: src.name.clone(),
            });
        }
    };
    let block = u64::from(le16(&vd, 128));
    if !matches!(block, 512 | 1024 | 2048) {
        return Err(src.corrupt(format!("ISO 9660 logical block size {block}")));
    }
    let label = if joliet {
        utf16be(slice(&vd, 40, 32))
    } else {
        String::from_utf8_lossy(slice(&vd, 40, 32)).into_owned()
    };
    let label = label.trim_end_matches([' ', '\0']).to_string();

    let root = slice(&vd, 156, 34);
    let root_loc = u64::from(le32(root, 2)) + u64::from(u8_at(root, 1));
    let root_len = u64::from(le32(root, 10));

    let mut visited = HashSet::new();
    let mut stack = vec![(root_loc, root_len, String::new(), 0usize)];
    while let Some((loc, len, path, depth)) = stack.pop() {
        if depth > MAX_DEPTH {
            return Err(src.corrupt(format!("directory {path:?} nested deeper than {MAX_DEPTH}")));
        }
        if !visited.insert(loc) {
            return Err(src.corrupt(format!("directory loop at {path:?}")));
        }
        tree.charge_dir(src, &path, len)?;
        let offset = loc
            .checked_mul(block)
            .ok_or_else(|| src.corrupt("directory location overflows"))?;
        let data = read_pieces(src, &[Piece::Disk { offset, len }], "directory")?;
        for rec in records(src, &data, &path, joliet)? {
            let child = join(src, &path, &rec.name)?;
            if rec.is_dir {
                tree.push(
                    src,
                    Entry {
                        path: child.clone(),
                        size: 0,
                        is_dir: true,
                    },
                    Vec::new(),
                )?;
                let first = rec.extents.first().copied().unwrap_or((0, 0));
                stack.push((first.0, first.1, child, depth + 1));
            } else {
                let mut pieces = Vec::with_capacity(rec.extents.len());
                let mut size = 0u64;
                for (loc, len) in rec.extents {
                    let offset = loc
                        .checked_mul(block)
                        .ok_or_else(|| src.corrupt("file location overflows"))?;
                    if len > 0 {
                        pieces.push(Piece::Disk { offset, len });
                    }
                    size = size.saturating_add(len);
                }
                tree.push(
                    src,
                    Entry {
                        path: child,
                        size,
                        is_dir: false,
                    },
                    pieces,
                )?;
            }
        }
    }
    Ok(Iso9660 { label, joliet })
}

/// A directory record, with the extents of a multi-extent file gathered.
struct Record {
    name: String,
    is_dir: bool,
    /// (location in logical blocks, byte length) of each extent, in order.
    extents: Vec<(u64, u64)>,
}

fn records(src: &Source, data: &[u8], dir: &str, joliet: bool) -> Result<Vec<Record>, MediaError> {
    let mut out: Vec<Record> = Vec::new();
    // A multi-extent file: records flagged "not final" followed by the final one.
    let mut pending: Option<Record> = None;
    let mut pos = 0usize;
    while pos < data.len() {
        let len = usize::from(u8_at(data, pos));
        if len == 0 {
            // Records never straddle a sector: a zero byte pads to the next one.
            pos = (pos / VD_SIZE + 1) * VD_SIZE;
            continue;
        }
        let rec = slice(data, pos, len);
        let name_len = usize::from(u8_at(rec, 32));
        if len < 34 || rec.len() != len || 33 + name_len > len {
            return Err(src.corrupt(format!(
                "directory record of length {len} (name {name_len}) at byte {pos} of directory {dir:?}"
            )));
        }
        pos += len;
        let raw_name = slice(rec, 33, name_len);
        if raw_name == [0] || raw_name == [1] {
            continue; // "." and ".."
        }
        let flags = u8_at(rec, 25);
        if flags & 0x04 != 0 {
            continue; // associated file (resource fork), not part of the tree
        }
        if u8_at(rec, 26) != 0 || u8_at(rec, 27) != 0 {
            return Err(src.corrupt(format!(
                "interleaved file in directory {dir:?} is not supported"
            )));
        }
        let name = decode_name(raw_name, joliet, flags & 0x02 != 0);
        let loc = u64::from(le32(rec, 2)) + u64::from(u8_at(rec, 1));
        let extent = (loc, u64::from(le32(rec, 10)));
        let more = flags & 0x80 != 0;
        match pending.take() {
            Some(mut p) => {
                if p.name != name {
                    return Err(src.corrupt(format!(
                        "multi-extent file {:?} in {dir:?} is followed by {name:?}",
                        p.name
                    )));
                }
                p.extents.push(extent);
                if p.extents.len() > super::tree::MAX_PIECES {
                    return Err(src.corrupt(format!("{name:?} has too many extents")));
                }
                if more {
                    pending = Some(p);
                } else {
                    out.push(p);
                }
            }
            None => {
                let r = Record {
                    name,
                    is_dir: flags & 0x02 != 0,
                    extents: vec![extent],
                };
                if more && !r.is_dir {
                    pending = Some(r);
                } else {
                    out.push(r);
                }
            }
        }
    }
    if let Some(p) = pending {
        return Err(src.corrupt(format!(
            "multi-extent file {:?} in {dir:?} has no final extent",
            p.name
        )));
    }
    Ok(out)
}

/// Turns an on-disk identifier into a name: drops the `;1` version and the
/// lone trailing dot ISO 9660 requires on names without an extension.
fn decode_name(raw: &[u8], joliet: bool, is_dir: bool) -> String {
    let mut name = if joliet {
        utf16be(raw)
    } else {
        match std::str::from_utf8(raw) {
            Ok(s) => s.to_string(),
            Err(_) => super::bytes::latin1(raw),
        }
    };
    if !is_dir {
        if let Some(semi) = name.rfind(';') {
            if name[semi + 1..].bytes().all(|b| b.is_ascii_digit()) {
                name.truncate(semi);
            }
        }
        if !joliet && name.ends_with('.') && name.len() > 1 {
            name.pop();
        }
    }
    name
}

#[cfg(test)]
mod tests {
    use super::decode_name;

    #[test]
    fn names_lose_version_and_lone_dot() {
        assert_eq!(decode_name(b"README.TXT;1", false, false), "README.TXT");
        assert_eq!(decode_name(b"README.;1", false, false), "README");
        assert_eq!(decode_name(b"SOURCES", false, true), "SOURCES");
        assert_eq!(decode_name(b"A;B", false, false), "A;B");
        let joliet: Vec<u8> = "Ünï;1".encode_utf16().flat_map(u16::to_be_bytes).collect();
        assert_eq!(decode_name(&joliet, true, false), "Ünï");
    }
}

//! UDF (ECMA-167 + OSTA UDF 1.02-2.60) reading: the volume, then a walk of
//! the directory tree from the file set descriptor's root.

mod fid;
mod icb;
mod name;
mod tag;
mod volume;

use std::collections::HashSet;

use crate::MediaError;

use super::Entry;
use super::bytes::{le16, le32};
use super::source::Source;
use super::tree::{MAX_DEPTH, TreeBuilder, join, read_pieces};
use icb::{FILE_TYPE_DIR, read_icb};
use volume::{LbAddr, Volume};

pub(crate) use volume::has_nsr;

#[derive(Debug)]
pub(crate) struct Udf {
    pub(crate) label: String,
    pub(crate) revision: u16,
}

pub(crate) fn read(src: &mut Source, tree: &mut TreeBuilder) -> Result<Udf, MediaError> {
    let vol = Volume::find(src)?;
    let fsd = vol.resolve(src, vol.file_set, vol.block)?;
    let (offset, _) = fsd
        .first()
        .copied()
        .ok_or_else(|| src.corrupt("UDF file set descriptor"))?;
    let b = src.read_vec(offset, vol.block.min(512), "UDF file set descriptor")?;
    if tag::tag_id(&b) != Some(tag::FILE_SET) {
        return Err(src.corrupt("no UDF file set descriptor where the logical volume points"));
    }
    let root = LbAddr {
        lbn: le32(&b, 404),
        part: le16(&b, 408),
    };

    let mut visited = HashSet::from([root]);
    let mut stack = vec![(root, String::new(), 0usize)];
    while let Some((at, path, depth)) = stack.pop() {
        if depth > MAX_DEPTH {
            return Err(src.corrupt(format!("directory {path:?} nested deeper than {MAX_DEPTH}")));
        }
        let what = if path.is_empty() {
            "root directory".to_string()
        } else {
            format!("directory {path:?}")
        };
        let dir = read_icb(src, &vol, at, &what)?;
        if dir.file_type != FILE_TYPE_DIR {
            return Err(src.corrupt(format!(
                "{what} is not a directory (file type {})",
                dir.file_type
            )));
        }
        tree.charge_dir(src, &path, dir.size)?;
        let data = read_pieces(src, &dir.pieces, &what)?;
        for f in fid::parse(src, &data, &path)? {
            let child = join(src, &path, &f.name)?;
            let icb = read_icb(src, &vol, f.icb, &format!("{child:?}"))?;
            if icb.file_type == FILE_TYPE_DIR {
                // A directory reached twice is a loop (UDF forbids directory hard links).
                if !visited.insert(f.icb) {
                    return Err(src.corrupt(format!("directory loop at {child:?}")));
                }
                tree.push(
                    src,
                    Entry {
                        path: child.clone(),
                        size: 0,
                        is_dir: true,
                    },
                    Vec::new(),
                )?;
                stack.push((f.icb, child, depth + 1));
            } else {
                tree.push(
                    src,
                    Entry {
                        path: child,
                        size: icb.size,
                        is_dir: false,
                    },
                    icb.pieces,
                )?;
            }
        }
    }
    Ok(Udf {
        label: vol.label,
        revision: vol.revision,
    })
}

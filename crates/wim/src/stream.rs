//! `Wim::open_file`: finding a file's blob and the WIM file (or split part) it is in.

use std::path::PathBuf;

use crate::cstr;
use crate::error::{ErrorContext, Result, WimError, check};
use crate::header::part_path;
use crate::iterate;
use crate::reader::{self, FileReader, Target};
use crate::sys;
use crate::wim::Wim;

/// FILE_ATTRIBUTE_REPARSE_POINT: the unnamed stream holds reparse data, not content.
const FILE_ATTRIBUTE_REPARSE_POINT: u32 = 0x0000_0400;

impl Wim<'_> {
    /// A reader for the data of the regular file `path` in `image`, without
    /// extracting anything to disk (see [`FileReader`] for memory use and checks).
    ///
    /// Works for uncompressed, XPRESS, LZX and LZMS WIMs, solid resources (ESD) and
    /// split sets whose parts were referenced ([`Wim::open_split`]). Errors:
    /// `PathNotInImage`; `NotAFile` for a directory or reparse point (symlink);
    /// `MissingPart` when the data lives in a part that was not referenced;
    /// `Unsupported` for data that is not in a WIM file yet (added by `update_image`
    /// or exported from another WIM and not written and reopened), for a WIM made by
    /// `create_new`, and for pipable WIMs; `Corrupt` for damage found while opening.
    pub fn open_file(&self, image: u32, path: &str) -> Result<FileReader> {
        let c_path = cstr::text(path, "image path")?;
        let (located, info) = {
            let _held = self.begin()?;
            let index = self.check_image(image)?;
            // SAFETY: the locks are held and `raw` is live for the whole lookup.
            let (rc, located) = unsafe { iterate::locate(self.raw.as_ptr(), index, &c_path) };
            let count = self.raw_info().image_count;
            check(
                rc,
                &ErrorContext {
                    image: Some((image, count)),
                    image_path: Some(path),
                    ..self.ctx()
                },
            )?;
            (located, self.raw_info())
        };
        let Some(located) = located else {
            return Err(WimError::PathNotInImage {
                path: path.to_owned(),
            });
        };
        if located.attributes & sys::WIMLIB_FILE_ATTRIBUTE_DIRECTORY != 0 {
            return Err(WimError::NotAFile {
                path: path.to_owned(),
                kind: "directory",
            });
        }
        if located.attributes & FILE_ATTRIBUTE_REPARSE_POINT != 0 {
            return Err(WimError::NotAFile {
                path: path.to_owned(),
                kind: "reparse point",
            });
        }
        let res = located.resource;
        let wim_file = self.blob_file(path, &res, &info)?;
        reader::open(
            &Target {
                wim_file: &wim_file,
                image_path: path,
            },
            &res,
        )
    }

    /// The file that holds the blob `res` (this WIM's own file or a referenced part).
    fn blob_file(
        &self,
        image_path: &str,
        res: &sys::wimlib_resource_entry,
        info: &sys::wimlib_wim_info,
    ) -> Result<PathBuf> {
        let Some(own) = self.path.as_deref() else {
            return Err(WimError::Unsupported(
                "reading file data from a WIM that was never written".to_owned(),
            ));
        };
        if !self.sources.is_empty() {
            // Blobs of exported images are described relative to the source's file,
            // which the entry does not identify.
            return Err(WimError::Unsupported(
                "reading file data of images exported from another WIM; write the WIM and open it again"
                    .to_owned(),
            ));
        }
        if res.flags & sys::RESOURCE_FLAG_IS_MISSING != 0 {
            if let Some(n) = self.first_unreferenced_part(info) {
                return Err(WimError::MissingPart {
                    part: n,
                    path: part_path(own, n),
                });
            }
            return Err(WimError::Corrupt {
                path: own.to_path_buf(),
                message: format!("the data of {image_path} is missing from the WIM"),
            });
        }
        // Checked after "missing": libwim reports a blob it does not know with size 0.
        if res.uncompressed_size == 0 {
            return Ok(own.to_path_buf());
        }
        if res.part_number == 0 {
            return Err(WimError::Unsupported(format!(
                "the data of {image_path} is not in a WIM file yet; write the WIM first"
            )));
        }
        let part = u16::try_from(res.part_number).unwrap_or(u16::MAX);
        if part == info.part_number {
            return Ok(own.to_path_buf());
        }
        if let Some((_, p)) = self.parts.iter().find(|(n, _)| *n == part) {
            return Ok(p.clone());
        }
        Err(WimError::MissingPart {
            part,
            path: part_path(own, part),
        })
    }

    /// The lowest part number of a split set that this handle has no file for.
    fn first_unreferenced_part(&self, info: &sys::wimlib_wim_info) -> Option<u16> {
        if info.total_parts <= 1 {
            return None;
        }
        (1..=info.total_parts)
            .find(|&n| n != info.part_number && !self.parts.iter().any(|(m, _)| *m == n))
    }
}

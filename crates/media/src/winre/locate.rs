//! Finding `Winre.wim` in an image, ignoring case.

use wait_wim::{FileEntry, Wim, WimError};

use super::error::WinreError;
use super::report::WINRE_PATH;

/// The `Winre.wim` file of `image`, if any. The usual spelling is looked up directly;
/// only when it is absent is the whole image walked comparing paths without case
/// (Windows paths are case-insensitive, libwim's lookups on Linux are not).
pub(crate) fn find_winre(wim: &Wim<'_>, image: u32) -> Result<Option<FileEntry>, WinreError> {
    let outer = |source| WinreError::OuterWim {
        image,
        action: "listing files",
        source,
    };
    match wim.files(image, WINRE_PATH) {
        Ok(entries) => {
            if let Some(entry) = entries.into_iter().find(|e| !e.is_directory) {
                return Ok(Some(entry));
            }
        }
        Err(WimError::PathNotInImage { .. }) => {}
        Err(e) => return Err(outer(e)),
    }
    let wanted = WINRE_PATH.to_lowercase();
    let mut found = None;
    wim.for_each_file(image, "/", |e| {
        if !e.is_directory && e.path.to_lowercase() == wanted {
            found = Some(e.clone());
            return false;
        }
        true
    })
    .map_err(outer)?;
    Ok(found)
}

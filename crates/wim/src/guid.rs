//! The WIM's identity: pinning the GUID (and, for byte-identical output, the XML
//! timestamps) so that equal content gives equal files.

use crate::error::{Result, check};
use crate::sys;
use crate::wim::Wim;

impl Wim<'_> {
    /// Set the GUID written to the header by later writes (`write`, `overwrite`,
    /// `split`). Without this, every `write` draws a new random GUID (`overwrite`
    /// keeps the file's); pinning it makes output reproducible.
    pub fn set_guid(&mut self, guid: [u8; 16]) -> Result<()> {
        let held = self.begin()?;
        let info = sys::wimlib_wim_info {
            guid,
            ..Default::default()
        };
        // SAFETY: live, locked handle; `info` is a complete struct of which libwim
        // reads only the GUID (the `which` flag says so).
        let rc =
            unsafe { sys::wimlib_set_wim_info(self.raw.as_ptr(), &info, sys::WIMLIB_CHANGE_GUID) };
        check(rc, &self.ctx())?;
        drop(held);
        self.guid_pinned = true;
        Ok(())
    }
}

/// Write the image times that libwim would otherwise take from the clock.
fn pin_times(wim: &mut Wim<'_>, filetime: u64) -> Result<()> {
    let high = format!("0x{:08X}", filetime >> 32);
    let low = format!("0x{:08X}", filetime & 0xFFFF_FFFF);
    for image in 1..=wim.image_count() {
        for element in ["CREATIONTIME", "LASTMODIFICATIONTIME"] {
            wim.set_image_property(image, &format!("{element}/HIGHPART"), &high)?;
            wim.set_image_property(image, &format!("{element}/LOWPART"), &low)?;
        }
    }
    Ok(())
}

impl Wim<'_> {
    /// `write`, made byte-for-byte reproducible: the same images (same metadata and
    /// data), options and arguments give an identical file.
    ///
    /// Besides the GUID (pinned as by [`Wim::set_guid`]), libwim records two clock
    /// readings per image in the XML: CREATIONTIME (when the image was added) and
    /// LASTMODIFICATIONTIME (set while writing a new or changed image, so it cannot be
    /// preset). Both are set to `filetime` (100 ns units since 1601, like Windows
    /// FILETIME): after the write, the file is reopened, the times are set, and it is
    /// rebuilt with `overwrite`, which copies the data as it is and keeps the GUID.
    /// File timestamps inside the image come from the captured files, so capturing a
    /// tree twice may still differ (access times change when files are read).
    pub fn write_deterministic(
        &mut self,
        path: &std::path::Path,
        images: crate::ImageSelector,
        opts: &crate::WriteOptions,
        guid: [u8; 16],
        filetime: u64,
    ) -> Result<()> {
        self.set_guid(guid)?;
        self.write(path, images, opts)?;
        let mut written = Wim::open(path)?;
        pin_times(&mut written, filetime)?;
        written.overwrite(&crate::WriteOptions {
            compression: None,
            chunk_size: None,
            solid: false,
            recompress: false,
            rebuild: true,
            ..opts.clone()
        })
    }
}

//! El Torito boot catalogs: which boot images an ISO offers and to which firmware.
//!
//! The Boot Record Volume Descriptor (sector 17 on every image WAIT writes; found by
//! scanning the descriptor set) points at the boot catalog: a validation entry whose
//! checksum makes the 32-byte record sum to zero, the initial/default entry, then
//! section headers each followed by their section entries (and any selection-criteria
//! extensions). Every offset and count is checked against the image before it is
//! used, and nothing past the catalog sector is read as entries, so a hostile catalog
//! ends as [`MediaError::Corrupt`], never a panic or a huge read.

use std::fs::File;
use std::io::{Read, Seek};
use std::path::{Path, PathBuf};

use crate::MediaError;

use super::bytes::{le16, le32, slice, u8_at};
use super::source::{Input, Source};

const SECTOR: u64 = 2048;
const ENTRY: usize = 32;
/// Volume descriptors start at sector 16; real images have a handful.
const FIRST_DESCRIPTOR: u64 = 16;
const MAX_DESCRIPTORS: u64 = 64;
const EL_TORITO_ID: &[u8] = b"EL TORITO SPECIFICATION";
/// The catalog is one sector (64 entries): nothing records a longer one, and the
/// sectors after it hold other data (usually the first boot image).
const CATALOG_BYTES: u64 = SECTOR;

/// Platform ID of the x86 PC BIOS.
pub const PLATFORM_BIOS: u8 = 0x00;
/// Platform ID of UEFI.
pub const PLATFORM_UEFI: u8 = 0xEF;

/// How the firmware presents the boot image.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Emulation {
    NoEmulation,
    Floppy1200,
    Floppy1440,
    Floppy2880,
    HardDisk,
}

impl Emulation {
    fn from_media_type(b: u8) -> Option<Self> {
        match b & 0x0F {
            0 => Some(Self::NoEmulation),
            1 => Some(Self::Floppy1200),
            2 => Some(Self::Floppy1440),
            3 => Some(Self::Floppy2880),
            4 => Some(Self::HardDisk),
            _ => None,
        }
    }
}

/// One boot image of the catalog (the default entry or a section entry).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BootEntry {
    /// Platform ID: [`PLATFORM_BIOS`], [`PLATFORM_UEFI`], 0x01 PowerPC, 0x02 Mac.
    pub platform: u8,
    /// Boot indicator 0x88 (the entry may be booted) rather than 0x00.
    pub bootable: bool,
    pub emulation: Emulation,
    /// Real-mode load segment; 0 means the traditional 0x7C0.
    pub load_segment: u16,
    pub system_type: u8,
    /// Sectors of 512 bytes the firmware loads (for no emulation); 0 means "the tool
    /// left it to the firmware".
    pub sector_count: u16,
    /// First 2048-byte sector of the boot image in the ISO.
    pub load_rba: u32,
}

impl BootEntry {
    /// Byte offset of the boot image in the ISO.
    pub fn offset(&self) -> u64 {
        u64::from(self.load_rba) * SECTOR
    }

    /// Bytes the firmware loads, as the entry declares them.
    pub fn load_bytes(&self) -> u64 {
        u64::from(self.sector_count) * 512
    }
}

/// The boot catalog of an ISO.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ElTorito {
    /// Sector of the boot catalog.
    pub catalog_lba: u32,
    /// The default entry first, then the section entries in catalog order.
    pub entries: Vec<BootEntry>,
}

impl ElTorito {
    /// The first bootable entry for `platform`.
    pub fn bootable(&self, platform: u8) -> Option<&BootEntry> {
        self.entries
            .iter()
            .find(|e| e.bootable && e.platform == platform)
    }

    /// Reads the boot catalog of the image at `path`. `Ok(None)` when the image has no
    /// El Torito boot record (a data-only disc).
    pub fn read(path: impl AsRef<Path>) -> Result<Option<ElTorito>, MediaError> {
        let path = path.as_ref();
        let file = File::open(path).map_err(|source| MediaError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        read_from(Input::File(file), path.to_path_buf())
    }

    /// The same from any seekable reader; `name` is used in errors.
    pub fn from_reader<R: Read + Seek + Send + 'static>(
        reader: R,
        name: impl Into<PathBuf>,
    ) -> Result<Option<ElTorito>, MediaError> {
        read_from(Input::Reader(Box::new(reader)), name.into())
    }
}

fn read_from(input: Input, name: PathBuf) -> Result<Option<ElTorito>, MediaError> {
    let mut src = Source::new(input, name)?;
    let Some(catalog_lba) = find_boot_record(&mut src)? else {
        return Ok(None);
    };
    let start = u64::from(catalog_lba) * SECTOR;
    src.check_range(start, ENTRY as u64 * 2, "El Torito boot catalog")?;
    // A catalog cut short by the end of the image still has its first entries.
    let len = (src.size - start).min(CATALOG_BYTES);
    let catalog = src.read_vec(start, len, "El Torito boot catalog")?;
    let entries = parse_catalog(&catalog, &src)?;
    Ok(Some(ElTorito {
        catalog_lba,
        entries,
    }))
}

/// The catalog sector named by the Boot Record Volume Descriptor, if there is one.
fn find_boot_record(src: &mut Source) -> Result<Option<u32>, MediaError> {
    let mut saw_descriptor = false;
    for i in 0..MAX_DESCRIPTORS {
        let off = (FIRST_DESCRIPTOR + i) * SECTOR;
        if off + SECTOR > src.size {
            break;
        }
        let mut vd = vec![0u8; SECTOR as usize];
        src.read_at(off, &mut vd, "volume descriptor")?;
        if slice(&vd, 1, 5) != b"CD001" {
            break;
        }
        saw_descriptor = true;
        match u8_at(&vd, 0) {
            0 if slice(&vd, 7, EL_TORITO_ID.len()) == EL_TORITO_ID => {
                return Ok(Some(le32(&vd, 0x47)));
            }
            255 => break,
            _ => {}
        }
    }
    if saw_descriptor {
        Ok(None)
    } else {
        Err(MediaError::NotAnIso {
            path: src.name.clone(),
        })
    }
}

/// Entries are numbered from 1 by their position in the catalog in messages (the
/// validation entry is 1, the default entry 2).
fn parse_catalog(cat: &[u8], src: &Source) -> Result<Vec<BootEntry>, MediaError> {
    let entry = |i: usize| slice(cat, i * ENTRY, ENTRY);
    let validation = entry(0);
    if u8_at(validation, 0) != 1 {
        return Err(src.corrupt(format!(
            "El Torito validation entry has header ID {:#04x}, not 0x01",
            u8_at(validation, 0)
        )));
    }
    if slice(validation, 30, 2) != [0x55, 0xAA] {
        return Err(src.corrupt("El Torito validation entry lacks the 55 AA key bytes"));
    }
    let sum = (0..ENTRY / 2).fold(0u16, |s, w| s.wrapping_add(le16(validation, w * 2)));
    if sum != 0 {
        return Err(src.corrupt(format!(
            "El Torito validation entry checksum is off by {sum:#06x}"
        )));
    }
    let mut entries = vec![boot_entry(entry(1), u8_at(validation, 1), 2, src)?];

    let total = cat.len() / ENTRY;
    let mut i = 2;
    while i < total {
        let header = entry(i);
        let id = u8_at(header, 0);
        // Tools leave the rest of the sector zero: a zero byte where a header could
        // start ends the catalog.
        if id == 0 {
            break;
        }
        if id != 0x90 && id != 0x91 {
            return Err(src.corrupt(format!(
                "El Torito catalog entry {} has header ID {id:#04x}, not a section header",
                i + 1
            )));
        }
        let platform = u8_at(header, 1);
        let count = usize::from(le16(header, 2));
        i += 1;
        for _ in 0..count {
            if i >= total {
                return Err(src.corrupt(format!(
                    "El Torito section header {} promises {count} entries but the catalog ends first",
                    platform_name(platform)
                )));
            }
            entries.push(boot_entry(entry(i), platform, i + 1, src)?);
            i += 1;
            // Selection-criteria extensions (0x44) follow while bit 5 says "more".
            let mut more = u8_at(entry(i - 1), 1) & 0x20 != 0;
            while more {
                let ext = entry(i);
                if i >= total || u8_at(ext, 0) != 0x44 {
                    return Err(src.corrupt(format!(
                        "El Torito catalog entry {} should be a section entry extension",
                        i + 1
                    )));
                }
                more = u8_at(ext, 1) & 0x20 != 0;
                i += 1;
            }
        }
        if id == 0x91 {
            break;
        }
    }
    Ok(entries)
}

fn boot_entry(e: &[u8], platform: u8, n: usize, src: &Source) -> Result<BootEntry, MediaError> {
    let bootable = match u8_at(e, 0) {
        0x88 => true,
        0x00 => false,
        other => {
            return Err(src.corrupt(format!(
                "El Torito catalog entry {n} has boot indicator {other:#04x}, not 0x88 or 0x00"
            )));
        }
    };
    let media = u8_at(e, 1);
    let emulation = Emulation::from_media_type(media).ok_or_else(|| {
        src.corrupt(format!(
            "El Torito catalog entry {n} has unknown media type {media:#04x}"
        ))
    })?;
    let entry = BootEntry {
        platform,
        bootable,
        emulation,
        load_segment: le16(e, 2),
        system_type: u8_at(e, 4),
        sector_count: le16(e, 6),
        load_rba: le32(e, 8),
    };
    // A boot image must at least begin inside the image.
    src.check_range(
        entry.offset(),
        1,
        &format!("boot image of catalog entry {n}"),
    )?;
    Ok(entry)
}

/// Name of a platform ID for messages, as the specification's tables call them.
pub fn platform_name(id: u8) -> String {
    match id {
        PLATFORM_BIOS => "BIOS".to_owned(),
        0x01 => "PowerPC".to_owned(),
        0x02 => "Mac".to_owned(),
        PLATFORM_UEFI => "UEFI".to_owned(),
        other => format!("{other:#04x}"),
    }
}

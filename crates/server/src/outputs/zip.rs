//! A ZIP archive written as a stream: stored entries (method 0; images are compressed
//! already), each followed by a data descriptor with its CRC-32, which is computed while
//! the bytes go out, so nothing is read twice or buffered. Sizes are known before the
//! first byte, which makes the archive's length known too (`Content-Length`).
//!
//! Zip64 (PKWARE APPNOTE 6.3, sections 4.3.9, 4.3.14–4.3.16, 4.5.3) is used exactly where
//! a classic field would overflow: per entry for sizes of 4 GiB and more or offsets past
//! 4 GiB, and the zip64 end-of-central-directory record and locator when the central
//! directory's offset, size or entry count do not fit.

use std::io;
use std::time::SystemTime;

use axum::body::Bytes;
use futures::{Stream, StreamExt};
use time::OffsetDateTime;

use super::body::file_chunks;

const LOCAL_HEADER_SIG: u32 = 0x0403_4b50;
const DATA_DESCRIPTOR_SIG: u32 = 0x0807_4b50;
const CENTRAL_HEADER_SIG: u32 = 0x0201_4b50;
const ZIP64_EOCD_SIG: u32 = 0x0606_4b50;
const ZIP64_LOCATOR_SIG: u32 = 0x0706_4b50;
const EOCD_SIG: u32 = 0x0605_4b50;
const ZIP64_EXTRA_ID: u16 = 0x0001;

/// Bit 3: CRC and sizes follow the data in a data descriptor. Bit 11: names are UTF-8.
const FLAGS: u16 = (1 << 3) | (1 << 11);
/// 2.0: stored entries and data descriptors; 4.5: zip64.
const VERSION_PLAIN: u16 = 20;
const VERSION_ZIP64: u16 = 45;
/// "Made by" UNIX (high byte 3), so the external attributes carry a file mode.
const MADE_BY: u16 = (3 << 8) | VERSION_ZIP64;
/// `-rw-r--r--` regular file, in the high half of the external attributes.
const EXTERNAL_ATTRS: u32 = 0o100_644 << 16;

/// Values at or above these do not fit their classic field.
const MAX_U32: u64 = 0xFFFF_FFFF;
const MAX_U16: u64 = 0xFFFF;

const LOCAL_HEADER_LEN: u64 = 30;
const CENTRAL_HEADER_LEN: u64 = 46;
const ZIP64_EOCD_LEN: u64 = 56;
const ZIP64_LOCATOR_LEN: u64 = 20;
const EOCD_LEN: u64 = 22;

/// One file to put in the archive, opened already so a missing file shows before the
/// response starts.
#[derive(Debug)]
pub struct ZipEntry {
    /// Path inside the archive, '/'-separated.
    pub name: String,
    pub file: tokio::fs::File,
    /// Bytes to store (the file's length when it was opened).
    pub size: u64,
    pub modified: SystemTime,
}

#[derive(Debug, thiserror::Error)]
pub enum ZipError {
    #[error("zip entry name {0:?} is longer than 65535 bytes")]
    NameTooLong(String),
}

/// Where one entry lands in the archive.
#[derive(Debug, Clone)]
struct Placed {
    name: String,
    size: u64,
    dos_time: u16,
    dos_date: u16,
    /// Offset of the local header.
    offset: u64,
}

impl Placed {
    /// The sizes need 8-byte fields (local zip64 extra, 8-byte descriptor sizes).
    fn big(&self) -> bool {
        self.size >= MAX_U32
    }

    fn far(&self) -> bool {
        self.offset >= MAX_U32
    }

    fn local_extra_len(&self) -> u64 {
        if self.big() { 4 + 16 } else { 0 }
    }

    fn descriptor_len(&self) -> u64 {
        if self.big() { 24 } else { 16 }
    }

    fn central_extra_len(&self) -> u64 {
        let fields = 2 * u64::from(self.big()) + u64::from(self.far());
        if fields == 0 { 0 } else { 4 + 8 * fields }
    }

    fn local_len(&self) -> u64 {
        LOCAL_HEADER_LEN + self.name.len() as u64 + self.local_extra_len()
    }

    fn central_len(&self) -> u64 {
        CENTRAL_HEADER_LEN + self.name.len() as u64 + self.central_extra_len()
    }

    fn local_header(&self) -> Vec<u8> {
        let mut b = Vec::with_capacity(self.local_len() as usize);
        put32(&mut b, LOCAL_HEADER_SIG);
        put16(
            &mut b,
            if self.big() {
                VERSION_ZIP64
            } else {
                VERSION_PLAIN
            },
        );
        put16(&mut b, FLAGS);
        put16(&mut b, 0); // stored
        put16(&mut b, self.dos_time);
        put16(&mut b, self.dos_date);
        put32(&mut b, 0); // CRC-32: in the descriptor
        // Sizes are in the descriptor; a zip64 entry says so with the 0xFFFFFFFF marker
        // and an extra field whose (zero) sizes the descriptor replaces.
        let marker = if self.big() { u32::MAX } else { 0 };
        put32(&mut b, marker);
        put32(&mut b, marker);
        put16(&mut b, self.name.len() as u16);
        put16(&mut b, self.local_extra_len() as u16);
        b.extend_from_slice(self.name.as_bytes());
        if self.big() {
            put16(&mut b, ZIP64_EXTRA_ID);
            put16(&mut b, 16);
            put64(&mut b, 0);
            put64(&mut b, 0);
        }
        b
    }

    fn descriptor(&self, crc: u32) -> Vec<u8> {
        let mut b = Vec::with_capacity(self.descriptor_len() as usize);
        put32(&mut b, DATA_DESCRIPTOR_SIG);
        put32(&mut b, crc);
        if self.big() {
            put64(&mut b, self.size);
            put64(&mut b, self.size);
        } else {
            put32(&mut b, self.size as u32);
            put32(&mut b, self.size as u32);
        }
        b
    }

    fn central_header(&self, crc: u32, out: &mut Vec<u8>) {
        let zip64 = self.big() || self.far();
        put32(out, CENTRAL_HEADER_SIG);
        put16(out, MADE_BY);
        put16(out, if zip64 { VERSION_ZIP64 } else { VERSION_PLAIN });
        put16(out, FLAGS);
        put16(out, 0);
        put16(out, self.dos_time);
        put16(out, self.dos_date);
        put32(out, crc);
        let size32 = if self.big() {
            u32::MAX
        } else {
            self.size as u32
        };
        put32(out, size32);
        put32(out, size32);
        put16(out, self.name.len() as u16);
        put16(out, self.central_extra_len() as u16);
        put16(out, 0); // comment
        put16(out, 0); // disk
        put16(out, 0); // internal attributes
        put32(out, EXTERNAL_ATTRS);
        put32(
            out,
            if self.far() {
                u32::MAX
            } else {
                self.offset as u32
            },
        );
        out.extend_from_slice(self.name.as_bytes());
        if self.central_extra_len() > 0 {
            put16(out, ZIP64_EXTRA_ID);
            put16(out, (self.central_extra_len() - 4) as u16);
            // Order fixed by the APPNOTE: uncompressed, compressed, offset.
            if self.big() {
                put64(out, self.size);
                put64(out, self.size);
            }
            if self.far() {
                put64(out, self.offset);
            }
        }
    }
}

/// The archive's layout, decided before anything is sent.
#[derive(Debug)]
pub struct ZipPlan {
    placed: Vec<Placed>,
    files: Vec<tokio::fs::File>,
    central_offset: u64,
    central_len: u64,
}

impl ZipPlan {
    pub fn new(entries: Vec<ZipEntry>) -> Result<Self, ZipError> {
        let mut placed = Vec::with_capacity(entries.len());
        let mut files = Vec::with_capacity(entries.len());
        let mut offset = 0u64;
        for entry in entries {
            if entry.name.len() as u64 > MAX_U16 {
                return Err(ZipError::NameTooLong(entry.name));
            }
            let (dos_time, dos_date) = dos_date_time(entry.modified);
            let p = Placed {
                name: entry.name,
                size: entry.size,
                dos_time,
                dos_date,
                offset,
            };
            offset += p.local_len() + p.size + p.descriptor_len();
            placed.push(p);
            files.push(entry.file);
        }
        let central_len = placed.iter().map(Placed::central_len).sum();
        Ok(ZipPlan {
            placed,
            files,
            central_offset: offset,
            central_len,
        })
    }

    fn needs_zip64_end(&self) -> bool {
        self.placed.len() as u64 >= MAX_U16
            || self.central_offset >= MAX_U32
            || self.central_len >= MAX_U32
    }

    fn end_len(&self) -> u64 {
        let zip64 = if self.needs_zip64_end() {
            ZIP64_EOCD_LEN + ZIP64_LOCATOR_LEN
        } else {
            0
        };
        zip64 + EOCD_LEN
    }

    /// Exact length of the archive in bytes.
    pub fn content_length(&self) -> u64 {
        self.central_offset + self.central_len + self.end_len()
    }

    /// Central directory and end records, once every CRC is known.
    fn trailer(&self, crcs: &[u32]) -> Vec<u8> {
        let mut b = Vec::with_capacity((self.central_len + self.end_len()) as usize);
        for (p, crc) in self.placed.iter().zip(crcs) {
            p.central_header(*crc, &mut b);
        }
        let count = self.placed.len() as u64;
        if self.needs_zip64_end() {
            let zip64_eocd_offset = self.central_offset + self.central_len;
            put32(&mut b, ZIP64_EOCD_SIG);
            put64(&mut b, ZIP64_EOCD_LEN - 12); // size of the rest of the record
            put16(&mut b, MADE_BY);
            put16(&mut b, VERSION_ZIP64);
            put32(&mut b, 0); // this disk
            put32(&mut b, 0); // disk of the central directory
            put64(&mut b, count);
            put64(&mut b, count);
            put64(&mut b, self.central_len);
            put64(&mut b, self.central_offset);
            put32(&mut b, ZIP64_LOCATOR_SIG);
            put32(&mut b, 0); // disk of the zip64 end record
            put64(&mut b, zip64_eocd_offset);
            put32(&mut b, 1); // total disks
        }
        let count16 = count.min(MAX_U16) as u16;
        put32(&mut b, EOCD_SIG);
        put16(&mut b, 0);
        put16(&mut b, 0);
        put16(&mut b, count16);
        put16(&mut b, count16);
        put32(&mut b, self.central_len.min(MAX_U32) as u32);
        put32(&mut b, self.central_offset.min(MAX_U32) as u32);
        put16(&mut b, 0); // comment
        b
    }

    /// The archive's bytes. Each entry's file is read once, in chunks, its CRC-32
    /// computed on the way; a file that turns out shorter than planned fails the
    /// stream rather than produce an archive of the wrong length.
    pub fn into_stream(self) -> impl Stream<Item = io::Result<Bytes>> + Send + 'static {
        async_stream::try_stream! {
            let ZipPlan { placed, files, central_offset, central_len } = self;
            let mut crcs = Vec::with_capacity(placed.len());
            for (p, file) in placed.iter().zip(files) {
                yield Bytes::from(p.local_header());
                let mut crc = crc32fast::Hasher::new();
                let mut chunks = std::pin::pin!(file_chunks(file, p.size));
                while let Some(chunk) = chunks.next().await {
                    let chunk = chunk?;
                    crc.update(&chunk);
                    yield chunk;
                }
                let crc = crc.finalize();
                yield Bytes::from(p.descriptor(crc));
                crcs.push(crc);
            }
            let plan = ZipPlan { placed, files: Vec::new(), central_offset, central_len };
            yield Bytes::from(plan.trailer(&crcs));
        }
    }
}

/// MS-DOS time and date of `t` in UTC, clamped to the format's 1980–2107 range.
fn dos_date_time(t: SystemTime) -> (u16, u16) {
    let t = OffsetDateTime::from(t);
    let (year, month, day, hour, minute, second) = match t.year() {
        ..1980 => (1980, 1, 1, 0, 0, 0),
        2108.. => (2107, 12, 31, 23, 59, 58),
        year => (
            year,
            u8::from(t.month()),
            t.day(),
            t.hour(),
            t.minute(),
            t.second(),
        ),
    };
    let time = (u16::from(hour) << 11) | (u16::from(minute) << 5) | u16::from(second / 2);
    let date = (((year - 1980) as u16) << 9) | (u16::from(month) << 5) | u16::from(day);
    (time, date)
}

fn put16(b: &mut Vec<u8>, v: u16) {
    b.extend_from_slice(&v.to_le_bytes());
}

fn put32(b: &mut Vec<u8>, v: u32) {
    b.extend_from_slice(&v.to_le_bytes());
}

fn put64(b: &mut Vec<u8>, v: u64) {
    b.extend_from_slice(&v.to_le_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn placed(name: &str, size: u64, offset: u64) -> Placed {
        Placed {
            name: name.to_string(),
            size,
            dos_time: 0,
            dos_date: 0,
            offset,
        }
    }

    #[test]
    fn header_lengths_match_what_is_written_for_small_big_and_far_entries() {
        for (size, offset) in [
            (0, 0),
            (5, 10),
            (MAX_U32 - 1, 0),
            (MAX_U32, 0),
            (5 << 30, MAX_U32 + 7),
        ] {
            let p = placed("folder/install.wim", size, offset);
            assert_eq!(
                p.local_header().len() as u64,
                p.local_len(),
                "{size} {offset}"
            );
            assert_eq!(p.descriptor(7).len() as u64, p.descriptor_len());
            let mut central = Vec::new();
            p.central_header(7, &mut central);
            assert_eq!(central.len() as u64, p.central_len(), "{size} {offset}");
        }
    }

    #[test]
    fn zip64_fields_appear_only_where_classic_fields_overflow() {
        let small = placed("a", 10, 0);
        assert_eq!(small.local_extra_len(), 0);
        assert_eq!(small.central_extra_len(), 0);
        let header = small.local_header();
        assert_eq!(&header[18..26], &[0; 8], "sizes are left to the descriptor");

        let big = placed("a", 5 << 30, 0);
        let header = big.local_header();
        assert_eq!(&header[18..26], &[0xFF; 8]);
        assert_eq!(u16::from_le_bytes([header[31], header[32]]), ZIP64_EXTRA_ID);
        let descriptor = big.descriptor(1);
        assert_eq!(
            u64::from_le_bytes(descriptor[8..16].try_into().unwrap()),
            5 << 30
        );

        // An entry past 4 GiB needs only its offset in the central zip64 field.
        let far = placed("a", 10, 6 << 30);
        assert_eq!(far.local_extra_len(), 0);
        assert_eq!(far.central_extra_len(), 12);
        let mut central = Vec::new();
        far.central_header(1, &mut central);
        assert_eq!(&central[42..46], &[0xFF; 4]);
        let extra = &central[central.len() - 8..];
        assert_eq!(u64::from_le_bytes(extra.try_into().unwrap()), 6 << 30);
    }

    #[test]
    fn dos_times_encode_utc_and_clamp_to_the_format_range() {
        let t = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000); // 2023-11-14 22:13:20
        let (time, date) = dos_date_time(t);
        assert_eq!(time, (22 << 11) | (13 << 5) | 10);
        assert_eq!(date, (43 << 9) | (11 << 5) | 14);
        assert_eq!(dos_date_time(SystemTime::UNIX_EPOCH), (0, (1 << 5) | 1));
    }

    #[tokio::test]
    async fn a_streamed_archive_has_the_planned_length_and_readable_records() {
        let dir = tempfile::tempdir().unwrap();
        let mut entries = Vec::new();
        for (name, data) in [("out/a.txt", &b"hello"[..]), ("out/empty", &b""[..])] {
            let path = dir.path().join(name.replace('/', "_"));
            std::fs::write(&path, data).unwrap();
            entries.push(ZipEntry {
                name: name.to_string(),
                file: tokio::fs::File::open(&path).await.unwrap(),
                size: data.len() as u64,
                modified: SystemTime::now(),
            });
        }
        let plan = ZipPlan::new(entries).unwrap();
        let expected = plan.content_length();
        let mut bytes = Vec::new();
        let mut stream = std::pin::pin!(plan.into_stream());
        while let Some(chunk) = stream.next().await {
            bytes.extend_from_slice(&chunk.unwrap());
        }
        assert_eq!(bytes.len() as u64, expected);
        assert_eq!(&bytes[..4], &LOCAL_HEADER_SIG.to_le_bytes());
        let eocd = &bytes[bytes.len() - 22..];
        assert_eq!(&eocd[..4], &EOCD_SIG.to_le_bytes());
        assert_eq!(u16::from_le_bytes([eocd[10], eocd[11]]), 2, "two entries");
        // The first descriptor carries the CRC-32 of "hello".
        let descriptor_at = 30 + "out/a.txt".len() + 5;
        assert_eq!(
            &bytes[descriptor_at..descriptor_at + 8],
            &[
                DATA_DESCRIPTOR_SIG.to_le_bytes(),
                0x3610_a686u32.to_le_bytes()
            ]
            .concat()[..]
        );
    }
}

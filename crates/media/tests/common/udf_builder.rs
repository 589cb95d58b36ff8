//! A tiny UDF image writer for tests: lays out the descriptors by hand so
//! tests can reach cases no authoring tool produces (a 5 GiB file backed by
//! a sparse image, UDF 2.50 metadata partitions, loops, broken fields).

#![allow(dead_code)]

use std::fs::File;
use std::io::{Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

pub const BLOCK: u64 = 2048;
const PART_START: u64 = 257;
/// Blocks reserved for the metadata partition when there is one.
const META_BLOCKS: u64 = 64;
const MAX_AD: u64 = 0x3FFF_F800;

pub enum Node {
    Dir(String, Vec<Node>),
    File(String, Vec<u8>),
    /// A file of `len` bytes whose content is zeros except 8-byte markers at
    /// the offsets listed in the returned layout.
    Sparse(String, u64),
    /// A directory entry pointing back at the directory that contains it.
    LoopToParent(String),
}

#[derive(Default, Clone)]
pub struct Opts {
    pub metadata_partition: bool,
    pub extended_entries: bool,
    pub long_ad: bool,
    pub names16: bool,
    pub embed_small: bool,
    /// Add an ISO 9660 layer that only holds README.TXT.
    pub iso_readme: Option<Vec<u8>>,
    pub label: String,
}

pub struct Layout {
    pub path: PathBuf,
    pub size: u64,
    pub anchors: Vec<u64>,
    /// Absolute byte offset of the root directory's file entry and data.
    pub root_fe: u64,
    pub root_data: u64,
    /// (file offset, marker bytes) written into sparse files.
    pub markers: Vec<(u64, [u8; 8])>,
}

struct Planned {
    fe: u64,           // lbn in the ICB partition
    data: Option<u64>, // lbn in the data's partition
    blocks: u64,
    dir_len: u64,
}

pub fn build(path: &Path, label: &str, root: Vec<Node>, opts: &Opts) -> Layout {
    let mut b = Builder {
        opts: opts.clone(),
        meta_next: 0,
        phys_next: 0,
        img: vec![0u8; (PART_START * BLOCK) as usize],
        sparse: Vec::new(),
        markers: Vec::new(),
        root_data_abs: 0,
    };
    if opts.metadata_partition {
        b.phys_next = 1 + META_BLOCKS; // block 0 holds the metadata file entry
    }
    // The file set descriptor takes the first ICB-partition block.
    let fsd_lbn = b.alloc_icb(1);
    let root_node = Node::Dir(String::new(), root);
    let root_fe_lbn = b.layout(&root_node, None);
    let icb_ref: u16 = if opts.metadata_partition { 1 } else { 0 };

    // Write the FSD.
    let mut fsd = vec![0u8; BLOCK as usize];
    put_long_ad(&mut fsd, 400, BLOCK as u32, root_fe_lbn as u32, icb_ref);
    b.put_icb_block(fsd_lbn, fsd, 256);
    if opts.metadata_partition {
        let mut fe = file_entry(false, 250, META_BLOCKS * BLOCK, 0);
        let ads = short_ad((META_BLOCKS * BLOCK) as u32, 1, 0);
        set_ads(&mut fe, false, false, &ads);
        b.put_phys_block(0, fe, 261);
    }
    let root_fe = b.icb_abs(root_fe_lbn);
    let root_data = b.root_data_abs;
    // Sparse data goes after everything else in the partition.
    let mut part_blocks = b.phys_next;
    let mut writes = Vec::new();
    for (fe_abs_lbn, len, _) in std::mem::take(&mut b.sparse) {
        let start = part_blocks;
        let blocks = len.div_ceil(BLOCK);
        part_blocks += blocks;
        let mut ads = Vec::new();
        let mut left = len;
        let mut at = start;
        while left > 0 {
            let n = left.min(MAX_AD);
            if b.opts.long_ad || b.opts.metadata_partition {
                ads.extend(long_ad(n as u32, at as u32, 0));
            } else {
                ads.extend(short_ad(n as u32, at as u32, 0));
            }
            at += n.div_ceil(BLOCK);
            left -= n;
        }
        writes.push((fe_abs_lbn, ads, start, len));
    }
    let part_len = part_blocks.max(b.meta_next + 1) + 1;
    let n_blocks = PART_START + part_len + 1;
    // Sparse FEs need their ADs now that data locations are known.
    let long = b.opts.long_ad || b.opts.metadata_partition;
    for (fe_lbn, ads, start, len) in &writes {
        let fe_off = b.icb_abs(*fe_lbn) as usize;
        let mut fe = b.img[fe_off..fe_off + BLOCK as usize].to_vec();
        set_ads(&mut fe, b.opts.extended_entries, long, ads);
        b.put_icb_block(*fe_lbn, fe, if b.opts.extended_entries { 266 } else { 261 });
        let base = (PART_START + start) * BLOCK;
        for off in [0, (1u64 << 32) - 4, len - 8] {
            if off + 8 <= *len {
                let mut m = *b"MARK\0\0\0\0";
                m[4..].copy_from_slice(&((off as u32) ^ 0x5A5A_5A5A).to_le_bytes());
                b.markers.push((off, m));
                let _ = base;
            }
        }
    }
    // Volume structures.
    write_vrs(&mut b.img, opts.iso_readme.is_some());
    let vds = |img: &mut Vec<u8>, at: u64| {
        let mut pvd = vec![0u8; 512];
        put_dstring(&mut pvd, 24, 32, label);
        put_tag(img, at, pvd, 1);
        let mut pd = vec![0u8; 512];
        pd[22..24].copy_from_slice(&0u16.to_le_bytes());
        pd[188..192].copy_from_slice(&(PART_START as u32).to_le_bytes());
        pd[192..196].copy_from_slice(&(part_len as u32).to_le_bytes());
        put_tag(img, at + 1, pd, 5);
        let mut lvd = vec![0u8; 512];
        put_dstring(&mut lvd, 84, 128, label);
        lvd[212..216].copy_from_slice(&(BLOCK as u32).to_le_bytes());
        lvd[217..236].copy_from_slice(b"*OSTA UDF Compliant");
        let rev: u16 = if opts.metadata_partition {
            0x0250
        } else {
            0x0102
        };
        lvd[240..242].copy_from_slice(&rev.to_le_bytes());
        put_long_ad(&mut lvd, 248, BLOCK as u32, fsd_lbn as u32, icb_ref);
        let mut maps = vec![1u8, 6, 1, 0, 0, 0];
        if opts.metadata_partition {
            let mut m = vec![0u8; 64];
            m[0] = 2;
            m[1] = 64;
            m[5..28].copy_from_slice(b"*UDF Metadata Partition");
            m[36..38].copy_from_slice(&1u16.to_le_bytes());
            m[38..40].copy_from_slice(&0u16.to_le_bytes());
            m[40..44].copy_from_slice(&0u32.to_le_bytes());
            m[44..48].copy_from_slice(&0u32.to_le_bytes());
            m[48..52].copy_from_slice(&u32::MAX.to_le_bytes());
            maps.extend(m);
        }
        lvd[264..268].copy_from_slice(&(maps.len() as u32).to_le_bytes());
        lvd[268..272]
            .copy_from_slice(&(if opts.metadata_partition { 2u32 } else { 1 }).to_le_bytes());
        lvd.resize(440 + maps.len(), 0);
        lvd[440..].copy_from_slice(&maps);
        put_tag(img, at + 2, lvd, 6);
        put_tag(img, at + 3, vec![0u8; 512], 8);
    };
    vds(&mut b.img, 32);
    vds(&mut b.img, 48);
    let mut anchors = Vec::new();
    let mut tail = Vec::new();
    for at in [256u64, n_blocks - 1] {
        let mut avdp = vec![0u8; 512];
        avdp[16..20].copy_from_slice(&((4 * BLOCK) as u32).to_le_bytes());
        avdp[20..24].copy_from_slice(&32u32.to_le_bytes());
        avdp[24..28].copy_from_slice(&((4 * BLOCK) as u32).to_le_bytes());
        avdp[28..32].copy_from_slice(&48u32.to_le_bytes());
        fix_tag_in(&mut avdp, 2, at as u32);
        tail.push((at * BLOCK, avdp));
        anchors.push(at * BLOCK);
    }
    if let Some(readme) = &opts.iso_readme {
        write_iso_layer(&mut b.img, n_blocks, readme);
    }
    let mut f = File::create(path).expect("create image");
    f.set_len(n_blocks * BLOCK).expect("size image");
    assert!(b.img.len() as u64 <= n_blocks * BLOCK, "layout overflow");
    f.write_all(&b.img).expect("write image");
    for (off, bytes) in &tail {
        f.seek(SeekFrom::Start(*off)).expect("seek");
        f.write_all(bytes).expect("anchor");
    }
    for (_, _, start, _) in &writes {
        let base = (PART_START + start) * BLOCK;
        for (off, m) in &b.markers {
            f.seek(SeekFrom::Start(base + off)).expect("seek");
            f.write_all(m).expect("marker");
        }
    }
    Layout {
        path: path.to_path_buf(),
        size: n_blocks * BLOCK,
        anchors,
        root_fe,
        root_data,
        markers: b.markers.clone(),
    }
}

struct Builder {
    opts: Opts,
    meta_next: u64,
    phys_next: u64,
    img: Vec<u8>,
    /// (FE lbn, length, unused) of sparse files, placed at the end.
    sparse: Vec<(u64, u64, usize)>,
    markers: Vec<(u64, [u8; 8])>,
    root_data_abs: u64,
}

impl Builder {
    /// Allocates blocks in the partition that holds ICBs and directories.
    fn alloc_icb(&mut self, n: u64) -> u64 {
        if self.opts.metadata_partition {
            let at = self.meta_next;
            self.meta_next += n;
            assert!(
                self.meta_next <= META_BLOCKS,
                "tree too big for the test metadata area"
            );
            at
        } else {
            let at = self.phys_next;
            self.phys_next += n;
            at
        }
    }
    fn alloc_data(&mut self, n: u64) -> u64 {
        let at = self.phys_next;
        self.phys_next += n;
        at
    }
    fn icb_abs(&self, lbn: u64) -> u64 {
        if self.opts.metadata_partition {
            (PART_START + 1 + lbn) * BLOCK
        } else {
            (PART_START + lbn) * BLOCK
        }
    }
    fn ensure(&mut self, end: u64) {
        if self.img.len() < end as usize {
            self.img.resize(end as usize, 0);
        }
    }
    fn put_icb_block(&mut self, lbn: u64, body: Vec<u8>, id: u16) {
        let abs = self.icb_abs(lbn);
        self.ensure(abs + BLOCK);
        put_tag_at(&mut self.img, abs, lbn as u32, body, id);
    }
    fn put_phys_block(&mut self, lbn: u64, body: Vec<u8>, id: u16) {
        let abs = (PART_START + lbn) * BLOCK;
        self.ensure(abs + BLOCK);
        put_tag_at(&mut self.img, abs, lbn as u32, body, id);
    }
    fn name_bytes(&self, name: &str) -> Vec<u8> {
        if !self.opts.names16 && name.chars().all(|c| (c as u32) < 256) {
            let mut v = vec![8u8];
            v.extend(name.chars().map(|c| c as u8));
            v
        } else {
            let mut v = vec![16u8];
            for u in name.encode_utf16() {
                v.extend(u.to_be_bytes());
            }
            v
        }
    }
}

impl Builder {
    /// Lays out `node`, writes its entry (and data); returns its FE lbn.
    fn layout(&mut self, node: &Node, parent_fe: Option<u64>) -> u64 {
        let icb_ref: u16 = if self.opts.metadata_partition { 1 } else { 0 };
        let ext = self.opts.extended_entries;
        match node {
            Node::Dir(name, children) => {
                let fe = self.alloc_icb(1);
                let _ = name;
                // Children first, so their locations are known for the FIDs.
                let mut fids = Vec::new();
                fids.extend(fid(&[], parent_fe.unwrap_or(fe), icb_ref, 0x0A));
                let mut child_fes = Vec::new();
                for c in children {
                    let (cname, is_dir) = match c {
                        Node::Dir(n, _) | Node::LoopToParent(n) => (n.clone(), true),
                        Node::File(n, _) | Node::Sparse(n, _) => (n.clone(), false),
                    };
                    let target = match c {
                        Node::LoopToParent(_) => fe,
                        other => self.layout(other, Some(fe)),
                    };
                    child_fes.push(target);
                    let nb = self.name_bytes(&cname);
                    fids.extend(fid(&nb, target, icb_ref, if is_dir { 0x02 } else { 0 }));
                }
                let len = fids.len() as u64;
                let blocks = len.div_ceil(BLOCK).max(1);
                let data = self.alloc_icb(blocks);
                let abs = self.icb_abs(data);
                if parent_fe.is_none() {
                    self.root_data_abs = abs;
                }
                self.ensure(abs + blocks * BLOCK);
                self.img[abs as usize..abs as usize + fids.len()].copy_from_slice(&fids);
                let mut body = file_entry(ext, 4, len, 0);
                let ads = if self.opts.long_ad {
                    long_ad(len as u32, data as u32, icb_ref)
                } else {
                    short_ad(len as u32, data as u32, 0)
                };
                set_ads(&mut body, ext, self.opts.long_ad, &ads);
                self.put_icb_block(fe, body, if ext { 266 } else { 261 });
                fe
            }
            Node::File(_, bytes) => {
                let fe = self.alloc_icb(1);
                let mut body = file_entry(ext, 5, bytes.len() as u64, 0);
                if self.opts.embed_small && bytes.len() < 1500 {
                    let start = if ext { 216 } else { 176 };
                    body[start..start + bytes.len()].copy_from_slice(bytes);
                    let l_ad = if ext { 212 } else { 172 };
                    body[l_ad..l_ad + 4].copy_from_slice(&(bytes.len() as u32).to_le_bytes());
                    body[34] = 3; // embedded
                } else {
                    let blocks = (bytes.len() as u64).div_ceil(BLOCK);
                    let data = self.alloc_data(blocks);
                    let abs = (PART_START + data) * BLOCK;
                    self.ensure(abs + blocks * BLOCK);
                    self.img[abs as usize..abs as usize + bytes.len()].copy_from_slice(bytes);
                    let long = self.opts.long_ad || self.opts.metadata_partition;
                    let ads = if bytes.is_empty() {
                        Vec::new()
                    } else if long {
                        long_ad(bytes.len() as u32, data as u32, 0)
                    } else {
                        short_ad(bytes.len() as u32, data as u32, 0)
                    };
                    set_ads(&mut body, ext, long, &ads);
                }
                self.put_icb_block(fe, body, if ext { 266 } else { 261 });
                fe
            }
            Node::Sparse(_, len) => {
                let fe = self.alloc_icb(1);
                let body = file_entry(ext, 5, *len, 0);
                self.put_icb_block(fe, body, if ext { 266 } else { 261 });
                self.sparse.push((fe, *len, 0));
                fe
            }
            Node::LoopToParent(_) => unreachable!("handled by the parent"),
        }
    }
}

fn file_entry(ext: bool, file_type: u8, info_len: u64, _flags: u16) -> Vec<u8> {
    let mut b = vec![0u8; BLOCK as usize];
    b[16 + 4..16 + 6].copy_from_slice(&4u16.to_le_bytes()); // strategy 4
    b[16 + 8..16 + 10].copy_from_slice(&1u16.to_le_bytes());
    b[27] = file_type;
    b[56..64].copy_from_slice(&info_len.to_le_bytes());
    let _ = ext;
    b
}

fn set_ads(body: &mut [u8], ext: bool, long: bool, ads: &[u8]) {
    let (l_ad, start) = if ext { (212, 216) } else { (172, 176) };
    body[l_ad..l_ad + 4].copy_from_slice(&(ads.len() as u32).to_le_bytes());
    body[start..start + ads.len()].copy_from_slice(ads);
    body[34] = if long { 1 } else { 0 };
}

fn short_ad(len: u32, lbn: u32, _unused: u16) -> Vec<u8> {
    let mut v = len.to_le_bytes().to_vec();
    v.extend(lbn.to_le_bytes());
    v
}

fn long_ad(len: u32, lbn: u32, part: u16) -> Vec<u8> {
    let mut v = vec![0u8; 16];
    put_long_ad(&mut v, 0, len, lbn, part);
    v
}

fn put_long_ad(b: &mut [u8], off: usize, len: u32, lbn: u32, part: u16) {
    b[off..off + 4].copy_from_slice(&len.to_le_bytes());
    b[off + 4..off + 8].copy_from_slice(&lbn.to_le_bytes());
    b[off + 8..off + 10].copy_from_slice(&part.to_le_bytes());
}

fn fid(name: &[u8], icb_lbn: u64, part: u16, chars: u8) -> Vec<u8> {
    let used = 38 + name.len();
    let mut v = vec![0u8; used.div_ceil(4) * 4];
    v[16..18].copy_from_slice(&1u16.to_le_bytes());
    v[18] = chars;
    v[19] = name.len() as u8;
    put_long_ad(&mut v, 20, BLOCK as u32, icb_lbn as u32, part);
    v[38..38 + name.len()].copy_from_slice(name);
    fix_tag_in(&mut v, 257, 0);
    v
}

/// Writes the tag header (id, version, checksum, location) into `b[0..16]`.
fn fix_tag_in(b: &mut [u8], id: u16, location: u32) {
    b[0..2].copy_from_slice(&id.to_le_bytes());
    b[2..4].copy_from_slice(&2u16.to_le_bytes());
    b[12..16].copy_from_slice(&location.to_le_bytes());
    refresh_checksum(b);
}

/// Recomputes a tag checksum after a test edits the header.
pub fn refresh_checksum(b: &mut [u8]) {
    let sum = b[..16]
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != 4)
        .fold(0u8, |a, (_, v)| a.wrapping_add(*v));
    b[4] = sum;
}

fn put_tag_at(img: &mut [u8], abs: u64, location: u32, mut body: Vec<u8>, id: u16) {
    fix_tag_in(&mut body, id, location);
    img[abs as usize..abs as usize + body.len()].copy_from_slice(&body);
}

fn put_tag(img: &mut Vec<u8>, block: u64, body: Vec<u8>, id: u16) {
    let end = ((block + 1) * BLOCK) as usize;
    if img.len() < end {
        img.resize(end, 0);
    }
    put_tag_at(img, block * BLOCK, block as u32, body, id);
}

fn put_dstring(b: &mut [u8], off: usize, len: usize, s: &str) {
    let mut v = vec![8u8];
    v.extend(s.bytes());
    b[off..off + v.len()].copy_from_slice(&v);
    b[off + len - 1] = v.len() as u8;
}

fn write_vrs(img: &mut [u8], iso: bool) {
    let first = if iso { 18 } else { 16 };
    for (i, id) in [b"BEA01", b"NSR02", b"TEA01"].iter().enumerate() {
        let at = ((first + i as u64) * BLOCK) as usize;
        img[at + 1..at + 6].copy_from_slice(*id);
        img[at + 6] = 1;
    }
}

/// A primary volume descriptor whose root holds README.TXT only, like the
/// ISO 9660 layer of Windows media.
fn write_iso_layer(img: &mut [u8], n_blocks: u64, readme: &[u8]) {
    let pvd = (16 * BLOCK) as usize;
    img[pvd] = 1;
    img[pvd + 1..pvd + 6].copy_from_slice(b"CD001");
    img[pvd + 6] = 1;
    img[pvd + 40..pvd + 72].copy_from_slice(b"ISOVIEW                         ");
    both32(img, pvd + 80, n_blocks as u32);
    both16(img, pvd + 128, BLOCK as u16);
    let root = dir_record(21, BLOCK as u32, 2, &[0]);
    img[pvd + 156..pvd + 156 + root.len()].copy_from_slice(&root);
    let term = (17 * BLOCK) as usize;
    img[term] = 255;
    img[term + 1..term + 6].copy_from_slice(b"CD001");
    img[term + 6] = 1;
    let mut dir = Vec::new();
    dir.extend(dir_record(21, BLOCK as u32, 2, &[0]));
    dir.extend(dir_record(21, BLOCK as u32, 2, &[1]));
    dir.extend(dir_record(22, readme.len() as u32, 0, b"README.TXT;1"));
    let at = (21 * BLOCK) as usize;
    img[at..at + dir.len()].copy_from_slice(&dir);
    let at = (22 * BLOCK) as usize;
    img[at..at + readme.len()].copy_from_slice(readme);
}

fn both16(b: &mut [u8], off: usize, v: u16) {
    b[off..off + 2].copy_from_slice(&v.to_le_bytes());
    b[off + 2..off + 4].copy_from_slice(&v.to_be_bytes());
}

fn both32(b: &mut [u8], off: usize, v: u32) {
    b[off..off + 4].copy_from_slice(&v.to_le_bytes());
    b[off + 4..off + 8].copy_from_slice(&v.to_be_bytes());
}

pub fn dir_record(loc: u32, len: u32, flags: u8, name: &[u8]) -> Vec<u8> {
    let total = (33 + name.len() + 1) & !1;
    let mut r = vec![0u8; total];
    r[0] = total as u8;
    both32(&mut r, 2, loc);
    both32(&mut r, 10, len);
    r[25] = flags;
    both16(&mut r, 28, 1);
    r[32] = name.len() as u8;
    r[33..33 + name.len()].copy_from_slice(name);
    r
}

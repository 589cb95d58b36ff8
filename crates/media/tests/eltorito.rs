//! The El Torito boot catalog reader on ISOs made by genisoimage, checked against
//! `xorriso -report_el_torito plain`, and on a table of damaged catalogs.

use std::io::Cursor;
use std::path::{Path, PathBuf};
use std::process::Command;

use wait_media::MediaError;
use wait_media::iso::eltorito::{ElTorito, Emulation, PLATFORM_BIOS, PLATFORM_UEFI};

/// A small media tree with a BIOS image, a second BIOS image and a UEFI floppy image.
fn media_tree(root: &Path) {
    let write = |rel: &str, bytes: &[u8]| {
        let p = root.join(rel);
        std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
        std::fs::write(p, bytes).expect("write");
    };
    let mut etfs = vec![0x90u8; 4096];
    etfs[510] = 0x55;
    etfs[511] = 0xAA;
    write("boot/etfsboot.com", &etfs);
    write("boot/other.com", &[0xCCu8; 2048]);
    let mut efisys = vec![0u8; 1_474_560];
    efisys[..3].copy_from_slice(&[0xEB, 0x3C, 0x90]);
    write("efi/microsoft/boot/efisys.bin", &efisys);
    write("sources/readme.txt", b"media");
}

fn genisoimage(tree: &Path, out: &Path, boot_args: &[&str]) {
    let status = Command::new("genisoimage")
        .args(["-quiet", "-J", "-l", "-V", "ELTORITO"])
        .args(boot_args)
        .arg("-o")
        .arg(out)
        .arg(tree)
        .status()
        .expect("run genisoimage");
    assert!(status.success(), "genisoimage {boot_args:?} failed");
}

const BIOS_AND_UEFI: &[&str] = &[
    "-b",
    "boot/etfsboot.com",
    "-no-emul-boot",
    "-boot-load-size",
    "8",
    "-eltorito-alt-boot",
    "-e",
    "efi/microsoft/boot/efisys.bin",
    "-no-emul-boot",
];

fn make(dir: &Path, name: &str, boot_args: &[&str]) -> PathBuf {
    let tree = dir.join("tree");
    if !tree.exists() {
        media_tree(&tree);
    }
    let iso = dir.join(name);
    genisoimage(&tree, &iso, boot_args);
    iso
}

/// One `El Torito boot img` line of xorriso's plain report, as our types would say it.
#[derive(Debug, PartialEq, Eq)]
struct XorrisoEntry {
    platform: String,
    bootable: bool,
    emulation: String,
    load_segment: u16,
    system_type: u8,
    sector_count: u16,
    lba: u32,
}

fn xorriso_report(iso: &Path) -> (Option<u32>, Vec<XorrisoEntry>) {
    let out = Command::new("xorriso")
        .arg("-indev")
        .arg(iso)
        .args(["-report_el_torito", "plain"])
        .output()
        .expect("run xorriso");
    assert!(out.status.success(), "xorriso failed on {}", iso.display());
    let text = String::from_utf8_lossy(&out.stdout);
    let mut catalog = None;
    let mut entries = Vec::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("El Torito catalog  :") {
            catalog = rest
                .split_whitespace()
                .next()
                .map(|s| s.parse().expect("lba"));
        }
        if let Some(rest) = line.strip_prefix("El Torito boot img :") {
            let f: Vec<&str> = rest.split_whitespace().collect();
            let hex = |s: &str| s.trim_start_matches("0x").to_string();
            entries.push(XorrisoEntry {
                platform: f[1].to_string(),
                bootable: f[2] == "y",
                emulation: f[3].to_string(),
                load_segment: u16::from_str_radix(&hex(f[4]), 16).expect("segment"),
                system_type: u8::from_str_radix(&hex(f[5]), 16).expect("system type"),
                sector_count: f[6].parse().expect("load size"),
                lba: f[7].parse().expect("lba"),
            });
        }
    }
    (catalog, entries)
}

fn ours_as_xorriso(cat: &ElTorito) -> Vec<XorrisoEntry> {
    cat.entries
        .iter()
        .map(|e| XorrisoEntry {
            platform: match e.platform {
                PLATFORM_BIOS => "BIOS".into(),
                PLATFORM_UEFI => "UEFI".into(),
                other => format!("{other:#04x}"),
            },
            bootable: e.bootable,
            emulation: match e.emulation {
                Emulation::NoEmulation => "none",
                Emulation::Floppy1200 => "fd1.2",
                Emulation::Floppy1440 => "fd1.4",
                Emulation::Floppy2880 => "fd2.8",
                Emulation::HardDisk => "hd",
            }
            .into(),
            load_segment: e.load_segment,
            system_type: e.system_type,
            sector_count: e.sector_count,
            lba: e.load_rba,
        })
        .collect()
}

#[test]
fn catalogs_read_as_xorriso_reports_them() {
    let tmp = tempfile::tempdir().unwrap();
    let cases: &[(&str, &[&str], usize)] = &[
        ("both.iso", BIOS_AND_UEFI, 2),
        (
            "bios.iso",
            &[
                "-b",
                "boot/etfsboot.com",
                "-no-emul-boot",
                "-boot-load-size",
                "8",
            ],
            1,
        ),
        (
            "uefi.iso",
            &["-e", "efi/microsoft/boot/efisys.bin", "-no-emul-boot"],
            1,
        ),
        ("floppy.iso", &["-b", "efi/microsoft/boot/efisys.bin"], 1),
        (
            "three.iso",
            &[
                "-b",
                "boot/etfsboot.com",
                "-no-emul-boot",
                "-boot-load-size",
                "8",
                "-eltorito-alt-boot",
                "-b",
                "boot/other.com",
                "-no-emul-boot",
                "-boot-load-size",
                "4",
                "-eltorito-alt-boot",
                "-e",
                "efi/microsoft/boot/efisys.bin",
                "-no-emul-boot",
            ],
            3,
        ),
    ];
    for (name, args, count) in cases {
        let iso = make(tmp.path(), name, args);
        let cat = ElTorito::read(&iso).unwrap().expect("a boot catalog");
        let (lba, theirs) = xorriso_report(&iso);
        assert_eq!(Some(cat.catalog_lba), lba, "{name}");
        assert_eq!(ours_as_xorriso(&cat), theirs, "{name}");
        assert_eq!(cat.entries.len(), *count, "{name}");
    }
}

#[test]
fn bios_and_uefi_entries_point_at_their_boot_images() {
    let tmp = tempfile::tempdir().unwrap();
    let iso = make(tmp.path(), "both.iso", BIOS_AND_UEFI);
    let cat = ElTorito::read(&iso).unwrap().unwrap();
    let bios = cat.bootable(PLATFORM_BIOS).expect("BIOS entry");
    let uefi = cat.bootable(PLATFORM_UEFI).expect("UEFI entry");
    assert_eq!(bios.load_bytes(), 4096);
    let data = std::fs::read(&iso).unwrap();
    let at = |e: &wait_media::iso::eltorito::BootEntry, n: usize| {
        data[e.offset() as usize..e.offset() as usize + n].to_vec()
    };
    let etfs = std::fs::read(tmp.path().join("tree/boot/etfsboot.com")).unwrap();
    let efisys = std::fs::read(tmp.path().join("tree/efi/microsoft/boot/efisys.bin")).unwrap();
    assert_eq!(at(bios, 4096), etfs);
    assert_eq!(at(uefi, 2048), efisys[..2048].to_vec());
}

#[test]
fn an_iso_without_boot_record_has_no_catalog() {
    let tmp = tempfile::tempdir().unwrap();
    let iso = make(tmp.path(), "plain.iso", &[]);
    assert_eq!(ElTorito::read(&iso).unwrap(), None);
    let bios_only = make(
        tmp.path(),
        "bios.iso",
        &["-b", "boot/etfsboot.com", "-no-emul-boot"],
    );
    let cat = ElTorito::read(&bios_only).unwrap().unwrap();
    assert!(cat.bootable(PLATFORM_BIOS).is_some());
    assert!(cat.bootable(PLATFORM_UEFI).is_none());
}

#[test]
fn files_that_are_not_isos_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    for (name, bytes) in [
        ("empty.iso", vec![]),
        ("zeros.iso", vec![0u8; 40 * 2048]),
        ("text.iso", b"not an image".repeat(4000)),
    ] {
        let path = tmp.path().join(name);
        std::fs::write(&path, &bytes).unwrap();
        let err = ElTorito::read(&path).unwrap_err();
        assert!(matches!(err, MediaError::NotAnIso { .. }), "{name}: {err}");
        assert!(err.to_string().contains(name), "{err}");
    }
    let missing = ElTorito::read(tmp.path().join("absent.iso")).unwrap_err();
    assert!(matches!(missing, MediaError::Io { .. }), "{missing}");
}

/// Offsets of the boot record and the catalog in `data`.
fn catalog_offset(data: &[u8]) -> usize {
    let brvd = 17 * 2048;
    assert_eq!(&data[brvd + 7..brvd + 30], b"EL TORITO SPECIFICATION");
    let lba = u32::from_le_bytes(data[brvd + 0x47..brvd + 0x4B].try_into().expect("4 bytes"));
    lba as usize * 2048
}

#[test]
fn damaged_catalogs_are_corrupt_not_panics() {
    let tmp = tempfile::tempdir().unwrap();
    let iso = make(tmp.path(), "both.iso", BIOS_AND_UEFI);
    let good = std::fs::read(&iso).unwrap();
    let cat = catalog_offset(&good);
    let brvd = 17 * 2048;
    // Entry layout written by genisoimage: 0 validation, 1 default (BIOS),
    // 2 final section header (UEFI, one entry), 3 its section entry.
    type Edit = Box<dyn Fn(&mut Vec<u8>)>;
    let set = |at: usize, bytes: &'static [u8]| -> Edit {
        Box::new(move |d: &mut Vec<u8>| d[at..at + bytes.len()].copy_from_slice(bytes))
    };
    let cases: Vec<(&str, Edit, &str)> = vec![
        ("validation header id", set(cat, &[0x02]), "header ID 0x02"),
        ("key bytes", set(cat + 30, &[0x55, 0x00]), "55 AA"),
        ("checksum", set(cat + 4, b"X"), "checksum"),
        (
            "boot indicator",
            set(cat + 32, &[0x42]),
            "boot indicator 0x42",
        ),
        ("media type", set(cat + 33, &[0x07]), "media type 0x07"),
        (
            "section header id",
            set(cat + 64, &[0x55]),
            "not a section header",
        ),
        (
            "section count past the catalog",
            set(cat + 66, &[0x2C, 0x01]),
            "catalog ends first",
        ),
        (
            "extension that is missing",
            set(cat + 97, &[0x20]),
            "section entry extension",
        ),
        (
            "catalog past the end",
            set(brvd + 0x47, &[0xFF, 0xFF, 0xFF, 0x00]),
            "past the end",
        ),
        (
            "boot image past the end",
            set(cat + 40, &[0xFF, 0xFF, 0xFF, 0x00]),
            "boot image of catalog entry 2",
        ),
        (
            "cut inside the catalog",
            Box::new(move |d: &mut Vec<u8>| d.truncate(cat + 40)),
            "past the end",
        ),
    ];
    for (what, edit, expect) in cases {
        let mut data = good.clone();
        edit(&mut data);
        let err = ElTorito::from_reader(Cursor::new(data), "damaged.iso").unwrap_err();
        assert!(
            matches!(err, MediaError::Corrupt { .. }),
            "{what}: wrong error {err}"
        );
        let msg = err.to_string();
        assert!(msg.contains("damaged.iso"), "{what}: {msg}");
        assert!(msg.contains(expect), "{what}: {msg}");
    }
}

#[test]
fn a_catalog_that_is_all_zero_after_its_entries_ends_there() {
    let tmp = tempfile::tempdir().unwrap();
    let iso = make(
        tmp.path(),
        "bios.iso",
        &["-b", "boot/etfsboot.com", "-no-emul-boot"],
    );
    let mut data = std::fs::read(&iso).unwrap();
    let cat = catalog_offset(&data);
    // Garbage after a zero entry is never read.
    for b in &mut data[cat + 96..cat + 2048] {
        *b = 0xAB;
    }
    let parsed = ElTorito::from_reader(Cursor::new(data), "bios.iso")
        .unwrap()
        .unwrap();
    assert_eq!(parsed.entries.len(), 1);
}

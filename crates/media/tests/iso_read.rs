//! Reading ISOs made by independent tools, checked against 7-Zip and the
//! source files.

mod common;

use std::collections::BTreeSet;
use std::io::{Read, Seek, SeekFrom};

use common::udf_builder::{self, Node, Opts};
use common::*;
use wait_media::MediaError;
use wait_media::iso::{Filesystem, InstallImage, IsoImage, Prefer};

fn ours(img: &IsoImage) -> BTreeSet<(String, u64, bool)> {
    img.list()
        .iter()
        .map(|e| (e.path.clone(), e.size, e.is_dir))
        .collect()
}

/// Every file's bytes equal what 7-Zip extracts.
fn bytes_match_7z(img: &mut IsoImage, iso: &std::path::Path) {
    let out = tmp();
    seven_zip_extract(iso, out.path());
    let files: Vec<String> = img
        .list()
        .iter()
        .filter(|e| !e.is_dir)
        .map(|e| e.path.clone())
        .collect();
    assert!(!files.is_empty());
    for p in files {
        let mut got = Vec::new();
        img.open_file(&p)
            .expect("open")
            .read_to_end(&mut got)
            .expect("read");
        let want =
            std::fs::read(out.path().join(&p)).unwrap_or_else(|e| panic!("7z output {p}: {e}"));
        assert_eq!(sha256(&got), sha256(&want), "{p}");
    }
}

fn check_windows_api(img: &mut IsoImage, src: &std::path::Path) {
    let wim = std::fs::read(src.join("sources/install.wim")).expect("src");
    match img.find_install_image().expect("install image") {
        InstallImage::Wim(e) => assert_eq!(e.size, wim.len() as u64),
        other => panic!("{other:?}"),
    }
    assert!(img.find("SOURCES/INSTALL.WIM").is_some());
    assert!(img.find("\\sources\\install.wim").is_some());
    assert!(img.find("/Sources/Install.Wim").is_some());
    let boot = img.boot_files();
    assert!(boot.bios.is_some() && boot.uefi.is_some() && boot.uefi_noprompt.is_some());
    let out = tmp();
    let dest = out.path().join("install.wim");
    assert_eq!(
        img.extract("sources/INSTALL.wim", &dest).expect("extract"),
        wim.len() as u64
    );
    assert_eq!(sha256(&std::fs::read(&dest).expect("read")), sha256(&wim));
    // Seeking inside a file.
    let mut f = img.open_file("sources/install.wim").expect("open");
    f.seek(SeekFrom::Start(1_000_003)).expect("seek");
    let mut buf = [0u8; 100];
    f.read_exact(&mut buf).expect("read");
    assert_eq!(&buf[..], &wim[1_000_003..1_000_103]);
    assert!(matches!(
        img.open_file("sources/nope.wim"),
        Err(MediaError::NotFound { .. })
    ));
    assert!(matches!(
        img.open_file("sources"),
        Err(MediaError::IsADirectory { .. })
    ));
}

#[test]
fn genisoimage_udf_matches_7zip_and_sources() {
    let dir = tmp();
    let src = path_in(&dir, "tree");
    windows_tree(&src);
    let iso = path_in(&dir, "udf.iso");
    genisoimage_udf(&src, &iso, "WAIT_UDF");
    let mut img = IsoImage::open(&iso).expect("open");
    assert_eq!(img.filesystem(), Filesystem::Udf { revision: 0x0102 });
    assert_eq!(img.volume_label(), "WAIT_UDF");
    assert_eq!(ours(&img), seven_zip_list(&iso));
    bytes_match_7z(&mut img, &iso);
    check_windows_api(&mut img, &src);

    // The ISO 9660 view of the same image, through Joliet.
    let mut iso_view = IsoImage::open_with(&iso, Prefer::Iso9660).expect("open iso view");
    assert_eq!(iso_view.filesystem(), Filesystem::Iso9660 { joliet: true });
    check_windows_api(&mut iso_view, &src);
}

#[test]
fn xorriso_joliet_matches_7zip_and_sources() {
    let dir = tmp();
    let src = path_in(&dir, "tree");
    windows_tree(&src);
    let iso = path_in(&dir, "joliet.iso");
    xorriso_joliet(&src, &iso, "WAIT_J", &[]);
    let mut img = IsoImage::open(&iso).expect("open");
    assert_eq!(img.filesystem(), Filesystem::Iso9660 { joliet: true });
    assert_eq!(img.volume_label(), "WAIT_J");
    assert_eq!(ours(&img), seven_zip_list(&iso));
    // Joliet keeps real Unicode and long names.
    assert!(img.find(&format!("names/{UNICODE_NAME}")).is_some());
    assert!(
        img.find(&format!("NAMES/{}", LONG_NAME.to_uppercase()))
            .is_some()
    );
    bytes_match_7z(&mut img, &iso);
    check_windows_api(&mut img, &src);
}

#[test]
fn plain_iso9660_without_joliet() {
    let dir = tmp();
    let src = path_in(&dir, "tree");
    write(&src, "SOURCES/INSTALL.ESD", &pseudo_random(10_000, 3));
    write(&src, "README.TXT", b"hi");
    let iso = path_in(&dir, "plain.iso");
    std::process::Command::new("xorriso")
        .args(["-as", "mkisofs", "-quiet", "-o"])
        .arg(&iso)
        .arg(&src)
        .status()
        .expect("xorriso");
    let img = IsoImage::open(&iso).expect("open");
    assert_eq!(img.filesystem(), Filesystem::Iso9660 { joliet: false });
    assert!(matches!(img.find_install_image(), Ok(InstallImage::Esd(_))));
    assert!(img.find("readme.txt").is_some());
}

#[test]
fn split_install_image_in_part_order_and_missing_image() {
    let dir = tmp();
    let src = path_in(&dir, "tree");
    for (name, seed) in [
        ("install3.swm", 3),
        ("install.swm", 1),
        ("install2.swm", 2),
        ("install10.swm", 10),
    ] {
        write(&src, &format!("sources/{name}"), &pseudo_random(1000, seed));
    }
    let iso = path_in(&dir, "swm.iso");
    xorriso_joliet(&src, &iso, "SWM", &[]);
    let img = IsoImage::open(&iso).expect("open");
    let InstallImage::Split(parts) = img.find_install_image().expect("swm") else {
        panic!("not split")
    };
    let names: Vec<&str> = parts.iter().map(|e| e.name()).collect();
    assert_eq!(
        names,
        [
            "install.swm",
            "install2.swm",
            "install3.swm",
            "install10.swm"
        ]
    );

    let empty = path_in(&dir, "empty_tree");
    write(&empty, "README.TXT", b"nothing here");
    let iso2 = path_in(&dir, "none.iso");
    xorriso_joliet(&empty, &iso2, "NONE", &[]);
    let err = IsoImage::open(&iso2)
        .expect("open")
        .find_install_image()
        .expect_err("no image");
    assert!(matches!(err, MediaError::NoInstallImage { .. }));
    assert!(
        err.to_string().starts_with("no install image in ") && err.to_string().contains("none.iso")
    );
}

/// Windows media: README only in ISO 9660, the real tree in UDF.
#[test]
fn udf_is_preferred_over_the_readme_only_iso9660_layer() {
    let dir = tmp();
    let iso = path_in(&dir, "bridge.iso");
    let wim = pseudo_random(300_000, 5);
    let tree = vec![
        Node::Dir(
            "sources".into(),
            vec![Node::File("install.wim".into(), wim.clone())],
        ),
        Node::File("setup.exe".into(), b"MZ".to_vec()),
    ];
    let opts = Opts {
        iso_readme: Some(b"use a UDF reader".to_vec()),
        ..Opts::default()
    };
    udf_builder::build(&iso, "BRIDGE", tree, &opts);
    let mut img = IsoImage::open(&iso).expect("open");
    assert!(matches!(img.filesystem(), Filesystem::Udf { .. }));
    assert_eq!(img.volume_label(), "BRIDGE");
    let mut got = Vec::new();
    img.open_file("sources/install.wim")
        .expect("open")
        .read_to_end(&mut got)
        .expect("read");
    assert_eq!(got, wim);
    assert!(img.find("README.TXT").is_none());

    let view = IsoImage::open_with(&iso, Prefer::Iso9660).expect("iso view");
    assert_eq!(view.list().len(), 1);
    assert_eq!(view.list()[0].path, "README.TXT");
    assert!(matches!(
        view.find_install_image(),
        Err(MediaError::NoInstallImage { .. })
    ));
}

/// Extended file entries, long_ad, embedded data, 16-bit names, UDF 2.50
/// metadata partition: all through the hand-built writer.
#[test]
fn hand_built_udf_variants() {
    let dir = tmp();
    for (i, opts) in [
        Opts::default(),
        Opts {
            extended_entries: true,
            long_ad: true,
            names16: true,
            ..Opts::default()
        },
        Opts {
            embed_small: true,
            ..Opts::default()
        },
        Opts {
            metadata_partition: true,
            ..Opts::default()
        },
        Opts {
            metadata_partition: true,
            extended_entries: true,
            names16: true,
            embed_small: true,
            ..Opts::default()
        },
    ]
    .into_iter()
    .enumerate()
    {
        let iso = path_in(&dir, &format!("v{i}.iso"));
        let wim = pseudo_random(50_000, i as u64);
        let tree = vec![
            Node::Dir(
                "Sources".into(),
                vec![Node::File("install.wim".into(), wim.clone())],
            ),
            Node::Dir(
                "deep".into(),
                vec![Node::Dir(
                    "ファイル".into(),
                    vec![Node::File("x.txt".into(), b"x".to_vec())],
                )],
            ),
            Node::File("empty".into(), Vec::new()),
        ];
        udf_builder::build(&iso, "VARIANT", tree, &opts);

        let mut img = IsoImage::open(&iso).unwrap_or_else(|e| panic!("variant {i}: {e}"));
        let mut got = Vec::new();
        img.open_file("SOURCES/INSTALL.WIM")
            .expect("open")
            .read_to_end(&mut got)
            .expect("read");
        assert_eq!(got, wim, "variant {i}");
        assert_eq!(
            img.find("deep/ファイル/x.txt").map(|e| e.size),
            Some(1),
            "variant {i}"
        );
        assert_eq!(img.find("empty").map(|e| e.size), Some(0));
        if opts.metadata_partition {
            assert_eq!(img.filesystem(), Filesystem::Udf { revision: 0x0250 });
        }
    }
}

/// A 5 GiB file entry backed by a sparse image: offsets past 4 GiB in both
/// the file and the image, on every default test run.
#[test]
fn file_over_4_gib_in_hand_built_udf() {
    let dir = tmp();
    let iso = path_in(&dir, "big.udf");
    let len = 5u64 << 30;
    let layout = udf_builder::build(
        &iso,
        "BIG",
        vec![Node::Dir(
            "sources".into(),
            vec![Node::Sparse("install.wim".into(), len)],
        )],
        &Opts::default(),
    );
    let mut img = IsoImage::open(&iso).expect("open");
    assert_eq!(img.find("sources/install.wim").map(|e| e.size), Some(len));
    let mut f = img.open_file("sources/install.wim").expect("open");
    for (off, marker) in &layout.markers {
        f.seek(SeekFrom::Start(*off)).expect("seek");
        let mut got = [0u8; 8];
        f.read_exact(&mut got).expect("read marker");
        assert_eq!(&got, marker, "marker at {off}");
    }
    f.seek(SeekFrom::Start(0)).expect("rewind");
    // Stream all of it with a bounded buffer; check the length only (the
    // content is a sparse hole between markers).
    let mut buf = vec![0u8; 4 << 20];
    let mut total = 0u64;
    loop {
        let n = f.read(&mut buf).expect("read");
        if n == 0 {
            break;
        }
        total += n as u64;
    }
    assert_eq!(total, len);
}

/// The two authoring tests below each write a 4.5 GiB image; one at a time keeps the
/// suite's peak disk use at one such image instead of two.
static BIG_IMAGE: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// A sparse 4.5 GiB source file with markers on both sides of 4 GiB.
fn big_source(root: &std::path::Path) -> (u64, Vec<(u64, [u8; 8])>) {
    use std::io::Write;
    std::fs::create_dir_all(root.join("sources")).expect("mkdir");
    let len = 4_831_838_208u64;
    let mut f = std::fs::File::create(root.join("sources/install.wim")).expect("create");
    f.set_len(len).expect("sparse");
    let mut markers = Vec::new();
    for off in [0, (1u64 << 32) - 4, (1u64 << 32) + 4096, len - 8] {
        let m = (off ^ 0xA5A5_5A5A_1234_5678).to_le_bytes();
        f.seek(SeekFrom::Start(off)).expect("seek");
        f.write_all(&m).expect("marker");
        markers.push((off, m));
    }
    (len, markers)
}

fn check_big(img: &mut IsoImage, len: u64, markers: &[(u64, [u8; 8])], stream: bool) {
    let mut f = img.open_file("sources/install.wim").expect("open");
    assert_eq!(f.len(), len);
    for (off, m) in markers {
        let mut got = [0u8; 8];
        f.seek(SeekFrom::Start(*off)).expect("seek");
        f.read_exact(&mut got).expect("read");
        assert_eq!(&got, m, "marker at {off}");
    }
    if stream {
        f.seek(SeekFrom::Start(0)).expect("rewind");
        let mut buf = vec![0u8; 4 << 20];
        let mut total = 0u64;
        loop {
            let n = f.read(&mut buf).expect("read");
            if n == 0 {
                break;
            }
            total += n as u64;
        }
        assert_eq!(total, len);
    }
}

/// The real thing: genisoimage with a 4.5 GiB (sparse) file in UDF. About
/// 40 s here (20 s of it authoring) and 4.5 GiB of temporary disk space.
#[test]
fn genisoimage_file_over_4_gib() {
    let _one_at_a_time = BIG_IMAGE.lock().unwrap_or_else(|e| e.into_inner());
    let dir = tmp();
    let src = path_in(&dir, "tree");
    let (len, markers) = big_source(&src);
    let iso = path_in(&dir, "big.iso");
    genisoimage_udf(&src, &iso, "BIG");
    let mut img = IsoImage::open(&iso).expect("open");
    assert_eq!(ours(&img), seven_zip_list(&iso));
    check_big(&mut img, len, &markers, true);
}

/// ISO 9660 level 3 multi-extent file (xorriso), read through the Joliet tree.
#[test]
fn xorriso_multi_extent_file_over_4_gib() {
    let _one_at_a_time = BIG_IMAGE.lock().unwrap_or_else(|e| e.into_inner());
    let dir = tmp();
    let src = path_in(&dir, "tree");
    let (len, markers) = big_source(&src);
    let iso = path_in(&dir, "bigx.iso");
    xorriso_joliet(&src, &iso, "BIGX", &["-iso-level", "3"]);
    let mut img = IsoImage::open(&iso).expect("open");
    assert_eq!(img.filesystem(), Filesystem::Iso9660 { joliet: true });
    assert_eq!(ours(&img), seven_zip_list(&iso));
    check_big(&mut img, len, &markers, false);
}

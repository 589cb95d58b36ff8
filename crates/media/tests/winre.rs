//! The WinRE report and recompression, checked against `wimlib-imagex info` of the
//! extracted Winre.wim.

mod common_author;

use std::path::{Path, PathBuf};

use common_author::*;
use sha1::{Digest, Sha1};
use wait_media::winre::{WimCompression, WinreError, inspect_winre, recompress_winre};
use wait_wim::{Compression, ImageSelector, Wim, WriteOptions};

/// A tiny WinRE-like WIM with a WindowsPE identity (x64, 26100, en-US).
fn winre_wim(work: &Path) -> PathBuf {
    let tree = work.join("winre.tree");
    write(
        &tree.join("Windows/System32/winpeshl.ini"),
        b"[LaunchApps]\r\n",
    );
    write(
        &tree.join("Windows/System32/config/SYSTEM"),
        &noise(150_000, 11),
    );
    write(
        &tree.join("sources/recovery/RecEnv.exe"),
        &noise(120_000, 12),
    );
    let path = work.join("winre.wim");
    wait_wim::capture(
        &tree,
        &path,
        "Microsoft Windows Recovery Environment (x64)",
        Compression::Lzx,
    )
    .expect("capture WinRE");
    let mut wim = Wim::open(&path).expect("open WinRE");
    for (name, value) in [
        ("WINDOWS/ARCH", "9"),
        ("WINDOWS/VERSION/MAJOR", "10"),
        ("WINDOWS/VERSION/MINOR", "0"),
        ("WINDOWS/VERSION/BUILD", "26100"),
        ("WINDOWS/VERSION/SPBUILD", "1"),
        ("WINDOWS/LANGUAGES/LANGUAGE", "en-US"),
        ("WINDOWS/LANGUAGES/DEFAULT", "en-US"),
        ("WINDOWS/INSTALLATIONTYPE", "WindowsPE"),
    ] {
        wim.set_image_property(1, name, value)
            .expect("set property");
    }
    wim.overwrite(&WriteOptions::default())
        .expect("rewrite WinRE");
    path
}

/// An install WIM whose image holds `winre` (if any) at `winre_at`.
fn outer_wim(work: &Path, winre: Option<&Path>, winre_at: &str) -> PathBuf {
    let tree = work.join("os.tree");
    write(&tree.join("Windows/explorer.exe"), &noise(50_000, 21));
    write(
        &tree.join("Windows/System32/kernel32.dll"),
        &noise(80_000, 22),
    );
    if let Some(winre) = winre {
        let target = tree.join(winre_at);
        std::fs::create_dir_all(target.parent().expect("parent")).expect("mkdir");
        std::fs::copy(winre, &target).expect("copy WinRE into tree");
    }
    let path = work.join("install.wim");
    wait_wim::capture(
        &tree,
        &path,
        "Windows 11 IoT Enterprise LTSC",
        Compression::Lzx,
    )
    .expect("capture outer");
    path
}

fn sha1_hex(path: &Path) -> String {
    let bytes = std::fs::read(path).expect("read");
    hex::encode(Sha1::digest(&bytes))
}

/// `wimlib-imagex info` fields as (key, value) pairs, in order.
fn wimlib_info(path: &Path) -> Vec<(String, String)> {
    run("wimlib-imagex", &["info", &path.to_string_lossy()])
        .lines()
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect()
}

fn field<'a>(info: &'a [(String, String)], key: &str) -> &'a str {
    info.iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
        .unwrap_or_else(|| panic!("no {key:?} in {info:?}"))
}

/// Extract the Winre.wim of image 1 of `outer` with wimlib-imagex (an independent path).
fn extract_winre(outer: &Path, at: &str, dest: &Path) -> PathBuf {
    std::fs::create_dir_all(dest).expect("mkdir");
    run(
        "wimlib-imagex",
        &[
            "extract",
            &outer.to_string_lossy(),
            "1",
            at,
            &format!("--dest-dir={}", dest.display()),
            "--no-acls",
        ],
    );
    dest.join(at.rsplit('/').next().expect("name"))
}

#[test]
fn report_matches_wimlib_imagex_info() {
    require_tool("wimlib-imagex", "wimtools");
    let dir = tempfile::tempdir().expect("tempdir");
    let work = dir.path();
    let winre = winre_wim(work);
    let outer = outer_wim(work, Some(&winre), "Windows/System32/Recovery/Winre.wim");

    let wim = Wim::open(&outer).expect("open outer");
    let report = inspect_winre(&wim, 1, work).expect("inspect");
    assert!(report.present);
    assert_eq!(
        report.path.as_deref(),
        Some("/Windows/System32/Recovery/Winre.wim")
    );

    let extracted = extract_winre(
        &outer,
        "/Windows/System32/Recovery/Winre.wim",
        &work.join("x"),
    );
    assert_eq!(
        report.size,
        Some(std::fs::metadata(&extracted).expect("meta").len())
    );
    assert_eq!(report.sha1.as_deref(), Some(sha1_hex(&extracted).as_str()));

    let info = wimlib_info(&extracted);
    let details = report.wim.as_ref().expect("details");
    assert_eq!(details.image_count.to_string(), field(&info, "Image Count"));
    assert_eq!(details.compression.name(), field(&info, "Compression"));
    assert_eq!(
        format!("{} bytes", details.chunk_size),
        field(&info, "Chunk Size")
    );
    assert_eq!(report.name(), Some(field(&info, "Name")));
    assert_eq!(
        report.build().map(|b| b.to_string()).as_deref(),
        Some(field(&info, "Build"))
    );
    assert_eq!(report.languages().join(" "), field(&info, "Languages"));
    assert_eq!(report.build(), Some(26100));
    assert_eq!(report.languages(), ["en-US"]);
    let image = &details.images[0];
    assert_eq!(image.installation_type.as_deref(), Some("WindowsPE"));
    assert_eq!(image.arch, Some(9));
    assert_eq!(image.version.as_deref(), Some("10.0.26100.1"));

    // What Linux cannot do is stated, and the report serialises for the manifest.
    assert!(report.not_done.iter().any(|s| s.contains("lp.cab")));
    assert!(report.not_done.iter().any(|s| s.contains("Cleanup-Image")));
    assert!(
        report
            .not_done
            .iter()
            .any(|s| s.contains("servicing level"))
    );
    let json = serde_json::to_value(&report).expect("serialise");
    assert_eq!(json["wim"]["compression"], "LZX");
    assert_eq!(json["wim"]["images"][0]["build"], 26100);
    // Temporary copies are gone.
    let leftovers: Vec<String> = dir_names(work)
        .into_iter()
        .filter(|n| n.starts_with(".winre"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn path_is_matched_ignoring_case() {
    let dir = tempfile::tempdir().expect("tempdir");
    let work = dir.path();
    let winre = winre_wim(work);
    let outer = outer_wim(work, Some(&winre), "windows/SYSTEM32/recovery/WinRE.wim");
    let wim = Wim::open(&outer).expect("open");
    let report = inspect_winre(&wim, 1, work).expect("inspect");
    assert!(report.present);
    assert_eq!(
        report.path.as_deref(),
        Some("/windows/SYSTEM32/recovery/WinRE.wim")
    );
    assert_eq!(report.build(), Some(26100));
}

#[test]
fn recompress_lzx_to_lzms_is_seen_by_wimlib_imagex() {
    require_tool("wimlib-imagex", "wimtools");
    let dir = tempfile::tempdir().expect("tempdir");
    let work = dir.path();
    let winre = winre_wim(work);
    let at = "/Windows/System32/Recovery/Winre.wim";
    let outer = outer_wim(work, Some(&winre), at.trim_start_matches('/'));
    let old_size = std::fs::metadata(&winre).expect("meta").len();

    let mut wim = Wim::open(&outer).expect("open");
    let done = recompress_winre(&mut wim, 1, Compression::Lzms, work).expect("recompress");
    let rec = done
        .report
        .recompression
        .clone()
        .expect("recompression reported");
    assert_eq!(rec.from, WimCompression::Lzx);
    assert_eq!(rec.to, WimCompression::Lzms);
    assert_eq!(rec.old_size, old_size);
    assert!(done.staged_file().is_some_and(|p| p.is_file()));

    // Keep `done` alive until the outer WIM is written: it owns the new file.
    let rewritten = work.join("install.lzms-winre.wim");
    wim.write(&rewritten, ImageSelector::All, &WriteOptions::default())
        .expect("write outer");
    drop(done);
    run("wimlib-imagex", &["verify", &rewritten.to_string_lossy()]);

    let extracted = extract_winre(&rewritten, at, &work.join("x"));
    let info = wimlib_info(&extracted);
    assert_eq!(field(&info, "Compression"), "LZMS");
    assert_eq!(field(&info, "Build"), "26100");
    assert_eq!(
        rec.new_size,
        std::fs::metadata(&extracted).expect("meta").len()
    );
    assert_eq!(rec.new_sha1, sha1_hex(&extracted));

    // Our own report on the rewritten WIM agrees.
    let again = inspect_winre(&Wim::open(&rewritten).expect("open"), 1, work).expect("inspect");
    assert_eq!(
        again.wim.expect("details").compression,
        WimCompression::Lzms
    );
    assert_eq!(again.size, Some(rec.new_size));
}

#[test]
fn image_without_winre_is_reported_not_failed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let work = dir.path();
    let outer = outer_wim(work, None, "");
    let mut wim = Wim::open(&outer).expect("open");
    let report = inspect_winre(&wim, 1, work).expect("inspect");
    assert!(!report.present);
    assert!(report.wim.is_none() && report.size.is_none());
    assert!(report.notes.iter().any(|n| n.contains("Winre.wim")));
    let done = recompress_winre(&mut wim, 1, Compression::Lzms, work).expect("no-op");
    assert!(!done.report.present && done.report.recompression.is_none());
}

#[test]
fn corrupt_winre_is_a_typed_error_naming_the_path() {
    let dir = tempfile::tempdir().expect("tempdir");
    let work = dir.path();
    let junk = work.join("junk.wim");
    write(&junk, &noise(64 * 1024, 99));
    let outer = outer_wim(work, Some(&junk), "Windows/System32/Recovery/Winre.wim");
    let wim = Wim::open(&outer).expect("open");
    match inspect_winre(&wim, 1, work) {
        Err(e @ WinreError::InvalidWinre { .. }) => {
            let text = e.to_string();
            assert!(
                text.contains("/Windows/System32/Recovery/Winre.wim"),
                "{text}"
            );
        }
        other => panic!("expected InvalidWinre, got {other:?}"),
    }
    let mut wim = Wim::open(&outer).expect("open");
    assert!(matches!(
        recompress_winre(&mut wim, 1, Compression::Lzms, work),
        Err(WinreError::InvalidWinre { .. })
    ));
    // A missing image number is an error about the outer WIM, not a panic.
    assert!(matches!(
        inspect_winre(&wim, 7, work),
        Err(WinreError::OuterWim { image: 7, .. })
    ));
}

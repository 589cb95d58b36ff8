//! `Repository::scan` and `Repository::compatibility` on a generated repository with
//! every kind of resource, an ISO whose install.wim is the demo base image, and a few
//! misplaced or hostile files.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, SystemTime};

use wait_catalog::fixtures::{
    BASE_WIM_FILE, DEMO_BOARD, TreeSpec, classic_msu, demo_repository, language_pack_cab,
};
use wait_catalog::{HashCache, Repository, ScanReport};

fn put(root: &Path, rel: &str, bytes: &[u8]) {
    let path = root.join(rel);
    std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    std::fs::write(path, bytes).expect("write");
}

/// Give every file an mtime well in the past, as in a repository that has been around
/// for a while (fresh files are never trusted by the cache).
fn age_all(dir: &Path) {
    let when = SystemTime::now() - Duration::from_secs(3600);
    for entry in std::fs::read_dir(dir).expect("list") {
        let entry = entry.expect("entry");
        let ty = entry.file_type().expect("type");
        if ty.is_dir() {
            age_all(&entry.path());
        } else if ty.is_file() {
            std::fs::File::options()
                .write(true)
                .open(entry.path())
                .expect("open")
                .set_modified(when)
                .expect("mtime");
        }
    }
}

/// An install-media ISO whose sources/install.wim is `wim`.
fn make_iso(work: &Path, wim: &Path, dest: &Path) {
    let tree = work.join("isotree");
    std::fs::create_dir_all(tree.join("sources")).expect("mkdir");
    std::fs::copy(wim, tree.join("sources/install.wim")).expect("copy");
    std::fs::write(tree.join("setup.exe"), b"MZ").expect("write");
    let status = Command::new("genisoimage")
        .args([
            "-quiet",
            "-udf",
            "-allow-limited-size",
            "-iso-level",
            "4",
            "-J",
            "-l",
        ])
        .args(["-V", "WAIT_SCAN", "-o"])
        .arg(dest)
        .arg(&tree)
        .status()
        .expect("genisoimage");
    assert!(status.success());
}

struct Fixture {
    _tmp: tempfile::TempDir,
    repo: Repository,
}

fn fixture() -> Fixture {
    let tmp = tempfile::tempdir().expect("tempdir");
    let demo = demo_repository(&tmp.path().join("repo"), &TreeSpec::small(1)).expect("demo");
    let root = demo.root.clone();
    make_iso(
        tmp.path(),
        &root.join("1_BaseImages").join(BASE_WIM_FILE),
        &root.join("1_BaseImages/WIN11_MEDIA.iso"),
    );
    put(&root, "1_BaseImages/readme.txt", b"notes");
    put(&root, "1_BaseImages/broken.wim", b"not a wim at all");
    put(
        &root,
        "2_Drivers/X13SAW/WINDOWS10_X64/net/old.inf",
        b"[Version]\r\nSignature=\"$WINDOWS NT$\"\r\n",
    );
    put(&root, "2_Drivers/X13SAW/loose.txt", b"misplaced");
    put(
        &root,
        "2_Drivers/X13SAW/NOT_A_TOKEN/x/a.inf",
        b"[Version]\r\n",
    );
    let lp = language_pack_cab().expect("language pack");
    put(
        &root,
        &format!("3_LangPacks/WIN11_IOT_24H2_X64/{}", lp.file),
        &lp.bytes,
    );
    put(
        &root,
        &format!("3_LangPacks/WIN10_21H2_X64/{}", lp.file),
        &lp.bytes,
    );
    put(
        &root,
        "3_LangPacks/WIN11_IOT_24H2_X64/broken.cab",
        b"MSCF-ish",
    );
    let msu = classic_msu().expect("msu");
    put(
        &root,
        &format!("4_Updates/ACME/WIN11_24H2/{}", msu.file),
        &msu.bytes,
    );
    put(&root, "4_Updates/ACME/note.txt", b"?");
    put(
        &root,
        "5_AnswerFiles/X13SAW/WIN10_21H2/autounattend.xml",
        b"<unattend/>",
    );
    put(&root, "6_Software/ACME/HMI/setup.msi", b"msi");
    put(&root, "7_Tools/oscdimg.exe", b"MZ");
    let out = "8_Output/ACME/20250101_120000_X13SAW";
    put(
        &root,
        &format!("{out}/manifest.json"),
        br#"{"job":{"job_id":"0190-abc","customer_name":"ACME","motherboard_model":"X13SAW"},
            "output":{"image_file":"install.wim","size":3}}"#,
    );
    put(&root, &format!("{out}/install.wim"), b"wim");
    put(&root, &format!("{out}/checksum.md5"), b"x");
    put(&root, &format!("{out}/checksum.sha256"), b"x");
    put(
        &root,
        "8_Output/ACME/20250102_000000_X13SAW/install.wim",
        b"no manifest",
    );
    put(&root, "stray-at-root.bin", b"?");
    std::os::unix::fs::symlink("/etc/hostname", root.join("7_Tools/escape.txt")).expect("symlink");
    std::os::unix::fs::symlink("oscdimg.exe", root.join("7_Tools/inside-link.exe"))
        .expect("symlink");
    std::os::unix::fs::symlink("/nonexistent/x", root.join("7_Tools/dangling")).expect("symlink");
    age_all(&root);
    let repo = Repository::open(&root).expect("open");
    Fixture { _tmp: tmp, repo }
}

fn paths<'a>(files: impl Iterator<Item = &'a String>) -> Vec<&'a str> {
    files.map(String::as_str).collect()
}

#[test]
fn scan_classifies_every_file_and_reports_the_odd_ones() {
    let f = fixture();
    let report: ScanReport = f.repo.scan(None).expect("scan");

    let bases: Vec<&str> = paths(report.base_images.iter().map(|b| &b.file.path));
    assert_eq!(
        bases,
        [
            "1_BaseImages/WIN11_MEDIA.iso",
            &format!("1_BaseImages/{BASE_WIM_FILE}") as &str,
            "1_BaseImages/broken.wim",
        ]
    );
    let wim = &report.base_images[1];
    assert_eq!(wim.images.len(), 1);
    let id = &wim.images[0];
    assert_eq!(id.identity.build, Some(26100));
    assert_eq!(
        id.tokens,
        [
            "WINDOWS11_X64",
            "WIN11_24H2",
            "WIN11_IOT_24H2_X64",
            "WINDOWS11_IOT_LTSC_24H2_EN_US_X64"
        ]
    );
    assert!(wim.file.sha256.is_none(), "no cache, no hash");

    // The ISO's identity comes from the XML inside its install.wim, read in place, and
    // equals what libwim reads from the same WIM as a file.
    let iso = &report.base_images[0];
    assert!(iso.file.problems.is_empty(), "{:?}", iso.file.problems);
    let install = iso.iso.as_ref().expect("install image");
    assert_eq!(install.label, "WAIT_SCAN");
    assert_eq!(install.install_image, ["sources/install.wim"]);
    assert_eq!(install.install_size, wim.file.size);
    assert_eq!(iso.images, wim.images);

    let broken = &report.base_images[2];
    assert!(broken.images.is_empty());
    assert!(!broken.file.problems.is_empty());

    let sets: Vec<(&str, bool)> = report
        .driver_sets
        .iter()
        .map(|d| (d.name.as_str(), d.token.is_some()))
        .collect();
    assert_eq!(
        sets,
        [
            ("NOT_A_TOKEN", false),
            ("WINDOWS10_X64", true),
            ("WINDOWS11_X64", true)
        ]
    );
    let good = &report.driver_sets[2];
    assert!(good.inf_count >= 3, "{good:?}");
    assert_eq!(good.applicable_infs, good.inf_count, "{good:?}");
    assert_eq!(good.categories, ["chipset", "network", "storage"]);
    assert!(!report.driver_sets[0].problems.is_empty());
    assert!(report.driver_sets[1].infs_with_problems >= 1);

    // The demo repository may carry packages of its own: look for ours by path.
    let langpack = |p: &str| {
        report
            .langpacks
            .iter()
            .find(|l| l.file.path == p)
            .unwrap_or_else(|| panic!("{p} missing"))
    };
    let de = language_pack_cab().expect("lp").file;
    let lp11 = langpack(&format!("3_LangPacks/WIN11_IOT_24H2_X64/{de}"));
    let info = lp11.package.info.as_ref().expect("inspected");
    assert!(info.is_language_pack);
    assert_eq!(info.build, Some(26100));
    assert_eq!(lp11.token.as_deref(), Some("WIN11_IOT_24H2_X64"));
    let broken = langpack("3_LangPacks/WIN11_IOT_24H2_X64/broken.cab");
    assert!(broken.package.info.is_none());
    assert!(
        broken
            .package
            .error
            .as_deref()
            .is_some_and(|e| e.contains("broken.cab"))
    );
    let update = report
        .updates
        .iter()
        .find(|u| u.customer.as_deref() == Some("ACME"))
        .expect("ACME update");
    assert_eq!(update.token.as_deref(), Some("WIN11_24H2"));
    assert!(update.package.info.is_some(), "{:?}", update.package.error);
    let answers = paths(report.answer_files.iter().map(|a| &a.file.path));
    assert!(answers.contains(&"5_AnswerFiles/X13SAW/WIN10_21H2/autounattend.xml"));
    assert!(answers.contains(&"5_AnswerFiles/X13SAW/WIN11_24H2/autounattend.xml"));
    assert!(
        report
            .software
            .iter()
            .any(|s| s.customer == "ACME" && s.file.path.ends_with("setup.msi"))
    );
    let tools = paths(report.tools.iter().map(|t| &t.path));
    assert_eq!(tools, ["7_Tools/inside-link.exe", "7_Tools/oscdimg.exe"]);

    assert_eq!(report.outputs.len(), 2);
    let done = &report.outputs[0];
    assert_eq!(done.job_id.as_deref(), Some("0190-abc"));
    assert_eq!(done.board.as_deref(), Some("X13SAW"));
    assert_eq!(done.files, 4);
    assert!(done.problems.is_empty(), "{:?}", done.problems);
    assert!(!report.outputs[1].problems.is_empty());

    let unknown = paths(report.unknown.iter().map(|u| &u.path));
    assert_eq!(
        unknown,
        [
            "1_BaseImages/readme.txt",
            "2_Drivers/X13SAW/loose.txt",
            "4_Updates/ACME/note.txt",
            "stray-at-root.bin",
        ]
    );
    let problems = report.problems.join("\n");
    assert!(
        problems.contains("7_Tools/escape.txt: symlink pointing outside"),
        "{problems}"
    );
    assert!(
        problems.contains("7_Tools/dangling: symlink whose target does not exist"),
        "{problems}"
    );

    // Token folders map to the images they fit.
    let folder = |p: &str| {
        report
            .token_folders
            .iter()
            .find(|t| t.path == p)
            .unwrap_or_else(|| panic!("{p} missing"))
    };
    let w11 = folder("2_Drivers/X13SAW/WINDOWS11_X64");
    assert_eq!(w11.fits.len(), 2, "{w11:?}");
    assert!(folder("2_Drivers/X13SAW/WINDOWS10_X64").fits.is_empty());
    assert!(folder("2_Drivers/X13SAW/NOT_A_TOKEN").error.is_some());
    assert_eq!(folder("3_LangPacks/WIN11_IOT_24H2_X64").fits.len(), 2);
    assert_eq!(folder("5_AnswerFiles/X13SAW/WIN11_24H2").fits.len(), 2);
    assert!(report.totals.files > 20);
    assert_eq!(report.totals.unknown, 4);
    assert!(report.totals.cache.is_none());
}

#[test]
fn scan_with_a_cache_hashes_once() {
    let f = fixture();
    let store = f._tmp.path().join("data/cache/hashes.json");
    let mut cache = HashCache::open(&store).expect("cache");
    let cold = f.repo.scan(Some(&mut cache)).expect("scan");
    let cold_stats = cold.totals.cache.expect("stats");
    assert!(cold_stats.misses > 0);
    assert_eq!(cold_stats.hits, 0);
    cache.save().expect("save");

    let wim = &cold.base_images[1];
    let direct = wait_catalog::hash_file(&f.repo.root().join(&wim.file.path)).expect("hash");
    assert_eq!(wim.file.sha256.as_deref(), Some(direct.sha256.as_str()));
    assert!(cold.driver_sets.iter().all(|d| d.content_sha256.is_some()));
    assert!(cold.unknown.iter().all(|u| u.sha256.is_none()));

    let mut cache = HashCache::open(&store).expect("reopen");
    let warm = f.repo.scan(Some(&mut cache)).expect("scan");
    let warm_stats = warm.totals.cache.expect("stats");
    assert_eq!(warm_stats.misses, 0);
    assert_eq!(warm_stats.hits, cold_stats.misses);
    assert_eq!(warm.base_images, cold.base_images);
    assert_eq!(warm.driver_sets, cold.driver_sets);
}

#[test]
fn compatibility_picks_the_set_that_fits_and_says_why() {
    let f = fixture();
    for base in [BASE_WIM_FILE, "WIN11_MEDIA.iso"] {
        let report = f
            .repo
            .compatibility(base, "1", DEMO_BOARD)
            .unwrap_or_else(|e| panic!("{base}: {e}"));
        assert!(report.fits, "{base}");
        let rec = report.recommended.as_ref().expect("recommendation");
        assert_eq!(rec.driver_set.name, "WINDOWS11_X64");
        assert!(rec.reason.contains("WINDOWS11_X64"), "{}", rec.reason);
        let by_name = |n: &str| {
            report
                .driver_sets
                .iter()
                .find(|d| d.name == n)
                .unwrap_or_else(|| panic!("{n}"))
        };
        assert!(by_name("WINDOWS11_X64").fits);
        assert!(!by_name("WINDOWS10_X64").fits);
        assert!(by_name("WINDOWS10_X64").reason.contains("Windows 10"));
        assert!(!by_name("NOT_A_TOKEN").fits);

        let lp = |p: &str| {
            report
                .langpacks
                .iter()
                .find(|l| l.path == p)
                .unwrap_or_else(|| panic!("{p} missing"))
        };
        let de = language_pack_cab().expect("lp").file;
        let good = lp(&format!("3_LangPacks/WIN11_IOT_24H2_X64/{de}"));
        assert!(good.fits, "{good:?}");
        let wrong_folder = lp(&format!("3_LangPacks/WIN10_21H2_X64/{de}"));
        assert!(!wrong_folder.fits);
        assert!(
            wrong_folder.reason.contains("Windows 10"),
            "{}",
            wrong_folder.reason
        );
        let broken = lp("3_LangPacks/WIN11_IOT_24H2_X64/broken.cab");
        assert!(!broken.fits);
        assert!(!broken.problems.is_empty());
        let update = report
            .updates
            .iter()
            .find(|u| u.customer.as_deref() == Some("ACME"))
            .expect("ACME update");
        assert!(update.fits, "{update:?}");
        let answers: Vec<(&str, bool)> = report
            .answer_files
            .iter()
            .map(|a| (a.path.as_str(), a.fits))
            .collect();
        assert_eq!(
            answers,
            [
                ("5_AnswerFiles/X13SAW/WIN10_21H2/autounattend.xml", false),
                ("5_AnswerFiles/X13SAW/WIN11_24H2/autounattend.xml", true),
            ]
        );
    }
}

#[test]
fn compatibility_refuses_bad_names_and_reports_unknown_boards() {
    let f = fixture();
    assert!(
        f.repo
            .compatibility("../etc/passwd", "1", DEMO_BOARD)
            .is_err()
    );
    assert!(f.repo.compatibility(BASE_WIM_FILE, "1", "../x").is_err());
    assert!(
        f.repo
            .compatibility(BASE_WIM_FILE, "7", DEMO_BOARD)
            .is_err()
    );
    assert!(
        f.repo
            .compatibility("missing.wim", "1", DEMO_BOARD)
            .is_err()
    );
    let none = f
        .repo
        .compatibility(BASE_WIM_FILE, "1", "NOSUCHBOARD")
        .expect("report");
    assert!(!none.fits);
    assert!(none.driver_sets.is_empty());
    assert!(none.problems.iter().any(|p| p.contains("NOSUCHBOARD")));
}

#[test]
fn search_merges_folder_and_registered_boards() {
    let f = fixture();
    let extra = vec!["x13saw".to_string(), "X13SRN".to_string()];
    let results = f
        .repo
        .search_motherboards("x13 saw", &extra, 10)
        .expect("search");
    assert_eq!(results[0].model, "X13SAW");
    assert_eq!(results[0].score, 1.0);
    let models: Vec<&str> = results.iter().map(|m| m.model.as_str()).collect();
    assert_eq!(models, ["X13SAW", "X13SRN"]);
}

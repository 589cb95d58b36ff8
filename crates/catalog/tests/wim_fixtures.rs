//! The generated tree and base WIM, read back through the catalog and checked with
//! `wimlib-imagex` as an independent oracle.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use wait_catalog::fixtures::{
    BASE_WIM_FILE, DEMO_BOARD, TreeSpec, WINRE_PATH, demo_repository, write_base_wim,
    write_windows_tree,
};
use wait_catalog::{Arch, CatalogError, Repository, hash_file, select_index};

/// `wimlib-imagex <args>`, which must succeed; returns stdout.
fn imagex(args: &[&str]) -> String {
    let out = Command::new("wimlib-imagex")
        .args(args)
        .output()
        .expect("run wimlib-imagex");
    assert!(
        out.status.success(),
        "wimlib-imagex {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// "Key:   value" lines of `wimlib-imagex info` output.
fn info_fields(text: &str) -> BTreeMap<String, String> {
    text.lines()
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect()
}

fn digest_tree(dir: &Path, skip: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(current) = pending.pop() {
        for entry in std::fs::read_dir(&current).expect("read_dir") {
            let path = entry.expect("entry").path();
            let rel = path
                .strip_prefix(dir)
                .expect("prefix")
                .to_string_lossy()
                .into_owned();
            if path.is_dir() {
                pending.push(path);
            } else if rel != skip {
                out.insert(rel, hash_file(&path).expect("hash").sha256);
            }
        }
    }
    out
}

/// Paths, sizes and SHA-1s of every file inside a WIM image.
fn wim_contents(path: &Path) -> Vec<(String, u64, [u8; 20])> {
    let wim = wait_wim::Wim::open(path).expect("open wim");
    let mut files: Vec<_> = wim
        .files(1, "/")
        .expect("files")
        .into_iter()
        .map(|f| (f.path, f.size, f.sha1))
        .collect();
    files.sort();
    files
}

#[test]
fn windows_tree_is_deterministic_per_seed() {
    let dirs: Vec<tempfile::TempDir> = (0..3)
        .map(|_| tempfile::tempdir().expect("tempdir"))
        .collect();
    write_windows_tree(&dirs[0].path().join("t"), &TreeSpec::small(5)).expect("a");
    write_windows_tree(&dirs[1].path().join("t"), &TreeSpec::small(5)).expect("b");
    write_windows_tree(&dirs[2].path().join("t"), &TreeSpec::small(6)).expect("c");
    let trees: Vec<_> = dirs.iter().map(|d| d.path().join("t")).collect();
    // Every file but Winre.wim is byte-identical (wimlib stamps a fresh GUID and the time
    // into a WIM); the files inside Winre.wim are identical too.
    let (a, b, c) = (
        digest_tree(&trees[0], WINRE_PATH),
        digest_tree(&trees[1], WINRE_PATH),
        digest_tree(&trees[2], WINRE_PATH),
    );
    assert!(a.len() > 100, "{} files", a.len());
    assert_eq!(a, b);
    assert_ne!(a, c);
    assert_eq!(
        wim_contents(&trees[0].join(WINRE_PATH)),
        wim_contents(&trees[1].join(WINRE_PATH))
    );
    // No staging folders are left behind.
    for d in &dirs {
        let names: Vec<_> = std::fs::read_dir(d.path())
            .expect("read_dir")
            .map(|e| e.expect("e").file_name())
            .collect();
        assert_eq!(names, ["t"]);
    }
}

#[test]
fn base_wim_identity_reads_back_through_the_catalog_and_wimlib_imagex() {
    let dir = tempfile::tempdir().expect("tempdir");
    let repo = Repository::init(dir.path()).expect("init");
    let dest = repo.root().join("1_BaseImages").join(BASE_WIM_FILE);
    write_base_wim(&dest, &TreeSpec::small(1)).expect("base wim");

    let bases = repo.base_images().expect("base images");
    assert_eq!(bases.len(), 1, "{bases:?}");
    let base = &bases[0];
    assert_eq!(base.name, BASE_WIM_FILE);
    assert_eq!(base.format, "wim");
    assert_eq!(base.size, std::fs::metadata(&dest).expect("meta").len());
    assert!(base.problems.is_empty(), "{:?}", base.problems);
    assert_eq!(base.images.len(), 1);
    let id = &base.images[0];
    assert_eq!(id.index, 1);
    assert_eq!(id.name, "Windows 11 IoT Enterprise LTSC");
    assert_eq!(id.edition.as_deref(), Some("IoTEnterpriseS"));
    assert_eq!(
        id.product_name.as_deref(),
        Some("Microsoft® Windows® Operating System")
    );
    assert_eq!(id.installation_type.as_deref(), Some("Client"));
    assert_eq!(id.arch, Some(Arch::X64));
    assert_eq!(id.version.as_deref(), Some("10.0.26100.1742"));
    assert_eq!(id.build, Some(26100));
    assert_eq!(id.languages, ["en-US"]);
    assert!(id.size > 1_000_000, "TOTALBYTES {}", id.size);
    assert_eq!(
        repo.base_image(BASE_WIM_FILE).expect("one base image"),
        *base
    );

    let header = info_fields(&imagex(&["info", dest.to_str().expect("utf8")]));
    assert_eq!(header["Compression"], "LZX");
    assert_eq!(header["Image Count"], "1");
    let info = info_fields(&imagex(&["info", dest.to_str().expect("utf8"), "1"]));
    for (key, want) in [
        ("Name", "Windows 11 IoT Enterprise LTSC"),
        ("Description", "Windows 11 IoT Enterprise LTSC"),
        ("Display Name", "Windows 11 IoT Enterprise LTSC"),
        ("Flags", "IoTEnterpriseS"),
        ("Edition ID", "IoTEnterpriseS"),
        ("Build", "26100"),
        ("Service Pack Build", "1742"),
        ("Major Version", "10"),
        ("Minor Version", "0"),
        ("Architecture", "x86_64"),
        ("Languages", "en-US"),
        ("Default Language", "en-US"),
        ("Installation Type", "Client"),
        ("Product Type", "WinNT"),
        ("Product Suite", "Terminal Server"),
        ("HAL", "acpiapic"),
        ("System Root", "WINDOWS"),
    ] {
        assert_eq!(info.get(key).map(String::as_str), Some(want), "{key}");
    }
    // TOTALBYTES is kept by wimlib itself: the catalog reports the same number.
    assert_eq!(info["Total Bytes"], id.size.to_string());
    imagex(&["verify", dest.to_str().expect("utf8")]);
    // Nothing but the WIM is left in the folder.
    let names: Vec<_> = std::fs::read_dir(repo.root().join("1_BaseImages"))
        .expect("read_dir")
        .map(|e| e.expect("e").file_name())
        .collect();
    assert_eq!(names, [BASE_WIM_FILE]);
}

#[test]
fn winre_inside_the_base_wim_is_a_valid_wim() {
    let dir = tempfile::tempdir().expect("tempdir");
    let wim = dir.path().join("base.wim");
    write_base_wim(&wim, &TreeSpec::small(2)).expect("base wim");
    let out = dir.path().join("out");
    std::fs::create_dir_all(&out).expect("mkdir");
    let dest = format!("--dest-dir={}", out.display());
    imagex(&[
        "extract",
        wim.to_str().expect("utf8"),
        "1",
        &format!("/{WINRE_PATH}"),
        &dest,
        "--no-acls",
    ]);
    let winre = out.join("Winre.wim");
    imagex(&["verify", winre.to_str().expect("utf8")]);
    let info = info_fields(&imagex(&["info", winre.to_str().expect("utf8"), "1"]));
    for (key, want) in [
        ("Name", "Microsoft Windows Recovery Environment (x64)"),
        ("Architecture", "x86_64"),
        ("Build", "26100"),
        ("Installation Type", "WindowsPE"),
        ("Languages", "en-US"),
    ] {
        assert_eq!(info.get(key).map(String::as_str), Some(want), "{key}");
    }
    let listing = imagex(&["dir", winre.to_str().expect("utf8"), "1"]);
    assert!(
        listing.contains("/Windows/System32/winpeshl.ini"),
        "{listing}"
    );
}

#[test]
fn winsxs_duplicates_are_stored_once_in_the_wim() {
    let dir = tempfile::tempdir().expect("tempdir");
    let wim = dir.path().join("base.wim");
    write_base_wim(&wim, &TreeSpec::small(4)).expect("base wim");
    let files = wim_contents(&wim);
    let winsxs: Vec<_> = files
        .iter()
        .filter(|f| f.0.starts_with("/Windows/WinSxS/") && f.1 > 0)
        .collect();
    assert_eq!(winsxs.len(), TreeSpec::small(4).winsxs_files);
    for f in winsxs {
        assert!(
            files
                .iter()
                .any(|g| g.0.starts_with("/Windows/System32/") && g.2 == f.2),
            "{} has no twin",
            f.0
        );
    }
}

#[test]
fn a_corrupt_file_in_base_images_does_not_break_the_listing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let repo = Repository::init(dir.path()).expect("init");
    let folder = repo.root().join("1_BaseImages");
    let good = folder.join("good.wim");
    write_base_wim(&good, &TreeSpec::small(3)).expect("base wim");
    let bytes = std::fs::read(&good).expect("read");
    std::fs::write(folder.join("broken.wim"), b"this is not a WIM file at all").expect("write");
    std::fs::write(folder.join("truncated.esd"), &bytes[..bytes.len() / 3]).expect("write");
    std::fs::write(folder.join("empty.wim"), b"").expect("write");
    std::fs::write(folder.join("media.iso"), b"iso").expect("write");
    std::fs::write(folder.join("install2.swm"), b"swm").expect("write");
    std::fs::write(folder.join("notes.txt"), b"ignored").expect("write");
    std::fs::write(folder.join(".partial.wim"), b"staging").expect("write");
    std::fs::create_dir_all(folder.join("subdir.wim")).expect("mkdir");

    let bases = repo.base_images().expect("listing survives bad files");
    let names: Vec<&str> = bases.iter().map(|b| b.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "broken.wim",
            "empty.wim",
            "good.wim",
            "install2.swm",
            "media.iso",
            "truncated.esd"
        ]
    );
    for b in &bases {
        match b.name.as_str() {
            "good.wim" => assert!(b.problems.is_empty() && b.images.len() == 1),
            _ => assert!(b.images.is_empty() && !b.problems.is_empty(), "{b:?}"),
        }
    }
    assert_eq!(
        bases
            .iter()
            .find(|b| b.name == "media.iso")
            .map(|b| b.format.as_str()),
        Some("iso")
    );

    for bad in ["broken.wim", "truncated.esd", "empty.wim"] {
        match repo.base_image(bad) {
            Err(CatalogError::Wim { path, .. }) => assert!(path.ends_with(bad)),
            other => panic!("{bad}: {other:?}"),
        }
    }
    assert!(matches!(
        repo.base_image("notes.txt"),
        Err(CatalogError::Invalid {
            field: "base_image",
            ..
        })
    ));
    assert!(matches!(
        repo.base_image("missing.wim"),
        Err(CatalogError::NotFound {
            field: "base_image",
            ..
        })
    ));
    assert!(matches!(
        repo.base_image("subdir.wim"),
        Err(CatalogError::NotFound {
            field: "base_image",
            ..
        })
    ));
    assert!(matches!(
        repo.base_image("../good.wim"),
        Err(CatalogError::Escapes {
            field: "base_image",
            ..
        })
    ));
    assert!(matches!(
        repo.base_image(""),
        Err(CatalogError::Invalid {
            field: "base_image",
            ..
        })
    ));
    assert!(matches!(
        repo.base_image("media.iso"),
        Err(CatalogError::Invalid {
            field: "base_image",
            ..
        })
    ));
}

#[test]
fn demo_repository_is_complete_and_idempotent() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().join("WAIT_Repository");
    let demo = demo_repository(&root, &TreeSpec::small(42)).expect("demo");
    assert_eq!(demo.base_image, BASE_WIM_FILE);
    assert_eq!(demo.board, DEMO_BOARD);
    assert_eq!(
        demo.answer_file,
        "5_AnswerFiles/X13SAW/WIN11_24H2/autounattend.xml"
    );
    let repo = Repository::open(&demo.root).expect("open");
    let before = digest_tree(repo.root(), "");

    let again = demo_repository(&root, &TreeSpec::small(42)).expect("demo again");
    assert_eq!(again.answer_file, demo.answer_file);
    assert_eq!(
        digest_tree(repo.root(), ""),
        before,
        "a second run keeps every file"
    );

    let base = repo.base_image(&demo.base_image).expect("base");
    let image = select_index(&base, "IoTEnterpriseS").expect("edition");
    assert_eq!(image.index, 1);
    assert_eq!(repo.motherboards().expect("boards"), [DEMO_BOARD]);
    let rec = repo
        .recommend_driver_set(DEMO_BOARD, &image)
        .expect("recommend")
        .expect("fits");
    assert_eq!(rec.driver_set.name, "WINDOWS11_X64");
    assert_eq!(
        rec.reason,
        "WINDOWS11_X64 matches build 26100 (Windows 11) and arch x64"
    );
    assert_eq!(
        wait_catalog::driver_folder_token(&image).as_deref(),
        Some("WINDOWS11_X64")
    );
    assert_eq!(
        repo.answer_files().expect("answers"),
        vec![demo.answer_file]
    );
}

#[test]
fn base_images_read_identities_from_split_parts_and_from_inside_isos() {
    let dir = tempfile::tempdir().expect("tempdir");
    let repo = Repository::init(&dir.path().join("repo")).expect("init");
    let folder = repo.root().join("1_BaseImages");
    let good = dir.path().join("good.wim");
    write_base_wim(&good, &TreeSpec::demo(4)).expect("base wim");

    // An ISO holding it as sources/install.wim, authored by an independent tool.
    let media = dir.path().join("media");
    std::fs::create_dir_all(media.join("sources")).expect("mkdir");
    std::fs::copy(&good, media.join("sources/install.wim")).expect("copy");
    let status = std::process::Command::new("genisoimage")
        .args(["-quiet", "-udf", "-allow-limited-size", "-J", "-o"])
        .arg(folder.join("WIN11.iso"))
        .arg(&media)
        .status()
        .expect("genisoimage");
    assert!(status.success());
    // A split set made by wimlib-imagex.
    let status = std::process::Command::new("wimlib-imagex")
        .arg("split")
        .arg(&good)
        .arg(folder.join("install.swm"))
        .arg("1")
        .stdout(std::process::Stdio::null())
        .status()
        .expect("wimlib-imagex split");
    assert!(status.success());

    let bases = repo.base_images().expect("listing");
    for b in &bases {
        assert!(b.problems.is_empty(), "{b:?}");
        assert_eq!(b.images.len(), 1, "{}", b.name);
        assert_eq!(b.images[0].build, Some(26100), "{}", b.name);
        assert_eq!(
            b.images[0].edition.as_deref(),
            Some("IoTEnterpriseS"),
            "{}",
            b.name
        );
    }
    assert!(bases.iter().any(|b| b.format == "iso"));
    assert!(bases.iter().filter(|b| b.format == "swm").count() >= 2);
}

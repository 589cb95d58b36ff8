//! The generated install ISO, checked with independent tools (7-Zip lists and extracts
//! it, xorriso reads its El Torito catalog, wimlib-imagex reads the WIMs inside), and
//! read back through the catalog: identity detection and the install-media lookup.

use std::path::Path;
use std::process::Command;

use wait_catalog::fixtures::{
    BASE_ISO_FILE, BASE_ISO_LABEL, BASE_WIM_FILE, TreeSpec, write_base_iso, write_base_wim,
};
use wait_catalog::{Arch, CatalogError, ImageIdentity, Repository};

/// Run `program` (which must succeed) and return stdout.
fn run(program: &str, args: &[&str]) -> String {
    let out = Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {program} (is it installed?): {e}"));
    assert!(
        out.status.success(),
        "{program} {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The archive type 7-Zip detects and every path it lists, '/'-separated.
fn list_7z(iso: &Path) -> (String, Vec<String>) {
    let text = run("7z", &["l", "-slt", &iso.to_string_lossy()]);
    let mut kind = String::new();
    let mut paths = Vec::new();
    let mut in_entries = false;
    for line in text.lines() {
        if line.starts_with("----------") {
            in_entries = true;
        } else if let Some(v) = line.strip_prefix("Type = ") {
            if kind.is_empty() {
                kind = v.trim().to_string();
            }
        } else if let Some(p) = line.strip_prefix("Path = ") {
            if in_entries {
                paths.push(p.replace('\\', "/"));
            }
        }
    }
    (kind, paths)
}

/// (platform, image path) of every El Torito boot entry, as xorriso reports them.
fn el_torito(iso: &Path) -> Vec<(String, String)> {
    let text = run(
        "xorriso",
        &[
            "-indev",
            &iso.to_string_lossy(),
            "-report_el_torito",
            "plain",
        ],
    );
    let mut platforms = Vec::new();
    let mut paths = Vec::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("El Torito boot img :") {
            let fields: Vec<&str> = rest.split_whitespace().collect();
            platforms.push(fields.get(1).copied().unwrap_or("").to_string());
        } else if let Some(rest) = line.strip_prefix("El Torito img path :") {
            let path = rest.split_whitespace().nth(1).unwrap_or("");
            paths.push(path.to_string());
        }
    }
    assert_eq!(platforms.len(), paths.len(), "{text}");
    platforms.into_iter().zip(paths).collect()
}

/// "Key: value" fields of `wimlib-imagex info`.
fn imagex_field(text: &str, key: &str) -> Option<String> {
    text.lines()
        .filter_map(|l| l.split_once(':'))
        .find(|(k, _)| k.trim() == key)
        .map(|(_, v)| v.trim().to_string())
}

/// Extract `inner` from the ISO with 7-Zip into `dest`.
fn extract(iso: &Path, inner: &str, dest: &Path) -> std::path::PathBuf {
    run(
        "7z",
        &[
            "x",
            "-y",
            &format!("-o{}", dest.display()),
            &iso.to_string_lossy(),
            inner,
        ],
    );
    dest.join(inner)
}

/// What identifies an image for a build, without the size (the ISO and the WIM are
/// separate captures).
fn key(
    i: &ImageIdentity,
) -> (
    String,
    Option<String>,
    Option<u32>,
    Option<Arch>,
    Vec<String>,
) {
    (
        i.name.clone(),
        i.edition.clone(),
        i.build,
        i.arch,
        i.languages.clone(),
    )
}

/// A repository holding the generated ISO and the generated WIM side by side.
fn repository(dir: &Path) -> Repository {
    let repo = Repository::init(&dir.join("repo")).expect("init repository");
    let folder = repo.root().join("1_BaseImages");
    let iso = write_base_iso(
        &folder.join(BASE_ISO_FILE),
        &TreeSpec::small(7),
        BASE_ISO_LABEL,
    )
    .expect("write ISO");
    assert_eq!(iso, folder.join(BASE_ISO_FILE));
    write_base_wim(&folder.join(BASE_WIM_FILE), &TreeSpec::small(7)).expect("write WIM");
    repo
}

#[test]
fn iso_is_udf_install_media_listed_by_7zip() {
    let dir = tempfile::tempdir().expect("tempdir");
    let repo = repository(dir.path());
    let iso = repo.root().join("1_BaseImages").join(BASE_ISO_FILE);
    let (kind, paths) = list_7z(&iso);
    assert_eq!(kind, "Udf", "Windows media are UDF");
    for wanted in [
        "boot/etfsboot.com",
        "efi/microsoft/boot/efisys.bin",
        "efi/microsoft/boot/efisys_noprompt.bin",
        "bootmgr",
        "bootmgr.efi",
        "setup.exe",
        "sources/boot.wim",
        "sources/install.wim",
    ] {
        assert!(paths.iter().any(|p| p == wanted), "{wanted} in {paths:?}");
    }
    // Nothing of the staging area leaks into the medium or next to it.
    assert!(!paths.iter().any(|p| p.contains("wait-")), "{paths:?}");
    let leftovers: Vec<_> = std::fs::read_dir(repo.root().join("1_BaseImages"))
        .expect("read_dir")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.'))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    let label = run("isoinfo", &["-d", "-i", &iso.to_string_lossy()]);
    assert!(
        label.contains(&format!("Volume id: {BASE_ISO_LABEL}")),
        "{label}"
    );
}

#[test]
fn iso_boots_bios_and_uefi_per_xorriso() {
    let dir = tempfile::tempdir().expect("tempdir");
    let repo = repository(dir.path());
    let iso = repo.root().join("1_BaseImages").join(BASE_ISO_FILE);
    let entries = el_torito(&iso);
    assert_eq!(
        entries,
        vec![
            ("BIOS".to_string(), "/boot/etfsboot.com".to_string()),
            (
                "UEFI".to_string(),
                "/efi/microsoft/boot/efisys.bin".to_string()
            ),
        ]
    );
}

#[test]
fn wims_inside_the_iso_read_with_wimlib_imagex() {
    let dir = tempfile::tempdir().expect("tempdir");
    let repo = repository(dir.path());
    let iso = repo.root().join("1_BaseImages").join(BASE_ISO_FILE);
    let out = dir.path().join("extracted");
    let install = extract(&iso, "sources/install.wim", &out);
    let info = run("wimlib-imagex", &["info", &install.to_string_lossy(), "1"]);
    assert_eq!(
        imagex_field(&info, "Edition ID").as_deref(),
        Some("IoTEnterpriseS")
    );
    assert_eq!(imagex_field(&info, "Build").as_deref(), Some("26100"));
    assert_eq!(
        imagex_field(&info, "Architecture").as_deref(),
        Some("x86_64")
    );

    let boot = extract(&iso, "sources/boot.wim", &out);
    let info = run("wimlib-imagex", &["info", &boot.to_string_lossy()]);
    assert_eq!(imagex_field(&info, "Image Count").as_deref(), Some("2"));
    let setup = run("wimlib-imagex", &["info", &boot.to_string_lossy(), "2"]);
    assert_eq!(
        imagex_field(&setup, "Name").as_deref(),
        Some("Microsoft Windows Setup (amd64)")
    );
    let files = run("wimlib-imagex", &["dir", &boot.to_string_lossy(), "2"]);
    assert!(files.lines().any(|l| l == "/sources/setup.exe"), "{files}");

    // The UEFI boot images are FAT volumes to 7-Zip, as Microsoft's are.
    for inner in [
        "efi/microsoft/boot/efisys.bin",
        "efi/microsoft/boot/efisys_noprompt.bin",
    ] {
        let image = extract(&iso, inner, &out);
        let listing = run("7z", &["l", "-slt", &image.to_string_lossy()]);
        assert!(listing.contains("Type = FAT"), "{inner}: {listing}");
    }
}

#[test]
fn base_images_detect_the_iso_like_the_wim() {
    let dir = tempfile::tempdir().expect("tempdir");
    let repo = repository(dir.path());
    let bases = repo.base_images().expect("listing");
    let iso = bases
        .iter()
        .find(|b| b.name == BASE_ISO_FILE)
        .expect("ISO listed");
    let wim = bases
        .iter()
        .find(|b| b.name == BASE_WIM_FILE)
        .expect("WIM listed");
    assert_eq!(iso.format, "iso");
    assert!(iso.problems.is_empty(), "{:?}", iso.problems);
    assert_eq!(iso.images.len(), 1);
    assert_eq!(
        iso.images.iter().map(key).collect::<Vec<_>>(),
        wim.images.iter().map(key).collect::<Vec<_>>()
    );
    assert_eq!(iso.images[0].build, Some(26100));
    assert_eq!(iso.images[0].arch, Some(Arch::X64));
}

#[test]
fn install_media_is_found_for_a_wim_of_the_same_build_and_arch() {
    let dir = tempfile::tempdir().expect("tempdir");
    let repo = repository(dir.path());
    let wim = repo.base_image(BASE_WIM_FILE).expect("WIM");
    let identity = &wim.images[0];
    assert_eq!(
        repo.install_media_for(BASE_WIM_FILE, identity)
            .expect("lookup")
            .as_deref(),
        Some(BASE_ISO_FILE)
    );
    assert_eq!(
        repo.install_media_for(BASE_ISO_FILE, identity)
            .expect("lookup")
            .as_deref(),
        Some(BASE_ISO_FILE),
        "an ISO base image is its own media"
    );
    let arm = ImageIdentity {
        arch: Some(Arch::Arm64),
        ..identity.clone()
    };
    assert_eq!(
        repo.install_media_for(BASE_WIM_FILE, &arm).expect("lookup"),
        None
    );
    let older = ImageIdentity {
        build: Some(22631),
        ..identity.clone()
    };
    assert_eq!(
        repo.install_media_for(BASE_WIM_FILE, &older)
            .expect("lookup"),
        None
    );

    // An unreadable ISO is skipped, not an error.
    std::fs::write(repo.root().join("1_BaseImages/broken.iso"), b"not an ISO").expect("write");
    assert_eq!(
        repo.install_media_for(BASE_WIM_FILE, identity)
            .expect("lookup")
            .as_deref(),
        Some(BASE_ISO_FILE)
    );
}

#[test]
fn a_bad_label_is_refused_naming_the_label() {
    let dir = tempfile::tempdir().expect("tempdir");
    let dest = dir.path().join("x.iso");
    match write_base_iso(&dest, &TreeSpec::small(1), "BAD LABEL") {
        Err(CatalogError::Invalid { field, message }) => {
            assert_eq!(field, "label");
            assert!(message.contains("BAD LABEL"), "{message}");
        }
        other => panic!("unexpected {other:?}"),
    }
    assert!(!dest.exists());
    let left: Vec<_> = std::fs::read_dir(dir.path())
        .expect("read_dir")
        .filter_map(|e| e.ok())
        .collect();
    assert!(left.is_empty(), "staging removed: {left:?}");
}

//! One build with everything at once: an ISO base image and a WIM base image, drivers,
//! a language pack and an update cab, a PSF-style .msu, an .msi and an .msix, the
//! customer's answer file, a product key with both variants and ISO output. Every
//! output is checked with tools that are not WAIT: md5sum/sha256sum, wimlib-imagex,
//! 7z, xorriso and Python's XML parser (for the answer files, by XPath).

mod common;

use std::path::Path;

use common::{Env, extract_to_dir, run};
use wait_catalog::fixtures::{TreeSpec, write_base_iso, write_demo_packages};
use wait_pipeline::{Manifest, ManifestOutput};
use wait_store::JobStatus;

const KEY: &str = "VK7JG-NPHTM-C97JM-9MPGT-3V66T";
const MEDIA: &str = "WIN11_24H2_MEDIA.iso";

/// XPath checks on an answer file with Python's ElementTree (independent of WAIT's
/// XML code). Each query is `[pass, component, element]`; `servicing` entries look for a
/// package identity. Prints one line per query: the number of matches.
const XPATH_PY: &str = r#"
import sys, json, xml.etree.ElementTree as ET
ns = {"u": "urn:schemas-microsoft-com:unattend"}
root = ET.parse(sys.argv[1]).getroot()
for p, c, e in json.loads(sys.argv[2]):
    if p == "servicing":
        q = "./u:servicing/u:package/u:assemblyIdentity[@name='%s']" % e
    else:
        q = "./u:settings[@pass='%s']/u:component[@name='%s']/u:%s" % (p, c, e)
    print(len(root.findall(q, ns)))
print(len(root.findall(".//u:ProductKey", ns)))
print(len(root.findall(".//u:ComputerName", ns)))
"#;

fn xpath_counts(file: &Path, queries: &[[String; 3]]) -> Vec<usize> {
    let q = serde_json::to_string(queries).expect("json");
    run(
        file.parent().expect("parent"),
        "python3",
        &["-c", XPATH_PY, file.to_str().expect("utf-8 path"), &q],
    )
    .lines()
    .map(|l| l.trim().parse().expect("count"))
    .collect()
}

fn queries(sections: &[wait_pipeline::PlannedSection]) -> Vec<[String; 3]> {
    sections
        .iter()
        .map(|s| [s.pass.clone(), s.component.clone(), s.element.clone()])
        .collect()
}

/// The answer-file facts every output must show: each planned section once, the key
/// only in the keyed variant, the customer's own settings kept.
fn check_answer_file(file: &Path, sections: &[wait_pipeline::PlannedSection], keyed: bool) {
    let counts = xpath_counts(file, &queries(sections));
    let (planned, rest) = counts.split_at(sections.len());
    for (s, n) in sections.iter().zip(planned) {
        assert_eq!(*n, 1, "{}: {s:?} found {n} times", file.display());
    }
    assert_eq!(
        rest[0],
        usize::from(keyed),
        "{}: ProductKey count",
        file.display()
    );
    assert_eq!(
        rest[1],
        1,
        "{}: the customer's ComputerName",
        file.display()
    );
}

fn check_output(env: &Env, dir: &Path, o: &ManifestOutput, keyed: bool) {
    run(dir, "wimlib-imagex", &["verify", &o.image_file]);
    let listing = run(dir, "wimlib-imagex", &["dir", &o.image_file, "1"]);
    for needle in [
        "/WAIT/Drivers/",
        "/WAIT/Packages/LangPacks/",
        "/WAIT/Packages/Updates/",
        "/WAIT/Software/",
        "/WAIT/BuildInfo.json",
        "/Windows/Setup/Scripts/SetupComplete.cmd",
    ] {
        assert!(listing.contains(needle), "{} lacks {needle}", o.image_file);
    }
    let x = env.dir.path().join(format!("x-{}", o.variant));
    extract_to_dir(dir, &o.image_file, "/Windows/Panther/unattend.xml", &x);
    check_answer_file(&x.join("unattend.xml"), &o.answer_sections, keyed);
    assert!(
        o.answer_sections
            .iter()
            .any(|s| s.element == "DriverPaths" && s.pass == "offlineServicing")
    );
    assert_eq!(
        o.answer_sections
            .iter()
            .filter(|s| s.pass == "servicing")
            .count(),
        2,
        "the language pack and the update cab go through <servicing>"
    );

    let iso = o.iso.as_ref().expect("ISO output");
    let (list, _) = (run(dir, "7z", &["l", "-slt", &iso.file]), ());
    for needle in [
        "Path = sources/install.wim",
        "Path = autounattend.xml",
        "Path = boot/etfsboot.com",
        "Path = $WinPEDriver$",
    ] {
        assert!(list.contains(needle), "{} lacks {needle}", iso.file);
    }
    let report = run(
        dir,
        "xorriso",
        &["-indev", &iso.file, "-report_el_torito", "plain"],
    );
    let boot_lines: Vec<&str> = report
        .lines()
        .filter(|l| l.starts_with("El Torito boot img :"))
        .collect();
    assert_eq!(boot_lines.len(), 2, "{report}");
    assert!(boot_lines.iter().any(|l| l.contains("BIOS")), "{report}");
    assert!(boot_lines.iter().any(|l| l.contains("UEFI")), "{report}");

    // The ISO's install image is the output WIM, byte for byte; its autounattend.xml
    // is the variant's answer file.
    let y = env.dir.path().join(format!("y-{}", o.variant));
    std::fs::create_dir_all(&y).expect("mkdir");
    let out = format!("-o{}", y.display());
    run(
        dir,
        "7z",
        &[
            "x",
            "-y",
            &out,
            &iso.file,
            "sources/install.wim",
            "autounattend.xml",
        ],
    );
    let inner = run(&y, "sha256sum", &["sources/install.wim"]);
    assert!(
        inner.starts_with(&o.sha256),
        "install.wim inside {} differs",
        iso.file
    );
    check_answer_file(
        &y.join("autounattend.xml"),
        &iso.autounattend_sections,
        keyed,
    );
}

#[tokio::test]
async fn everything_at_once_from_an_iso_and_a_wim() {
    let spec = TreeSpec::small(61);
    let env = Env::new(spec).await;
    let packages = write_demo_packages(env.repo.root()).expect("packages");
    write_base_iso(
        &env.repo.root().join("1_BaseImages").join(MEDIA),
        &spec,
        "CCCOMA_X64FRE_EN-US_DV9",
    )
    .expect("base ISO");
    let updates: Vec<String> = packages
        .updates
        .iter()
        .filter(|u| u.ends_with(".cab") || u.to_lowercase().contains("psf") || u.ends_with(".msu"))
        .cloned()
        .collect();
    assert!(updates.iter().any(|u| u.ends_with(".msu")), "{updates:?}");

    let mut from_iso = env.request();
    // The demo updates and software sit in the DEMO customer's folders.
    from_iso.customer_name = "DEMO".into();
    from_iso.base_image = MEDIA.into();
    from_iso.langpacks = packages.langpacks.clone();
    from_iso.updates = updates.clone();
    from_iso.software = packages.software.clone();
    from_iso.product_key = Some(KEY.into());
    from_iso.key_variants = "both".into();
    from_iso.create_iso = true;
    let mut from_wim = from_iso.clone();
    from_wim.base_image = env.demo.base_image.clone();

    let mut ids = Vec::new();
    for req in [&from_iso, &from_wim] {
        ids.push(
            env.store
                .create_job(req, Some("tester"))
                .await
                .expect("create")
                .job_id,
        );
    }
    assert_eq!(env.worker().run_until_idle().await.expect("worker"), 2);

    let mut digests = Vec::new();
    for id in ids {
        let job = env.store.get_job(id).await.expect("get").expect("job");
        assert_eq!(job.status, JobStatus::Completed, "error: {:?}", job.error);
        // The Setup media are an input of the WIM-based job; the ISO-based job's base
        // is its own media.
        let media: Vec<&str> = job
            .resources
            .iter()
            .filter(|r| r.kind == "install_media")
            .map(|r| r.path.as_str())
            .collect();
        if job.request.base_image == MEDIA {
            assert_eq!(media, Vec::<&str>::new());
        } else {
            assert_eq!(media, [format!("1_BaseImages/{MEDIA}").as_str()]);
        }
        let dir = env.output(job.output_dir.as_deref().expect("output"));
        run(&dir, "md5sum", &["-c", "checksum.md5"]);
        run(&dir, "sha256sum", &["-c", "checksum.sha256"]);
        let manifest: Manifest = serde_json::from_str(
            &std::fs::read_to_string(dir.join("manifest.json")).expect("manifest"),
        )
        .expect("manifest parses");
        assert_eq!(manifest.outputs.len(), 2);
        let names: Vec<&str> = manifest
            .outputs
            .iter()
            .map(|o| o.variant.as_str())
            .collect();
        assert_eq!(names, ["key", "nokey"]);
        for f in [
            "install_key.wim",
            "install_nokey.wim",
            "install_key.iso",
            "install_nokey.iso",
        ] {
            assert!(job.output_files.iter().any(|o| o == f), "{f} not listed");
        }
        for o in &manifest.outputs {
            check_output(&env, &dir, o, o.variant == "key");
        }
        let masked = manifest.outputs[0]
            .product_key
            .as_deref()
            .expect("masked key");
        assert!(
            masked.ends_with("3V66T") && !masked.contains("VK7JG"),
            "{masked}"
        );
        let text = std::fs::read_to_string(dir.join("manifest.txt")).expect("txt");
        assert!(!text.contains("VK7JG") && !manifest.to_json().contains("VK7JG"));
        assert!(manifest.timings.iter().any(|t| t.stage == "write"));
        assert!(
            manifest
                .components
                .iter()
                .any(|c| c.how.contains("dism /online"))
        );
        assert!(
            manifest
                .components
                .iter()
                .any(|c| c.how.contains("msiexec"))
        );
        assert!(
            manifest
                .components
                .iter()
                .any(|c| c.how.contains("Add-AppxProvisionedPackage"))
        );
        assert!(manifest.winre.is_some());
        digests.push(
            manifest
                .outputs
                .iter()
                .map(|o| o.content_digest.clone())
                .collect::<Vec<_>>(),
        );
    }
    // Key and no-key differ only in the answer file, which the digest covers. (Equal
    // digests for equal inputs are tested with a clone in the server's tests; the two
    // base images here differ in their generated Winre.wim.)
    for d in &digests {
        assert_eq!(d.len(), 2);
        assert!(
            d.iter()
                .all(|x| x.len() == 64 && x.chars().all(|c| c.is_ascii_hexdigit()))
        );
        assert_ne!(d[0], d[1]);
    }
}

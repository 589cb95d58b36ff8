//! `inspect_software` on the generated installers (with `unzip` and, when present,
//! `msiinfo` as oracles) and on damaged ones.

use std::path::{Path, PathBuf};
use std::process::Command;

use wait_catalog::fixtures::{self, Fixture};
use wait_catalog::software::{
    SoftwareKind, SoftwareProblem, check_switches, inspect_software, parse_pe_version,
};

fn write(dir: &Path, f: &Fixture) -> PathBuf {
    let p = dir.join(&f.file);
    std::fs::write(&p, &f.bytes).expect("write");
    p
}

#[test]
fn msi_msix_and_exe_are_described_with_commands() {
    let dir = tempfile::tempdir().expect("tempdir");
    let msi =
        inspect_software(&write(dir.path(), &fixtures::demo_msi().expect("msi"))).expect("msi");
    assert_eq!(msi.kind, SoftwareKind::Msi);
    assert_eq!(msi.name.as_deref(), Some("WAIT Demo Agent"));
    assert_eq!(msi.version.as_deref(), Some("2.4.1"));
    assert_eq!(msi.publisher.as_deref(), Some("Contoso Ltd."));
    assert_eq!(msi.arch.as_deref(), Some("x64"));
    assert_eq!(
        msi.default_command,
        "msiexec /i \"DemoAgent.msi\" /qn /norestart"
    );
    assert_eq!(msi.sha256.len(), 64);

    let msix =
        inspect_software(&write(dir.path(), &fixtures::demo_msix().expect("msix"))).expect("msix");
    assert_eq!(msix.kind, SoftwareKind::Msix);
    assert_eq!(msix.name.as_deref(), Some("Contoso.WaitDemoViewer"));
    assert_eq!(msix.version.as_deref(), Some("1.3.0.0"));
    assert_eq!(msix.arch.as_deref(), Some("x64"));
    assert!(msix.default_command.contains(
        "Add-AppxProvisionedPackage -Online -PackagePath \"DemoViewer.msix\" -SkipLicense"
    ));

    let mut exe_path = PathBuf::new();
    for f in fixtures::demo_exe() {
        let p = write(dir.path(), &f);
        if f.file.ends_with(".exe") {
            exe_path = p;
        }
    }
    let exe = inspect_software(&exe_path).expect("exe");
    assert_eq!(exe.name.as_deref(), Some("WAIT Demo Tool"));
    assert_eq!(exe.version.as_deref(), Some("3.1.4.1"));
    assert_eq!(exe.publisher.as_deref(), Some("Contoso Ltd."));
    assert_eq!(exe.arch.as_deref(), Some("x64"));
    assert_eq!(exe.default_command, "\"DemoTool.exe\" /S /norestart");
    std::fs::remove_file(dir.path().join("DemoTool.exe.switches")).expect("rm");
    assert_eq!(
        inspect_software(&exe_path).expect("exe").default_command,
        "\"DemoTool.exe\""
    );
}

#[test]
fn unzip_and_msiinfo_agree() {
    let dir = tempfile::tempdir().expect("tempdir");
    let msix = write(dir.path(), &fixtures::demo_msix().expect("msix"));
    if Command::new("unzip").arg("-v").output().is_ok() {
        let t = Command::new("unzip")
            .arg("-t")
            .arg(&msix)
            .output()
            .expect("unzip");
        assert!(t.status.success());
        let l = Command::new("unzip")
            .arg("-l")
            .arg(&msix)
            .output()
            .expect("unzip");
        assert!(String::from_utf8_lossy(&l.stdout).contains("AppxManifest.xml"));
    }
    let msi = write(dir.path(), &fixtures::demo_msi().expect("msi"));
    if let Ok(out) = Command::new("msiinfo")
        .arg("export")
        .arg(&msi)
        .arg("Property")
        .output()
    {
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(String::from_utf8_lossy(&out.stdout).contains("WAIT Demo Agent"));
    }
}

#[test]
fn damaged_installers_are_refused_naming_the_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let msi = fixtures::demo_msi().expect("msi").bytes;
    let no_manifest = fixtures::zip_archive(&[("readme.txt", b"hi".as_slice())]).expect("zip");
    let dtd = format!(
        "<?xml version=\"1.0\"?>\n<!DOCTYPE Package [<!ENTITY x \"y\">]>\n{}",
        fixtures::appx_manifest("A", "1.0.0.0", "x64")
            .split_once("?>\n")
            .map_or("", |(_, b)| b)
    );
    let dtd_zip = fixtures::zip_archive(&[("AppxManifest.xml", dtd.as_bytes())]).expect("zip");
    let mut outside = fixtures::version_exe("P", "C", [1, 0, 0, 0]);
    outside.truncate(0x700); // the .rsrc section now ends past the end of the file
    type Check = fn(&SoftwareProblem) -> bool;
    let table: Vec<(&str, Vec<u8>, Check)> = vec![
        ("trunc.msi", msi[..msi.len() / 3].to_vec(), |p| {
            matches!(p, SoftwareProblem::BadMsi(_))
        }),
        ("nomanifest.msix", no_manifest, |p| {
            matches!(p, SoftwareProblem::NoManifest)
        }),
        ("dtd.appx", dtd_zip, |p| {
            matches!(p, SoftwareProblem::BadXml { line: 2, .. })
        }),
        ("notzip.msix", b"PK not really".to_vec(), |p| {
            matches!(p, SoftwareProblem::BadZip(_))
        }),
        (
            "outside.exe",
            outside,
            |p| matches!(p, SoftwareProblem::BadPe(m) if m.contains("outside the file")),
        ),
        ("empty.exe", Vec::new(), |p| {
            matches!(p, SoftwareProblem::Empty)
        }),
        ("text.exe", b"echo hi".to_vec(), |p| {
            matches!(p, SoftwareProblem::NotPe(_))
        }),
    ];
    for (name, bytes, check) in table {
        let path = dir.path().join(name);
        std::fs::write(&path, &bytes).expect("write");
        let err = inspect_software(&path).expect_err(name);
        assert_eq!(err.file, name);
        assert!(check(&err.problem), "{name}: unexpected {err}");
        assert!(err.to_string().starts_with(name), "{err}");
    }
}

#[test]
fn pe_parser_reads_the_fixture_in_memory() {
    let v = parse_pe_version(&fixtures::version_exe("P", "C", [1, 2, 3, 4])).expect("pe");
    assert!(v.has_version_resource);
    assert_eq!(v.fixed_file_version.as_deref(), Some("1.2.3.4"));
    assert_eq!(v.product_name.as_deref(), Some("P"));
    assert_eq!(v.company_name.as_deref(), Some("C"));
}

#[test]
fn switches_that_would_change_the_command_line_are_refused() {
    for good in [
        "",
        "/S /norestart",
        r#"/VERYSILENT /DIR="C:\Program Files\Demo""#,
        r"/quiet /log %TEMP%\demo.log",
    ] {
        assert_eq!(check_switches(good), Ok(()), "{good:?}");
    }
    let long = "/x".repeat(201);
    for (bad, says) in [
        ("/S & del C:\\x", "'&'"),
        ("/S | more", "'|'"),
        ("/S > C:\\out", "'>'"),
        ("/S < in", "'<'"),
        ("/S ^& x", "'^'"),
        ("/S\r\ncalc", "U+000D"),
        ("/S\tx", "U+0009"),
        ("/DIR=\"C:\\x", "unbalanced"),
        (long.as_str(), "more than 400"),
    ] {
        let e = check_switches(bad).expect_err(bad);
        assert!(e.contains(says), "{bad:?}: {e}");
    }

    // A sidecar with such a line is refused, naming the sidecar.
    let dir = tempfile::tempdir().expect("tempdir");
    let mut exe_path = PathBuf::new();
    for f in fixtures::demo_exe() {
        let p = write(dir.path(), &f);
        if f.file.ends_with(".exe") {
            exe_path = p;
        }
    }
    std::fs::write(
        dir.path().join("DemoTool.exe.switches"),
        "# x\r\n/S & calc\r\n",
    )
    .expect("w");
    let e = inspect_software(&exe_path).expect_err("refused");
    assert_eq!(e.file, "DemoTool.exe.switches");
    assert!(
        matches!(e.problem, SoftwareProblem::BadSwitches { .. }),
        "{e}"
    );
}

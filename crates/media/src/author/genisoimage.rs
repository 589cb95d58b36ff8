//! The genisoimage command line.

use std::ffi::{OsStr, OsString};
use std::path::Path;

use super::staging::StagingPlan;

/// What goes on the command line besides the staging plan.
#[derive(Debug, Clone, Copy)]
pub(crate) struct IsoSettings<'a> {
    pub label: &'a str,
    /// Path inside the ISO of the BIOS (El Torito platform 0) boot image.
    pub bios_boot: &'a str,
    /// Path inside the ISO of the UEFI (El Torito platform 0xEF) boot image.
    pub uefi_boot: &'a str,
    /// Write a UDF file system next to ISO 9660 (needed for files of 4 GiB and more).
    pub udf: bool,
}

/// Arguments for `genisoimage` writing `output`.
///
/// BIOS: no emulation, 8 sectors of 512 bytes loaded (what etfsboot.com expects);
/// UEFI: a second no-emulation entry whose platform genisoimage sets to EFI for `-e`.
pub(crate) fn genisoimage_args(
    plan: &StagingPlan,
    settings: &IsoSettings<'_>,
    output: &Path,
) -> Vec<OsString> {
    let mut args: Vec<OsString> = Vec::new();
    let mut push = |a: &str| args.push(a.into());
    if settings.udf {
        // -allow-limited-size: UDF carries the full size of files over 4 GiB while the
        // ISO 9660 record says what it can.
        push("-udf");
        push("-allow-limited-size");
    }
    for a in [
        "-iso-level",
        "4",
        "-J",
        "-joliet-long",
        "-l",
        "-D",
        "-N",
        "-relaxed-filenames",
        "-V",
        settings.label,
        "-b",
        settings.bios_boot,
        "-no-emul-boot",
        "-boot-load-size",
        "8",
        "-eltorito-alt-boot",
        "-e",
        settings.uefi_boot,
        "-no-emul-boot",
        "-graft-points",
    ] {
        push(a);
    }
    args.push("-o".into());
    args.push(output.as_os_str().to_owned());
    // -x compares the exact host path genisoimage reaches while walking the root, so
    // only the named files are left out (an `install.wim` elsewhere stays).
    for excluded in &plan.excludes {
        args.push("-x".into());
        args.push(excluded.as_os_str().to_owned());
    }
    args.push(escape_graft(plan.root.as_os_str()));
    for graft in &plan.grafts {
        let mut spec = escape_graft(OsStr::new(&graft.target));
        spec.push("=");
        spec.push(escape_graft(graft.source.as_os_str()));
        args.push(spec);
    }
    args
}

/// With -graft-points, '=' separates target from source and '\' escapes; both must be
/// escaped in real paths.
fn escape_graft(path: &OsStr) -> OsString {
    #[cfg(unix)]
    {
        use std::os::unix::ffi::{OsStrExt, OsStringExt};
        let mut out = Vec::with_capacity(path.len());
        for &b in path.as_bytes() {
            if b == b'=' || b == b'\\' {
                out.push(b'\\');
            }
            out.push(b);
        }
        OsString::from_vec(out)
    }
    #[cfg(not(unix))]
    {
        path.to_string_lossy()
            .replace('\\', "\\\\")
            .replace('=', "\\=")
            .into()
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;
    use crate::author::staging::Graft;

    fn strings(args: &[OsString]) -> Vec<String> {
        args.iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect()
    }

    #[test]
    fn udf_command_line_matches_the_documented_one() {
        let plan = StagingPlan {
            root: PathBuf::from("/media/tree"),
            excludes: vec![PathBuf::from("/media/tree/sources/install.esd")],
            grafts: vec![
                Graft {
                    target: "sources/install.wim".to_owned(),
                    source: PathBuf::from("/work/a=b/new.wim"),
                },
                Graft {
                    target: "autounattend.xml".to_owned(),
                    source: PathBuf::from("/work/au.xml"),
                },
            ],
        };
        let settings = IsoSettings {
            label: "CCCOMA_X64FRE_EN-US_DV9",
            bios_boot: "boot/etfsboot.com",
            uefi_boot: "efi/microsoft/boot/efisys.bin",
            udf: true,
        };
        let args = strings(&genisoimage_args(&plan, &settings, Path::new("/out/x.iso")));
        let expected = "-udf -allow-limited-size -iso-level 4 -J -joliet-long -l -D -N \
            -relaxed-filenames -V CCCOMA_X64FRE_EN-US_DV9 -b boot/etfsboot.com -no-emul-boot \
            -boot-load-size 8 -eltorito-alt-boot -e efi/microsoft/boot/efisys.bin \
            -no-emul-boot -graft-points -o /out/x.iso -x /media/tree/sources/install.esd \
            /media/tree sources/install.wim=/work/a\\=b/new.wim autounattend.xml=/work/au.xml";
        assert_eq!(args.join(" "), expected);
    }

    #[test]
    fn iso9660_only_drops_udf() {
        let plan = StagingPlan {
            root: PathBuf::from("/t"),
            excludes: vec![],
            grafts: vec![],
        };
        let settings = IsoSettings {
            label: "L",
            bios_boot: "boot/etfsboot.com",
            uefi_boot: "efi/microsoft/boot/efisys_noprompt.bin",
            udf: false,
        };
        let args = strings(&genisoimage_args(&plan, &settings, Path::new("/o.iso")));
        assert!(
            !args
                .iter()
                .any(|a| a == "-udf" || a == "-allow-limited-size")
        );
        assert!(args.contains(&"efi/microsoft/boot/efisys_noprompt.bin".to_owned()));
    }
}

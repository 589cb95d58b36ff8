//! The oscdimg command line (Windows ADK). oscdimg cannot graft or exclude, so it is
//! pointed at a materialised staging directory.

use std::ffi::OsString;
use std::path::Path;

use super::error::AuthorError;

/// Arguments for `oscdimg` writing `output` from `staging_dir`.
///
/// `-bootdata:2#p0,e,b<bios>#pEF,e,b<uefi>`: two El Torito entries, platform 0 (BIOS)
/// and 0xEF (UEFI), no emulation. With UDF: `-u2 -udfver102` (UDF 1.02 plus a minimal
/// ISO 9660 bridge), as Microsoft's media use; without: `-j1` (Joliet with ISO 9660
/// names).
pub(crate) fn oscdimg_args(
    staging_dir: &Path,
    label: &str,
    bios_host: &Path,
    uefi_host: &Path,
    udf: bool,
    output: &Path,
) -> Result<Vec<OsString>, AuthorError> {
    // '#' and ',' separate the fields of -bootdata; a path holding them cannot be said.
    for (which, path) in [
        ("BIOS boot image", bios_host),
        ("UEFI boot image", uefi_host),
    ] {
        if path.to_string_lossy().contains(['#', ',']) {
            return Err(AuthorError::bad_input(
                which,
                path,
                "oscdimg cannot take a boot file path containing '#' or ','",
            ));
        }
    }
    let mut args: Vec<OsString> = vec!["-m".into(), "-o".into()];
    if udf {
        args.push("-u2".into());
        args.push("-udfver102".into());
    } else {
        args.push("-j1".into());
    }
    args.push(format!("-l{label}").into());
    let mut bootdata = OsString::from("-bootdata:2#p0,e,b");
    bootdata.push(bios_host.as_os_str());
    bootdata.push("#pEF,e,b");
    bootdata.push(uefi_host.as_os_str());
    args.push(bootdata);
    args.push(staging_dir.as_os_str().to_owned());
    args.push(output.as_os_str().to_owned());
    Ok(args)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn argument_list() {
        let args = oscdimg_args(
            Path::new("/w/stage"),
            "WIN11",
            Path::new("/w/stage/boot/etfsboot.com"),
            Path::new("/w/stage/efi/microsoft/boot/efisys.bin"),
            true,
            Path::new("/o/x.iso"),
        )
        .expect("args");
        let got: Vec<_> = args
            .iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        assert_eq!(
            got,
            [
                "-m",
                "-o",
                "-u2",
                "-udfver102",
                "-lWIN11",
                "-bootdata:2#p0,e,b/w/stage/boot/etfsboot.com#pEF,e,b/w/stage/efi/microsoft/boot/efisys.bin",
                "/w/stage",
                "/o/x.iso",
            ]
        );
        let no_udf = oscdimg_args(
            Path::new("/s"),
            "L",
            Path::new("/s/b"),
            Path::new("/s/e"),
            false,
            Path::new("/o"),
        )
        .expect("args");
        assert!(no_udf.contains(&OsString::from("-j1")));
        assert!(!no_udf.contains(&OsString::from("-u2")));
    }

    #[test]
    fn separator_in_boot_path_is_refused() {
        let err = oscdimg_args(
            Path::new("/s"),
            "L",
            Path::new("/s/a#b/etfsboot.com"),
            Path::new("/s/e"),
            true,
            Path::new("/o"),
        )
        .expect_err("refused");
        assert!(matches!(
            err,
            AuthorError::BadInput {
                what: "BIOS boot image",
                ..
            }
        ));
    }
}

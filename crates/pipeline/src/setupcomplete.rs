//! `Windows/Setup/Scripts/SetupComplete.cmd`: the first-boot fallback for images applied
//! without Setup's offlineServicing pass. Setup runs it as LocalSystem after
//! installation and before the first logon, ignores its exit code, and it must not
//! reboot. When the base image already carries a SetupComplete.cmd, that script is kept
//! under another name and called first.

/// The name the base image's own script is moved to.
pub(crate) const CHAINED_NAME: &str = "SetupComplete.base.cmd";

pub(crate) struct SetupCompletePlan<'a> {
    pub board: &'a str,
    /// Windows path of the staged driver folder; None when no drivers were staged.
    pub driver_root: Option<&'a str>,
    pub chain_existing: bool,
    /// Windows paths of `.msu` packages for `dism /online /add-package`, in order.
    pub dism_packages: Vec<String>,
    /// Software install commands (description, command line), in order.
    pub commands: Vec<(String, String)>,
}

/// Installs every driver staged under `root` (a Windows path) into the driver store.
pub(crate) fn pnputil_command(root: &str) -> String {
    format!("pnputil /add-driver \"{root}\\*.inf\" /subdirs /install")
}

/// The script text, with CRLF line ends as cmd.exe expects.
pub(crate) fn render(plan: &SetupCompletePlan<'_>) -> String {
    let mut lines: Vec<String> = vec![
        "@echo off".into(),
        // No job id here: the image content must not change between two builds of the
        // same inputs. The job is named in C:\WAIT\BuildInfo.json instead.
        format!(
            "rem Written by WAIT for board {}; see C:\\WAIT\\BuildInfo.json for the build.",
            sanitize(plan.board)
        ),
        "setlocal".into(),
        "set WAITLOG=%WINDIR%\\Temp\\WAIT-SetupComplete.log".into(),
        "echo [%DATE% %TIME%] WAIT first-boot steps start>>\"%WAITLOG%\"".into(),
    ];
    if plan.chain_existing {
        lines.push(format!(
            "if exist \"%~dp0{CHAINED_NAME}\" call \"%~dp0{CHAINED_NAME}\">>\"%WAITLOG%\" 2>&1"
        ));
    }
    if let Some(root) = plan.driver_root {
        lines.push(format!("{}>>\"%WAITLOG%\" 2>&1", pnputil_command(root)));
        lines.push("echo [%DATE% %TIME%] pnputil exit code %ERRORLEVEL%>>\"%WAITLOG%\"".into());
    }
    for pkg in &plan.dism_packages {
        lines.push(format!(
            "{}>>\"%WAITLOG%\" 2>&1",
            crate::plan::dism_command(pkg)
        ));
        lines.push(format!(
            "echo [%DATE% %TIME%] dism {} exit code %ERRORLEVEL%>>\"%WAITLOG%\"",
            sanitize(pkg.rsplit('\\').next().unwrap_or(pkg))
        ));
    }
    for (what, cmd) in &plan.commands {
        lines.push(format!("{cmd}>>\"%WAITLOG%\" 2>&1"));
        lines.push(format!(
            "echo [%DATE% %TIME%] {} exit code %ERRORLEVEL%>>\"%WAITLOG%\"",
            sanitize(what)
        ));
    }
    lines.push("echo [%DATE% %TIME%] WAIT first-boot steps done>>\"%WAITLOG%\"".into());
    lines.push("endlocal".into());
    lines.push("exit /b 0".into());
    let mut text = lines.join("\r\n");
    text.push_str("\r\n");
    text
}

/// Board names are already restricted to safe folder names; this keeps a comment line
/// from ever carrying cmd metacharacters.
fn sanitize(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_ascii_alphanumeric() || "._-".contains(*c))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn script_installs_drivers_with_pnputil_and_uses_crlf() {
        let text = render(&SetupCompletePlan {
            board: "X13SAW",
            driver_root: Some(r"C:\WAIT\Drivers"),
            chain_existing: false,
            dism_packages: vec![],
            commands: vec![],
        });
        assert!(text.contains(r#"pnputil /add-driver "C:\WAIT\Drivers\*.inf" /subdirs /install"#));
        assert!(text.ends_with("exit /b 0\r\n"));
        assert!(!text.replace("\r\n", "").contains('\n'));
        assert!(!text.contains("shutdown"));
    }

    #[test]
    fn existing_script_is_chained_first() {
        let text = render(&SetupCompletePlan {
            board: "B&calc",
            driver_root: Some(r"C:\WAIT\Drivers"),
            chain_existing: true,
            dism_packages: vec![],
            commands: vec![],
        });
        let chain = text.find(CHAINED_NAME).unwrap();
        let pnp = text.find("pnputil").unwrap();
        assert!(chain < pnp);
        assert!(!text.contains("B&calc"));
        assert!(text.contains("board Bcalc"));
    }

    #[test]
    fn packages_and_software_follow_the_drivers() {
        let text = render(&SetupCompletePlan {
            board: "B",
            driver_root: Some(r"C:\WAIT\Drivers"),
            chain_existing: false,
            dism_packages: vec![r"C:\WAIT\Packages\Updates\kb.msu".into()],
            commands: vec![(
                "a.msi".into(),
                r#"msiexec /i "C:\WAIT\Software\a.msi" /qn /norestart"#.into(),
            )],
        });
        let pnp = text.find("pnputil").unwrap();
        let dism = text
            .find(r#"dism /online /add-package /packagepath:"C:\WAIT\Packages\Updates\kb.msu" /quiet /norestart"#)
            .unwrap();
        let msi = text.find("msiexec /i").unwrap();
        assert!(pnp < dism && dism < msi);
    }
}

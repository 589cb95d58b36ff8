//! The `first_boot` check: every system-drive path the first-boot script and the
//! answer file's FirstLogonCommands use is in the image.
//!
//! Paths are found the way cmd.exe would see them: `set NAME=VALUE` variables are
//! expanded where they are used, `C:\…` and `%SystemDrive%\…` map to the image root,
//! `%WINDIR%\…` / `%SystemRoot%\…` to `/Windows/…`, and `%~dp0` to the script's own
//! folder. A path the command writes to (a `>`/`>>` redirection target) is created at
//! run time, so it is not required; nor is the value of a `NAME=` switch (an
//! installer's target folder or log), nor are paths on a line that tests for them
//! (`if exist`), nor text that is only printed (`echo`, `rem`). A wildcard
//! (`\*.inf`) needs its folder. Lookups ignore case, as Windows does.

use std::collections::HashMap;

use super::Scope;
use super::wim::OpenImage;
use super::xml::Element;
use crate::FirstBoot;

/// One path a command uses: as written, and where it is inside the image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Reference {
    pub written: String,
    pub image_path: String,
}

pub(super) fn check_first_boot(
    image: &OpenImage,
    first_boot: &FirstBoot,
    answer: Option<&Element>,
    scope: &mut Scope<'_>,
) {
    let mut problems = Vec::new();
    let mut checked = 0usize;
    let mut check = |origin: &str, refs: Vec<Reference>, problems: &mut Vec<String>| {
        for r in refs {
            checked += 1;
            if image.resolve(&r.image_path).is_none() {
                problems.push(format!(
                    "{} (used by {origin}) is not in the image as {}",
                    r.written, r.image_path
                ));
            }
        }
    };
    let script = super::wim::image_path(&first_boot.script);
    let script_name = script.rsplit('/').next().unwrap_or_default().to_string();
    if first_boot.script.trim().is_empty() {
        problems.push("the manifest names no first-boot script".to_string());
    } else {
        match image.read_small(&script) {
            Ok(bytes) => {
                let text = String::from_utf8_lossy(&bytes);
                check(
                    &script_name,
                    script_references(&text, &script),
                    &mut problems,
                );
            }
            Err(e) => problems.push(format!("first-boot script: {e}")),
        }
    }
    if let Some(root) = answer {
        for line in first_logon_commands(root) {
            check(
                "FirstLogonCommands",
                command_references(&line),
                &mut problems,
            );
        }
    }
    scope.push_all(
        "first_boot",
        &problems,
        format!("{checked} path(s) used by {script_name} and FirstLogonCommands are in the image"),
    );
}

/// The `CommandLine` texts of the answer file's FirstLogonCommands.
fn first_logon_commands(root: &Element) -> Vec<String> {
    root.descendants()
        .into_iter()
        .filter(|e| e.name == "FirstLogonCommands")
        .flat_map(|f| f.descendants())
        .filter(|e| e.name == "CommandLine")
        .map(|e| e.text.trim().to_string())
        .collect()
}

/// The system-drive paths a batch script needs. `script_path` is its image path
/// (for `%~dp0`).
pub(super) fn script_references(text: &str, script_path: &str) -> Vec<Reference> {
    let script_dir = script_path
        .rsplit_once('/')
        .map_or("", |(d, _)| d)
        .to_string();
    let mut vars: HashMap<String, String> = HashMap::new();
    let mut out = Vec::new();
    for raw in text.lines() {
        let line = raw.trim().trim_start_matches('@').trim_start();
        let lower = line.to_ascii_lowercase();
        let first = lower.split_whitespace().next().unwrap_or("");
        if line.is_empty()
            || first == "rem"
            || first == "echo"
            || first.starts_with("echo.")
            || line.starts_with("::")
            || lower.starts_with("if exist ")
            || lower.starts_with("if not exist ")
        {
            continue;
        }
        if first == "set" {
            if let Some((name, value)) = parse_set(&line[3..]) {
                let value = expand(&value, &vars);
                vars.insert(name.to_ascii_lowercase(), value);
            }
            continue;
        }
        let expanded = expand(line, &vars);
        for r in find_paths(&expanded, &script_dir) {
            if !out.contains(&r) {
                out.push(r);
            }
        }
    }
    out
}

/// The system-drive paths one command line needs (no script variables).
pub(super) fn command_references(line: &str) -> Vec<Reference> {
    find_paths(line, "")
}

/// `set NAME=VALUE` or `set "NAME=VALUE"` (what follows `set`). `set /a` and `set /p`
/// compute or prompt: not a path.
fn parse_set(rest: &str) -> Option<(String, String)> {
    let rest = rest.trim();
    if rest.starts_with('/') {
        return None;
    }
    let rest = match rest.strip_prefix('"') {
        Some(quoted) => quoted.rsplit_once('"').map_or(quoted, |(inner, _)| inner),
        None => rest,
    };
    let (name, value) = rest.split_once('=')?;
    let name = name.trim();
    if name.is_empty() {
        return None;
    }
    Some((name.to_string(), value.to_string()))
}

/// Replace `%NAME%` for the variables the script set; other `%…%` stay as written.
fn expand(text: &str, vars: &HashMap<String, String>) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find('%') {
        out.push_str(&rest[..start]);
        let after = &rest[start + 1..];
        match after.find('%') {
            Some(end) => match vars.get(&after[..end].to_ascii_lowercase()) {
                Some(value) => {
                    out.push_str(value);
                    rest = &after[end + 1..];
                }
                None => {
                    out.push('%');
                    rest = after;
                }
            },
            None => {
                out.push_str(&rest[start..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

/// Prefixes that put a path on the system drive, and the image folder each stands for.
const ROOTS: [(&str, &str); 5] = [
    ("c:\\", ""),
    ("%systemdrive%\\", ""),
    ("%windir%\\", "/Windows"),
    ("%systemroot%\\", "/Windows"),
    ("%~dp0", "\0script"),
];

fn find_paths(line: &str, script_dir: &str) -> Vec<Reference> {
    // ASCII lower-casing keeps byte offsets, so `lower` and `line` index alike; every
    // offset used to slice `line` is at an ASCII byte, hence a character boundary.
    let lower = line.to_ascii_lowercase();
    let bytes = line.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let here = lower.as_bytes().get(i..).unwrap_or_default();
        let Some((prefix, base)) = ROOTS.iter().find(|(p, _)| here.starts_with(p.as_bytes()))
        else {
            i += 1;
            continue;
        };
        let prev = if i == 0 {
            None
        } else {
            bytes.get(i - 1).copied()
        };
        if prev.is_some_and(|c| c.is_ascii_alphanumeric() || c == b'\\') {
            i += 1;
            continue;
        }
        // A path opened by a quote (double, or single inside a PowerShell command)
        // runs to the same quote and may hold spaces.
        let quote = prev.filter(|c| *c == b'"' || *c == b'\'').map(char::from);
        let end = line[i..]
            .find(|c: char| match quote {
                Some(q) => c == q,
                None => c.is_whitespace() || "\"'<>|&".contains(c),
            })
            .map_or(line.len(), |n| i + n);
        let written = &line[i..end];
        let before = line[..i].trim_end_matches(['"', '\'']);
        let is_output = before.trim_end().ends_with('>');
        // `/DIR=C:\Tools` or `/LOG="C:\x.log"`: a value handed to the installer, which
        // may well create it; only the installer knows, so it is not required.
        let is_option_value = before.ends_with('=');
        let base = if *base == "\0script" {
            script_dir
        } else {
            base
        };
        if !is_output && !is_option_value {
            if let Some(image_path) = to_image_path(base, &written[prefix.len()..]) {
                out.push(Reference {
                    written: written.to_string(),
                    image_path,
                });
            }
        }
        i = end.max(i + 1);
    }
    out
}

/// `base` + the Windows relative path `rest`, '/'-separated, `.`/`..` resolved, cut at
/// the first wildcard component (its folder is what must exist). `None` when nothing
/// is left to check (the drive root) or a variable remains that cannot be known.
fn to_image_path(base: &str, rest: &str) -> Option<String> {
    if rest.contains('%') {
        return None;
    }
    let mut parts: Vec<&str> = base.split('/').filter(|s| !s.is_empty()).collect();
    for part in rest.split(['\\', '/']) {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            p if p.contains(['*', '?']) => break,
            p => parts.push(p),
        }
    }
    if parts.is_empty() {
        return None;
    }
    Some(format!("/{}", parts.join("/")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn paths(refs: &[Reference]) -> Vec<&str> {
        refs.iter().map(|r| r.image_path.as_str()).collect()
    }

    const SCRIPT: &str = "@echo off\r\n\
rem Written for C:\\Nowhere\\at-all.txt\r\n\
setlocal\r\n\
set WAITLOG=%WINDIR%\\Temp\\WAIT-SetupComplete.log\r\n\
set PKGS=C:\\WAIT\\Packages\r\n\
echo [%DATE%] start C:\\Not\\Checked>>\"%WAITLOG%\"\r\n\
if exist \"%~dp0SetupComplete.base.cmd\" call \"%~dp0SetupComplete.base.cmd\">>\"%WAITLOG%\" 2>&1\r\n\
pnputil /add-driver \"C:\\WAIT\\Drivers\\*.inf\" /subdirs /install>>\"%WAITLOG%\" 2>&1\r\n\
dism /online /add-package /packagepath:\"%PKGS%\\Updates\\kb 1.msu\" /quiet>>\"%WAITLOG%\" 2>&1\r\n\
msiexec /i %SystemDrive%\\WAIT\\Software\\a.msi /qn > C:\\out.txt\r\n\
call %~dp0helper.cmd\r\n\
copy D:\\other\\x.txt %SystemRoot%\\System32\\..\\x.txt\r\n\
%WINDIR%\\System32\\cmd.exe /c %UNKNOWN%\\x.exe\r\n\
exit /b 0\r\n";

    #[test]
    fn script_paths_are_found_expanded_and_mapped() {
        let refs = script_references(SCRIPT, "/Windows/Setup/Scripts/SetupComplete.cmd");
        assert_eq!(
            paths(&refs),
            vec![
                "/WAIT/Drivers",
                "/WAIT/Packages/Updates/kb 1.msu",
                "/WAIT/Software/a.msi",
                "/Windows/Setup/Scripts/helper.cmd",
                "/Windows/x.txt",
                "/Windows/System32/cmd.exe",
            ]
        );
        assert_eq!(refs[0].written, r"C:\WAIT\Drivers\*.inf");
    }

    #[test]
    fn command_lines_are_read_like_script_lines() {
        let refs = command_references(
            r#"msiexec /i "C:\WAIT\Software\My App.msi" /qn /l*v c:\Windows\Temp\x.log"#,
        );
        assert_eq!(
            paths(&refs),
            vec!["/WAIT/Software/My App.msi", "/Windows/Temp/x.log"]
        );
        assert!(command_references(r"cmd /c abc:\x C:\").is_empty());
        let refs = command_references(
            r#"powershell -NoProfile -Command "Add-AppxProvisionedPackage -Online -PackagePath 'C:\WAIT\Software\My App.msix' -SkipLicense""#,
        );
        assert_eq!(paths(&refs), vec!["/WAIT/Software/My App.msix"]);
        // Values of NAME= switches belong to the installer (often folders it creates).
        let refs = command_references(
            r#""C:\WAIT\Software\t.exe" /VERYSILENT /DIR="C:\Tools" /LOG=C:\Logs\t.log"#,
        );
        assert_eq!(paths(&refs), vec!["/WAIT/Software/t.exe"]);
        // Text around a path may be any Unicode; offsets stay on character boundaries.
        let refs = command_references("copy \"C:\\Données\\été.txt\" «C:\\x»");
        assert_eq!(paths(&refs), vec!["/Données/été.txt", "/x»"]);
    }

    #[test]
    fn set_forms_are_understood() {
        assert_eq!(parse_set(" X=1"), Some(("X".into(), "1".into())));
        assert_eq!(
            parse_set(r#" "P=C:\a b" "#),
            Some(("P".into(), r"C:\a b".into()))
        );
        assert_eq!(parse_set(" /a N=1+1"), None);
        assert_eq!(parse_set(" =x"), None);
        let vars = HashMap::from([("p".to_string(), r"C:\x".to_string())]);
        assert_eq!(expand(r"%P%\y %Q% 50%", &vars), r"C:\x\y %Q% 50%");
    }
}

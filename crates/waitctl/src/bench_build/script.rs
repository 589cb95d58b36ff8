//! The reference: the same work done by hand in one bash script — copy the base,
//! `wimlib-imagex update` with the same drivers, installer and answer file at the same
//! image paths, export index 1 alone with the same compression, hash, verify.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

use anyhow::{Context, bail};

use super::fixture::{BenchRepo, SOFTWARE_FILE};

/// Each step prints `mark <name> <time>` after it, so step times come from the script
/// itself and exclude nothing but bash's own start.
const SCRIPT: &str = r#"set -euo pipefail
base=$1 work=$2 cmds=$3 comp=$4 out=$5 solid=$6
mark() { printf 'mark %s %s\n' "$1" "$EPOCHREALTIME"; }
mark start
cp -- "$base" "$work/copy.wim"
mark cp
wimlib-imagex update "$work/copy.wim" 1 < "$cmds" > /dev/null
mark update
wimlib-imagex export "$work/copy.wim" 1 "$work/$out" --compress="$comp" $solid > /dev/null
mark export
md5sum "$work/$out" > "$work/checksum.md5"
mark md5sum
sha256sum "$work/$out" > "$work/checksum.sha256"
mark sha256sum
wimlib-imagex verify "$work/$out" > /dev/null
mark verify
"#;

/// The script's `comp`, `out` and `solid` arguments for a job compression: ESD is LZMS
/// written solid, the way the build writes it.
fn script_format(compression: &str) -> [&str; 3] {
    match compression {
        "esd" => ["lzms", "install.esd", "--solid"],
        other => [other, "install.wim", ""],
    }
}

/// GNU time reports the peak RSS of the largest process it waited for (`%M`, KiB).
const GNU_TIME: &str = "/usr/bin/time";

#[derive(Debug, Clone)]
pub struct ScriptResult {
    /// The whole script, as seen from here.
    pub total: f64,
    /// (step, seconds) in script order: cp, update, export, md5sum, sha256sum, verify.
    pub steps: Vec<(String, f64)>,
    /// None when GNU time is not installed.
    pub peak_rss_kib: Option<u64>,
    pub image_size: u64,
}

impl ScriptResult {
    pub fn step(&self, name: &str) -> Option<f64> {
        self.steps.iter().find(|(n, _)| n == name).map(|(_, s)| *s)
    }
}

pub fn run(work: &Path, bench: &BenchRepo, compression: &str) -> anyhow::Result<ScriptResult> {
    std::fs::create_dir_all(work).with_context(|| format!("cannot create {}", work.display()))?;
    let cmds = work.join("update-commands.txt");
    let lines = [
        (
            bench.driver_dir.as_path(),
            wait_pipeline::IMAGE_DRIVER_ROOT.to_string(),
        ),
        (
            bench.software_path.as_path(),
            format!("/WAIT/Software/{SOFTWARE_FILE}"),
        ),
        (
            bench.answer_path.as_path(),
            wait_pipeline::IMAGE_UNATTEND_PATH.to_string(),
        ),
    ]
    .iter()
    .map(|(host, target)| Ok(format!("add {} {}\n", quoted(host)?, target)))
    .collect::<anyhow::Result<String>>()?;
    std::fs::write(&cmds, lines).with_context(|| format!("cannot write {}", cmds.display()))?;

    let rss_file = work.join("peak-rss.txt");
    let gnu_time = Path::new(GNU_TIME).is_file();
    let mut command = if gnu_time {
        let mut c = Command::new(GNU_TIME);
        c.args(["-f", "%M", "-o"]).arg(&rss_file).arg("bash");
        c
    } else {
        Command::new("bash")
    };
    command
        .args(["-c", SCRIPT, "bench-build"])
        .arg(&bench.base_path)
        .arg(work)
        .arg(&cmds)
        .args(script_format(compression))
        // EPOCHREALTIME uses the locale's decimal separator.
        .env("LC_ALL", "C")
        .stdin(Stdio::null());
    let started = Instant::now();
    let out = command.output().context("cannot run bash")?;
    let total = started.elapsed().as_secs_f64();
    if !out.status.success() {
        bail!(
            "the reference script failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    let steps = parse_marks(&String::from_utf8_lossy(&out.stdout))?;
    let peak_rss_kib = if gnu_time {
        let text = std::fs::read_to_string(&rss_file)
            .with_context(|| format!("cannot read {}", rss_file.display()))?;
        text.lines().last().and_then(|l| l.trim().parse().ok())
    } else {
        None
    };
    let image = work.join(script_format(compression)[1]);
    let image_size = std::fs::metadata(&image)
        .with_context(|| format!("cannot read {}", image.display()))?
        .len();
    Ok(ScriptResult {
        total,
        steps,
        peak_rss_kib,
        image_size,
    })
}

/// A host path in wimlib's update-command syntax.
fn quoted(path: &Path) -> anyhow::Result<String> {
    let text = path
        .to_str()
        .with_context(|| format!("{}: not UTF-8", path.display()))?;
    if text.contains(['"', '\n', '\r']) {
        bail!("{text}: a path with quotes or line breaks cannot go into an update command");
    }
    Ok(format!("\"{text}\""))
}

/// `mark <name> <seconds.micros>` lines → the time of each step since the mark before.
fn parse_marks(stdout: &str) -> anyhow::Result<Vec<(String, f64)>> {
    let mut marks = Vec::new();
    for line in stdout.lines() {
        let mut parts = line.split_whitespace();
        if parts.next() != Some("mark") {
            continue;
        }
        let (Some(name), Some(at)) = (parts.next(), parts.next()) else {
            bail!("reference script: malformed line {line:?}");
        };
        let at: f64 = at
            .parse()
            .with_context(|| format!("reference script: bad time in {line:?}"))?;
        marks.push((name.to_string(), at));
    }
    if marks.len() < 2 {
        bail!("reference script: no step times in its output");
    }
    Ok(marks
        .windows(2)
        .map(|w| (w[1].0.clone(), w[1].1 - w[0].1))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marks_become_step_times() {
        let steps =
            parse_marks("mark start 10.5\nnoise\nmark cp 11.0\nmark update 13.25\n").unwrap();
        assert_eq!(
            steps,
            vec![("cp".to_string(), 0.5), ("update".to_string(), 2.25)]
        );
    }

    #[test]
    fn malformed_marks_are_refused() {
        for bad in [
            "",
            "mark start 1\n",
            "mark start x\nmark cp 2\n",
            "mark start\n",
        ] {
            assert!(parse_marks(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn quotes_cannot_reach_the_update_commands() {
        assert_eq!(quoted(Path::new("/a b/c")).unwrap(), "\"/a b/c\"");
        assert!(quoted(Path::new("/a\"b")).is_err());
        assert!(quoted(Path::new("/a\nb")).is_err());
    }
}

//! The comparison table, our stage timings and the verdict against the goals, as text
//! or as JSON. Missed goals are reported, never turned into a failing exit code.

use serde::Serialize;

use super::ours::OursResult;
use super::script::ScriptResult;

/// Goal: our submit-to-Completed time at most this multiple of the script's.
pub const MAX_RATIO: f64 = 1.2;
/// Goal: the worker's peak RSS at most this many MiB.
pub const MAX_RSS_MIB: f64 = 300.0;

/// One row: the same kind of work on both sides (None where a side does not do it).
#[derive(Debug, Clone, Serialize)]
pub struct Row {
    pub step: &'static str,
    pub ours: Option<f64>,
    pub script: Option<f64>,
    pub ratio: Option<f64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct StageRow {
    pub stage: String,
    pub seconds: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub size_mib: u64,
    pub extra_mib: u64,
    pub compression: String,
    pub base_wim_bytes: u64,
    pub ours_image_bytes: u64,
    pub script_image_bytes: u64,
    pub rows: Vec<Row>,
    pub stages: Vec<StageRow>,
    pub script_steps: Vec<StageRow>,
    pub ours_peak_rss_kib: Option<u64>,
    pub script_peak_rss_kib: Option<u64>,
    pub ratio: f64,
    /// The script without its export step: `update` leaves the file as it is, with the
    /// base's old metadata kept, where the build (and the full script) rebuild it.
    pub script_in_place_total: Option<f64>,
    pub in_place_ratio: Option<f64>,
    pub time_goal_met: bool,
    pub rss_goal_met: bool,
}

/// Stages of ours grouped the way the script's steps are.
const RESOLVE: &[&str] = &["resolve"];
const STAGING: &[&str] = &[
    "source",
    "drivers",
    "packages",
    "software",
    "answer-file",
    "winre",
];
const WRITE: &[&str] = &["write"];
const SUMS: &[&str] = &["checksums"];
const PUBLISH: &[&str] = &["publish"];

pub struct Inputs<'a> {
    pub size_mib: u64,
    pub extra_mib: u64,
    pub compression: &'a str,
    pub base_wim_bytes: u64,
    pub ours: &'a OursResult,
    pub script: &'a ScriptResult,
}

pub fn build(i: &Inputs<'_>) -> Report {
    let (ours, script) = (i.ours, i.script);
    let stage_sum = |names: &[&str]| -> Option<f64> {
        let found: Vec<f64> = ours
            .timings
            .iter()
            .filter(|t| names.contains(&t.stage.as_str()))
            .map(|t| t.seconds)
            .collect();
        (!found.is_empty()).then(|| found.iter().sum())
    };
    let step_sum = |names: &[&str]| -> Option<f64> {
        let found: Vec<f64> = names.iter().filter_map(|n| script.step(n)).collect();
        (found.len() == names.len()).then(|| found.iter().sum())
    };
    let known: Vec<&str> = [RESOLVE, STAGING, WRITE, SUMS, PUBLISH].concat();
    let other: f64 = ours
        .timings
        .iter()
        .filter(|t| !known.contains(&t.stage.as_str()))
        .map(|t| t.seconds)
        .sum();
    let mut rows = vec![
        row("worker start + claim", ours.start, None),
        row("copy the base (cp)", None, script.step("cp")),
        row("resolve, hash inputs", stage_sum(RESOLVE), None),
        row("stage files, answer", stage_sum(STAGING), None),
        row(
            "update + export",
            stage_sum(WRITE),
            step_sum(&["update", "export"]),
        ),
        row(
            "MD5 + SHA-256",
            stage_sum(SUMS),
            step_sum(&["md5sum", "sha256sum"]),
        ),
        row(
            "publish + hand-off",
            match (stage_sum(PUBLISH), ours.handoff) {
                (None, None) => None,
                (a, b) => Some(a.unwrap_or(0.0) + b.unwrap_or(0.0)),
            },
            None,
        ),
    ];
    // Custom stages, or the ISO stage of a job that makes one.
    if other >= 0.005 {
        rows.push(row("other stages", Some(other), None));
    }
    rows.push(row(
        "validate / verify",
        ours.validation,
        script.step("verify"),
    ));
    rows.push(row("total", Some(ours.total), Some(script.total)));

    let ratio = ours.total / script.total.max(1e-9);
    let script_in_place_total = script.step("export").map(|e| script.total - e);
    let in_place_ratio = script_in_place_total.map(|t| ours.total / t.max(1e-9));
    let rss_goal_met = ours
        .peak_rss_kib
        .is_some_and(|k| k as f64 / 1024.0 <= MAX_RSS_MIB);
    Report {
        size_mib: i.size_mib,
        extra_mib: i.extra_mib,
        compression: i.compression.to_string(),
        base_wim_bytes: i.base_wim_bytes,
        ours_image_bytes: ours.image_size,
        script_image_bytes: script.image_size,
        rows,
        stages: ours
            .timings
            .iter()
            .map(|t| StageRow {
                stage: t.stage.clone(),
                seconds: t.seconds,
            })
            .collect(),
        script_steps: script
            .steps
            .iter()
            .map(|(s, t)| StageRow {
                stage: s.clone(),
                seconds: *t,
            })
            .collect(),
        ours_peak_rss_kib: ours.peak_rss_kib,
        script_peak_rss_kib: script.peak_rss_kib,
        ratio,
        script_in_place_total,
        in_place_ratio,
        time_goal_met: ratio <= MAX_RATIO,
        rss_goal_met,
    }
}

fn row(step: &'static str, ours: Option<f64>, script: Option<f64>) -> Row {
    let ratio = match (ours, script) {
        (Some(o), Some(s)) => Some(o / s.max(1e-9)),
        _ => None,
    };
    Row {
        step,
        ours,
        script,
        ratio,
    }
}

fn cell(v: Option<f64>) -> String {
    v.map_or_else(|| "-".to_string(), |v| format!("{v:.2}"))
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

fn rss(kib: Option<u64>) -> String {
    kib.map_or_else(
        || "not measured".to_string(),
        |k| format!("{:.0} MiB", k as f64 / 1024.0),
    )
}

fn verdict(met: bool) -> &'static str {
    if met { "met" } else { "goal missed" }
}

pub fn print_text(r: &Report) {
    println!(
        "build: {} MiB tree + {} MiB components, base WIM {:.0} MiB (LZX), output {} — ours {:.0} MiB, script {:.0} MiB",
        r.size_mib,
        r.extra_mib,
        mib(r.base_wim_bytes),
        r.compression,
        mib(r.ours_image_bytes),
        mib(r.script_image_bytes)
    );
    println!(
        "{:<22} {:>9} {:>9} {:>12}",
        "step", "ours s", "script s", "ours÷script"
    );
    for row in &r.rows {
        println!(
            "{:<22} {:>9} {:>9} {:>12}",
            row.step,
            cell(row.ours),
            cell(row.script),
            cell(row.ratio)
        );
    }
    let total: f64 = r.stages.iter().map(|s| s.seconds).sum::<f64>().max(1e-9);
    println!("our build stages (manifest.json timings):");
    for s in &r.stages {
        println!(
            "  {:<14} {:>8.2} s {:>5.1} %",
            s.stage,
            s.seconds,
            100.0 * s.seconds / total
        );
    }
    let steps: Vec<String> = r
        .script_steps
        .iter()
        .map(|s| format!("{} {:.2}", s.stage, s.seconds))
        .collect();
    println!("script steps (s): {}", steps.join(", "));
    println!(
        "peak RSS: ours {} (worker process), script {} (largest process)",
        rss(r.ours_peak_rss_kib),
        rss(r.script_peak_rss_kib)
    );
    println!(
        "goal time: ours ÷ script = {:.2} (≤ {MAX_RATIO:.2}): {}",
        r.ratio,
        verdict(r.time_goal_met)
    );
    if let (Some(t), Some(q)) = (r.script_in_place_total, r.in_place_ratio) {
        println!(
            "for reference, the script without its export (the update left in place, \
             unreferenced data kept): {t:.2} s; ours ÷ that = {q:.2}"
        );
    }
    println!(
        "goal memory: ours {} (≤ {MAX_RSS_MIB:.0} MiB): {}",
        rss(r.ours_peak_rss_kib),
        verdict(r.rss_goal_met)
    );
}

pub fn print_json(r: &Report) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(r)?);
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use wait_pipeline::StageTiming;

    use super::*;

    fn timing(stage: &str, seconds: f64) -> StageTiming {
        StageTiming {
            stage: stage.into(),
            seconds,
        }
    }

    #[test]
    fn stages_are_grouped_against_the_matching_script_steps() {
        let ours = OursResult {
            total: 12.0,
            start: Some(0.5),
            validation: Some(3.0),
            handoff: Some(0.25),
            timings: vec![
                timing("resolve", 1.0),
                timing("source", 0.25),
                timing("winre", 0.25),
                timing("write", 4.0),
                timing("iso", 0.5),
                timing("checksums", 2.0),
                timing("publish", 0.5),
            ],
            peak_rss_kib: Some(400 * 1024),
            image_size: 1,
            output_dir: PathBuf::new(),
        };
        let script = ScriptResult {
            total: 10.0,
            steps: ["cp", "update", "export", "md5sum", "sha256sum", "verify"]
                .iter()
                .zip([1.0, 2.0, 3.0, 1.5, 0.5, 2.0])
                .map(|(s, t)| ((*s).to_string(), t))
                .collect(),
            peak_rss_kib: None,
            image_size: 1,
        };
        let r = build(&Inputs {
            size_mib: 1,
            extra_mib: 1,
            compression: "lzx",
            base_wim_bytes: 1,
            ours: &ours,
            script: &script,
        });
        let get = |step: &str| {
            r.rows
                .iter()
                .find(|row| row.step == step)
                .unwrap_or_else(|| panic!("no row {step}"))
                .clone()
        };
        assert_eq!(get("update + export").script, Some(5.0));
        assert_eq!(get("update + export").ratio, Some(0.8));
        assert_eq!(get("MD5 + SHA-256").script, Some(2.0));
        assert_eq!(get("MD5 + SHA-256").ours, Some(2.0));
        assert_eq!(get("stage files, answer").ours, Some(0.5));
        assert_eq!(get("other stages").ours, Some(0.5));
        assert_eq!(get("publish + hand-off").ours, Some(0.75));
        assert_eq!(get("copy the base (cp)").ours, None);
        assert_eq!(get("total").ratio, Some(1.2));
        assert_eq!(r.script_in_place_total, Some(7.0));
        assert_eq!(r.in_place_ratio, Some(12.0 / 7.0));
        assert!(r.time_goal_met, "1.2 is within the goal");
        assert!(!r.rss_goal_met, "400 MiB is over the goal");
    }
}

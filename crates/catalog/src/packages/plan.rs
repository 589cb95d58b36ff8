//! Checkpoint cumulative updates. From Windows 11 24H2 on, a cumulative update may need
//! an earlier "checkpoint" update installed first; DISM finds checkpoints in the folder it
//! is given, so WAIT stages the target together with its checkpoints and nothing newer
//! (SERVICING.md, "Packages": KB5043080 = 26100.1742 is the checkpoint of 26100).

use serde::Serialize;

use super::{PackageInfo, fit::servicing_baseline};

/// A checkpoint: updates of the same servicing baseline with a newer revision need it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Checkpoint {
    /// Servicing baseline build.
    pub build: u32,
    pub kb: &'static str,
    /// The checkpoint's own revision (26100.**1742**).
    pub revision: u32,
}

/// Known checkpoints, oldest first. Source: SERVICING.md, "Packages".
pub const CHECKPOINTS: &[Checkpoint] = &[Checkpoint {
    build: 26100,
    kb: "KB5043080",
    revision: 1742,
}];

/// What to stage for one selected update.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PlannedUpdate {
    /// The selected file.
    pub file: String,
    pub kb: Option<String>,
    /// Files of the checkpoints it needs, oldest first, found among `available`.
    pub checkpoints: Vec<String>,
    /// Everything to put in its DISM folder: the checkpoints, then the update itself.
    pub stage: Vec<String>,
}

/// A checkpoint an update needs that is not among the available files.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MissingCheckpoint {
    /// The update that needs it.
    pub for_file: String,
    pub kb: String,
    /// `26100.1742`.
    pub version: String,
}

/// The staging plan for a set of selected updates.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UpdatePlan {
    pub updates: Vec<PlannedUpdate>,
    pub missing: Vec<MissingCheckpoint>,
    /// Assumptions made (for instance an update whose revision is unknown).
    pub notes: Vec<String>,
}

fn same_kb(a: Option<&str>, b: &str) -> bool {
    a.is_some_and(|a| a.eq_ignore_ascii_case(b))
}

/// The revision of `info`, taking a checkpoint's from the table when its file did not say.
fn revision_of(info: &PackageInfo) -> Option<u32> {
    info.revision.or_else(|| {
        CHECKPOINTS
            .iter()
            .find(|c| same_kb(info.kb.as_deref(), c.kb))
            .map(|c| c.revision)
    })
}

/// For each selected cumulative update, the checkpoints it needs, found among
/// `available` (the files of the same folder). A checkpoint is needed when the update
/// belongs to the checkpoint's servicing baseline and its revision is newer; an update
/// whose revision is unknown is assumed to need every checkpoint of its baseline (said in
/// `notes`). Only checkpoints older than the target are ever staged.
pub fn plan_updates(selected: &[PackageInfo], available: &[PackageInfo]) -> UpdatePlan {
    let mut plan = UpdatePlan {
        updates: Vec::new(),
        missing: Vec::new(),
        notes: Vec::new(),
    };
    for target in selected {
        let mut step = PlannedUpdate {
            file: target.file.clone(),
            kb: target.kb.clone(),
            checkpoints: Vec::new(),
            stage: Vec::new(),
        };
        if !target.is_language_pack {
            if let Some(build) = target.build {
                let base = servicing_baseline(build);
                let revision = revision_of(target);
                for cp in CHECKPOINTS
                    .iter()
                    .filter(|c| servicing_baseline(c.build) == base)
                {
                    if same_kb(target.kb.as_deref(), cp.kb) {
                        continue;
                    }
                    match revision {
                        Some(r) if r <= cp.revision => continue,
                        Some(_) => {}
                        None => plan.notes.push(format!(
                            "{}: revision unknown; assumed newer than checkpoint {} ({}.{})",
                            target.file, cp.kb, cp.build, cp.revision
                        )),
                    }
                    let found = available.iter().find(|a| {
                        same_kb(a.kb.as_deref(), cp.kb)
                            && (a.arch.is_none() || a.arch == target.arch)
                    });
                    match found {
                        Some(f) => step.checkpoints.push(f.file.clone()),
                        None => plan.missing.push(MissingCheckpoint {
                            for_file: target.file.clone(),
                            kb: cp.kb.to_string(),
                            version: format!("{}.{}", cp.build, cp.revision),
                        }),
                    }
                }
            }
        }
        step.stage = step.checkpoints.clone();
        step.stage.push(target.file.clone());
        plan.updates.push(step);
    }
    plan
}

//! Boards and their driver sets under `2_Drivers/<board>/<set>/<category>/`.

use crate::token::DriverToken;
use crate::{
    CatalogError, DriverSet, ImageIdentity, Recommendation, Repository, Result, paths, walk,
};

const FIELD: &str = "motherboard_model";

pub(crate) fn motherboards(repo: &Repository) -> Result<Vec<String>> {
    let dir = repo.root().join("2_Drivers");
    if !dir.is_dir() {
        return Ok(Vec::new());
    }
    walk::subdirs(&dir)
}

pub(crate) fn driver_sets(repo: &Repository, board: &str) -> Result<Vec<DriverSet>> {
    paths::validate_name(FIELD, board)?;
    let board_dir = repo.resolve(FIELD, "2_Drivers", board)?;
    if !board_dir.is_dir() {
        return Err(CatalogError::NotFound {
            field: FIELD,
            name: board.to_string(),
        });
    }
    let mut sets = Vec::new();
    for name in walk::subdirs(&board_dir)? {
        let dir = board_dir.join(&name);
        let categories = walk::subdirs(&dir)?;
        let files = walk::files(&dir)?;
        sets.push(DriverSet {
            board: board.to_string(),
            path: format!("2_Drivers/{board}/{name}"),
            name,
            categories,
            inf_count: files
                .iter()
                .filter(|f| walk::has_extension(&f.rel, "inf"))
                .count(),
            file_count: files.len(),
            total_size: files.iter().map(|f| f.size).sum(),
        });
    }
    Ok(sets)
}

/// The most specific set whose token fits the image; sets whose name is not a token are
/// ignored. Between sets of equal token score, the one with more INFs that apply to the
/// image (as counted by `applicable`) wins; on a full tie the first set in name order.
pub(crate) fn recommend(
    sets: Vec<DriverSet>,
    image: &ImageIdentity,
    applicable: impl Fn(&DriverSet) -> usize,
) -> Option<Recommendation> {
    let mut best: Option<((u32, usize), String, DriverSet)> = None;
    for set in sets {
        let Ok(token) = DriverToken::parse(&set.name) else {
            continue;
        };
        let Ok(fit) = token.fit(&set.name, image) else {
            continue;
        };
        let rank = (fit.score, applicable(&set));
        if best
            .as_ref()
            .is_none_or(|(best_rank, _, _)| rank > *best_rank)
        {
            best = Some((rank, fit.reason, set));
        }
    }
    best.map(|(_, reason, driver_set)| Recommendation { driver_set, reason })
}

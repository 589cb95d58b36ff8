//! Motherboard search: find `X13SAW` when someone types `x13 saw`, `X13-SAW` or `x31saw`.
//!
//! # Scoring
//!
//! Both the query and each board are *normalised* first: lower case, with spaces, `-` and
//! `_` removed (people write board names with and without separators). Then, on the
//! normalised strings `q` and `b`:
//!
//! * `q == b` → **1.0** (the only way to reach 1.0).
//! * Otherwise the *typo score* is `0.5 · DL(q, b) + 0.5 · JW(q, b)`, where `DL` is the
//!   normalised Damerau-Levenshtein similarity (`1 − edits / longer length`, so a swapped
//!   pair of characters costs one edit) and `JW` the Jaro-Winkler similarity (which
//!   rewards a shared beginning, the part of a board name that names the family).
//! * If `b` starts with `q` the *prefix score* is `0.9 + 0.09 · |q| / |b|`; else if `b`
//!   contains `q` the *substring score* is `0.7 + 0.1 · |q| / |b|`.
//! * The score is the largest of these, capped at 0.99 so an exact match always ranks
//!   first.
//!
//! Boards scoring below [`MIN_SCORE`] are left out. Results are sorted by score, then by
//! name (case-insensitive), so equal scores come out in a stable order.
//!
//! An empty query (nothing left after normalising) lists every board alphabetically with
//! score 0. A `limit` of 0 means "no limit".

use serde::Serialize;

/// One search result.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BoardMatch {
    /// The board as spelled in the repository (or as registered).
    pub model: String,
    /// Similarity in 0–1; 1.0 only for an exact match after normalising.
    pub score: f64,
}

/// Results scoring below this are dropped: below it, two board names share little more
/// than their length.
pub const MIN_SCORE: f64 = 0.45;

/// Highest score a non-exact match can get.
const MAX_INEXACT: f64 = 0.99;

/// Lower case without spaces, `-` and `_`.
pub fn normalize_board(name: &str) -> String {
    name.chars()
        .filter(|c| !c.is_whitespace() && *c != '-' && *c != '_')
        .flat_map(char::to_lowercase)
        .collect()
}

/// How well the normalised query `q` matches the normalised board `b` (both non-empty).
fn score(q: &str, b: &str) -> f64 {
    if q == b {
        return 1.0;
    }
    let typo =
        0.5 * strsim::normalized_damerau_levenshtein(q, b) + 0.5 * strsim::jaro_winkler(q, b);
    // Lengths in characters: board names may hold non-ASCII letters.
    let ratio = q.chars().count() as f64 / b.chars().count().max(1) as f64;
    let containment = if b.starts_with(q) {
        0.9 + 0.09 * ratio
    } else if b.contains(q) {
        0.7 + 0.1 * ratio
    } else {
        0.0
    };
    typo.max(containment).min(MAX_INEXACT)
}

/// Rank `candidates` against `query`, best first; see the module documentation for the
/// formula. Candidates equal without case are reported once (the first spelling wins).
pub fn search_boards(query: &str, candidates: &[String], limit: usize) -> Vec<BoardMatch> {
    let mut seen = std::collections::HashSet::new();
    let unique: Vec<&String> = candidates
        .iter()
        .filter(|c| !c.trim().is_empty())
        .filter(|c| seen.insert(c.to_lowercase()))
        .collect();
    let q = normalize_board(query);
    let mut out: Vec<BoardMatch> = if q.is_empty() {
        unique
            .into_iter()
            .map(|model| BoardMatch {
                model: model.clone(),
                score: 0.0,
            })
            .collect()
    } else {
        unique
            .into_iter()
            .filter_map(|model| {
                let b = normalize_board(model);
                if b.is_empty() {
                    return None;
                }
                let score = score(&q, &b);
                (score >= MIN_SCORE).then(|| BoardMatch {
                    model: model.clone(),
                    score,
                })
            })
            .collect()
    };
    out.sort_by(|a, b| {
        b.score
            .total_cmp(&a.score)
            .then_with(|| a.model.to_lowercase().cmp(&b.model.to_lowercase()))
            .then_with(|| a.model.cmp(&b.model))
    });
    if limit > 0 {
        out.truncate(limit);
    }
    out
}

/// Folder boards followed by `extra` ones, without duplicates that differ only in case
/// (the folder spelling wins: it is the one paths are built from).
pub(crate) fn merge_boards(folders: Vec<String>, extra: &[String]) -> Vec<String> {
    let mut seen: std::collections::HashSet<String> =
        folders.iter().map(|b| b.to_lowercase()).collect();
    let mut out = folders;
    for board in extra {
        let board = board.trim();
        if !board.is_empty() && seen.insert(board.to_lowercase()) {
            out.push(board.to_string());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn boards() -> Vec<String> {
        [
            "X13SAW", "X13SRN", "X12STW", "X11SPW", "A2SDV", "H13SSL", "X13SEI", "M11SDV",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect()
    }

    fn rank(query: &str) -> Vec<BoardMatch> {
        search_boards(query, &boards(), 0)
    }

    fn position(results: &[BoardMatch], model: &str) -> Option<usize> {
        results.iter().position(|m| m.model == model)
    }

    #[test]
    fn normalising_ignores_case_spaces_dashes_and_underscores() {
        for (input, want) in [
            ("X13SAW", "x13saw"),
            ("x13 saw", "x13saw"),
            ("X13-SAW", "x13saw"),
            ("x13_saw", "x13saw"),
            ("  X 1 3-s_a w ", "x13saw"),
            ("", ""),
            (" - _ ", ""),
        ] {
            assert_eq!(normalize_board(input), want, "{input:?}");
        }
    }

    #[test]
    fn exact_spellings_score_one_and_come_first() {
        for query in [
            "x13saw",
            "X13SAW",
            "X13-SAW",
            "x13_saw",
            "x13 saw",
            " X13 - SAW ",
        ] {
            let results = rank(query);
            assert_eq!(results[0].model, "X13SAW", "{query:?}: {results:?}");
            assert_eq!(results[0].score, 1.0, "{query:?}");
            assert!(results[1..].iter().all(|m| m.score < 1.0), "{query:?}");
        }
    }

    #[test]
    fn table_of_expected_rankings() {
        // (query, board expected at or above `within` (0-based), board that must rank
        // below it, if any)
        let cases: &[(&str, &str, usize, Option<&str>)] = &[
            ("x13 saw", "X13SAW", 0, Some("X13SRN")),
            ("x13sa", "X13SAW", 0, Some("X13SRN")),
            ("x13s", "X13SEI", 2, Some("X12STW")),
            ("x31saw", "X13SAW", 1, Some("A2SDV")),
            ("x13sow", "X13SAW", 1, Some("M11SDV")),
            ("X13SAWW", "X13SAW", 0, Some("X13SRN")),
            ("h13", "H13SSL", 0, None),
            ("a2sdv", "A2SDV", 0, None),
        ];
        for &(query, board, within, below) in cases {
            let results = rank(query);
            let at = position(&results, board)
                .unwrap_or_else(|| panic!("{query:?}: {board} missing from {results:?}"));
            assert!(at <= within, "{query:?}: {board} at {at}: {results:?}");
            if let Some(other) = below {
                if let Some(other_at) = position(&results, other) {
                    assert!(
                        other_at > at,
                        "{query:?}: {other} above {board}: {results:?}"
                    );
                }
            }
            for m in &results {
                assert!((0.0..=1.0).contains(&m.score), "{m:?}");
            }
        }
    }

    #[test]
    fn prefix_outranks_typo_and_scores_stay_below_one() {
        let results = rank("x13sa");
        assert_eq!(results[0].model, "X13SAW");
        assert!(results[0].score >= 0.9 && results[0].score < 1.0);
    }

    #[test]
    fn equal_scores_come_out_alphabetically() {
        let list: Vec<String> = ["X13SAW", "X13SAE"].iter().map(|s| s.to_string()).collect();
        let results = search_boards("x13sa", &list, 0);
        assert_eq!(results[0].score, results[1].score);
        assert_eq!(results[0].model, "X13SAE");
    }

    #[test]
    fn unrelated_query_finds_nothing() {
        assert!(rank("zzzzqqq").is_empty());
    }

    #[test]
    fn empty_query_lists_all_alphabetically_with_score_zero() {
        for query in ["", "   ", "-_"] {
            let results = rank(query);
            let models: Vec<&str> = results.iter().map(|m| m.model.as_str()).collect();
            let mut sorted = models.clone();
            sorted.sort_by_key(|m| m.to_lowercase());
            assert_eq!(models, sorted);
            assert_eq!(results.len(), boards().len());
            assert!(results.iter().all(|m| m.score == 0.0));
        }
    }

    #[test]
    fn limit_truncates_and_zero_means_all() {
        assert_eq!(search_boards("", &boards(), 3).len(), 3);
        assert_eq!(search_boards("x1", &boards(), 2).len(), 2);
        assert_eq!(search_boards("", &boards(), 0).len(), boards().len());
    }

    #[test]
    fn duplicates_differing_in_case_are_reported_once() {
        let list = vec!["X13SAW".to_string(), "x13saw".to_string(), "".to_string()];
        let results = search_boards("x13saw", &list, 0);
        assert_eq!(results.len(), 1);
        assert_eq!(results[0].model, "X13SAW");
        let merged = merge_boards(
            vec!["X13SAW".into()],
            &["x13saw".into(), "NEWBOARD".into(), " ".into()],
        );
        assert_eq!(merged, vec!["X13SAW".to_string(), "NEWBOARD".to_string()]);
    }

    #[test]
    fn odd_input_never_panics() {
        let list = vec![
            "Ünïcödé-板".to_string(),
            "\u{0}".to_string(),
            "X".repeat(300),
        ];
        for query in ["ü", "板", "\u{0}", &"x".repeat(1000), "🦀"] {
            let _ = search_boards(query, &list, 5);
        }
    }
}

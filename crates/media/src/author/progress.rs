//! Progress reports of authoring and the parsers for the tools' progress lines.

use serde::{Deserialize, Serialize};

/// Which step a progress report is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuthorStage {
    /// Splitting the install image into SWM parts (ISO 9660-only output).
    Split,
    /// Writing the ISO file.
    Write,
}

/// One progress report: `percent` (0–100) of the named stage.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct AuthorProgress {
    pub stage: AuthorStage,
    pub percent: f64,
}

/// genisoimage prints ` 31.64% done, estimate finish …` on stderr.
pub(crate) fn genisoimage_percent(line: &str) -> Option<f64> {
    let (before, _) = line.split_once("% done")?;
    parse_percent(before.rsplit(char::is_whitespace).next()?)
}

fn parse_percent(text: &str) -> Option<f64> {
    let value: f64 = text.trim().parse().ok()?;
    (0.0..=100.0).contains(&value).then_some(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_genisoimage_lines() {
        assert_eq!(
            genisoimage_percent(" 31.64% done, estimate finish Thu Nov 26 05:43:11 2026"),
            Some(31.64)
        );
        assert_eq!(genisoimage_percent("100.00% done"), Some(100.0));
        assert_eq!(
            genisoimage_percent("Total translation table size: 2048"),
            None
        );
        assert_eq!(genisoimage_percent("abc% done"), None);
        assert_eq!(genisoimage_percent("250% done"), None);
    }
}

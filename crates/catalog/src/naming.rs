//! Output folder names: `<YYYYMMDD_HHMMSS>_<board>`, as the seed's users know them.

use time::OffsetDateTime;
use time::macros::format_description;

/// The folder name for a build of `board` started at `at` (UTC: build hosts in different
/// time zones must agree on one clock).
pub fn output_folder_name(at: OffsetDateTime, board: &str) -> String {
    let fmt = format_description!("[year][month][day]_[hour][minute][second]");
    let stamp = at
        .to_offset(time::UtcOffset::UTC)
        .format(&fmt)
        .unwrap_or_else(|_| "00000000_000000".to_string());
    format!("{stamp}_{board}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folder_name_has_seed_layout() {
        let at = time::macros::datetime!(2025-01-11 14:30:00 UTC);
        assert_eq!(output_folder_name(at, "X13SAV"), "20250111_143000_X13SAV");
    }

    #[test]
    fn folder_name_uses_utc() {
        let at = time::macros::datetime!(2025-01-11 14:30:00 +08:00);
        assert_eq!(output_folder_name(at, "B"), "20250111_063000_B");
    }
}

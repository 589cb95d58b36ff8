//! The parts of HTTP range requests and validators a resumable download needs: one
//! `Range: bytes=…` range, `If-Range`, `If-None-Match`, and HTTP dates.
//!
//! Several ranges in one request are answered with the whole file: a download client
//! resumes with one range, and RFC 9110 lets a server ignore `Range`.

use time::format_description::BorrowedFormatItem;
use time::macros::format_description;
use time::{OffsetDateTime, PrimitiveDateTime};

/// IMF-fixdate, the one HTTP date format servers send: `Sun, 06 Nov 1994 08:49:37 GMT`.
const HTTP_DATE: &[BorrowedFormatItem<'static>] = format_description!(
    "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
);

/// First and last byte of a satisfiable range, both inclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ByteRange {
    pub start: u64,
    pub end: u64,
}

impl ByteRange {
    /// Number of bytes in the range (never zero).
    pub fn byte_count(&self) -> u64 {
        self.end - self.start + 1
    }

    /// The `Content-Range` value for a file of `total` bytes.
    pub fn content_range(&self, total: u64) -> String {
        format!("bytes {}-{}/{total}", self.start, self.end)
    }
}

/// What to answer a `Range` header with, for a file of a given length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RangeAnswer {
    /// 200 with the whole file: no usable single range was asked for.
    Full,
    /// 206 with this range.
    Partial(ByteRange),
    /// 416: the range starts at or after the end of the file.
    Unsatisfiable,
}

/// Interpret a `Range` header for a file of `len` bytes. Other units, several ranges
/// and malformed ranges give `Full` (the header is ignored, as RFC 9110 allows).
pub fn parse_range(header: &str, len: u64) -> RangeAnswer {
    let Some((unit, set)) = header.trim().split_once('=') else {
        return RangeAnswer::Full;
    };
    if !unit.trim().eq_ignore_ascii_case("bytes") || set.contains(',') {
        return RangeAnswer::Full;
    }
    let Some((first, last)) = set.trim().split_once('-') else {
        return RangeAnswer::Full;
    };
    let (first, last) = (first.trim(), last.trim());
    match (number(first), number(last)) {
        // `-n`: the last n bytes.
        (None, Some(n)) if first.is_empty() => {
            if n == 0 || len == 0 {
                RangeAnswer::Unsatisfiable
            } else {
                RangeAnswer::Partial(ByteRange {
                    start: len.saturating_sub(n),
                    end: len - 1,
                })
            }
        }
        // `a-` and `a-b`.
        (Some(a), b) if b.is_some() || last.is_empty() => {
            if b.is_some_and(|b| b < a) {
                RangeAnswer::Full
            } else if a >= len {
                RangeAnswer::Unsatisfiable
            } else {
                let end = b.map_or(len - 1, |b| b.min(len - 1));
                RangeAnswer::Partial(ByteRange { start: a, end })
            }
        }
        _ => RangeAnswer::Full,
    }
}

/// Digits only (no sign, no spaces inside); None for anything else, including overflow.
fn number(s: &str) -> Option<u64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// Whether an `If-None-Match` header matches `etag` (weak comparison, `*` matches any).
pub fn none_match_hits(header: &str, etag: &str) -> bool {
    let ours = opaque(etag);
    header
        .split(',')
        .map(str::trim)
        .any(|tag| tag == "*" || opaque(tag) == ours)
}

/// Whether an `If-Range` header lets the range through: a strong match of the entity
/// tag, or exactly the `Last-Modified` date. Anything else (weak tags, other dates,
/// junk) means the client's copy is stale, so the whole file is sent.
pub fn if_range_holds(header: &str, etag: &str, last_modified: OffsetDateTime) -> bool {
    let header = header.trim();
    if header.starts_with('"') {
        return header == etag;
    }
    if header.starts_with("W/") {
        return false;
    }
    parse_http_date(header).is_some_and(|date| date == truncate_to_second(last_modified))
}

/// The opaque part of an entity tag, without a `W/` prefix.
fn opaque(tag: &str) -> &str {
    tag.strip_prefix("W/").unwrap_or(tag)
}

/// `t` as an HTTP date (seconds precision, GMT).
pub fn http_date(t: OffsetDateTime) -> String {
    t.to_offset(time::UtcOffset::UTC)
        .format(HTTP_DATE)
        .unwrap_or_default()
}

/// An IMF-fixdate; the two obsolete formats are not accepted (a client echoes what the
/// server sent).
pub fn parse_http_date(s: &str) -> Option<OffsetDateTime> {
    PrimitiveDateTime::parse(s.trim(), HTTP_DATE)
        .ok()
        .map(PrimitiveDateTime::assume_utc)
}

/// HTTP dates carry whole seconds, so comparisons drop the rest.
pub fn truncate_to_second(t: OffsetDateTime) -> OffsetDateTime {
    t.to_offset(time::UtcOffset::UTC)
        .replace_nanosecond(0)
        .unwrap_or(t)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn part(start: u64, end: u64) -> RangeAnswer {
        RangeAnswer::Partial(ByteRange { start, end })
    }

    #[test]
    fn single_ranges_of_every_form_are_resolved_against_the_length() {
        let cases = [
            ("bytes=0-0", part(0, 0)),
            ("bytes=0-99", part(0, 99)),
            ("bytes=10-19", part(10, 19)),
            ("bytes=90-", part(90, 99)),
            ("bytes=90-1000", part(90, 99)),
            ("bytes=-1", part(99, 99)),
            ("bytes=-10", part(90, 99)),
            ("bytes=-1000", part(0, 99)),
            ("BYTES = 5-6", part(5, 6)),
            ("bytes=100-", RangeAnswer::Unsatisfiable),
            ("bytes=100-200", RangeAnswer::Unsatisfiable),
            ("bytes=-0", RangeAnswer::Unsatisfiable),
        ];
        for (header, want) in cases {
            assert_eq!(parse_range(header, 100), want, "{header}");
        }
        assert_eq!(part(10, 19), parse_range("bytes=10-19", 100));
        assert_eq!(ByteRange { start: 10, end: 19 }.byte_count(), 10);
        assert_eq!(
            ByteRange { start: 10, end: 19 }.content_range(100),
            "bytes 10-19/100"
        );
        assert_eq!(parse_range("bytes=0-", 0), RangeAnswer::Unsatisfiable);
        assert_eq!(parse_range("bytes=-5", 0), RangeAnswer::Unsatisfiable);
    }

    #[test]
    fn malformed_and_multiple_ranges_are_ignored() {
        for header in [
            "",
            "bytes",
            "bytes=",
            "bytes=-",
            "bytes=a-b",
            "bytes=5-4",
            "bytes=+1-2",
            "bytes=1-2-3",
            "bytes=0-1,5-6",
            "items=0-1",
            "bytes=99999999999999999999-",
            "bytes= 1 2-3",
        ] {
            assert_eq!(parse_range(header, 100), RangeAnswer::Full, "{header:?}");
        }
    }

    #[test]
    fn if_none_match_compares_weakly_and_if_range_strongly() {
        let etag = "\"abc\"";
        assert!(none_match_hits("\"abc\"", etag));
        assert!(none_match_hits("W/\"abc\"", etag));
        assert!(none_match_hits("\"x\", \"abc\"", etag));
        assert!(none_match_hits("*", etag));
        assert!(!none_match_hits("\"abd\"", etag));

        let modified = datetime!(2025-03-04 05:06:07.5 UTC);
        assert!(if_range_holds("\"abc\"", etag, modified));
        assert!(!if_range_holds("W/\"abc\"", etag, modified));
        assert!(!if_range_holds("\"other\"", etag, modified));
        assert!(if_range_holds(
            "Tue, 04 Mar 2025 05:06:07 GMT",
            etag,
            modified
        ));
        assert!(!if_range_holds(
            "Tue, 04 Mar 2025 05:06:08 GMT",
            etag,
            modified
        ));
        assert!(!if_range_holds("yesterday", etag, modified));
    }

    #[test]
    fn http_dates_round_trip() {
        let t = datetime!(1994-11-06 08:49:37 UTC);
        assert_eq!(http_date(t), "Sun, 06 Nov 1994 08:49:37 GMT");
        assert_eq!(parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"), Some(t));
        assert_eq!(parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT"), None);
    }
}

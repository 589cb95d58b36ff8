//! Query parameters read into values, with 400 answers that name the parameter. Handlers
//! take their query as `Option<String>` fields and parse them here, so a wrong value is
//! reported by name instead of as an unreadable query string.

use std::borrow::Cow;
use std::ops::RangeInclusive;

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::error::ApiError;

/// Longest free-text parameter accepted (search text, names used as filters).
pub(crate) const MAX_TEXT_LEN: usize = 200;

/// 400 `invalid_query` naming `field`.
pub(crate) fn invalid(field: &'static str, message: impl Into<Cow<'static, str>>) -> ApiError {
    ApiError::bad_request("invalid_query", message).with_field(field)
}

/// The value when the parameter is present and not blank.
pub(crate) fn present(value: Option<&str>) -> Option<&str> {
    value.map(str::trim).filter(|v| !v.is_empty())
}

/// A parameter the request cannot do without: 400 `missing_parameter` when absent or blank.
pub(crate) fn required<'a>(
    field: &'static str,
    value: Option<&'a str>,
) -> Result<&'a str, ApiError> {
    present(value).ok_or_else(|| {
        ApiError::bad_request("missing_parameter", format!("{field} is required")).with_field(field)
    })
}

/// Free text of at most [`MAX_TEXT_LEN`] characters without control characters.
pub(crate) fn text(field: &'static str, value: Option<&str>) -> Result<Option<String>, ApiError> {
    let Some(value) = present(value) else {
        return Ok(None);
    };
    if value.chars().count() > MAX_TEXT_LEN {
        return Err(invalid(
            field,
            format!("{field} is longer than {MAX_TEXT_LEN} characters"),
        ));
    }
    if value.chars().any(char::is_control) {
        return Err(invalid(
            field,
            format!("{field} contains a control character"),
        ));
    }
    Ok(Some(value.to_string()))
}

/// A whole number in `range`; `default` when absent.
pub(crate) fn int_in(
    field: &'static str,
    value: Option<&str>,
    range: RangeInclusive<i64>,
    default: i64,
) -> Result<i64, ApiError> {
    let Some(value) = present(value) else {
        return Ok(default);
    };
    value
        .parse::<i64>()
        .ok()
        .filter(|n| range.contains(n))
        .ok_or_else(|| {
            invalid(
                field,
                format!(
                    "{field} must be a whole number from {} to {}",
                    range.start(),
                    range.end()
                ),
            )
        })
}

/// `true` or `false`; false when absent.
pub(crate) fn flag(field: &'static str, value: Option<&str>) -> Result<bool, ApiError> {
    match present(value) {
        None | Some("false") => Ok(false),
        Some("true") => Ok(true),
        Some(_) => Err(invalid(field, format!("{field} must be true or false"))),
    }
}

/// An RFC 3339 instant such as `2025-01-31T08:00:00Z`.
pub(crate) fn instant(
    field: &'static str,
    value: Option<&str>,
) -> Result<Option<OffsetDateTime>, ApiError> {
    present(value)
        .map(|v| {
            OffsetDateTime::parse(v, &Rfc3339).map_err(|_| {
                invalid(
                    field,
                    format!("{field} must be an RFC 3339 time such as 2025-01-31T08:00:00Z"),
                )
            })
        })
        .transpose()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field_of(e: ApiError) -> (u16, String) {
        (e.status().as_u16(), e.field().unwrap_or("").to_string())
    }

    #[test]
    fn malformed_values_are_400_naming_the_parameter() {
        for bad in ["x", "1.5", "-1", "1001", "9999999999999999999999"] {
            let e = int_in("limit", Some(bad), 1..=1000, 100).expect_err(bad);
            assert_eq!(field_of(e), (400, "limit".to_string()), "{bad}");
        }
        for bad in ["yes", "1", "TRUE "] {
            let e = flag("purge_output", Some(bad)).expect_err(bad);
            assert_eq!(field_of(e), (400, "purge_output".to_string()), "{bad}");
        }
        for bad in [
            "yesterday",
            "2025-01-31",
            "2025-01-31 08:00:00",
            "2025-13-01T00:00:00Z",
        ] {
            let e = instant("since", Some(bad)).expect_err(bad);
            assert_eq!(field_of(e), (400, "since".to_string()), "{bad}");
        }
        let long = "x".repeat(MAX_TEXT_LEN + 1);
        for bad in [long.as_str(), "a\u{7}b"] {
            let e = text("q", Some(bad)).expect_err("refused");
            assert_eq!(field_of(e), (400, "q".to_string()));
        }
        for absent in [None, Some(""), Some("   ")] {
            let e = required("q", absent).expect_err("missing");
            assert_eq!(e.code(), "missing_parameter");
            assert_eq!(field_of(e), (400, "q".to_string()));
        }
    }

    #[test]
    fn absent_values_take_their_default() {
        assert_eq!(int_in("limit", None, 1..=10, 5).expect("default"), 5);
        assert_eq!(int_in("limit", Some(" 7 "), 1..=10, 5).expect("seven"), 7);
        assert!(!flag("purge_output", None).expect("default"));
        assert!(flag("purge_output", Some("true")).expect("true"));
        assert_eq!(instant("since", Some("")).expect("blank"), None);
        let t = instant("since", Some("2025-01-31T08:00:00+01:00"))
            .expect("parses")
            .expect("present");
        assert_eq!(t.unix_timestamp(), 1_738_306_800);
        assert_eq!(
            text("q", Some("  X13 ")).expect("ok").as_deref(),
            Some("X13")
        );
    }
}

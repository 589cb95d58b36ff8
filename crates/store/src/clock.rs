//! Timestamps are stored as Unix time in milliseconds (see the migration header).

use std::time::Duration;

use time::OffsetDateTime;

use crate::{Result, StoreError};

pub(crate) fn now_ms() -> i64 {
    to_ms(OffsetDateTime::now_utc())
}

pub(crate) fn to_ms(t: OffsetDateTime) -> i64 {
    let ms = t.unix_timestamp_nanos() / 1_000_000;
    i64::try_from(ms).unwrap_or(i64::MAX)
}

pub(crate) fn from_ms(field: &'static str, ms: i64) -> Result<OffsetDateTime> {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000).map_err(|e| {
        StoreError::Invalid {
            field,
            message: format!("timestamp {ms} out of range: {e}"),
        }
    })
}

pub(crate) fn opt_from_ms(field: &'static str, ms: Option<i64>) -> Result<Option<OffsetDateTime>> {
    ms.map(|ms| from_ms(field, ms)).transpose()
}

/// `now + d` in milliseconds, saturating instead of overflowing.
pub(crate) fn after_ms(now: i64, d: Duration) -> i64 {
    let add = i64::try_from(d.as_millis()).unwrap_or(i64::MAX);
    now.saturating_add(add)
}

//! Slack request signatures, version 0: `X-Slack-Signature: v0=<hex HMAC-SHA256>` over
//! `v0:{X-Slack-Request-Timestamp}:{raw body}`, keyed with the app's signing secret.
//!
//! The timestamp is what stops a captured request from being replayed later, so one more
//! than five minutes away from our clock (in either direction) is refused even when its
//! signature is right.

use hmac::{Hmac, Mac};
use sha2::Sha256;

pub const SIGNATURE_HEADER: &str = "x-slack-signature";
pub const TIMESTAMP_HEADER: &str = "x-slack-request-timestamp";
/// Largest accepted distance between the request's timestamp and our clock, in seconds.
pub const MAX_SKEW_SECS: i64 = 5 * 60;
const VERSION_PREFIX: &str = "v0=";
/// Longer than any Unix time in seconds for the next few thousand years; keeps parsing
/// of a hostile header bounded.
const MAX_TIMESTAMP_DIGITS: usize = 12;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    #[error("missing X-Slack-Request-Timestamp header")]
    MissingTimestamp,
    #[error("missing X-Slack-Signature header")]
    MissingSignature,
    #[error("X-Slack-Request-Timestamp must be whole seconds since 1970-01-01 UTC")]
    BadTimestamp,
    #[error(
        "X-Slack-Request-Timestamp is {age} seconds old; requests older than 5 minutes are refused"
    )]
    Stale { age: i64 },
    #[error(
        "X-Slack-Request-Timestamp is {ahead} seconds in the future; requests more than 5 minutes ahead of the server clock are refused"
    )]
    Future { ahead: i64 },
    #[error("X-Slack-Signature does not match the request")]
    Mismatch,
}

/// Check a request: `timestamp` and `signature` are the header values (None when the
/// header is absent or not text), `body` the raw bytes exactly as received, `now` the
/// server clock in Unix seconds.
pub fn verify(
    secret: &[u8],
    timestamp: Option<&str>,
    signature: Option<&str>,
    body: &[u8],
    now: i64,
) -> Result<(), VerifyError> {
    let timestamp = timestamp.ok_or(VerifyError::MissingTimestamp)?;
    let signature = signature.ok_or(VerifyError::MissingSignature)?;
    let sent = parse_timestamp(timestamp)?;
    let skew = now.saturating_sub(sent);
    if skew > MAX_SKEW_SECS {
        return Err(VerifyError::Stale { age: skew });
    }
    if skew < -MAX_SKEW_SECS {
        return Err(VerifyError::Future {
            ahead: skew.saturating_neg(),
        });
    }

    let claimed = signature
        .trim()
        .strip_prefix(VERSION_PREFIX)
        .and_then(|hex_digest| hex::decode(hex_digest).ok())
        .ok_or(VerifyError::Mismatch)?;
    let mut mac = signer(secret)?;
    mac.update(b"v0:");
    mac.update(timestamp.as_bytes());
    mac.update(b":");
    mac.update(body);
    // verify_slice compares in constant time, so the answer's timing says nothing about
    // how many leading bytes of a forged signature were right.
    mac.verify_slice(&claimed)
        .map_err(|_| VerifyError::Mismatch)
}

/// `v0=<hex>` for a request; what a sender (or a test) puts in `X-Slack-Signature`.
pub fn sign(secret: &[u8], timestamp: &str, body: &[u8]) -> Option<String> {
    let mut mac = signer(secret).ok()?;
    mac.update(b"v0:");
    mac.update(timestamp.as_bytes());
    mac.update(b":");
    mac.update(body);
    Some(format!(
        "{VERSION_PREFIX}{}",
        hex::encode(mac.finalize().into_bytes())
    ))
}

/// HMAC accepts keys of any length; the error is a value only so no input can panic.
fn signer(secret: &[u8]) -> Result<Hmac<Sha256>, VerifyError> {
    <Hmac<Sha256> as Mac>::new_from_slice(secret).map_err(|_| VerifyError::Mismatch)
}

fn parse_timestamp(raw: &str) -> Result<i64, VerifyError> {
    let ok = !raw.is_empty()
        && raw.len() <= MAX_TIMESTAMP_DIGITS
        && raw.bytes().all(|b| b.is_ascii_digit());
    if !ok {
        return Err(VerifyError::BadTimestamp);
    }
    raw.parse().map_err(|_| VerifyError::BadTimestamp)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"wait-slack-test-secret";
    const BODY: &[u8] = b"command=%2Fwait&text=queue&user_name=builder";
    const TS: &str = "1700000000";
    const NOW: i64 = 1_700_000_000;
    // Computed outside Rust: python3 -c "import hmac,hashlib; print(hmac.new(
    // b'wait-slack-test-secret', b'v0:1700000000:' + BODY, hashlib.sha256).hexdigest())"
    const EXPECTED: &str = "v0=6a6e1a6437b2da57f60351a5bd60a2cce6069a6158d9ead97d7b9efffc2de467";

    #[test]
    fn signature_matches_an_independently_computed_one() {
        assert_eq!(sign(SECRET, TS, BODY).as_deref(), Some(EXPECTED));
        assert_eq!(verify(SECRET, Some(TS), Some(EXPECTED), BODY, NOW), Ok(()));
    }

    #[test]
    fn the_edges_of_the_window_are_accepted() {
        let early = (NOW - MAX_SKEW_SECS).to_string();
        let late = (NOW + MAX_SKEW_SECS).to_string();
        for ts in [early, late] {
            let sig = sign(SECRET, &ts, BODY).expect("sign");
            assert_eq!(verify(SECRET, Some(&ts), Some(&sig), BODY, NOW), Ok(()));
        }
    }

    /// Timestamp header, signature header, body, expected refusal.
    type Case<'a> = (Option<&'a str>, Option<&'a str>, &'a [u8], VerifyError);

    #[test]
    fn refusals_say_why() {
        let old = (NOW - MAX_SKEW_SECS - 1).to_string();
        let ahead = (NOW + MAX_SKEW_SECS + 1).to_string();
        let sig_old = sign(SECRET, &old, BODY).expect("sign");
        let sig_ahead = sign(SECRET, &ahead, BODY).expect("sign");
        let upper = format!("v0={}", EXPECTED[3..].to_ascii_uppercase());
        let cases: Vec<Case<'_>> = vec![
            (None, Some(EXPECTED), BODY, VerifyError::MissingTimestamp),
            (Some(TS), None, BODY, VerifyError::MissingSignature),
            (Some(""), Some(EXPECTED), BODY, VerifyError::BadTimestamp),
            (Some("-5"), Some(EXPECTED), BODY, VerifyError::BadTimestamp),
            (
                Some("+1700000000"),
                Some(EXPECTED),
                BODY,
                VerifyError::BadTimestamp,
            ),
            (
                Some("17e8"),
                Some(EXPECTED),
                BODY,
                VerifyError::BadTimestamp,
            ),
            (
                Some("9999999999999999999"),
                Some(EXPECTED),
                BODY,
                VerifyError::BadTimestamp,
            ),
            (
                Some(&old),
                Some(&sig_old),
                BODY,
                VerifyError::Stale { age: 301 },
            ),
            (
                Some(&ahead),
                Some(&sig_ahead),
                BODY,
                VerifyError::Future { ahead: 301 },
            ),
            (
                Some(TS),
                Some(EXPECTED),
                b"text=status",
                VerifyError::Mismatch,
            ),
            (Some(TS), Some(&EXPECTED[3..]), BODY, VerifyError::Mismatch),
            (Some(TS), Some("v1=00"), BODY, VerifyError::Mismatch),
            (Some(TS), Some("v0=zz"), BODY, VerifyError::Mismatch),
            (Some(TS), Some("v0="), BODY, VerifyError::Mismatch),
            (
                Some(TS),
                Some(&EXPECTED[..EXPECTED.len() - 2]),
                BODY,
                VerifyError::Mismatch,
            ),
            (
                Some("1700000001"),
                Some(EXPECTED),
                BODY,
                VerifyError::Mismatch,
            ),
        ];
        for (ts, sig, body, want) in cases {
            assert_eq!(
                verify(SECRET, ts, sig, body, NOW),
                Err(want.clone()),
                "{ts:?} {sig:?}"
            );
        }
        // hex case does not matter; the bytes do
        assert_eq!(verify(SECRET, Some(TS), Some(&upper), BODY, NOW), Ok(()));
        assert_eq!(
            verify(b"other-secret", Some(TS), Some(EXPECTED), BODY, NOW),
            Err(VerifyError::Mismatch)
        );
    }
}

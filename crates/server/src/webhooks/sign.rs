//! The signature receivers check: `X-WAIT-Signature: sha256=<hex HMAC-SHA256 of the raw
//! body keyed with the webhook's secret>`.

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// Names the event (`job.completed`, `ping`, …).
pub const EVENT_HEADER: &str = "X-WAIT-Event";
/// The delivery's id, the same on every attempt, so receivers can drop repeats.
pub const DELIVERY_HEADER: &str = "X-WAIT-Delivery";
pub const SIGNATURE_HEADER: &str = "X-WAIT-Signature";

/// `sha256=<hex>` for `body` under `secret`. None never happens in practice (HMAC takes
/// keys of any length); it is a value rather than a panic so no input can crash the
/// dispatcher.
pub fn signature(secret: &[u8], body: &[u8]) -> Option<String> {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret).ok()?;
    mac.update(body);
    Some(format!(
        "sha256={}",
        hex::encode(mac.finalize().into_bytes())
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_matches_the_rfc_4231_test_vector() {
        // RFC 4231, test case 2
        let got = signature(b"Jefe", b"what do ya want for nothing?");
        assert_eq!(
            got.as_deref(),
            Some("sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
        );
    }

    #[test]
    fn a_different_secret_or_body_gives_a_different_signature() {
        let base = signature(b"k", b"{}");
        assert_ne!(base, signature(b"k2", b"{}"));
        assert_ne!(base, signature(b"k", b"{ }"));
    }
}

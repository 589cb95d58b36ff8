//! One HTTP attempt: check the target, POST the signed body, time it, and describe the
//! outcome for the delivery log.

use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::Url;
use reqwest::header::CONTENT_TYPE;
use uuid::Uuid;
use wait_store::AttemptResult;

use super::policy::{CheckedResolver, OutboundPolicy, TargetError};
use super::sign::{DELIVERY_HEADER, EVENT_HEADER, SIGNATURE_HEADER, signature};

/// Longest wait for a receiver's answer, connection included.
pub const DELIVERY_TIMEOUT: Duration = Duration::from_secs(10);

/// A request ready to send.
#[derive(Debug)]
pub struct Outgoing<'a> {
    pub url: &'a str,
    pub event: &'a str,
    pub delivery_id: Uuid,
    /// None sends the body unsigned (a webhook stored without a secret).
    pub secret: Option<&'a str>,
    pub body: Vec<u8>,
}

/// The HTTP client of webhook deliveries. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Sender {
    client: reqwest::Client,
    policy: OutboundPolicy,
}

impl Sender {
    pub fn new(policy: OutboundPolicy) -> Result<Self, reqwest::Error> {
        let mut builder = reqwest::Client::builder()
            .timeout(DELIVERY_TIMEOUT)
            .user_agent(concat!("WAIT-Webhooks/", env!("CARGO_PKG_VERSION")))
            // A redirect could lead anywhere, past the check of the first target; and a
            // proxy would be what the policy checks instead of the receiver.
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy();
        if !policy.allow_private {
            builder = builder.dns_resolver(Arc::new(CheckedResolver(policy)));
        }
        Ok(Sender {
            client: builder.build()?,
            policy,
        })
    }

    /// Send once. Never fails: every outcome, refusals included, is an `AttemptResult`.
    pub async fn send(&self, out: Outgoing<'_>) -> AttemptResult {
        let started = Instant::now();
        let failed = |error: String, permanent: bool| AttemptResult {
            status_code: None,
            duration: started.elapsed(),
            error: Some(error),
            permanent,
        };
        let url = match Url::parse(out.url) {
            Ok(url) if matches!(url.scheme(), "http" | "https") => url,
            Ok(url) => return failed(format!("unsupported scheme {:?}", url.scheme()), true),
            Err(e) => return failed(format!("invalid URL: {e}"), true),
        };
        match self.policy.check_target(&url).await {
            Ok(()) => {}
            Err(e @ (TargetError::Refused(_) | TargetError::NoHost)) => {
                return failed(e.to_string(), true);
            }
            Err(e) => return failed(e.to_string(), false),
        }
        let mut request = self
            .client
            .post(url)
            .header(CONTENT_TYPE, "application/json")
            .header(EVENT_HEADER, out.event)
            .header(DELIVERY_HEADER, out.delivery_id.to_string());
        if let Some(secret) = out.secret {
            let Some(sig) = signature(secret.as_bytes(), &out.body) else {
                return failed("cannot sign with this secret".to_string(), true);
            };
            request = request.header(SIGNATURE_HEADER, sig);
        }
        match request.body(out.body).send().await {
            Ok(response) => {
                let status = response.status();
                AttemptResult {
                    status_code: Some(status.as_u16()),
                    duration: started.elapsed(),
                    error: (!status.is_success())
                        .then(|| format!("the receiver answered {status}")),
                    permanent: false,
                }
            }
            // without the URL: its path or query may carry a token (Slack's do)
            Err(e) => failed(error_chain(&e.without_url()), false),
        }
    }
}

/// An error with its sources, which carry the useful part (refused, timed out, TLS).
fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut text = e.to_string();
    let mut next = e.source();
    while let Some(source) = next {
        let part = source.to_string();
        if !text.contains(&part) {
            text.push_str(": ");
            text.push_str(&part);
        }
        next = source.source();
    }
    text
}

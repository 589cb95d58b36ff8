//! The dispatcher: a task of `serve` that turns new outbox events into deliveries,
//! sends the due ones and logs every attempt. Several API processes may each run one;
//! the store hands each event to one enqueuer and each attempt to one dispatcher.

use std::time::Duration;

use futures::StreamExt;
use time::OffsetDateTime;
use tokio::sync::watch;
use wait_store::{
    AttemptResult, ClaimedDelivery, DeliveryEvent, DeliveryRetry, Store, StoreError,
    WebhookDelivery,
};

use super::body::{job_object, render};
use super::policy::OutboundPolicy;
use super::send::{DELIVERY_TIMEOUT, Outgoing, Sender};
use crate::ServerConfig;

/// Outbox events read per round.
const ENQUEUE_PAGE: i64 = 500;
/// Attempts claimed at once, and how many of them are in flight together.
const CLAIM_BATCH: i64 = 16;
const IN_FLIGHT: usize = 8;
/// How long a claim holds its attempts: a whole batch at the worst pace, and more.
const LEASE: Duration = Duration::from_secs(6 * DELIVERY_TIMEOUT.as_secs());

#[derive(Debug, Clone)]
pub struct Dispatcher {
    store: Store,
    sender: Sender,
    retry: DeliveryRetry,
    poll: Duration,
}

impl Dispatcher {
    pub fn new(store: Store, config: &ServerConfig) -> Result<Self, reqwest::Error> {
        let policy = OutboundPolicy {
            allow_private: config.webhook_allow_private,
        };
        Ok(Dispatcher {
            store,
            sender: Sender::new(policy)?,
            retry: config.webhook_retry,
            poll: config.webhook_poll,
        })
    }

    /// Work until `shutdown` turns true: every `poll`, enqueue new events and send what
    /// is due. An attempt cut short by shutdown keeps its lease until it expires, then
    /// any dispatcher sends it again (receivers drop repeats by `X-WAIT-Delivery`).
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        loop {
            if *shutdown.borrow() {
                return;
            }
            tokio::select! {
                result = self.run_once() => {
                    if let Err(e) = result {
                        tracing::warn!(error = %e, "webhook dispatch round failed");
                    }
                }
                _ = shutdown.changed() => return,
            }
            tokio::select! {
                () = tokio::time::sleep(self.poll) => {}
                _ = shutdown.changed() => return,
            }
        }
    }

    /// One round: enqueue new events, then send due attempts until none is left.
    /// Returns how many attempts were made.
    pub async fn run_once(&self) -> Result<usize, StoreError> {
        self.store.enqueue_webhook_deliveries(ENQUEUE_PAGE).await?;
        let mut made = 0;
        loop {
            let claimed = self
                .store
                .claim_webhook_deliveries(CLAIM_BATCH, LEASE)
                .await?;
            if claimed.is_empty() {
                return Ok(made);
            }
            made += claimed.len();
            let results: Vec<_> = futures::stream::iter(claimed)
                .map(|claim| self.deliver(claim))
                .buffer_unordered(IN_FLIGHT)
                .collect()
                .await;
            for result in results {
                match result {
                    Ok(_) => {}
                    // another dispatcher took the attempt over after our lease ran out
                    Err(StoreError::Conflict(message)) => {
                        tracing::warn!(%message, "webhook attempt result dropped");
                    }
                    Err(e) => return Err(e),
                }
            }
        }
    }

    /// Send one claimed attempt now and record its result.
    pub async fn deliver(&self, claim: ClaimedDelivery) -> Result<WebhookDelivery, StoreError> {
        let job = match (claim.event, claim.job_id) {
            (DeliveryEvent::Job(_), Some(job_id)) => Some(job_object(
                self.store.get_job(job_id).await?,
                claim.payload.as_ref(),
            )),
            _ => None,
        };
        let body = render(
            claim.format,
            claim.event,
            claim.delivery_id,
            job.as_ref(),
            OffsetDateTime::now_utc(),
        );
        let result = match serde_json::to_vec(&body) {
            Ok(bytes) => {
                self.sender
                    .send(Outgoing {
                        url: &claim.url,
                        event: claim.event.as_str(),
                        delivery_id: claim.delivery_id,
                        secret: claim.secret.as_ref().map(|s| s.expose()),
                        body: bytes,
                    })
                    .await
            }
            Err(e) => AttemptResult {
                status_code: None,
                duration: Duration::ZERO,
                error: Some(format!("cannot encode the body: {e}")),
                permanent: true,
            },
        };
        let recorded = self
            .store
            .record_webhook_attempt(&claim, &result, &self.retry)
            .await?;
        tracing::info!(
            webhook = claim.webhook_id,
            delivery = %claim.delivery_id,
            event = %claim.event,
            attempt = claim.attempt,
            state = recorded.state.as_str(),
            status = ?recorded.status_code,
            "webhook attempt"
        );
        Ok(recorded)
    }
}

//! Webhooks on the server side: the dispatcher that delivers outbox events, the
//! outbound address policy, signing, body formats (JSON and Slack) and the parsing of
//! API requests. The store keeps webhooks and the delivery log (`wait_store`).

mod body;
mod dispatcher;
mod policy;
mod request;
mod send;
mod sign;

pub use body::{job_object, render, slack_text};
pub use dispatcher::Dispatcher;
pub use policy::{OutboundPolicy, Refused, TargetError, restricted_kind};
pub use request::{CreateWebhook, UpdateWebhook, parse_create, parse_update};
pub use send::{DELIVERY_TIMEOUT, Outgoing, Sender};
pub use sign::{DELIVERY_HEADER, EVENT_HEADER, SIGNATURE_HEADER, signature};

use crate::AppState;

/// Start the dispatcher of `state`'s store; it stops when `serve` shuts down.
pub(crate) fn spawn(state: &AppState) -> std::io::Result<tokio::task::JoinHandle<()>> {
    let dispatcher = Dispatcher::new(state.store.clone(), &state.config)
        .map_err(|e| std::io::Error::other(format!("webhook HTTP client: {e}")))?;
    Ok(tokio::spawn(dispatcher.run(state.shutdown_signal())))
}

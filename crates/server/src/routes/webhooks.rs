//! `/api/webhooks`: create, list, read, change, delete, test, and the delivery log.
//! Admin only. The secret is shown in the answer that sets it (create, or a change
//! that replaces it) and never again.

use axum::extract::rejection::PathRejection;
use axum::extract::{FromRequestParts, Path, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use wait_store::{EventKind, Role, Webhook, WebhookDelivery, WebhookFormat};

use crate::AppState;
use crate::auth::AuthUser;
use crate::error::ApiError;
use crate::extract::{ApiJson, ApiQuery};
use crate::webhooks::{
    CreateWebhook, Dispatcher, OutboundPolicy, UpdateWebhook, parse_create, parse_update,
};

/// Default page of the delivery log.
const DEFAULT_DELIVERIES: i64 = 50;
/// How long the test endpoint holds its delivery: the send and some spare.
const TEST_LEASE: std::time::Duration = std::time::Duration::from_secs(60);

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/webhooks", get(list).post(create))
        .route("/api/webhooks/{id}", get(read).patch(update).delete(remove))
        .route("/api/webhooks/{id}/test", post(test))
        .route("/api/webhooks/{id}/deliveries", get(deliveries))
}

/// An admin caller. Checked before the body is read, so a builder gets 403 whatever it
/// sends.
#[derive(Debug)]
struct Admin(AuthUser);

impl FromRequestParts<AppState> for Admin {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let user = AuthUser::from_request_parts(parts, state).await?;
        user.require(Role::Admin)?;
        Ok(Admin(user))
    }
}

/// A webhook as the API shows it: copied field by field, never with the secret.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct WebhookView {
    id: i64,
    url: String,
    #[schema(value_type = Vec<crate::openapi::mirrors::EventKind>)]
    events: Vec<EventKind>,
    #[schema(value_type = crate::openapi::mirrors::WebhookFormat)]
    format: WebhookFormat,
    active: bool,
    created_by: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    created_at: OffsetDateTime,
    /// Only in the answer that set it.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = String)]
    secret: Option<String>,
}

impl WebhookView {
    fn new(hook: Webhook, secret: Option<String>) -> Self {
        WebhookView {
            id: hook.id,
            url: hook.url,
            events: hook.events,
            format: hook.format,
            active: hook.active,
            created_by: hook.created_by,
            created_at: hook.created_at,
            secret,
        }
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct WebhookList {
    webhooks: Vec<WebhookView>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct DeliveryList {
    #[schema(value_type = Vec<crate::openapi::mirrors::WebhookDelivery>)]
    deliveries: Vec<WebhookDelivery>,
}

#[derive(Debug, Deserialize)]
struct DeliveryQuery {
    limit: Option<i64>,
}

fn policy(state: &AppState) -> OutboundPolicy {
    OutboundPolicy {
        allow_private: state.config.webhook_allow_private,
    }
}

fn parse_id(id: Result<Path<String>, PathRejection>) -> Result<i64, ApiError> {
    id.ok()
        .and_then(|Path(raw)| raw.trim().parse::<i64>().ok())
        .ok_or_else(|| {
            ApiError::bad_request("invalid_id", "the webhook id must be a number").with_field("id")
        })
}

fn not_found(id: i64) -> ApiError {
    ApiError::not_found(format!("webhook {id} not found"))
}

async fn create(
    State(state): State<AppState>,
    Admin(auth): Admin,
    ApiJson(body): ApiJson<CreateWebhook>,
) -> Result<Response, ApiError> {
    let new = parse_create(body, policy(&state))?;
    let hook = state
        .store
        .create_webhook(&new, Some(&auth.user.username))
        .await?;
    tracing::info!(webhook = hook.id, user = %auth.user.username, "webhook created");
    let view = WebhookView::new(hook, Some(new.secret.expose().to_string()));
    Ok((StatusCode::CREATED, Json(view)).into_response())
}

async fn list(State(state): State<AppState>, _admin: Admin) -> Result<Json<WebhookList>, ApiError> {
    let webhooks = state.store.list_webhooks().await?;
    Ok(Json(WebhookList {
        webhooks: webhooks
            .into_iter()
            .map(|h| WebhookView::new(h, None))
            .collect(),
    }))
}

async fn read(
    State(state): State<AppState>,
    _admin: Admin,
    id: Result<Path<String>, PathRejection>,
) -> Result<Json<WebhookView>, ApiError> {
    let id = parse_id(id)?;
    match state.store.get_webhook(id).await? {
        Some(hook) => Ok(Json(WebhookView::new(hook, None))),
        None => Err(not_found(id)),
    }
}

async fn update(
    State(state): State<AppState>,
    Admin(auth): Admin,
    id: Result<Path<String>, PathRejection>,
    ApiJson(body): ApiJson<UpdateWebhook>,
) -> Result<Json<WebhookView>, ApiError> {
    let id = parse_id(id)?;
    let changes = parse_update(body, policy(&state))?;
    let hook = state.store.update_webhook(id, &changes).await?;
    let secret = changes.secret.map(|s| s.expose().to_string());
    tracing::info!(
        webhook = id,
        user = %auth.user.username,
        secret_replaced = secret.is_some(),
        "webhook changed"
    );
    Ok(Json(WebhookView::new(hook, secret)))
}

async fn remove(
    State(state): State<AppState>,
    Admin(auth): Admin,
    id: Result<Path<String>, PathRejection>,
) -> Result<StatusCode, ApiError> {
    let id = parse_id(id)?;
    state.store.delete_webhook(id).await?;
    tracing::info!(webhook = id, user = %auth.user.username, "webhook deleted");
    Ok(StatusCode::NO_CONTENT)
}

/// Send a `ping` now, whether the webhook is active or not, and answer with the
/// logged attempt (a failed attempt is a 200 too: the test ran).
async fn test(
    State(state): State<AppState>,
    _admin: Admin,
    id: Result<Path<String>, PathRejection>,
) -> Result<Json<WebhookDelivery>, ApiError> {
    let id = parse_id(id)?;
    let claim = state.store.create_test_delivery(id, TEST_LEASE).await?;
    let dispatcher =
        Dispatcher::new(state.store.clone(), &state.config).map_err(ApiError::internal)?;
    Ok(Json(dispatcher.deliver(claim).await?))
}

async fn deliveries(
    State(state): State<AppState>,
    _admin: Admin,
    id: Result<Path<String>, PathRejection>,
    ApiQuery(q): ApiQuery<DeliveryQuery>,
) -> Result<Json<DeliveryList>, ApiError> {
    let id = parse_id(id)?;
    let limit = q.limit.unwrap_or(DEFAULT_DELIVERIES);
    if limit < 1 {
        return Err(ApiError::invalid(
            "limit",
            "invalid_value",
            "limit must be at least 1",
        ));
    }
    let deliveries = state.store.list_webhook_deliveries(id, limit).await?;
    Ok(Json(DeliveryList { deliveries }))
}

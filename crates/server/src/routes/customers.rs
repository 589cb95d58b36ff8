//! `/api/customers`: each customer's output folder naming template and request defaults.
//! Anyone signed in may read them and preview a template; only an admin may change one.
//!
//! A template is checked when it is saved (the same checker the build uses), so a
//! mistake shows in the form rather than as an odd folder name on the share later.

use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;
use wait_catalog::naming::{self, DEFAULT_FOLDER_TEMPLATE, NamingVars};
use wait_store::{Customer, JobFilter};

use crate::AppState;
use crate::auth::{RequireAdmin, RequireViewer};
use crate::error::ApiError;
use crate::extract::ApiJson;
use crate::job_request::SafeName;

/// The board a preview shows when the customer has no job yet.
pub const EXAMPLE_BOARD: &str = "BOARD";
/// The customer a preview shows when the request names none.
pub const EXAMPLE_CUSTOMER: &str = "CUSTOMER";
/// Edition, build and index a preview shows: the image is only known during a build.
const EXAMPLE_EDITION: &str = "IoTEnterpriseS";
const EXAMPLE_BUILD: u32 = 26100;
const EXAMPLE_INDEX: u32 = 1;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/customers", get(list))
        .route("/api/customers/preview", post(preview))
        .route("/api/customers/{name}", get(one).put(put))
}

/// A customer as the API shows it, with the folder name its template gives now.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CustomerView {
    pub name: String,
    /// The folder naming template; null = the default `{timestamp}_{board}`.
    pub naming_template: Option<String>,
    /// Default request values (a JSON object).
    #[schema(value_type = Object)]
    pub defaults: serde_json::Value,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: OffsetDateTime,
    /// The folder name the template gives for a build started now of the customer's
    /// most recent board (or `BOARD`).
    pub preview: String,
    /// The board the preview used.
    pub preview_board: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CustomerList {
    pub customers: Vec<CustomerView>,
}

/// `PUT /api/customers/{name}`: the whole customer (a missing `defaults` is `{}`).
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PutCustomer {
    /// null or absent = the default template.
    #[serde(default)]
    pub naming_template: Option<String>,
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub defaults: Option<serde_json::Value>,
}

/// `POST /api/customers/preview`: a template being typed, and optionally whose it is.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PreviewRequest {
    pub naming_template: String,
    /// Shown as `{customer}`, and whose latest board is used when `board` is absent.
    #[serde(default)]
    pub customer: Option<String>,
    #[serde(default)]
    pub board: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PreviewAnswer {
    /// The folder name a build started now would get.
    pub folder: String,
    pub board: String,
    pub customer: String,
}

/// The `{name}` of the path: 400 naming `name` unless it is a folder-safe name (the same
/// rule as a job's `customer_name`, since it is the same name).
fn path_name(name: Result<Path<String>, PathRejection>) -> Result<String, ApiError> {
    let bad = || {
        ApiError::bad_request(
            "invalid_name",
            "the customer name must be 1 to 64 characters of A-Z, a-z, 0-9, '_', '.', '-' (not '.' or '..')",
        )
        .with_field("name")
    };
    let Path(raw) = name.map_err(|_| bad())?;
    SafeName::parse("name", &raw).map_err(|_| bad())?;
    Ok(raw)
}

/// 422 naming `naming_template` with the checker's own message.
fn template_error(e: naming::NamingError) -> ApiError {
    ApiError::invalid("naming_template", "invalid_template", e.to_string())
}

/// The board of the customer's most recent job, if any.
async fn latest_board(state: &AppState, customer: &str) -> Result<Option<String>, ApiError> {
    let filter = JobFilter {
        customer_name: Some(customer.to_string()),
        limit: Some(1),
        ..JobFilter::default()
    };
    let (jobs, _) = state.store.list_jobs(&filter).await?;
    Ok(jobs.into_iter().next().map(|j| j.request.motherboard_model))
}

/// The folder name `template` gives for a build of `board` for `customer` started now.
fn render(
    template: &str,
    customer: &str,
    board: &str,
    job_id: &str,
) -> Result<String, naming::NamingError> {
    naming::check_template(template)?;
    let vars = NamingVars {
        at: OffsetDateTime::now_utc(),
        board,
        customer,
        job_id,
        edition: Some(EXAMPLE_EDITION),
        build: Some(EXAMPLE_BUILD),
        index: EXAMPLE_INDEX,
        variant: None,
    };
    naming::render_folder_name(template, &vars)
}

async fn view(state: &AppState, c: Customer) -> Result<CustomerView, ApiError> {
    let board = latest_board(state, &c.name)
        .await?
        .unwrap_or_else(|| EXAMPLE_BOARD.to_string());
    let template = c
        .naming_template
        .as_deref()
        .unwrap_or(DEFAULT_FOLDER_TEMPLATE);
    let job_id = Uuid::now_v7().to_string();
    // A template stored before the checker existed may not render; show why instead
    // of failing the whole listing.
    let preview = render(template, &c.name, &board, &job_id).unwrap_or_else(|e| e.to_string());
    Ok(CustomerView {
        name: c.name,
        naming_template: c.naming_template,
        defaults: c.defaults,
        created_at: c.created_at,
        preview,
        preview_board: board,
    })
}

async fn list(
    State(state): State<AppState>,
    _auth: RequireViewer,
) -> Result<Json<CustomerList>, ApiError> {
    let mut customers = Vec::new();
    for c in state.store.list_customers().await? {
        customers.push(view(&state, c).await?);
    }
    Ok(Json(CustomerList { customers }))
}

async fn one(
    State(state): State<AppState>,
    _auth: RequireViewer,
    name: Result<Path<String>, PathRejection>,
) -> Result<Json<CustomerView>, ApiError> {
    let name = path_name(name)?;
    match state.store.get_customer(&name).await? {
        Some(c) => Ok(Json(view(&state, c).await?)),
        None => Err(ApiError::not_found(format!("customer {name} not found"))),
    }
}

async fn put(
    State(state): State<AppState>,
    RequireAdmin(auth): RequireAdmin,
    name: Result<Path<String>, PathRejection>,
    ApiJson(body): ApiJson<PutCustomer>,
) -> Result<Json<CustomerView>, ApiError> {
    let name = path_name(name)?;
    if let Some(template) = body.naming_template.as_deref() {
        naming::check_template(template).map_err(template_error)?;
    }
    let defaults = body
        .defaults
        .unwrap_or_else(|| serde_json::Value::Object(serde_json::Map::new()));
    if !defaults.is_object() {
        return Err(ApiError::invalid(
            "defaults",
            "invalid_value",
            "defaults must be a JSON object",
        ));
    }
    let saved = state
        .store
        .upsert_customer(&name, body.naming_template.as_deref(), &defaults)
        .await?;
    tracing::info!(customer = %name, user = %auth.user.username, "customer saved");
    Ok(Json(view(&state, saved).await?))
}

async fn preview(
    State(state): State<AppState>,
    _auth: RequireViewer,
    ApiJson(body): ApiJson<PreviewRequest>,
) -> Result<Json<PreviewAnswer>, ApiError> {
    let customer = match body.customer.as_deref().map(str::trim) {
        Some(c) if !c.is_empty() => {
            SafeName::parse("customer", c)?;
            c.to_string()
        }
        _ => EXAMPLE_CUSTOMER.to_string(),
    };
    let board = match body.board.as_deref().map(str::trim) {
        Some(b) if !b.is_empty() => {
            SafeName::parse("board", b)?;
            b.to_string()
        }
        _ => latest_board(&state, &customer)
            .await?
            .unwrap_or_else(|| EXAMPLE_BOARD.to_string()),
    };
    let job_id = Uuid::now_v7().to_string();
    let folder =
        render(&body.naming_template, &customer, &board, &job_id).map_err(template_error)?;
    Ok(Json(PreviewAnswer {
        folder,
        board,
        customer,
    }))
}

//! `GET /api/resources/…`: read-only views of the repository for any signed-in user, so
//! a form can offer only names that resolve and grey out what does not fit the chosen
//! image, with the reason. The catalog reads the disk, so every call runs on the
//! blocking pool.
//!
//! Query parameters: `motherboard` and `base_image` name repository entries (422 when
//! the name is malformed, 404 naming the parameter when there is no such entry); `index`
//! picks the image inside a base image (a number or an edition, default 1). The
//! component listings take an optional `base_image` (and `index`) to add a `fit` to every
//! entry.

pub(crate) mod boards;
pub(crate) mod components;
mod errors;
pub(crate) mod image;
pub(crate) mod tools;
mod tree;

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use wait_catalog::Repository;

use super::params;
use crate::AppState;
use crate::auth::RequireViewer;
use crate::error::ApiError;
use crate::extract::ApiQuery;

/// Board search results when the request does not say, and the most it may ask for.
const DEFAULT_SEARCH_LIMIT: i64 = 20;
const MAX_SEARCH_LIMIT: i64 = 200;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/resources/motherboards", get(motherboards))
        .route(
            "/api/resources/motherboards/search",
            get(search_motherboards),
        )
        .route("/api/resources/drivers/recommend", get(recommend))
        .route("/api/resources/base-images", get(base_images))
        .route("/api/resources/driver-versions", get(driver_versions))
        .route(
            "/api/resources/compatible-versions",
            get(compatible_versions),
        )
        .route("/api/resources/langpacks", get(langpacks))
        .route("/api/resources/updates", get(updates))
        .route("/api/resources/software", get(software))
        .route("/api/resources/answer-files", get(answer_files))
        .route("/api/resources/tools", get(tools))
}

/// Every parameter any resource endpoint takes; each handler reads the ones it needs.
#[derive(Debug, Default, Deserialize)]
struct ResourceQuery {
    q: Option<String>,
    limit: Option<String>,
    motherboard: Option<String>,
    base_image: Option<String>,
    index: Option<String>,
}

impl ResourceQuery {
    /// The image to judge fit against, when one is named.
    fn image(&self) -> Result<Option<image::Choice>, ApiError> {
        image::Choice::optional(self.base_image.as_deref(), self.index.as_deref())
    }
}

/// Run catalog work on the blocking pool.
async fn blocking<T, F>(repo: &Repository, work: F) -> Result<Json<T>, ApiError>
where
    T: Send + 'static,
    F: FnOnce(&Repository) -> Result<T, ApiError> + Send + 'static,
{
    let repo = repo.clone();
    tokio::task::spawn_blocking(move || work(&repo))
        .await
        .map_err(ApiError::internal)?
        .map(Json)
}

/// Boards registered in the database (they may have no driver folder yet).
async fn registered(state: &AppState) -> Result<Vec<wait_store::Motherboard>, ApiError> {
    Ok(state.store.list_motherboards().await?)
}

async fn motherboards(
    State(state): State<AppState>,
    _auth: RequireViewer,
) -> Result<Json<boards::Motherboards>, ApiError> {
    let registered = registered(&state).await?;
    blocking(&state.repo, move |repo| {
        boards::motherboards(repo, &registered)
    })
    .await
}

async fn search_motherboards(
    State(state): State<AppState>,
    _auth: RequireViewer,
    ApiQuery(q): ApiQuery<ResourceQuery>,
) -> Result<Json<boards::BoardSearch>, ApiError> {
    params::required("q", q.q.as_deref())?;
    let query = params::text("q", q.q.as_deref())?.unwrap_or_default();
    let limit = params::int_in(
        "limit",
        q.limit.as_deref(),
        1..=MAX_SEARCH_LIMIT,
        DEFAULT_SEARCH_LIMIT,
    )?;
    let limit = usize::try_from(limit).map_err(ApiError::internal)?;
    let registered = registered(&state).await?;
    blocking(&state.repo, move |repo| {
        boards::search_boards(repo, &query, limit, &registered)
    })
    .await
}

async fn recommend(
    State(state): State<AppState>,
    _auth: RequireViewer,
    ApiQuery(q): ApiQuery<ResourceQuery>,
) -> Result<Json<boards::Recommend>, ApiError> {
    let raw_board = params::required("motherboard", q.motherboard.as_deref())?.to_string();
    let choice = image::Choice::required(q.base_image.as_deref(), q.index.as_deref())?;
    blocking(&state.repo, move |repo| {
        boards::recommend(repo, &raw_board, &choice)
    })
    .await
}

async fn base_images(
    State(state): State<AppState>,
    _auth: RequireViewer,
) -> Result<Json<image::BaseImages>, ApiError> {
    blocking(&state.repo, image::base_images).await
}

async fn driver_versions(
    State(state): State<AppState>,
    _auth: RequireViewer,
    ApiQuery(q): ApiQuery<ResourceQuery>,
) -> Result<Json<boards::DriverVersions>, ApiError> {
    let raw_board = params::required("motherboard", q.motherboard.as_deref())?.to_string();
    let choice = q.image()?;
    blocking(&state.repo, move |repo| {
        boards::driver_versions(repo, &raw_board, choice.as_ref())
    })
    .await
}

async fn compatible_versions(
    State(state): State<AppState>,
    _auth: RequireViewer,
    ApiQuery(q): ApiQuery<ResourceQuery>,
) -> Result<Json<image::CompatibleVersions>, ApiError> {
    let name =
        image::Choice::base_image_name(params::required("base_image", q.base_image.as_deref())?)?;
    let index = params::text("index", q.index.as_deref())?;
    blocking(&state.repo, move |repo| {
        image::compatible_versions(repo, &name, index.as_deref())
    })
    .await
}

async fn langpacks(
    State(state): State<AppState>,
    _auth: RequireViewer,
    ApiQuery(q): ApiQuery<ResourceQuery>,
) -> Result<Json<components::LangPacks>, ApiError> {
    let choice = q.image()?;
    blocking(&state.repo, move |repo| {
        components::langpacks(repo, select(repo, choice.as_ref())?.as_ref())
    })
    .await
}

async fn updates(
    State(state): State<AppState>,
    _auth: RequireViewer,
    ApiQuery(q): ApiQuery<ResourceQuery>,
) -> Result<Json<components::Updates>, ApiError> {
    let choice = q.image()?;
    blocking(&state.repo, move |repo| {
        components::updates(repo, select(repo, choice.as_ref())?.as_ref())
    })
    .await
}

async fn software(
    State(state): State<AppState>,
    _auth: RequireViewer,
    ApiQuery(q): ApiQuery<ResourceQuery>,
) -> Result<Json<components::Software>, ApiError> {
    let choice = q.image()?;
    blocking(&state.repo, move |repo| {
        components::software(repo, select(repo, choice.as_ref())?.as_ref())
    })
    .await
}

async fn answer_files(
    State(state): State<AppState>,
    _auth: RequireViewer,
    ApiQuery(q): ApiQuery<ResourceQuery>,
) -> Result<Json<components::AnswerFiles>, ApiError> {
    let choice = q.image()?;
    let board = params::present(q.motherboard.as_deref())
        .map(|b| {
            wait_catalog::validate_name("motherboard", b)
                .map_err(|e| errors::catalog_error("motherboard", e))?;
            Ok::<_, ApiError>(b.to_string())
        })
        .transpose()?;
    blocking(&state.repo, move |repo| {
        let selected = select(repo, choice.as_ref())?;
        components::answer_files(repo, board.as_deref(), selected.as_ref())
    })
    .await
}

async fn tools(
    State(state): State<AppState>,
    _auth: RequireViewer,
) -> Result<Json<tools::Tools>, ApiError> {
    blocking(&state.repo, tools::tools).await
}

/// Read the named image, when there is one (blocking).
fn select(
    repo: &Repository,
    choice: Option<&image::Choice>,
) -> Result<Option<image::Selected>, ApiError> {
    choice.map(|c| c.select(repo)).transpose()
}

//! Outputs: the listing of `8_Output/`, one output's manifest, its files (resumable
//! downloads) and the whole output as one streamed ZIP. Viewer role for all of it.

use axum::body::Body;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::header::{ACCEPT_RANGES, CONTENT_DISPOSITION, CONTENT_LENGTH, CONTENT_TYPE};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

use crate::AppState;
use crate::auth::RequireViewer;
use crate::error::ApiError;
use crate::extract::ApiQuery;
use crate::outputs::bundle::BundleFiles;
use crate::outputs::file::{Disposition, ServedFile, content_disposition, serve_file};
use crate::outputs::manifest::{
    CHECKSUM_MD5, CHECKSUM_SHA256, MANIFEST_JSON, MANIFEST_TXT, ManifestView, VariantView,
    read_checksums, read_manifest,
};
use crate::outputs::{
    CustomerOutputs, OutputError, OutputFolder, PlainName, list_outputs, resolve_folder,
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/outputs", get(list))
        .route("/api/outputs/{customer}/{job}/manifest", get(manifest))
        .route("/api/outputs/{customer}/{job}/download", get(bundle))
        .route(
            "/api/outputs/{customer}/{job}/download/wim",
            get(download_wim),
        )
        .route(
            "/api/outputs/{customer}/{job}/download/iso",
            get(download_iso),
        )
        .route(
            "/api/outputs/{customer}/{job}/download/checksum",
            get(download_checksum),
        )
        .route(
            "/api/outputs/{customer}/{job}/download/manifest",
            get(download_manifest),
        )
}

#[derive(Debug, Deserialize)]
struct ListQuery {
    q: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = OutputListing)]
pub(crate) struct Listing {
    customers: Vec<CustomerOutputs>,
    /// Output folders listed, over all customers.
    total: usize,
}

async fn list(
    State(state): State<AppState>,
    _auth: RequireViewer,
    ApiQuery(query): ApiQuery<ListQuery>,
) -> Result<Json<Listing>, ApiError> {
    let root = state.repo.output_root();
    let customers = blocking(move || list_outputs(&root, query.q.as_deref())).await?;
    let total = customers.iter().map(|c| c.outputs.len()).sum();
    Ok(Json(Listing { customers, total }))
}

/// `?format=` of the manifest views: the JSON record or its text rendering.
#[derive(Debug, Clone, Copy, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
enum ManifestFormat {
    #[default]
    Json,
    #[serde(alias = "txt")]
    Text,
}

impl ManifestFormat {
    fn file(self) -> (&'static str, &'static str) {
        match self {
            ManifestFormat::Json => (MANIFEST_JSON, "application/json"),
            ManifestFormat::Text => (MANIFEST_TXT, "text/plain; charset=utf-8"),
        }
    }
}

#[derive(Debug, Deserialize)]
struct ManifestQuery {
    #[serde(default)]
    format: ManifestFormat,
}

async fn manifest(
    State(state): State<AppState>,
    _auth: RequireViewer,
    names: Result<Path<(String, String)>, PathRejection>,
    ApiQuery(query): ApiQuery<ManifestQuery>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    manifest_file(&state, names, query.format, Disposition::Inline, &headers).await
}

async fn download_manifest(
    State(state): State<AppState>,
    _auth: RequireViewer,
    names: Result<Path<(String, String)>, PathRejection>,
    ApiQuery(query): ApiQuery<ManifestQuery>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    manifest_file(
        &state,
        names,
        query.format,
        Disposition::Attachment,
        &headers,
    )
    .await
}

/// The manifest view and its download differ only in how the browser is told to show it.
async fn manifest_file(
    state: &AppState,
    names: Result<Path<(String, String)>, PathRejection>,
    format: ManifestFormat,
    disposition: Disposition,
    headers: &HeaderMap,
) -> Result<Response, ApiError> {
    let out = Output::load(state, names).await?;
    let (name, content_type) = format.file();
    out.serve(name, content_type, disposition, headers).await
}

#[derive(Debug, Clone, Copy, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
enum Algo {
    Md5,
    #[default]
    Sha256,
}

#[derive(Debug, Deserialize)]
struct ChecksumQuery {
    #[serde(default)]
    algo: Algo,
}

async fn download_checksum(
    State(state): State<AppState>,
    _auth: RequireViewer,
    names: Result<Path<(String, String)>, PathRejection>,
    ApiQuery(query): ApiQuery<ChecksumQuery>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let out = Output::load(&state, names).await?;
    let name = match query.algo {
        Algo::Md5 => CHECKSUM_MD5,
        Algo::Sha256 => CHECKSUM_SHA256,
    };
    out.serve(
        name,
        "text/plain; charset=utf-8",
        Disposition::Attachment,
        &headers,
    )
    .await
}

#[derive(Debug, Deserialize)]
struct VariantQuery {
    /// `key` or `nokey` when the job built both; default the first variant.
    variant: Option<String>,
}

async fn download_wim(
    State(state): State<AppState>,
    _auth: RequireViewer,
    names: Result<Path<(String, String)>, PathRejection>,
    ApiQuery(query): ApiQuery<VariantQuery>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let out = Output::load(&state, names).await?;
    let image = out.variant(query.variant.as_deref())?.image_file.clone();
    out.serve(
        &image,
        "application/x-ms-wim",
        Disposition::Attachment,
        &headers,
    )
    .await
}

async fn download_iso(
    State(state): State<AppState>,
    _auth: RequireViewer,
    names: Result<Path<(String, String)>, PathRejection>,
    ApiQuery(query): ApiQuery<VariantQuery>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let out = Output::load(&state, names).await?;
    let variant = out.variant(query.variant.as_deref())?;
    let Some(iso) = &variant.iso else {
        return Err(ApiError::not_found(format!(
            "output {} has no ISO for variant {}",
            out.folder.display_path(),
            variant.name()
        )));
    };
    let iso = iso.file.clone();
    out.serve(
        &iso,
        "application/x-iso9660-image",
        Disposition::Attachment,
        &headers,
    )
    .await
}

#[derive(Debug, Deserialize)]
struct BundleQuery {
    #[serde(default)]
    include_iso: bool,
}

async fn bundle(
    State(state): State<AppState>,
    auth: RequireViewer,
    names: Result<Path<(String, String)>, PathRejection>,
    ApiQuery(query): ApiQuery<BundleQuery>,
) -> Result<Response, ApiError> {
    let out = Output::load(&state, names).await?;
    out.require_manifest()?;
    let (folder, manifest) = (out.folder.clone(), out.manifest.clone());
    let files =
        blocking(move || BundleFiles::resolve(&folder, &manifest, query.include_iso)).await?;
    let plan = files.open().await?;
    let length = plan.content_length();
    let name = format!("{}_{}.zip", out.folder.customer, out.folder.folder);
    tracing::info!(
        output = %out.folder.display_path(),
        user = %auth.user.username,
        bytes = length,
        "bundle download"
    );
    let mut headers = HeaderMap::new();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/zip"));
    headers.insert(CONTENT_LENGTH, HeaderValue::from(length));
    headers.insert(
        CONTENT_DISPOSITION,
        content_disposition("attachment", &name),
    );
    // The archive is generated, so a byte offset into it cannot be resumed cheaply;
    // resumable downloads are the single-file endpoints.
    headers.insert(ACCEPT_RANGES, HeaderValue::from_static("none"));
    let body = Body::from_stream(plan.into_stream());
    Ok((StatusCode::OK, headers, body).into_response())
}

/// A resolved output folder and its manifest (empty when it has none).
struct Output {
    folder: OutputFolder,
    manifest: ManifestView,
    has_manifest: bool,
}

impl Output {
    /// Check the URL's names (400), find the folder (404) and read its manifest. An
    /// unreadable manifest is logged and treated as absent, so the folder's other
    /// files stay downloadable.
    async fn load(
        state: &AppState,
        names: Result<Path<(String, String)>, PathRejection>,
    ) -> Result<Self, ApiError> {
        // The rejection is not echoed: it would repeat the undecodable name.
        let Path((customer, job)) = names.map_err(|_| {
            ApiError::bad_request(
                "invalid_path",
                "customer and job must be plain folder names in UTF-8",
            )
        })?;
        let customer = PlainName::parse("customer", &customer)?;
        let job = PlainName::parse("job", &job)?;
        let root = state.repo.output_root();
        blocking(move || {
            let folder = resolve_folder(&root, &customer, &job)?;
            let (manifest, has_manifest) = match read_manifest(&folder.path) {
                Ok(Some(m)) => (m, true),
                Ok(None) => (ManifestView::default(), false),
                Err(problem) => {
                    tracing::warn!(output = %folder.display_path(), %problem, "unreadable manifest");
                    (ManifestView::default(), false)
                }
            };
            Ok(Output {
                folder,
                manifest,
                has_manifest,
            })
        })
        .await
    }

    fn require_manifest(&self) -> Result<(), ApiError> {
        if self.has_manifest && !self.manifest.variants().is_empty() {
            Ok(())
        } else {
            Err(ApiError::not_found(format!(
                "output {} has no readable {MANIFEST_JSON} naming its images",
                self.folder.display_path()
            )))
        }
    }

    /// The variant called `name`, or the first one.
    fn variant(&self, name: Option<&str>) -> Result<&VariantView, ApiError> {
        self.require_manifest()?;
        let variants = self.manifest.variants();
        let found = match name {
            None => variants.first(),
            Some(name) => variants.iter().find(|v| v.name() == name),
        };
        found.ok_or_else(|| {
            let known: Vec<&str> = variants.iter().map(VariantView::name).collect();
            ApiError::not_found(format!(
                "output {} has no variant {:?} (it has: {})",
                self.folder.display_path(),
                name.unwrap_or_default(),
                known.join(", ")
            ))
            .with_field("variant")
        })
    }

    /// Serve the folder's file `name`, with its recorded SHA-256 as the entity tag.
    async fn serve(
        &self,
        name: &str,
        content_type: &'static str,
        disposition: Disposition,
        request: &HeaderMap,
    ) -> Result<Response, ApiError> {
        let folder = self.folder.clone();
        let owned = name.to_string();
        let (path, sha256) = blocking(move || {
            let path = folder.file(&owned)?;
            let sha256 = folder
                .file(CHECKSUM_SHA256)
                .ok()
                .and_then(|sums| read_checksums(&sums).remove(&owned));
            Ok((path, sha256))
        })
        .await?;
        let file = ServedFile {
            path,
            name: name.to_string(),
            content_type,
            sha256,
            disposition,
        };
        Ok(serve_file(file, request).await?)
    }
}

/// Run file-system work off the async threads.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, OutputError> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(ApiError::internal)?
        .map_err(ApiError::from)
}

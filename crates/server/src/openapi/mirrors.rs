//! Schemas of the types other crates serialise into our answers (wait_store,
//! wait_catalog). Those crates stay free of OpenAPI concerns; each mirror here has the
//! field names and JSON shapes of its original, and `tests/openapi_answers.rs` checks
//! real answers against them, so a renamed field there fails a test here.
//!
//! The mirrors are only ever described, never built.
#![allow(dead_code)]

use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

/// A job's state (`wait_store::JobStatus`).
#[derive(Serialize, ToSchema)]
pub(crate) enum JobStatus {
    Queued,
    #[serde(rename = "Processing_Build")]
    ProcessingBuild,
    #[serde(rename = "Pending_Validation")]
    PendingValidation,
    #[serde(rename = "Processing_Validation")]
    ProcessingValidation,
    Completed,
    #[serde(rename = "Failed_Build")]
    FailedBuild,
    #[serde(rename = "Failed_Validation")]
    FailedValidation,
    Cancelled,
}

/// How much a job logs (`wait_store::LogLevel`).
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub(crate) enum LogLevel {
    Normal,
    Verbose,
}

/// A user's role (`wait_store::Role`).
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Role {
    Viewer,
    Builder,
    Admin,
}

/// CPU architecture (`wait_catalog::Arch`).
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Arch {
    X86,
    X64,
    Arm64,
}

/// One recorded input of a job (`wait_store::Resource`).
#[derive(Serialize, ToSchema)]
pub(crate) struct Resource {
    kind: String,
    /// Path relative to the repository root, '/'-separated.
    path: String,
    sha256: String,
    size: u64,
}

/// How a webhook delivery body is shaped (`wait_store::WebhookFormat`).
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub(crate) enum WebhookFormat {
    Json,
    Slack,
}

/// A job event a webhook subscribes to (`wait_store::EventKind`).
#[derive(Serialize, ToSchema)]
pub(crate) enum EventKind {
    #[serde(rename = "job.queued")]
    Queued,
    #[serde(rename = "job.started")]
    Started,
    #[serde(rename = "job.build_succeeded")]
    BuildSucceeded,
    #[serde(rename = "job.completed")]
    Completed,
    #[serde(rename = "job.failed")]
    Failed,
    #[serde(rename = "job.cancelled")]
    Cancelled,
}

/// What a delivery announces: a job event, or `ping` for a test delivery.
#[derive(Serialize, ToSchema)]
pub(crate) enum DeliveryEvent {
    #[serde(rename = "job.queued")]
    Queued,
    #[serde(rename = "job.started")]
    Started,
    #[serde(rename = "job.build_succeeded")]
    BuildSucceeded,
    #[serde(rename = "job.completed")]
    Completed,
    #[serde(rename = "job.failed")]
    Failed,
    #[serde(rename = "job.cancelled")]
    Cancelled,
    #[serde(rename = "ping")]
    Ping,
}

/// Where one delivery attempt stands (`wait_store::DeliveryState`).
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub(crate) enum DeliveryState {
    Pending,
    Delivered,
    Retrying,
    Failed,
}

/// One delivery attempt (`wait_store::WebhookDelivery`).
#[derive(Serialize, ToSchema)]
pub(crate) struct WebhookDelivery {
    id: i64,
    /// The same on every attempt of one delivery (the `X-WAIT-Delivery` header).
    #[schema(format = "uuid")]
    delivery_id: String,
    webhook_id: i64,
    event: DeliveryEvent,
    /// The outbox row; null for a test delivery.
    event_id: Option<i64>,
    #[schema(format = "uuid")]
    job_id: Option<String>,
    attempt: i64,
    state: DeliveryState,
    status_code: Option<u16>,
    duration_ms: Option<i64>,
    error: Option<String>,
    #[schema(format = DateTime)]
    created_at: String,
    #[schema(format = DateTime)]
    attempted_at: Option<String>,
    #[schema(format = DateTime)]
    next_attempt_at: Option<String>,
}

/// One image index inside a base image (`wait_catalog::ImageIdentity`).
#[derive(Serialize, ToSchema)]
pub(crate) struct ImageIdentity {
    index: u32,
    name: String,
    edition: Option<String>,
    product_name: Option<String>,
    installation_type: Option<String>,
    arch: Option<Arch>,
    /// major.minor.build.spbuild
    version: Option<String>,
    build: Option<u32>,
    languages: Vec<String>,
    size: u64,
}

/// One driver set folder (`wait_catalog::DriverSet`).
#[derive(Serialize, ToSchema)]
pub(crate) struct DriverSet {
    board: String,
    name: String,
    /// Repository-relative path of the set folder.
    path: String,
    /// Category subfolders (chipset, network, storage, …).
    categories: Vec<String>,
    inf_count: u64,
    file_count: u64,
    total_size: u64,
}

/// A parsed version-folder token (`wait_catalog::DriverToken`).
#[derive(Serialize, ToSchema)]
pub(crate) struct DriverToken {
    generation: String,
    release: Option<Value>,
    arch: Option<Arch>,
    /// "en-US" when the token names a language.
    language: Option<String>,
    iot: bool,
    ltsc: bool,
}

/// Whether a component fits the chosen image, and why (`wait_catalog` `Fit`).
#[derive(Serialize, ToSchema)]
pub(crate) struct Fit {
    fits: bool,
    reason: String,
}

/// What a `.cab` or `.msu` package says about itself (`wait_catalog::PackageInfo`).
#[derive(Serialize, ToSchema)]
pub(crate) struct PackageInfo {
    file: String,
    /// `cab`, `msu`, … (kebab-case).
    kind: String,
    identity: Option<Value>,
    kb: Option<String>,
    release_type: Option<String>,
    applies_to: Option<String>,
    arch: Option<Arch>,
    language: Option<String>,
    build: Option<u32>,
    is_language_pack: bool,
    /// How the package reaches the image (kebab-case).
    plan: String,
    members: Vec<String>,
    problems: Vec<String>,
    revision: Option<u32>,
    product_name: Option<String>,
    build_date: Option<String>,
    /// The inner cabinet read and where it was unpacked.
    inner_cab: Option<Vec<String>>,
}

/// What an installer says about itself (`wait_catalog::SoftwareInfo`).
#[derive(Serialize, ToSchema)]
pub(crate) struct SoftwareInfo {
    file: String,
    /// `msi`, `appx`, `msix` or `exe`.
    kind: String,
    name: Option<String>,
    version: Option<String>,
    publisher: Option<String>,
    arch: Option<String>,
    size: u64,
    sha256: String,
    /// The silent install command.
    default_command: String,
}

//! Schemas of request bodies that handlers read field by field themselves (a job request
//! is checked by `job_request::parse`, which names the field at fault), and of Slack's
//! form. Field names are those of `job_request::parse` and `slack::form`.
//!
//! These types are only ever described, never built.
#![allow(dead_code)]

use serde::Serialize;
use utoipa::ToSchema;

/// `POST /api/job`. Names must resolve in the repository; 422 names the field when not.
/// `POST /api/jobs/{id}/clone` takes the same fields, every one optional, as overrides.
#[derive(Serialize, ToSchema)]
pub(crate) struct JobRequestBody {
    /// A folder under `2_Drivers/`.
    motherboard_model: String,
    /// A file name in `1_BaseImages/`.
    base_image: String,
    /// Default `default`.
    customer_name: Option<String>,
    /// A positive number or an edition name; default 1.
    image_index: Option<serde_json::Value>,
    /// A folder under `2_Drivers/<board>/`; default: the one recommended for the image.
    driver_set: Option<String>,
    langpacks: Option<Vec<String>>,
    updates: Option<Vec<String>>,
    software: Option<Vec<String>>,
    /// A path under `5_AnswerFiles/`.
    answer_file: Option<String>,
    /// `XXXXX-XXXXX-XXXXX-XXXXX-XXXXX`.
    product_key: Option<String>,
    /// `key`, `nokey` or `both`; default `key` with a product key, else `nokey`.
    key_variants: Option<String>,
    create_iso: Option<bool>,
    /// `lzx` (default), `xpress`, `lzms`, `esd` (solid LZMS, written as `.esd`) or `none`.
    compression: Option<String>,
    /// `normal` (default) or `verbose`.
    log_level: Option<String>,
    /// File stem of the output image; default `install`.
    image_name: Option<String>,
    recompress_winre: Option<bool>,
    /// Compress the image data again even where the base already holds it in the
    /// requested format; default false (it is copied).
    recompress: Option<bool>,
    /// Silent switches per `.exe` named in `software`, e.g. `{"Tool.exe": "/S"}`; they
    /// replace the file's `.switches` sidecar. `& | < > ^`, control characters and
    /// unbalanced quotes are refused.
    #[schema(value_type = Option<std::collections::BTreeMap<String, String>>)]
    software_switches: Option<serde_json::Value>,
}

/// Slack's slash-command form (application/x-www-form-urlencoded).
#[derive(Serialize, ToSchema)]
pub(crate) struct SlackCommand {
    command: Option<String>,
    text: Option<String>,
    user_name: Option<String>,
    response_url: Option<String>,
}

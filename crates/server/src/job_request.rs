//! Turning a `POST /api/job` body into a `JobRequest` the store can record.
//!
//! Two steps: `parse` checks shapes and formats without touching the disk (400 for wrong
//! JSON types, 422 naming the field for unacceptable values); `resolve` then checks
//! that every name resolves inside the repository (422 naming the field): a split base
//! image must be complete, and ISO output needs install media of the image's build.

use std::collections::BTreeMap;

use serde_json::{Map, Value};
use wait_catalog::components::ComponentKind;
use wait_catalog::{CatalogError, ImageIdentity, Repository};
use wait_store::{COMPRESSIONS, JobOptions, JobRequest, KEY_VARIANTS, LogLevel};

use crate::error::ApiError;

const ANSWER_FILES: &str = "5_AnswerFiles";
const MAX_NAME_LEN: usize = 64;
const MAX_FILE_NAME_LEN: usize = 255;
const MAX_INDEX_LEN: usize = 128;

/// A name used as a folder: `[A-Za-z0-9_.-]{1,64}`, not `.` or `..`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SafeName(String);

impl SafeName {
    pub fn parse(field: &'static str, value: &str) -> Result<Self, ApiError> {
        let ok = !value.is_empty()
            && value.len() <= MAX_NAME_LEN
            && value != "."
            && value != ".."
            && value
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'));
        if ok {
            Ok(SafeName(value.to_string()))
        } else {
            Err(ApiError::invalid(
                field,
                "invalid_name",
                format!(
                    "{field} must be 1 to {MAX_NAME_LEN} characters of A-Z, a-z, 0-9, '_', '.', '-' (not '.' or '..')"
                ),
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// `XXXXX-XXXXX-XXXXX-XXXXX-XXXXX`, uppercase letters and digits. Lower case input is
/// upper-cased first.
#[derive(Clone, PartialEq, Eq)]
pub struct ProductKey(String);

impl std::fmt::Debug for ProductKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ProductKey({})", crate::views::mask_product_key(&self.0))
    }
}

impl ProductKey {
    pub fn parse(value: &str) -> Result<Self, ApiError> {
        let key = value.trim().to_ascii_uppercase();
        let groups: Vec<&str> = key.split('-').collect();
        let ok = groups.len() == 5
            && groups.iter().all(|g| {
                g.len() == 5
                    && g.chars()
                        .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
            });
        if ok {
            Ok(ProductKey(key))
        } else {
            Err(ApiError::invalid(
                "product_key",
                "invalid_product_key",
                "product_key must look like XXXXX-XXXXX-XXXXX-XXXXX-XXXXX (letters and digits)",
            ))
        }
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

/// The base image: a single file name inside `1_BaseImages/`.
fn base_image_name(value: &str) -> Result<String, ApiError> {
    let bad = value.is_empty()
        || value.len() > MAX_FILE_NAME_LEN
        || value == "."
        || value == ".."
        || value.contains(['/', '\\', ':'])
        || value.chars().any(char::is_control);
    if bad {
        return Err(ApiError::invalid(
            "base_image",
            "invalid_name",
            "base_image must be a file name inside 1_BaseImages/",
        ));
    }
    Ok(value.to_string())
}

/// The answer file, relative to `5_AnswerFiles/` (a leading `5_AnswerFiles/` is
/// accepted and dropped). Only plain `/`-separated names: no `..`, `.`, empty parts,
/// backslashes, drive letters or absolute paths.
fn answer_file_path(value: &str) -> Result<String, ApiError> {
    let rel = value.strip_prefix("5_AnswerFiles/").unwrap_or(value);
    let escapes = || {
        ApiError::invalid(
            "answer_file",
            "invalid_path",
            "answer_file must be a relative path inside 5_AnswerFiles/ (no '..', no absolute paths)",
        )
    };
    if rel.is_empty()
        || rel.len() > 1024
        || rel.starts_with('/')
        || rel.contains(['\\', ':', '\0'])
        || rel.chars().any(char::is_control)
    {
        return Err(escapes());
    }
    if rel
        .split('/')
        .any(|part| part.is_empty() || part == "." || part == "..")
    {
        return Err(escapes());
    }
    Ok(rel.to_string())
}

/// The output image's file stem (`<image_name>.wim`, or `.esd` for ESD output), by the
/// pipeline's own rules.
fn image_name(value: &str) -> Result<String, ApiError> {
    wait_catalog::naming::check_image_name(value)
        .map_err(|e| ApiError::invalid("image_name", "invalid_name", e.to_string()))?;
    Ok(value.to_string())
}

// --- reading JSON fields with type errors that name the field ---------------------------

fn wrong_type(field: &'static str, expected: &str) -> ApiError {
    ApiError::bad_request("invalid_type", format!("{field} must be {expected}")).with_field(field)
}

fn opt_string(obj: &Map<String, Value>, field: &'static str) -> Result<Option<String>, ApiError> {
    match obj.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(wrong_type(field, "a string")),
    }
}

fn required_string(obj: &Map<String, Value>, field: &'static str) -> Result<String, ApiError> {
    match opt_string(obj, field)? {
        Some(s) if !s.trim().is_empty() => Ok(s),
        _ => Err(ApiError::invalid(
            field,
            "required",
            format!("{field} is required"),
        )),
    }
}

fn opt_bool(obj: &Map<String, Value>, field: &'static str) -> Result<Option<bool>, ApiError> {
    match obj.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(_) => Err(wrong_type(field, "true or false")),
    }
}

fn string_list(obj: &Map<String, Value>, field: &'static str) -> Result<Vec<String>, ApiError> {
    match obj.get(field) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| match v {
                Value::String(s) => Ok(s.clone()),
                _ => Err(wrong_type(field, "a list of strings")),
            })
            .collect(),
        Some(_) => Err(wrong_type(field, "a list of strings")),
    }
}

/// `image_index`: a positive JSON number, or a string (a number or an edition name).
fn image_index(obj: &Map<String, Value>) -> Result<String, ApiError> {
    const FIELD: &str = "image_index";
    let invalid = || {
        ApiError::invalid(
            FIELD,
            "invalid_value",
            "image_index must be a positive number or an edition name",
        )
    };
    match obj.get(FIELD) {
        None | Some(Value::Null) => Ok("1".to_string()),
        Some(Value::Number(n)) => match n.as_u64() {
            Some(i) if i >= 1 && i <= u64::from(u32::MAX) => Ok(i.to_string()),
            _ => Err(invalid()),
        },
        Some(Value::String(s)) => {
            let s = s.trim();
            if s.is_empty() || s.len() > MAX_INDEX_LEN || s.chars().any(char::is_control) {
                return Err(invalid());
            }
            if s.chars().all(|c| c.is_ascii_digit())
                && s.parse::<u32>().ok().filter(|i| *i >= 1).is_none()
            {
                return Err(invalid());
            }
            Ok(s.to_string())
        }
        Some(_) => Err(wrong_type(FIELD, "a number or a string")),
    }
}

fn one_of(
    field: &'static str,
    value: Option<String>,
    allowed: &[&str],
    default: &str,
) -> Result<String, ApiError> {
    let value = value.unwrap_or_else(|| default.to_string());
    if allowed.contains(&value.as_str()) {
        Ok(value)
    } else {
        Err(ApiError::invalid(
            field,
            "invalid_value",
            format!("{field} must be one of: {}", allowed.join(", ")),
        ))
    }
}

/// Check the shape and formats of a job body. Nothing here touches the repository.
pub fn parse(body: &Value) -> Result<JobRequest, ApiError> {
    let Some(obj) = body.as_object() else {
        return Err(ApiError::bad_request(
            "invalid_body",
            "the request body must be a JSON object",
        ));
    };

    let motherboard_model = SafeName::parse(
        "motherboard_model",
        &required_string(obj, "motherboard_model")?,
    )?;
    let base_image = base_image_name(&required_string(obj, "base_image")?)?;
    let customer_name = match opt_string(obj, "customer_name")? {
        Some(name) => SafeName::parse("customer_name", &name)?,
        None => SafeName("default".to_string()),
    };
    let image_index = image_index(obj)?;
    let driver_set = opt_string(obj, "driver_set")?
        .map(|s| SafeName::parse("driver_set", &s))
        .transpose()?;

    let langpacks = string_list(obj, "langpacks")?;
    let updates = string_list(obj, "updates")?;
    let software = string_list(obj, "software")?;

    let answer_file = opt_string(obj, "answer_file")?
        .map(|s| answer_file_path(&s))
        .transpose()?;
    let product_key = opt_string(obj, "product_key")?
        .filter(|k| !k.trim().is_empty())
        .map(|k| ProductKey::parse(&k))
        .transpose()?;
    let default_variants = if product_key.is_some() {
        "key"
    } else {
        "nokey"
    };
    let key_variants = one_of(
        "key_variants",
        opt_string(obj, "key_variants")?,
        &KEY_VARIANTS,
        default_variants,
    )?;
    if key_variants != "nokey" && product_key.is_none() {
        return Err(ApiError::invalid(
            "key_variants",
            "invalid_value",
            format!("key_variants {key_variants:?} needs a product_key"),
        ));
    }
    let create_iso = opt_bool(obj, "create_iso")?.unwrap_or(false);
    let compression = one_of(
        "compression",
        opt_string(obj, "compression")?,
        &COMPRESSIONS,
        "lzx",
    )?;
    let log_level = match one_of(
        "log_level",
        opt_string(obj, "log_level")?,
        &["normal", "verbose"],
        "normal",
    )?
    .as_str()
    {
        "verbose" => LogLevel::Verbose,
        _ => LogLevel::Normal,
    };
    let image_name = opt_string(obj, "image_name")?
        .map(|name| image_name(&name))
        .transpose()?;
    let recompress_winre = opt_bool(obj, "recompress_winre")?.unwrap_or(false);
    let recompress = opt_bool(obj, "recompress")?.unwrap_or(false);
    let software_switches = software_switches(obj, &software)?;

    Ok(JobRequest {
        motherboard_model: motherboard_model.0,
        base_image,
        customer_name: customer_name.0,
        image_index,
        driver_set: driver_set.map(|s| s.0),
        langpacks,
        updates,
        software,
        answer_file,
        product_key: product_key.map(ProductKey::into_inner),
        key_variants,
        create_iso,
        compression,
        log_level,
        options: JobOptions {
            image_name,
            recompress_winre,
            recompress,
            software_switches,
        },
    })
}

/// `software_switches`: an object mapping an `.exe` named in `software` to its silent
/// switches, which must pass the same check as a repository `.switches` sidecar.
fn software_switches(
    obj: &Map<String, Value>,
    software: &[String],
) -> Result<BTreeMap<String, String>, ApiError> {
    const FIELD: &str = "software_switches";
    let map = match obj.get(FIELD) {
        None | Some(Value::Null) => return Ok(BTreeMap::new()),
        Some(Value::Object(map)) => map,
        Some(_) => return Err(wrong_type(FIELD, "an object of file name to switches")),
    };
    let mut out = BTreeMap::new();
    for (file, value) in map {
        let Value::String(switches) = value else {
            return Err(wrong_type(FIELD, "an object of file name to switches"));
        };
        let invalid = |message: String| ApiError::invalid(FIELD, "invalid_value", message);
        if !software.iter().any(|s| s == file) {
            return Err(invalid(format!("{file:?} is not listed in software")));
        }
        if !file.to_ascii_lowercase().ends_with(".exe") {
            return Err(invalid(format!(
                "{file:?}: switches apply to .exe installers only"
            )));
        }
        wait_catalog::software::check_switches(switches)
            .map_err(|reason| invalid(format!("{file:?}: {reason}")))?;
        out.insert(file.clone(), switches.trim().to_string());
    }
    Ok(out)
}

/// Map a catalog error about `field` to an API error. Read failures of the repository
/// itself are internal errors (logged, not shown).
fn catalog_error(field: &'static str, e: CatalogError) -> ApiError {
    match e {
        CatalogError::NotFound { name, .. } => ApiError::invalid(
            field,
            "not_found",
            format!("{field}: {name:?} not found in the repository"),
        ),
        CatalogError::Invalid { message, .. } => {
            ApiError::invalid(field, "invalid_value", format!("{field}: {message}"))
        }
        CatalogError::Escapes { .. } => ApiError::invalid(
            field,
            "invalid_path",
            format!("{field}: path leaves the repository"),
        ),
        CatalogError::Incompatible { reason, .. } => {
            ApiError::invalid(field, "incompatible", format!("{field}: {reason}"))
        }
        e @ CatalogError::Wim { .. } => {
            tracing::warn!(error = %e, field, "repository file cannot be read");
            ApiError::invalid(
                field,
                "unreadable",
                format!("{field}: the file cannot be read as an image"),
            )
        }
        other => ApiError::internal(other),
    }
}

/// ISO output of a WIM, ESD or SWM needs an ISO of the same build and architecture to
/// take boot files and the Setup tree from; say which one to add.
fn no_install_media(identity: &ImageIdentity) -> ApiError {
    let message = match (identity.build, identity.arch) {
        (Some(build), Some(arch)) => format!(
            "create_iso: no ISO in 1_BaseImages/ holds an install image of build {build} {arch} to take boot files and Setup from; put a Windows install ISO of build {build} ({arch}) in 1_BaseImages/"
        ),
        _ => "create_iso: the image's build or architecture is unknown, so no ISO in 1_BaseImages/ can be matched to it as install media; use an ISO base image".to_string(),
    };
    ApiError::invalid("create_iso", "no_install_media", message)
}

/// Check a parsed request against the repository. Fills in the recommended driver set
/// when none was named, so the job records what it will use. Blocking (file system).
pub fn resolve(repo: &Repository, mut req: JobRequest) -> Result<JobRequest, ApiError> {
    let boards = repo
        .motherboards()
        .map_err(|e| catalog_error("motherboard_model", e))?;
    if !boards.contains(&req.motherboard_model) {
        return Err(ApiError::invalid(
            "motherboard_model",
            "not_found",
            format!(
                "motherboard_model: {:?} has no folder under 2_Drivers/",
                req.motherboard_model
            ),
        ));
    }

    let base = repo
        .base_image(&req.base_image)
        .map_err(|e| catalog_error("base_image", e))?;
    if base.format == "swm" {
        // Every part is readable alone, so only this says whether the set is usable.
        repo.split_parts(&req.base_image)
            .map_err(|e| catalog_error("base_image", e))?;
    }
    let identity = wait_catalog::select_index(&base, &req.image_index)
        .map_err(|e| catalog_error("image_index", e))?;
    if req.create_iso {
        let media = repo
            .install_media_for(&req.base_image, &identity)
            .map_err(|e| catalog_error("create_iso", e))?;
        if media.is_none() {
            return Err(no_install_media(&identity));
        }
    }

    match &req.driver_set {
        Some(name) => {
            let sets = repo
                .driver_sets(&req.motherboard_model)
                .map_err(|e| catalog_error("driver_set", e))?;
            if !sets.iter().any(|s| s.name == *name) {
                return Err(ApiError::invalid(
                    "driver_set",
                    "not_found",
                    format!(
                        "driver_set: {name:?} not found under 2_Drivers/{}/",
                        req.motherboard_model
                    ),
                ));
            }
        }
        None => {
            let recommended = repo
                .recommend_driver_set(&req.motherboard_model, &identity)
                .map_err(|e| catalog_error("driver_set", e))?;
            let Some(rec) = recommended else {
                return Err(ApiError::invalid(
                    "driver_set",
                    "no_driver_set",
                    format!(
                        "driver_set: no driver set of {} fits this image; name one explicitly",
                        req.motherboard_model
                    ),
                ));
            };
            req.driver_set = Some(rec.driver_set.name);
        }
    }

    if let Some(rel) = &req.answer_file {
        let path = repo
            .resolve("answer_file", ANSWER_FILES, rel)
            .map_err(|e| catalog_error("answer_file", e))?;
        if !path.is_file() {
            return Err(ApiError::invalid(
                "answer_file",
                "not_found",
                format!("answer_file: {rel:?} not found in 5_AnswerFiles/"),
            ));
        }
    }

    // Language packs, updates and software must be in a folder whose token fits the
    // image, and packages must fit its architecture and servicing baseline.
    for (kind, names) in [
        (ComponentKind::LangPack, &req.langpacks),
        (ComponentKind::Update, &req.updates),
        (ComponentKind::Software, &req.software),
    ] {
        for name in names {
            repo.locate_component(kind, &req.customer_name, name, &identity)
                .map_err(|e| catalog_error(kind.field(), e))?;
        }
    }
    Ok(req)
}

/// `resolve`, answered from memory when the same request resolved before and the
/// repository parts it reads are unchanged since (see `resolve_cache`). Blocking.
pub fn resolve_cached(repo: &Repository, req: JobRequest) -> Result<JobRequest, ApiError> {
    match crate::resolve_cache::lookup(repo, &req) {
        Ok(resolved) => Ok(resolved),
        Err(pending) => {
            let resolved = resolve(repo, req)?;
            pending.store(&resolved);
            Ok(resolved)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn field_of(body: Value) -> (u16, String) {
        let e = parse(&body).expect_err("refused");
        (e.status().as_u16(), e.field().unwrap_or("").to_string())
    }

    #[test]
    fn defaults_are_filled_in() {
        let req =
            parse(&json!({"motherboard_model": "X13SAW", "base_image": "a.wim"})).expect("ok");
        assert_eq!(req.customer_name, "default");
        assert_eq!(req.image_index, "1");
        assert_eq!(req.key_variants, "nokey");
        assert_eq!(req.compression, "lzx");
        assert_eq!(req.log_level, LogLevel::Normal);
        assert!(!req.create_iso);
    }

    #[test]
    fn product_key_switches_default_variant_to_key() {
        let req = parse(&json!({"motherboard_model": "B", "base_image": "a.wim",
            "product_key": "abcde-12345-ABCDE-12345-ABCDE", "image_index": 2}))
        .expect("ok");
        assert_eq!(req.key_variants, "key");
        assert_eq!(req.image_index, "2");
        assert_eq!(
            req.product_key.as_deref(),
            Some("ABCDE-12345-ABCDE-12345-ABCDE")
        );
    }

    #[test]
    fn malformed_values_name_their_field() {
        let cases = [
            (json!({"base_image": "a.wim"}), 422, "motherboard_model"),
            (json!({"motherboard_model": "B"}), 422, "base_image"),
            (
                json!({"motherboard_model": 5, "base_image": "a.wim"}),
                400,
                "motherboard_model",
            ),
            (
                json!({"motherboard_model": "../x", "base_image": "a.wim"}),
                422,
                "motherboard_model",
            ),
            (
                json!({"motherboard_model": "..", "base_image": "a.wim"}),
                422,
                "motherboard_model",
            ),
            (
                json!({"motherboard_model": "B", "base_image": "../a.wim"}),
                422,
                "base_image",
            ),
            (
                json!({"motherboard_model": "B", "base_image": "a.wim", "customer_name": "a b"}),
                422,
                "customer_name",
            ),
            (
                json!({"motherboard_model": "B", "base_image": "a.wim", "customer_name": "x".repeat(65)}),
                422,
                "customer_name",
            ),
            (
                json!({"motherboard_model": "B", "base_image": "a.wim", "image_index": 0}),
                422,
                "image_index",
            ),
            (
                json!({"motherboard_model": "B", "base_image": "a.wim", "image_index": 1.5}),
                422,
                "image_index",
            ),
            (
                json!({"motherboard_model": "B", "base_image": "a.wim", "image_index": true}),
                400,
                "image_index",
            ),
            (
                json!({"motherboard_model": "B", "base_image": "a.wim", "product_key": "ABC"}),
                422,
                "product_key",
            ),
            (
                json!({"motherboard_model": "B", "base_image": "a.wim", "product_key": "ABCDE-ABCDE-ABCDE-ABCDE-ABCD!"}),
                422,
                "product_key",
            ),
            (
                json!({"motherboard_model": "B", "base_image": "a.wim", "key_variants": "key"}),
                422,
                "key_variants",
            ),
            (
                json!({"motherboard_model": "B", "base_image": "a.wim", "compression": "zip"}),
                422,
                "compression",
            ),
            (
                json!({"motherboard_model": "B", "base_image": "a.wim", "log_level": "loud"}),
                422,
                "log_level",
            ),
            (
                json!({"motherboard_model": "B", "base_image": "a.wim", "create_iso": "yes"}),
                400,
                "create_iso",
            ),
            (
                json!({"motherboard_model": "B", "base_image": "a.wim", "langpacks": "x.cab"}),
                400,
                "langpacks",
            ),
            (
                json!({"motherboard_model": "B", "base_image": "a.wim", "image_name": 5}),
                400,
                "image_name",
            ),
            (
                json!({"motherboard_model": "B", "base_image": "a.wim", "image_name": ""}),
                422,
                "image_name",
            ),
            (
                json!({"motherboard_model": "B", "base_image": "a.wim", "image_name": "../x"}),
                422,
                "image_name",
            ),
            (
                json!({"motherboard_model": "B", "base_image": "a.wim", "image_name": "CON"}),
                422,
                "image_name",
            ),
            (
                json!({"motherboard_model": "B", "base_image": "a.wim", "recompress_winre": "yes"}),
                400,
                "recompress_winre",
            ),
            (
                json!({"motherboard_model": "B", "base_image": "a.wim", "recompress": 1}),
                400,
                "recompress",
            ),
            (
                json!({"motherboard_model": "B", "base_image": "a.wim", "software_switches": ["/S"]}),
                400,
                "software_switches",
            ),
            (
                json!({"motherboard_model": "B", "base_image": "a.wim", "software": ["t.exe"], "software_switches": {"t.exe": 5}}),
                400,
                "software_switches",
            ),
            (
                json!({"motherboard_model": "B", "base_image": "a.wim", "software_switches": {"t.exe": "/S"}}),
                422,
                "software_switches",
            ),
            (
                json!({"motherboard_model": "B", "base_image": "a.wim", "software": ["a.msi"], "software_switches": {"a.msi": "/S"}}),
                422,
                "software_switches",
            ),
            (
                json!({"motherboard_model": "B", "base_image": "a.wim", "software": ["t.exe"], "software_switches": {"t.exe": "/S & calc"}}),
                422,
                "software_switches",
            ),
            (
                json!({"motherboard_model": "B", "base_image": "a.wim", "software": ["t.exe"], "software_switches": {"t.exe": "/S\ncalc"}}),
                422,
                "software_switches",
            ),
            (
                json!({"motherboard_model": "B", "base_image": "a.wim", "key_variants": "both"}),
                422,
                "key_variants",
            ),
            (
                json!({"motherboard_model": "B", "base_image": "a.wim", "answer_file": "../etc/passwd"}),
                422,
                "answer_file",
            ),
            (
                json!({"motherboard_model": "B", "base_image": "a.wim", "answer_file": "X/../../a.xml"}),
                422,
                "answer_file",
            ),
            (
                json!({"motherboard_model": "B", "base_image": "a.wim", "answer_file": "/etc/passwd"}),
                422,
                "answer_file",
            ),
            (
                json!({"motherboard_model": "B", "base_image": "a.wim", "answer_file": "C:\\x.xml"}),
                422,
                "answer_file",
            ),
        ];
        for (body, status, field) in cases {
            assert_eq!(
                field_of(body.clone()),
                (status, field.to_string()),
                "{body}"
            );
        }
    }

    #[test]
    fn new_options_are_read_and_both_variants_and_iso_output_parse() {
        let req = parse(&json!({"motherboard_model": "B", "base_image": "a.swm",
            "product_key": "ABCDE-12345-ABCDE-12345-ABCDE", "key_variants": "both",
            "create_iso": true, "image_name": "X13SAW_IoT-24H2", "recompress_winre": true}))
        .expect("ok");
        assert_eq!(req.key_variants, "both");
        assert!(req.create_iso);
        assert_eq!(req.options.image_name.as_deref(), Some("X13SAW_IoT-24H2"));
        assert!(req.options.recompress_winre);
        let with = parse(&json!({"motherboard_model": "B", "base_image": "a.wim",
            "software": ["Tool.exe"], "recompress": true,
            "software_switches": {"Tool.exe": " /VERYSILENT /DIR=\"C:\\Tools\" "}}))
        .expect("valid");
        assert!(with.options.recompress);
        assert_eq!(
            with.options.software_switches["Tool.exe"],
            "/VERYSILENT /DIR=\"C:\\Tools\""
        );
        let plain = parse(&json!({"motherboard_model": "B", "base_image": "a.iso",
            "image_name": null}))
        .expect("ok");
        assert_eq!(plain.options, JobOptions::default());
    }

    #[test]
    fn answer_file_prefix_is_optional() {
        let a = answer_file_path("5_AnswerFiles/X/WIN11_24H2/autounattend.xml").expect("ok");
        let b = answer_file_path("X/WIN11_24H2/autounattend.xml").expect("ok");
        assert_eq!(a, b);
    }

    #[test]
    fn non_object_bodies_are_bad_requests() {
        for body in [json!([]), json!("x"), json!(null), json!(3)] {
            assert_eq!(parse(&body).expect_err("refused").status().as_u16(), 400);
        }
    }
}

//! One file of an output as an HTTP response: length, validators (`ETag`,
//! `Last-Modified`), `Range` (resume) with `If-Range`, `If-None-Match`, and the
//! download name, with the body streamed from the file.

use std::io::SeekFrom;
use std::path::PathBuf;

use axum::body::Body;
use axum::http::header::{
    ACCEPT_RANGES, CONTENT_DISPOSITION, CONTENT_LENGTH, CONTENT_RANGE, CONTENT_TYPE, ETAG,
    IF_NONE_MATCH, IF_RANGE, LAST_MODIFIED, RANGE,
};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use time::OffsetDateTime;
use tokio::io::AsyncSeekExt;

use super::OutputError;
use super::body::file_chunks;
use super::range::{
    RangeAnswer, http_date, if_range_holds, none_match_hits, parse_range, truncate_to_second,
};
use crate::error::ApiError;

/// How the browser should treat the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Disposition {
    /// Save it under its name.
    Attachment,
    /// Show it (the manifest view).
    Inline,
}

/// A file to serve and what the response says about it.
#[derive(Debug, Clone)]
pub struct ServedFile {
    /// Real path, already checked to be inside its output folder.
    pub path: PathBuf,
    /// Name offered to the client.
    pub name: String,
    pub content_type: &'static str,
    /// SHA-256 the folder's checksum file records for this file, if any: the strong
    /// entity tag.
    pub sha256: Option<String>,
    pub disposition: Disposition,
}

/// Answer a GET (or HEAD) for `file` under the conditional and range headers of the
/// request: 304, 206, 416 or 200.
pub async fn serve_file(file: ServedFile, request: &HeaderMap) -> Result<Response, OutputError> {
    let mut handle = tokio::fs::File::open(&file.path)
        .await
        .map_err(|e| OutputError::io(&file.path, e))?;
    // Length and time come from the opened file, so they describe what is streamed.
    let meta = handle
        .metadata()
        .await
        .map_err(|e| OutputError::io(&file.path, e))?;
    let len = meta.len();
    let modified: OffsetDateTime = meta
        .modified()
        .map_err(|e| OutputError::io(&file.path, e))?
        .into();
    let etag = match &file.sha256 {
        Some(sha) => format!("\"sha256-{sha}\""),
        // Without a recorded hash, size and modification time stand for the content.
        None => format!("\"{len:x}-{:x}\"", modified.unix_timestamp_nanos().max(0)),
    };
    let mut headers = HeaderMap::new();
    insert(&mut headers, ETAG, &etag);
    insert(
        &mut headers,
        LAST_MODIFIED,
        &http_date(truncate_to_second(modified)),
    );
    headers.insert(ACCEPT_RANGES, HeaderValue::from_static("bytes"));

    if let Some(tags) = header_str(request, IF_NONE_MATCH) {
        if none_match_hits(tags, &etag) {
            return Ok((StatusCode::NOT_MODIFIED, headers).into_response());
        }
    }
    let range_allowed =
        header_str(request, IF_RANGE).is_none_or(|value| if_range_holds(value, &etag, modified));
    let answer = match header_str(request, RANGE) {
        Some(range) if range_allowed => parse_range(range, len),
        _ => RangeAnswer::Full,
    };

    headers.insert(CONTENT_TYPE, HeaderValue::from_static(file.content_type));
    let disposition = match file.disposition {
        Disposition::Attachment => content_disposition("attachment", &file.name),
        Disposition::Inline => content_disposition("inline", &file.name),
    };
    headers.insert(CONTENT_DISPOSITION, disposition);
    let (status, start, count) = match answer {
        RangeAnswer::Full => (StatusCode::OK, 0, len),
        RangeAnswer::Partial(range) => {
            insert(&mut headers, CONTENT_RANGE, &range.content_range(len));
            (StatusCode::PARTIAL_CONTENT, range.start, range.byte_count())
        }
        RangeAnswer::Unsatisfiable => {
            let mut response = ApiError::new(
                StatusCode::RANGE_NOT_SATISFIABLE,
                "range_not_satisfiable",
                format!("the requested range is outside the file ({len} bytes)"),
            )
            .with_field("Range")
            .into_response();
            insert(
                response.headers_mut(),
                CONTENT_RANGE,
                &format!("bytes */{len}"),
            );
            for name in [ETAG, LAST_MODIFIED, ACCEPT_RANGES] {
                if let Some(value) = headers.remove(&name) {
                    response.headers_mut().insert(name, value);
                }
            }
            return Ok(response);
        }
    };
    if start > 0 {
        handle
            .seek(SeekFrom::Start(start))
            .await
            .map_err(|e| OutputError::io(&file.path, e))?;
    }
    insert(&mut headers, CONTENT_LENGTH, &count.to_string());
    let body = Body::from_stream(file_chunks(handle, count));
    Ok((status, headers, body).into_response())
}

/// `attachment; filename="…"; filename*=UTF-8''…`: an ASCII fallback name for old
/// clients, the exact UTF-8 name (RFC 6266 / RFC 8187) for the rest.
pub fn content_disposition(kind: &str, name: &str) -> HeaderValue {
    let fallback: String = name
        .chars()
        .map(|c| {
            if c == ' ' || (c.is_ascii_graphic() && c != '"' && c != '\\') {
                c
            } else {
                '_'
            }
        })
        .collect();
    let mut encoded = String::new();
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&b) {
            encoded.push(char::from(b));
        } else {
            encoded.push_str(&format!("%{b:02X}"));
        }
    }
    let value = format!("{kind}; filename=\"{fallback}\"; filename*=UTF-8''{encoded}");
    // Only printable ASCII went in, so this cannot fail; a plain kind is the fallback.
    HeaderValue::from_str(&value).unwrap_or_else(|_| HeaderValue::from_static("attachment"))
}

fn header_str(headers: &HeaderMap, name: axum::http::HeaderName) -> Option<&str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// Set a header whose value the server composed from ASCII (numbers, hex, dates).
fn insert(headers: &mut HeaderMap, name: axum::http::HeaderName, value: &str) {
    if let Ok(value) = HeaderValue::from_str(value) {
        headers.insert(name, value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn download_names_get_an_ascii_fallback_and_an_exact_encoded_form() {
        let plain = content_disposition("attachment", "install_key.wim");
        assert_eq!(
            plain,
            "attachment; filename=\"install_key.wim\"; filename*=UTF-8''install_key.wim"
        );
        let odd = content_disposition("attachment", "Müller \"A\".zip");
        assert_eq!(
            odd,
            "attachment; filename=\"M_ller _A_.zip\"; \
             filename*=UTF-8''M%C3%BCller%20%22A%22.zip"
        );
    }
}

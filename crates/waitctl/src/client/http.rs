//! The HTTP side of the client: one `reqwest` client, the bearer credential, and the
//! translation of the API's error body into `error: <message> (field: x)`.

use std::fmt;

use reqwest::header::AUTHORIZATION;
use reqwest::{Method, RequestBuilder, Response, Url};
use serde_json::Value;

/// Why a call to the server failed.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("cannot reach the WAIT server at {server}: {reason}")]
    Unreachable { server: String, reason: String },
    #[error("{message}{}", field_note(.field))]
    Api {
        status: u16,
        code: String,
        message: String,
        field: Option<String>,
    },
    #[error("the server at {server} answered {status} to {what}: {body}")]
    Unexpected {
        server: String,
        what: String,
        status: u16,
        body: String,
    },
    #[error("the server's answer to {what} is not the expected JSON: {reason}")]
    BadBody { what: String, reason: String },
    #[error("invalid server URL {server:?}: {reason}")]
    BadUrl { server: String, reason: String },
}

fn field_note(field: &Option<String>) -> String {
    field
        .as_deref()
        .map(|f| format!(" (field: {f})"))
        .unwrap_or_default()
}

/// The server's text for a reqwest failure, with its causes (the first line alone says
/// only "error sending request").
fn chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

/// A connection to one WAIT server with an optional bearer credential (an API token,
/// or the session token saved by `waitctl login`; the server accepts both as Bearer,
/// and a bearer credential needs no `Origin` header on changes).
pub struct Api {
    base: Url,
    bearer: Option<String>,
    http: reqwest::Client,
}

impl fmt::Debug for Api {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Api")
            .field("base", &self.base.as_str())
            .field("bearer", &self.bearer.as_ref().map(|_| "[redacted]"))
            .finish()
    }
}

impl Api {
    pub fn new(server: &str, bearer: Option<String>) -> Result<Self, ClientError> {
        let bad = |reason: String| ClientError::BadUrl {
            server: server.to_string(),
            reason,
        };
        let base = Url::parse(server.trim_end_matches('/')).map_err(|e| bad(e.to_string()))?;
        if !matches!(base.scheme(), "http" | "https") || base.cannot_be_a_base() {
            return Err(bad("use http://host:port or https://host".to_string()));
        }
        let http = reqwest::Client::builder()
            .user_agent(concat!("waitctl/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| bad(chain(&e)))?;
        Ok(Self { base, bearer, http })
    }

    /// The server as the user named it, for messages.
    pub fn server(&self) -> &str {
        self.base.as_str().trim_end_matches('/')
    }

    /// `base` + the given path segments (each percent-encoded) + query pairs (empty
    /// values left out).
    pub fn url(&self, segments: &[&str], query: &[(&str, &str)]) -> Url {
        let mut url = self.base.clone();
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty().extend(segments);
        }
        let query: Vec<&(&str, &str)> = query.iter().filter(|(_, v)| !v.is_empty()).collect();
        if !query.is_empty() {
            url.query_pairs_mut().extend_pairs(query);
        }
        url
    }

    pub fn request(&self, method: Method, url: Url) -> RequestBuilder {
        let req = self.http.request(method, url);
        match &self.bearer {
            Some(token) => req.header(AUTHORIZATION, format!("Bearer {token}")),
            None => req,
        }
    }

    /// Send; a transport failure names the server, an error status becomes the API's
    /// own error.
    pub async fn send(&self, req: RequestBuilder, what: &str) -> Result<Response, ClientError> {
        let resp = req.send().await.map_err(|e| self.unreachable(&e))?;
        if resp.status().is_success() {
            return Ok(resp);
        }
        Err(self.error_of(resp, what).await)
    }

    pub fn unreachable(&self, e: &reqwest::Error) -> ClientError {
        ClientError::Unreachable {
            server: self.server().to_string(),
            reason: chain(e),
        }
    }

    /// The `{"error": {code, message, field?}}` body of a failed answer.
    pub async fn error_of(&self, resp: Response, what: &str) -> ClientError {
        let status = resp.status().as_u16();
        let body = resp.text().await.unwrap_or_default();
        let parsed: Option<Value> = serde_json::from_str(&body).ok();
        let error = parsed.as_ref().and_then(|v| v.get("error"));
        match error.and_then(|e| e.get("message")).and_then(Value::as_str) {
            Some(message) => ClientError::Api {
                status,
                code: text_of(error, "code"),
                message: message.to_string(),
                field: error
                    .and_then(|e| e.get("field"))
                    .and_then(Value::as_str)
                    .map(str::to_string),
            },
            None => ClientError::Unexpected {
                server: self.server().to_string(),
                what: what.to_string(),
                status,
                body: body.chars().take(200).collect(),
            },
        }
    }

    pub async fn get_json(&self, url: Url, what: &str) -> Result<Value, ClientError> {
        let resp = self.send(self.request(Method::GET, url), what).await?;
        json_of(resp, what).await
    }

    /// POST with a JSON body; returns the HTTP status with the answer.
    pub async fn post_json(
        &self,
        url: Url,
        body: &Value,
        what: &str,
    ) -> Result<(u16, Value), ClientError> {
        let resp = self
            .send(self.request(Method::POST, url).json(body), what)
            .await?;
        let status = resp.status().as_u16();
        Ok((status, json_of(resp, what).await?))
    }
}

fn text_of(v: Option<&Value>, key: &str) -> String {
    v.and_then(|v| v.get(key))
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

pub async fn json_of(resp: Response, what: &str) -> Result<Value, ClientError> {
    resp.json().await.map_err(|e| ClientError::BadBody {
        what: what.to_string(),
        reason: chain(&e),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_encode_segments_and_skip_empty_query_values() {
        let api = Api::new("http://127.0.0.1:8080/", None).unwrap();
        let url = api.url(
            &["api", "outputs", "A B", "x/y"],
            &[("variant", "key"), ("q", "")],
        );
        assert_eq!(
            url.as_str(),
            "http://127.0.0.1:8080/api/outputs/A%20B/x%2Fy?variant=key"
        );
    }

    #[test]
    fn bad_server_urls_are_refused_with_the_url() {
        for bad in ["127.0.0.1:8080", "ftp://host", "not a url", ""] {
            let err = Api::new(bad, None).unwrap_err().to_string();
            assert!(err.contains("invalid server URL"), "{bad}: {err}");
        }
    }

    #[test]
    fn api_errors_print_message_and_field() {
        let e = ClientError::Api {
            status: 422,
            code: "not_found".into(),
            message: "no board NOPE".into(),
            field: Some("motherboard_model".into()),
        };
        assert_eq!(e.to_string(), "no board NOPE (field: motherboard_model)");
    }

    #[test]
    fn debug_never_shows_the_credential() {
        let api = Api::new("http://h", Some("wait_secret".into())).unwrap();
        assert!(!format!("{api:?}").contains("wait_secret"));
    }
}

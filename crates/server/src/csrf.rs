//! Cross-site request forgery guard for the session cookie.
//!
//! The cookie is `SameSite=Lax`, which already keeps it off most cross-site requests; this
//! is the second lock. A state-changing request (any method but GET, HEAD, OPTIONS and
//! TRACE) that authenticates with the cookie must say where it comes from: its `Origin`
//! (or, without one, its `Referer`) must be this server, as named by the request's
//! `Host`, or one of the configured allowed origins. Requests with
//! `Authorization: Bearer` are exempt: a browser never attaches that header on its own.

use axum::http::header::{HOST, ORIGIN, REFERER};
use axum::http::uri::Authority;
use axum::http::{HeaderMap, Method, StatusCode, Uri};

use crate::error::ApiError;

/// Whether a method may change state, so that a forged one matters.
pub fn is_state_changing(method: &Method) -> bool {
    !matches!(
        *method,
        Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE
    )
}

/// A request authenticated by the session cookie: state-changing methods need a matching
/// `Origin` or `Referer`.
pub fn check_cookie_request(
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    allowed: &[String],
) -> Result<(), ApiError> {
    if !is_state_changing(method) {
        return Ok(());
    }
    let source = match headers.get(ORIGIN) {
        Some(origin) => origin,
        None => headers.get(REFERER).ok_or_else(|| {
            refused(
                "a request authenticated by the session cookie needs an Origin or Referer header",
            )
        })?,
    };
    let source = source
        .to_str()
        .ok()
        .and_then(SiteOrigin::parse)
        .ok_or_else(|| refused("the Origin or Referer header is not a web origin"))?;
    check_source(&source, uri, headers, allowed)
}

/// A login: when the browser names the page that sent it, that page must be ours, so a
/// foreign page cannot log a visitor in under the attacker's account. Scripts that send
/// no Origin are let through (they can only log themselves in).
pub fn check_login(uri: &Uri, headers: &HeaderMap, allowed: &[String]) -> Result<(), ApiError> {
    let Some(origin) = headers.get(ORIGIN) else {
        return Ok(());
    };
    let origin = origin
        .to_str()
        .ok()
        .and_then(SiteOrigin::parse)
        .ok_or_else(|| refused("the Origin header is not a web origin"))?;
    check_source(&origin, uri, headers, allowed)
}

fn check_source(
    source: &SiteOrigin,
    uri: &Uri,
    headers: &HeaderMap,
    allowed: &[String],
) -> Result<(), ApiError> {
    let host = headers
        .get(HOST)
        .and_then(|h| h.to_str().ok())
        .and_then(|h| h.parse::<Authority>().ok())
        .or_else(|| uri.authority().cloned());
    if host.is_some_and(|host| source.serves(&host)) {
        return Ok(());
    }
    if allowed
        .iter()
        .filter_map(|a| SiteOrigin::parse(a))
        .any(|a| a == *source)
    {
        return Ok(());
    }
    Err(refused(
        "the request comes from another site (Origin or Referer does not match this server)",
    ))
}

fn refused(message: &'static str) -> ApiError {
    ApiError::new(StatusCode::FORBIDDEN, "csrf", message)
}

/// `scheme://host:port` with the scheme and host in lower case and the port explicit.
#[derive(Debug, Clone, PartialEq, Eq)]
struct SiteOrigin {
    scheme: String,
    host: String,
    port: u16,
}

impl SiteOrigin {
    /// An origin, or the origin of a URL (a Referer). `null`, other schemes and URLs
    /// with credentials are not origins.
    fn parse(value: &str) -> Option<SiteOrigin> {
        let uri: Uri = value.trim().trim_end_matches('/').parse().ok()?;
        let scheme = uri.scheme_str()?.to_ascii_lowercase();
        let default_port = match scheme.as_str() {
            "http" => 80,
            "https" => 443,
            _ => return None,
        };
        let authority = uri.authority()?;
        if authority.as_str().contains('@') {
            return None;
        }
        Some(SiteOrigin {
            host: authority.host().to_ascii_lowercase(),
            port: authority.port_u16().unwrap_or(default_port),
            scheme,
        })
    }

    /// Whether this origin is the server reached through `host` (the `Host` header). The
    /// server cannot see whether a proxy in front of it spoke TLS, so the scheme only
    /// decides the port a bare host name means.
    fn serves(&self, host: &Authority) -> bool {
        let default_port = if self.scheme == "https" { 443 } else { 80 };
        host.host().eq_ignore_ascii_case(&self.host)
            && host.port_u16().unwrap_or(default_port) == self.port
    }
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (name, value) in pairs {
            h.insert(*name, HeaderValue::from_str(value).expect("header value"));
        }
        h
    }

    fn post(pairs: &[(&'static str, &str)], allowed: &[String]) -> Result<(), ApiError> {
        let uri: Uri = "/api/job".parse().expect("uri");
        check_cookie_request(&Method::POST, &uri, &headers(pairs), allowed)
    }

    #[test]
    fn safe_methods_need_no_origin() {
        let uri: Uri = "/api/job".parse().expect("uri");
        for method in [Method::GET, Method::HEAD, Method::OPTIONS] {
            assert!(check_cookie_request(&method, &uri, &HeaderMap::new(), &[]).is_ok());
        }
        for method in [Method::POST, Method::PUT, Method::PATCH, Method::DELETE] {
            assert!(is_state_changing(&method), "{method}");
        }
    }

    #[test]
    fn same_origin_is_accepted_with_or_without_default_ports() {
        let host = ("host", "wait.example:8080");
        assert!(post(&[host, ("origin", "http://wait.example:8080")], &[]).is_ok());
        assert!(post(&[host, ("origin", "HTTP://WAIT.example:8080")], &[]).is_ok());
        assert!(
            post(
                &[host, ("referer", "http://wait.example:8080/jobs?x=1")],
                &[]
            )
            .is_ok()
        );
        assert!(
            post(
                &[("host", "wait.example"), ("origin", "http://wait.example")],
                &[]
            )
            .is_ok()
        );
        assert!(
            post(
                &[
                    ("host", "wait.example"),
                    ("origin", "https://wait.example:443")
                ],
                &[]
            )
            .is_ok()
        );
        assert!(
            post(
                &[("host", "[::1]:8080"), ("origin", "http://[::1]:8080")],
                &[]
            )
            .is_ok()
        );
    }

    #[test]
    fn missing_foreign_and_malformed_origins_are_refused_with_code_csrf() {
        let host = ("host", "wait.example:8080");
        let cases: &[&[(&'static str, &str)]] = &[
            &[host],
            &[host, ("origin", "http://evil.example:8080")],
            &[host, ("origin", "http://wait.example:8081")],
            &[host, ("origin", "http://wait.example")],
            &[host, ("origin", "null")],
            &[host, ("origin", "ftp://wait.example:8080")],
            &[host, ("origin", "http://user@wait.example:8080")],
            &[host, ("referer", "http://evil.example/wait.example:8080")],
            // Origin wins over a matching Referer
            &[
                host,
                ("origin", "http://evil.example"),
                ("referer", "http://wait.example:8080/"),
            ],
            &[("origin", "http://wait.example:8080")],
        ];
        for case in cases {
            let err = post(case, &[]).expect_err("refused");
            assert_eq!(err.status(), StatusCode::FORBIDDEN, "{case:?}");
            assert_eq!(err.code(), "csrf", "{case:?}");
        }
    }

    #[test]
    fn configured_origins_are_accepted() {
        let allowed = vec![
            "https://wait.example.com/".to_string(),
            "not a url".to_string(),
        ];
        let behind_proxy = ("host", "127.0.0.1:8080");
        assert!(
            post(
                &[behind_proxy, ("origin", "https://wait.example.com")],
                &allowed
            )
            .is_ok()
        );
        assert!(
            post(
                &[behind_proxy, ("origin", "https://wait.example.com:443")],
                &allowed
            )
            .is_ok()
        );
        assert!(
            post(
                &[behind_proxy, ("origin", "http://wait.example.com")],
                &allowed
            )
            .is_err()
        );
    }

    #[test]
    fn login_checks_only_an_origin_that_is_present() {
        let uri: Uri = "/api/auth/login".parse().expect("uri");
        let host = ("host", "wait.example:8080");
        assert!(check_login(&uri, &headers(&[host]), &[]).is_ok());
        assert!(
            check_login(
                &uri,
                &headers(&[host, ("origin", "http://wait.example:8080")]),
                &[]
            )
            .is_ok()
        );
        let err = check_login(
            &uri,
            &headers(&[host, ("origin", "http://evil.example")]),
            &[],
        )
        .expect_err("foreign origin");
        assert_eq!(err.code(), "csrf");
    }
}

//! Printing settings without their secrets: the effective config as TOML, each value
//! followed by where it came from.

use super::{Entry, Redact, Settings};

pub const REDACTED: &str = "<redacted>";

/// `postgres://user:secret@host/db` → `postgres://user:<redacted>@host/db`; a
/// `password=` query parameter is replaced too.
pub fn redact_url(url: &str) -> String {
    let mut out = url.to_string();
    if let Some(scheme_end) = out.find("://") {
        let rest_start = scheme_end + 3;
        let authority_end = out[rest_start..]
            .find(['/', '?'])
            .map_or(out.len(), |i| rest_start + i);
        if let Some(at) = out[rest_start..authority_end].rfind('@') {
            let userinfo = &out[rest_start..rest_start + at];
            if let Some(colon) = userinfo.find(':') {
                let from = rest_start + colon + 1;
                out.replace_range(from..rest_start + at, REDACTED);
            }
        }
    }
    if let Some(q) = out.find('?') {
        let (head, query) = out.split_at(q + 1);
        let query: Vec<String> = query
            .split('&')
            .map(|pair| match pair.split_once('=') {
                Some((k, _)) if k.eq_ignore_ascii_case("password") => format!("{k}={REDACTED}"),
                _ => pair.to_string(),
            })
            .collect();
        out = format!("{head}{}", query.join("&"));
    }
    out
}

/// The value as TOML text, secrets replaced; None when unset.
pub fn display_value(e: &Entry) -> Option<String> {
    let v = e.value.as_ref()?;
    Some(match (e.redact, v) {
        (Redact::None, v) => v.to_string(),
        (Redact::UrlPassword, toml::Value::String(s)) => {
            toml::Value::String(redact_url(s)).to_string()
        }
        _ => toml::Value::String(REDACTED.to_string()).to_string(),
    })
}

/// The effective settings as a TOML document: `key = value  # source`. Unset values
/// are printed as comments, so the output parses as a config file.
pub fn render_toml(settings: &Settings) -> String {
    let mut out = String::new();
    let mut section = "";
    for e in settings.entries() {
        let (sec, name) = e.key.rsplit_once('.').unwrap_or(("", e.key));
        if sec != section {
            if !out.is_empty() {
                out.push('\n');
            }
            out.push_str(&format!("[{sec}]\n"));
            section = sec;
        }
        let source = e.source.label();
        match display_value(&e) {
            Some(v) => out.push_str(&format!("{name} = {v}  # {source}\n")),
            None => out.push_str(&format!("# {name} is not set  # {source}\n")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_password_is_replaced_and_the_rest_kept() {
        assert_eq!(
            redact_url("postgres://wait:s3cr%40t@db.example:5432/wait?sslmode=require"),
            "postgres://wait:<redacted>@db.example:5432/wait?sslmode=require"
        );
        assert_eq!(
            redact_url("postgres://db/wait?user=wait&password=hunter2"),
            "postgres://db/wait?user=wait&password=<redacted>"
        );
        assert_eq!(
            redact_url("sqlite:///srv/wait/wait.db"),
            "sqlite:///srv/wait/wait.db"
        );
        assert_eq!(
            redact_url("postgres://wait@db/wait"),
            "postgres://wait@db/wait"
        );
    }
}

//! The slash command's `application/x-www-form-urlencoded` body.
//!
//! Decoding is strict: a broken `%` escape, bytes that are not UTF-8 or a field sent twice
//! make the body malformed, rather than being silently altered into a different command.

/// The fields of a slash command this server reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlashCommand {
    /// The command as typed, e.g. `/wait`.
    pub command: String,
    /// Everything after the command; may be empty.
    pub text: String,
    pub user_id: String,
    pub user_name: String,
    pub team_id: Option<String>,
    pub response_url: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FormError {
    #[error("broken %-escape in the form body")]
    BadEscape,
    #[error("the form body is not UTF-8 text")]
    NotUtf8,
    #[error("form field {0:?} is sent twice")]
    Duplicate(String),
    #[error("form field {0:?} is missing")]
    Missing(&'static str),
}

/// Every `name=value` pair in order, decoded (`+` is a space, `%XX` a byte).
pub fn decode(body: &[u8]) -> Result<Vec<(String, String)>, FormError> {
    body.split(|b| *b == b'&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (name, value) = match pair.iter().position(|b| *b == b'=') {
                Some(i) => (&pair[..i], &pair[i + 1..]),
                None => (pair, &[][..]),
            };
            Ok((unescape(name)?, unescape(value)?))
        })
        .collect()
}

fn unescape(raw: &[u8]) -> Result<String, FormError> {
    let mut out = Vec::with_capacity(raw.len());
    let mut bytes = raw.iter().copied();
    while let Some(b) = bytes.next() {
        match b {
            b'+' => out.push(b' '),
            b'%' => {
                let hi = bytes.next().and_then(hex_value);
                let lo = bytes.next().and_then(hex_value);
                match (hi, lo) {
                    (Some(hi), Some(lo)) => out.push((hi << 4) | lo),
                    _ => return Err(FormError::BadEscape),
                }
            }
            other => out.push(other),
        }
    }
    String::from_utf8(out).map_err(|_| FormError::NotUtf8)
}

fn hex_value(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

impl SlashCommand {
    /// Read a slash command from its raw body. `text`, `user_id` and `user_name` are
    /// required (Slack always sends them, `text` possibly empty); fields this server does
    /// not read are ignored.
    pub fn from_form(body: &[u8]) -> Result<Self, FormError> {
        let mut fields = decode(body)?;
        fields.sort_by(|a, b| a.0.cmp(&b.0));
        if let Some(pair) = fields.windows(2).find(|w| w[0].0 == w[1].0) {
            return Err(FormError::Duplicate(pair[0].0.clone()));
        }
        let take = |name: &str| {
            fields
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.clone())
        };
        let required = |name: &'static str| take(name).ok_or(FormError::Missing(name));
        Ok(SlashCommand {
            command: take("command").unwrap_or_default(),
            text: required("text")?,
            user_id: required("user_id")?,
            user_name: required("user_name")?,
            team_id: take("team_id"),
            response_url: take("response_url"),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_slack_body_is_read() {
        let body = b"token=x&team_id=T01&team_domain=acme&channel_id=C1&channel_name=builds\
            &user_id=U42&user_name=jane.doe&command=%2Fwait\
            &text=build+board%3DX13SAW+customer%3D%22ACME+01%22\
            &response_url=https%3A%2F%2Fhooks.example%2Fr&trigger_id=1.2";
        let cmd = SlashCommand::from_form(body).expect("parsed");
        assert_eq!(cmd.command, "/wait");
        assert_eq!(cmd.text, "build board=X13SAW customer=\"ACME 01\"");
        assert_eq!(cmd.user_id, "U42");
        assert_eq!(cmd.user_name, "jane.doe");
        assert_eq!(cmd.team_id.as_deref(), Some("T01"));
        assert_eq!(cmd.response_url.as_deref(), Some("https://hooks.example/r"));
    }

    #[test]
    fn empty_text_and_utf8_escapes_are_fine() {
        let cmd = SlashCommand::from_form(b"text=&user_id=U1&user_name=J%C3%B6rg").expect("ok");
        assert_eq!(cmd.text, "");
        assert_eq!(cmd.user_name, "Jörg");
        assert_eq!(cmd.command, "");
    }

    #[test]
    fn malformed_bodies_are_refused() {
        let cases: [(&[u8], FormError); 8] = [
            (b"text=%&user_id=U&user_name=j", FormError::BadEscape),
            (b"text=%4&user_id=U&user_name=j", FormError::BadEscape),
            (b"text=%zz&user_id=U&user_name=j", FormError::BadEscape),
            (b"text=%FF&user_id=U&user_name=j", FormError::NotUtf8),
            (b"text=\xff&user_id=U&user_name=j", FormError::NotUtf8),
            (
                b"text=a&text=b&user_id=U&user_name=j",
                FormError::Duplicate("text".to_string()),
            ),
            (b"user_id=U&user_name=j", FormError::Missing("text")),
            (b"{\"text\":\"queue\"}", FormError::Missing("text")),
        ];
        for (body, want) in cases {
            assert_eq!(
                SlashCommand::from_form(body),
                Err(want),
                "{}",
                String::from_utf8_lossy(body)
            );
        }
    }
}

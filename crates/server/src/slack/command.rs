//! The text after `/wait`: a verb and its arguments.
//!
//! `build` takes `key=value` words that become a `POST /api/job` body, so a build asked
//! for in Slack is checked by exactly the rules of the API. Values may be quoted
//! (`customer="ACME 01"`); lists are comma-separated (`langpacks=a.cab,b.cab`).

use serde_json::{Map, Value};

/// What the caller asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// The text after `build`, still to be read by `build_body`.
    Build(String),
    /// A job id or id prefix, or None for the running / most recent job.
    Status(Option<String>),
    Queue,
    Help,
}

/// Split the text into its verb and the rest. Anything not understood is `Help`.
pub fn parse(text: &str) -> Command {
    let text = unescape_entities(text);
    let text = text.trim();
    let (verb, rest) = match text.split_once(char::is_whitespace) {
        Some((verb, rest)) => (verb, rest.trim()),
        None => (text, ""),
    };
    match verb.to_ascii_lowercase().as_str() {
        "build" => Command::Build(rest.to_string()),
        "status" => match rest.split_whitespace().collect::<Vec<_>>().as_slice() {
            [] => Command::Status(None),
            [job] => Command::Status(Some((*job).to_string())),
            _ => Command::Help,
        },
        "queue" if rest.is_empty() => Command::Queue,
        _ => Command::Help,
    }
}

/// Slack sends `&`, `<` and `>` in the text as HTML entities.
fn unescape_entities(text: &str) -> String {
    text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ArgError {
    #[error("say what to build: at least `board=…` and `image=…`")]
    Empty,
    #[error("`{0}` is not `key=value`")]
    NotKeyValue(String),
    #[error("the quote in `{0}=` is never closed")]
    Unclosed(String),
    #[error("unknown key `{0}`; known keys: {KNOWN_KEYS}")]
    UnknownKey(String),
    #[error("`{0}` is given twice")]
    Twice(String),
    #[error(
        "product keys are not accepted over Slack, because chat history keeps them; queue keyed builds through the web UI or the API"
    )]
    ProductKey,
}

const KNOWN_KEYS: &str = "board, image, customer, index, driver_set, langpacks, updates, \
     software, answer_file, key_variants, iso, compression";

/// How a `build` key fills the job body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Slot {
    Text(&'static str),
    List(&'static str),
    Flag(&'static str),
}

impl Slot {
    fn field(self) -> &'static str {
        match self {
            Slot::Text(f) | Slot::List(f) | Slot::Flag(f) => f,
        }
    }
}

/// The keys people type, and the API's own field names, mapped to their job field.
fn slot(key: &str) -> Option<Slot> {
    Some(match key {
        "board" | "motherboard" | "motherboard_model" => Slot::Text("motherboard_model"),
        "image" | "base_image" => Slot::Text("base_image"),
        "customer" | "customer_name" => Slot::Text("customer_name"),
        "index" | "image_index" => Slot::Text("image_index"),
        "driver_set" => Slot::Text("driver_set"),
        "answer_file" => Slot::Text("answer_file"),
        "key_variants" => Slot::Text("key_variants"),
        "compression" => Slot::Text("compression"),
        "langpacks" => Slot::List("langpacks"),
        "updates" => Slot::List("updates"),
        "software" => Slot::List("software"),
        "iso" | "create_iso" => Slot::Flag("create_iso"),
        _ => return None,
    })
}

fn is_product_key(key: &str) -> bool {
    matches!(key, "product_key" | "productkey" | "key")
}

/// The `POST /api/job` body for `build key=value…`. Values are passed on as typed; only
/// their JSON shape is chosen here (lists, and `true`/`false` for `iso`), so every value
/// rule stays in the job request parser.
pub fn build_body(args: &str) -> Result<Map<String, Value>, ArgError> {
    let pairs = split_pairs(args)?;
    if pairs.is_empty() {
        return Err(ArgError::Empty);
    }
    // Refused before anything else, so the answer does not depend on the other keys.
    if pairs.iter().any(|(k, _)| is_product_key(k)) {
        return Err(ArgError::ProductKey);
    }
    let mut body = Map::new();
    for (key, value) in pairs {
        let slot = slot(&key).ok_or_else(|| ArgError::UnknownKey(key.clone()))?;
        let json = match slot {
            Slot::Text(_) => Value::String(value),
            Slot::List(_) => Value::Array(
                value
                    .split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(|s| Value::String(s.to_string()))
                    .collect(),
            ),
            // Anything but true/false stays a string, which the parser refuses by name.
            Slot::Flag(_) => match value.to_ascii_lowercase().as_str() {
                "true" => Value::Bool(true),
                "false" => Value::Bool(false),
                _ => Value::String(value),
            },
        };
        if body.insert(slot.field().to_string(), json).is_some() {
            return Err(ArgError::Twice(key));
        }
    }
    Ok(body)
}

/// `key=value` words; keys are lower-cased, values unquoted. A value is read like a
/// shell word: quoted parts (straight or curly quotes, as chat clients like to turn
/// them) may hold spaces, and end at the matching quote.
fn split_pairs(args: &str) -> Result<Vec<(String, String)>, ArgError> {
    let mut pairs = Vec::new();
    let mut chars = args.chars().peekable();
    loop {
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        if chars.peek().is_none() {
            return Ok(pairs);
        }
        let mut key = String::new();
        while let Some(c) = chars.next_if(|c| *c != '=' && !c.is_whitespace()) {
            key.push(c);
        }
        let has_equals = chars.next_if_eq(&'=').is_some();
        if !has_equals || key.is_empty() {
            let mut word = key;
            if has_equals {
                word.push('=');
            }
            while let Some(c) = chars.next_if(|c| !c.is_whitespace()) {
                word.push(c);
            }
            return Err(ArgError::NotKeyValue(word));
        }
        let key = key.to_ascii_lowercase();
        let mut value = String::new();
        while let Some(c) = chars.next_if(|c| !c.is_whitespace()) {
            match closing_quote(c) {
                Some(close) => loop {
                    match chars.next() {
                        Some(c) if close.contains(&c) => break,
                        Some(c) => value.push(c),
                        None => return Err(ArgError::Unclosed(key)),
                    }
                },
                None => value.push(c),
            }
        }
        pairs.push((key, value));
    }
}

/// The characters that may end a quote opened by `open`.
fn closing_quote(open: char) -> Option<&'static [char]> {
    match open {
        '"' => Some(&['"']),
        '\'' => Some(&['\'']),
        '\u{201C}' | '\u{201D}' => Some(&['\u{201C}', '\u{201D}']),
        '\u{2018}' | '\u{2019}' => Some(&['\u{2018}', '\u{2019}']),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn verbs_are_recognised() {
        let cases = [
            ("build board=X", Command::Build("board=X".to_string())),
            ("  BUILD   board=X  ", Command::Build("board=X".to_string())),
            ("build", Command::Build(String::new())),
            ("status", Command::Status(None)),
            (
                "status 0190abcd",
                Command::Status(Some("0190abcd".to_string())),
            ),
            ("status a b", Command::Help),
            ("queue", Command::Queue),
            ("queue now", Command::Help),
            ("", Command::Help),
            ("help", Command::Help),
            ("deploy everything", Command::Help),
        ];
        for (text, want) in cases {
            assert_eq!(parse(text), want, "{text:?}");
        }
    }

    #[test]
    fn build_words_become_a_job_body() {
        let body = build_body(
            "board=X13SAW image=\"Win 11.wim\" customer=ACME index=2 driver_set=DS1 \
             langpacks=de-de.cab,fr-fr.cab updates= software=a.msi answer_file=X/a.xml \
             key_variants=nokey iso=TRUE compression=lzms",
        )
        .expect("parsed");
        assert_eq!(
            Value::Object(body),
            json!({
                "motherboard_model": "X13SAW",
                "base_image": "Win 11.wim",
                "customer_name": "ACME",
                "image_index": "2",
                "driver_set": "DS1",
                "langpacks": ["de-de.cab", "fr-fr.cab"],
                "updates": [],
                "software": ["a.msi"],
                "answer_file": "X/a.xml",
                "key_variants": "nokey",
                "create_iso": true,
                "compression": "lzms",
            })
        );
    }

    #[test]
    fn quotes_of_every_kind_and_api_names_are_read() {
        let body = build_body(
            "motherboard_model=B base_image='a b.wim' customer_name=\u{201C}ACME 01\u{201D} \
             image_index=\u{2018}IoT Enterprise\u{2019} create_iso=no",
        )
        .expect("parsed");
        assert_eq!(body["base_image"], "a b.wim");
        assert_eq!(body["customer_name"], "ACME 01");
        assert_eq!(body["image_index"], "IoT Enterprise");
        // not a boolean: left for the job parser to refuse by name
        assert_eq!(body["create_iso"], "no");
    }

    #[test]
    fn entities_from_slack_are_decoded_before_splitting() {
        match parse("build board=B image=a&amp;b.wim") {
            Command::Build(rest) => {
                assert_eq!(build_body(&rest).expect("ok")["base_image"], "a&b.wim");
            }
            other => panic!("not a build: {other:?}"),
        }
    }

    #[test]
    fn bad_arguments_are_named() {
        let cases = [
            ("", ArgError::Empty),
            ("   ", ArgError::Empty),
            ("board", ArgError::NotKeyValue("board".to_string())),
            (
                "board=B X13SAW",
                ArgError::NotKeyValue("X13SAW".to_string()),
            ),
            ("=B", ArgError::NotKeyValue("=B".to_string())),
            ("image=\"a.wim", ArgError::Unclosed("image".to_string())),
            ("color=red", ArgError::UnknownKey("color".to_string())),
            (
                "board=A motherboard=B",
                ArgError::Twice("motherboard".to_string()),
            ),
            (
                "board=B product_key=ABCDE-ABCDE-ABCDE-ABCDE-ABCDE",
                ArgError::ProductKey,
            ),
            ("color=red key=ABCDE", ArgError::ProductKey),
            ("PRODUCTKEY=x board=B", ArgError::ProductKey),
        ];
        for (args, want) in cases {
            assert_eq!(build_body(args), Err(want), "{args:?}");
        }
    }

    #[test]
    fn the_product_key_refusal_does_not_echo_the_key() {
        let err = build_body("product_key=ABCDE-12345-ABCDE-12345-ABCDE").expect_err("refused");
        assert!(!err.to_string().contains("ABCDE"), "{err}");
    }
}

//! Output names: the folder a build is published in, from the customer's naming template
//! (default `{timestamp}_{board}` = the seed's `<YYYYMMDD_HHMMSS>_<board>`), and the file
//! stem of the output image.
//!
//! Output folders are shared over SMB and copied to Windows machines, so every name must
//! be valid on Linux, SMB and Windows at once. Token values come from requests and image
//! XML and are sanitised; the template's own text is the administrator's and is checked
//! instead, so a mistake shows when the template is saved rather than as odd names.

use time::OffsetDateTime;
use time::macros::format_description;

/// The template used when a customer has none.
pub const DEFAULT_FOLDER_TEMPLATE: &str = "{timestamp}_{board}";
/// Longest template accepted, in characters.
pub const MAX_TEMPLATE_CHARS: usize = 200;
/// Longest rendered folder name, in bytes (leaves room under Windows' 260-character paths
/// for `8_Output\<customer>\` in front and the files inside).
pub const MAX_FOLDER_NAME_BYTES: usize = 120;
/// Longest image name (file stem), in characters.
pub const MAX_IMAGE_NAME_CHARS: usize = 64;

/// Tokens a template may use, in the order the documentation lists them.
pub const TOKENS: [&str; 10] = [
    "timestamp",
    "date",
    "time",
    "board",
    "customer",
    "job",
    "edition",
    "build",
    "index",
    "variant",
];

/// What the tokens of a template stand for.
#[derive(Debug, Clone, Copy)]
pub struct NamingVars<'a> {
    /// When the build started (rendered in UTC).
    pub at: OffsetDateTime,
    pub board: &'a str,
    pub customer: &'a str,
    /// The job id; `{job}` is its first 8 hex digits.
    pub job_id: &'a str,
    /// EDITIONID of the image; `{edition}` is `unknown` without one.
    pub edition: Option<&'a str>,
    /// Build number of the image; `{build}` is `unknown` without one.
    pub build: Option<u32>,
    pub index: u32,
    /// `both` when a job builds the key and the no-key variant (one folder holds both);
    /// `{variant}` is empty otherwise.
    pub variant: Option<&'a str>,
}

/// A template or image name that cannot be used, naming it and the problem.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NamingError {
    #[error("naming template is empty")]
    EmptyTemplate,
    #[error(
        "naming template {template:?} is {chars} characters long (at most {MAX_TEMPLATE_CHARS})"
    )]
    TemplateTooLong { template: String, chars: usize },
    #[error(
        "naming template {template:?}: unknown token {{{token}}} (known: {})",
        known_tokens()
    )]
    UnknownToken { template: String, token: String },
    #[error(
        "naming template {template:?}: unbalanced {brace:?} at character {at} (tokens look like {{board}})"
    )]
    UnbalancedBrace {
        template: String,
        brace: char,
        /// 1-based character position.
        at: usize,
    },
    #[error(
        "naming template {template:?}: {character:?} at character {at} is not allowed in a folder name (no path separators, : * ? \" < > | or control characters)"
    )]
    ForbiddenCharacter {
        template: String,
        character: char,
        /// 1-based character position.
        at: usize,
    },
    #[error("naming template {template:?} leaves nothing of a folder name for these values")]
    EmptyName { template: String },
    #[error("image name {name:?}: {problem}")]
    InvalidImageName { name: String, problem: String },
}

fn known_tokens() -> String {
    TOKENS
        .iter()
        .map(|t| format!("{{{t}}}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The template as quoted in errors: a long one is cut, so a hostile template cannot
/// flood a log line or an API answer.
fn shown(template: &str) -> String {
    const KEEP: usize = 60;
    if template.chars().count() <= KEEP {
        template.to_string()
    } else {
        let mut cut: String = template.chars().take(KEEP).collect();
        cut.push('…');
        cut
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Token {
    Timestamp,
    Date,
    Time,
    Board,
    Customer,
    Job,
    Edition,
    Build,
    Index,
    Variant,
}

impl Token {
    fn parse(name: &str) -> Option<Self> {
        Some(match name {
            "timestamp" => Token::Timestamp,
            "date" => Token::Date,
            "time" => Token::Time,
            "board" => Token::Board,
            "customer" => Token::Customer,
            "job" => Token::Job,
            "edition" => Token::Edition,
            "build" => Token::Build,
            "index" => Token::Index,
            "variant" => Token::Variant,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Piece<'t> {
    Text(&'t str),
    Token(Token),
}

/// Characters Windows (and so SMB clients) refuse in a file name, besides controls.
const FORBIDDEN: [char; 9] = ['/', '\\', ':', '*', '?', '"', '<', '>', '|'];

/// Controls, and the bidirectional overrides that make a name display differently from
/// what it is.
fn is_hidden_control(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

fn is_forbidden(c: char) -> bool {
    FORBIDDEN.contains(&c) || is_hidden_control(c)
}

fn parse(template: &str) -> Result<Vec<Piece<'_>>, NamingError> {
    if template.trim().is_empty() {
        return Err(NamingError::EmptyTemplate);
    }
    let chars = template.chars().count();
    if chars > MAX_TEMPLATE_CHARS {
        return Err(NamingError::TemplateTooLong {
            template: shown(template),
            chars,
        });
    }
    let mut pieces = Vec::new();
    let mut text_start = 0;
    let mut open: Option<(usize, usize)> = None; // (byte offset, 1-based position) of '{'
    for (pos, (at, c)) in template.char_indices().enumerate() {
        let pos = pos + 1;
        match (c, open) {
            ('{', None) => {
                if text_start < at {
                    pieces.push(Piece::Text(&template[text_start..at]));
                }
                open = Some((at, pos));
            }
            ('{', Some(_)) | ('}', None) => {
                return Err(NamingError::UnbalancedBrace {
                    template: shown(template),
                    brace: c,
                    at: pos,
                });
            }
            ('}', Some((start, _))) => {
                let name = &template[start + 1..at];
                let token = Token::parse(name).ok_or_else(|| NamingError::UnknownToken {
                    template: shown(template),
                    token: shown(name),
                })?;
                pieces.push(Piece::Token(token));
                open = None;
                text_start = at + 1;
            }
            (c, None) if is_forbidden(c) => {
                return Err(NamingError::ForbiddenCharacter {
                    template: shown(template),
                    character: c,
                    at: pos,
                });
            }
            _ => {}
        }
    }
    if let Some((_, pos)) = open {
        return Err(NamingError::UnbalancedBrace {
            template: shown(template),
            brace: '{',
            at: pos,
        });
    }
    if text_start < template.len() {
        pieces.push(Piece::Text(&template[text_start..]));
    }
    Ok(pieces)
}

/// Check a naming template: not empty, at most [`MAX_TEMPLATE_CHARS`] characters,
/// balanced braces around known [`TOKENS`], and no path separators or other characters
/// a folder name cannot hold in its literal text.
pub fn check_template(template: &str) -> Result<(), NamingError> {
    parse(template).map(|_| ())
}

/// Render `template` for `vars`: `{timestamp}` (YYYYMMDD_HHMMSS UTC), `{date}`
/// (YYYYMMDD), `{time}` (HHMMSS), `{board}`, `{customer}`, `{job}` (first 8 hex digits
/// of the job id), `{edition}`, `{build}`, `{index}`, `{variant}`. Values are made safe
/// for Linux, SMB and Windows (forbidden and control characters become `_`, no trailing
/// dot or space, no `.`/`..`, no DOS device name such as `CON` or `COM1`); the result
/// has no leading dot (that would hide it, and `.partial-…` folders are the builds'
/// own) and is at most [`MAX_FOLDER_NAME_BYTES`] bytes.
pub fn render_folder_name(template: &str, vars: &NamingVars<'_>) -> Result<String, NamingError> {
    let pieces = parse(template)?;
    let at = vars.at.to_offset(time::UtcOffset::UTC);
    let mut out = String::new();
    for piece in pieces {
        match piece {
            Piece::Text(text) => out.push_str(text),
            Piece::Token(token) => {
                let value = match token {
                    Token::Timestamp => stamp(at, Stamp::Timestamp),
                    Token::Date => stamp(at, Stamp::Date),
                    Token::Time => stamp(at, Stamp::Time),
                    Token::Board => vars.board.to_string(),
                    Token::Customer => vars.customer.to_string(),
                    Token::Job => short_job_id(vars.job_id),
                    Token::Edition => vars.edition.unwrap_or("unknown").to_string(),
                    Token::Build => vars
                        .build
                        .map_or_else(|| "unknown".to_string(), |b| b.to_string()),
                    Token::Index => vars.index.to_string(),
                    Token::Variant => vars.variant.unwrap_or("").to_string(),
                };
                out.push_str(&sanitize(&value));
            }
        }
    }
    let name = finish(&out);
    if name.is_empty() {
        return Err(NamingError::EmptyName {
            template: shown(template),
        });
    }
    Ok(name)
}

/// The folder name for a build of `board` started at `at` with the default template
/// (UTC: build hosts in different time zones must agree on one clock).
pub fn output_folder_name(at: OffsetDateTime, board: &str) -> String {
    let at = at.to_offset(time::UtcOffset::UTC);
    finish(&format!(
        "{}_{}",
        stamp(at, Stamp::Timestamp),
        sanitize(board)
    ))
}

/// Check an output image name, the file stem the image is written under
/// (`<name>.wim`, `<name>.iso`): 1 to [`MAX_IMAGE_NAME_CHARS`] of `A-Z a-z 0-9 _ - .`,
/// starting with a letter or digit, not ending with a dot, and not a DOS device name.
/// Strict on purpose: the name also lands in scripts, URLs and checksum files.
pub fn check_image_name(name: &str) -> Result<(), NamingError> {
    let bad = |problem: String| NamingError::InvalidImageName {
        name: shown(name),
        problem,
    };
    if name.is_empty() {
        return Err(bad("is empty".to_string()));
    }
    let chars = name.chars().count();
    if chars > MAX_IMAGE_NAME_CHARS {
        return Err(bad(format!(
            "is {chars} characters long (at most {MAX_IMAGE_NAME_CHARS})"
        )));
    }
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.')))
    {
        return Err(bad(format!(
            "{c:?} is not allowed (use A-Z, a-z, 0-9, '_', '-', '.')"
        )));
    }
    if !name.starts_with(|c: char| c.is_ascii_alphanumeric()) {
        return Err(bad("must start with a letter or a digit".to_string()));
    }
    if name.ends_with('.') {
        return Err(bad("must not end with a dot".to_string()));
    }
    if is_reserved_device(name) {
        return Err(bad(
            "is a reserved device name on Windows (CON, PRN, AUX, NUL, COM1-9, LPT1-9)".to_string(),
        ));
    }
    Ok(())
}

#[derive(Debug, Clone, Copy)]
enum Stamp {
    Timestamp,
    Date,
    Time,
}

fn stamp(at: OffsetDateTime, which: Stamp) -> String {
    let formatted = match which {
        Stamp::Timestamp => at.format(format_description!(
            "[year][month][day]_[hour][minute][second]"
        )),
        Stamp::Date => at.format(format_description!("[year][month][day]")),
        Stamp::Time => at.format(format_description!("[hour][minute][second]")),
    };
    // Only years outside 0..=9999 fail to format; the zeros keep the name's shape.
    formatted.unwrap_or_else(|_| match which {
        Stamp::Timestamp => "00000000_000000".to_string(),
        Stamp::Date => "00000000".to_string(),
        Stamp::Time => "000000".to_string(),
    })
}

/// `{job}`: the first 8 hex digits of the job id, lower case.
fn short_job_id(job_id: &str) -> String {
    let hex: String = job_id
        .chars()
        .filter(char::is_ascii_hexdigit)
        .take(8)
        .map(|c| c.to_ascii_lowercase())
        .collect();
    if hex.is_empty() {
        "unknown".to_string()
    } else {
        hex
    }
}

/// Make one value safe to stand alone as a file name (and so inside one): forbidden
/// and control characters become `_`, trailing dots and spaces go, and `.`, `..` and
/// DOS device names get a leading `_`.
fn sanitize(value: &str) -> String {
    let replaced: String = value
        .chars()
        .map(|c| if is_forbidden(c) { '_' } else { c })
        .collect();
    let trimmed = replaced.trim_end_matches(['.', ' ']);
    if trimmed.is_empty() && !value.is_empty() {
        return "_".to_string();
    }
    if is_reserved_device(trimmed) {
        return format!("_{trimmed}");
    }
    trimmed.to_string()
}

/// The whole name: cut to [`MAX_FOLDER_NAME_BYTES`] on a character boundary, outer
/// spaces and trailing dots removed, a leading dot and a device name defused.
fn finish(name: &str) -> String {
    let mut out = name.trim_start().to_string();
    if out.starts_with('.') {
        out.replace_range(..1, "_");
    }
    if is_reserved_device(out.trim_end_matches(['.', ' '])) {
        out.insert(0, '_');
    }
    if out.len() > MAX_FOLDER_NAME_BYTES {
        let mut end = MAX_FOLDER_NAME_BYTES;
        while !out.is_char_boundary(end) {
            end -= 1;
        }
        out.truncate(end);
    }
    let kept = out.trim_end_matches(['.', ' ']).len();
    out.truncate(kept);
    out
}

/// Whether Windows treats `name` as a device: the part before the first dot, without
/// trailing spaces, is CON, PRN, AUX, NUL, COM0-9 or LPT0-9 (also with superscript
/// digits), CONIN$ or CONOUT$, in any case.
fn is_reserved_device(name: &str) -> bool {
    let stem = name.split('.').next().unwrap_or(name).trim_end_matches(' ');
    let upper = stem.to_ascii_uppercase();
    if matches!(
        upper.as_str(),
        "CON" | "PRN" | "AUX" | "NUL" | "CONIN$" | "CONOUT$"
    ) {
        return true;
    }
    let mut chars = upper.chars();
    let prefix: String = chars.by_ref().take(3).collect();
    let rest: Vec<char> = chars.collect();
    (prefix == "COM" || prefix == "LPT")
        && matches!(rest.as_slice(), [d] if d.is_ascii_digit() || matches!(d, '¹' | '²' | '³'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars<'a>() -> NamingVars<'a> {
        NamingVars {
            at: time::macros::datetime!(2025-01-11 14:30:05 UTC),
            board: "X13SAW",
            customer: "ACME",
            job_id: "0194a2b3-c4d5-7e6f-8a9b-0c1d2e3f4a5b",
            edition: Some("IoTEnterpriseS"),
            build: Some(26100),
            index: 2,
            variant: None,
        }
    }

    #[test]
    fn folder_name_has_seed_layout() {
        let at = time::macros::datetime!(2025-01-11 14:30:00 UTC);
        assert_eq!(output_folder_name(at, "X13SAV"), "20250111_143000_X13SAV");
    }

    #[test]
    fn folder_name_uses_utc() {
        let at = time::macros::datetime!(2025-01-11 14:30:00 +08:00);
        assert_eq!(output_folder_name(at, "B"), "20250111_063000_B");
    }

    #[test]
    fn default_template_renders_like_the_seed() {
        let v = vars();
        assert_eq!(
            render_folder_name(DEFAULT_FOLDER_TEMPLATE, &v).expect("render"),
            output_folder_name(v.at, v.board)
        );
        let east = NamingVars {
            at: time::macros::datetime!(2025-01-11 22:30:05 +08:00),
            ..v
        };
        assert_eq!(
            render_folder_name(DEFAULT_FOLDER_TEMPLATE, &east).expect("render"),
            "20250111_143005_X13SAW"
        );
    }

    #[test]
    fn good_templates_render() {
        let cases = [
            ("{timestamp}_{board}", "20250111_143005_X13SAW"),
            ("{date}-{time}", "20250111-143005"),
            ("{customer}_{board}_{job}", "ACME_X13SAW_0194a2b3"),
            ("{edition}_{build}_idx{index}", "IoTEnterpriseS_26100_idx2"),
            ("build {build} ({board})", "build 26100 (X13SAW)"),
            ("{board}{variant}", "X13SAW"),
            ("plain", "plain"),
            ("Ünïcode_{board}", "Ünïcode_X13SAW"),
        ];
        for (template, want) in cases {
            check_template(template).expect(template);
            assert_eq!(
                render_folder_name(template, &vars()).expect(template),
                want,
                "{template}"
            );
        }
        let keyed = NamingVars {
            variant: Some("nokey"),
            edition: None,
            build: None,
            ..vars()
        };
        assert_eq!(
            render_folder_name("{board}_{variant}_{edition}_{build}", &keyed).expect("render"),
            "X13SAW_nokey_unknown_unknown"
        );
    }

    #[test]
    fn bad_templates_name_the_problem() {
        let long = "a".repeat(MAX_TEMPLATE_CHARS + 1);
        // Each case: the template and a test of the error it must give.
        type Expected = fn(&NamingError) -> bool;
        let cases: &[(&str, Expected)] = &[
            ("", |e| matches!(e, NamingError::EmptyTemplate)),
            ("   ", |e| matches!(e, NamingError::EmptyTemplate)),
            (
                &long,
                |e| matches!(e, NamingError::TemplateTooLong { chars, .. } if *chars == MAX_TEMPLATE_CHARS + 1),
            ),
            (
                "{boards}",
                |e| matches!(e, NamingError::UnknownToken { token, .. } if token == "boards"),
            ),
            ("{Board}", |e| matches!(e, NamingError::UnknownToken { .. })),
            (
                "{}",
                |e| matches!(e, NamingError::UnknownToken { token, .. } if token.is_empty()),
            ),
            ("{board", |e| {
                matches!(
                    e,
                    NamingError::UnbalancedBrace {
                        brace: '{',
                        at: 1,
                        ..
                    }
                )
            }),
            ("board}", |e| {
                matches!(
                    e,
                    NamingError::UnbalancedBrace {
                        brace: '}',
                        at: 6,
                        ..
                    }
                )
            }),
            ("{{board}}", |e| {
                matches!(
                    e,
                    NamingError::UnbalancedBrace {
                        brace: '{',
                        at: 2,
                        ..
                    }
                )
            }),
            ("{bo{ard}", |e| {
                matches!(e, NamingError::UnbalancedBrace { .. })
            }),
            ("{customer}/{board}", |e| {
                matches!(
                    e,
                    NamingError::ForbiddenCharacter {
                        character: '/',
                        at: 11,
                        ..
                    }
                )
            }),
            ("{customer}\\{board}", |e| {
                matches!(
                    e,
                    NamingError::ForbiddenCharacter {
                        character: '\\',
                        ..
                    }
                )
            }),
            ("../{board}", |e| {
                matches!(e, NamingError::ForbiddenCharacter { character: '/', .. })
            }),
            ("C:{board}", |e| {
                matches!(e, NamingError::ForbiddenCharacter { character: ':', .. })
            }),
            ("{board}?", |e| {
                matches!(e, NamingError::ForbiddenCharacter { .. })
            }),
            ("{board}\n", |e| {
                matches!(e, NamingError::ForbiddenCharacter { .. })
            }),
            ("{board}\u{202e}", |e| {
                matches!(e, NamingError::ForbiddenCharacter { .. })
            }),
        ];
        for &(template, is_expected) in cases {
            let e = check_template(template).expect_err(template);
            assert!(is_expected(&e), "{template:?}: {e:?}");
            assert_eq!(
                render_folder_name(template, &vars()).expect_err(template),
                e
            );
            let message = e.to_string();
            if !matches!(e, NamingError::EmptyTemplate) {
                assert!(message.starts_with("naming template \""), "{message}");
            }
        }
    }

    #[test]
    fn errors_quote_only_the_start_of_a_long_template() {
        let template = format!("{}{{nope}}", "x".repeat(190));
        let message = check_template(&template).expect_err("unknown").to_string();
        assert!(message.len() < 300, "{message}");
        assert!(message.contains('…'), "{message}");
    }

    #[test]
    fn hostile_values_are_sanitised() {
        let cases: [(&str, &str); 13] = [
            ("../../etc", "_._.._etc"),
            ("a/b\\c", "a_b_c"),
            ("C:evil", "C_evil"),
            ("what?*<>|\"", "what______"),
            ("tab\there\nnl", "tab_here_nl"),
            ("trailing. . ", "trailing"),
            ("..", "_"),
            (".", "_"),
            ("CON", "_CON"),
            ("nul.txt", "_nul.txt"),
            ("com1", "_com1"),
            ("LPT9", "_LPT9"),
            ("rtl\u{202e}gpj.exe", "rtl_gpj.exe"),
        ];
        for (board, want) in cases {
            let v = NamingVars { board, ..vars() };
            let name = render_folder_name("{board}", &v).expect(board);
            assert_eq!(name, want, "{board:?}");
            check_safe(&name);
        }
        let name = render_folder_name(
            "{customer}_{board}",
            &NamingVars {
                customer: "..",
                board: "COM3",
                ..vars()
            },
        )
        .expect("render");
        assert_eq!(name, "___COM3");
        // Values that are fine inside a longer name stay as they are.
        let name = render_folder_name(
            "{board}_x",
            &NamingVars {
                board: "CONSOLE",
                ..vars()
            },
        )
        .expect("render");
        assert_eq!(name, "CONSOLE_x");
    }

    #[test]
    fn whole_name_rules_hold_for_literal_text_too() {
        let v = vars();
        assert_eq!(render_folder_name(".{board}", &v).expect("dot"), "_X13SAW");
        assert_eq!(
            render_folder_name("{board}. .", &v).expect("trail"),
            "X13SAW"
        );
        assert_eq!(render_folder_name("  {board}", &v).expect("lead"), "X13SAW");
        assert_eq!(render_folder_name("aux", &v).expect("aux"), "_aux");
        let empty_board = NamingVars { board: "", ..v };
        assert!(matches!(
            render_folder_name("{board}", &empty_board),
            Err(NamingError::EmptyName { .. })
        ));
        assert!(matches!(
            render_folder_name("{variant}", &v),
            Err(NamingError::EmptyName { .. })
        ));
    }

    #[test]
    fn long_names_are_cut_to_120_bytes_on_a_character_boundary() {
        let board = "é".repeat(100); // 200 bytes
        let v = NamingVars {
            board: &board,
            ..vars()
        };
        let name = render_folder_name("{board}", &v).expect("render");
        assert!(name.len() <= MAX_FOLDER_NAME_BYTES, "{}", name.len());
        assert_eq!(name.len(), 120);
        assert!(name.chars().all(|c| c == 'é'));
        let spaced = format!("{} x", "a".repeat(119));
        let v = NamingVars {
            board: &spaced,
            ..vars()
        };
        assert_eq!(
            render_folder_name("{board}", &v).expect("render"),
            "a".repeat(119)
        );
    }

    #[test]
    fn job_token_takes_eight_hex_digits_of_the_id() {
        for (id, want) in [
            ("0194A2B3-C4D5-7e6f", "0194a2b3"),
            ("01-94-a2", "0194a2"),
            ("../zz", "unknown"),
        ] {
            let v = NamingVars {
                job_id: id,
                ..vars()
            };
            assert_eq!(render_folder_name("{job}", &v).expect(id), want, "{id}");
        }
    }

    /// Independent statement of the name rules, applied to rendered names.
    fn check_safe(name: &str) {
        assert!(!name.is_empty());
        assert!(name.len() <= MAX_FOLDER_NAME_BYTES);
        assert!(
            !name
                .chars()
                .any(|c| FORBIDDEN.contains(&c) || c.is_control()),
            "{name:?}"
        );
        assert!(!name.ends_with(['.', ' ']), "{name:?}");
        assert!(!name.starts_with('.'), "{name:?}");
        assert!(name != "." && name != "..");
        let stem = name.split('.').next().unwrap_or("").to_ascii_uppercase();
        for reserved in ["CON", "PRN", "AUX", "NUL", "COM1", "LPT1"] {
            assert_ne!(stem, reserved, "{name:?}");
        }
    }

    #[test]
    fn image_names() {
        for good in [
            "install",
            "X13SAW_IoT-24H2",
            "a",
            "v1.2",
            "9lives",
            "a".repeat(64).as_str(),
        ] {
            check_image_name(good).unwrap_or_else(|e| panic!("{good:?}: {e}"));
        }
        for bad in [
            "",
            "a b",
            "a/b",
            "..\\x",
            "..",
            ".hidden",
            "-rf",
            "_x",
            "ends.",
            "CON",
            "nul.backup",
            "Com1",
            "naïve",
            "tab\t",
            "a".repeat(65).as_str(),
        ] {
            match check_image_name(bad) {
                Err(NamingError::InvalidImageName { name, problem }) => {
                    assert!(!problem.is_empty());
                    assert!(bad.starts_with(name.trim_end_matches('…')), "{name:?}");
                }
                other => panic!("{bad:?}: {other:?}"),
            }
        }
    }
}

//! INF syntax: sections, comments, continuation lines, quotes, `key = value, value`.
//!
//! The lexer knows nothing of what sections mean; it produces raw (unsubstituted) entries
//! with their line numbers. `%token%` substitution happens later, per field, so that a
//! string value holding a comma stays one field, as in Windows.

use std::collections::HashMap;

use super::error::{Blame, InfError, InfProblem};

/// Longest physical or logical (continued) line accepted, in bytes of UTF-8.
pub const MAX_LINE: usize = 64 * 1024;

/// One `key = fields` (or bare `fields`) line.
#[derive(Debug, Clone)]
pub(crate) struct RawEntry {
    /// Line where the (possibly continued) line starts.
    pub line: usize,
    pub key: Option<String>,
    /// Never empty: a line `key =` has one empty field.
    pub fields: Vec<String>,
}

#[derive(Debug, Clone)]
pub(crate) struct RawSection {
    /// The name as first written.
    pub name: String,
    pub line: usize,
    pub entries: Vec<RawEntry>,
}

/// All sections; sections of the same name (case-insensitive) are merged, as Windows does.
#[derive(Debug, Default)]
pub(crate) struct Lexed {
    pub sections: Vec<RawSection>,
    index: HashMap<String, usize>,
}

impl Lexed {
    pub fn section(&self, name: &str) -> Option<&RawSection> {
        self.index
            .get(&name.to_ascii_lowercase())
            .and_then(|&i| self.sections.get(i))
    }

    fn open(&mut self, name: &str, line: usize) -> usize {
        let key = name.to_ascii_lowercase();
        if let Some(&i) = self.index.get(&key) {
            return i;
        }
        self.sections.push(RawSection {
            name: name.to_string(),
            line,
            entries: Vec::new(),
        });
        let i = self.sections.len() - 1;
        self.index.insert(key, i);
        i
    }
}

/// `[Strings]` and `[Strings.xxxx]` values are taken whole: a comma there is text.
pub(crate) fn is_strings_section(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    lower == "strings" || lower.starts_with("strings.")
}

pub(crate) fn lex(text: &str, blame: &Blame<'_>) -> Result<Lexed, InfError> {
    let mut out = Lexed::default();
    let mut current: Option<usize> = None;
    let mut logical = String::new();
    let mut logical_start = 1;
    for (i, physical) in text.split('\n').enumerate() {
        let number = i + 1;
        let physical = physical.strip_suffix('\r').unwrap_or(physical);
        if physical.len() > MAX_LINE {
            return Err(blame.at(number, InfProblem::LineTooLong { limit: MAX_LINE }));
        }
        let content = strip_comment(physical)
            .ok_or_else(|| blame.at(number, InfProblem::UnterminatedQuote))?;
        if logical.is_empty() {
            logical_start = number;
        }
        let trimmed = content.trim_end();
        // A backslash ending the line (after its comment is gone) continues it.
        if let Some(head) = trimmed.strip_suffix('\\') {
            push_capped(&mut logical, head, blame, number)?;
            continue;
        }
        push_capped(&mut logical, content, blame, number)?;
        let line = std::mem::take(&mut logical);
        handle_line(&mut out, &mut current, &line, logical_start, blame)?;
    }
    if !logical.is_empty() {
        // The file ended on a continuation: take what there is.
        handle_line(&mut out, &mut current, &logical, logical_start, blame)?;
    }
    Ok(out)
}

fn push_capped(
    logical: &mut String,
    piece: &str,
    blame: &Blame<'_>,
    line: usize,
) -> Result<(), InfError> {
    if logical.len() + piece.len() > MAX_LINE {
        return Err(blame.at(line, InfProblem::LineTooLong { limit: MAX_LINE }));
    }
    logical.push_str(piece);
    Ok(())
}

/// The line without its `;` comment, or `None` when a quote is left open. A `;` inside
/// quotes is text. (`""` inside quotes toggles twice, so it needs no special case here.)
fn strip_comment(line: &str) -> Option<&str> {
    let mut quoted = false;
    for (at, c) in line.char_indices() {
        match c {
            '"' => quoted = !quoted,
            ';' if !quoted => return Some(&line[..at]),
            _ => {}
        }
    }
    if quoted { None } else { Some(line) }
}

fn handle_line(
    out: &mut Lexed,
    current: &mut Option<usize>,
    line: &str,
    number: usize,
    blame: &Blame<'_>,
) -> Result<(), InfError> {
    let trimmed = line.trim();
    if trimmed.is_empty() {
        return Ok(());
    }
    if let Some(rest) = trimmed.strip_prefix('[') {
        let Some(end) = rest.find(']') else {
            return Err(blame.at(number, InfProblem::UnterminatedSection));
        };
        // Text after ']' is ignored, as Windows does.
        let name = rest[..end].trim();
        *current = Some(out.open(name, number));
        return Ok(());
    }
    // Lines before the first section mean nothing to Windows; skip them.
    let Some(index) = *current else {
        return Ok(());
    };
    let Some(section) = out.sections.get_mut(index) else {
        return Ok(());
    };
    let whole = is_strings_section(&section.name);
    let (key, fields) = split_entry(trimmed, !whole);
    section.entries.push(RawEntry {
        line: number,
        key,
        fields,
    });
    Ok(())
}

/// One field being built: quotes removed (`""` inside quotes is a literal quote),
/// unquoted whitespace at both ends trimmed, quoted whitespace kept.
#[derive(Default)]
struct Field {
    text: String,
    /// Length of `text` that must survive trimming (ends after the last quoted character).
    keep: usize,
    started: bool,
}

impl Field {
    fn push_plain(&mut self, c: char) {
        if !self.started && c.is_whitespace() {
            return;
        }
        self.started = true;
        self.text.push(c);
    }

    fn push_quoted(&mut self, c: Option<char>) {
        self.started = true;
        if let Some(c) = c {
            self.text.push(c);
        }
        self.keep = self.text.len();
    }

    fn finish(mut self) -> String {
        let end = self.text.trim_end().len().max(self.keep);
        self.text.truncate(end);
        self.text
    }
}

/// Split on the first unquoted `=` into key and value, and the value on unquoted commas
/// when `split_commas`. Quotes are already known to be balanced.
fn split_entry(line: &str, split_commas: bool) -> (Option<String>, Vec<String>) {
    let mut key = None;
    let mut fields = Vec::new();
    let mut field = Field::default();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        if quoted {
            if c == '"' {
                if chars.peek() == Some(&'"') {
                    chars.next();
                    field.push_quoted(Some('"'));
                } else {
                    quoted = false;
                    field.push_quoted(None);
                }
            } else {
                field.push_quoted(Some(c));
            }
            continue;
        }
        match c {
            '"' => {
                quoted = true;
                field.push_quoted(None);
            }
            '=' if key.is_none() && fields.is_empty() => {
                key = Some(std::mem::take(&mut field).finish());
            }
            ',' if split_commas => fields.push(std::mem::take(&mut field).finish()),
            c => field.push_plain(c),
        }
    }
    fields.push(field.finish());
    (key, fields)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_split_on_first_equals_and_unquoted_commas() {
        let (k, f) = split_entry(r#"a = b = c, "d, e" , "x""y" ,, "  sp  " "#, true);
        assert_eq!(k.as_deref(), Some("a"));
        assert_eq!(f, ["b = c", "d, e", "x\"y", "", "  sp  "]);
        let (k, f) = split_entry("plain, list", true);
        assert_eq!(k, None);
        assert_eq!(f, ["plain", "list"]);
        let (k, f) = split_entry("Name = \"a, b\" c, d", false);
        assert_eq!(k.as_deref(), Some("Name"));
        assert_eq!(f, ["a, b c, d"]);
    }

    #[test]
    fn comments_respect_quotes() {
        assert_eq!(strip_comment(r#"a = "x;y" ; z"#), Some(r#"a = "x;y" "#));
        assert_eq!(strip_comment(r#"a = "x"#), None);
    }
}

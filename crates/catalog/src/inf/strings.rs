//! `%token%` substitution from `[Strings]`, falling back to localized `[Strings.xxxx]`
//! sections (`[Strings.0409]` first, then the others in name order).
//!
//! A string value may itself refer to other strings. That makes a hostile file able to
//! loop (`a = %b%`, `b = %a%`) or to grow exponentially (`b = %a%%a%`, `c = %b%%b%`, …), so
//! expansion detects cycles, limits nesting, limits each result and limits the total
//! number of bytes produced for the whole file.

use std::collections::HashMap;

use super::error::{Blame, InfError, InfProblem};
use super::lexer::{Lexed, MAX_LINE, is_strings_section};

/// Deepest chain of strings referring to strings.
pub const MAX_DEPTH: usize = 32;
/// Most bytes one substituted value may have.
pub const MAX_VALUE: usize = MAX_LINE;
/// Most bytes substitution may produce for one file, all values together.
pub const MAX_TOTAL: usize = 32 * 1024 * 1024;

#[derive(Debug)]
struct Definition {
    raw: String,
    line: usize,
}

#[derive(Debug)]
pub(crate) struct Strings<'a> {
    defs: HashMap<String, Definition>,
    resolved: HashMap<String, String>,
    budget: usize,
    blame: Blame<'a>,
}

impl<'a> Strings<'a> {
    /// Collect the definitions and expand every one of them, so that a reference loop is
    /// reported even in a string nothing uses.
    pub fn new(lexed: &Lexed, blame: Blame<'a>) -> Result<Self, InfError> {
        let mut order: Vec<&str> = lexed
            .sections
            .iter()
            .map(|s| s.name.as_str())
            .filter(|n| is_strings_section(n))
            .collect();
        order.sort_by_key(|n| {
            let lower = n.to_ascii_lowercase();
            let rank = match lower.as_str() {
                "strings" => 0,
                "strings.0409" => 1,
                _ => 2,
            };
            (rank, lower)
        });
        let mut defs: HashMap<String, Definition> = HashMap::new();
        for name in order {
            let Some(section) = lexed.section(name) else {
                continue;
            };
            for entry in &section.entries {
                let (Some(key), Some(value)) = (&entry.key, entry.fields.first()) else {
                    continue;
                };
                // The first definition wins: [Strings] over the localized sections.
                defs.entry(key.to_ascii_lowercase())
                    .or_insert_with(|| Definition {
                        raw: value.clone(),
                        line: entry.line,
                    });
            }
        }
        let mut strings = Strings {
            defs,
            resolved: HashMap::new(),
            budget: MAX_TOTAL,
            blame,
        };
        let mut names: Vec<(usize, String)> = strings
            .defs
            .iter()
            .map(|(k, d)| (d.line, k.clone()))
            .collect();
        names.sort();
        for (_, name) in names {
            let mut stack = Vec::new();
            strings.resolve(&name, &mut stack)?;
        }
        Ok(strings)
    }

    /// Errors about this file.
    pub fn blame(&self) -> &Blame<'a> {
        &self.blame
    }

    /// Substitute the tokens of a field read at `line`. `%%` is a literal percent; a
    /// token with no definition (such as a directory id, `%13%`) is left as written.
    pub fn substitute(&mut self, text: &str, line: usize) -> Result<String, InfError> {
        if !text.contains('%') {
            return Ok(text.to_string());
        }
        let mut stack = Vec::new();
        self.expand(text, line, &mut stack)
    }

    fn resolve(&mut self, name: &str, stack: &mut Vec<String>) -> Result<String, InfError> {
        if let Some(done) = self.resolved.get(name) {
            let done = done.clone();
            self.spend(done.len(), self.line_of(name))?;
            return Ok(done);
        }
        let Some(def) = self.defs.get(name) else {
            return Ok(String::new());
        };
        let (raw, line) = (def.raw.clone(), def.line);
        if let Some(first) = stack.iter().position(|s| s == name) {
            let mut path: Vec<String> = stack[first..].iter().map(|s| format!("%{s}%")).collect();
            path.push(format!("%{name}%"));
            return Err(self.blame.at(
                line,
                InfProblem::StringLoop {
                    name: name.to_string(),
                    path: path.join(" -> "),
                },
            ));
        }
        if stack.len() >= MAX_DEPTH {
            return Err(self.blame.at(
                line,
                InfProblem::StringsTooDeep {
                    name: name.to_string(),
                    limit: MAX_DEPTH,
                },
            ));
        }
        stack.push(name.to_string());
        let value = self.expand(&raw, line, stack)?;
        stack.pop();
        self.resolved.insert(name.to_string(), value.clone());
        Ok(value)
    }

    fn line_of(&self, name: &str) -> usize {
        self.defs.get(name).map_or(1, |d| d.line)
    }

    fn spend(&mut self, bytes: usize, line: usize) -> Result<(), InfError> {
        if bytes > self.budget {
            return Err(self
                .blame
                .at(line, InfProblem::ExpansionTooLarge { limit: MAX_TOTAL }));
        }
        self.budget -= bytes;
        Ok(())
    }

    fn expand(
        &mut self,
        text: &str,
        line: usize,
        stack: &mut Vec<String>,
    ) -> Result<String, InfError> {
        let mut out = String::new();
        let mut rest = text;
        while let Some(start) = rest.find('%') {
            out.push_str(&rest[..start]);
            let after = &rest[start + 1..];
            let Some(end) = after.find('%') else {
                // A lone percent sign is text.
                out.push_str(&rest[start..]);
                rest = "";
                break;
            };
            let token = &after[..end];
            if token.is_empty() {
                out.push('%');
            } else {
                let key = token.to_ascii_lowercase();
                if self.defs.contains_key(&key) {
                    let value = self.resolve(&key, stack)?;
                    out.push_str(&value);
                } else {
                    out.push('%');
                    out.push_str(token);
                    out.push('%');
                }
            }
            rest = &after[end + 1..];
            if out.len() > MAX_VALUE {
                return Err(self
                    .blame
                    .at(line, InfProblem::ExpansionTooLarge { limit: MAX_VALUE }));
            }
        }
        out.push_str(rest);
        if out.len() > MAX_VALUE {
            return Err(self
                .blame
                .at(line, InfProblem::ExpansionTooLarge { limit: MAX_VALUE }));
        }
        self.spend(out.len(), line)?;
        Ok(out)
    }
}

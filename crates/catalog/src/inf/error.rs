//! What can be wrong with an INF file. Every error names the file and a 1-based line;
//! problems that concern the whole file (too large, no `[Version]`) are reported at line 1.

use serde::Serialize;

/// A fatal problem: the INF cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}, line {line}: {problem}")]
pub struct InfError {
    pub file: String,
    pub line: usize,
    pub problem: InfProblem,
}

/// The kinds of fatal problem.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InfProblem {
    #[error("file is {size} bytes, more than the {limit}-byte limit")]
    TooLarge { size: u64, limit: u64 },
    #[error("binary content (character U+{code:04X}), not an INF text file")]
    Binary { code: u32 },
    #[error("line is longer than {limit} bytes")]
    LineTooLong { limit: usize },
    #[error("quoted string is not terminated on this line")]
    UnterminatedQuote,
    #[error("section header has no closing ']'")]
    UnterminatedSection,
    #[error("string %{name}% refers to itself ({path})")]
    StringLoop { name: String, path: String },
    #[error("string %{name}% nests more than {limit} levels of %references%")]
    StringsTooDeep { name: String, limit: usize },
    #[error("string substitution produces more than {limit} bytes")]
    ExpansionTooLarge { limit: usize },
    #[error("[Manufacturer] refers to more than {limit} models sections")]
    TooManyModelsSections { limit: usize },
    #[error("models sections list more than {limit} devices in all")]
    TooManyDevices { limit: usize },
    #[error("no [Version] section")]
    MissingVersion,
    #[error("[Version] has no Signature")]
    MissingSignature,
    #[error("bad DriverVer {value:?}: {reason}")]
    BadDriverVer { value: String, reason: String },
}

/// A problem that does not stop the INF from being read (for example a `[Manufacturer]`
/// decoration this parser does not understand, which Windows also skips).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InfWarning {
    pub line: usize,
    pub message: String,
}

impl std::fmt::Display for InfWarning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

/// Builds errors for one file.
#[derive(Debug, Clone)]
pub(crate) struct Blame<'a> {
    pub file: &'a str,
}

impl Blame<'_> {
    pub fn at(&self, line: usize, problem: InfProblem) -> InfError {
        InfError {
            file: self.file.to_string(),
            line,
            problem,
        }
    }
}

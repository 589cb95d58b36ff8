//! Errors of the package metadata parsers: each names the file (or container member) and
//! a 1-based line.

/// A package metadata file that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}, line {line}: {problem}")]
pub struct PackageError {
    pub file: String,
    pub line: usize,
    pub problem: PackageProblem,
}

/// What is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PackageProblem {
    #[error("file is {size} bytes, more than the {limit}-byte limit")]
    TooLarge { size: u64, limit: u64 },
    #[error("binary content (character U+{code:04X}), not a text file")]
    Binary { code: u32 },
    #[error("not well-formed XML: {0}")]
    NotXml(String),
    #[error("a DOCTYPE is not accepted (entity definitions could expand without bound)")]
    DocType,
    #[error("root element is <{found}>, expected <assembly>")]
    WrongRoot { found: String },
    #[error(
        "root element is in namespace {found:?}, expected \"urn:schemas-microsoft-com:asm.v3\""
    )]
    WrongNamespace { found: String },
    #[error("no <{0}> element under <assembly>")]
    MissingElement(&'static str),
    #[error("<{element}> has no {attribute} attribute")]
    MissingAttribute {
        element: &'static str,
        attribute: &'static str,
    },
    #[error("{what} is longer than {limit} bytes")]
    TooLong { what: String, limit: usize },
    #[error("<{element}> has more than {limit} attributes")]
    TooManyAttributes { element: String, limit: usize },
    #[error("elements nest deeper than {limit} levels")]
    TooDeep { limit: usize },
    #[error("line has no '=' (expected Key=\"Value\")")]
    NoEquals,
    #[error("line has nothing before '='")]
    EmptyKey,
    #[error("quoted value is not terminated")]
    UnterminatedQuote,
    #[error("no {0:?} line")]
    MissingKey(&'static str),
    #[error("{key} {value:?}: {reason}")]
    BadValue {
        key: &'static str,
        value: String,
        reason: String,
    },
}

pub(crate) fn fail(file: &str, line: usize, problem: PackageProblem) -> PackageError {
    PackageError {
        file: file.to_string(),
        line,
        problem,
    }
}

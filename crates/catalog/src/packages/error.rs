//! Errors of the package parsers: each names the file (or container member, as
//! `outer.msu/inner.cab/update.mum`) and, for text, a 1-based line.

/// A package, or a metadata file inside one, that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct PackageError {
    pub file: String,
    /// 1-based line for text members; 0 when the problem is not at a text position
    /// (container structure, missing members), and then it is left out of the message.
    pub line: usize,
    pub problem: PackageProblem,
}

impl std::fmt::Display for PackageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.line == 0 {
            write!(f, "{}: {}", self.file, self.problem)
        } else {
            write!(f, "{}, line {}: {}", self.file, self.line, self.problem)
        }
    }
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
    #[error("cannot read: {0}")]
    Io(String),
    #[error("not a cabinet file: {0}")]
    NotCab(String),
    #[error("truncated cabinet: the header says {declared} bytes, the file has {actual}")]
    Truncated { declared: u64, actual: u64 },
    #[error("damaged cabinet: {0}")]
    BadCab(String),
    #[error("no member matching {0}")]
    MissingMember(&'static str),
    #[error("member is {size} bytes, more than the {limit}-byte limit")]
    MemberTooLarge { size: u64, limit: u64 },
    #[error("not a package file (expected .cab or .msu)")]
    UnknownExtension,
}

pub(crate) fn fail(file: &str, line: usize, problem: PackageProblem) -> PackageError {
    PackageError {
        file: file.to_string(),
        line,
        problem,
    }
}

//! Checking an answer file (`autounattend.xml` / `unattend.xml`) before WAIT merges its
//! own settings into it: well-formed XML, root `<unattend>` in the unattend namespace,
//! which passes and components it has, and whether it already sets a product key or
//! driver paths (WAIT must not set them twice). SERVICING.md, "Answer files", "Product key".
//!
//! A `<!DOCTYPE` is refused, so no entity can expand; the reader only knows the five
//! predefined entities and character references. Size and nesting depth are bounded.

use quick_xml::events::{BytesStart, Event};
use quick_xml::reader::Reader;
use serde::Serialize;

use crate::text;

/// Largest answer file accepted (real ones are a few tens of kilobytes).
pub const MAX_ANSWER_BYTES: usize = 4 * 1024 * 1024;
/// Deepest element nesting accepted.
pub const MAX_ANSWER_DEPTH: usize = 64;
/// The namespace of `<unattend>`.
pub const UNATTEND_NAMESPACE: &str = "urn:schemas-microsoft-com:unattend";
/// The configuration passes Setup knows.
pub const PASSES: &[&str] = &[
    "windowsPE",
    "offlineServicing",
    "generalize",
    "specialize",
    "auditSystem",
    "auditUser",
    "oobeSystem",
];
/// Most problems listed; a badly broken file would otherwise list one per element.
const MAX_PROBLEMS: usize = 100;

/// One problem, with its 1-based line when it has one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AnswerProblem {
    pub line: Option<u32>,
    pub message: String,
}

/// What an answer file holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AnswerFileReport {
    pub file: String,
    /// The XML itself could be read to the end (no syntax error, no DOCTYPE, within limits).
    pub well_formed: bool,
    /// `settings/@pass` values, in order, each once.
    pub passes: Vec<String>,
    /// (pass, component name) for every `settings/component`.
    pub components: Vec<(String, String)>,
    /// `Microsoft-Windows-Setup/UserData/ProductKey/Key` (windowsPE) or
    /// `Microsoft-Windows-Shell-Setup/ProductKey` (specialize) is set.
    pub sets_product_key: bool,
    /// Some `DriverPaths` has a non-empty `Path`.
    pub sets_driver_paths: bool,
    pub problems: Vec<AnswerProblem>,
}

impl AnswerFileReport {
    fn problem(&mut self, line: Option<u32>, message: impl Into<String>) {
        if self.problems.len() < MAX_PROBLEMS {
            self.problems.push(AnswerProblem {
                line,
                message: message.into(),
            });
        }
    }
}

/// Inspect an answer file. `name` is how it is named in the report. Never fails: what is
/// wrong is in `problems`.
pub fn inspect_answer_file(name: &str, bytes: &[u8]) -> AnswerFileReport {
    let mut report = AnswerFileReport {
        file: name.to_string(),
        well_formed: false,
        passes: Vec::new(),
        components: Vec::new(),
        sets_product_key: false,
        sets_driver_paths: false,
        problems: Vec::new(),
    };
    if bytes.len() > MAX_ANSWER_BYTES {
        report.problem(
            None,
            format!(
                "file is {} bytes, more than the {MAX_ANSWER_BYTES}-byte limit",
                bytes.len()
            ),
        );
        return report;
    }
    let (decoded, _) = text::decode(bytes);
    if let Some((line, c)) = text::find_binary(&decoded) {
        report.problem(
            Some(clamp_line(line)),
            format!(
                "binary content (character U+{:04X}), not a text file",
                c as u32
            ),
        );
        return report;
    }
    // quick-xml reads the XML declaration's encoding only as text; the decoder above has
    // already turned UTF-16 into UTF-8, so the declaration is not trusted for decoding.
    let body = decoded.strip_prefix('\u{FEFF}').unwrap_or(&decoded);
    Walker::new(body, &mut report).run();
    report
}

fn clamp_line(line: usize) -> u32 {
    u32::try_from(line).unwrap_or(u32::MAX)
}

/// One open element: its local name and, for `settings`/`component`, their attribute.
struct Open {
    local: String,
}

struct Walker<'a, 'r> {
    text: &'a str,
    reader: Reader<&'a [u8]>,
    report: &'r mut AnswerFileReport,
    stack: Vec<Open>,
    pass: Option<String>,
    component: Option<String>,
    /// Text collected for the element being checked (product key or driver path).
    capture: Option<String>,
}

impl<'a, 'r> Walker<'a, 'r> {
    fn new(text: &'a str, report: &'r mut AnswerFileReport) -> Self {
        let mut reader = Reader::from_str(text);
        reader.config_mut().trim_text(true);
        Walker {
            text,
            reader,
            report,
            stack: Vec::new(),
            pass: None,
            component: None,
            capture: None,
        }
    }

    fn line_at(&self, offset: u64) -> u32 {
        let offset = usize::try_from(offset).unwrap_or(usize::MAX);
        clamp_line(text::line_of_offset(self.text, offset))
    }

    fn here(&self) -> Option<u32> {
        Some(self.line_at(self.reader.buffer_position()))
    }

    fn run(mut self) {
        let mut seen_root = false;
        loop {
            let event = match self.reader.read_event() {
                Ok(e) => e,
                Err(e) => {
                    let line = self.line_at(self.reader.error_position());
                    self.report
                        .problem(Some(line), format!("not well-formed XML: {e}"));
                    return;
                }
            };
            match event {
                Event::DocType(_) => {
                    let line = self.here();
                    self.report.problem(
                        line,
                        "a DOCTYPE is not accepted (entity definitions could expand without bound)",
                    );
                    return;
                }
                Event::Start(e) | Event::Empty(e) if seen_root && self.stack.is_empty() => {
                    let found = String::from_utf8_lossy(e.local_name().as_ref()).into_owned();
                    let line = self.here();
                    self.report.problem(
                        line,
                        format!("not well-formed XML: second root element <{found}>"),
                    );
                    return;
                }
                Event::Start(e) => {
                    seen_root = true;
                    if !self.open(&e) {
                        return;
                    }
                    if self.stack.len() > MAX_ANSWER_DEPTH {
                        let line = self.here();
                        self.report.problem(
                            line,
                            format!("elements nest deeper than {MAX_ANSWER_DEPTH} levels"),
                        );
                        return;
                    }
                }
                Event::Empty(e) => {
                    seen_root = true;
                    if !self.open(&e) {
                        return;
                    }
                    self.close();
                }
                Event::End(_) => self.close(),
                Event::Text(t) => {
                    if self.stack.is_empty() {
                        let line = self.here();
                        self.report
                            .problem(line, "not well-formed XML: text outside the root element");
                        return;
                    }
                    if let Some(buf) = self.capture.as_mut() {
                        match t.unescape() {
                            Ok(s) => buf.push_str(&s),
                            Err(e) => {
                                let line = self.here();
                                self.report
                                    .problem(line, format!("not well-formed XML: {e}"));
                                return;
                            }
                        }
                    }
                }
                Event::CData(t) => {
                    if let Some(buf) = self.capture.as_mut() {
                        buf.push_str(&String::from_utf8_lossy(&t));
                    }
                }
                Event::Eof => break,
                _ => {}
            }
        }
        let line = self.here();
        if !seen_root {
            self.report
                .problem(line, "not well-formed XML: no root element");
            return;
        }
        if !self.stack.is_empty() {
            self.report
                .problem(line, "not well-formed XML: the root element is not closed");
            return;
        }
        self.report.well_formed = true;
        if self.report.passes.is_empty() {
            self.report.problem(
                None,
                "no <settings pass=\"…\"> element: the file configures nothing",
            );
        } else if self.report.components.is_empty() {
            self.report.problem(None, "no <component> in any pass");
        }
    }

    /// Handle a start tag; false when the walk must stop.
    fn open(&mut self, e: &BytesStart<'_>) -> bool {
        let local = String::from_utf8_lossy(e.local_name().as_ref()).into_owned();
        let line = self.here();
        let depth = self.stack.len();
        let attrs = match self.attributes(e) {
            Ok(a) => a,
            Err(message) => {
                self.report.problem(line, message);
                return false;
            }
        };
        if depth == 0 {
            if local != "unattend" {
                self.report.problem(
                    line,
                    format!("root element is <{local}>, expected <unattend>"),
                );
            }
            let prefix = e
                .name()
                .prefix()
                .map(|p| String::from_utf8_lossy(p.as_ref()).into_owned());
            let key = prefix.map_or_else(|| "xmlns".to_string(), |p| format!("xmlns:{p}"));
            let ns = attrs
                .iter()
                .find(|(k, _)| *k == key)
                .map(|(_, v)| v.as_str())
                .unwrap_or("");
            if ns != UNATTEND_NAMESPACE {
                self.report.problem(
                    line,
                    format!("root element is in namespace {ns:?}, expected {UNATTEND_NAMESPACE:?}"),
                );
            }
        }
        let parent = self.stack.last().map(|o| o.local.as_str());
        match (depth, local.as_str()) {
            (1, "settings") => {
                let pass = attrs
                    .iter()
                    .find(|(k, _)| k == "pass")
                    .map(|(_, v)| v.clone());
                match pass {
                    Some(p) => {
                        if !PASSES.contains(&p.as_str()) {
                            self.report.problem(line, format!("unknown pass {p:?}"));
                        }
                        if !self.report.passes.contains(&p) {
                            self.report.passes.push(p.clone());
                        }
                        self.pass = Some(p);
                    }
                    None => {
                        self.report
                            .problem(line, "<settings> has no pass attribute");
                        self.pass = None;
                    }
                }
            }
            (2, "component") if parent == Some("settings") => {
                let name = attrs
                    .iter()
                    .find(|(k, _)| k == "name")
                    .map(|(_, v)| v.clone());
                match (name, self.pass.clone()) {
                    (Some(n), Some(p)) => {
                        self.report.components.push((p, n.clone()));
                        self.component = Some(n);
                    }
                    (None, _) => {
                        self.report
                            .problem(line, "<component> has no name attribute");
                        self.component = None;
                    }
                    (Some(n), None) => self.component = Some(n),
                }
            }
            _ => {}
        }
        self.stack.push(Open { local });
        if self.watched() {
            self.capture = Some(String::new());
        }
        true
    }

    /// Whether the element just opened holds a value we look for.
    fn watched(&self) -> bool {
        let path: Vec<&str> = self
            .stack
            .iter()
            .skip(3)
            .map(|o| o.local.as_str())
            .collect();
        let pass = self.pass.as_deref().unwrap_or("");
        let component = self.component.as_deref().unwrap_or("");
        let in_component = self.stack.len() > 3
            && self.stack.get(1).is_some_and(|o| o.local == "settings")
            && self.stack.get(2).is_some_and(|o| o.local == "component");
        if !in_component {
            return false;
        }
        let key_pe = pass == "windowsPE"
            && component == "Microsoft-Windows-Setup"
            && path == ["UserData", "ProductKey", "Key"];
        let key_spec = pass == "specialize"
            && component == "Microsoft-Windows-Shell-Setup"
            && path == ["ProductKey"];
        let driver =
            path.len() >= 3 && path.first() == Some(&"DriverPaths") && path.last() == Some(&"Path");
        key_pe || key_spec || driver
    }

    fn close(&mut self) {
        if let Some(text) = self.capture.take() {
            if !text.trim().is_empty() {
                if self.stack.last().is_some_and(|o| o.local == "Path") {
                    self.report.sets_driver_paths = true;
                } else {
                    self.report.sets_product_key = true;
                }
            }
        }
        if let Some(open) = self.stack.pop() {
            match (self.stack.len(), open.local.as_str()) {
                (1, "settings") => self.pass = None,
                (2, "component") => self.component = None,
                _ => {}
            }
        }
    }

    fn attributes(&self, e: &BytesStart<'_>) -> Result<Vec<(String, String)>, String> {
        let mut out = Vec::new();
        for (count, a) in e.attributes().enumerate() {
            if count >= 64 {
                return Err("an element has more than 64 attributes".into());
            }
            let a = a.map_err(|err| format!("not well-formed XML: {err}"))?;
            let key = String::from_utf8_lossy(a.key.as_ref()).into_owned();
            let value = a
                .unescape_value()
                .map_err(|err| format!("not well-formed XML: attribute {key}: {err}"))?;
            out.push((key, value.into_owned()));
        }
        Ok(out)
    }
}

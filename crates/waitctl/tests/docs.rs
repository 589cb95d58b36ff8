//! The documents stay true: translations keep the structure of their English original,
//! every command block marked runnable runs and exits 0 with the built `waitctl`, and
//! every relative link points at a file that exists.
//!
//! A fenced block whose info string is `sh runnable` or `bash runnable` is run with
//! `bash` under `set -euo pipefail`. The blocks of one document run in order in one fresh
//! temporary folder (so a later block can use what an earlier one made), with the
//! `waitctl` under test first on `PATH`, `WAIT_DATA_DIR` pointing into that folder and no
//! other `WAIT_*` setting inherited. Translations are not run again: the structure test
//! already proves their blocks are the same text.

use std::path::{Path, PathBuf};
use std::process::Command;

/// English documents that must have a Traditional Chinese translation beside them.
const TRANSLATED: &[&str] = &["README.md", "docs/SERVICING.md", "docs/TROUBLESHOOTING.md"];
/// Translated too, once it exists.
const TRANSLATED_WHEN_PRESENT: &[&str] = &["docs/DEPLOY_GUIDE.md"];
/// A runnable block that takes longer than this is stopped and reported as failed.
const BLOCK_TIMEOUT_SECS: u32 = 180;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// `X.md` → `X.zh-TW.md`.
fn translation_of(english: &str) -> String {
    format!("{}.zh-TW.md", english.trim_end_matches(".md"))
}

/// README*.md at the top and every document directly in docs/, by repository path.
fn documents() -> Vec<String> {
    let mut out = Vec::new();
    for (dir, prefix) in [(root(), ""), (root().join("docs"), "docs/")] {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let is_doc = name.ends_with(".md") && entry.path().is_file();
            if is_doc && (!prefix.is_empty() || name.starts_with("README")) {
                out.push(format!("{prefix}{name}"));
            }
        }
    }
    out.sort();
    out
}

fn read(doc: &str) -> String {
    let path = root().join(doc);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// One fenced code block: its info string, its text and the line of its opening fence.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Block {
    info: String,
    text: String,
    line: usize,
}

impl Block {
    fn runnable(&self) -> bool {
        let mut words = self.info.split_whitespace();
        let shell = words.next();
        matches!(shell, Some("sh" | "bash")) && words.any(|w| w == "runnable")
    }
}

/// The parts of a Markdown document the tests look at.
#[derive(Debug, Default)]
struct Parsed {
    /// (level, text) of every ATX heading outside code blocks.
    headings: Vec<(usize, String)>,
    blocks: Vec<Block>,
    /// (line, target) of every link outside code.
    links: Vec<(usize, String)>,
}

fn parse(text: &str) -> Parsed {
    let mut parsed = Parsed::default();
    let mut open: Option<(String, Block)> = None;
    for (n, line) in text.lines().enumerate() {
        let trimmed = line.trim_start();
        if let Some((fence, block)) = &mut open {
            if trimmed.starts_with(fence.as_str()) && trimmed.trim_matches('`').trim().is_empty() {
                if let Some((_, done)) = open.take() {
                    parsed.blocks.push(done);
                }
            } else {
                block.text.push_str(line);
                block.text.push('\n');
            }
            continue;
        }
        if trimmed.starts_with("```") {
            let ticks = trimmed.len() - trimmed.trim_start_matches('`').len();
            let block = Block {
                info: trimmed[ticks..].trim().to_string(),
                text: String::new(),
                line: n + 1,
            };
            open = Some(("`".repeat(ticks), block));
            continue;
        }
        let hashes = line.len() - line.trim_start_matches('#').len();
        if (1..=6).contains(&hashes) && line[hashes..].starts_with(' ') {
            parsed
                .headings
                .push((hashes, line[hashes..].trim().to_string()));
        }
        parsed
            .links
            .extend(links_in(line).into_iter().map(|t| (n + 1, t)));
    }
    assert!(open.is_none(), "a code block is never closed");
    parsed
}

/// Targets of `[text](target)` and `[label]: target` in one line, code spans left out.
fn links_in(line: &str) -> Vec<String> {
    let prose: String = line
        .split('`')
        .enumerate()
        .filter(|(i, _)| i % 2 == 0)
        .map(|(_, part)| part)
        .collect::<Vec<_>>()
        .join(" ");
    let mut out = Vec::new();
    let mut rest = prose.as_str();
    while let Some(at) = rest.find("](") {
        let after = &rest[at + 2..];
        let Some(end) = after.find(')') else { break };
        out.push(after[..end].to_string());
        rest = &after[end..];
    }
    let t = prose.trim_start();
    if let (true, Some(close)) = (t.starts_with('['), t.find("]:")) {
        if let Some(target) = t[close + 2..].split_whitespace().next() {
            out.push(target.to_string());
        }
    }
    out
}

/// The file part of a relative link, or None for web links and anchors in the same page.
fn relative_file(target: &str) -> Option<&str> {
    let target = target.split_whitespace().next().unwrap_or("");
    let target = target.trim_start_matches('<').trim_end_matches('>');
    let file = target.split('#').next().unwrap_or("");
    let external = file.contains("://") || file.starts_with("mailto:");
    (!file.is_empty() && !external).then_some(file)
}

fn show_headings(h: &[(usize, String)]) -> String {
    h.iter()
        .map(|(level, text)| format!("  {} {text}", "#".repeat(*level)))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn translations_keep_the_headings_and_code_blocks_of_the_original() {
    let present: Vec<&str> = TRANSLATED_WHEN_PRESENT
        .iter()
        .copied()
        .filter(|d| root().join(d).is_file())
        .collect();
    let mut problems = Vec::new();
    for english in TRANSLATED.iter().copied().chain(present) {
        let chinese = translation_of(english);
        if !root().join(&chinese).is_file() {
            problems.push(format!("{english} has no translation {chinese}"));
            continue;
        }
        let (en, zh) = (parse(&read(english)), parse(&read(&chinese)));
        let levels = |p: &Parsed| p.headings.iter().map(|h| h.0).collect::<Vec<_>>();
        if levels(&en) != levels(&zh) {
            problems.push(format!(
                "{chinese}: heading levels differ from {english}\n{english}:\n{}\n{chinese}:\n{}",
                show_headings(&en.headings),
                show_headings(&zh.headings)
            ));
        }
        if en.blocks.len() != zh.blocks.len() {
            problems.push(format!(
                "{chinese} has {} code blocks, {english} has {}",
                zh.blocks.len(),
                en.blocks.len()
            ));
        }
        for (a, b) in en.blocks.iter().zip(&zh.blocks) {
            if (&a.info, &a.text) != (&b.info, &b.text) {
                problems.push(format!(
                    "{english}:{} and {chinese}:{}: code blocks differ\n--- English ```{}\n{}--- translation ```{}\n{}",
                    a.line, b.line, a.info, a.text, b.info, b.text
                ));
            }
        }
    }
    // A translation without its original would never be compared.
    for doc in documents() {
        if let Some(stem) = doc.strip_suffix(".zh-TW.md") {
            if !root().join(format!("{stem}.md")).is_file() {
                problems.push(format!("{doc} has no English original {stem}.md"));
            }
        }
    }
    assert!(problems.is_empty(), "\n{}", problems.join("\n\n"));
}

#[test]
fn relative_links_point_at_existing_files_and_headings() {
    let mut broken = Vec::new();
    for doc in documents() {
        let here = root().join(&doc);
        let dir = here.parent().unwrap_or(Path::new("."));
        for (line, target) in parse(&read(&doc)).links {
            let external = target.contains("://") || target.starts_with("mailto:");
            if external {
                continue;
            }
            let file = relative_file(&target).map_or_else(|| here.clone(), |f| dir.join(f));
            if !file.exists() {
                broken.push(format!("{doc}:{line}: {target} (no such file)"));
                continue;
            }
            // Anchors into Markdown files must name a heading there.
            let Some((_, anchor)) = target.split_once('#') else {
                continue;
            };
            let is_markdown = file.extension().is_some_and(|e| e == "md");
            let text = std::fs::read_to_string(&file).unwrap_or_default();
            let anchors: Vec<String> = parse(&text).headings.iter().map(|h| slug(&h.1)).collect();
            if is_markdown && !anchors.iter().any(|a| a == anchor) {
                broken.push(format!("{doc}:{line}: {target} (no such heading)"));
            }
        }
    }
    assert!(broken.is_empty(), "broken links:\n{}", broken.join("\n"));
}

/// The anchor a heading gets when Markdown is rendered (GitHub's rule): lower case,
/// spaces become `-`, everything but letters, digits, `-` and `_` is dropped. Letters of
/// any script count, so Chinese headings keep their characters.
fn slug(heading: &str) -> String {
    heading
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
            _ => None,
        })
        .flat_map(char::to_lowercase)
        .collect()
}

#[test]
fn runnable_blocks_exit_zero() {
    let bin_dir = Path::new(env!("CARGO_BIN_EXE_waitctl"))
        .parent()
        .expect("the binary has a folder")
        .to_path_buf();
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut ran = 0;
    for doc in documents() {
        if doc.ends_with(".zh-TW.md") {
            continue;
        }
        let blocks: Vec<Block> = parse(&read(&doc))
            .blocks
            .into_iter()
            .filter(Block::runnable)
            .collect();
        if blocks.is_empty() {
            continue;
        }
        let tmp = tempfile::tempdir().expect("temp dir");
        let work = tmp.path().join("work");
        std::fs::create_dir(&work).expect("work dir");
        for (n, block) in blocks.iter().enumerate() {
            let script = tmp.path().join(format!("block-{n}.sh"));
            std::fs::write(&script, format!("set -euo pipefail\n{}", block.text))
                .expect("write the script");
            run_block(&doc, block, &script, &work, &tmp.path().join("data"), &path);
            ran += 1;
        }
    }
    assert!(ran > 0, "no runnable block found in README.md or docs/*.md");
}

/// Run one block; panic with the document, the line and everything it printed when it
/// fails or runs too long.
fn run_block(doc: &str, block: &Block, script: &Path, work: &Path, data: &Path, path: &str) {
    let mut cmd = Command::new("timeout");
    cmd.args([
        "--kill-after=10".to_string(),
        BLOCK_TIMEOUT_SECS.to_string(),
        "bash".to_string(),
    ])
    .arg(script)
    .current_dir(work);
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("WAIT_") {
            cmd.env_remove(name);
        }
    }
    cmd.env("PATH", path)
        .env("WAIT_DATA_DIR", data)
        .env("XDG_CONFIG_HOME", work.join(".config"))
        .env("NO_COLOR", "1");
    let out = cmd.output().expect("run bash through timeout");
    if !out.status.success() {
        let why = match out.status.code() {
            Some(124) | Some(137) => format!("did not finish within {BLOCK_TIMEOUT_SECS} s"),
            Some(code) => format!("exited {code}"),
            None => "was killed".to_string(),
        };
        panic!(
            "{doc}:{}: runnable block {why}\n--- block\n{}--- stdout\n{}--- stderr\n{}",
            block.line,
            block.text,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn the_parser_sees_headings_blocks_and_links_outside_code_only() {
    let doc = "# Title\n\nSee [a](a.md#x), `[b](b.md)` and [c](https://example.com).\n\
               ```sh runnable\n# not a heading\n[d](d.md)\n```\n\n## Next\n[e]: docs/e.md\n\
               ````text\n```\n````\n";
    let p = parse(doc);
    assert_eq!(
        p.headings,
        vec![(1, "Title".to_string()), (2, "Next".to_string())]
    );
    assert_eq!(p.blocks.len(), 2);
    assert!(p.blocks[0].runnable());
    assert_eq!(p.blocks[0].line, 4);
    assert_eq!(p.blocks[0].text, "# not a heading\n[d](d.md)\n");
    assert_eq!(p.blocks[1].text, "```\n");
    assert!(!p.blocks[1].runnable());
    let files: Vec<&str> = p
        .links
        .iter()
        .filter_map(|(_, t)| relative_file(t))
        .collect();
    assert_eq!(files, vec!["a.md", "docs/e.md"]);
    assert_eq!(
        slug("ISO output and `$WinPEDriver$`"),
        "iso-output-and-winpedriver"
    );
    assert_eq!(
        slug("`.msu` updates, PSF payloads"),
        "msu-updates-psf-payloads"
    );
    assert_eq!(slug("401、403 與 CSRF 錯誤"), "401403-與-csrf-錯誤");
}

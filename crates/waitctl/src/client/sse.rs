//! Server-Sent Events parsing for the job stream. Bytes arrive in arbitrary chunks (a
//! line, or an event, may be split anywhere), so the parser keeps the unfinished tail.

/// One dispatched event: its name (`message` when the server named none), the `id:`
/// it carried and its data lines joined with `\n`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SseEvent {
    pub event: String,
    pub id: Option<String>,
    pub data: String,
}

/// Incremental parser: feed chunks with [`SseParser::push`], collect finished events.
#[derive(Debug, Default)]
pub struct SseParser {
    /// Bytes after the last complete line.
    tail: Vec<u8>,
    event: Option<String>,
    id: Option<String>,
    data: Vec<String>,
    /// A `\r` ended the previous chunk: a `\n` opening the next one belongs to it.
    after_cr: bool,
}

impl SseParser {
    pub fn new() -> Self {
        Self::default()
    }

    /// Take one chunk of the body; return the events it completed.
    pub fn push(&mut self, chunk: &[u8]) -> Vec<SseEvent> {
        let mut out = Vec::new();
        for &b in chunk {
            if self.after_cr {
                self.after_cr = false;
                if b == b'\n' {
                    continue;
                }
            }
            match b {
                b'\n' | b'\r' => {
                    self.after_cr = b == b'\r';
                    let line = std::mem::take(&mut self.tail);
                    if let Some(event) = self.line(&String::from_utf8_lossy(&line)) {
                        out.push(event);
                    }
                }
                _ => self.tail.push(b),
            }
        }
        out
    }

    /// Handle one line; a blank line dispatches the event being built.
    fn line(&mut self, line: &str) -> Option<SseEvent> {
        if line.is_empty() {
            let event = self.event.take();
            if self.data.is_empty() {
                // an event without data is not dispatched (the spec's rule)
                return None;
            }
            return Some(SseEvent {
                event: event.unwrap_or_else(|| "message".to_string()),
                id: self.id.clone(),
                data: std::mem::take(&mut self.data).join("\n"),
            });
        }
        if line.starts_with(':') {
            // a comment: the server's heartbeat
            return None;
        }
        let (field, value) = match line.split_once(':') {
            Some((f, v)) => (f, v.strip_prefix(' ').unwrap_or(v)),
            None => (line, ""),
        };
        match field {
            "event" => self.event = Some(value.to_string()),
            "data" => self.data.push(value.to_string()),
            // an id with NUL is ignored, as the spec says
            "id" if !value.contains('\0') => self.id = Some(value.to_string()),
            _ => {}
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(chunks: &[&str]) -> Vec<SseEvent> {
        let mut p = SseParser::new();
        chunks.iter().flat_map(|c| p.push(c.as_bytes())).collect()
    }

    #[test]
    fn events_split_anywhere_come_out_whole() {
        let text = "event: log\nid: 3\ndata: {\"a\":1}\n\n:heartbeat\n\nevent: status\ndata: x\n\n";
        let whole = all(&[text]);
        assert_eq!(whole.len(), 2);
        assert_eq!(whole[0].event, "log");
        assert_eq!(whole[0].id.as_deref(), Some("3"));
        assert_eq!(whole[0].data, "{\"a\":1}");
        assert_eq!(whole[1].event, "status");
        // the id carries over to later events until a new one is set
        assert_eq!(whole[1].id.as_deref(), Some("3"));
        for cut in 0..text.len() {
            let (a, b) = text.split_at(cut);
            assert_eq!(all(&[a, b]), whole, "split at {cut}");
        }
    }

    /// (event, id, data) of one expected event.
    type Want<'a> = (&'a str, Option<&'a str>, &'a str);

    #[test]
    fn line_endings_and_odd_lines() {
        let cases: &[(&str, Vec<Want<'_>>)] = &[
            ("data: a\r\n\r\n", vec![("message", None, "a")]),
            (
                "data: a\r\rdata: b\r\r",
                vec![("message", None, "a"), ("message", None, "b")],
            ),
            ("data:a\ndata: b\n\n", vec![("message", None, "a\nb")]),
            ("event: status\n\n", vec![]),
            (": only a comment\n\n", vec![]),
            ("data: no blank line yet\n", vec![]),
            (
                "bogus\nretry: 10\ndata: x\n\n",
                vec![("message", None, "x")],
            ),
            ("id: a\0b\ndata: x\n\n", vec![("message", None, "x")]),
            ("id\ndata: x\n\n", vec![("message", Some(""), "x")]),
            ("data: \u{fffd}\n\n", vec![("message", None, "\u{fffd}")]),
        ];
        for (text, want) in cases {
            let got: Vec<(String, Option<String>, String)> = all(&[text])
                .into_iter()
                .map(|e| (e.event, e.id, e.data))
                .collect();
            let want: Vec<(String, Option<String>, String)> = want
                .iter()
                .map(|(e, i, d)| (e.to_string(), i.map(str::to_string), d.to_string()))
                .collect();
            assert_eq!(got, want, "input {text:?}");
        }
    }

    #[test]
    fn invalid_utf8_does_not_stop_the_stream() {
        let mut p = SseParser::new();
        let got = p.push(b"data: \xff\n\ndata: ok\n\n");
        assert_eq!(got.len(), 2);
        assert_eq!(got[1].data, "ok");
    }
}

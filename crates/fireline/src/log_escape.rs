//! A log writer that keeps one event on one line: control characters inside an event
//! (a newline other than the final one, ESC, tab, other C0 and C1 controls, DEL) are
//! written escaped (`\n`, `\x1b`, `\u{9b}`), so text from a request (a username with a
//! newline, an alert summary with ESC) can neither forge a log line nor drive the
//! terminal reading the log. JSON output escapes them itself; this covers the text
//! format, whatever a field holds or however it is formatted.
//!
//! `tracing-subscriber`'s formatter writes each event with one `write_all` on a writer
//! it asks for per event, so one `write` call is one event and its final newline is the
//! last byte of the buffer.

use std::io::{self, Write};
use tracing_subscriber::fmt::MakeWriter;

/// Makes an [`EscapingWriter`] over `M`'s writer for each event.
#[derive(Debug, Clone)]
pub struct MakeEscaping<M> {
    inner: M,
    colours: bool,
}

impl<M> MakeEscaping<M> {
    /// Escapes what `inner`'s writers receive. With `colours`, the formatter's own
    /// colour sequences (`ESC [ digits ; … m`, SGR) pass: they only colour text, and
    /// `tracing-subscriber` escapes ESC inside field values before they get here.
    pub fn new(inner: M, colours: bool) -> Self {
        MakeEscaping { inner, colours }
    }
}

impl<'a, M: MakeWriter<'a>> MakeWriter<'a> for MakeEscaping<M> {
    type Writer = EscapingWriter<M::Writer>;

    fn make_writer(&'a self) -> Self::Writer {
        EscapingWriter {
            inner: self.inner.make_writer(),
            colours: self.colours,
        }
    }
}

/// Escapes control characters in what it writes; see the module documentation.
#[derive(Debug)]
pub struct EscapingWriter<W> {
    inner: W,
    colours: bool,
}

impl<W: Write> Write for EscapingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.inner.write_all(escape(buf, self.colours).as_bytes())?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// `buf` with its control characters escaped, a final newline kept, and bytes that are
/// not UTF-8 written as `\xNN`.
fn escape(buf: &[u8], colours: bool) -> String {
    let (body, newline) = match buf.split_last() {
        Some((b'\n', body)) => (body, true),
        _ => (buf, false),
    };
    let mut out = String::with_capacity(buf.len() + 16);
    for chunk in body.utf8_chunks() {
        let text = chunk.valid();
        let mut chars = text.char_indices().peekable();
        while let Some((at, c)) = chars.next() {
            if c == '\x1b' && colours {
                if let Some(len) = sgr_len(&text[at..]) {
                    out.push_str(&text[at..at + len]);
                    // Skip the rest of the sequence (all ASCII, one char per byte).
                    for _ in 1..len {
                        chars.next();
                    }
                    continue;
                }
            }
            push_escaped(&mut out, c);
        }
        for byte in chunk.invalid() {
            out.push_str(&format!("\\x{byte:02x}"));
        }
    }
    if newline {
        out.push('\n');
    }
    out
}

/// The length of the SGR (colour) sequence `text` starts with, if it starts with one.
fn sgr_len(text: &str) -> Option<usize> {
    let rest = text.strip_prefix("\x1b[")?;
    let params = rest
        .bytes()
        .take_while(|b| b.is_ascii_digit() || *b == b';')
        .count();
    (rest.as_bytes().get(params) == Some(&b'm')).then_some(2 + params + 1)
}

fn push_escaped(out: &mut String, c: char) {
    match c {
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        '\t' => out.push_str("\\t"),
        '\x00'..='\x1f' | '\x7f' => out.push_str(&format!("\\x{:02x}", c as u32)),
        '\u{80}'..='\u{9f}' => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
        c => out.push(c),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn written(input: &[u8], colours: bool) -> String {
        let mut sink = Vec::new();
        let mut writer = EscapingWriter {
            inner: &mut sink,
            colours,
        };
        writer.write_all(input).expect("write to a Vec");
        String::from_utf8(sink).expect("escaped output is UTF-8")
    }

    #[test]
    fn a_newline_inside_an_event_cannot_forge_a_log_line() {
        let line =
            "INFO UI sign-in refused name=x\n2026-01-01T00:00:00Z INFO signed in principal=admin\n";
        let out = written(line.as_bytes(), false);
        assert_eq!(
            out,
            "INFO UI sign-in refused name=x\\n2026-01-01T00:00:00Z INFO signed in principal=admin\n"
        );
        assert_eq!(out.matches('\n').count(), 1, "one event, one line");
    }

    #[test]
    fn control_characters_are_escaped_and_text_is_kept() {
        assert_eq!(
            written(
                "a\x1b[2Jb\tc\rd\x00e\x7ff\u{9b}g\u{7}h é ✓\n".as_bytes(),
                false
            ),
            "a\\x1b[2Jb\\tc\\rd\\x00e\\x7ff\\u{9b}g\\x07h é ✓\n"
        );
        // Only the last newline is the line's end; others before it are escaped.
        assert_eq!(written(b"x\n\n", false), "x\\n\n");
        assert_eq!(written(b"no newline", false), "no newline");
        assert_eq!(written(b"", false), "");
    }

    #[test]
    fn bytes_that_are_not_utf8_are_written_as_hex() {
        assert_eq!(written(b"a\xffb\xc3\n", false), "a\\xffb\\xc3\n");
    }

    #[test]
    fn colour_sequences_pass_only_when_colours_are_on() {
        let coloured = "\x1b[32mINFO\x1b[0m \x1b[2mname\x1b[0m=x\n";
        assert_eq!(written(coloured.as_bytes(), true), coloured);
        assert_eq!(
            written(coloured.as_bytes(), false),
            "\\x1b[32mINFO\\x1b[0m \\x1b[2mname\\x1b[0m=x\n"
        );
        // Anything but colour is escaped even then: cursor moves, screen clears, titles.
        assert_eq!(
            written(b"\x1b[2J\x1b]0;title\x07\x1b[1;1H\n", true),
            "\\x1b[2J\\x1b]0;title\\x07\\x1b[1;1H\n"
        );
    }

    #[test]
    fn the_subscriber_writes_escaped_events() {
        let sink = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let make = {
            let sink = sink.clone();
            move || SharedSink(sink.clone())
        };
        let subscriber = tracing_subscriber::fmt()
            .with_writer(MakeEscaping::new(make, false))
            .with_ansi(false)
            .without_time()
            .finish();
        tracing::subscriber::with_default(subscriber, || {
            tracing::info!(name = %"x\nFORGED line", "UI sign-in refused");
            tracing::info!("second");
        });
        let text = String::from_utf8(sink.lock().expect("sink").clone()).expect("UTF-8");
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2, "{text}");
        assert!(lines[0].contains("name=x\\nFORGED line"), "{text}");
        assert!(!lines.iter().any(|l| l.starts_with("FORGED")), "{text}");
    }

    /// A writer into a shared buffer, for the subscriber test.
    struct SharedSink(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

    impl Write for SharedSink {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.0
                .lock()
                .map_err(|_| io::Error::other("poisoned"))?
                .extend_from_slice(buf);
            Ok(buf.len())
        }

        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }
}

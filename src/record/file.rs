//! Recording files: the [`Writer`] (`smqctl record`) and [`read`] (`smqctl
//! replay`).
//!
//! The writer writes each line with one `write` of the whole line and its
//! newline, unbuffered, so a crash or a kill loses at most the line being
//! written. With a size limit it rotates: when the next line would take the
//! current part past it, it starts `NAME.2.EXT` (then `.3`, ...), whose first
//! lines are the header (with `part`) and the client and subscribe lines seen
//! so far, so every part replays on its own.
//!
//! The reader checks the header (schema name, a version it knows), parses
//! every line and fails on the first bad one with the file and line number; an
//! incomplete last line (no newline: the recorder was killed mid-write) is
//! skipped and reported as a warning instead.
//!
//! May import: `record` (its line types). Nothing above.

use std::collections::HashSet;
use std::fs::File;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use super::{Header, Line, SCHEMA, VERSION};

/// Appends lines to a recording, rotating at `max_size` bytes.
pub struct Writer {
    base: PathBuf,
    file: File,
    header: Header,
    max_size: Option<u64>,
    /// Bytes in the current part.
    size: u64,
    /// Lines in the current part after its header and repeated context.
    lines_in_part: u64,
    /// Client and subscribe lines so far, repeated at the top of each part.
    context: Vec<String>,
    context_seen: HashSet<String>,
    paths: Vec<PathBuf>,
}

/// The path of part `n` of a recording at `base`: `a.smqrec`, `a.2.smqrec`...
pub fn part_path(base: &Path, n: u32) -> PathBuf {
    if n <= 1 {
        return base.to_path_buf();
    }
    let stem = base.file_stem().map(|s| s.to_string_lossy().into_owned());
    let name = match (stem, base.extension()) {
        (Some(stem), Some(ext)) => format!("{stem}.{n}.{}", ext.to_string_lossy()),
        (Some(stem), None) => format!("{stem}.{n}"),
        (None, _) => format!("recording.{n}"),
    };
    base.with_file_name(name)
}

impl Writer {
    /// Creates (truncates) `path` and writes the header.
    pub fn create(path: &Path, header: Header, max_size: Option<u64>) -> io::Result<Writer> {
        let file = File::create(path)?;
        let mut w = Writer {
            base: path.to_path_buf(),
            file,
            header,
            max_size,
            size: 0,
            lines_in_part: 0,
            context: Vec::new(),
            context_seen: HashSet::new(),
            paths: vec![path.to_path_buf()],
        };
        w.start_part()?;
        Ok(w)
    }

    /// The files written so far, in order.
    pub fn paths(&self) -> &[PathBuf] {
        &self.paths
    }

    fn put(&mut self, text: &str) -> io::Result<()> {
        let mut line = String::with_capacity(text.len() + 1);
        line.push_str(text);
        line.push('\n');
        self.file.write_all(line.as_bytes())?;
        self.size += line.len() as u64;
        Ok(())
    }

    fn start_part(&mut self) -> io::Result<()> {
        let header = serde_json::to_string(&self.header).map_err(io::Error::other)?;
        self.put(&header)?;
        for i in 0..self.context.len() {
            let line = self.context[i].clone();
            self.put(&line)?;
        }
        self.lines_in_part = 0;
        Ok(())
    }

    fn rotate(&mut self) -> io::Result<()> {
        self.file.flush()?;
        self.header.part += 1;
        let path = part_path(&self.base, self.header.part);
        self.file = File::create(&path)?;
        self.paths.push(path);
        self.size = 0;
        self.start_part()
    }

    /// Writes one line (rotating first when it would pass the size limit).
    /// A client or subscribe line already written is not written again.
    pub fn write(&mut self, line: &Line) -> io::Result<()> {
        let context = matches!(line, Line::Client(_) | Line::Subscribe(_));
        let text = serde_json::to_string(line).map_err(io::Error::other)?;
        if context {
            // The same client or subscription, whenever it was seen.
            let key = match line {
                Line::Client(c) => format!("c {} {:?} {:?}", c.etid, c.uid, c.info),
                Line::Subscribe(s) => format!("s {} {:?} {}", s.etid, s.uid, s.topic),
                _ => String::new(),
            };
            if !self.context_seen.insert(key) {
                return Ok(());
            }
        }
        if let Some(max) = self.max_size
            && self.lines_in_part > 0
            && self.size + text.len() as u64 + 1 > max
        {
            self.rotate()?;
        }
        self.put(&text)?;
        self.lines_in_part += 1;
        if context {
            self.context.push(text);
        }
        Ok(())
    }
}

/// A recording read back: the header of its first file and every line, in
/// order, with where it came from.
#[derive(Debug, Clone)]
pub struct Recording {
    pub header: Header,
    pub lines: Vec<Located>,
    /// Things the reader skipped and the user should know (an incomplete
    /// last line).
    pub warnings: Vec<String>,
}

/// A line and its place (for messages that name it).
#[derive(Debug, Clone)]
pub struct Located {
    pub file: usize,
    pub line: usize,
    pub at: jiff::Timestamp,
    pub item: Line,
}

/// Why a recording cannot be read: the file, the line, the reason.
#[derive(Debug, thiserror::Error)]
#[error("{path}{}: {reason}", .line.map(|n| format!(" line {n}")).unwrap_or_default())]
pub struct ReadError {
    pub path: String,
    pub line: Option<usize>,
    pub reason: String,
}

/// Reads the parts of a recording in the order given.
pub fn read(paths: &[PathBuf]) -> Result<Recording, ReadError> {
    let mut header = None;
    let mut lines = Vec::new();
    let mut warnings = Vec::new();
    for (file, path) in paths.iter().enumerate() {
        let shown = path.display().to_string();
        let err = |line: Option<usize>, reason: String| ReadError {
            path: shown.clone(),
            line,
            reason,
        };
        let text = std::fs::read(path).map_err(|e| err(None, format!("cannot read it: {e}")))?;
        let text =
            String::from_utf8(text).map_err(|e| err(None, format!("not UTF-8 text: {e}")))?;
        let complete = text.ends_with('\n');
        let all: Vec<&str> = text.lines().collect();
        let Some(first) = all.first() else {
            return Err(err(None, "empty file (no header line)".into()));
        };
        let h: Header = serde_json::from_str(first).map_err(|e| {
            err(
                Some(1),
                format!(
                    "not a recording header ({e}); is this a .smqrec file from `smqctl record`?"
                ),
            )
        })?;
        if h.schema != SCHEMA {
            return Err(err(
                Some(1),
                format!("schema is {:?}, not {SCHEMA:?}", h.schema),
            ));
        }
        if h.version > VERSION || h.version == 0 {
            return Err(err(
                Some(1),
                format!(
                    "recording format version {} (this smqctl reads 1 to {VERSION}); a newer smqctl wrote it",
                    h.version
                ),
            ));
        }
        for (i, raw) in all.iter().enumerate().skip(1) {
            let n = i + 1;
            if raw.trim().is_empty() {
                continue;
            }
            let item: Line = match serde_json::from_str(raw) {
                Ok(item) => item,
                Err(e) if n == all.len() && !complete => {
                    warnings.push(format!(
                        "{shown} line {n} is incomplete (the recorder stopped while writing it) and was skipped: {e}"
                    ));
                    continue;
                }
                Err(e) => return Err(err(Some(n), format!("not a recording line: {e}"))),
            };
            let at = match item.ts() {
                Some(ts) => ts
                    .parse::<jiff::Timestamp>()
                    .map_err(|e| err(Some(n), format!("ts {ts:?} is not an RFC 3339 time: {e}")))?,
                None => continue, // a line type from a newer recorder
            };
            if let Line::Message(m) = &item {
                m.bytes().map_err(|e| err(Some(n), e))?;
            }
            lines.push(Located {
                file,
                line: n,
                at,
                item,
            });
        }
        header.get_or_insert(h);
    }
    let Some(header) = header else {
        return Err(ReadError {
            path: "(no file)".into(),
            line: None,
            reason: "no recording given".into(),
        });
    };
    Ok(Recording {
        header,
        lines,
        warnings,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::{ClientLine, Source};

    fn client(etid: u32) -> Line {
        Line::Client(ClientLine {
            ts: "2026-11-22T03:44:17.123Z".into(),
            etid,
            uid: Some(format!("dev-{etid}")),
            info: None,
        })
    }

    #[test]
    fn part_names_number_the_parts_before_the_extension() {
        let base = Path::new("/tmp/x/session.smqrec");
        assert_eq!(part_path(base, 1), base);
        assert_eq!(part_path(base, 2), Path::new("/tmp/x/session.2.smqrec"));
        assert_eq!(part_path(Path::new("rec"), 3), Path::new("rec.3"));
    }

    #[test]
    fn a_client_line_is_written_once_and_repeated_at_the_top_of_each_part() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("r.smqrec");
        let header = Header::new(Source::Trace, 100);
        let mut w = Writer::create(&path, header, Some(300)).expect("create");
        for n in 0..6 {
            w.write(&client(n % 3)).expect("write");
        }
        assert_eq!(w.paths().len(), 2, "rotated once: {:?}", w.paths());
        let rec = read(w.paths()).expect("reads back");
        let etids: Vec<u32> = rec
            .lines
            .iter()
            .filter_map(|l| match &l.item {
                Line::Client(c) => Some(c.etid),
                _ => None,
            })
            .collect();
        // Part 2 starts with what part 1 had seen (0, 1) before client 2.
        assert_eq!(etids, [0, 1, 0, 1, 2], "{etids:?}");
        let second = std::fs::read_to_string(&w.paths()[1]).expect("part 2");
        assert!(second.starts_with(r#"{"schema":"smqctl-recording","version":1,"#));
        assert!(
            second
                .lines()
                .next()
                .is_some_and(|h| h.contains(r#""part":2"#))
        );
    }

    proptest::proptest! {
        /// Whatever a client published comes back from the file as the same
        /// bytes (a JSON payload as the same value, compact).
        #[test]
        fn any_payload_survives_the_file(data in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..300)) {
            use crate::record::Message;
            use crate::trace::schema::{Client, Dest, DestType, Encoding, Event, Kind};
            let mut ev = Event::new(Kind::Publish, "2026-11-22T03:44:17.123Z".into())
                .with_payload(&data, 1024);
            ev.from = Some(Client { etid: 7, ..Client::default() });
            ev.to = Some(Dest { tid: 9, kind: DestType::Topic, name: Some("T".into()), uid: None });
            let m = Message::from_event(&ev).expect("a message");
            let line = serde_json::to_string(&Line::Message(m)).expect("writes");
            let back: Line = serde_json::from_str(&line).expect("reads");
            let Line::Message(back) = back else { panic!("not a message: {line}") };
            let bytes = back.bytes().expect("decodes");
            if back.encoding == Encoding::Json {
                let a: serde_json::Value = serde_json::from_slice(&bytes).expect("json");
                let b: serde_json::Value = serde_json::from_slice(&data).expect("json");
                proptest::prop_assert_eq!(a, b);
            } else {
                proptest::prop_assert_eq!(bytes, data);
            }
        }

        /// Any lines after a valid header are read or refused with a line
        /// number; never a panic.
        #[test]
        fn the_reader_refuses_garbage_with_a_line_number_and_never_panics(
            lines in proptest::collection::vec("[ -~]{0,60}", 0..6)
        ) {
            let dir = tempfile::tempdir().expect("tempdir");
            let path = dir.path().join("g.smqrec");
            let header = serde_json::to_string(&Header::new(crate::record::Source::Trace, 8))
                .expect("header");
            std::fs::write(&path, format!("{header}\n{}\n", lines.join("\n"))).expect("write");
            if let Err(e) = read(&[path]) {
                proptest::prop_assert!(e.line.is_some_and(|n| n >= 2), "{}", e);
            }
        }
    }
}

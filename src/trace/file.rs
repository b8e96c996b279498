//! Trace events in files: NDJSON (one [`Event`] as JSON per line), read as a
//! source and written by the TUI's export, and the TUI's spill file
//! ([`SpillFile`]: events that left its ring, read back in windows).
//!
//! A recorded or exported file replays through the same [`Update`] channel as a
//! live broker, so `smqctl tui --file events.ndjson` runs end to end without a
//! broker (demos, bug reports, load tests). Reading can be paced: as fast as
//! the consumer takes them, or at a fixed rate (`--replay-rate N` events per
//! second); `follow` keeps reading as the file grows, like `tail -f`.
//!
//! Format rules: blank lines (only whitespace) are skipped, and so are the
//! analyzer's own objects (`{"type":"finding"}` and `{"type":"summary"}`, which
//! `smqctl trace --findings -F json` writes between events); every other line
//! must be one JSON object of the trace schema. Unknown fields and kinds are
//! accepted (see [`crate::trace::schema`]). A line that is not a schema event
//! stops the source with an error naming the file and the line number
//! ([`FileError::Parse`]), reported as a final [`Status::Ended`] with
//! `error: true` — a recording with a broken line is not silently shortened.
//!
//! May import: `trace::schema`, `trace::source`, tokio, serde_json.

use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::sync::mpsc;
use tokio::time::Instant;

use super::schema::Event;
use super::source::{Status, Update};

/// How to replay a file.
#[derive(Debug, Clone)]
pub struct FileOptions {
    pub path: PathBuf,
    /// Events per second; `None` sends as fast as the consumer takes them.
    pub rate: Option<f64>,
    /// At the end of the file, wait for more lines instead of ending.
    pub follow: bool,
}

/// Why a file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum FileError {
    #[error("cannot open {path}: {source}")]
    Open { path: String, source: io::Error },
    #[error("cannot read {path} at line {line}: {source}")]
    Read {
        path: String,
        line: usize,
        source: io::Error,
    },
    #[error("{path} line {line}: not a trace event: {reason}")]
    Parse {
        path: String,
        line: usize,
        reason: String,
    },
}

/// Parses one line: `Ok(None)` for a blank line or an analyzer object.
pub fn parse_line(line: &str) -> Result<Option<Event>, String> {
    let t = line.trim();
    if t.is_empty() {
        return Ok(None);
    }
    match serde_json::from_str::<Event>(t) {
        Ok(e) => Ok(Some(e)),
        // Only a line that is not an event pays for this second look.
        Err(_) if is_analyzer_object(t) => Ok(None),
        Err(e) => Err(e.to_string()),
    }
}

/// A finding or summary object of `smqctl analyze` / `trace --findings`.
fn is_analyzer_object(t: &str) -> bool {
    serde_json::from_str::<serde_json::Value>(t).is_ok_and(|v| {
        v.get("kind").is_none()
            && matches!(
                v.get("type").and_then(|t| t.as_str()),
                Some("finding" | "summary")
            )
    })
}

/// Reads a whole file (tests, small recordings).
pub fn read_file(path: &Path) -> Result<Vec<Event>, FileError> {
    let shown = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|source| FileError::Open {
        path: shown.clone(),
        source,
    })?;
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        match parse_line(line) {
            Ok(Some(e)) => out.push(e),
            Ok(None) => {}
            Err(reason) => {
                return Err(FileError::Parse {
                    path: shown,
                    line: i + 1,
                    reason,
                });
            }
        }
    }
    Ok(out)
}

/// Writes events as NDJSON, one per line; returns how many were written.
pub fn write_events<'a, W: Write>(
    mut out: W,
    events: impl IntoIterator<Item = &'a Event>,
) -> io::Result<usize> {
    let mut n = 0;
    for e in events {
        serde_json::to_writer(&mut out, e)?;
        out.write_all(b"\n")?;
        n += 1;
    }
    out.flush()?;
    Ok(n)
}

/// Writes events to a new file at `path` (refusing to overwrite one).
pub fn export<'a>(path: &Path, events: impl IntoIterator<Item = &'a Event>) -> io::Result<usize> {
    let file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)?;
    write_events(io::BufWriter::new(file), events)
}

/// Opens the file now, so a missing file is an error before any UI starts.
pub async fn open(path: &Path) -> Result<tokio::fs::File, FileError> {
    tokio::fs::File::open(path)
        .await
        .map_err(|source| FileError::Open {
            path: path.display().to_string(),
            source,
        })
}

/// Replays `file` into `tx` as [`Update::Event`]s, then a final
/// [`Status::Ended`] (with `error: true` and the line when a line is bad).
/// Returns when the file ends (without `follow`), on an error, or when the
/// receiver is gone.
pub async fn run(opts: FileOptions, file: tokio::fs::File, tx: mpsc::Sender<Update>) {
    let name = opts.path.display().to_string();
    let end = match replay(&opts, file, &tx).await {
        Ok(Some(n)) => Status::Ended {
            reason: format!("end of {name} ({n} events)"),
            error: false,
        },
        Ok(None) => return,
        Err(e) => Status::Ended {
            reason: e.to_string(),
            error: true,
        },
    };
    let _ = tx.send(Update::Status(end)).await;
}

/// `Ok(None)`: the receiver went away.
async fn replay(
    opts: &FileOptions,
    file: tokio::fs::File,
    tx: &mpsc::Sender<Update>,
) -> Result<Option<u64>, FileError> {
    let name = opts.path.display().to_string();
    let mut reader = BufReader::with_capacity(64 * 1024, file);
    let mut line = String::new();
    let mut lineno = 0usize;
    let mut sent: u64 = 0;
    let start = Instant::now();
    // Pacing: events may go out while sent < rate × elapsed; otherwise wait a
    // slice. Sending in small bursts keeps the average exact at high rates
    // without a timer per event.
    let slice = Duration::from_millis(5);
    loop {
        if let Some(rate) = opts.rate {
            loop {
                let allowed = (rate * start.elapsed().as_secs_f64()) as u64 + 1;
                if sent < allowed {
                    break;
                }
                tokio::time::sleep(slice).await;
            }
        }
        let before = line.len();
        let n = reader
            .read_line(&mut line)
            .await
            .map_err(|source| FileError::Read {
                path: name.clone(),
                line: lineno + 1,
                source,
            })?;
        let complete = line.ends_with('\n');
        if n == 0 || !complete {
            // End of the file for now; a partial last line waits for its end
            // when following, and counts as a line otherwise.
            if opts.follow {
                if tx.is_closed() {
                    return Ok(None);
                }
                tokio::time::sleep(Duration::from_millis(200)).await;
                continue;
            }
            if line.len() == before && line.trim().is_empty() {
                return Ok(Some(sent));
            }
        }
        lineno += 1;
        let parsed = parse_line(&line).map_err(|reason| FileError::Parse {
            path: name.clone(),
            line: lineno,
            reason,
        });
        line.clear();
        if let Some(event) = parsed? {
            if tx.send(Update::Event(Box::new(event))).await.is_err() {
                return Ok(None);
            }
            sent += 1;
        }
        if n == 0 || !complete {
            return Ok(Some(sent));
        }
    }
}

/// Lines between two remembered offsets of a [`SpillFile`]: memory is one
/// `u64` per this many spilled events, and a read skips at most this many.
const SPILL_STRIDE: u64 = 256;

/// Events written one per line to an NDJSON file as they leave the TUI's
/// ring (`smqctl tui --spill FILE`), and read back by index in windows: the
/// file is never loaded whole. The lines are the export's (and `trace -F
/// json`'s) format. An existing file is appended to; indexes count only the
/// lines this run wrote.
pub struct SpillFile {
    path: PathBuf,
    out: io::BufWriter<std::fs::File>,
    read: std::fs::File,
    /// Byte offset of line `k * SPILL_STRIDE`.
    offsets: Vec<u64>,
    /// Where the next line starts.
    end: u64,
    len: u64,
    line: Vec<u8>,
}

impl SpillFile {
    /// Opens (or creates) `path` for appending.
    pub fn open(path: &Path) -> io::Result<SpillFile> {
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)?;
        let read = std::fs::File::open(path)?;
        let mut end = file.metadata()?.len();
        if end > 0 {
            // A file that does not end its last line gets one, so our first
            // event starts a line of its own.
            use std::io::{Read, Seek, SeekFrom};
            let mut last = [0u8];
            let mut r = &read;
            r.seek(SeekFrom::Start(end - 1))?;
            r.read_exact(&mut last)?;
            if last[0] != b'\n' {
                file.write_all(b"\n")?;
                end += 1;
            }
        }
        Ok(SpillFile {
            path: path.to_path_buf(),
            out: io::BufWriter::with_capacity(64 * 1024, file),
            read,
            offsets: Vec::new(),
            end,
            len: 0,
            line: Vec::with_capacity(512),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Events written by this run.
    pub fn len(&self) -> u64 {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Appends one event as a line.
    pub fn append(&mut self, e: &Event) -> io::Result<()> {
        self.line.clear();
        serde_json::to_writer(&mut self.line, e)?;
        self.line.push(b'\n');
        self.out.write_all(&self.line)?;
        if self.len.is_multiple_of(SPILL_STRIDE) {
            self.offsets.push(self.end);
        }
        self.end += self.line.len() as u64;
        self.len += 1;
        Ok(())
    }

    /// Writes what is buffered to the file.
    pub fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }

    /// Events `from..to` of this run (clamped to what was written).
    pub fn read(&mut self, from: u64, to: u64) -> Result<Vec<Event>, String> {
        use std::io::{BufRead, Seek, SeekFrom};
        let to = to.min(self.len);
        if from >= to {
            return Ok(Vec::new());
        }
        let shown = self.path.display();
        self.out
            .flush()
            .map_err(|e| format!("cannot write {shown}: {e}"))?;
        let k = from / SPILL_STRIDE;
        let at = self.offsets.get(k as usize).copied().unwrap_or(self.end);
        let mut r = &self.read;
        r.seek(SeekFrom::Start(at))
            .map_err(|e| format!("cannot read {shown}: {e}"))?;
        let mut lines = io::BufReader::new(r).lines();
        let mut out = Vec::with_capacity((to - from) as usize);
        for n in k * SPILL_STRIDE..to {
            let line = match lines.next() {
                Some(Ok(l)) => l,
                Some(Err(e)) => return Err(format!("cannot read {shown}: {e}")),
                None => {
                    return Err(format!(
                        "{shown} is shorter than written (changed by someone else?)"
                    ));
                }
            };
            if n < from {
                continue;
            }
            match parse_line(&line) {
                Ok(Some(e)) => out.push(e),
                Ok(None) => return Err(format!("{shown}: spilled event {n} is missing")),
                Err(e) => return Err(format!("{shown}: spilled event {n}: {e}")),
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn analyzer_objects_between_events_are_skipped_and_other_objects_are_not() {
        assert_eq!(
            super::parse_line(r#"{"type":"finding","id":0,"rule":"stale-etid","evidence":[]}"#),
            Ok(None)
        );
        assert_eq!(
            super::parse_line(r#"{"type":"summary","events":3}"#),
            Ok(None)
        );
        assert!(super::parse_line(r#"{"type":"other"}"#).is_err());
        assert!(super::parse_line(r#"{"rule":"x"}"#).is_err());
    }

    use super::*;
    use crate::trace::schema::{Dest, DestType, Kind};

    fn sample() -> Vec<Event> {
        let mut a = Event::new(Kind::Publish, "2026-11-22T03:44:17.123Z".into())
            .with_payload(br#"{"On":true}"#, 256);
        a.to = Some(Dest {
            tid: 9,
            kind: DestType::Topic,
            name: Some("DeviceState".into()),
            uid: None,
        });
        let b = Event::new(Kind::Drop, "2026-11-22T03:44:18Z".into()).with_payload(&[0, 0xff], 256);
        vec![a, b]
    }

    fn collect(rx: &mut mpsc::Receiver<Update>) -> Vec<Update> {
        let mut out = Vec::new();
        while let Ok(u) = rx.try_recv() {
            out.push(u);
        }
        out
    }

    #[test]
    fn export_then_read_gives_the_same_events() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("x.ndjson");
        let events = sample();
        assert_eq!(export(&path, &events).expect("export"), 2);
        assert_eq!(read_file(&path).expect("read"), events);
        let again = export(&path, &events).expect_err("no overwrite");
        assert_eq!(again.kind(), io::ErrorKind::AlreadyExists);
    }

    #[test]
    fn a_file_mixing_schema_v1_and_v2_lines_reads_the_same_payloads() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("mixed.ndjson");
        let v1 = r#"{"v":1,"ts":"2026-11-22T03:44:17Z","kind":"publish","size":11,"encoding":"json","payload":"{\"On\":true}"}"#;
        let v2 = r#"{"v":2,"ts":"2026-11-22T03:44:18Z","kind":"publish","size":11,"encoding":"json","payload":{"On":true}}"#;
        std::fs::write(&path, format!("{v1}\n{v2}\n")).expect("write");
        let events = read_file(&path).expect("both versions load");
        assert_eq!(events.len(), 2);
        assert_eq!(events[0].payload, events[1].payload);
        assert_eq!(events[0].payload.as_deref(), Some(r#"{"On":true}"#));
        assert_eq!(
            (events[0].v, events[1].v),
            (1, 2),
            "the version read is kept"
        );
    }

    #[test]
    fn a_bad_line_names_its_line_number() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("bad.ndjson");
        let good = serde_json::to_string(&sample()[0]).expect("json");
        std::fs::write(&path, format!("{good}\n\n   \n{{\"kind\":\"publish\"}}\n")).expect("write");
        let err = read_file(&path).expect_err("line 4 lacks ts");
        match &err {
            FileError::Parse { line, .. } => assert_eq!(*line, 4),
            other => panic!("wrong error {other:?}"),
        }
        assert!(err.to_string().contains("bad.ndjson line 4"), "{err}");
    }

    #[tokio::test]
    async fn replay_sends_every_event_then_ends_and_reports_a_bad_line() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("r.ndjson");
        let mut text = Vec::new();
        write_events(&mut text, &sample()).expect("write");
        // No newline after the last event: still an event.
        text.pop();
        std::fs::write(&path, &text).expect("write");
        let (tx, mut rx) = mpsc::channel(16);
        let opts = FileOptions {
            path: path.clone(),
            rate: None,
            follow: false,
        };
        run(opts.clone(), open(&path).await.expect("open"), tx).await;
        let got = collect(&mut rx);
        assert_eq!(got.len(), 3);
        assert!(matches!(&got[1], Update::Event(e) if e.kind == Kind::Drop));
        assert!(
            matches!(&got[2], Update::Status(Status::Ended { error: false, reason }) if reason.contains("2 events"))
        );

        std::fs::write(
            &path,
            b"{\"v\":1,\"ts\":\"x\",\"kind\":\"drop\"}\nnot json\n",
        )
        .expect("write");
        let (tx, mut rx) = mpsc::channel(16);
        run(opts, open(&path).await.expect("open"), tx).await;
        let got = collect(&mut rx);
        assert_eq!(got.len(), 2, "{got:?}");
        match &got[1] {
            Update::Status(Status::Ended {
                error: true,
                reason,
            }) => assert!(reason.contains("line 2"), "{reason}"),
            other => panic!("expected an error end, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn follow_reads_lines_appended_later_and_stops_when_the_reader_goes() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("f.ndjson");
        let line = serde_json::to_string(&sample()[0]).expect("json");
        // The second line is still being written: no newline yet.
        std::fs::write(&path, format!("{line}\n{}", &line[..10])).expect("write");
        let (tx, mut rx) = mpsc::channel(16);
        let opts = FileOptions {
            path: path.clone(),
            rate: None,
            follow: true,
        };
        let task = tokio::spawn(run(opts, open(&path).await.expect("open"), tx));
        let step = Duration::from_secs(10);
        let first = tokio::time::timeout(step, rx.recv())
            .await
            .expect("first event");
        assert!(matches!(first, Some(Update::Event(_))));
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .expect("append");
        f.write_all(format!("{}\n", &line[10..]).as_bytes())
            .expect("finish the line");
        let second = tokio::time::timeout(step, rx.recv())
            .await
            .expect("second event");
        match second {
            Some(Update::Event(e)) => assert_eq!(*e, sample()[0], "the split line joins up"),
            other => panic!("expected the appended event, got {other:?}"),
        }
        drop(rx);
        tokio::time::timeout(step, task)
            .await
            .expect("the task ends without a reader")
            .expect("no panic");
    }

    #[tokio::test]
    async fn a_replay_rate_paces_the_events() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("p.ndjson");
        let events: Vec<Event> = (0..50).map(|_| sample()[0].clone()).collect();
        export(&path, &events).expect("export");
        let (tx, mut rx) = mpsc::channel(100);
        let opts = FileOptions {
            path: path.clone(),
            rate: Some(100.0),
            follow: false,
        };
        let file = open(&path).await.expect("open");
        let task = tokio::spawn(run(opts, file, tx));
        let start = Instant::now();
        let mut n = 0;
        while let Some(u) = rx.recv().await {
            if matches!(u, Update::Event(_)) {
                n += 1;
            }
        }
        task.await.expect("task");
        assert_eq!(n, 50);
        // 50 events at 100/s cannot arrive in less than about half a second
        // (no upper bound: a loaded machine may be slower).
        let took = start.elapsed();
        assert!(took >= Duration::from_millis(480), "{took:?}");
    }

    #[test]
    fn spill_file_reads_back_any_window_and_appends_to_what_was_there() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("spill.ndjson");
        std::fs::write(&path, "not ours, no newline").expect("write");
        let mut f = SpillFile::open(&path).expect("opens");
        let ev = |i: u64| {
            Event::new(
                crate::trace::schema::Kind::Publish,
                format!("2026-11-22T03:44:{:02}Z", i % 60),
            )
            .with_payload(i.to_string().as_bytes(), 64)
        };
        for i in 0..1000 {
            f.append(&ev(i)).expect("appends");
        }
        assert_eq!(f.len(), 1000);
        for (from, to) in [(0, 1), (255, 258), (511, 512), (990, 1005), (0, 1000)] {
            let got: Vec<String> = f
                .read(from, to)
                .expect("reads")
                .into_iter()
                .filter_map(|e| e.payload)
                .collect();
            let want: Vec<String> = (from..to.min(1000)).map(|i| i.to_string()).collect();
            assert_eq!(got, want, "{from}..{to}");
        }
        f.flush().expect("flush");
        let text = std::fs::read_to_string(&path).expect("read");
        let mut lines = text.lines();
        assert_eq!(lines.next(), Some("not ours, no newline"));
        // The rest is the export's format, one event per line.
        let back: Vec<Event> = lines
            .map(|l| parse_line(l).expect("event").expect("not blank"))
            .collect();
        assert_eq!(back.len(), 1000);
        assert_eq!(back[999], ev(999));
    }
}

//! Trace events in files: NDJSON (one [`Event`] as JSON per line), read as a
//! source and written by the TUI's export.
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
}

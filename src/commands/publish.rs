//! `smqctl pub`: publish a payload to a topic, to `self`, or to an ETID.
//!
//! Every payload is read and checked (JSON syntax, hex, size) before connecting,
//! so a typo never reaches the broker half-sent. `--stdin-lines` is the exception
//! by nature: it streams, and a bad line stops the run naming the line number
//! after everything before it has been flushed.
//!
//! Its flags ([`PubArgs`]) and long-help [`EXAMPLES`] live here too.
//!
//! May import: `args`, `exit`, `client`, `protocol` (the payload limit), `output`,
//! `text`. Never `cli`.

use std::io::{self, BufRead, Read};
use std::time::Duration;

use anyhow::Result;
use bytes::Bytes;
use clap::Args;

use crate::args::{ConnectArgs, GlobalArgs, PubMessage, client_options};
use crate::client::{Client, Dest};
use crate::exit::{self, input_error, json_error};
use crate::protocol::MAX_PAYLOAD;

/// Examples and notes under `--help`.
pub const EXAMPLES: &str = "\
Examples:
  smqctl pub DeviceState '{\"On\":true}' --json
  smqctl pub Commands --subtopic SetCharger '{\"On\":false}'
  smqctl pub --to-etid 2613173302 'hello there'      # direct message
  smqctl pub Frames --hex '01 02 ff'                   # binary from hex
  smqctl pub Logs --stdin-lines < app.log              # one message per line
  smqctl pub Ticks tick --count 10 --interval 1s

The payload comes from MESSAGE, -f FILE, --stdin or --stdin-lines and is sent as
text unless --json (validated), --binary or --hex says otherwise. Payloads over
65520 bytes are refused before connecting.";

#[derive(Debug, Args)]
pub struct PubArgs {
    #[command(flatten)]
    pub msg: PubMessage,
    /// Read the whole of stdin as one payload
    #[arg(long, conflicts_with_all = ["stdin_lines", "file"])]
    pub stdin: bool,
    /// Send one message per line of stdin
    #[arg(long, conflicts_with = "file")]
    pub stdin_lines: bool,
    #[command(flatten)]
    pub conn: ConnectArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// Bytes as given (text or not).
    Plain,
    Text,
    Json,
    Binary,
    Hex,
}

fn kind(args: &PubMessage) -> Kind {
    if args.json {
        Kind::Json
    } else if args.text {
        Kind::Text
    } else if args.binary {
        Kind::Binary
    } else if args.hex {
        Kind::Hex
    } else {
        Kind::Plain
    }
}

/// Turns user input into the payload bytes, checking it as the kind demands.
/// `origin` names where the input came from, for error messages.
fn prepare(input: Vec<u8>, kind: Kind, origin: &str) -> Result<Bytes> {
    let bytes = match kind {
        Kind::Plain | Kind::Binary => input,
        Kind::Text => String::from_utf8(input)
            .map_err(|e| input_error(format!("{origin} is not UTF-8 text: {e}")))?
            .into_bytes(),
        Kind::Json => {
            if let Err(e) = serde_json::from_slice::<serde_json::Value>(&input) {
                return Err(json_error(origin, &e));
            }
            input
        }
        Kind::Hex => {
            let text = String::from_utf8_lossy(&input);
            // "01 02 ff", "0102ff", "0x01,0x02", "01:02:ff" all work; each
            // group is whole bytes, so "0 1" is refused rather than read as 01.
            let mut digits = String::new();
            for w in text.replace([':', ','], " ").split_whitespace() {
                let w = w.trim_start_matches("0x").trim_start_matches("0X");
                if w.len() % 2 == 1 {
                    return Err(input_error(format!(
                        "{origin} is not hex: '{w}' has an odd number of digits (write each byte as two digits, e.g. 0f 01)"
                    )));
                }
                digits.push_str(w);
            }
            hex::decode(&digits).map_err(|e| input_error(format!("{origin} is not hex: {e}")))?
        }
    };
    if bytes.len() > MAX_PAYLOAD {
        return Err(input_error(format!(
            "{origin} is {} bytes; SMQ payloads are at most {MAX_PAYLOAD} bytes (0xFFF0)",
            bytes.len()
        )));
    }
    Ok(Bytes::from(bytes))
}

/// Most input bytes a payload can need: hex text takes up to 3 characters a
/// byte ("ff "), other kinds one.
fn input_cap(kind: Kind) -> u64 {
    match kind {
        Kind::Hex => 4 * MAX_PAYLOAD as u64 + 64,
        _ => MAX_PAYLOAD as u64,
    }
}

/// Reads at most what a payload can be, so an endless or huge input is refused
/// after 64 KiB instead of filling memory.
fn read_capped(input: impl Read, kind: Kind, origin: &str) -> Result<Vec<u8>> {
    let cap = input_cap(kind);
    let mut buf = Vec::new();
    input
        .take(cap + 1)
        .read_to_end(&mut buf)
        .map_err(|e| input_error(format!("cannot read {origin}: {e}")))?;
    if buf.len() as u64 > cap {
        return Err(input_error(format!(
            "{origin} is larger than {cap} bytes; SMQ payloads are at most {MAX_PAYLOAD} bytes (0xFFF0)"
        )));
    }
    Ok(buf)
}

/// Destination and single message resolved from the positional arguments.
fn destination(args: &PubMessage) -> Result<(Option<String>, Option<String>)> {
    match (args.to_etid, &args.topic, &args.message) {
        (Some(_), Some(_), Some(_)) => Err(input_error(
            "with --to-etid give only MESSAGE, not a TOPIC as well",
        )),
        (Some(_), msg, None) => Ok((None, msg.clone())),
        (None, None, _) => Err(input_error("give a TOPIC (or `self`), or --to-etid ETID")),
        (None, Some(t), m) => Ok((Some(t.clone()), m.clone())),
        (Some(_), None, Some(_)) => unreachable_message(),
    }
}

fn unreachable_message() -> Result<(Option<String>, Option<String>)> {
    // clap fills TOPIC before MESSAGE, so MESSAGE alone cannot occur.
    Err(input_error("give MESSAGE after TOPIC"))
}

fn progress(total: Option<u64>) -> indicatif::ProgressBar {
    match total {
        // One message needs no bar.
        Some(n) if n <= 1 => indicatif::ProgressBar::hidden(),
        _ => crate::output::progress(total, "messages"),
    }
}

/// A publish checked and ready to send: where to, and the payload (None when
/// it streams from stdin, one message per line).
pub struct Prepared {
    topic: Option<String>,
    kind: Kind,
    single: Option<Bytes>,
}

/// Reads and checks the payload (MESSAGE, -f FILE, or with `stdin`/`stdin_lines`
/// standard input) and the names, before anything touches the network.
pub fn prepare_message(msg: &PubMessage, stdin: bool, stdin_lines: bool) -> Result<Prepared> {
    let kind = kind(msg);
    if msg.interval.is_some() && msg.count < 2 && !stdin_lines {
        return Err(input_error(
            "--interval is the wait between messages: give --count N (2 or more) or --stdin-lines",
        ));
    }
    let (topic, message) = destination(msg)?;
    let single = if stdin_lines {
        if message.is_some() {
            return Err(input_error(
                "give either MESSAGE or --stdin-lines, not both",
            ));
        }
        None
    } else {
        let (input, origin) = match (&message, &msg.file, stdin) {
            (Some(m), None, false) => (m.clone().into_bytes(), "MESSAGE".to_string()),
            (None, Some(path), false) => {
                let origin = path.display().to_string();
                let file = std::fs::File::open(path)
                    .map_err(|e| input_error(format!("cannot read {origin}: {e}")))?;
                (read_capped(file, kind, &origin)?, origin)
            }
            (None, None, true) => (
                read_capped(io::stdin().lock(), kind, "stdin")?,
                "stdin".to_string(),
            ),
            (None, None, false) => {
                return Err(input_error(if stdin {
                    "no payload: give MESSAGE, -f FILE, --stdin or --stdin-lines"
                } else {
                    "no payload: give MESSAGE or -f FILE"
                }));
            }
            _ => return Err(input_error("give only one of MESSAGE, -f FILE and --stdin")),
        };
        Some(prepare(input, kind, &origin)?)
    };
    for name in topic.iter().chain(&msg.subtopic) {
        if name.len() > MAX_PAYLOAD {
            return Err(input_error(format!(
                "a name of {} bytes is longer than {MAX_PAYLOAD} bytes",
                name.len()
            )));
        }
    }
    Ok(Prepared {
        topic,
        kind,
        single,
    })
}

/// What [`send_prepared`] did, for the caller to report.
pub struct Sent {
    pub count: u64,
    pub tid: u32,
    pub subtid: u32,
    /// "DeviceState (tid 5)" or "ETID 12".
    pub to: String,
}

/// Publishes a prepared message (`--count` times, `--interval` apart) on a
/// connected client; the one-shot `pub` and the shell's `pub` both come here.
/// Queued, not flushed: the caller flushes.
pub async fn send_prepared(client: &Client, msg: &PubMessage, prepared: Prepared) -> Result<Sent> {
    let dest = match (&prepared.topic, msg.to_etid) {
        (_, Some(etid)) => Dest::Id(etid),
        (Some(t), None) => Dest::Topic(t.as_str()),
        (None, None) => return Err(input_error("no destination")),
    };
    // Resolve once: a denied Create fails here, before anything is sent.
    let tid = client.resolve(dest).await?;
    let subtid = match &msg.subtopic {
        Some(s) => client.createsub(s).await?,
        None => 0,
    };
    let interval = msg.interval.unwrap_or(Duration::ZERO);
    let count = match prepared.single {
        Some(payload) => send_repeated(client, tid, subtid, payload, msg.count, interval).await?,
        None => send_lines(client, tid, subtid, prepared.kind, interval).await?,
    };
    let to = match (&prepared.topic, msg.to_etid) {
        (_, Some(etid)) => format!("ETID {etid}"),
        (Some(t), None) => format!("{t} (tid {tid})"),
        (None, None) => tid.to_string(),
    };
    Ok(Sent {
        count,
        tid,
        subtid,
        to,
    })
}

pub async fn run(args: PubArgs, global: &GlobalArgs) -> Result<u8> {
    let stop = crate::shutdown::requested();
    tokio::pin!(stop);
    // Read and check the payload before touching the network. The read blocks
    // (a pipe or FIFO that stays open, a FIFO with no writer yet), so it runs
    // on a blocking thread, raced against Ctrl-C/SIGTERM; the thread left
    // behind is not waited for at exit.
    let (msg, stdin, lines) = (args.msg.clone(), args.stdin, args.stdin_lines);
    let read = tokio::task::spawn_blocking(move || prepare_message(&msg, stdin, lines));
    let prepared = tokio::select! {
        r = read => r.map_err(|e| anyhow::anyhow!("the payload reader failed: {e}"))??,
        s = &mut stop => {
            eprintln!("smqctl: interrupted ({}) while reading the payload; nothing was sent", s.name());
            return Ok(exit::INTERRUPTED);
        }
    };
    let opts = client_options(&args.conn, global).await?;
    let (client, _events) = tokio::select! {
        c = Client::connect(&opts) => c?,
        _ = &mut stop => return Ok(exit::INTERRUPTED),
    };
    let result = tokio::select! {
        biased;
        r = send_prepared(&client, &args.msg, prepared) => Some(r),
        // Ctrl-C or SIGTERM during --count/--interval or --stdin-lines.
        _ = &mut stop => None,
    };
    // Whatever happened, what was queued leaves before we go.
    let flushed = client.flush().await;
    client.disconnect("").await;
    let Some(result) = result else {
        eprintln!("smqctl: interrupted; the messages queued so far were sent");
        return Ok(exit::INTERRUPTED);
    };
    let sent = result?;
    flushed?;
    if global.verbose > 0 {
        let sub = args
            .msg
            .subtopic
            .as_ref()
            .map(|s| format!(" with sub-topic {s} ({})", sent.subtid))
            .unwrap_or_default();
        eprintln!(
            "smqctl: published {} message(s) to {}{sub} as ETID {}",
            sent.count,
            sent.to,
            client.etid()
        );
    }
    Ok(exit::OK)
}

async fn send_repeated(
    client: &Client,
    tid: u32,
    subtid: u32,
    payload: Bytes,
    count: u64,
    interval: Duration,
) -> Result<u64> {
    let bar = progress(Some(count));
    for i in 0..count {
        if i > 0 && !interval.is_zero() {
            client.flush().await?;
            tokio::time::sleep(interval).await;
        }
        client.publish_ids(tid, subtid, payload.clone()).await?;
        bar.inc(1);
    }
    bar.finish_and_clear();
    Ok(count)
}

async fn send_lines(
    client: &Client,
    tid: u32,
    subtid: u32,
    kind: Kind,
    interval: Duration,
) -> Result<u64> {
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Result<Vec<u8>, String>>(256);
    // Blocking stdin reads stay off the async workers. Lines are bytes (so
    // --binary lines need not be UTF-8) and capped at what a payload can be.
    let cap = input_cap(kind);
    tokio::task::spawn_blocking(move || {
        let mut stdin = io::stdin().lock();
        let mut n = 0u64;
        loop {
            n += 1;
            let mut line = Vec::new();
            let read = (&mut stdin).take(cap + 2).read_until(b'\n', &mut line);
            let item = match read {
                Ok(0) => break,
                Ok(_) if !line.ends_with(b"\n") && line.len() as u64 > cap => Err(format!(
                    "line {n} of stdin is longer than {cap} bytes; SMQ payloads are at most {MAX_PAYLOAD} bytes"
                )),
                Ok(_) => {
                    if line.ends_with(b"\n") {
                        line.pop();
                        if line.ends_with(b"\r") {
                            line.pop();
                        }
                    }
                    Ok(line)
                }
                Err(e) => Err(format!("cannot read stdin: {e}")),
            };
            let stop = item.is_err();
            if tx.blocking_send(item).is_err() || stop {
                break;
            }
        }
    });
    let bar = progress(None);
    let mut n = 0u64;
    while let Some(line) = rx.recv().await {
        let line = line.map_err(input_error)?;
        n += 1;
        if n > 1 && !interval.is_zero() {
            client.flush().await?;
            tokio::time::sleep(interval).await;
        }
        let payload = prepare(line, kind, &format!("line {n} of stdin"))?;
        client.publish_ids(tid, subtid, payload).await?;
        bar.inc(1);
    }
    bar.finish_and_clear();
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_json_reports_line_and_column() {
        let input = b"{\n  \"a\": 1,\n  \"b\": ?\n}".to_vec();
        let err = prepare(input, Kind::Json, "MESSAGE")
            .expect_err("invalid")
            .to_string();
        assert_eq!(
            err,
            "invalid JSON in MESSAGE at line 3, column 8: expected value"
        );
    }

    #[test]
    fn hex_accepts_spaces_and_prefixes() {
        let b = prepare(b"01 02 0xff".to_vec(), Kind::Hex, "MESSAGE").expect("valid hex");
        assert_eq!(&b[..], &[1, 2, 0xff]);
        let b = prepare(b"0x01,0x02,0xff".to_vec(), Kind::Hex, "MESSAGE").expect("valid hex");
        assert_eq!(&b[..], &[1, 2, 0xff]);
        let b = prepare(b"de:ad:BE:EF".to_vec(), Kind::Hex, "MESSAGE").expect("valid hex");
        assert_eq!(&b[..], &[0xde, 0xad, 0xbe, 0xef]);
        assert!(prepare(b"zz".to_vec(), Kind::Hex, "MESSAGE").is_err());
    }

    #[test]
    fn oversize_payload_is_refused() {
        assert!(prepare(vec![b'a'; MAX_PAYLOAD], Kind::Plain, "x").is_ok());
        let err = prepare(vec![b'a'; MAX_PAYLOAD + 1], Kind::Plain, "x")
            .expect_err("too big")
            .to_string();
        assert!(err.contains("at most 65520 bytes"), "{err}");
    }

    #[test]
    fn huge_input_is_refused_after_the_cap_without_reading_it_all() {
        // An endless source: only cap + 1 bytes are ever read.
        let endless = std::io::repeat(b'x');
        let err = read_capped(endless, Kind::Plain, "stdin")
            .expect_err("too big")
            .to_string();
        assert_eq!(
            err,
            "stdin is larger than 65520 bytes; SMQ payloads are at most 65520 bytes (0xFFF0)"
        );
        let ok = read_capped(&b"small"[..], Kind::Plain, "stdin").expect("fits");
        assert_eq!(ok, b"small");
    }

    #[test]
    fn text_must_be_utf8() {
        assert!(prepare(vec![0xff, 0xfe], Kind::Text, "x").is_err());
        assert!(prepare(vec![0xff, 0xfe], Kind::Binary, "x").is_ok());
    }
}

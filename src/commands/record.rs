//! `smqctl record`: write what a broker routes into a `.smqrec` recording
//! (see [`crate::record`]) for `smqctl replay`. The flags become a
//! [`RecordConfig`] and a [`Recorder`]; this file prints the progress (stderr,
//! on a terminal) and the counts at the end (stdout, also after Ctrl-C).
//!
//! May import: `args`, `exit`, `output`, `record`, `trace`, `client`,
//! `commands` (trace's status lines).

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result};
use clap::Args;
use tokio::sync::mpsc;

use crate::args::{
    ConnectArgs, FilterArgs, GlobalArgs, ServerEtid, SummaryFormat, at_least_one, client_options,
};
use crate::client::ReconnectPolicy;
use crate::exit;
use crate::output::escape_controls;
use crate::record::capture::{self, Counts, Feed, Progress, RecordConfig, Recorder, Stopped};
use crate::record::file::Writer;
use crate::record::{Header, Source};
use crate::text::parse_positive_duration;
use crate::trace::schema::MAX_FULL_PREVIEW;
use crate::trace::source::Status;

pub const EXAMPLES: &str = "\
Examples:
  smqctl record -o incident.smqrec                   # everything the broker routes, until Ctrl-C
  smqctl record -o day.smqrec --max-size 100M -d 8h  # day.smqrec, day.2.smqrec, ...
  smqctl record -o chargers.smqrec --topic 'Charger*' --exclude ChargerHeartbeat -C 10000
  smqctl record -o drops.smqrec --kind drop          # only what nobody received
  smqctl record -o state.smqrec --from-sub DeviceState,self   # no tracer: what a subscriber gets
  smqctl replay incident.smqrec --url ws://test-broker/smq.lsp --speed 10

The broker must be a trace source (`smqctl broker`, or a Mako app with the hook
from `smqctl hook lua`); without one, --from-sub records what a subscriber of
those topics receives (senders are then only ETIDs). Payloads are recorded whole
up to --max-payload; a longer one, or one too big for one trace event (binary
payloads above about 48 KiB), is cut and marked truncated, and counted.

Exit codes: 0 done (--count or --duration reached, or Ctrl-C without either),
2 bad arguments or the file cannot be created, 3 cannot connect, 4 no tracer
answered (use --from-sub), 6 connection lost (with --no-reconnect), 130
interrupted before --count/--duration. The file keeps every line written.";

/// Record what a broker routes into a .smqrec file (full payloads), for `smqctl replay`
#[derive(Debug, Args)]
#[command(after_long_help = EXAMPLES)]
pub struct RecordArgs {
    /// The recording to write (NDJSON); with --max-size its later parts are NAME.2.EXT, NAME.3.EXT...
    #[arg(short, long, value_name = "FILE")]
    pub output: PathBuf,
    /// No tracer: record what a subscriber of these topics receives (comma-separated
    /// or repeated; `self` for direct messages, always included)
    #[arg(long, value_name = "TOPIC", value_delimiter = ',')]
    pub from_sub: Vec<String>,
    /// Only messages whose topic matches this pattern (`*` wildcard; repeatable)
    #[arg(long, value_name = "PATTERN")]
    pub topic: Vec<String>,
    #[command(flatten)]
    pub filters: FilterArgs,
    /// Payload bytes kept per message (at most 65520); longer payloads are cut and marked truncated
    #[arg(long, value_name = "BYTES", default_value_t = MAX_FULL_PREVIEW, value_parser = parse_max_payload)]
    pub max_payload: usize,
    /// Start a new file when this one would grow past this size (e.g. 512K, 100M, 2G)
    #[arg(long, value_name = "BYTES", value_parser = parse_size)]
    pub max_size: Option<u64>,
    /// Stop after this many messages
    #[arg(short = 'C', long, value_name = "N", value_parser = at_least_one::<u64>)]
    pub count: Option<u64>,
    /// Stop after this long
    #[arg(short = 'd', long, value_name = "DURATION", value_parser = parse_positive_duration)]
    pub duration: Option<Duration>,
    #[command(flatten)]
    pub server: ServerEtid,
    /// How long to wait for the broker's tracer to answer
    #[arg(long, value_name = "DURATION", default_value = "2s", value_parser = parse_positive_duration)]
    pub attach_timeout: Duration,
    /// Exit when the connection drops instead of reconnecting
    #[arg(long)]
    pub no_reconnect: bool,
    /// Summary format (default: pretty on a terminal, json otherwise)
    #[arg(long, short = 'F', value_enum)]
    pub format: Option<SummaryFormat>,
    #[command(flatten)]
    pub conn: ConnectArgs,
}

/// `--max-payload`: 0 to one SMQ message's payload.
pub fn parse_max_payload(s: &str) -> Result<usize, String> {
    match s.trim().parse::<usize>() {
        Ok(n) if n <= MAX_FULL_PREVIEW => Ok(n),
        Ok(n) => Err(format!(
            "{n} is above {MAX_FULL_PREVIEW} bytes, the largest SMQ message payload"
        )),
        Err(_) => Err(format!("'{s}' is not a whole number of bytes")),
    }
}

/// `--max-size`: bytes, with an optional K, M or G (powers of 1024).
pub fn parse_size(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let (digits, unit) = match t.char_indices().find(|(_, c)| !c.is_ascii_digit()) {
        Some((i, _)) => (&t[..i], t[i..].trim().to_ascii_uppercase()),
        None => (t, String::new()),
    };
    let mult: u64 = match unit.trim_end_matches(['B', 'I']) {
        "" => 1,
        "K" => 1 << 10,
        "M" => 1 << 20,
        "G" => 1 << 30,
        _ => {
            return Err(format!(
                "'{s}' is not a size (bytes, or with K, M or G: 100M)"
            ));
        }
    };
    match digits.parse::<u64>().ok().and_then(|n| n.checked_mul(mult)) {
        Some(n) if n >= 1024 => Ok(n),
        Some(_) => Err(format!(
            "'{s}' is too small for a recording part (at least 1K)"
        )),
        None => Err(format!(
            "'{s}' is not a size (bytes, or with K, M or G: 100M)"
        )),
    }
}

pub async fn run(args: RecordArgs, global: &GlobalArgs) -> Result<u8> {
    let format = SummaryFormat::for_stdout(args.format);
    let opts = client_options(&args.conn, global).await?;
    let from_sub = !args.from_sub.is_empty();
    let mut header = Header::new(
        if from_sub { Source::Sub } else { Source::Trace },
        args.max_payload,
    );
    header.url = Some(opts.endpoint.to_string());
    header.topics = if from_sub {
        args.from_sub.clone()
    } else {
        args.topic.clone()
    };
    header.exclude = args.filters.exclude.clone();
    let filter = args.filters.filter(&args.topic);
    header.kinds = filter
        .kinds
        .iter()
        .map(|k| k.as_str().to_string())
        .collect();
    let writer = Writer::create(&args.output, header, args.max_size)
        .map_err(|e| exit::input_error(format!("cannot create {}: {e}", args.output.display())))?;
    let mut recorder = Recorder::new(writer, filter);
    let cfg = RecordConfig {
        feed: if from_sub {
            Feed::Sub {
                topics: args.from_sub.clone(),
            }
        } else {
            Feed::Trace {
                server_etid: args.server.etid,
                attach_timeout: args.attach_timeout,
            }
        },
        max_payload: args.max_payload,
        count: args.count,
        duration: args.duration,
        reconnect: ReconnectPolicy {
            enabled: !args.no_reconnect,
            ..ReconnectPolicy::default()
        },
    };
    let (ptx, prx) = mpsc::unbounded_channel();
    let shown = tokio::spawn(show_progress(prx, args.from_sub.clone()));
    let stopped = capture::run(opts, cfg, &mut recorder, ptx)
        .await
        .context("writing the recording")?;
    let _ = shown.await;
    let files: Vec<String> = recorder
        .writer()
        .paths()
        .iter()
        .map(|p| p.display().to_string())
        .collect();
    print_summary(format, &recorder.counts, &files, &stopped, args.max_payload);
    if let Some(reason) = &recorder.snapshot_cut {
        eprintln!(
            "warning: {}: clients and subscriptions from before the recording may be missing (replay brings back only those it knows)",
            escape_controls(reason)
        );
    }
    match stopped {
        Stopped::Count | Stopped::Duration => Ok(exit::OK),
        Stopped::Signal if args.count.is_some() || args.duration.is_some() => Ok(exit::INTERRUPTED),
        Stopped::Signal | Stopped::Ended(None) => Ok(exit::OK),
        Stopped::NoTracer(reason) => {
            eprintln!(
                "error: no tracer attached this recorder: {}\nhint: record what a subscriber receives with --from-sub TOPIC,self, or install the Mako hook (`smqctl hook lua --help`)",
                escape_controls(&reason)
            );
            Ok(exit::REFUSED)
        }
        Stopped::Ended(Some(e)) => Err(anyhow::Error::from(e)).context("recording stopped"),
    }
}

/// Status changes on stderr; a spinner with the message count on a terminal.
async fn show_progress(mut rx: mpsc::UnboundedReceiver<Progress>, from_sub: Vec<String>) {
    let bar = crate::output::progress(None, "messages");
    while let Some(p) = rx.recv().await {
        match p {
            Progress::Message => bar.inc(1),
            Progress::Status(Status::Attached { etid }) if !from_sub.is_empty() => {
                bar.suspend(|| {
                    eprintln!(
                        "smqctl: subscribed to {} and self (as ETID {etid})",
                        escape_controls(&from_sub.join(", "))
                    );
                });
            }
            Progress::Status(s) => bar.suspend(|| {
                eprintln!(
                    "smqctl: {}",
                    escape_controls(&crate::commands::trace::status_line(&s))
                );
            }),
        }
    }
    bar.finish_and_clear();
}

fn stopped_name(s: &Stopped) -> &'static str {
    match s {
        Stopped::Count => "count",
        Stopped::Duration => "duration",
        Stopped::Signal => "signal",
        Stopped::NoTracer(_) => "no-tracer",
        Stopped::Ended(_) => "ended",
    }
}

fn print_summary(
    format: SummaryFormat,
    c: &Counts,
    files: &[String],
    stopped: &Stopped,
    max_payload: usize,
) {
    if format == SummaryFormat::Json {
        let mut v = serde_json::to_value(c).unwrap_or_default();
        if let Some(o) = v.as_object_mut() {
            o.insert("type".into(), "summary".into());
            o.insert("files".into(), files.into());
            o.insert("stopped".into(), stopped_name(stopped).into());
        }
        println!("{v}");
    } else {
        println!(
            "recorded {} message(s) ({} routed, {} dropped, {} denied; {} payload bytes), {} client(s), {} subscription(s) in {}",
            c.messages,
            c.routed,
            c.dropped,
            c.denied,
            c.bytes,
            c.clients,
            c.subscriptions,
            files.join(", ")
        );
    }
    if c.truncated > 0 {
        eprintln!(
            "warning: {} payload(s) truncated (longer than --max-payload {max_payload}, or too big for one trace event); replay skips them unless --send-truncated",
            c.truncated
        );
    }
    if c.missed > 0 {
        eprintln!(
            "warning: the tracer skipped {} event(s) (it did not keep up): the recording misses them",
            c.missed
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn max_size_takes_k_m_g_and_refuses_nonsense() {
        assert_eq!(parse_size("2048"), Ok(2048));
        assert_eq!(parse_size("512K"), Ok(512 * 1024));
        assert_eq!(parse_size("100M"), Ok(100 << 20));
        assert_eq!(parse_size("2g"), Ok(2 << 30));
        assert_eq!(parse_size("1MiB"), Ok(1 << 20));
        assert!(parse_size("10").expect_err("tiny").contains("at least 1K"));
        assert!(parse_size("lots").is_err());
        assert!(parse_size("5T").is_err());
    }

    #[test]
    fn max_payload_stops_at_one_smq_message() {
        assert_eq!(parse_max_payload("65520"), Ok(65520));
        assert!(
            parse_max_payload("65521")
                .expect_err("too big")
                .contains("largest SMQ message payload")
        );
    }
}

//! `smqctl sub`: subscribe to topics (and `self`) and print what arrives.
//!
//! The connection is a client [`Session`], polled beside `-W` and the shutdown
//! signal, so a dropped connection is followed by a reconnect that subscribes
//! again (unless --no-reconnect). Messages no route claims arrive on the
//! session's events, which is all this command needs.
//!
//! Its flags ([`SubArgs`]) and long-help [`EXAMPLES`] live here too.
//!
//! May import: `args`, `exit`, `client`, `output`, `text`. Never `cli`.

use std::io::{self, BufWriter, Write};
use std::time::Duration;

use anyhow::{Context, Result};
use clap::Args;

use crate::args::{ConnectArgs, GlobalArgs, SubTopics, at_least_one, client_options};
use crate::client::{Client, ClientError, Event, ReconnectPolicy, Session, Step};
use crate::exit;
use crate::output::DataType;
use crate::output::{Format, Printer, escape_controls, use_color};
use crate::text::parse_duration;

/// Examples and notes under `--help`.
pub const EXAMPLES: &str = "\
Examples:
  smqctl sub DeviceState                       # one topic
  smqctl sub DeviceState ChargerState self     # several, plus direct messages
  smqctl sub self --subtopic SearchSitesResp   # only one message type
  smqctl sub Alerts -C 1 -W 30s                # first message or fail after 30 s
  smqctl sub DeviceState --observe             # also print subscriber counts
  smqctl sub DeviceState --format json | jq .payload

Output (--format): pretty (default on a terminal), json (one object per line:
ts, topic, tid, subtopic, subtid, ptid, size, encoding, payload; the default when
piped), raw (payload bytes), hex (hex dump).
Exit codes: 0 done, 5 timed out (-W) before -C messages arrived, see `smqctl --help`.";

#[derive(Debug, Args)]
pub struct SubArgs {
    #[command(flatten)]
    pub sub: SubTopics,
    /// How to read payloads: auto (JSON if it parses, text if UTF-8, else binary)
    #[arg(long, value_enum, default_value_t = DataType::Auto)]
    pub datatype: DataType,
    /// Output format (default: pretty on a terminal, json otherwise)
    #[arg(long, short = 'F', value_enum)]
    pub format: Option<Format>,
    /// Exit after this many messages
    #[arg(short = 'C', long, value_name = "N", value_parser = at_least_one::<u64>)]
    pub count: Option<u64>,
    /// Exit with code 5 if -C messages (or, without -C, any message) did not arrive in time
    #[arg(short = 'W', long, value_name = "DURATION", value_parser = parse_duration)]
    pub timeout: Option<Duration>,
    /// With --format raw: no newline after each payload
    #[arg(short = 'N', long)]
    pub no_newline: bool,
    /// Exit when the connection drops instead of reconnecting
    #[arg(long)]
    pub no_reconnect: bool,
    #[command(flatten)]
    pub conn: ConnectArgs,
}

pub async fn run(args: SubArgs, global: &GlobalArgs) -> Result<u8> {
    let opts = client_options(&args.conn, global).await?;
    let format = args.format.unwrap_or_else(Format::default_for_stdout);
    let mut printer = Printer::new(
        BufWriter::new(io::stdout()),
        format,
        args.datatype,
        use_color(global.color),
    );
    printer.newline = !args.no_newline;
    let policy = ReconnectPolicy {
        enabled: !args.no_reconnect,
        ..ReconnectPolicy::default()
    };
    let wanted = args.count;
    let mut received: u64 = 0;
    let mut dropped_seen: u64 = 0;
    let topics = &args.sub.topics;
    let subtopics = &args.sub.subtopics;
    let url = opts.endpoint.to_string();
    let timeout = args.timeout.unwrap_or(Duration::MAX);
    let mut session = Session::new(opts, policy);
    // The connection whose setup ran last: the one whose drops are reported.
    let mut last: Option<Client> = None;
    let expiry = tokio::time::sleep(timeout);
    tokio::pin!(expiry);
    let interrupted = crate::shutdown::requested();
    tokio::pin!(interrupted);

    let signalled = loop {
        // A signal, then an expired -W, win over a busy connection.
        let step = tokio::select! {
            biased;
            _ = &mut interrupted => break true,
            () = &mut expiry => break false,
            step = session.poll() => step?,
        };
        let written = match step {
            Step::Connecting { .. } => continue,
            Step::Connected { client, reconnect } => {
                let sub = &args.sub;
                let resolve = &sub.resolve_subtopics;
                let done = tokio::select! {
                    biased;
                    _ = &mut interrupted => break true,
                    () = &mut expiry => break false,
                    done = setup(&client, topics, subtopics, resolve, sub.observe) => done,
                };
                if let Err(e) = done {
                    session.setup_failed(e).await?;
                    continue;
                }
                last = Some(client.clone());
                let etid = client.etid();
                printer.own_etid = etid;
                let verb = if reconnect {
                    "reconnected to"
                } else {
                    "connected to"
                };
                if global.verbose > 0 || reconnect || topics.iter().any(|t| t == "self") {
                    eprintln!(
                        "smqctl: {verb} {url} as ETID {etid}; subscribed to {}",
                        topics.join(", ")
                    );
                }
                Ok(())
            }
            Step::Event(Event::Message(m)) => {
                if !subtopics.is_empty()
                    && !m
                        .subtopic
                        .as_deref()
                        .is_some_and(|s| subtopics.iter().any(|w| w == s))
                {
                    continue;
                }
                received += 1;
                printer.message(&m)
            }
            Step::Event(Event::Change {
                tid,
                name,
                count,
                peer_gone,
            }) => printer.change(tid, name.as_deref(), count, peer_gone),
            Step::Event(_) => Ok(()),
            Step::Reconnecting {
                error,
                delay,
                attempt,
            } => {
                eprintln!(
                    "smqctl: connection lost ({}); reconnecting in {:.1}s (attempt {attempt})",
                    escape_controls(&error.to_string()),
                    delay.as_secs_f64()
                );
                Ok(())
            }
            Step::Closed => return Ok(exit::OK),
        };
        if let Err(e) = written.and_then(|_| printer.flush()) {
            session.close().await;
            // A closed pipe (`| head`) is a normal end; anything else is an error.
            if e.kind() == io::ErrorKind::BrokenPipe {
                return Ok(exit::OK);
            }
            return Err(e).context("cannot write the output");
        }
        if let Some(client) = &last {
            let dropped = client.dropped();
            if dropped > dropped_seen {
                eprintln!(
                    "smqctl: {} message(s) dropped: output could not keep up ({dropped} so far)",
                    dropped - dropped_seen
                );
                dropped_seen = dropped;
            }
        }
        if wanted.is_some_and(|n| received >= n) {
            session.close().await;
            return Ok(exit::OK);
        }
    };

    let _ = io::stdout().flush();
    let _ = tokio::time::timeout(Duration::from_secs(1), session.close()).await;
    if signalled {
        // Interrupted before -C messages arrived is not a success.
        return Ok(if wanted.is_some() {
            exit::INTERRUPTED
        } else {
            exit::OK
        });
    }
    // -W ran out.
    let enough = match wanted {
        Some(n) => received >= n,
        None => received > 0,
    };
    if enough {
        return Ok(exit::OK);
    }
    let expected = wanted
        .map(|n| n.to_string())
        .unwrap_or_else(|| "any".into());
    eprintln!(
        "smqctl: timed out after {}: received {received} of {expected} message(s) on {}",
        humantime::format_duration(timeout),
        args.sub.topics.join(", ")
    );
    Ok(exit::TIMEOUT)
}

/// One connection's setup: subscribe, learn the sub-topic IDs (so messages can
/// be filtered and named by them), observe; flushed, so it has reached the broker.
async fn setup(
    client: &Client,
    topics: &[String],
    subtopics: &[String],
    resolve: &[String],
    observe: bool,
) -> Result<(), ClientError> {
    let mut tids = Vec::new();
    for topic in topics {
        tids.push(client.subscribe_to_events(topic).await?);
    }
    for name in subtopics.iter().chain(resolve) {
        client.createsub(name).await?;
    }
    if observe {
        for (topic, tid) in topics.iter().zip(&tids) {
            if topic != "self" {
                client.observe(*tid).await?;
            }
        }
    }
    client.flush().await
}

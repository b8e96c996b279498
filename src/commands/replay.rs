//! `smqctl replay`: play a `.smqrec` recording against a test broker (see
//! [`crate::record::replay`]): reads and checks the files, turns the flags
//! into a [`ReplayConfig`], runs the plan with a progress bar on a terminal,
//! prints the summary and, with `--check`, which destinations differ.
//!
//! May import: `args`, `exit`, `output`, `record`, `text`.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Result;
use clap::Args;

use crate::args::{ConnectArgs, GlobalArgs, ServerEtid, SummaryFormat, client_options};
use crate::exit;
use crate::output::escape_controls;
use crate::record::file;
use crate::record::replay::{self, Bound, ReplayConfig, ReplayError, Speed, Summary};
use crate::text::{parse_duration, parse_positive_duration};

pub const EXAMPLES: &str = "\
Examples:
  smqctl replay incident.smqrec --url ws://127.0.0.1:9357/   # original spacing
  smqctl replay incident.smqrec --speed 10                  # ten times faster
  smqctl replay incident.smqrec --speed max --check         # as fast as possible, compare
  smqctl replay day.smqrec day.2.smqrec --from 2h --to 2h10m
  smqctl replay incident.smqrec --only charger-00042 --map-payload-etids

Each recorded UID becomes one replay client with that UID (and info), which
subscribes to the topics it subscribed to. Direct messages go to the new ETID
of the client with the destination's UID. Messages the broker sent itself are
skipped (the app under test sends its own) unless --include-server. JSON
payloads are sent compact. A tracer attached to the test broker counts what it
routed and dropped; --check compares that, per destination, with the recording.

Exit codes: 0 replayed (and with --check: the same counts and drops), 1 --check
found a difference, 2 bad recording (the file and line are named) or arguments,
3 cannot connect, 4 --check without a tracer on the test broker, 130 interrupted.";

/// Replay a recording against a test broker: same topics, sub-topics, UIDs and spacing
#[derive(Debug, Args)]
#[command(after_long_help = EXAMPLES)]
pub struct ReplayArgs {
    /// The recording (`smqctl record -o`); the parts of a rotated one, in order
    #[arg(value_name = "FILE", required = true)]
    pub files: Vec<PathBuf>,
    /// N times the original speed (10: ten times faster, 0.5: half), or `max` (no waiting)
    #[arg(long, value_name = "N", default_value = "1", value_parser = parse_speed)]
    pub speed: Speed,
    /// Replay what the broker itself sent too (from a client named smqctl-replay-server)
    #[arg(long)]
    pub include_server: bool,
    /// Only messages this UID sent (repeatable); only these clients connect
    #[arg(long, value_name = "UID")]
    pub only: Vec<String>,
    /// Start at this offset from the recording's first message (90s, 2h) or at an RFC 3339 time
    #[arg(long, value_name = "DURATION", value_parser = parse_bound)]
    pub from: Option<Bound>,
    /// End at this offset from the recording's first message, or at an RFC 3339 time
    #[arg(long, value_name = "DURATION", value_parser = parse_bound)]
    pub to: Option<Bound>,
    /// Map recorded ETIDs inside JSON payloads too (members named etid, *etid*, tid, ptid)
    #[arg(long)]
    pub map_payload_etids: bool,
    /// Send payloads the recording has cut, cut (default: skip them, counted)
    #[arg(long)]
    pub send_truncated: bool,
    /// Compare what the test broker routes and drops, per destination, with the
    /// recording; exit 1 when they differ
    #[arg(long)]
    pub check: bool,
    #[command(flatten)]
    pub server: ServerEtid,
    /// How long to wait for the test broker's tracer to answer
    #[arg(long, value_name = "DURATION", default_value = "2s", value_parser = parse_positive_duration)]
    pub attach_timeout: Duration,
    /// Summary format (default: pretty on a terminal, json otherwise)
    #[arg(long, short = 'F', value_enum)]
    pub format: Option<SummaryFormat>,
    #[command(flatten)]
    pub conn: ConnectArgs,
}

/// `--speed`: a factor above 0, or `max`.
pub fn parse_speed(s: &str) -> Result<Speed, String> {
    let t = s.trim();
    if t.eq_ignore_ascii_case("max") {
        return Ok(Speed::Max);
    }
    match t.trim_end_matches(['x', 'X']).parse::<f64>() {
        Ok(f) if f.is_finite() && f > 0.0 => Ok(Speed::Factor(f)),
        _ => Err(format!(
            "'{s}' is not a speed (a factor above 0 such as 10 or 0.5, or max)"
        )),
    }
}

/// `--from`/`--to`: a duration from the first message, or an RFC 3339 time.
pub fn parse_bound(s: &str) -> Result<Bound, String> {
    if let Ok(t) = s.trim().parse::<jiff::Timestamp>() {
        return Ok(Bound::At(t));
    }
    parse_duration(s).map(Bound::Offset).map_err(|_| {
        format!(
            "'{s}' is neither a duration (90s, 2h10m) nor an RFC 3339 time (2026-11-22T03:44:17Z)"
        )
    })
}

pub async fn run(args: ReplayArgs, global: &GlobalArgs) -> Result<u8> {
    let format = SummaryFormat::for_stdout(args.format);
    if args.conn.uid.is_some() {
        return Err(exit::input_error(
            "--uid does not apply to replay: each replay client takes its recorded UID",
        ));
    }
    let rec = file::read(&args.files).map_err(|e| exit::input_error(e.to_string()))?;
    for w in &rec.warnings {
        eprintln!("warning: {}", escape_controls(w));
    }
    let cfg = ReplayConfig {
        speed: args.speed,
        include_server: args.include_server,
        only: args.only.clone(),
        from: args.from,
        to: args.to,
        map_payload_etids: args.map_payload_etids,
        send_truncated: args.send_truncated,
        server_etid: args.server.etid,
        attach_timeout: args.attach_timeout,
        check: args.check,
    };
    let plan = replay::plan(&rec, &cfg);
    for uid in &args.only {
        if !plan.messages.iter().any(|m| &m.sender == uid) {
            eprintln!(
                "warning: --only {}: no message of the recording is from this UID",
                escape_controls(uid)
            );
        }
    }
    let opts = client_options(&args.conn, global).await?;
    let bar = crate::output::progress(Some(plan.messages.len() as u64), "messages");
    let summary = match replay::run(opts, plan, &cfg, &bar).await {
        Ok(s) => s,
        Err(ReplayError::NoTracer(reason)) => {
            eprintln!(
                "error: --check needs a tracer on the test broker, and none attached: {}\nhint: replay against `smqctl broker`, or a Mako app with the hook (`smqctl hook lua --help`)",
                escape_controls(&reason)
            );
            return Ok(exit::REFUSED);
        }
        Err(e) => return Err(e.into()),
    };
    print_summary(format, &summary);
    if summary.interrupted {
        return Ok(exit::INTERRUPTED);
    }
    if args.check && !summary.differences.is_empty() {
        return Ok(exit::ERROR);
    }
    Ok(exit::OK)
}

fn print_summary(format: SummaryFormat, s: &Summary) {
    if format == SummaryFormat::Json {
        let mut v = serde_json::to_value(s).unwrap_or_default();
        if let Some(o) = v.as_object_mut() {
            o.insert("type".into(), "summary".into());
        }
        println!("{v}");
        return;
    }
    println!(
        "replayed {} of {} planned message(s) with {} client(s) in {:.1} s{}; the replay clients received {}",
        s.sent,
        s.planned,
        s.clients,
        s.seconds,
        if s.interrupted { " (interrupted)" } else { "" },
        s.received
    );
    if s.sent_truncated > 0 {
        println!(
            "  {} of them with the payload the recording had cut (--send-truncated)",
            s.sent_truncated
        );
    }
    for (why, n) in &s.skipped {
        println!("  skipped {n}: {}", escape_controls(why));
    }
    match (&s.traced, &s.no_tracer) {
        (Some(t), _) => println!(
            "the test broker routed {}, dropped {}, denied {} of them",
            t.routed, t.dropped, t.denied
        ),
        (None, Some(why)) => println!(
            "the test broker's drops are unknown (no tracer): {}",
            escape_controls(why)
        ),
        (None, None) => {}
    }
    if let Some(t) = &s.traced
        && !s.recorded.is_empty()
    {
        if s.differences.is_empty() {
            println!(
                "check: every destination ({}) has the recording's counts and drops",
                s.recorded.len().max(t.by_destination.len())
            );
        } else {
            println!("check: {} destination(s) differ:", s.differences.len());
            for d in &s.differences {
                println!(
                    "  {}: recorded {} ({} dropped), replayed {} ({} dropped)",
                    escape_controls(&d.destination),
                    d.recorded.messages,
                    d.recorded.dropped,
                    d.replayed.messages,
                    d.replayed.dropped
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn speed_is_a_positive_factor_or_max() {
        assert_eq!(parse_speed("10"), Ok(Speed::Factor(10.0)));
        assert_eq!(parse_speed("0.5"), Ok(Speed::Factor(0.5)));
        assert_eq!(parse_speed("MAX"), Ok(Speed::Max));
        assert!(parse_speed("0").is_err());
        assert!(parse_speed("-2").is_err());
        assert!(parse_speed("fast").expect_err("words").contains("or max"));
    }

    #[test]
    fn from_and_to_take_an_offset_or_a_time() {
        assert_eq!(
            parse_bound("90s"),
            Ok(Bound::Offset(Duration::from_secs(90)))
        );
        assert!(matches!(
            parse_bound("2026-11-22T03:44:17Z"),
            Ok(Bound::At(_))
        ));
        assert!(parse_bound("yesterday").is_err());
    }
}

//! `smqctl broker`: run the embedded broker until Ctrl-C or SIGTERM.
//!
//! The first stdout line is `listening on HOST:PORT` (scripts and tests read it
//! to learn the port when `--listen` asks for port 0). With `-v`, connects,
//! closes and refusals are logged on stderr; `-vv` adds every subscription and
//! message. The log reads the broker's events (`broker::Record`, the same
//! events tracers get, plus a few broker-local kinds), never credentials.
//! Tracers (`smqctl trace`, `smqctl tui`) attach over SMQ itself; `--trace-allow`
//! says from where. The `--handlers` rules are the engine's: [`crate::broker::handlers`].
//!
//! Its flags ([`BrokerArgs`]) and long-help [`EXAMPLES`] live here too.
//!
//! May import: `args`, `exit`, `text`, `broker`, `trace`, `output`, `metrics`. Never `cli`.

use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, Result};
use clap::Args;
use tokio::sync::broadcast::error::RecvError;

/// Examples and notes under `--help`.
pub const EXAMPLES: &str = "\
Examples:
  smqctl broker                                   # ws:// and http:// on 127.0.0.1:9357
  smqctl broker --listen 0.0.0.0:9357             # reachable from other hosts
  smqctl broker --tls-cert cert.pem --tls-key key.pem   # wss:// and https://
  smqctl broker --auth users.txt -v               # uid-or-user:secret lines
  smqctl broker --handlers handlers.toml          # answer SearchSitesReq, $RpcReq...
  SMQCTL_BROKER_CREDENTIALS=s3cret smqctl broker  # one shared secret
  smqctl broker --trace-allow 10.0.0.0/8          # tracers from the LAN too
  smqctl broker --metrics-listen 9464             # live metrics at http://127.0.0.1:9464/metrics

Clients connect to ws://HOST:PORT/<any path> or http://HOST:PORT/<any path>.
The first line on stdout is `listening on HOST:PORT`.";

#[derive(Debug, Args)]
pub struct BrokerArgs {
    /// Address to listen on (loopback unless told otherwise; port 0 picks one)
    #[arg(
        long,
        value_name = "ADDR",
        env = "SMQCTL_BROKER_LISTEN",
        default_value = "127.0.0.1:9357"
    )]
    pub listen: String,
    /// TLS certificate chain (PEM): serve wss:// and https:// instead of ws:// and http://
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// TLS private key (PEM) for --tls-cert
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// Require client certificates signed by a CA in this PEM file (mutual TLS)
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    pub tls_client_ca: Option<PathBuf>,
    /// Give the broker's own client a random ETID instead of 1 (smq.create{rndtid=true})
    #[arg(long)]
    pub rndtid: bool,
    /// Accept only clients listed in FILE (`uid-or-user:secret` per line)
    #[arg(long, value_name = "FILE", conflicts_with = "credentials")]
    pub auth: Option<PathBuf>,
    /// Answer requests at the broker's ETID from this TOML file ([[request]],
    /// [[rpc]], [[event]] rules; see the README)
    #[arg(long, value_name = "FILE")]
    pub handlers: Option<PathBuf>,
    /// Refuse Subscribe/Create of this topic (exact name, or a prefix ending in *);
    /// for testing how clients handle denial (repeatable)
    #[arg(long, value_name = "PATTERN")]
    pub deny_topic: Vec<String>,
    /// Accept only clients presenting this shared secret as credentials
    #[arg(long, env = "SMQCTL_BROKER_CREDENTIALS", hide_env_values = true)]
    pub credentials: Option<String>,
    /// Time a client has to send its Connect after the broker's Init (then
    /// Connack 2 and close); longer for slow or lossy links, where TCP resends
    /// can take seconds
    #[arg(
        long,
        value_name = "DURATION",
        env = "SMQCTL_BROKER_CONNECT_TIMEOUT",
        default_value = "4s",
        value_parser = crate::text::parse_positive_duration
    )]
    pub connect_timeout: std::time::Duration,
    /// Who may attach a tracer (`smqctl trace`, `smqctl tui`): loopback, any, or
    /// addresses/CIDR ranges, comma-separated (loopback stays allowed)
    #[arg(long, value_name = "WHO", default_value = "loopback")]
    pub trace_allow: String,
    #[command(flatten)]
    pub metrics: crate::args::MetricsArgs,
}

use crate::args::GlobalArgs;
use crate::broker::events::REFUSED;
use crate::broker::{
    Auth, Broker, BrokerConfig, HandlerFile, Local, Record, TraceAllow,
    load_tls_config_with_clients,
};
use crate::exit::{self, input_error};
use crate::output::clock_time;
use crate::trace::schema::{Kind, Transport};

pub async fn run(args: BrokerArgs, global: &GlobalArgs) -> Result<u8> {
    let auth = match (&args.auth, &args.credentials) {
        (Some(path), _) => Some(Auth::from_file(path)?),
        (None, Some(secret)) if secret.is_empty() => {
            return Err(input_error(
                "--credentials for the broker must not be empty",
            ));
        }
        (None, Some(secret)) => Some(Auth::Shared(secret.clone())),
        (None, None) => None,
    };
    let tls = match (&args.tls_cert, &args.tls_key) {
        (Some(cert), Some(key)) => Some(load_tls_config_with_clients(
            cert,
            key,
            args.tls_client_ca.as_deref(),
        )?),
        _ => None,
    };
    let trace_allow = TraceAllow::parse(&args.trace_allow).map_err(|e| {
        input_error(format!(
            "--trace-allow: {e} (try loopback, any or 10.0.0.0/8)"
        ))
    })?;
    let secure = tls.is_some();
    let config = BrokerConfig {
        rndtid: args.rndtid,
        auth,
        tls,
        deny_topics: args.deny_topic.clone(),
        trace_allow,
        connect_timeout: args.connect_timeout,
    };
    let listener = match crate::broker::listen(&args.listen).await {
        Ok(l) => l,
        // Not an address at all: bad input. In use or not permitted: an error.
        Err(e) if !args.listen.contains(':') || e.kind() == std::io::ErrorKind::InvalidInput => {
            return Err(input_error(format!(
                "--listen '{}' is not HOST:PORT (e.g. 127.0.0.1:9357): {e}",
                args.listen
            )));
        }
        // In use or not permitted: exit 1, said in words (as --metrics-listen).
        Err(e) => {
            return Err(anyhow::anyhow!(crate::text::listen_error(
                "--listen",
                &args.listen,
                &e
            )));
        }
    };
    let addr = listener.local_addr()?;
    let broker = Broker::new(config);
    if let Some(path) = &args.handlers {
        let handlers = HandlerFile::load(path)?.install(&broker);
        eprintln!(
            "smqctl broker: {} handler rule(s) from {} answer at ETID {}",
            handlers.rules(),
            path.display(),
            broker.server_etid()
        );
        broker.set_handler(std::sync::Arc::new(handlers));
    }
    let _metrics = crate::metrics::start(
        args.metrics.metrics_listen,
        "broker",
        vec![Box::new(crate::metrics::BrokerSource(broker.clone()))],
    )
    .await?;
    let (ws, raw) = if secure {
        ("wss", "https")
    } else {
        ("ws", "http")
    };
    {
        let mut out = std::io::stdout().lock();
        writeln!(out, "listening on {addr}")?;
        out.flush()?;
    }
    eprintln!(
        "smqctl broker: {ws}://{addr}/ (WebSocket) and {raw}://{addr}/ (raw socket); server ETID {}; Ctrl-C stops",
        broker.server_etid()
    );
    if !addr.ip().is_loopback() {
        eprintln!(
            "smqctl broker: note: listening on {} is reachable from other hosts",
            addr.ip()
        );
    }
    if global.verbose > 0 {
        // A thread of its own: writing to a slow stderr blocks it, never a
        // runtime worker (which a signal's handling needs).
        let events = broker.events();
        let verbose = global.verbose;
        std::thread::Builder::new()
            .name("broker-log".into())
            .spawn(move || log_events(events, verbose))
            .context("cannot start the log thread")?;
    }
    let b = broker.clone();
    b.run(listener, async {
        crate::shutdown::requested().await;
    })
    .await
    .context("broker stopped with an error")?;
    eprintln!("smqctl broker: stopped");
    Ok(exit::OK)
}

fn log_events(mut events: tokio::sync::broadcast::Receiver<Arc<Record>>, verbose: u8) {
    loop {
        match events.blocking_recv() {
            Ok(rec) => {
                if let Some(line) = log_line(&rec, verbose) {
                    eprintln!("{} {line}", clock_time(rec.at));
                }
            }
            Err(RecvError::Lagged(n)) => eprintln!("({n} log events skipped: stderr too slow)"),
            Err(RecvError::Closed) => return,
        }
    }
}

/// One log line per event; `-v` shows the lifecycle, `-vv` everything.
pub(crate) fn log_line(rec: &Record, verbose: u8) -> Option<String> {
    let ev = &rec.event;
    let from = ev.from.clone().unwrap_or_default();
    let (etid, uid, peer) = (
        from.etid,
        from.uid.unwrap_or_default(),
        from.addr.unwrap_or_default(),
    );
    let (tid, topic) = ev.to.as_ref().map_or((0, String::new()), |d| {
        (d.tid, d.name.clone().unwrap_or_default())
    });
    let reason = ev.reason.clone().unwrap_or_default();
    Some(match ev.kind {
        Kind::Connect => format!(
            "connect etid={etid} uid={uid:?} info={:?} peer={peer} transport={}{}",
            from.info.unwrap_or_default(),
            match rec.local {
                Some(Local::Link { transport, tls }) => format!(
                    "{}{}",
                    match transport {
                        Transport::Ws => "ws",
                        Transport::Raw => "raw",
                    },
                    if tls { "+tls" } else { "" }
                ),
                _ => "?".into(),
            },
            if ev.reason.is_some() {
                " (took over the same UID)"
            } else {
                ""
            }
        ),
        Kind::Deny => match rec.local {
            Some(Local::Permittop { subscribe }) => format!(
                "denied {} of {topic:?} to etid={etid}",
                if subscribe { "Subscribe" } else { "Create" }
            ),
            Some(Local::Connack(code)) => {
                let why = reason.strip_prefix(REFUSED).unwrap_or(&reason);
                format!("denied uid={uid:?} peer={peer} code={code} reason={why:?}")
            }
            _ => format!("denied etid={etid}: {reason}"),
        },
        Kind::Close => format!("close etid={etid} uid={uid:?} reason={reason}"),
        Kind::Reject => format!("rejected peer={peer}: {reason}"),
        Kind::Shutdown => format!("shutdown: {reason}"),
        Kind::Attach if ev.verdict == Some(true) => {
            format!("tracer attached etid={etid} uid={uid:?} peer={peer}")
        }
        Kind::Attach => {
            format!("tracer refused etid={etid} uid={uid:?} peer={peer} (not in --trace-allow)")
        }
        Kind::Drop if matches!(rec.local, Some(Local::Missed { .. })) => match rec.local {
            Some(Local::Missed { etid, so_far }) => {
                format!("queue full: etid={etid} missed a message for tid={tid} ({so_far} so far)")
            }
            _ => return None,
        },
        _ if verbose < 2 => return None,
        Kind::Publish | Kind::Drop => {
            let payload = rec.payload.clone().unwrap_or_default();
            let head = format!(
                "{} ptid={etid} tid={tid} subtid={} {} bytes",
                ev.kind,
                ev.subtid.unwrap_or(0),
                payload.len()
            );
            match ev.kind {
                Kind::Publish => format!(
                    "{head} to {} receiver(s): {}",
                    ev.receivers.unwrap_or(0),
                    crate::output::preview(&payload, 60)
                ),
                _ => format!("{head} ({reason})"),
            }
        }
        Kind::Subscribe => format!("subscribe etid={etid} {topic:?} tid={tid}"),
        Kind::Unsubscribe => format!("unsubscribe etid={etid} tid={tid}"),
        Kind::Create => format!("create etid={etid} {topic:?} tid={tid}"),
        Kind::Createsub => format!(
            "createsub etid={etid} {:?} subtid={}",
            ev.subtopic.clone().unwrap_or_default(),
            ev.subtid.unwrap_or(0)
        ),
        Kind::Observe => format!("observe etid={etid} tid={tid}"),
        Kind::Unobserve => format!("unobserve etid={etid} tid={tid}"),
        // Tracer-only kinds: the broker sends them to tracers, never here.
        Kind::Snapshot | Kind::Notice | Kind::Error | Kind::Unknown => return None,
    })
}

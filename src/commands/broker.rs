//! `smqctl broker`: run the embedded broker until Ctrl-C or SIGTERM.
//!
//! The first stdout line is `listening on HOST:PORT` (scripts and tests read it
//! to learn the port when `--listen` asks for port 0). With `-v`, connects,
//! closes and refusals are logged on stderr; `-vv` adds every subscription and
//! message. The log comes from the broker's trace events, never from credentials.
//! Tracers (`smqctl trace`, `smqctl tui`) attach over SMQ itself; `--trace-allow`
//! says from where. The `--handlers` rules are the engine's: [`crate::broker::handlers`].
//!
//! Its flags ([`BrokerArgs`]) and long-help [`EXAMPLES`] live here too.
//!
//! May import: `args`, `exit`, `broker`, `trace`, `output`. Never `cli`.

use std::io::Write;
use std::path::PathBuf;

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

Clients connect to ws://HOST:PORT/<any path> or http://HOST:PORT/<any path>.
The first line on stdout is `listening on HOST:PORT`.";

#[derive(Debug, Args)]
pub struct BrokerArgs {
    /// Address to listen on (loopback unless told otherwise; port 0 picks one)
    #[arg(long, env = "SMQCTL_BROKER_LISTEN", default_value = "127.0.0.1:9357")]
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
    /// Who may attach a tracer (`smqctl trace`, `smqctl tui`): loopback, any, or
    /// addresses/CIDR ranges, comma-separated (loopback stays allowed)
    #[arg(long, value_name = "WHO", default_value = "loopback")]
    pub trace_allow: String,
}

use crate::args::GlobalArgs;
use crate::broker::{
    Auth, Broker, BrokerConfig, HandlerFile, TraceAllow, load_tls_config_with_clients,
};

use crate::exit::{self, input_error};
use crate::output::clock_time;
use crate::trace::{TraceEvent, TraceRecord};

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
        ..BrokerConfig::default()
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
        Err(e) => return Err(e).with_context(|| format!("cannot listen on {}", args.listen)),
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
        let events = broker.events();
        tokio::spawn(log_events(events, global.verbose));
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

async fn log_events(mut events: tokio::sync::broadcast::Receiver<TraceRecord>, verbose: u8) {
    loop {
        match events.recv().await {
            Ok(rec) => {
                if let Some(line) = log_line(&rec.event, verbose) {
                    let t = std::time::UNIX_EPOCH + std::time::Duration::from_millis(rec.ts);
                    eprintln!("{} {line}", clock_time(t));
                }
            }
            Err(RecvError::Lagged(n)) => eprintln!("({n} log events skipped: stderr too slow)"),
            Err(RecvError::Closed) => return,
        }
    }
}

/// One log line per event; `-v` shows the lifecycle, `-vv` everything.
fn log_line(ev: &TraceEvent, verbose: u8) -> Option<String> {
    let all = verbose >= 2;
    Some(match ev {
        TraceEvent::Listening { .. } => return None,
        TraceEvent::Connect {
            etid,
            uid,
            info,
            peer,
            transport,
            tls,
            takeover,
        } => format!(
            "connect etid={etid} uid={uid:?} info={info:?} peer={peer} transport={}{}{}",
            match transport {
                crate::trace::Transport::Ws => "ws",
                crate::trace::Transport::Raw => "raw",
            },
            if *tls { "+tls" } else { "" },
            if *takeover {
                " (took over the same UID)"
            } else {
                ""
            }
        ),
        TraceEvent::Denied {
            uid,
            code,
            reason,
            peer,
        } => format!("denied uid={uid:?} peer={peer} code={code} reason={reason:?}"),
        TraceEvent::Close { etid, uid, reason } => {
            format!("close etid={etid} uid={uid:?} reason={reason}")
        }
        TraceEvent::HandshakeFailed { peer, reason } => format!("rejected peer={peer}: {reason}"),
        TraceEvent::Shutdown { message } => format!("shutdown: {message}"),
        TraceEvent::TracerAttach {
            etid,
            uid,
            peer,
            allowed,
        } => {
            if *allowed {
                format!("tracer attached etid={etid} uid={uid:?} peer={peer}")
            } else {
                format!("tracer refused etid={etid} uid={uid:?} peer={peer} (not in --trace-allow)")
            }
        }
        TraceEvent::TopicDenied {
            etid,
            topic,
            subscribe,
        } => format!(
            "denied {} of {topic:?} to etid={etid}",
            if *subscribe { "Subscribe" } else { "Create" }
        ),
        TraceEvent::QueueFull {
            etid, tid, dropped, ..
        } => {
            format!("queue full: etid={etid} missed a message for tid={tid} ({dropped} so far)")
        }
        _ if !all => return None,
        TraceEvent::Publish {
            ptid,
            tid,
            subtid,
            payload,
            receivers,
        } => format!(
            "publish ptid={ptid} tid={tid} subtid={subtid} {} bytes to {receivers} receiver(s): {}",
            payload.len(),
            crate::output::preview(payload, 60)
        ),
        TraceEvent::Drop {
            ptid,
            tid,
            subtid,
            payload,
            why,
        } => format!(
            "drop ptid={ptid} tid={tid} subtid={subtid} {} bytes ({why})",
            payload.len()
        ),
        TraceEvent::Subscribe { etid, tid, topic } => {
            format!("subscribe etid={etid} {topic:?} tid={tid}")
        }
        TraceEvent::Unsubscribe { etid, tid } => format!("unsubscribe etid={etid} tid={tid}"),
        TraceEvent::Create { etid, tid, topic } => {
            format!("create etid={etid} {topic:?} tid={tid}")
        }
        TraceEvent::CreateSub { etid, subtid, name } => {
            format!("createsub etid={etid} {name:?} subtid={subtid}")
        }
        TraceEvent::Observe { etid, tid } => format!("observe etid={etid} tid={tid}"),
        TraceEvent::Unobserve { etid, tid } => format!("unobserve etid={etid} tid={tid}"),
    })
}

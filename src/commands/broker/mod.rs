//! `smqctl broker`: run the embedded broker until Ctrl-C or SIGTERM.
//!
//! The first stdout line is `listening on HOST:PORT` (scripts and tests read it
//! to learn the port when `--listen` asks for port 0). With `-v`, connects,
//! closes and refusals are logged on stderr; `-vv` adds every subscription and
//! message. The log reads the broker's events (`broker::Record`, the same
//! events tracers get, plus a few broker-local kinds), never credentials.
//! Tracers (`smqctl trace`, `smqctl tui`) attach over SMQ itself; `--trace-allow`
//! says from where.

use std::io::Write;
use std::sync::Arc;

use anyhow::{Context, Result};
use tokio::sync::broadcast::error::RecvError;

pub mod handlers;

use super::{exit, input_error};
use crate::broker::events::REFUSED;
use crate::broker::{
    Auth, Broker, BrokerConfig, Local, Record, TraceAllow, load_tls_config_with_clients,
};
use crate::cli::{BrokerArgs, GlobalArgs};
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
        let handlers = handlers::HandlerFile::load(path)?.install(&broker);
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

async fn log_events(mut events: tokio::sync::broadcast::Receiver<Arc<Record>>, verbose: u8) {
    loop {
        match events.recv().await {
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
        Kind::Queuefull => format!(
            "queue full: etid={etid} missed a message for tid={tid} ({} so far)",
            ev.skipped.unwrap_or(0)
        ),
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

//! `smqctl broker`: run the embedded broker until Ctrl-C or SIGTERM.
//!
//! The first stdout line is `listening on HOST:PORT` (scripts and tests read it
//! to learn the port when `--listen` asks for port 0). With `-v`, connects,
//! closes and refusals are logged on stderr; `-vv` adds every subscription and
//! message. The log comes from the broker's trace events, never from credentials.
//! Tracers (`smqctl trace`, `smqctl tui`) attach over SMQ itself; `--trace-allow`
//! says from where.

use std::io::Write;

use anyhow::{Context, Result};
use tokio::sync::broadcast::error::RecvError;

pub mod handlers;

use super::{exit, input_error};
use crate::broker::{Auth, Broker, BrokerConfig, TraceAllow, load_tls_config_with_clients};
use crate::cli::{BrokerArgs, GlobalArgs};
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

async fn log_events(mut events: tokio::sync::broadcast::Receiver<TraceRecord>, verbose: u8) {
    loop {
        match events.recv().await {
            Ok(rec) => {
                if let Some(line) = log_line(&rec, verbose) {
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
pub(crate) fn log_line(rec: &TraceRecord, verbose: u8) -> Option<String> {
    let all = verbose >= 2;
    Some(match &rec.event {
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

//! The SMQ trace source: attach to a broker-side tracer (the embedded broker, or
//! a Mako app with the smqctl Lua hook) and forward its events to a consumer.
//!
//! [`run`] connects with the ordinary client and stays connected (the
//! client's reconnecting [`Session`]). On every connection it registers a
//! `self` route for [`SUB_EVENTS`], publishes an [`AttachRequest`] to the server
//! ETID and waits for the first answer. A snapshot means attached: events are
//! forwarded as they come. No answer within the attach timeout, or a refusal,
//! means degraded mode: the source subscribes to the configured fallback topics
//! (and direct messages) and turns each message it receives into a `publish`
//! event built from what this client knows (its own topic and sub-topic cache),
//! so a consumer still sees traffic, and is told why in [`Status::Degraded`].
//! After a reconnect it attaches again (or subscribes again when degraded).
//!
//! A consumer spawns it and reads updates (the future is `Send`):
//!
//! ```no_run
//! # async fn consume(opts: smqctl::client::ClientOptions) {
//! use smqctl::trace::attach::{self, AttachConfig};
//! use smqctl::trace::source::Update;
//! let (tx, mut rx) = tokio::sync::mpsc::channel(1024);
//! tokio::spawn(attach::run(opts, AttachConfig::default(), tx));
//! while let Some(update) = rx.recv().await {
//!     match update {
//!         Update::Status(status) => eprintln!("{status:?}"),
//!         Update::Event(event) => println!("{}", event.kind),
//!     }
//! }
//! # }
//! ```
//!
//! May import: `client`, `protocol` (SERVER_ETID), `trace::schema`, `trace::source`.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;

use super::schema::{
    self, AttachRequest, Client as Who, Dest, DestType, Event, Kind, SUB_ATTACH, SUB_DETACH,
    SUB_EVENTS,
};
use super::source::{Status, Update};
use crate::client::{
    self, Client, ClientError, ClientOptions, Message, ReconnectPolicy, Session, Step,
};
use crate::protocol::SERVER_ETID;

/// Trace messages buffered between the connection and the consumer.
const QUEUE: usize = 4096;

/// How [`run`] attaches.
#[derive(Debug, Clone)]
pub struct AttachConfig {
    /// The broker's own ETID, where the attach request goes (1 unless the
    /// broker uses `rndtid`).
    pub server_etid: u32,
    /// Payload bytes each event's preview keeps.
    pub preview: usize,
    /// Ask for whole payloads (up to `preview`, which may then exceed
    /// [`schema::MAX_PREVIEW`]; see [`AttachRequest::full`]).
    pub full: bool,
    /// How long to wait for the broker's snapshot before degrading.
    pub attach_timeout: Duration,
    /// Topics to subscribe to in degraded mode (direct messages are always
    /// included); empty: direct messages only.
    pub fallback_topics: Vec<String>,
    pub reconnect: ReconnectPolicy,
}

impl Default for AttachConfig {
    fn default() -> Self {
        AttachConfig {
            server_etid: SERVER_ETID,
            preview: schema::DEFAULT_PREVIEW,
            full: false,
            attach_timeout: Duration::from_secs(2),
            fallback_topics: Vec::new(),
            reconnect: ReconnectPolicy::default(),
        }
    }
}

/// Runs the source until the consumer drops its receiver or the session ends
/// for good. Sends [`Status::Connecting`] first and [`Status::Ended`] last;
/// in between `Attached`/`Degraded` after each (re)connection, `Reconnecting`
/// when the connection drops, and the events. Errors are reported in
/// `Ended { error: true, .. }`; [`session`] also returns them.
pub async fn run(opts: ClientOptions, cfg: AttachConfig, tx: mpsc::Sender<Update>) {
    let _ = session(opts, cfg, tx).await;
}

/// [`run`], returning the error that ended it (for exit codes).
pub async fn session(
    mut opts: ClientOptions,
    cfg: AttachConfig,
    tx: mpsc::Sender<Update>,
) -> Result<(), ClientError> {
    // Our UID must be known to name our own ETID in degraded events.
    let uid: Arc<str> = opts
        .uid
        .get_or_insert_with(client::generate_uid)
        .as_str()
        .into();
    let url = opts.endpoint.to_string();
    status(&tx, Status::Connecting { url }).await;
    let result = reconnecting(opts, &cfg, &tx, &uid).await;
    let ended = match &result {
        Ok(()) => Status::Ended {
            reason: "disconnected".into(),
            error: false,
        },
        Err(e) => Status::Ended {
            reason: e.to_string(),
            error: true,
        },
    };
    status(&tx, ended).await;
    result
}

/// Connects, attaches, and does it again after a lost connection: the
/// client's [`Session`] polled beside the consumer going away (the session's
/// rules: the first attempt is not retried, a takeover ends it, a connection
/// that lasted resets the backoff).
async fn reconnecting(
    opts: ClientOptions,
    cfg: &AttachConfig,
    tx: &mpsc::Sender<Update>,
    uid: &Arc<str>,
) -> Result<(), ClientError> {
    let mut session = Session::new(opts, cfg.reconnect);
    loop {
        let step = tokio::select! {
            s = session.poll() => s?,
            _ = tx.closed() => {
                session.close().await;
                return Ok(());
            }
        };
        match step {
            Step::Connecting { .. } | Step::Event(_) => {}
            Step::Connected { client, .. } => {
                let attached = tokio::select! {
                    a = attach(&client, cfg, tx, uid) => a,
                    _ = tx.closed() => {
                        session.close().await;
                        return Ok(());
                    }
                };
                if let Err(e) = attached {
                    session.setup_failed(e).await?;
                }
            }
            Step::Reconnecting {
                error,
                delay,
                attempt,
            } => {
                let s = Status::Reconnecting {
                    reason: error.to_string(),
                    attempt,
                    delay,
                };
                status(tx, s).await;
            }
            Step::Closed => return Ok(()),
        }
    }
}

async fn status(tx: &mpsc::Sender<Update>, s: Status) {
    let _ = tx.send(Update::Status(s)).await;
}

/// One connection's setup: attach, or degrade when nobody answers.
async fn attach(
    client: &Client,
    cfg: &AttachConfig,
    tx: &mpsc::Sender<Update>,
    uid: &Arc<str>,
) -> Result<(), ClientError> {
    let (etx, mut erx) = mpsc::channel(QUEUE);
    client.subscribe_into("self", Some(SUB_EVENTS), etx).await?;
    let req = AttachRequest {
        preview: cfg.preview,
        full: cfg.full,
        ..AttachRequest::default()
    };
    let body = serde_json::to_vec(&req).unwrap_or_default();
    let to = client::Dest::Id(cfg.server_etid);
    client.publish(to, Some(SUB_ATTACH), body.into()).await?;
    let reason = match tokio::time::timeout(cfg.attach_timeout, erx.recv()).await {
        Ok(Some(msg)) => match serde_json::from_slice::<Event>(&msg.payload) {
            Ok(ev) if ev.kind == Kind::Error => format!(
                "the broker refused to attach this tracer: {}",
                ev.reason.as_deref().unwrap_or("no reason given")
            ),
            Ok(ev) => {
                status(
                    tx,
                    Status::Attached {
                        etid: client.etid(),
                    },
                )
                .await;
                let _ = tx.send(Update::Event(Box::new(ev))).await;
                tokio::spawn(forward_events(erx, tx.clone(), client.clone()));
                return Ok(());
            }
            Err(e) => format!(
                "the answer from ETID {} is not a trace event ({e})",
                cfg.server_etid
            ),
        },
        Ok(None) => {
            return Err(ClientError::ConnectionLost(
                "connection closed while attaching".into(),
            ));
        }
        // The broker answered SMQ (we are connected), but nothing attached us.
        Err(_) => no_tracer_answered(cfg),
    };
    drop(erx);
    // A late answer must not leave the broker streaming to us.
    let _ = client
        .publish(to, Some(SUB_DETACH), Default::default())
        .await;
    degrade(client, cfg, tx, uid, reason).await
}

/// Why a connected tracer got no answer to its attach request: the broker
/// speaks SMQ, so the URL is right and the trace hook is what is missing.
fn no_tracer_answered(cfg: &AttachConfig) -> String {
    format!(
        "no tracer answered: is the hook installed? (README: Mako hook); or is --server-etid right (brokers made with rndtid)? The broker answers SMQ, but nothing at ETID {} took the attach request within {:?}; on Mako, `smqctl hook lua --output` says what to add",
        cfg.server_etid, cfg.attach_timeout
    )
}

/// Degraded mode: subscribe to the fallback topics and `self`.
async fn degrade(
    client: &Client,
    cfg: &AttachConfig,
    tx: &mpsc::Sender<Update>,
    uid: &Arc<str>,
    mut reason: String,
) -> Result<(), ClientError> {
    let (dtx, drx) = mpsc::channel(QUEUE);
    let mut topics = Vec::new();
    for topic in cfg.fallback_topics.iter().filter(|t| *t != "self") {
        match client.subscribe_into(topic, None, dtx.clone()).await {
            Ok(_) => topics.push(topic.clone()),
            Err(ClientError::Denied { .. }) => {
                reason.push_str(&format!("; subscribing to {topic} was denied"));
            }
            Err(e) => return Err(e),
        }
    }
    client.subscribe_into("self", None, dtx).await?;
    topics.push("self".into());
    status(
        tx,
        Status::Degraded {
            etid: client.etid(),
            reason,
            topics,
        },
    )
    .await;
    let me = Who {
        etid: client.etid(),
        uid: Some(uid.to_string()),
        ..Who::default()
    };
    tokio::spawn(forward_messages(drx, tx.clone(), me, cfg.preview));
    Ok(())
}

/// Attached: every message on the events route is one schema event. Messages
/// this client had to drop because the consumer fell behind are owned up to
/// in a `notice` (like the broker's own skip notices).
async fn forward_events(mut rx: mpsc::Receiver<Message>, tx: mpsc::Sender<Update>, client: Client) {
    let mut dropped = client.dropped();
    while let Some(msg) = rx.recv().await {
        let now = client.dropped();
        if now > dropped {
            let mut n = Event::new(Kind::Notice, schema::now_ts());
            n.skipped = Some(now - dropped);
            n.reason = Some(format!(
                "{} trace message(s) dropped by this client: the consumer did not keep up",
                now - dropped
            ));
            dropped = now;
            if tx.send(Update::Event(Box::new(n))).await.is_err() {
                return;
            }
        }
        let ev = match serde_json::from_slice::<Event>(&msg.payload) {
            Ok(ev) => ev,
            Err(e) => {
                let mut n = Event::new(Kind::Notice, schema::now_ts());
                n.reason = Some(format!("an unreadable trace event was skipped: {e}"));
                n
            }
        };
        if tx.send(Update::Event(Box::new(ev))).await.is_err() {
            return;
        }
    }
}

/// Degraded: every message this client receives becomes a `publish` event.
async fn forward_messages(
    mut rx: mpsc::Receiver<Message>,
    tx: mpsc::Sender<Update>,
    me: Who,
    preview: usize,
) {
    while let Some(msg) = rx.recv().await {
        if msg
            .subtopic
            .as_deref()
            .is_some_and(|s| s.starts_with(schema::RESERVED_PREFIX))
        {
            continue; // a late answer from a tracer we gave up on
        }
        let ev = message_event(&msg, &me, preview);
        if tx.send(Update::Event(Box::new(ev))).await.is_err() {
            return;
        }
    }
}

/// A client-side view of one received message as a schema event: the
/// publisher is only an ETID (no broker to ask), names come from our cache.
pub fn message_event(msg: &Message, me: &Who, preview: usize) -> Event {
    let mut e =
        Event::new(Kind::Publish, schema::ts_of(msg.received)).with_payload(&msg.payload, preview);
    e.from = Some(if msg.ptid == me.etid {
        me.clone()
    } else {
        Who {
            etid: msg.ptid,
            ..Who::default()
        }
    });
    e.to = Some(if msg.direct {
        Dest {
            tid: msg.tid,
            kind: DestType::Client,
            name: None,
            uid: me.uid.clone(),
        }
    } else {
        Dest {
            tid: msg.tid,
            kind: if msg.topic.is_some() {
                DestType::Topic
            } else {
                DestType::Unknown
            },
            name: msg.topic.as_deref().map(str::to_string),
            uid: None,
        }
    });
    if msg.subtid != 0 {
        e.subtid = Some(msg.subtid);
        e.subtopic = msg.subtopic.as_deref().map(str::to_string);
    }
    e
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;
    use std::time::SystemTime;

    #[test]
    fn degraded_messages_become_publish_events_named_from_the_client_cache() {
        let me = Who {
            etid: 9,
            uid: Some("tracer-x".into()),
            ..Who::default()
        };
        let msg = Message {
            tid: 5,
            topic: Some("DeviceState".into()),
            ptid: 7,
            subtid: 3,
            subtopic: Some("SetCharger".into()),
            payload: Bytes::from_static(b"{\"On\":true}"),
            direct: false,
            received: SystemTime::UNIX_EPOCH + Duration::from_millis(1_700_000_000_123),
        };
        let e = message_event(&msg, &me, 256);
        assert_eq!(e.kind, Kind::Publish);
        assert_eq!(e.ts, "2023-11-14T22:13:20.123Z");
        assert_eq!(e.from.as_ref().map(|c| c.etid), Some(7));
        assert_eq!(e.to.as_ref().map(|d| d.label()), Some("DeviceState".into()));
        assert_eq!(e.subtopic.as_deref(), Some("SetCharger"));
        assert_eq!(e.payload.as_deref(), Some("{\"On\":true}"));
        let direct = Message {
            direct: true,
            topic: Some("self".into()),
            tid: 9,
            ..msg
        };
        let e = message_event(&direct, &me, 256);
        assert_eq!(e.to.map(|d| d.label()), Some("tracer-x (etid 9)".into()));
    }
}

//! The recorder: trace events in, recording lines out.
//!
//! [`Recorder::event`] turns one [`Event`] into the lines it means: a
//! publish, drop or deny of a message (that passes the filter) becomes a
//! `message` line; the tracer's snapshot and connect events become `client`
//! lines and subscribe events `subscribe` lines (topic patterns apply to
//! them, kinds do not: a replay needs the subscribers of what it replays).
//! It counts what it wrote, what was cut, and what the source said it skipped.
//!
//! [`run`] feeds it: from the broker's tracer (attached asking for full
//! payloads, see [`crate::trace::schema::AttachRequest::full`]) or, with
//! [`Feed::Sub`], from what one subscriber receives. It stops at the count,
//! the duration, a signal, or when the source ends, and says which.
//!
//! May import: `client`, `trace` (schema, attach, filter, source), `record`.

use std::time::Duration;

use serde::Serialize;
use tokio::sync::mpsc;

use super::file::Writer;
use super::{ClientLine, Line, Message, Outcome, SubscribeLine};
use crate::client::{ClientError, ClientOptions, ReconnectPolicy, Session, Step};
use crate::trace::attach::{self, AttachConfig};
use crate::trace::filter::Filter;
use crate::trace::schema::{self, Event, Kind};
use crate::trace::source::{Status, Update};

/// What a recording run has written.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    /// Message lines.
    pub messages: u64,
    pub routed: u64,
    pub dropped: u64,
    pub denied: u64,
    /// Messages whose payload is cut (longer than `--max-payload`, or too
    /// big for one trace event).
    pub truncated: u64,
    /// Payload bytes of the messages (their whole size).
    pub bytes: u64,
    /// Client and subscribe lines.
    pub clients: u64,
    pub subscriptions: u64,
    /// Events the source said it skipped (a tracer that did not keep up):
    /// messages the recording misses.
    pub missed: u64,
}

/// Writes what events mean into a recording.
pub struct Recorder {
    writer: Writer,
    filter: Filter,
    /// `filter` without kinds or text: for client and subscribe lines.
    topics: Filter,
    /// The recorder's own ETID (not a client of the recorded app).
    own: Option<u32>,
    pub counts: Counts,
    /// The broker's snapshot was cut to fit one message (its reason): some
    /// clients and subscriptions from before the recording are missing.
    pub snapshot_cut: Option<String>,
}

impl Recorder {
    /// A recorder writing to `writer`, keeping the messages `filter` passes
    /// (an empty kind set means publish, drop and deny).
    pub fn new(writer: Writer, filter: Filter) -> Recorder {
        let topics = Filter {
            kinds: Default::default(),
            text: String::new(),
            ..filter.clone()
        };
        Recorder {
            writer,
            filter,
            topics,
            own: None,
            counts: Counts::default(),
            snapshot_cut: None,
        }
    }

    /// The recorder's own connection (left out of the client lines).
    pub fn set_own(&mut self, etid: u32) {
        self.own = Some(etid);
    }

    pub fn writer(&self) -> &Writer {
        &self.writer
    }

    /// Writes the lines `ev` means; true when it was a recorded message.
    pub fn event(&mut self, ev: &Event) -> std::io::Result<bool> {
        match ev.kind {
            Kind::Snapshot => {
                let Some(snap) = &ev.snapshot else {
                    return Ok(false);
                };
                if let Some(reason) = &ev.reason {
                    self.snapshot_cut = Some(reason.clone());
                }
                for c in snap.clients.iter().filter(|c| !c.server) {
                    self.client(&ev.ts, c.clone())?;
                }
                // Subscriptions made before recording started.
                for s in &snap.subscriptions {
                    if self.own == Some(s.etid) {
                        continue;
                    }
                    let uid = snap
                        .clients
                        .iter()
                        .find(|c| c.etid == s.etid)
                        .and_then(|c| c.uid.clone());
                    let mut probe = Event::new(Kind::Subscribe, ev.ts.clone());
                    probe.to = Some(schema::Dest {
                        tid: 0,
                        kind: schema::DestType::Topic,
                        name: Some(s.topic.clone()),
                        uid: None,
                    });
                    if !self.topics.matches(&probe) {
                        continue;
                    }
                    self.counts.subscriptions += 1;
                    self.writer.write(&Line::Subscribe(SubscribeLine {
                        ts: ev.ts.clone(),
                        etid: s.etid,
                        uid,
                        topic: s.topic.clone(),
                    }))?;
                }
                Ok(false)
            }
            Kind::Connect => {
                if let Some(c) = ev.from.clone().filter(|c| !c.server) {
                    self.client(&ev.ts, c)?;
                }
                Ok(false)
            }
            Kind::Subscribe => {
                let (Some(from), Some(topic)) =
                    (&ev.from, ev.to.as_ref().and_then(|d| d.name.clone()))
                else {
                    return Ok(false);
                };
                if from.server || !self.topics.matches(ev) {
                    return Ok(false);
                }
                self.counts.subscriptions += 1;
                self.writer.write(&Line::Subscribe(SubscribeLine {
                    ts: ev.ts.clone(),
                    etid: from.etid,
                    uid: from.uid.clone(),
                    topic,
                }))?;
                Ok(false)
            }
            Kind::Notice => {
                self.counts.missed += ev.skipped.unwrap_or(0);
                Ok(false)
            }
            _ => {
                if ev.is_reserved() || !self.keeps(ev) {
                    return Ok(false);
                }
                let Some(m) = Message::from_event(ev) else {
                    return Ok(false);
                };
                let c = &mut self.counts;
                c.messages += 1;
                c.bytes += m.size as u64;
                c.truncated += u64::from(m.truncated);
                match m.outcome {
                    Outcome::Routed => c.routed += 1,
                    Outcome::Dropped => c.dropped += 1,
                    Outcome::Denied => c.denied += 1,
                }
                self.writer.write(&Line::Message(m))?;
                Ok(true)
            }
        }
    }

    fn keeps(&self, ev: &Event) -> bool {
        if self.filter.kinds.is_empty() {
            matches!(ev.kind, Kind::Publish | Kind::Drop | Kind::Deny) && self.filter.matches(ev)
        } else {
            self.filter.matches(ev)
        }
    }

    fn client(&mut self, ts: &str, c: schema::Client) -> std::io::Result<()> {
        if self.own == Some(c.etid) {
            return Ok(());
        }
        self.counts.clients += 1;
        self.writer.write(&Line::Client(ClientLine {
            ts: ts.to_string(),
            etid: c.etid,
            uid: c.uid,
            info: c.info,
        }))
    }
}

/// Where the events come from.
#[derive(Debug, Clone)]
pub enum Feed {
    /// The broker's tracer, attached at `server_etid`.
    Trace {
        server_etid: u32,
        attach_timeout: Duration,
    },
    /// What a subscriber of these topics (and `self`) receives.
    Sub { topics: Vec<String> },
}

/// How [`run`] records.
#[derive(Debug, Clone)]
pub struct RecordConfig {
    pub feed: Feed,
    /// Payload bytes to keep per message.
    pub max_payload: usize,
    /// Stop after this many messages.
    pub count: Option<u64>,
    /// Stop after this long.
    pub duration: Option<Duration>,
    pub reconnect: ReconnectPolicy,
}

/// Why a recording run ended.
#[derive(Debug)]
pub enum Stopped {
    /// `count` messages recorded.
    Count,
    /// `duration` passed.
    Duration,
    /// SIGINT or SIGTERM.
    Signal,
    /// No tracer attached this recorder (`reason`); nothing was recorded.
    NoTracer(String),
    /// The source ended (connection closed for good), with its error.
    Ended(Option<ClientError>),
}

/// What [`run`] reports as it goes (for a progress line).
#[derive(Debug, Clone)]
pub enum Progress {
    /// A status change of the connection.
    Status(Status),
    /// Another message written.
    Message,
}

/// Records until a stop condition; every message is on disk when it returns.
pub async fn run(
    opts: ClientOptions,
    cfg: RecordConfig,
    recorder: &mut Recorder,
    progress: mpsc::UnboundedSender<Progress>,
) -> std::io::Result<Stopped> {
    let (tx, mut rx) = mpsc::channel(4096);
    let source = match &cfg.feed {
        Feed::Trace {
            server_etid,
            attach_timeout,
        } => {
            let acfg = AttachConfig {
                server_etid: *server_etid,
                preview: cfg.max_payload,
                full: true,
                attach_timeout: *attach_timeout,
                fallback_topics: Vec::new(),
                reconnect: cfg.reconnect,
            };
            tokio::spawn(attach::session(opts, acfg, tx))
        }
        Feed::Sub { topics } => tokio::spawn(subscribe(
            opts,
            topics.clone(),
            cfg.max_payload,
            cfg.reconnect,
            tx,
        )),
    };
    let forever = Duration::from_secs(100 * 365 * 24 * 3600);
    let sleep = tokio::time::sleep(cfg.duration.unwrap_or(forever));
    tokio::pin!(sleep);
    let stop = crate::shutdown::requested();
    tokio::pin!(stop);
    let stopped = loop {
        let update = tokio::select! {
            biased;
            _ = &mut stop => break Stopped::Signal,
            _ = &mut sleep => break Stopped::Duration,
            u = rx.recv() => u,
        };
        let Some(update) = update else {
            break Stopped::Ended(None);
        };
        match update {
            Update::Status(Status::Degraded { reason, .. }) => break Stopped::NoTracer(reason),
            Update::Status(Status::Ended { .. }) => {}
            Update::Status(s) => {
                if let Status::Attached { etid } = s {
                    recorder.set_own(etid);
                }
                let _ = progress.send(Progress::Status(s));
            }
            Update::Event(ev) => {
                if recorder.event(&ev)? {
                    let _ = progress.send(Progress::Message);
                    if cfg.count.is_some_and(|n| recorder.counts.messages >= n) {
                        break Stopped::Count;
                    }
                }
            }
        }
    };
    if let Stopped::Ended(_) = stopped {
        let result = source.await.unwrap_or(Ok(()));
        return Ok(Stopped::Ended(result.err()));
    }
    if matches!(stopped, Stopped::Signal | Stopped::Duration) {
        // What had already arrived when the run stopped is kept too.
        while let Ok(update) = rx.try_recv() {
            if cfg.count.is_some_and(|n| recorder.counts.messages >= n) {
                break;
            }
            if let Update::Event(ev) = update
                && recorder.event(&ev)?
            {
                let _ = progress.send(Progress::Message);
            }
        }
    }
    // Dropping the receiver ends the source: it disconnects.
    drop(rx);
    let _ = tokio::time::timeout(Duration::from_secs(3), source).await;
    Ok(stopped)
}

/// The `--from-sub` source: subscribes to `topics` (and `self`) on every
/// connection and turns each message received into a publish event, payload
/// up to `max_payload` (what `smqctl sub` would print).
async fn subscribe(
    mut opts: ClientOptions,
    topics: Vec<String>,
    max_payload: usize,
    reconnect: ReconnectPolicy,
    tx: mpsc::Sender<Update>,
) -> Result<(), ClientError> {
    let uid = opts
        .uid
        .get_or_insert_with(crate::client::generate_uid)
        .clone();
    let url = opts.endpoint.to_string();
    let _ = tx.send(Update::Status(Status::Connecting { url })).await;
    let mut session = Session::new(opts, reconnect);
    loop {
        let step = tokio::select! {
            s = session.poll() => s?,
            _ = tx.closed() => {
                session.close().await;
                return Ok(());
            }
        };
        match step {
            Step::Connected { client, .. } => {
                let (mtx, mut mrx) = mpsc::channel(4096);
                let mut setup = Ok(());
                for t in &topics {
                    if let Err(e) = client.subscribe_into(t, None, mtx.clone()).await {
                        setup = Err(e);
                        break;
                    }
                }
                if topics.iter().all(|t| t != "self") && setup.is_ok() {
                    setup = client
                        .subscribe_into("self", None, mtx.clone())
                        .await
                        .map(|_| ());
                }
                if let Err(e) = setup {
                    session.setup_failed(e).await?;
                    continue;
                }
                let me = schema::Client {
                    etid: client.etid(),
                    uid: Some(uid.clone()),
                    ..schema::Client::default()
                };
                let _ = tx
                    .send(Update::Status(Status::Attached {
                        etid: client.etid(),
                    }))
                    .await;
                let events = tx.clone();
                tokio::spawn(async move {
                    while let Some(msg) = mrx.recv().await {
                        let ev = attach::message_event(&msg, &me, max_payload);
                        if events.send(Update::Event(Box::new(ev))).await.is_err() {
                            return;
                        }
                    }
                });
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
                let _ = tx.send(Update::Status(s)).await;
            }
            Step::Closed => return Ok(()),
            Step::Connecting { .. } | Step::Event(_) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::{Header, Source, file};
    use crate::trace::schema::{Client, Dest, DestType, Snapshot};

    fn ev(kind: Kind, topic: &str, payload: &[u8], limit: usize) -> Event {
        let mut e = Event::new(kind, schema::now_ts()).with_payload(payload, limit);
        e.from = Some(Client {
            etid: 7,
            uid: Some("dev-7".into()),
            ..Client::default()
        });
        e.to = Some(Dest {
            tid: 9,
            kind: DestType::Topic,
            name: Some(topic.into()),
            uid: None,
        });
        e
    }

    #[test]
    fn the_recorder_writes_messages_clients_and_subscriptions_and_counts_cut_payloads() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("r.smqrec");
        let w = Writer::create(&path, Header::new(Source::Trace, 4), None).expect("create");
        let filter = Filter {
            exclude: vec!["Noise".into()],
            ..Filter::default()
        };
        let mut r = Recorder::new(w, filter);
        let mut snap = Event::new(Kind::Snapshot, schema::now_ts());
        snap.snapshot = Some(Snapshot {
            server_etid: Some(1),
            clients: vec![
                Client {
                    etid: 7,
                    uid: Some("dev-7".into()),
                    ..Client::default()
                },
                Client {
                    etid: 1,
                    server: true,
                    ..Client::default()
                },
            ],
            subscriptions: vec![
                crate::trace::schema::SubscriptionInfo {
                    etid: 7,
                    topic: "Earlier".into(),
                },
                crate::trace::schema::SubscriptionInfo {
                    etid: 7,
                    topic: "Noise".into(),
                },
            ],
            ..Snapshot::default()
        });
        assert!(!r.event(&snap).expect("write"));
        assert!(
            !r.event(&ev(Kind::Subscribe, "State", b"", 0))
                .expect("write")
        );
        assert!(
            !r.event(&ev(Kind::Subscribe, "Noise", b"", 0))
                .expect("write")
        );
        assert!(
            r.event(&ev(Kind::Publish, "State", b"hello", 4))
                .expect("write")
        );
        assert!(r.event(&ev(Kind::Drop, "State", b"[1]", 4)).expect("write"));
        assert!(
            !r.event(&ev(Kind::Publish, "Noise", b"x", 4))
                .expect("write")
        );
        let mut notice = Event::new(Kind::Notice, schema::now_ts());
        notice.skipped = Some(3);
        r.event(&notice).expect("write");
        assert_eq!(
            r.counts,
            Counts {
                messages: 2,
                routed: 1,
                dropped: 1,
                denied: 0,
                truncated: 1,
                bytes: 8,
                clients: 1,
                subscriptions: 2,
                missed: 3,
            }
        );
        let rec = file::read(&[path]).expect("reads");
        let kinds: Vec<&str> = rec
            .lines
            .iter()
            .map(|l| match &l.item {
                Line::Client(_) => "client",
                Line::Subscribe(_) => "subscribe",
                Line::Message(_) => "message",
                Line::Unknown => "?",
            })
            .collect();
        assert_eq!(
            kinds,
            ["client", "subscribe", "subscribe", "message", "message"]
        );
        let earlier = rec.lines.iter().find_map(|l| match &l.item {
            Line::Subscribe(s) => Some(s.clone()),
            _ => None,
        });
        assert_eq!(
            earlier.map(|s| (s.uid, s.topic)),
            Some((Some("dev-7".into()), "Earlier".into())),
            "a subscription from before the recording, with the UID of its ETID"
        );
    }
}

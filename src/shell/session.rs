//! The shell's one long-lived connection: a driver polling a client
//! [`client::Session`] (so a lost connection is retried with backoff), which
//! subscribes and observes again whatever the session had on every new
//! connection, and prints arriving messages through an [`Out`] sink (stdout in
//! scripts, rustyline's external printer at the prompt, so a message never
//! tears the line being typed).
//!
//! Commands get the live [`Client`] from a watch channel; `wait` watches the
//! count of printed events.
//!
//! May import: `client`, `output`.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{self, Write};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::watch;

use crate::client::{self, Client, ClientError, ClientOptions, Event, ReconnectPolicy, Step};
use crate::output::{DataType, Format, Printer};

/// Where the shell's output goes.
#[derive(Clone)]
pub enum Out {
    /// Scripts: data on stdout, notes on stderr.
    Std,
    /// At the prompt: everything through rustyline's external printer.
    Editor(Arc<Mutex<Box<dyn rustyline::ExternalPrinter + Send>>>),
    /// Whatever is set in here later (the editor starts after the session);
    /// `Std` until then.
    Deferred(Arc<Mutex<Option<Out>>>),
}

impl Out {
    /// Data: messages, command results.
    pub fn data(&self, text: &str) {
        match self {
            Out::Std => {
                let mut out = io::stdout().lock();
                let _ = out.write_all(text.as_bytes());
                let _ = out.flush();
            }
            Out::Editor(p) => {
                let mut p = p.lock().unwrap_or_else(|e| e.into_inner());
                let _ = p.print(text.to_string());
            }
            Out::Deferred(d) => d
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .clone()
                .unwrap_or(Out::Std)
                .data(text),
        }
    }

    /// A note for the person at the terminal: connection changes, what a
    /// command did.
    /// Escaped: notes quote broker text (reasons, topic names).
    pub fn note(&self, text: &str) {
        let text = &crate::output::escape_controls(text);
        match self {
            Out::Std => eprintln!("smqctl: {text}"),
            Out::Editor(_) => self.data(&format!("{text}\n")),
            Out::Deferred(d) => d
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .clone()
                .unwrap_or(Out::Std)
                .note(text),
        }
    }
}

/// Collects what a [`Printer`] writes and hands it to the [`Out`] on flush.
struct OutWriter {
    buf: Vec<u8>,
    out: Out,
}

impl Write for OutWriter {
    fn write(&mut self, b: &[u8]) -> io::Result<usize> {
        self.buf.extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        if !self.buf.is_empty() {
            let text = String::from_utf8_lossy(&self.buf).into_owned();
            self.buf.clear();
            self.out.data(&text);
        }
        Ok(())
    }
}

/// The connection as commands see it.
#[derive(Clone)]
pub enum Conn {
    Connecting,
    Up(Client),
    Down {
        reason: String,
        attempt: u32,
    },
    /// The session is over (no reconnect, or a same-UID takeover).
    Ended(String),
}

impl Conn {
    /// For the prompt and `status`.
    pub fn label(&self) -> String {
        match self {
            Conn::Connecting => "connecting".into(),
            Conn::Up(c) => format!("ETID {}", c.etid()),
            Conn::Down { attempt, .. } => format!("reconnecting #{attempt}"),
            Conn::Ended(_) => "disconnected".into(),
        }
    }
}

/// What the session has asked for; replayed on every new connection.
#[derive(Debug, Default)]
pub struct Wanted {
    /// Topic → sub-topic filter (empty: everything).
    pub subs: BTreeMap<String, Vec<String>>,
    /// Sub-topic names to register so messages show them by name.
    pub subtopics: BTreeSet<String>,
    /// Observed topic names and ETIDs (as typed).
    pub observed: BTreeSet<String>,
    /// Observations `unobserve` ended here without sending Unobserve (as
    /// typed → their ID on this connection): their changes are not shown.
    /// Cleared on a reconnect, whose connection never observed them.
    pub hidden: BTreeMap<String, u32>,
    /// `unobserve` has said once that it sends nothing.
    pub said_unobserve: bool,
    pub format: Option<Format>,
    pub reconnects: u32,
    /// Events already waited for by `wait`.
    pub consumed: u64,
}

pub struct Session {
    pub wanted: Arc<Mutex<Wanted>>,
    pub conn: watch::Receiver<Conn>,
    /// Messages and changes printed so far.
    pub events: watch::Receiver<u64>,
    pub out: Out,
    pub url: String,
    pub format: Format,
    /// Longest a command waits for a connection (a reconnect in progress).
    pub connect_wait: Duration,
    first_error: Arc<Mutex<Option<ClientError>>>,
}

pub fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Session {
    /// The session and the future that drives its connection. The caller polls
    /// that future alongside its own work (it never completes) and
    /// calls [`Session::wait_up`] for the first connection.
    pub fn new(
        opts: ClientOptions,
        policy: ReconnectPolicy,
        out: Out,
        format: Format,
        color: bool,
    ) -> (Session, impl std::future::Future<Output = ()>) {
        let wanted = Arc::new(Mutex::new(Wanted::default()));
        let (conn_tx, conn_rx) = watch::channel(Conn::Connecting);
        let (events_tx, events_rx) = watch::channel(0u64);
        let url = opts.endpoint.to_string();
        let connect_wait = opts.connect_timeout + policy.max;
        let first_error = Arc::new(Mutex::new(None));
        let driver = {
            let wanted = wanted.clone();
            let out = out.clone();
            let url = url.clone();
            let first_error = first_error.clone();
            async move {
                let result = drive(
                    opts,
                    policy,
                    wanted,
                    out.clone(),
                    format,
                    color,
                    &conn_tx,
                    events_tx,
                    url,
                )
                .await;
                let reason = match result {
                    Ok(()) => "closed".to_string(),
                    Err(e) => {
                        let reason = e.to_string();
                        if matches!(*conn_tx.borrow(), Conn::Connecting) {
                            *lock(&first_error) = Some(e);
                        } else {
                            out.note(&format!("connection ended: {reason}"));
                        }
                        reason
                    }
                };
                conn_tx.send_replace(Conn::Ended(reason));
                std::future::pending::<()>().await
            }
        };
        let session = Session {
            wanted,
            conn: conn_rx,
            events: events_rx,
            out,
            url,
            format,
            connect_wait,
            first_error,
        };
        (session, driver)
    }

    /// Waits for the first connection; its failure is the session's.
    pub async fn wait_up(&self) -> Result<(), ClientError> {
        let mut rx = self.conn.clone();
        let up = rx
            .wait_for(|c| matches!(c, Conn::Up(_) | Conn::Ended(_)))
            .await
            .map(|c| matches!(*c, Conn::Up(_)))
            .unwrap_or(false);
        if up {
            return Ok(());
        }
        Err(lock(&self.first_error)
            .take()
            .unwrap_or_else(|| ClientError::ConnectionLost("the session ended".into())))
    }

    /// The live client, waiting for a reconnect in progress.
    pub async fn client(&self) -> Result<Client, ClientError> {
        let mut rx = self.conn.clone();
        let got = tokio::time::timeout(
            self.connect_wait,
            rx.wait_for(|c| matches!(c, Conn::Up(_) | Conn::Ended(_))),
        )
        .await;
        match got {
            Ok(Ok(c)) => match &*c {
                Conn::Up(client) => Ok(client.clone()),
                Conn::Ended(reason) => Err(ClientError::ConnectionLost(reason.clone())),
                _ => Err(ClientError::ConnectionLost("not connected".into())),
            },
            Ok(Err(_)) => Err(ClientError::ConnectionLost("the session ended".into())),
            Err(_) => Err(ClientError::ConnectionLost(format!(
                "not connected: still {} after {}",
                self.conn.borrow().label(),
                humantime::format_duration(self.connect_wait)
            ))),
        }
    }

    pub fn format(&self) -> Format {
        lock(&self.wanted).format.unwrap_or(self.format)
    }

    /// True once the session task has given up.
    pub fn ended(&self) -> Option<String> {
        match &*self.conn.borrow() {
            Conn::Ended(r) => Some(r.clone()),
            _ => None,
        }
    }

    pub async fn close(&self) {
        let live = match &*self.conn.borrow() {
            Conn::Up(c) => Some(c.clone()),
            _ => None,
        };
        if let Some(client) = live {
            let _ = tokio::time::timeout(Duration::from_secs(2), client.disconnect("")).await;
        }
    }
}

/// Subscribes and observes what the session wants, on a fresh connection.
async fn replay(client: &Client, wanted: &Mutex<Wanted>) -> Result<(), ClientError> {
    let (topics, subtopics, observed) = {
        let w = lock(wanted);
        (
            w.subs.keys().cloned().collect::<Vec<_>>(),
            w.subtopics.iter().cloned().collect::<Vec<_>>(),
            w.observed.iter().cloned().collect::<Vec<_>>(),
        )
    };
    for topic in &topics {
        client.subscribe_to_events(topic).await?;
    }
    for name in &subtopics {
        client.createsub(name).await?;
    }
    for target in &observed {
        observe(client, target, true).await?;
    }
    client.flush().await
}

/// Observes (or stops observing) a topic name or an ETID.
pub async fn observe(client: &Client, target: &str, on: bool) -> Result<u32, ClientError> {
    let tid = match target.parse::<u32>() {
        Ok(etid) => etid,
        Err(_) => client.create(target).await?,
    };
    if on {
        client.observe(tid).await?;
    } else {
        client.unobserve(tid).await?;
    }
    Ok(tid)
}

#[allow(clippy::too_many_arguments)]
async fn drive(
    opts: ClientOptions,
    policy: ReconnectPolicy,
    wanted: Arc<Mutex<Wanted>>,
    out: Out,
    format: Format,
    color: bool,
    conn_tx: &watch::Sender<Conn>,
    events_tx: watch::Sender<u64>,
    url: String,
) -> Result<(), ClientError> {
    let writer = OutWriter {
        buf: Vec::new(),
        out: out.clone(),
    };
    let mut printer = Printer::new(writer, format, DataType::Auto, color);
    let mut session = client::Session::new(opts, policy);
    loop {
        let step = session.poll().await?;
        printer.format = lock(&wanted).format.unwrap_or(format);
        match step {
            Step::Connecting { .. } => {}
            Step::Connected { client, reconnect } => {
                if let Err(e) = replay(&client, &wanted).await {
                    session.setup_failed(e).await?;
                    continue;
                }
                let etid = client.etid();
                lock(&wanted).hidden.clear();
                conn_tx.send_replace(Conn::Up(client));
                printer.own_etid = etid;
                if reconnect {
                    let mut w = lock(&wanted);
                    w.reconnects += 1;
                    let mut again: Vec<String> = w.subs.keys().cloned().collect();
                    again.extend(w.observed.iter().map(|o| format!("observe {o}")));
                    let again = if again.is_empty() {
                        String::new()
                    } else {
                        format!("; subscribed again: {}", again.join(", "))
                    };
                    out.note(&format!("reconnected to {url}: new ETID {etid}{again}"));
                } else {
                    out.note(&format!("connected to {url} as ETID {etid}"));
                }
            }
            Step::Event(Event::Message(m)) => {
                let shown = {
                    let w = lock(&wanted);
                    let name = m.topic.as_deref().unwrap_or("");
                    match w.subs.get(name) {
                        Some(filter) => {
                            filter.is_empty()
                                || m.subtopic
                                    .as_deref()
                                    .is_some_and(|s| filter.iter().any(|f| f == s))
                        }
                        // Not subscribed (any more): a late reply, or a
                        // message in flight when `unsub` ran.
                        None => false,
                    }
                };
                if shown {
                    let _ = printer.message(&m).and_then(|_| printer.flush());
                    events_tx.send_modify(|n| *n += 1);
                }
            }
            Step::Event(Event::Change {
                tid,
                name,
                count,
                peer_gone,
            }) => {
                // Ended by `unobserve` without telling the broker.
                if lock(&wanted).hidden.values().any(|t| *t == tid) {
                    continue;
                }
                let _ = printer
                    .change(tid, name.as_deref(), count, peer_gone)
                    .and_then(|_| printer.flush());
                events_tx.send_modify(|n| *n += 1);
            }
            Step::Event(_) => {}
            Step::Reconnecting {
                error,
                delay,
                attempt,
            } => {
                let error = error.to_string();
                conn_tx.send_replace(Conn::Down {
                    reason: error.clone(),
                    attempt,
                });
                out.note(&format!(
                    "connection lost ({error}); reconnecting in {:.1}s (attempt {attempt})",
                    delay.as_secs_f64()
                ));
            }
            Step::Closed => return Ok(()),
        }
    }
}

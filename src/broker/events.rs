//! What the embedded broker decided, as one [`Record`] per decision: a
//! [`schema::Event`] (the public trace schema, names resolved by the router),
//! the message bytes it is about, the time, and the few facts only the
//! broker's own log wants ([`Local`]).
//!
//! The router builds each record once, only when somebody listens: attached
//! tracers get the event (never one of the broker-local kinds, see
//! [`Kind::is_local`]), and `Broker::events`
//! subscribers (`smqctl broker -v`, `demo`, tests) get the record itself, the
//! same `Arc` a tracer's queue holds.
//!
//! May import: `trace::schema`. No sockets, no locks.

use std::sync::Arc;
use std::time::SystemTime;

use bytes::Bytes;
use tokio::sync::broadcast;

#[cfg(doc)]
use crate::trace::schema::Kind;
use crate::trace::schema::{self, Event, Transport};

/// Records a slow `Broker::events` subscriber may
/// lag behind before it misses some (it is told how many).
const CAPACITY: usize = 4096;

/// How the `reason` of a `deny` of a Connect starts (the cause follows).
pub const REFUSED: &str = "connection refused: ";

/// One broker decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// When it was decided.
    pub at: SystemTime,
    /// What, in the trace schema; `ts` and the payload preview are left empty
    /// (each tracer's pump renders them with its own preview size).
    pub event: Event,
    /// The message bytes of a publish or drop (a reference count, not a copy).
    pub payload: Option<Bytes>,
    /// What only the broker's log shows.
    pub local: Option<Local>,
}

/// Broker-local facts that are not part of the trace schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Local {
    /// On [`Kind::Connect`]: how the client is connected.
    Link { transport: Transport, tls: bool },
    /// On [`Kind::Deny`] of a Connect: the Connack code sent.
    Connack(u8),
    /// On [`Kind::Deny`] of a topic (`permittop`): a Subscribe, or a Create.
    Permittop { subscribe: bool },
    /// On a receiver miss ([`Kind::Drop`], `Event::is_miss`): the receiver
    /// whose queue was full, and how many messages it missed so far.
    Missed { etid: u32, so_far: u64 },
}

impl Record {
    pub fn new(event: Event, payload: Option<Bytes>, local: Option<Local>) -> Record {
        Record {
            at: SystemTime::now(),
            event,
            payload,
            local,
        }
    }

    /// The event as a tracer receives it: stamped with its time, with a
    /// preview of at most `preview` payload bytes.
    pub fn into_event(self: Arc<Self>, preview: usize) -> Event {
        let rec = Arc::unwrap_or_clone(self);
        let mut ev = rec.event;
        if ev.ts.is_empty() {
            ev.ts = schema::ts_of(rec.at);
        }
        match rec.payload {
            Some(data) => ev.with_payload(&data, preview),
            None => ev,
        }
    }
}

/// The broadcast behind `Broker::events`; sending
/// costs nothing while nobody listens.
#[derive(Clone)]
pub(crate) struct Events {
    tx: broadcast::Sender<Arc<Record>>,
}

impl Events {
    pub(crate) fn new() -> Self {
        Events {
            tx: broadcast::channel(CAPACITY).0,
        }
    }

    /// Whether somebody listens.
    pub(crate) fn enabled(&self) -> bool {
        self.tx.receiver_count() > 0
    }

    pub(crate) fn subscribe(&self) -> broadcast::Receiver<Arc<Record>> {
        self.tx.subscribe()
    }

    pub(crate) fn send(&self, rec: Arc<Record>) {
        let _ = self.tx.send(rec);
    }

    /// A broker-local event (never for tracers), built only if somebody listens.
    pub(crate) fn local(&self, build: impl FnOnce() -> Event) {
        if self.enabled() {
            let event = build();
            debug_assert!(event.kind.is_local());
            self.send(Arc::new(Record::new(event, None, None)));
        }
    }
}

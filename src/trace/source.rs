//! Trace sources: what a consumer (`smqctl trace`, `smqctl tui`) receives, in
//! order, from wherever the events come from — a broker-side tracer reached over
//! SMQ, the client-side fallback when no tracer answers, or a recorded NDJSON file.
//!
//! A source task sends [`Update`]s over a bounded channel; the consumer never
//! talks to the network itself, which keeps the TUI's drawing a pure function of
//! its state and lets tests feed it fixed updates.
//!
//! May import: `trace::schema`.

use std::time::Duration;

use super::schema::Event;

/// One thing a source reports.
#[derive(Debug, Clone, PartialEq)]
pub enum Update {
    /// The connection or attachment changed.
    Status(Status),
    /// A trace event (including the [`super::schema::Kind::Snapshot`] sent on attach).
    Event(Box<Event>),
}

/// Where a source stands.
#[derive(Debug, Clone, PartialEq)]
pub enum Status {
    /// Connecting (or reconnecting) to `url`.
    Connecting { url: String },
    /// Attached to a broker-side tracer; the session's own ETID is `etid`.
    Attached { etid: u32 },
    /// No broker-side tracer answered (or it refused): only the client-side
    /// messages of `topics` (and direct messages) are shown. `reason` says why.
    Degraded {
        etid: u32,
        reason: String,
        topics: Vec<String>,
    },
    /// The connection dropped; the next attempt starts after `delay`.
    Reconnecting {
        reason: String,
        attempt: u32,
        delay: Duration,
    },
    /// The source is finished (a file ended, the user asked, or a fatal error
    /// when `error` is set); no more updates follow.
    Ended { reason: String, error: bool },
}

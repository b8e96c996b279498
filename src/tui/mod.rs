//! The terminal UI engine behind `smqctl tui` (and `demo`'s screen): the state
//! as plain data, key handling, and drawing as a pure function of the state
//! (ARCHITECTURE.md habits 8 and 15). No terminal I/O and no flags here:
//! `commands::tui` parses the flags, sets up and restores the terminal, feeds
//! [`trace::source::Update`](crate::trace::source::Update)s in and runs the loop.
//!
//! - [`app`]: the state (ring of events, filter, totals, rates, topics, mode).
//! - [`input`]: keys → state changes and an [`input::Action`] for the loop.
//! - [`ui`]: the screen layout; dispatches to the views and the bars.
//! - [`bars`]: header, filter bar and status line; [`help`]: the keys overlay.
//! - [`events`] (with [`detail`] and its [`diff`]), [`stats`], [`topics`],
//!   [`findings`], [`senders`], [`plot`]: the six views.
//! - [`history`] (per-stream, per-sender summaries) and [`fields`] (JSON
//!   paths, the plot's series, the field picker): plain logic the state and
//!   the views share.
//! - [`theme`]: styles and small formatting helpers, the leaf every view uses.
//! - [`act`]: what `r`/`R`/`o`/`y` ask the command to do (publish, observe,
//!   copy a `smqctl pub` line); [`editor`]: the reply / re-publish editor.
//! - [`spill`]: `--spill`, events that left the ring paged back from a store.
//!
//! Imports inside the folder point one way: ui → bars, help, editor, views;
//! events → detail → diff; every drawing file → theme, app; app → act,
//! editor, spill, history, fields; fields → history; input → act, editor;
//! editor → act, theme; act, spill, history and theme → nothing of the
//! folder.
//!
//! May import: `trace` (schema, filter, source), `analyze` (the findings
//! engine), `output` (escaping, hex dumps), `text`, ratatui, crossterm key types. Never `commands`, `cli` or
//! `args`: exit codes are the command's business (see [`input::Action`]).

pub mod act;
pub mod app;
pub mod bars;
pub mod detail;
pub mod diff;
pub mod editor;
pub mod events;
pub mod fields;
pub mod findings;
pub mod help;
pub mod history;
pub mod input;
pub mod plot;
pub mod senders;
pub mod spill;
pub mod stats;
pub mod theme;
pub mod topics;
pub mod ui;

#[cfg(test)]
mod snapshot_tests;

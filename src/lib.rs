//! smqctl: a toolkit for debugging and testing SMQ publish/subscribe systems
//! (Real Time Logic's Barracuda App Server and Mako Server).
//!
//! Data flows one way: bytes → [`protocol`] packets → [`transport`] connections →
//! [`client`] → an engine → [`commands`] → terminal. The [`broker`] is a sibling
//! of the client: both stand on the protocol floor and never import each other.
//! An import only ever points down this list (each module's `//!` says what it
//! may import); `cli` is imported by `main.rs` alone.
//!
//! Leaves, usable from every floor:
//! - [`text`]: durations, time and payload-preview helpers (no I/O).
//! - [`template`]: `{{field}}` templates (serve, broker handlers, fleet UIDs).
//! - [`latency`]: the one latency summary (HDR histogram percentiles) and the
//!   one rounding of times in JSON output (microseconds).
//! - [`shutdown`]: the one SIGINT/SIGTERM signal every command stops on.
//! - [`assert`](mod@assert): `--assert` gates on a run's JSON summary (exit 8).
//! - [`report_html`]: the self-contained HTML report of `--html FILE` (inline
//!   SVG charts, escaped text; no I/O).
//!
//! Floors, from the ground up:
//! - [`protocol`]: packet encode/decode, raw framing and the RPC conventions
//!   ([`protocol::rpc`]); no I/O.
//! - [`transport`]: WebSocket and raw (HTTP-bootstrapped) byte streams, TLS.
//! - [`client`]: the async SMQ client (handshake, caches, keepalive), the one
//!   pollable reconnecting [`client::Session`], and the RPC caller ([`client::rpc`]).
//! - [`trace`]: the trace event schema (one for every source: the embedded
//!   broker, the Mako Lua hook, files), attach over SMQ, NDJSON files, filters.
//! - [`broker`]: the embedded broker that behaves like Mako's `smq.hub`: router,
//!   per-client outboxes, sessions, tracers, and the request/RPC handler rules
//!   ([`broker::handlers`]).
//! - Engines (plain config in, plain results out; never clap types):
//!   [`fleet`] the simulated devices ([`fleet::run_fleet`] is the in-process
//!   entry point), [`bench`](mod@bench) the measurements of `smqctl bench`,
//!   [`analyze`] the rules over trace events (`smqctl analyze`, the TUI's Findings),
//!   [`check`] the health check and conformance probe of `smqctl check`.
//! - [`metrics`]: `--metrics-listen`: the `/metrics` endpoint (OpenMetrics
//!   text) and its sources, which read the engines' and the broker's live
//!   counters at each scrape.
//! - [`output`]: payload rendering shared by every command (pretty, json, raw,
//!   hex; colour only on a terminal); [`output::findings`]: how an analyzer
//!   finding and summary read.
//! - [`tui`]: the terminal UI engine: state as plain data, key handling, drawing
//!   as a pure function of the state (no terminal I/O; `commands::tui` runs it).
//! - [`args`]: flag groups shared by several commands (GlobalArgs, ConnectArgs →
//!   ClientOptions, AttachArgs for trace and tui, the request and topic groups).
//! - [`record`]: an engine beside `fleet`: the `.smqrec` recordings of
//!   `smqctl record` and `smqctl replay` (schema, writer with rotation, reader,
//!   recorder, replay plan and run with `--check`).
//! - [`shell`]: the `smqctl shell` engine: its connection and replay after a
//!   reconnect, line grammar, completion and line editor (`commands::shell`
//!   runs the prompt and script loops and executes the lines).
//! - [`profile`]: connection profiles from the config file; fills one command's
//!   ConnectArgs, never sees the command tree.
//! - [`exit`]: the documented exit codes, input errors, error text and hints.
//! - [`commands`]: one file per subcommand: its flags, examples, run() and
//!   printing (`demo` assembles broker, fleet, operator and TUI).
//! - [`cli`]: the clap tree only (Cli + Command, each variant wraps a command's
//!   Args).
//! - `fuzzing` (hidden): the fuzz targets' bodies, shared with the corpus replay test.

// `println!`/`eprintln!` panic when their stream is a closed pipe
// (`smqctl sub t 2>&1 | head -1`). These shadow them in every module of the
// crate (textual scope: defined before the modules): a line to a closed
// stream is dropped, and the command goes on to its own exit code (a closed
// stdout also shows up where the command writes through `output`).
macro_rules! println {
    () => {{ let _ = std::io::Write::write_all(&mut std::io::stdout(), b"\n"); }};
    ($($arg:tt)*) => {{ let _ = std::io::Write::write_fmt(&mut std::io::stdout(), format_args!("{}\n", format_args!($($arg)*))); }};
}
#[allow(unused_macros)]
macro_rules! print {
    ($($arg:tt)*) => {{ let _ = std::io::Write::write_fmt(&mut std::io::stdout(), format_args!($($arg)*)); }};
}
macro_rules! eprintln {
    () => {{ let _ = std::io::Write::write_all(&mut std::io::stderr(), b"\n"); }};
    ($($arg:tt)*) => {{ let _ = std::io::Write::write_fmt(&mut std::io::stderr(), format_args!("{}\n", format_args!($($arg)*))); }};
}
#[allow(unused_macros)]
macro_rules! eprint {
    ($($arg:tt)*) => {{ let _ = std::io::Write::write_fmt(&mut std::io::stderr(), format_args!($($arg)*)); }};
}

pub mod analyze;
pub mod args;
pub mod assert;
pub mod bench;
pub mod broker;
pub mod check;
pub mod cli;
pub mod client;
pub mod commands;
pub mod exit;
pub mod fleet;
#[doc(hidden)]
pub mod fuzzing;
pub mod latency;
pub mod metrics;
pub mod output;
pub mod profile;
pub mod protocol;
pub mod record;
pub mod report_html;
pub mod shell;
pub mod shutdown;
pub mod template;
pub mod text;
pub mod trace;
pub mod transport;
pub mod tui;

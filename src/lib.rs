//! smqctl: a toolkit for debugging and testing SMQ publish/subscribe systems
//! (Real Time Logic's Barracuda App Server and Mako Server).
//!
//! Data flows one way: bytes → [`protocol`] packets → [`transport`] connections →
//! [`client`] → [`commands`] → terminal. The [`broker`] is a sibling of the client:
//! both stand on the protocol floor and never import each other.
//!
//! - [`protocol`]: packet encode/decode and raw framing; no I/O.
//! - [`transport`]: WebSocket and raw (HTTP-bootstrapped) byte streams, TLS.
//! - [`client`]: the async SMQ client (handshake, caches, keepalive, reconnect).
//! - [`broker`]: the embedded broker that behaves like Mako's `smq.hub`.
//! - [`trace`]: trace events (one wire schema for the embedded broker and the
//!   Mako Lua hook), their sources (attach over SMQ, NDJSON files) and filters.
//! - [`tui`]: the terminal UI engine: state as plain data, key handling, drawing
//!   as a pure function of the state (no terminal I/O; `commands::tui` runs it).
//! - [`shell`]: the `smqctl shell` engine: its connection and replay after a
//!   reconnect, line grammar, completion and line editor (`commands::shell`
//!   runs the prompt and script loops and executes the lines).
//! - [`bench`](mod@bench): the `smqctl bench` measurement engine (plain spec in, figures out).
//! - [`commands`]: one module per subcommand (`simulate/` is a folder; `demo`
//!   assembles broker, fleet, operator and TUI).
//! - [`output`]: payload rendering shared by every command.
//! - [`latency`]: the one latency summary (HDR histogram percentiles).
//! - [`text`]: time and payload-preview helpers (no I/O).
//! - [`template`]: `{{field}}` reply templates (serve, broker handlers).
//! - [`cli`]: the clap definitions.
//! - [`profile`]: connection profiles from the config file, and their precedence.
//! - [`shutdown`]: the one SIGINT/SIGTERM signal every command stops on.
//! - `fuzzing` (hidden): the fuzz targets' bodies, shared with the corpus replay test.

pub mod bench;
pub mod broker;
pub mod cli;
pub mod client;
pub mod commands;
#[doc(hidden)]
pub mod fuzzing;
pub mod latency;
pub mod output;
pub mod profile;
pub mod protocol;
pub mod shell;
pub mod shutdown;
pub mod template;
pub mod text;
pub mod trace;
pub mod transport;
pub mod tui;

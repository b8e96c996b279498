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
//! - [`commands`]: one module per subcommand (`simulate/`, `shell/`, `tui/` are
//!   folders; `demo` assembles broker, fleet, operator and TUI).
//! - [`output`]: payload rendering shared by every command.
//! - [`text`]: time, payload-preview and duration helpers (no I/O).
//! - [`template`]: `{{field}}` reply templates (serve, broker handlers).
//! - [`args`]: flag groups shared by several commands (GlobalArgs, ConnectArgs,
//!   AttachArgs, …), one definition each.
//! - [`exit`]: the documented exit codes, input errors, how errors print.
//! - [`cli`]: the clap tree (Cli + Command); only the binary uses it.
//! - [`profile`]: connection profiles from the config file, and their precedence.
//! - [`shutdown`]: the one SIGINT/SIGTERM signal every command stops on.
//! - `fuzzing` (hidden): the fuzz targets' bodies, shared with the corpus replay test.

pub mod args;
pub mod broker;
pub mod cli;
pub mod client;
pub mod commands;
pub mod exit;
#[doc(hidden)]
pub mod fuzzing;
pub mod output;
pub mod profile;
pub mod protocol;
pub mod shutdown;
pub mod template;
pub mod text;
pub mod trace;
pub mod transport;

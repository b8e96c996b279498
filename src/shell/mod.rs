//! The engine behind `smqctl shell`: everything but the prompt and the
//! command execution, which stay in `commands::shell`.
//!
//! - [`session`]: the one long-lived connection, its reconnects and the replay
//!   of what the session subscribed and observed; the [`session::Out`] sink.
//! - [`line`](mod@line): the line grammar (one clap definition flattening the one-shot
//!   commands' flag groups) and `help`.
//! - [`complete`]: tab completion from that grammar and the names the session
//!   has seen.
//! - [`editor`]: the line editor on its own thread, its history, the terminal
//!   mode saved around it.
//! - [`prompt`]: the prompt that shows the connection state as it changes.
//!
//! Imports inside the folder point one way: editor → complete, prompt, session;
//! complete → line, session; prompt → session; line and session import nothing
//! of the folder.
//!
//! May import: `client`, `output`, and the shared flag groups (`SubTopics`,
//! `PubMessage`, `RpcRequest`) with their value parsers; rustyline, clap, nix.
//! Never `commands`: what a line does is the command's business.

pub mod complete;
pub mod editor;
pub mod line;
pub mod prompt;
pub mod session;

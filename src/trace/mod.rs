//! Trace events: one schema for everything smqctl can observe about an SMQ broker.
//!
//! [`schema::Event`] is the one vocabulary, with names resolved: tracers
//! receive it from either broker, files hold it, and the embedded broker's own
//! `-v` log reads it too (with a few broker-local kinds that never leave that
//! broker, see [`schema::Kind::is_local`]).
//!
//! The embedded broker emits events at its hooks (the places where Mako's
//! `smq.hub` calls `onconnect`, `onpublish`, `ondrop`, `onclose`, ...); the Mako
//! hook ([`hook`]) does the same in Lua. [`wireshark`] is the other Lua text
//! shipped: a dissector that reads SMQ in packet captures. Events reach consumers through
//! [`attach`] (over SMQ) or [`file`] (NDJSON), and are picked with [`filter`].
//! Events never carry credentials: a broker reports who was refused and why,
//! not what they sent as a secret.
//!
//! May import: `protocol` (for byte rendering). Nothing here does I/O except
//! [`attach`], the SMQ source, which also imports `client`, and [`file`].

pub mod attach;
pub mod file;
pub mod filter;
pub mod hook;
pub mod schema;
pub mod source;
pub mod wireshark;

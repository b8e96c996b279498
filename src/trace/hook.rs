//! The Mako Server / BAS trace hook (`hook.lua`, embedded at build time) and
//! the `.preload` lines that install it. `smqctl hook lua` writes these out;
//! the hook's behaviour is tested on an embedded Lua (tests/mako_hook.rs).
//!
//! Kept beside the schema it emits, so the Lua source and its Rust name live in
//! one folder. May import: nothing (plain text).

/// The Lua module, as shipped.
pub const LUA_HOOK: &str = include_str!("hook.lua");

/// The lines an app's `.preload` needs (printed by `--output`, shown in
/// `--help`, the same as the README's Mako hook section). Mako's `.preload`
/// does not look in the app's `.lua/` for modules until
/// `mako.createloader(io)` adds a loader for it: without that line the app
/// fails to load and its SMQ page answers 404.
pub const PRELOAD_LINES: &str = "\
mako.createloader(io)
local smq = require\"smqctl.trace\".create(op)   -- instead of require\"smq.hub\".create(op)";

//! `smqctl hook lua`: writes out the broker-side trace hook for Mako Server /
//! BAS apps (src/trace/hook.lua, embedded in the binary), so a Mako broker
//! becomes a trace source for `smqctl trace` and `smqctl tui`.
//!
//! May import: `cli` helpers only; the hook itself is plain text.

use std::io::Write;
use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Subcommand;

use super::exit;

/// The Lua module, as shipped.
pub const LUA_HOOK: &str = include_str!("../trace/hook.lua");

const EXAMPLES: &str = "\
Examples:
  smqctl hook lua --output myapp/.lua/smqctl/trace.lua
  smqctl hook lua | less

Then, where the app creates its broker, replace
    local smq = require\"smq.hub\".create(op)
with
    local smq = require\"smqctl.trace\".create(op)
and restart the app. `smqctl trace --url http://HOST/your-smq-page.lsp` attaches
(from the broker's own host by default; see the README for `authorize`).";

#[derive(Debug, Subcommand)]
pub enum HookCommand {
    /// Write the Lua trace hook for Mako Server / BAS apps (smq.hub)
    #[command(after_long_help = EXAMPLES)]
    Lua {
        /// Write to this file instead of stdout
        #[arg(long, short, value_name = "FILE")]
        output: Option<PathBuf>,
    },
}

pub fn run(cmd: HookCommand) -> Result<u8> {
    match cmd {
        HookCommand::Lua { output: Some(path) } => {
            // The install path (`myapp/.lua/smqctl/trace.lua`) names a
            // directory the app does not have yet: make it.
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir)
                    .with_context(|| format!("cannot write {}", path.display()))?;
            }
            std::fs::write(&path, LUA_HOOK)
                .with_context(|| format!("cannot write {}", path.display()))?;
            eprintln!(
                "smqctl: wrote {} ({} bytes); load it with require and call .create(op) instead of smq.hub.create(op)",
                path.display(),
                LUA_HOOK.len()
            );
        }
        HookCommand::Lua { output: None } => {
            let mut out = std::io::stdout().lock();
            match out.write_all(LUA_HOOK.as_bytes()).and_then(|_| out.flush()) {
                Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
                    return Err(e).context("cannot write the hook to stdout");
                }
                _ => {}
            }
        }
    }
    Ok(exit::OK)
}

//! `smqctl hook lua`: writes out the broker-side trace hook for Mako Server /
//! BAS apps (`trace::hook`, embedded in the binary), so a Mako broker
//! becomes a trace source for `smqctl trace` and `smqctl tui`.
//!
//! May import: `exit` and `trace::hook` (the hook itself is plain text).

use std::io::Write;
use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Subcommand;

use crate::exit;
use crate::trace::hook::{LUA_HOOK, PRELOAD_LINES};

const EXAMPLES: &str = "\
Examples:
  smqctl hook lua --output myapp/.lua/smqctl/trace.lua
  smqctl hook lua | less

Then, in the app's .preload (where it creates its broker), let require find
the app's .lua/ modules and create the hub through the hook:

    mako.createloader(io)
    local smq = require\"smqctl.trace\".create(op)   -- instead of require\"smq.hub\".create(op)

Without mako.createloader(io) Mako cannot load the module from .preload: the
app does not load and its SMQ page answers 404. Restart the app; then
`smqctl trace --url http://HOST/your-smq-page.lsp` attaches (from the broker's
own host by default; see the README's Mako hook section for `authorize` and for
what the hook cannot see).";

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
            let indented: Vec<String> = PRELOAD_LINES.lines().map(|l| format!("    {l}")).collect();
            eprintln!(
                "smqctl: wrote {} ({} bytes). Add to the app's .preload, where it creates its broker:\n\n{}\n\n(the first line lets require find modules in the app's .lua/; README: Mako hook)",
                path.display(),
                LUA_HOOK.len(),
                indented.join("\n")
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn help_shows_the_same_preload_lines_output_prints() {
        for line in PRELOAD_LINES.lines() {
            assert!(EXAMPLES.contains(&format!("    {line}\n")), "{line}");
        }
        assert!(PRELOAD_LINES.starts_with("mako.createloader(io)\n"));
    }
}

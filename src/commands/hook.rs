//! `smqctl hook lua`: writes out the broker-side trace hook for Mako Server /
//! BAS apps (`trace::hook`, embedded in the binary), so a Mako broker
//! becomes a trace source for `smqctl trace` and `smqctl tui`.
//! `smqctl hook wireshark`: writes out the SMQ dissector for Wireshark and
//! tshark (`trace::wireshark`, also Lua text in the binary).
//!
//! May import: `exit`, `trace::hook` and `trace::wireshark` (both plain text).

use std::io::Write;
use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Subcommand;

use crate::exit;
use crate::trace::hook::{LUA_HOOK, PRELOAD_LINES};
use crate::trace::wireshark;

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

const WIRESHARK_EXAMPLES: &str = "\
Examples:
  smqctl hook wireshark --output ~/.local/lib/wireshark/plugins/smq.lua
  smqctl hook wireshark --port 8080 --output smq.lua
  tshark -X lua_script:smq.lua -r capture.pcap -Y smq

Wireshark loads plugins from ~/.local/lib/wireshark/plugins/ at start (Help >
About Wireshark > Plugins lists smq.lua). The dissector finds SMQ by itself on
TCP streams that start with the raw bootstrap (a request with a SimpleMQ
header) and in WebSocket binary messages after an upgrade Wireshark saw. For a
broker on a port Wireshark gives to another protocol (80, 8080) or a capture
that starts mid-stream, name the port: --port here, or Decode As > TCP port >
SMQ. One line per SMQ packet:

    tshark -X lua_script:smq.lua -r capture.pcap -Y smq.summary -T fields \\
        -e smq.summary -E aggregator=$'\\n'

Filter fields: smq.type, smq.tid, smq.ptid, smq.subtid, smq.topic,
smq.subtopic, smq.uid, smq.payload, smq.malformed (README: \"Wireshark and
tshark\").";

#[derive(Debug, Subcommand)]
pub enum HookCommand {
    /// Write the Lua trace hook for Mako Server / BAS apps (smq.hub)
    #[command(after_long_help = EXAMPLES)]
    Lua {
        /// Write to this file instead of stdout
        #[arg(long, short, value_name = "FILE")]
        output: Option<PathBuf>,
    },
    /// Write the SMQ dissector for Wireshark and tshark (Lua)
    #[command(after_long_help = WIRESHARK_EXAMPLES)]
    Wireshark {
        /// Write to this file instead of stdout
        #[arg(long, short, value_name = "FILE")]
        output: Option<PathBuf>,
        /// Also decode this TCP port as SMQ (raw or WebSocket), e.g. a broker on 80
        #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
        port: Option<u16>,
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
        HookCommand::Lua { output: None } => write_stdout(LUA_HOOK, "the hook")?,
        HookCommand::Wireshark { output, port } => {
            let lua = wireshark::dissector(port);
            match output {
                Some(path) => {
                    // `~/.local/lib/wireshark/plugins/` often does not exist yet.
                    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                        std::fs::create_dir_all(dir)
                            .with_context(|| format!("cannot write {}", path.display()))?;
                    }
                    std::fs::write(&path, &lua)
                        .with_context(|| format!("cannot write {}", path.display()))?;
                    let port_note = match port {
                        Some(p) => format!(", TCP port {p} decoded as SMQ"),
                        None => String::new(),
                    };
                    eprintln!(
                        "smqctl: wrote {} ({} bytes{port_note}). Wireshark loads it from \
                         ~/.local/lib/wireshark/plugins/ at start; for one tshark run: \
                         tshark -X lua_script:{} -r CAPTURE -Y smq",
                        path.display(),
                        lua.len(),
                        path.display()
                    );
                }
                None => write_stdout(&lua, "the dissector")?,
            }
        }
    }
    Ok(exit::OK)
}

/// Writes `text` to stdout; a closed pipe (`| head`) is not an error.
fn write_stdout(text: &str, what: &str) -> Result<()> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|_| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(e).with_context(|| format!("cannot write {what} to stdout"))
        }
        _ => Ok(()),
    }
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

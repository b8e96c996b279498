//! `smqctl completions` and `smqctl man`: generate what lives in completions/ and
//! man/ from the clap definitions, so they can never drift from the real flags
//! (a test compares the committed files with fresh output). The tree comes in
//! as a `clap::Command` from main.rs.
//!
//! May import: `exit`, clap_complete, clap_mangen. Never `cli`.

use std::io::Write;
use std::path::Path;

use anyhow::{Context, Result};
use clap_complete::Shell;

use crate::exit;

pub fn completions(mut cmd: clap::Command, shell: Shell, out: &mut dyn Write) -> Result<u8> {
    clap_complete::generate(shell, &mut cmd, "smqctl", out);
    Ok(exit::OK)
}

/// Every man page: `smqctl.1`, `smqctl-<sub>.1` and one for every nested
/// subcommand (`smqctl-bench-pubsub.1`), as (file name, contents). Each page
/// lists its subcommands as `smqctl-<sub>-<name>(1)`, so every page it names
/// exists. clap's `help` subcommands get none: they are left out of the pages.
pub fn man_pages(cmd: clap::Command) -> Result<Vec<(String, Vec<u8>)>> {
    let mut pages = Vec::new();
    // Built, so the global options (-v, --color...) are on every page they apply to.
    let mut cmd = without_help_subcommands(cmd);
    cmd.build();
    render_tree(cmd.name("smqctl"), &mut pages)?;
    Ok(pages)
}

fn without_help_subcommands(cmd: clap::Command) -> clap::Command {
    let names: Vec<String> = cmd
        .get_subcommands()
        .map(|s| s.get_name().to_string())
        .collect();
    let mut cmd = cmd.disable_help_subcommand(true);
    for name in names {
        cmd = cmd.mut_subcommand(name, without_help_subcommands);
    }
    cmd
}

/// Renders `cmd` (already named as its page) and, below it, its subcommands.
fn render_tree(cmd: clap::Command, pages: &mut Vec<(String, Vec<u8>)>) -> Result<()> {
    let name = cmd.get_name().to_string();
    let mut buf = Vec::new();
    clap_mangen::Man::new(cmd.clone()).render(&mut buf)?;
    pages.push((format!("{name}.1"), buf));
    for sub in cmd.get_subcommands() {
        let page = format!("{name}-{}", sub.get_name());
        render_tree(sub.clone().name(page), pages)?;
    }
    Ok(())
}

pub fn man(cmd: clap::Command, dir: Option<&Path>, out: &mut dyn Write) -> Result<u8> {
    let pages = man_pages(cmd)?;
    match dir {
        None => {
            out.write_all(&pages[0].1)?;
        }
        Some(dir) => {
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
            for (name, body) in pages {
                let path = dir.join(&name);
                std::fs::write(&path, body)
                    .with_context(|| format!("writing {}", path.display()))?;
            }
        }
    }
    Ok(exit::OK)
}

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

/// Every man page: `smqctl.1` and `smqctl-<sub>.1`, as (file name, contents).
pub fn man_pages(cmd: clap::Command) -> Result<Vec<(String, Vec<u8>)>> {
    let mut pages = Vec::new();
    let mut buf = Vec::new();
    clap_mangen::Man::new(cmd.clone()).render(&mut buf)?;
    pages.push(("smqctl.1".to_string(), buf));
    for sub in cmd.get_subcommands() {
        let name = format!("smqctl-{}", sub.get_name());
        let sub = sub.clone().name(name.clone());
        let mut buf = Vec::new();
        clap_mangen::Man::new(sub).render(&mut buf)?;
        pages.push((format!("{name}.1"), buf));
    }
    Ok(pages)
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

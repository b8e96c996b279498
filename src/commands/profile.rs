//! `smqctl profile list|show|add|remove`: manage the connection profiles in
//! the config file (see [`crate::profile`]). `show` prints where credentials
//! come from, never what they are.
//!
//! May import: `profile`, `args`, `exit`, `output` (Format), `transport` (URLs).

use std::path::PathBuf;

use anyhow::Result;
use clap::{Args, Subcommand};

use crate::exit::{self, input_error};
use crate::output::Format;
use crate::profile::{self, Profile};

pub const PROFILE_EXAMPLES: &str = "\
Examples:
  smqctl profile add dev --url ws://127.0.0.1:9357/smq/
  smqctl profile add prod --url wss://mako.example/smq.lsp --credentials-env PROD_SECRET \\
      --cacert ca.pem --uid 'ops-{{user}}-{{random}}' --format pretty
  smqctl profile list
  smqctl profile show prod          # credentials shown as their source, never the value
  smqctl --profile prod sub Alerts  # or SMQCTL_PROFILE=prod
  smqctl profile remove dev

The file is $XDG_CONFIG_HOME/smqctl/config.toml (~/.config/smqctl/config.toml),
or the one SMQCTL_CONFIG names. Settings given as flags or SMQCTL_* variables win
over the profile; the profile wins over built-in defaults.";

#[derive(Debug, Subcommand)]
pub enum ProfileCommand {
    /// List the profiles: name and URL
    List,
    /// Show one profile's settings (credentials as their source only)
    Show { name: String },
    /// Add a profile (or replace one with --force)
    Add(Box<AddArgs>),
    /// Remove a profile
    Remove { name: String },
}

#[derive(Debug, Args)]
pub struct AddArgs {
    /// Profile name
    pub name: String,
    /// Broker URL
    #[arg(long, value_parser = check_url)]
    pub url: Option<String>,
    /// UID template: {{user}}, {{host}}, {{pid}} and {{random}} are filled in
    #[arg(long)]
    pub uid: Option<String>,
    /// Info text sent in Connect
    #[arg(long)]
    pub info: Option<String>,
    /// Take the credentials from this environment variable when connecting
    #[arg(long, value_name = "VAR", conflicts_with = "credentials_cmd")]
    pub credentials_env: Option<String>,
    /// Compute the credentials with this shell command (as --credentials-cmd)
    #[arg(long, value_name = "CMD")]
    pub credentials_cmd: Option<String>,
    /// CA certificates (PEM) to trust
    #[arg(long, value_name = "FILE")]
    pub cacert: Option<PathBuf>,
    /// Client certificate (PEM); needs --key
    #[arg(long, value_name = "FILE", requires = "key")]
    pub cert: Option<PathBuf>,
    /// Private key of --cert
    #[arg(long, value_name = "FILE", requires = "cert")]
    pub key: Option<PathBuf>,
    /// Do not verify the broker's certificate
    #[arg(long)]
    pub insecure: bool,
    /// Default output format of sub, rpc, serve and shell
    #[arg(long, value_enum)]
    pub format: Option<Format>,
    /// Replace a profile of the same name
    #[arg(long)]
    pub force: bool,
}

/// Refuses a URL no command could connect to, when it is saved rather than later.
fn check_url(s: &str) -> Result<String, String> {
    crate::transport::Endpoint::parse(s)
        .map(|_| s.to_string())
        .map_err(|e| e.to_string())
}

/// Absolute paths, so the profile works from any directory.
fn absolute(p: Option<PathBuf>) -> Option<PathBuf> {
    p.map(|p| std::path::absolute(&p).unwrap_or(p))
}

pub fn run(cmd: ProfileCommand) -> Result<u8> {
    let path = profile::config_path()?;
    // `remove` must work on the profile that makes the file invalid.
    let mut file = if matches!(cmd, ProfileCommand::Remove { .. }) {
        profile::load_unchecked(&path)?
    } else {
        profile::load(&path)?
    };
    match cmd {
        ProfileCommand::List => {
            if file.profile.is_empty() {
                eprintln!(
                    "smqctl: no profiles in {}; add one with `smqctl profile add NAME --url URL`",
                    path.display()
                );
            }
            let width = file.profile.keys().map(|k| k.len()).max().unwrap_or(0);
            for (name, p) in &file.profile {
                println!("{name:<width$}  {}", p.url.as_deref().unwrap_or("-"));
            }
        }
        ProfileCommand::Show { name } => {
            let p = profile::find(&file, &name, &path)?;
            for (k, v) in profile::describe(&name, &p) {
                println!("{k:<12}{v}");
            }
        }
        ProfileCommand::Add(a) => {
            if file.profile.contains_key(&a.name) && !a.force {
                return Err(input_error(format!(
                    "profile '{}' exists; use --force to replace it",
                    a.name
                )));
            }
            let p = Profile {
                url: a.url,
                uid: a.uid,
                info: a.info,
                credentials_cmd: a.credentials_cmd,
                credentials_env: a.credentials_env,
                credentials: None,
                cacert: absolute(a.cacert),
                cert: absolute(a.cert),
                key: absolute(a.key),
                insecure: a.insecure.then_some(true),
                format: a.format.map(|f| format!("{f:?}").to_lowercase()),
                analyze: None,
            };
            p.validate(&a.name)?;
            file.profile.insert(a.name.clone(), p);
            profile::save(&path, &file)?;
            eprintln!("smqctl: saved profile '{}' in {}", a.name, path.display());
        }
        ProfileCommand::Remove { name } => {
            profile::find(&file, &name, &path)?;
            file.profile.remove(&name);
            profile::save(&path, &file)?;
            eprintln!("smqctl: removed profile '{name}' from {}", path.display());
        }
    }
    Ok(exit::OK)
}

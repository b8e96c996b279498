//! Connection profiles: named sets of connection settings in
//! `$XDG_CONFIG_HOME/smqctl/config.toml` (or the file `SMQCTL_CONFIG` names),
//! chosen with `--profile NAME` / `SMQCTL_PROFILE`.
//!
//! A profile only fills what the user did not say: clap tells where each value
//! came from ([`ValueSource`]), and a value from the command line or an
//! `SMQCTL_*` variable is kept; only defaults give way. So the order is flags >
//! environment > profile > defaults. Secrets never live in the file: a profile
//! names an environment variable or a command that produces them.
//!
//! Which command has which slots is said by the command tree (`cli.rs`), so a
//! new subcommand needs no edit here.
//!
//! May import: `args` (ConnectArgs), `output` (Format), `template` (UID
//! templates). Never `cli` or `commands`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use clap::ArgMatches;
use clap::ValueEnum;
use clap::parser::ValueSource;
use serde::{Deserialize, Serialize};

use crate::args::ConnectArgs;
use crate::output::Format;

/// What went wrong with the config file or a profile (exit code 2).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ProfileError(pub String);

fn err(msg: impl Into<String>) -> ProfileError {
    ProfileError(msg.into())
}

/// The config file: `[profile.NAME]` tables.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    #[serde(default)]
    pub profile: BTreeMap<String, Profile>,
}

#[derive(Debug, Default, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// UID template: `{{user}}`, `{{host}}`, `{{pid}}` and `{{random}}` are filled in.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uid: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub info: Option<String>,
    /// Shell command printing the credentials (SMQ_SEED and SMQ_IP in its
    /// environment), as `--credentials-cmd`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub credentials_cmd: Option<String>,
    /// Name of the environment variable holding the credentials.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub credentials_env: Option<String>,
    /// Refused when present: secrets do not belong in the file.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub credentials: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cacert: Option<PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cert: Option<PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub insecure: Option<bool>,
    /// pretty, json, raw or hex: the default `--format` of sub, rpc, serve, shell.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub format: Option<String>,
    /// `[profile.NAME.analyze]`: `smqctl analyze`'s settings under this profile.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub analyze: Option<AnalyzeKeys>,
}

/// `smqctl analyze`'s settings, as a profile's `[profile.NAME.analyze]` table
/// or an `analyze.toml` file: each key is the flag of the same name
/// (`reply_timeout = "2s"`, `allow = ["client-to-client"]`). Values are kept
/// as written; the command checks them (a bad one is a usage error naming
/// where it came from).
#[derive(Debug, Default, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct AnalyzeKeys {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reply_timeout: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ready: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub large: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub storm: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dynamic_topics: Option<u32>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allow: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub deny: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fail_on: Option<String>,
}

/// The `[analyze]` settings of profile `name` (None when it has none).
pub fn analyze_keys(name: &str) -> Result<Option<AnalyzeKeys>, ProfileError> {
    let path = config_path()?;
    let file = load(&path)?;
    Ok(find(&file, name, &path)?.analyze)
}

/// An `analyze.toml` file (a missing file is None).
pub fn load_analyze_file(path: &Path) -> Result<Option<AnalyzeKeys>, ProfileError> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(err(format!("cannot read {}: {e}", path.display()))),
    };
    toml::from_str(&text)
        .map(Some)
        .map_err(|e| toml_error("invalid", path, &text, &e))
}

impl Profile {
    /// Checks what serde cannot: no plaintext secret, a known format.
    pub fn validate(&self, name: &str) -> Result<(), ProfileError> {
        if self.credentials.is_some() {
            return Err(err(format!(
                "profile '{name}' has `credentials` in plain text; use credentials_env = \"VAR\" or credentials_cmd = \"...\" instead"
            )));
        }
        if self.credentials_env.is_some() && self.credentials_cmd.is_some() {
            return Err(err(format!(
                "profile '{name}' has both credentials_env and credentials_cmd; keep one"
            )));
        }
        self.format_value(name)?;
        Ok(())
    }

    pub fn format_value(&self, name: &str) -> Result<Option<Format>, ProfileError> {
        self.format
            .as_deref()
            .map(|f| {
                Format::from_str(f, true).map_err(|_| {
                    err(format!(
                        "profile '{name}': format '{f}' is not one of pretty, json, raw, hex"
                    ))
                })
            })
            .transpose()
    }
}

/// `SMQCTL_CONFIG`, else `$XDG_CONFIG_HOME/smqctl/config.toml`, else
/// `~/.config/smqctl/config.toml`.
pub fn config_path() -> Result<PathBuf, ProfileError> {
    if let Some(p) = std::env::var_os("SMQCTL_CONFIG").filter(|v| !v.is_empty()) {
        return Ok(PathBuf::from(p));
    }
    let base = std::env::var_os("XDG_CONFIG_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")))
        .ok_or_else(|| {
            err("cannot find the config directory: set XDG_CONFIG_HOME, HOME or SMQCTL_CONFIG")
        })?;
    Ok(base.join("smqctl").join("config.toml"))
}

/// Reads the file; a missing file is an empty one.
pub fn load(path: &Path) -> Result<ConfigFile, ProfileError> {
    let file = load_unchecked(path)?;
    for (name, p) in &file.profile {
        p.validate(name)
            .map_err(|e| err(format!("{}: {e}", path.display())))?;
    }
    Ok(file)
}

/// Reads the file without checking each profile, so that `profile remove` can
/// take out the profile that makes [`load`] refuse the file.
pub fn load_unchecked(path: &Path) -> Result<ConfigFile, ProfileError> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(ConfigFile::default()),
        Err(e) => return Err(err(format!("cannot read {}: {e}", path.display()))),
    };
    let file: ConfigFile =
        toml::from_str(&text).map_err(|e| toml_error("invalid config file", path, &text, &e))?;
    Ok(file)
}

/// "WHAT FILE, line L: reason": TOML's own text is a multi-line snippet,
/// which an error line shows as `\n`s.
fn toml_error(what: &str, path: &Path, text: &str, e: &toml::de::Error) -> ProfileError {
    let line = e
        .span()
        .map(|s| format!(", line {}", crate::text::line_of(text, s.start)))
        .unwrap_or_default();
    err(format!(
        "{what} {}{line}: {}",
        path.display(),
        e.message().trim()
    ))
}

/// Writes the file (creating its directory), readable by its owner only.
pub fn save(path: &Path, file: &ConfigFile) -> Result<(), ProfileError> {
    let text =
        toml::to_string_pretty(file).map_err(|e| err(format!("cannot write the config: {e}")))?;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)
            .map_err(|e| err(format!("cannot create {}: {e}", dir.display())))?;
    }
    std::fs::write(path, text).map_err(|e| err(format!("cannot write {}: {e}", path.display())))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600));
    }
    Ok(())
}

/// The named profile, or an error listing the known ones.
pub fn find(file: &ConfigFile, name: &str, path: &Path) -> Result<Profile, ProfileError> {
    match file.profile.get(name) {
        Some(p) => Ok(p.clone()),
        None if file.profile.is_empty() => Err(err(format!(
            "unknown profile '{name}': {} has no profiles (add one with `smqctl profile add {name} --url URL`)",
            path.display()
        ))),
        None => Err(err(format!(
            "unknown profile '{name}'; known profiles: {} (in {})",
            file.profile.keys().cloned().collect::<Vec<_>>().join(", "),
            path.display()
        ))),
    }
}

/// Fills a UID template's `{{user}}`, `{{host}}`, `{{pid}}`, `{{random}}`.
pub fn expand_uid(template: &str) -> String {
    let host = std::fs::read_to_string("/etc/hostname")
        .map(|h| h.trim().to_string())
        .ok()
        .filter(|h| !h.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "host".into());
    let vars = serde_json::json!({
        "user": std::env::var("USER").unwrap_or_else(|_| "user".into()),
        "host": host,
        "pid": std::process::id(),
        "random": format!("{:08x}", rand::random::<u32>()),
    });
    crate::template::expand(
        template,
        Some(&vars),
        "",
        &crate::template::Context::default(),
    )
}

/// True when the user said nothing about `id` (neither flag nor environment).
fn unset(m: &ArgMatches, id: &str) -> bool {
    !matches!(
        m.value_source(id),
        Some(ValueSource::CommandLine) | Some(ValueSource::EnvVariable)
    )
}

/// Where a profile's settings go in one parsed command: its connection flags,
/// its `--format` (if it has one), and whether a profile's `uid` applies (a
/// simulated device's UID comes from its scenario, so `simulate` says no).
/// `cli::Command::profile_slots` builds it; this module never sees the CLI.
pub struct Slots<'a> {
    pub conn: &'a mut ConnectArgs,
    pub format: Option<&'a mut Option<Format>>,
    pub uid: bool,
}

/// Fills what flags and `SMQCTL_*` variables left unsaid in `slots` from the
/// profile `name`. `leaf` is the matches of the leaf subcommand (they say
/// where each connection value came from).
pub fn apply(name: &str, slots: Slots<'_>, leaf: &ArgMatches) -> Result<(), ProfileError> {
    let path = config_path()?;
    let file = load(&path)?;
    let profile = find(&file, name, &path)?;
    let format = profile.format_value(name)?;
    fill(slots.conn, &profile, leaf, name, slots.uid)?;
    if let (Some(slot), Some(f)) = (slots.format, format)
        && slot.is_none()
    {
        *slot = Some(f);
    }
    Ok(())
}

fn fill(
    conn: &mut ConnectArgs,
    p: &Profile,
    m: &ArgMatches,
    name: &str,
    uid: bool,
) -> Result<(), ProfileError> {
    if let Some(url) = &p.url
        && unset(m, "url")
    {
        conn.url = url.clone();
    }
    if let Some(template) = &p.uid
        && uid
        && unset(m, "uid")
    {
        conn.uid = Some(expand_uid(template));
    }
    if let Some(info) = &p.info
        && unset(m, "info")
    {
        conn.info = info.clone();
    }
    let credentials_said =
        !unset(m, "credentials") || !unset(m, "credentials_cmd") || !unset(m, "ask_credentials");
    if !credentials_said {
        if let Some(var) = &p.credentials_env {
            let value = std::env::var(var).map_err(|_| {
                err(format!(
                    "profile '{name}' takes its credentials from ${var}, which is not set"
                ))
            })?;
            conn.credentials = Some(value);
        }
        if let Some(cmd) = &p.credentials_cmd {
            conn.credentials_cmd = Some(cmd.clone());
        }
    }
    if let Some(v) = &p.cacert
        && unset(m, "cacert")
    {
        conn.cacert = Some(v.clone());
    }
    // A certificate and its key go together: take both or neither.
    if let (Some(c), Some(k)) = (&p.cert, &p.key)
        && unset(m, "cert")
        && unset(m, "key")
    {
        conn.cert = Some(c.clone());
        conn.key = Some(k.clone());
    }
    if let Some(v) = p.insecure
        && unset(m, "insecure")
    {
        conn.insecure = v;
    }
    Ok(())
}

/// A profile for people to read: every setting, credentials as their source
/// only (never a value).
pub fn describe(name: &str, p: &Profile) -> Vec<(String, String)> {
    let mut rows = vec![("name".to_string(), name.to_string())];
    let mut add = |k: &str, v: Option<String>| {
        if let Some(v) = v {
            rows.push((k.to_string(), v));
        }
    };
    add("url", p.url.clone());
    add("uid", p.uid.clone());
    add("info", p.info.clone());
    add(
        "credentials",
        match (&p.credentials_env, &p.credentials_cmd) {
            (Some(var), _) => Some(format!(
                "from ${var} ({}; value hidden)",
                if std::env::var_os(var).is_some() {
                    "set"
                } else {
                    "not set"
                }
            )),
            (None, Some(_)) => Some("from a command (credentials_cmd; hidden)".into()),
            (None, None) => None,
        },
    );
    add("cacert", p.cacert.as_ref().map(|v| v.display().to_string()));
    add("cert", p.cert.as_ref().map(|v| v.display().to_string()));
    add("key", p.key.as_ref().map(|v| v.display().to_string()));
    add("insecure", p.insecure.map(|v| v.to_string()));
    add("format", p.format.clone());
    add(
        "analyze",
        p.analyze
            .as_ref()
            .and_then(|a| toml::to_string(a).ok())
            .map(|t| t.trim().replace('\n', "; ")),
    );
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plaintext_credentials_and_bad_formats_are_refused() {
        let bad: ConfigFile =
            toml::from_str("[profile.x]\nurl = \"ws://h/\"\ncredentials = \"s3cret\"\n")
                .expect("parses");
        let e = bad.profile["x"]
            .validate("x")
            .expect_err("refused")
            .to_string();
        assert!(e.contains("plain text") && !e.contains("s3cret"), "{e}");
        let p = Profile {
            format: Some("yaml".into()),
            ..Profile::default()
        };
        assert!(p.validate("y").is_err());
        assert!(toml::from_str::<ConfigFile>("[profile.x]\nurll = \"typo\"\n").is_err());
    }

    #[test]
    fn uid_templates_fill_user_host_pid_and_random() {
        let a = expand_uid("dev-{{pid}}-{{random}}");
        let b = expand_uid("dev-{{pid}}-{{random}}");
        assert!(
            a.starts_with(&format!("dev-{}-", std::process::id())),
            "{a}"
        );
        assert_ne!(a, b, "random differs between runs");
        assert_eq!(expand_uid("fixed-uid"), "fixed-uid");
    }

    #[test]
    fn unknown_profile_lists_the_known_ones() {
        let file: ConfigFile = toml::from_str(
            "[profile.dev]\nurl = \"ws://a/\"\n[profile.prod]\nurl = \"wss://b/\"\n",
        )
        .expect("parses");
        let e = find(&file, "stage", Path::new("/c.toml"))
            .expect_err("unknown")
            .to_string();
        assert!(
            e.contains("unknown profile 'stage'") && e.contains("dev, prod"),
            "{e}"
        );
    }
}

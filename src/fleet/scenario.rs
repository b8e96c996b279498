//! Scenario files: the TOML description of one simulated device (what it
//! subscribes to, its ready message, periodic reports, how it answers
//! commands), parsed into a checked [`Scenario`]. Every mistake is reported with
//! the line it is on: syntax errors through the `toml` crate's spans, checks of
//! our own through `toml::Spanned` fields.
//!
//! May import: `template` (placeholder checks), `text` (duration parsing),
//! `protocol` (the shortest UID), serde, toml.

use std::time::Duration;

use serde::Deserialize;
use serde_json::Value;
use toml::Spanned;

use crate::template;

/// The `$` variables a scenario template may use besides the built-in ones.
pub const VARS: &[&str] = &["index", "uid", "seq"];

/// The built-in scenarios: (name, scenario file, broker handler file).
pub const BUILTIN: &[(&str, &str, &str)] = &[
    (
        "charger",
        include_str!("builtin/charger.toml"),
        include_str!("builtin/charger-handlers.toml"),
    ),
    (
        "smib",
        include_str!("builtin/smib.toml"),
        include_str!("builtin/smib-handlers.toml"),
    ),
    (
        "player",
        include_str!("builtin/player.toml"),
        include_str!("builtin/player-handlers.toml"),
    ),
];

pub fn builtin(name: &str) -> Option<(&'static str, &'static str)> {
    BUILTIN
        .iter()
        .find(|(n, _, _)| *n == name)
        .map(|(_, s, h)| (*s, *h))
}

pub fn builtin_names() -> String {
    BUILTIN
        .iter()
        .map(|(n, _, _)| *n)
        .collect::<Vec<_>>()
        .join(", ")
}

// ---- the file as written -------------------------------------------------

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    description: String,
    #[serde(default)]
    device: DeviceSection,
    #[serde(default)]
    subscribe: SubscribeSection,
    ready: Option<MsgSection>,
    #[serde(default)]
    state: toml::Table,
    #[serde(default)]
    periodic: Vec<PeriodicSection>,
    #[serde(default)]
    command: Vec<CommandSection>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct DeviceSection {
    uid: Option<Spanned<String>>,
    info: Option<Spanned<String>>,
    credentials: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct SubscribeSection {
    #[serde(default, rename = "self")]
    self_: Vec<String>,
    #[serde(default)]
    topics: Vec<Spanned<String>>,
    barrier: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct MsgSection {
    to: Spanned<String>,
    subtopic: Option<String>,
    #[serde(default = "no_payload")]
    payload: Spanned<String>,
    format: Option<Spanned<String>>,
    delay: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PeriodicSection {
    name: Option<String>,
    to: Spanned<String>,
    subtopic: Option<String>,
    interval: Spanned<String>,
    jitter: Option<Spanned<String>>,
    #[serde(default = "no_payload")]
    payload: Spanned<String>,
    format: Option<Spanned<String>>,
    verify_topic: Option<Spanned<String>>,
    verify_index: Option<String>,
    verify_seq: Option<String>,
    correlate: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CommandSection {
    on: Spanned<String>,
    topic: Option<String>,
    #[serde(default, rename = "match")]
    match_: toml::Table,
    #[serde(default)]
    update_state: bool,
    #[serde(default)]
    set: std::collections::BTreeMap<String, Spanned<String>>,
    action: Option<Spanned<String>>,
    reply: Option<MsgSection>,
    correlate: Option<String>,
}

fn no_payload() -> Spanned<String> {
    Spanned::new(0..0, String::new())
}

// ---- the checked scenario ------------------------------------------------

/// Where a message goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Dest {
    /// The broker's ETID (`--server-etid`, 1 unless the broker uses random ones).
    Broker,
    /// The sender of the command being answered (its `ptid`).
    Sender,
    /// The device itself.
    SelfEtid,
    /// A broadcast on a named topic.
    Topic(String),
    /// A fixed peer ETID.
    Etid(u32),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PayloadFormat {
    Json,
    Text,
    /// Hex digits (spaces allowed) turned into bytes after expansion.
    Hex,
}

#[derive(Debug, Clone)]
pub struct Msg {
    pub to: Dest,
    pub subtopic: Option<String>,
    pub payload: String,
    pub format: PayloadFormat,
    pub delay: Duration,
}

#[derive(Debug, Clone)]
pub struct Verify {
    pub topic: String,
    pub index_path: String,
    pub seq_path: String,
}

#[derive(Debug, Clone)]
pub struct Periodic {
    pub name: String,
    pub msg: Msg,
    pub interval: Duration,
    pub jitter: Duration,
    pub verify: Option<Verify>,
    /// A request: the JSON field carrying its correlation ID (e.g. `request_id`),
    /// matched against responses by a command rule with the same `correlate`.
    pub correlate: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Drop the connection after replying and come back (like a device reboot).
    Restart,
}

#[derive(Debug, Clone)]
pub struct CommandRule {
    /// Sub-topic the command arrives with.
    pub on: String,
    /// None: a direct message (`self`); Some: a broadcast on this topic.
    pub topic: Option<String>,
    /// Fields that must have these values (all of them) for the rule to apply.
    pub matches: Vec<(String, Value)>,
    /// Merge the command's JSON object into the device state.
    pub update_state: bool,
    /// State fields set from templates over the command (JSON if it parses).
    pub set: Vec<(String, String)>,
    pub action: Option<Action>,
    pub reply: Option<Msg>,
    /// A response: the JSON field with the ID of the request it answers.
    pub correlate: Option<String>,
}

impl CommandRule {
    pub fn applies(&self, cmd: Option<&Value>) -> bool {
        self.matches.iter().all(|(path, want)| {
            cmd.and_then(|c| template::lookup(c, path))
                .is_some_and(|v| v == want)
        })
    }
}

/// A checked scenario.
#[derive(Debug, Clone)]
pub struct Scenario {
    pub name: String,
    pub description: String,
    pub uid: String,
    pub info: Option<String>,
    pub credentials: Option<String>,
    /// `self` sub-topics: commands plus whatever else the device listens for.
    pub self_subs: Vec<String>,
    pub topics: Vec<String>,
    pub barrier: Option<String>,
    pub ready: Option<Msg>,
    pub state: serde_json::Map<String, Value>,
    pub periodic: Vec<Periodic>,
    pub commands: Vec<CommandRule>,
}

/// A scenario error: "NAME, line L: what".
#[derive(Debug, thiserror::Error)]
#[error("{origin}{}: {message}", .line.map(|l| format!(", line {l}")).unwrap_or_default())]
pub struct ScenarioError {
    pub origin: String,
    pub line: Option<usize>,
    pub message: String,
}

/// Sample values of the scenario's own `$` variables for the load-time checks.
struct Sample;

impl template::Vars for Sample {
    fn write(&self, name: &str, arg: Option<&str>, out: &mut String) -> bool {
        match name {
            "index" | "seq" => template::write_int(out, 1, arg),
            "uid" => out.push_str("sim-00001"),
            _ => return false,
        }
        true
    }
}

struct Checker<'a> {
    origin: &'a str,
    text: &'a str,
    /// The device state as the ready and periodic messages see it first ([state]).
    state: Value,
    /// Every field the state can ever have ([state] and the commands' `set`
    /// keys), None when a command merges whole commands into it (`update_state`).
    state_fields: Option<Vec<String>>,
}

impl Checker<'_> {
    fn err<T>(
        &self,
        span: std::ops::Range<usize>,
        message: impl Into<String>,
    ) -> Result<T, ScenarioError> {
        Err(ScenarioError {
            origin: self.origin.to_string(),
            line: Some(crate::text::line_of(self.text, span.start)),
            message: message.into(),
        })
    }

    fn duration(&self, s: &Spanned<String>, what: &str) -> Result<Duration, ScenarioError> {
        crate::text::parse_duration(s.get_ref())
            .or_else(|e| self.err(s.span(), format!("{what}: {e}")))
    }

    fn template(&self, s: &Spanned<String>, what: &str) -> Result<String, ScenarioError> {
        match template::check(s.get_ref(), VARS) {
            Ok(()) => Ok(s.get_ref().clone()),
            Err(e) => self.err(s.span(), format!("{what}: {e}")),
        }
    }

    fn dest(&self, s: &Spanned<String>, reply: bool) -> Result<Dest, ScenarioError> {
        let v = s.get_ref().trim();
        let d = match v {
            "broker" => Dest::Broker,
            "sender" if reply => Dest::Sender,
            "self" => Dest::SelfEtid,
            _ => {
                if let Some(t) = v.strip_prefix("topic:").filter(|t| !t.is_empty()) {
                    Dest::Topic(t.to_string())
                } else if let Some(n) = v.strip_prefix("etid:").and_then(|n| n.parse().ok()) {
                    Dest::Etid(n)
                } else {
                    let also = if reply { ", sender" } else { "" };
                    return self.err(
                        s.span(),
                        format!(
                            "to = \"{v}\": expected broker{also}, self, topic:NAME or etid:NUMBER"
                        ),
                    );
                }
            }
        };
        Ok(d)
    }

    /// Checks that every `{{field}}` of `s` is one of `allowed` (by its first
    /// part); `allowed` None: anything may be there.
    fn fields(
        &self,
        s: &Spanned<String>,
        what: &str,
        allowed: Option<&[String]>,
        whose: &str,
    ) -> Result<(), ScenarioError> {
        let Some(allowed) = allowed else {
            return Ok(());
        };
        for f in template::fields(s.get_ref()) {
            let top = f.split('.').next().unwrap_or(f);
            if !allowed.iter().any(|a| a == top) {
                let has = if allowed.is_empty() {
                    "no fields: only $ variables work here".to_string()
                } else {
                    format!("only {} (add it under [state])", allowed.join(", "))
                };
                return self.err(
                    s.span(),
                    format!("{what}: '{{{{{f}}}}}' can never be filled in: {whose} has {has}"),
                );
            }
        }
        Ok(())
    }

    fn device_template(&self, s: &Spanned<String>, what: &str) -> Result<String, ScenarioError> {
        let t = self.template(s, what)?;
        self.fields(s, what, Some(&[]), "a device's identity")?;
        Ok(t)
    }

    fn msg(&self, m: &MsgSection, what: &str, reply: bool) -> Result<Msg, ScenarioError> {
        let format = self.format(m.format.as_ref())?;
        let payload = self.template(&m.payload, &format!("{what} payload"))?;
        if !reply {
            // Ready and periodic messages are filled in from the state alone.
            self.fields(
                &m.payload,
                &format!("{what} payload"),
                self.state_fields.as_deref(),
                "the device state",
            )?;
        }
        self.sample(&m.payload, format, what, (!reply).then_some(&self.state))?;
        Ok(Msg {
            to: self.dest(&m.to, reply)?,
            subtopic: m.subtopic.clone().filter(|s| !s.is_empty()),
            payload,
            format,
            delay: match &m.delay {
                Some(d) => self.duration(d, &format!("{what} delay"))?,
                None => Duration::ZERO,
            },
        })
    }

    fn format(&self, f: Option<&Spanned<String>>) -> Result<PayloadFormat, ScenarioError> {
        match f.map(|s| (s.get_ref().as_str(), s.span())) {
            None | Some(("json", _)) => Ok(PayloadFormat::Json),
            Some(("text", _)) => Ok(PayloadFormat::Text),
            Some(("hex", _)) => Ok(PayloadFormat::Hex),
            Some((other, span)) => self.err(
                span,
                format!("format = \"{other}\": expected json, text or hex"),
            ),
        }
    }

    /// Expands a payload with sample values and checks it is what it claims.
    fn sample(
        &self,
        t: &Spanned<String>,
        format: PayloadFormat,
        what: &str,
        fields: Option<&Value>,
    ) -> Result<(), ScenarioError> {
        let mut out = String::new();
        // Fields of a command read as null here, which is valid JSON; the state's
        // as their first values.
        template::expand_into(
            &mut out,
            t.get_ref(),
            fields,
            "",
            &template::Context::default(),
            &Sample,
        );
        match format {
            PayloadFormat::Json if !t.get_ref().is_empty() => {
                if let Err(e) = serde_json::from_str::<Value>(&out) {
                    return self.err(
                        t.span(),
                        format!("{what} payload is not JSON once filled in ({e}); use format = \"text\" for text"),
                    );
                }
            }
            PayloadFormat::Hex => {
                let digits: String = out.chars().filter(|c| !c.is_whitespace()).collect();
                if let Err(e) = hex::decode(&digits) {
                    return self.err(
                        t.span(),
                        format!("{what} payload is not hex once filled in ({e})"),
                    );
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// A ready or periodic payload filled in with sample values and the first
    /// state, as JSON (None when it is not JSON).
    fn rendered(&self, t: &Spanned<String>) -> Option<Value> {
        let mut out = String::new();
        template::expand_into(
            &mut out,
            t.get_ref(),
            Some(&self.state),
            "",
            &template::Context::default(),
            &Sample,
        );
        serde_json::from_str(&out).ok()
    }

    /// `key = "path"` must name a field the payload `t` carries.
    fn carries(
        &self,
        t: &Spanned<String>,
        path: &str,
        key: &str,
        what: &str,
    ) -> Result<(), ScenarioError> {
        if let Some(v) = self.rendered(t)
            && template::lookup(&v, path).is_none()
        {
            return self.err(
                t.span(),
                format!("{what}: {key} = \"{path}\", but its payload has no field {path}"),
            );
        }
        Ok(())
    }

    fn name(&self, s: &Spanned<String>, what: &str) -> Result<String, ScenarioError> {
        let v = s.get_ref();
        if v.is_empty() || v == "self" {
            return self.err(
                s.span(),
                format!("{what} must be a topic name (not empty, not self)"),
            );
        }
        Ok(v.clone())
    }
}

fn toml_to_json(v: &toml::Value) -> Value {
    serde_json::to_value(v).unwrap_or(Value::Null)
}

impl Scenario {
    /// Parses and checks a scenario; `origin` names it in errors (a path or
    /// "built-in scenario charger").
    pub fn parse(name: &str, origin: &str, text: &str) -> Result<Scenario, ScenarioError> {
        let file: File = toml::from_str(text).map_err(|e| ScenarioError {
            origin: origin.to_string(),
            line: e.span().map(|s| crate::text::line_of(text, s.start)),
            message: e.message().trim().to_string(),
        })?;
        let state = toml_to_json(&toml::Value::Table(file.state.clone()));
        let state_fields = (!file.command.iter().any(|c| c.update_state)).then(|| {
            let mut f: Vec<String> = file.state.keys().cloned().collect();
            for c in &file.command {
                f.extend(
                    c.set
                        .keys()
                        .filter(|k| !file.state.contains_key(*k))
                        .cloned(),
                );
            }
            f
        });
        let c = Checker {
            origin,
            text,
            state: state.clone(),
            state_fields,
        };
        let uid = match &file.device.uid {
            Some(u) => {
                let t = c.device_template(u, "device uid")?;
                // Device 1's UID is as short as any (indexes only grow).
                let mut first = String::new();
                let ctx = template::Context::default();
                template::expand_into(&mut first, &t, None, "", &ctx, &Sample);
                if first.len() < crate::protocol::MIN_UID_LEN {
                    return c.err(
                        u.span(),
                        format!(
                            "device uid '{first}' is {} byte(s): SMQ brokers refuse UIDs shorter than {} bytes (Connack 1); pad it, e.g. \"dev-{{{{$index:05}}}}\"",
                            first.len(),
                            crate::protocol::MIN_UID_LEN
                        ),
                    );
                }
                t
            }
            None => "sim-{{$index:05}}".to_string(),
        };
        let info = file
            .device
            .info
            .as_ref()
            .map(|t| c.device_template(t, "device info"))
            .transpose()?;
        let credentials = file
            .device
            .credentials
            .as_ref()
            .map(|t| c.device_template(t, "device credentials"))
            .transpose()?;
        let mut topics = Vec::new();
        for t in &file.subscribe.topics {
            topics.push(c.name(t, "subscribe.topics entry")?);
        }
        let barrier = file
            .subscribe
            .barrier
            .as_ref()
            .map(|b| c.name(b, "subscribe.barrier"))
            .transpose()?;
        let ready = file
            .ready
            .as_ref()
            .map(|m| c.msg(m, "ready", false))
            .transpose()?;
        let mut periodic = Vec::new();
        let mut verify_topics: Vec<String> = Vec::new();
        for (i, p) in file.periodic.iter().enumerate() {
            let what = format!("periodic #{}", i + 1);
            let interval = c.duration(&p.interval, &format!("{what} interval"))?;
            if interval < Duration::from_millis(10) {
                return c.err(
                    p.interval.span(),
                    format!("{what} interval must be 10ms or longer"),
                );
            }
            let jitter = match &p.jitter {
                Some(j) => c.duration(j, &format!("{what} jitter"))?,
                None => Duration::ZERO,
            };
            if jitter >= interval {
                return c.err(
                    p.jitter
                        .as_ref()
                        .map(|j| j.span())
                        .unwrap_or(p.interval.span()),
                    format!("{what} jitter must be shorter than its interval"),
                );
            }
            let msg = MsgSection {
                to: p.to.clone(),
                subtopic: p.subtopic.clone(),
                payload: p.payload.clone(),
                format: p.format.clone(),
                delay: None,
            };
            let msg = c.msg(&msg, &what, false)?;
            let verify = match &p.verify_topic {
                Some(t) => {
                    let topic = c.name(t, "verify_topic")?;
                    if verify_topics.contains(&topic) {
                        return c.err(
                            t.span(),
                            format!("verify_topic {topic} is used by two periodic messages"),
                        );
                    }
                    if !p.payload.get_ref().contains("$seq") {
                        return c.err(
                            p.payload.span(),
                            format!("{what} has a verify_topic, so its payload must carry {{{{$seq}}}} (and {{{{$index}}}})"),
                        );
                    }
                    verify_topics.push(topic.clone());
                    let index_path = p.verify_index.clone().unwrap_or_else(|| "index".into());
                    let seq_path = p.verify_seq.clone().unwrap_or_else(|| "seq".into());
                    c.carries(&p.payload, &index_path, "verify_index", &what)?;
                    c.carries(&p.payload, &seq_path, "verify_seq", &what)?;
                    Some(Verify {
                        topic,
                        index_path,
                        seq_path,
                    })
                }
                None => None,
            };
            if let Some(path) = p.correlate.as_deref().filter(|c| !c.is_empty()) {
                c.carries(&p.payload, path, "correlate", &what)?;
            }
            periodic.push(Periodic {
                name: p
                    .name
                    .clone()
                    .or_else(|| msg.subtopic.clone())
                    .unwrap_or_else(|| format!("periodic{}", i + 1)),
                msg,
                interval,
                jitter,
                verify,
                correlate: p.correlate.clone().filter(|c| !c.is_empty()),
            });
        }
        let mut commands = Vec::new();
        let mut self_subs = file.subscribe.self_.clone();
        for (i, cmd) in file.command.iter().enumerate() {
            let what = format!("command #{} ({})", i + 1, cmd.on.get_ref());
            if cmd.on.get_ref().is_empty() {
                return c.err(cmd.on.span(), "command `on` must name a sub-topic");
            }
            let action = match cmd
                .action
                .as_ref()
                .map(|a| (a.get_ref().as_str(), a.span()))
            {
                None => None,
                Some(("restart", _)) => Some(Action::Restart),
                Some((other, span)) => {
                    return c.err(span, format!("action = \"{other}\": expected restart"));
                }
            };
            let reply = cmd
                .reply
                .as_ref()
                .map(|m| c.msg(m, &format!("{what} reply"), true))
                .transpose()?;
            if cmd.topic.is_none() && !self_subs.contains(cmd.on.get_ref()) {
                self_subs.push(cmd.on.get_ref().clone());
            }
            commands.push(CommandRule {
                on: cmd.on.get_ref().clone(),
                topic: cmd.topic.clone(),
                matches: cmd
                    .match_
                    .iter()
                    .map(|(k, v)| (k.clone(), toml_to_json(v)))
                    .collect(),
                update_state: cmd.update_state,
                set: cmd
                    .set
                    .iter()
                    .map(|(k, t)| Ok((k.clone(), c.template(t, &format!("{what} set.{k}"))?)))
                    .collect::<Result<_, ScenarioError>>()?,
                action,
                reply,
                correlate: cmd.correlate.clone().filter(|c| !c.is_empty()),
            });
        }
        for cmd in &commands {
            if let Some(t) = &cmd.topic
                && !topics.contains(t)
            {
                topics.push(t.clone());
            }
        }
        let state = match state {
            Value::Object(m) => m,
            _ => serde_json::Map::new(),
        };
        Ok(Scenario {
            name: name.to_string(),
            description: file.description,
            uid,
            info,
            credentials,
            self_subs,
            topics,
            barrier,
            ready,
            state,
            periodic,
            commands,
        })
    }

    /// A built-in scenario by name, or a file by path.
    pub fn load(name_or_path: &str) -> Result<Scenario, ScenarioError> {
        if let Some((text, _)) = builtin(name_or_path) {
            return Scenario::parse(
                name_or_path,
                &format!("built-in scenario {name_or_path}"),
                text,
            );
        }
        let path = std::path::Path::new(name_or_path);
        let text = std::fs::read_to_string(path).map_err(|e| ScenarioError {
            origin: name_or_path.to_string(),
            line: None,
            message: if e.kind() == std::io::ErrorKind::NotFound {
                format!(
                    "no such file, and not a built-in scenario ({})",
                    builtin_names()
                )
            } else {
                format!("cannot read: {e}")
            },
        })?;
        let name = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        Scenario::parse(&name, name_or_path, &text)
    }

    /// Topics a `--verify` subscriber listens on.
    pub fn verify_topics(&self) -> Vec<&Verify> {
        self.periodic
            .iter()
            .filter_map(|p| p.verify.as_ref())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_builtin_parses() {
        for (name, text, handlers) in BUILTIN {
            let s = Scenario::parse(name, name, text).unwrap_or_else(|e| panic!("{e}"));
            assert!(s.ready.is_some(), "{name} has a ready message");
            assert!(!s.periodic.is_empty() && !s.commands.is_empty(), "{name}");
            assert!(!s.description.is_empty(), "{name}");
            let h = crate::broker::handlers::HandlerFile::parse(handlers, name);
            assert!(h.is_ok(), "{name} handlers: {:?}", h.err());
        }
    }

    #[test]
    fn builtin_handler_fields_are_ones_the_devices_send() {
        // A `{{field}}` in a built-in handler file that no message of its
        // scenario carries would always go out as null.
        for (name, text, handlers) in BUILTIN {
            let s = Scenario::parse(name, name, text).unwrap_or_else(|e| panic!("{e}"));
            let state = Value::Object(s.state.clone());
            let sent: Vec<(String, Value)> = s
                .ready
                .iter()
                .chain(s.periodic.iter().map(|p| &p.msg))
                .chain(s.commands.iter().filter_map(|c| c.reply.as_ref()))
                .filter(|m| m.to == Dest::Broker && m.format == PayloadFormat::Json)
                .filter_map(|m| {
                    let mut out = String::new();
                    let ctx = template::Context::default();
                    template::expand_into(&mut out, &m.payload, Some(&state), "", &ctx, &Sample);
                    let v = serde_json::from_str(&out).ok()?;
                    Some((m.subtopic.clone().unwrap_or_default(), v))
                })
                .collect();
            let rules: toml::Table = toml::from_str(handlers).expect("handler toml");
            for kind in ["event", "request"] {
                let Some(list) = rules.get(kind).and_then(|v| v.as_array()) else {
                    continue;
                };
                for rule in list {
                    let sub = rule["name"].as_str().unwrap_or_default();
                    for key in ["payload", "reply", "event_payload"] {
                        let Some(t) = rule.get(key).and_then(|v| v.as_str()) else {
                            continue;
                        };
                        for f in template::fields(t) {
                            assert!(
                                sent.iter()
                                    .any(|(s, v)| s == sub && template::lookup(v, f).is_some()),
                                "{name} handlers: [[{kind}]] {sub} {key} reads {{{{{f}}}}}, which no {sub} message of the scenario carries"
                            );
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn errors_carry_the_line() {
        let text = "[device]\nuid = \"dev-x-{{$index}}\"\n\n[[periodic]]\nto = \"broker\"\ninterval = \"soon\"\n";
        let e = Scenario::parse("t", "t.toml", text).expect_err("must be refused");
        assert_eq!(e.line, Some(6), "{e}");
        assert!(
            e.to_string()
                .starts_with("t.toml, line 6: periodic #1 interval"),
            "{e}"
        );

        let e = Scenario::parse("t", "t.toml", "[device]\nuid = 5\n").expect_err("must be refused");
        assert_eq!(e.line, Some(2), "{e}");

        let e = Scenario::parse(
            "t",
            "t.toml",
            "[[command]]\non = \"X\"\n[command.reply]\nto = \"moon\"\n",
        )
        .expect_err("must be refused");
        assert_eq!(e.line, Some(4), "{e}");
        assert!(e.message.contains("sender"), "{e}");

        let e = Scenario::parse(
            "t",
            "t.toml",
            "[ready]\nto = \"broker\"\npayload = '{\"a\":{{$sq}}}'\n",
        )
        .expect_err("must be refused");
        assert_eq!(e.line, Some(3));
        assert!(e.message.contains("$sq"), "{e}");

        let e = Scenario::parse(
            "t",
            "t.toml",
            "[ready]\nto = \"broker\"\npayload = '{\"a\":'\n",
        )
        .expect_err("must be refused");
        assert!(e.message.contains("not JSON"), "{e}");

        let e = Scenario::parse("t", "t.toml", "[devise]\n").expect_err("must be refused");
        assert_eq!(e.line, Some(1), "{e}");
    }

    #[test]
    fn fields_no_state_can_have_and_state_values_that_break_json_are_refused() {
        let e = Scenario::parse(
            "t",
            "t.toml",
            "[state]\nOn = false\n\n[[periodic]]\nto = \"broker\"\ninterval = \"1s\"\npayload = '{\"on\":{{Onn}}}'\n",
        )
        .expect_err("must be refused");
        assert_eq!(e.line, Some(7), "{e}");
        assert!(
            e.message.contains("{{Onn}}") && e.message.contains("only On"),
            "{e}"
        );
        let e = Scenario::parse("t", "t.toml", "[device]\n\nuid = \"d{{$index}}\"\n")
            .expect_err("must be refused");
        assert_eq!(e.line, Some(3), "{e}");
        assert!(e.message.contains("shorter than 6 bytes"), "{e}");
        let e = Scenario::parse("t", "t.toml", "[device]\nuid = \"d-{{name}}\"\n")
            .expect_err("must be refused");
        assert_eq!(e.line, Some(2), "{e}");
        assert!(e.message.contains("only $ variables"), "{e}");
        // A text state value written unquoted is not JSON once filled in.
        let e = Scenario::parse(
            "t",
            "t.toml",
            "[state]\nname = \"alpha\"\n[ready]\nto = \"broker\"\npayload = '{\"n\":{{name}}}'\n",
        )
        .expect_err("must be refused");
        assert_eq!(e.line, Some(5), "{e}");
        assert!(e.message.contains("not JSON"), "{e}");
        // --verify and correlate read fields the payload must carry.
        let e = Scenario::parse(
            "t",
            "t.toml",
            "[[periodic]]\nto = \"broker\"\ninterval = \"1s\"\nverify_topic = \"T\"\nverify_index = \"idx\"\npayload = '{\"index\":{{$index}},\"seq\":{{$seq}}}'\n",
        )
        .expect_err("must be refused");
        assert_eq!(e.line, Some(6), "{e}");
        assert!(e.message.contains("no field idx"), "{e}");
        let e = Scenario::parse(
            "t",
            "t.toml",
            "[[periodic]]\nto = \"broker\"\ninterval = \"1s\"\ncorrelate = \"rid\"\npayload = '{\"id\":\"{{$uid}}-{{$seq}}\"}'\n",
        )
        .expect_err("must be refused");
        assert!(
            e.message.contains("correlate") && e.message.contains("no field rid"),
            "{e}"
        );
        // Fields a command sets, or merges with update_state, may be read.
        let set = "[state]\n[[periodic]]\nto = \"broker\"\ninterval = \"1s\"\npayload = '{\"on\":{{On}}}'\n[[command]]\non = \"S\"\nset = { On = \"{{On}}\" }\n";
        Scenario::parse("t", "t", set).unwrap_or_else(|e| panic!("{e}"));
        let merge = "[[periodic]]\nto = \"broker\"\ninterval = \"1s\"\npayload = '{\"on\":{{On}}}'\n[[command]]\non = \"S\"\nupdate_state = true\n";
        Scenario::parse("t", "t", merge).unwrap_or_else(|e| panic!("{e}"));
    }

    #[test]
    fn commands_add_their_self_subscription_and_match_fields() {
        let s = Scenario::parse(
            "t",
            "t",
            "[[command]]\non = \"relay\"\nmatch = { typ = \"cfg\" }\n[command.reply]\nto = \"sender\"\nsubtopic = \"config\"\npayload = '{\"comp\":\"{{comp}}\"}'\n",
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(s.self_subs, vec!["relay".to_string()]);
        let rule = &s.commands[0];
        assert!(rule.applies(Some(&serde_json::json!({"typ":"cfg"}))));
        assert!(!rule.applies(Some(&serde_json::json!({"typ":"ota"}))));
        assert!(!rule.applies(None));
    }
}

//! Flag groups shared by several commands, one definition each: the global
//! flags ([`GlobalArgs`]), where and how to connect ([`ConnectArgs`], turned into
//! [`ClientOptions`] by [`client_options`]), and what the shell shares with a
//! one-shot command ([`SubTopics`], [`PubMessage`], [`RpcRequest`]), and how
//! `trace` and `tui` attach to a tracer ([`AttachArgs`] → `AttachConfig`), and
//! the `--assert` gates ([`AssertArgs`]).
//!
//! May import: `client`, `transport`, `protocol` (option types and limits),
//! `output` (format enums), `text` (durations), `trace` (AttachConfig, preview
//! limits), `shutdown` (the signal that interrupts a prompt), `assert` (the
//! `--assert` parser). Never `commands`
//! or `cli`.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result};
use clap::{ArgAction, Args, ValueEnum};

use crate::client::{ClientError, ClientOptions, ReconnectPolicy, Secret};
use crate::output::{ColorChoice, Format};
use crate::shutdown::Interrupted;
use crate::text::{parse_duration, parse_positive_duration};
use crate::trace::attach::AttachConfig;
use crate::trace::filter::Filter;
use crate::trace::schema::{self, Kind};
use crate::transport::{Endpoint, TlsOptions};

/// The value of a boolean flag, from the command line or its environment
/// variable: `1/0`, `true/false`, `yes/no`, `on/off` (any case); empty is
/// false. One parser for every boolean `SMQCTL_*` variable, so
/// `SMQCTL_INSECURE=1` works as `SMQCTL_INSECURE=true` does.
pub fn env_bool(s: &str) -> Result<bool, String> {
    match s.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" | "y" | "t" => Ok(true),
        "" | "0" | "false" | "no" | "off" | "n" | "f" => Ok(false),
        _ => Err(format!(
            "'{s}' is not a yes/no value (use 1/0, true/false, yes/no or on/off)"
        )),
    }
}

/// A count that must be 1 or more (`-C 0` would mean nothing useful).
pub fn at_least_one<T: std::str::FromStr + PartialOrd + From<u8>>(s: &str) -> Result<T, String> {
    match s.trim().parse::<T>() {
        Ok(n) if n >= T::from(1u8) => Ok(n),
        Ok(_) => Err("must be 1 or more".into()),
        Err(_) => Err(format!("'{s}' is not a whole number")),
    }
}

/// A topic or sub-topic name: SMQ names are never empty (the broker would
/// create a topic "" that no other client means).
pub fn topic_name(s: &str) -> Result<String, String> {
    if s.is_empty() {
        return Err("a topic or sub-topic name cannot be empty".into());
    }
    Ok(s.to_string())
}

/// A client's ETID: 1 to 4294967295 (0 is no client: a message to it goes nowhere).
pub fn etid(s: &str) -> Result<u32, String> {
    match s.trim().parse::<u32>() {
        Ok(0) => Err("0 is not an ETID (ETIDs are 1 to 4294967295)".into()),
        Ok(n) => Ok(n),
        Err(_) => Err(format!(
            "'{s}' is not an ETID (a whole number, 1 to 4294967295)"
        )),
    }
}

#[derive(Debug, Args)]
#[command(next_help_heading = "Global options")]
pub struct GlobalArgs {
    /// Print every SMQ packet sent and received, decoded, on stderr
    #[arg(long, global = true, env = "SMQCTL_TRACE_PACKETS", action = ArgAction::SetTrue, value_parser = env_bool)]
    pub trace_packets: bool,
    /// More log output on stderr (repeat for more)
    #[arg(short, long, global = true, action = ArgAction::Count)]
    pub verbose: u8,
    /// Colour output: auto (only on a terminal, honours NO_COLOR), always, never
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
    /// Connection profile from the config file (`smqctl profile list`); flags and
    /// SMQCTL_* variables override its settings
    #[arg(long, global = true, env = "SMQCTL_PROFILE", value_name = "NAME")]
    pub profile: Option<String>,
}

/// Where and how to connect; shared by every command that talks to a broker.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Connection")]
pub struct ConnectArgs {
    /// Broker URL: ws:// or wss:// (WebSocket), http:// or https:// (raw socket)
    #[arg(
        short = 'u',
        long,
        env = "SMQCTL_URL",
        default_value = "ws://127.0.0.1:9357/smq/"
    )]
    pub url: String,
    /// Client UID sent in Connect (6+ bytes); default: a random smqctl-… UID
    #[arg(long, value_name = "UID", env = "SMQCTL_UID")]
    pub uid: Option<String>,
    /// Info text sent in Connect (the broker's authenticate hook sees it)
    #[arg(long, value_name = "TEXT", env = "SMQCTL_INFO", default_value = "")]
    pub info: String,
    /// Credentials sent in Connect; prefer SMQCTL_CREDENTIALS or --ask-credentials,
    /// which keep them out of the process list. Never printed.
    #[arg(long, env = "SMQCTL_CREDENTIALS", hide_env_values = true)]
    pub credentials: Option<String>,
    /// Prompt for credentials on the terminal (not echoed)
    #[arg(long, conflicts_with = "credentials")]
    pub ask_credentials: bool,
    /// Compute credentials with this shell command after the broker's Init, like
    /// an RTL client's onauth(seed, ip): SMQ_SEED and SMQ_IP are in its
    /// environment, its stdout is sent (never printed)
    #[arg(long, env = "SMQCTL_CREDENTIALS_CMD", value_name = "CMD", conflicts_with_all = ["credentials", "ask_credentials"])]
    pub credentials_cmd: Option<String>,
    /// Trust only the CA certificates in this PEM file (wss://, https://); the
    /// broker's name and the certificate's dates are still checked
    #[arg(long, env = "SMQCTL_CACERT", value_name = "FILE")]
    pub cacert: Option<PathBuf>,
    /// Accept exactly the certificate(s) in this PEM file whatever their name
    /// and dates (prints a warning)
    #[arg(long, env = "SMQCTL_PIN_CERT", value_name = "FILE", conflicts_with_all = ["cacert"])]
    pub pin_cert: Option<PathBuf>,
    /// Client certificate (PEM) for mutual TLS; needs --key
    #[arg(long, env = "SMQCTL_CERT", value_name = "FILE", requires = "key")]
    pub cert: Option<PathBuf>,
    /// Private key (PEM) of --cert
    #[arg(long, env = "SMQCTL_KEY", value_name = "FILE", requires = "cert")]
    pub key: Option<PathBuf>,
    /// Do not verify the broker's TLS certificate (prints a warning)
    #[arg(long, env = "SMQCTL_INSECURE", action = ArgAction::SetTrue, value_parser = env_bool)]
    pub insecure: bool,
    /// Give up connecting (TCP, TLS, HTTP and SMQ handshake) after this long;
    /// also the longest a write may wait without progress (broker not reading)
    #[arg(long, value_name = "DURATION", env = "SMQCTL_CONNECT_TIMEOUT", default_value = "10s", value_parser = parse_positive_duration)]
    pub connect_timeout: Duration,
    /// Send Ping after this long without any packet from the broker
    #[arg(long, value_name = "DURATION", env = "SMQCTL_PING_INTERVAL", default_value = "120s", value_parser = parse_positive_duration)]
    pub ping_interval: Duration,
    /// Close the connection when nothing arrives this long after a Ping
    #[arg(long, value_name = "DURATION", env = "SMQCTL_PONG_TIMEOUT", default_value = "10s", value_parser = parse_positive_duration)]
    pub pong_timeout: Duration,
    /// Send Connect version 2 (as RTL's C client does) instead of version 1
    #[arg(long)]
    pub connect_v2: bool,
}

/// What to subscribe to: shared by `smqctl sub` and the shell's `sub`.
#[derive(Debug, Clone, Args)]
pub struct SubTopics {
    /// Topics to subscribe to; `self` means messages sent to this client's ETID
    #[arg(required = true, value_name = "TOPIC", value_parser = topic_name)]
    pub topics: Vec<String>,
    /// Only show messages with this sub-topic (repeatable)
    #[arg(long = "subtopic", value_name = "NAME", value_parser = topic_name)]
    pub subtopics: Vec<String>,
    /// Sub-topic names to show by name without filtering on them (repeatable);
    /// SMQ has no reverse lookup, so a client only knows names it registered
    #[arg(long = "resolve-subtopic", value_name = "NAME", value_parser = topic_name)]
    pub resolve_subtopics: Vec<String>,
    /// Also print subscriber-count changes of the topics
    #[arg(long)]
    pub observe: bool,
}

/// Destination, payload and kind of a publish: shared by `smqctl pub` and the
/// shell's `pub` (which has no stdin to read).
#[derive(Debug, Clone, Args)]
pub struct PubMessage {
    /// Topic name, or `self`; omit with --to-etid
    #[arg(value_name = "TOPIC", value_parser = topic_name)]
    pub topic: Option<String>,
    /// The payload (or use -f, --stdin, --stdin-lines)
    #[arg(value_name = "MESSAGE")]
    pub message: Option<String>,
    /// Send straight to this client ETID (or any numeric TID) instead of a topic
    #[arg(long, value_name = "ETID", value_parser = etid)]
    pub to_etid: Option<u32>,
    /// Sub-topic name to send with the message (e.g. a message type)
    #[arg(long, value_name = "NAME", value_parser = topic_name)]
    pub subtopic: Option<String>,
    /// Read the payload from a file
    #[arg(short = 'f', long, value_name = "FILE")]
    pub file: Option<PathBuf>,
    /// Payload must be valid JSON (checked before connecting)
    #[arg(long, group = "kind")]
    pub json: bool,
    /// Payload is text (the default)
    #[arg(long, group = "kind")]
    pub text: bool,
    /// Payload is sent byte for byte (for files and stdin)
    #[arg(long, group = "kind")]
    pub binary: bool,
    /// Payload is written in hex ("01 02 ff" or "0102ff")
    #[arg(long, group = "kind")]
    pub hex: bool,
    /// Send the message this many times
    #[arg(short = 'C', long, default_value_t = 1, value_name = "N", value_parser = at_least_one::<u64>)]
    pub count: u64,
    /// Wait this long between messages
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub interval: Option<Duration>,
}

/// `--server-etid`: the broker's own client, where named requests, `--call`,
/// the fleet's requests and the tracer attach go. One definition for every
/// command that sends to it; `--broker-tid` (rpc, simulate) is its old name.
#[derive(Debug, Clone, Args)]
pub struct ServerEtid {
    /// ETID of the broker's own client, where requests and the trace attach go
    /// (brokers made with rndtid have a random one)
    #[arg(
        id = "server_etid",
        long = "server-etid",
        alias = "broker-tid",
        value_name = "ETID",
        env = "SMQCTL_SERVER_ETID",
        default_value_t = crate::protocol::SERVER_ETID
    )]
    pub etid: u32,
}

/// What to call and how to wait: shared by `smqctl rpc`, `bench rpc` and the
/// shell's `rpc`/`call`.
#[derive(Debug, Clone, Args)]
pub struct RpcRequest {
    /// REQUEST [PAYLOAD] for a named request; with --call, the arguments (JSON values)
    #[arg(value_name = "REQUEST|ARGS", allow_negative_numbers = true)]
    pub words: Vec<String>,
    /// Correlated RPC: call this function on $RpcReq and await its $RpcResp
    #[arg(long, value_name = "NAME")]
    pub call: Option<String>,
    /// Arguments of --call as one JSON array (instead of ARGS)
    #[arg(long, value_name = "JSON", requires = "call")]
    pub args: Option<String>,
    /// Send ARGS that are not JSON as strings (and a named PAYLOAD as text, unchecked)
    #[arg(long, conflicts_with = "args")]
    pub args_text: bool,
    #[command(flatten)]
    pub server: ServerEtid,
    /// Send to this client ETID (number) or topic (name) instead of the broker
    #[arg(long, value_name = "ETID|TOPIC")]
    pub to: Option<String>,
    /// Sub-topic the reply arrives on (default: REQUEST with Req -> Resp)
    #[arg(long, value_name = "NAME")]
    pub resp: Option<String>,
    /// Request sub-topic for --call
    #[arg(long, default_value = crate::protocol::rpc::RPC_REQ, value_name = "NAME")]
    pub rpc_req: String,
    /// Reply sub-topic for --call
    #[arg(long, default_value = crate::protocol::rpc::RPC_RESP, value_name = "NAME")]
    pub rpc_resp: String,
    /// Put a unique ID into this field of the request JSON and match replies by it
    #[arg(long, value_name = "FIELD")]
    pub id_field: Option<String>,
    /// How long to wait for a reply
    #[arg(long, short = 'W', value_name = "DURATION", default_value = "5s", value_parser = parse_duration)]
    pub timeout: Duration,
    /// Gather this many replies (e.g. from several peers) before exiting
    #[arg(long, value_name = "N", conflicts_with_all = ["count"], value_parser = at_least_one::<u64>)]
    pub responses: Option<u64>,
    /// Gather replies for this long, then exit (discovery)
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, conflicts_with_all = ["count"])]
    pub collect: Option<Duration>,
    /// Load mode: make this many calls and print a latency summary (`-n` is
    /// the old short form, kept hidden)
    #[arg(long, short = 'C', short_alias = 'n', value_name = "N", value_parser = at_least_one::<u64>)]
    pub count: Option<u64>,
    /// Load mode: calls in flight at once
    #[arg(long, short = 'c', default_value_t = 1, value_name = "N", value_parser = at_least_one::<usize>)]
    pub concurrency: usize,
    /// Load mode: at most this many calls per second
    #[arg(long, value_name = "PER_SECOND")]
    pub rate: Option<f64>,
    /// Output (default: pretty on a terminal, json otherwise)
    #[arg(long, short = 'F', value_enum)]
    pub format: Option<Format>,
    /// Also write a self-contained HTML report (charts over time, histograms, parameters) to FILE
    #[arg(long, value_name = "FILE", requires = "count")]
    pub html: Option<std::path::PathBuf>,
}

/// `--assert EXPR`: the gates of a run on its summary (rpc load mode, bench
/// pubsub/rpc, simulate; see [`crate::assert`]).
#[derive(Debug, Clone, Default, Args)]
pub struct AssertArgs {
    /// Fail the run (exit 8) unless EXPR holds for its summary: NAME OP VALUE,
    /// NAME a dotted key of the `-F json` summary (lost, latency_ms.p99,
    /// calls_per_s), OP one of < <= > >= == !=, VALUE a number, a duration
    /// (300us, 20ms, 1.5s) for keys in a time unit, or true/false; repeatable
    #[arg(long = "assert", value_name = "EXPR", value_parser = crate::assert::parse)]
    pub asserts: Vec<crate::assert::Assertion>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SummaryFormat {
    /// Aligned text for people
    Pretty,
    /// One JSON object
    Json,
}

impl SummaryFormat {
    /// `-F` if given, else pretty on a terminal and json when piped.
    pub fn for_stdout(chosen: Option<SummaryFormat>) -> SummaryFormat {
        crate::output::format_for_stdout(chosen, SummaryFormat::Pretty, SummaryFormat::Json)
    }
}

/// `--metrics-listen ADDR`: one flag for every command that serves live
/// metrics (simulate, bench, broker, trace, tui); `crate::metrics` serves them.
#[derive(Debug, Clone, Default, Args)]
pub struct MetricsArgs {
    /// Serve live metrics (OpenMetrics text, for Prometheus) at
    /// http://ADDR/metrics while this runs. ADDR is HOST:PORT, or PORT alone for
    /// 127.0.0.1:PORT; port 0 picks one (printed on stderr)
    #[arg(long, value_name = "ADDR", env = "SMQCTL_METRICS_LISTEN", value_parser = parse_metrics_addr)]
    pub metrics_listen: Option<std::net::SocketAddr>,
}

/// `--metrics-listen`'s address: `PORT` or `:PORT` is loopback
/// (127.0.0.1:PORT); `HOST:PORT` binds HOST, so a non-loopback address is
/// only ever one that was written out.
pub fn parse_metrics_addr(s: &str) -> Result<std::net::SocketAddr, String> {
    use std::net::{Ipv4Addr, SocketAddr, ToSocketAddrs};
    let s = s.trim();
    let port = s.strip_prefix(':').unwrap_or(s);
    if let Ok(port) = port.parse::<u16>() {
        return Ok(SocketAddr::from((Ipv4Addr::LOCALHOST, port)));
    }
    if let Ok(a) = s.parse::<SocketAddr>() {
        return Ok(a);
    }
    let Some((host, port)) = s.rsplit_once(':') else {
        return Err(format!(
            "'{s}' is not HOST:PORT or PORT (e.g. 127.0.0.1:9464 or 9464)"
        ));
    };
    if port.parse::<u16>().is_err() {
        return Err(format!("'{port}' is not a port number (0-65535)"));
    }
    let mut found = (host, 0)
        .to_socket_addrs()
        .map_err(|e| format!("cannot resolve '{host}': {e}"))?;
    let ip = found
        .next()
        .ok_or_else(|| format!("'{host}' has no address"))?
        .ip();
    Ok(SocketAddr::new(ip, port.parse().unwrap_or(0)))
}

/// How `trace` and `tui` attach to a broker's tracer, and what they watch
/// without one: one definition, so both commands spell and check these flags
/// the same way.
#[derive(Debug, Clone, Args)]
pub struct AttachArgs {
    #[command(flatten)]
    pub server: ServerEtid,
    /// Payload bytes kept in each event's preview (at most 32768)
    #[arg(long, value_name = "BYTES", default_value_t = schema::DEFAULT_PREVIEW, value_parser = parse_preview)]
    pub preview: usize,
    /// How long to wait for the broker's tracer to answer before falling back
    #[arg(long, value_name = "DURATION", default_value = "2s", value_parser = parse_positive_duration)]
    pub attach_timeout: Duration,
    /// When no tracer answers: subscribe to this topic and show what arrives (repeatable)
    #[arg(long, value_name = "TOPIC")]
    pub fallback_topic: Vec<String>,
}

impl AttachArgs {
    /// The attach engine's plain config for these flags.
    pub fn config(&self, reconnect: ReconnectPolicy) -> AttachConfig {
        AttachConfig {
            server_etid: self.server.etid,
            preview: self.preview,
            full: false,
            attach_timeout: self.attach_timeout,
            fallback_topics: self.fallback_topic.clone(),
            reconnect,
        }
    }
}

/// Which trace events to show: one definition for `trace` and `tui`, turned
/// into the engine's plain [`Filter`] (the TUI's filter bar edits the same
/// type). `trace`'s `--topic PATTERN` is not here: in `tui`, `--topic` is the
/// old name of `--fallback-topic`.
#[derive(Debug, Clone, Default, Args)]
pub struct FilterArgs {
    /// Only these kinds (comma-separated): publish, drop, deny, connect, close,
    /// subscribe, unsubscribe, create, createsub, snapshot, notice, error
    #[arg(long, value_name = "KINDS", value_delimiter = ',', value_parser = parse_kind)]
    pub kind: Vec<Kind>,
    /// Only drops (same as --kind drop)
    #[arg(long)]
    pub drops: bool,
    /// Hide events whose topic matches this pattern (`*` wildcard; repeatable)
    #[arg(long, value_name = "PATTERN")]
    pub exclude: Vec<String>,
    /// Only events mentioning this text (topic, sub-topic, UID, info, payload, reason)
    #[arg(long, value_name = "TEXT")]
    pub grep: Option<String>,
}

impl FilterArgs {
    /// The filter these flags describe; `include` are topic patterns to keep
    /// (empty: every topic).
    pub fn filter(&self, include: &[String]) -> Filter {
        let mut kinds: std::collections::BTreeSet<Kind> = self.kind.iter().copied().collect();
        if self.drops {
            kinds.insert(Kind::Drop);
        }
        Filter {
            kinds,
            include: include.to_vec(),
            exclude: self.exclude.clone(),
            text: self.grep.clone().unwrap_or_default(),
        }
    }
}

/// `--kind`: one of the schema's event kinds (any case).
pub fn parse_kind(s: &str) -> Result<Kind, String> {
    Kind::ALL
        .into_iter()
        .find(|k| k.as_str() == s.trim().to_ascii_lowercase())
        .ok_or_else(|| {
            let all: Vec<&str> = Kind::ALL.iter().map(|k| k.as_str()).collect();
            format!("'{s}' is not an event kind (one of: {})", all.join(", "))
        })
}

/// `--preview`: 0 to [`schema::MAX_PREVIEW`] bytes (a tracer's event must fit in
/// one SMQ message; the broker would cap a larger request silently).
pub fn parse_preview(s: &str) -> Result<usize, String> {
    match s.trim().parse::<usize>() {
        Ok(n) if n <= schema::MAX_PREVIEW => Ok(n),
        Ok(n) => Err(format!(
            "{n} is above the maximum of {} bytes (an event must fit in one SMQ message)",
            schema::MAX_PREVIEW
        )),
        Err(_) => Err(format!("'{s}' is not a whole number of bytes")),
    }
}

/// Builds client options from the command line; prompts for credentials if
/// asked (Ctrl-C or SIGTERM at the prompt: [`Interrupted`], exit 130).
pub async fn client_options(conn: &ConnectArgs, global: &GlobalArgs) -> Result<ClientOptions> {
    let endpoint = Endpoint::parse(&conn.url).map_err(ClientError::from)?;
    // Checked here, not as a clap conflict: clap counts SMQCTL_INSECURE=0 as
    // "given", and a false variable must not refuse --pin-cert.
    if conn.insecure && conn.pin_cert.is_some() {
        return Err(ClientError::Invalid(
            "--pin-cert and --insecure cannot be used together (--pin-cert trusts one certificate; --insecure trusts any)".into(),
        )
        .into());
    }
    // Brokers refuse a UID of 5 bytes or fewer (Connack 1): say so before
    // connecting, whether it came from --uid, SMQCTL_UID or a profile.
    if let Some(uid) = &conn.uid
        && uid.len() < crate::protocol::MIN_UID_LEN
    {
        return Err(ClientError::Invalid(format!(
            "--uid '{uid}' is {} byte(s): SMQ brokers refuse UIDs shorter than {} bytes (Connack 1)",
            uid.len(),
            crate::protocol::MIN_UID_LEN
        ))
        .into());
    }
    let tls = TlsOptions {
        cacert: conn.cacert.clone(),
        cert: conn.cert.clone(),
        key: conn.key.clone(),
        insecure: conn.insecure,
        pin_cert: conn.pin_cert.clone(),
    };
    // The TLS files are read now (the configuration is cached for the
    // connections): a --cacert that is missing or not PEM is bad input,
    // exit 2, said before connecting, not hidden behind a refused connect.
    if endpoint.scheme.is_tls() {
        crate::transport::tls::client_config(&tls).map_err(ClientError::from)?;
    }
    let credentials = if conn.ask_credentials {
        Some(ask_credentials().await?)
    } else {
        conn.credentials.clone().map(Secret::new)
    };
    if endpoint.scheme.is_tls() {
        if conn.insecure {
            eprintln!(
                "warning: --insecure: the broker's TLS certificate is not verified; anyone on the network path can impersonate it"
            );
        }
        if let Some(pin) = &conn.pin_cert {
            eprintln!(
                "warning: --pin-cert: the broker's certificate is accepted when it is the one in {}, whatever host name and dates it carries",
                pin.display()
            );
        }
    } else if conn.insecure
        || conn.cacert.is_some()
        || conn.pin_cert.is_some()
        || conn.cert.is_some()
    {
        eprintln!(
            "warning: TLS options are ignored for {} (not wss:// or https://)",
            endpoint
        );
    }
    let mut opts = ClientOptions::new(endpoint);
    opts.uid = conn.uid.clone();
    opts.info = conn.info.clone();
    opts.credentials = credentials;
    opts.credentials_cmd = conn.credentials_cmd.clone();
    opts.tls = tls;
    opts.connect_timeout = conn.connect_timeout;
    opts.ping_interval = conn.ping_interval;
    opts.pong_timeout = conn.pong_timeout;
    opts.connect_v2 = conn.connect_v2;
    opts.trace_packets = global.trace_packets;
    Ok(opts)
}

/// "Credentials: " on the terminal, read without echo. The read blocks, so it
/// runs on a blocking thread raced against Ctrl-C/SIGTERM (the terminal's
/// Ctrl-C is a SIGINT: the handlers are installed). The terminal's settings
/// come back on every path, a signal included.
#[cfg(unix)]
async fn ask_credentials() -> Result<Secret> {
    use std::io::{BufRead, Write};

    use nix::sys::termios::{FlushArg, LocalFlags, SetArg, Termios, tcflush, tcgetattr, tcsetattr};

    /// Puts the saved settings back when dropped.
    struct Restore(std::fs::File, Termios);
    impl Drop for Restore {
        fn drop(&mut self) {
            let _ = tcsetattr(&self.0, SetArg::TCSANOW, &self.1);
        }
    }

    let cannot = "cannot read credentials from the terminal";
    let stop = crate::shutdown::requested();
    let tty = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/tty")
        .context(cannot)?;
    let saved = tcgetattr(&tty).context(cannot)?;
    let mut quiet = saved.clone();
    quiet.local_flags.remove(LocalFlags::ECHO);
    quiet.local_flags.insert(LocalFlags::ECHONL);
    let mut out = tty.try_clone().context(cannot)?;
    let reader = tty.try_clone().context(cannot)?;
    let restore = Restore(tty, saved);
    // Echo off before the prompt shows: nothing typed after it is echoed.
    tcsetattr(&restore.0, SetArg::TCSANOW, &quiet).context(cannot)?;
    out.write_all(b"Credentials: ")
        .and_then(|()| out.flush())
        .context(cannot)?;
    let read = tokio::task::spawn_blocking(move || {
        let mut line = String::new();
        std::io::BufReader::new(reader)
            .read_line(&mut line)
            .map(|_| line)
    });
    tokio::select! {
        r = read => {
            drop(restore);
            let mut line = r
                .map_err(|e| anyhow::anyhow!("{cannot}: {e}"))?
                .context(cannot)?;
            while line.ends_with(['\n', '\r']) {
                line.pop();
            }
            Ok(Secret::new(line))
        }
        s = stop => {
            // What was typed but not read (part of a secret) is thrown away
            // before echo comes back: else the kernel may still echo keys it
            // had not processed yet, and the shell would read them as a command.
            let _ = tcflush(&restore.0, FlushArg::TCIFLUSH);
            drop(restore);
            // The line the prompt was on ends; the reader thread stays
            // blocked and is not waited for at exit.
            let _ = out.write_all(b"\n");
            Err(Interrupted(s, "at the credentials prompt").into())
        }
    }
}

#[cfg(not(unix))]
async fn ask_credentials() -> Result<Secret> {
    let stop = crate::shutdown::requested();
    let read = tokio::task::spawn_blocking(|| rpassword::prompt_password("Credentials: "));
    tokio::select! {
        r = read => {
            let secret = r
                .map_err(|e| anyhow::anyhow!("cannot read credentials from the terminal: {e}"))?
                .context("cannot read credentials from the terminal")?;
            Ok(Secret::new(secret))
        }
        s = stop => Err(Interrupted(s, "at the credentials prompt").into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn preview_is_checked_against_the_tracer_limit() {
        assert_eq!(parse_preview("0"), Ok(0));
        assert_eq!(parse_preview("32768"), Ok(schema::MAX_PREVIEW));
        let e = parse_preview("32769").expect_err("above the limit");
        assert!(e.contains("above the maximum of 32768 bytes"), "{e}");
        assert!(parse_preview("-1").is_err());
        assert!(parse_preview("lots").is_err());
    }
}

#[cfg(test)]
mod metrics_addr_tests {
    use super::parse_metrics_addr;

    #[test]
    fn metrics_listen_port_alone_binds_loopback_and_a_host_only_when_written() {
        assert_eq!(
            parse_metrics_addr("9464").expect("accepted").to_string(),
            "127.0.0.1:9464"
        );
        assert_eq!(
            parse_metrics_addr(":0").expect("accepted").to_string(),
            "127.0.0.1:0"
        );
        assert_eq!(
            parse_metrics_addr("0.0.0.0:9464")
                .expect("accepted")
                .to_string(),
            "0.0.0.0:9464"
        );
        assert_eq!(
            parse_metrics_addr("[::1]:9464")
                .expect("accepted")
                .to_string(),
            "[::1]:9464"
        );
        assert!(
            parse_metrics_addr("localhost:9464")
                .expect("accepted")
                .ip()
                .is_loopback()
        );
        assert!(
            parse_metrics_addr("nowhere")
                .expect_err("refused")
                .contains("HOST:PORT")
        );
        assert!(
            parse_metrics_addr("127.0.0.1:99999")
                .expect_err("refused")
                .contains("port")
        );
    }
}

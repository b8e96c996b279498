//! Command-line definitions (clap derive). Doc comments are the help text; every
//! subcommand carries examples in its long help. Connection settings are shared
//! by every client command through [`ConnectArgs`], each with an `SMQCTL_*`
//! environment variable.
//!
//! May import: `output` (format enums), `transport`/`client` option types.

use std::path::PathBuf;
use std::time::Duration;

use crate::args::{
    ConnectArgs, GlobalArgs, PubMessage, RpcRequest, SubTopics, SummaryFormat, at_least_one,
};
use crate::text::parse_duration;
use clap::{Args, Parser, Subcommand};

use crate::output::{DataType, Format};

const ABOUT: &str =
    "Debug, test and load-test SMQ publish/subscribe systems (Mako Server / Barracuda App Server)";

const MAIN_EXAMPLES: &str = "\
Examples:
  smqctl broker                                  # embedded broker on 127.0.0.1:9357
  smqctl sub DeviceState                         # print what arrives on a topic
  smqctl pub DeviceState '{\"On\":true}' --json   # publish JSON to it
  smqctl sub self --url http://mako.local/smq.lsp  # direct messages, raw transport
  smqctl --trace-packets pub Chat hello          # show every packet on stderr
  smqctl demo                                    # broker + device fleet + traffic, in the TUI
  smqctl tui --url ws://mako.local/smq.lsp       # live trace view (needs the Lua hook)
  smqctl simulate -n 500 --scenario charger      # 500 fake devices
  smqctl shell ws://127.0.0.1:9357/              # stay connected at a prompt

Exit codes:
  0 success   1 error   2 bad usage or input   3 cannot connect
  4 refused or denied by the broker   5 timed out   6 connection lost
  7 the remote handler answered with an error (rpc)   130 interrupted (Ctrl-C, SIGTERM)";

#[derive(Debug, Parser)]
#[command(name = "smqctl", version, about = ABOUT, after_long_help = MAIN_EXAMPLES, propagate_version = true)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Subscribe to topics (or `self`) and print what arrives
    #[command(after_long_help = SUB_EXAMPLES)]
    Sub(SubArgs),
    /// Publish JSON, text or binary to a topic, to `self` or to a client's ETID
    #[command(name = "pub", after_long_help = PUB_EXAMPLES)]
    Pub(PubArgs),
    /// Call a broker or peer handler: named request/response or correlated $RpcReq
    #[command(after_long_help = RPC_EXAMPLES)]
    Rpc(RpcArgs),
    /// Answer requests (static, templated, echo or from a command), like `nats reply`
    #[command(after_long_help = SERVE_EXAMPLES)]
    Serve(ServeArgs),
    /// Run the embedded SMQ broker (WebSocket and raw transport on one port)
    #[command(after_long_help = BROKER_EXAMPLES)]
    Broker(BrokerArgs),
    /// Run everything at once: embedded broker, charger fleet, operator traffic, TUI
    #[command(after_long_help = crate::commands::demo::EXAMPLES)]
    Demo(crate::commands::demo::DemoArgs),
    /// Show what a broker does: publishes, drops, denials, connects, closes (live)
    Trace(crate::commands::trace::TraceArgs),
    /// Write the broker-side trace hook (Lua, for Mako Server / BAS apps)
    #[command(subcommand)]
    Hook(crate::commands::hook::HookCommand),
    /// Watch broker trace events live: table, detail, filters, stats, export
    #[command(after_long_help = crate::commands::tui::EXAMPLES)]
    Tui(crate::commands::tui::TuiArgs),
    /// Stay connected: subscribe, publish, call and observe at a prompt, or run a script
    #[command(after_long_help = crate::commands::shell::SHELL_EXAMPLES)]
    Shell(Box<crate::commands::shell::ShellArgs>),
    /// Manage connection profiles (config.toml): list, show, add, remove
    #[command(subcommand, after_long_help = crate::commands::profile::PROFILE_EXAMPLES)]
    Profile(crate::commands::profile::ProfileCommand),
    /// Measure a broker: message throughput and latency, cost of idle connections
    #[command(subcommand)]
    Bench(BenchCommand),
    /// Simulate a fleet of devices (connect, ready, report, answer commands, reconnect)
    #[command(after_long_help = crate::commands::simulate::EXAMPLES)]
    Simulate(Box<crate::commands::simulate::SimulateArgs>),
    /// Print a shell completion script
    #[command(
        after_long_help = "Examples:\n  smqctl completions bash > /etc/bash_completion.d/smqctl\n  smqctl completions zsh > ~/.zfunc/_smqctl"
    )]
    Completions {
        /// Shell to generate for
        shell: clap_complete::Shell,
    },
    /// Write man pages (smqctl.1 and one per subcommand)
    #[command(
        after_long_help = "Examples:\n  smqctl man --dir /usr/local/share/man/man1\n  smqctl man | man -l -"
    )]
    Man {
        /// Directory to write every page into; without it, smqctl.1 goes to stdout
        #[arg(long)]
        dir: Option<PathBuf>,
    },
}

const SUB_EXAMPLES: &str = "\
Examples:
  smqctl sub DeviceState                       # one topic
  smqctl sub DeviceState ChargerState self     # several, plus direct messages
  smqctl sub self --subtopic SearchSitesResp   # only one message type
  smqctl sub Alerts -C 1 -W 30s                # first message or fail after 30 s
  smqctl sub DeviceState --observe             # also print subscriber counts
  smqctl sub DeviceState --format json | jq .payload

Output (--format): pretty (default on a terminal), json (one object per line:
ts, topic, tid, subtopic, subtid, ptid, size, encoding, payload; the default when
piped), raw (payload bytes), hex (hex dump).
Exit codes: 0 done, 5 timed out (-W) before -C messages arrived, see `smqctl --help`.";

#[derive(Debug, Args)]
pub struct SubArgs {
    #[command(flatten)]
    pub sub: SubTopics,
    /// How to read payloads: auto (JSON if it parses, text if UTF-8, else binary)
    #[arg(long, value_enum, default_value_t = DataType::Auto)]
    pub datatype: DataType,
    /// Output format (default: pretty on a terminal, json otherwise)
    #[arg(long, short = 'F', value_enum)]
    pub format: Option<Format>,
    /// Exit after this many messages
    #[arg(short = 'C', long, value_name = "N", value_parser = at_least_one::<u64>)]
    pub count: Option<u64>,
    /// Exit with code 5 if -C messages (or, without -C, any message) did not arrive in time
    #[arg(short = 'W', long, value_name = "DURATION", value_parser = parse_duration)]
    pub timeout: Option<Duration>,
    /// With --format raw: no newline after each payload
    #[arg(short = 'N', long)]
    pub no_newline: bool,
    /// Exit when the connection drops instead of reconnecting
    #[arg(long)]
    pub no_reconnect: bool,
    #[command(flatten)]
    pub conn: ConnectArgs,
}

const PUB_EXAMPLES: &str = "\
Examples:
  smqctl pub DeviceState '{\"On\":true}' --json
  smqctl pub Commands --subtopic SetCharger '{\"On\":false}'
  smqctl pub --to-etid 2613173302 'hello there'      # direct message
  smqctl pub Frames --hex '01 02 ff'                   # binary from hex
  smqctl pub Logs --stdin-lines < app.log              # one message per line
  smqctl pub Ticks tick --count 10 --interval 1s

The payload comes from MESSAGE, -f FILE, --stdin or --stdin-lines and is sent as
text unless --json (validated), --binary or --hex says otherwise. Payloads over
65520 bytes are refused before connecting.";

#[derive(Debug, Args)]
pub struct PubArgs {
    #[command(flatten)]
    pub msg: PubMessage,
    /// Read the whole of stdin as one payload
    #[arg(long, conflicts_with_all = ["stdin_lines", "file"])]
    pub stdin: bool,
    /// Send one message per line of stdin
    #[arg(long, conflicts_with = "file")]
    pub stdin_lines: bool,
    #[command(flatten)]
    pub conn: ConnectArgs,
}

const BROKER_EXAMPLES: &str = "\
Examples:
  smqctl broker                                   # ws:// and http:// on 127.0.0.1:9357
  smqctl broker --listen 0.0.0.0:9357             # reachable from other hosts
  smqctl broker --tls-cert cert.pem --tls-key key.pem   # wss:// and https://
  smqctl broker --auth users.txt -v               # uid-or-user:secret lines
  smqctl broker --handlers handlers.toml          # answer SearchSitesReq, $RpcReq...
  SMQCTL_BROKER_CREDENTIALS=s3cret smqctl broker  # one shared secret
  smqctl broker --trace-allow 10.0.0.0/8          # tracers from the LAN too

Clients connect to ws://HOST:PORT/<any path> or http://HOST:PORT/<any path>.
The first line on stdout is `listening on HOST:PORT`.";

#[derive(Debug, Args)]
pub struct BrokerArgs {
    /// Address to listen on (loopback unless told otherwise; port 0 picks one)
    #[arg(long, env = "SMQCTL_BROKER_LISTEN", default_value = "127.0.0.1:9357")]
    pub listen: String,
    /// TLS certificate chain (PEM): serve wss:// and https:// instead of ws:// and http://
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// TLS private key (PEM) for --tls-cert
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// Require client certificates signed by a CA in this PEM file (mutual TLS)
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    pub tls_client_ca: Option<PathBuf>,
    /// Give the broker's own client a random ETID instead of 1 (smq.create{rndtid=true})
    #[arg(long)]
    pub rndtid: bool,
    /// Accept only clients listed in FILE (`uid-or-user:secret` per line)
    #[arg(long, value_name = "FILE", conflicts_with = "credentials")]
    pub auth: Option<PathBuf>,
    /// Answer requests at the broker's ETID from this TOML file ([[request]],
    /// [[rpc]], [[event]] rules; see the README)
    #[arg(long, value_name = "FILE")]
    pub handlers: Option<PathBuf>,
    /// Refuse Subscribe/Create of this topic (exact name, or a prefix ending in *);
    /// for testing how clients handle denial (repeatable)
    #[arg(long, value_name = "PATTERN")]
    pub deny_topic: Vec<String>,
    /// Accept only clients presenting this shared secret as credentials
    #[arg(long, env = "SMQCTL_BROKER_CREDENTIALS", hide_env_values = true)]
    pub credentials: Option<String>,
    /// Who may attach a tracer (`smqctl trace`, `smqctl tui`): loopback, any, or
    /// addresses/CIDR ranges, comma-separated (loopback stays allowed)
    #[arg(long, value_name = "WHO", default_value = "loopback")]
    pub trace_allow: String,
}

const RPC_EXAMPLES: &str = "\
Examples:
  smqctl rpc SearchSitesReq '{\"SiteName\":\"alpha\"}'     # reply awaited on SearchSitesResp
  smqctl rpc --call add 1 2                              # {\"id\":1,\"name\":\"add\",\"args\":[1,2]} on $RpcReq
  smqctl rpc --call setMode --args '[\"eco\", {\"force\":true}]'
  smqctl rpc GetStatusReq '{}' --id-field request_id --count 1000 --concurrency 20
  smqctl rpc --call add 1 2 --count 10000 --concurrency 50 --rate 2000 --format json
  smqctl rpc Hello '{}' --to Presence --collect 2s       # discovery: everyone who answers

Named requests go to the broker's ETID (1, or --broker-tid) with the request name as
sub-topic; the reply is awaited on `self` with the sub-topic derived as ...Req ->
...Resp (--resp overrides). --to sends to a client ETID or a topic instead.
Exit codes: 0 ok, 5 no reply within --timeout, 7 the handler answered with err,
6 connection lost while calls were pending; see `smqctl --help` for the rest.";

#[derive(Debug, Args)]
pub struct RpcArgs {
    #[command(flatten)]
    pub req: RpcRequest,
    #[command(flatten)]
    pub conn: ConnectArgs,
}

const SERVE_EXAMPLES: &str = "\
Examples:
  smqctl serve SearchSitesReq --reply '{\"rows\":[],\"site\":\"{{SiteName}}\"}'
  smqctl serve SearchSitesReq --echo --delay 200ms
  smqctl serve GetStatusReq --exec 'jq -c \"{ok: true, asked: .}\"'
  smqctl serve --rpc-exec ./rpc-handler.sh             # answers $RpcReq {id,name,args}
  smqctl serve Hello --topic Presence --reply '{\"me\":{{$etid}}}'

Requests arrive on `self` with sub-topic REQUEST (or on --topic); the answer goes to
the requester's ETID with the sub-topic REQUEST's ...Req -> ...Resp (--resp).
Templates: {{field}}, {{a.b.0}}, {{$request}}, {{$ptid}}, {{$etid}}, {{$n}}, {{$now}}; strings
are inserted without quotes, other values as JSON.
--exec and --rpc-exec run one process per request: the request JSON on stdin, the
answer from stdout; for --rpc-exec a non-zero exit answers {\"err\": stderr}.
The ETID to send requests to is printed on stderr at start.";

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Request sub-topic to answer (e.g. SearchSitesReq); optional with --rpc-exec
    #[arg(value_name = "REQUEST")]
    pub request: Option<String>,
    /// Answer with this payload (a template)
    #[arg(long, value_name = "TEMPLATE", group = "answer")]
    pub reply: Option<String>,
    /// Answer with the request payload itself
    #[arg(long, group = "answer")]
    pub echo: bool,
    /// Answer with the stdout of this shell command (request on its stdin)
    #[arg(long, value_name = "CMD", group = "answer")]
    pub exec: Option<String>,
    /// Answer $RpcReq calls with this command ({name,args} on stdin, result JSON on stdout)
    #[arg(long, value_name = "CMD")]
    pub rpc_exec: Option<String>,
    /// Request sub-topic for --rpc-exec
    #[arg(long, default_value = "$RpcReq", value_name = "NAME")]
    pub rpc_req: String,
    /// Reply sub-topic for --rpc-exec
    #[arg(long, default_value = "$RpcResp", value_name = "NAME")]
    pub rpc_resp: String,
    /// Reply sub-topic (default: REQUEST with Req -> Resp)
    #[arg(long, value_name = "NAME")]
    pub resp: Option<String>,
    /// Listen on this topic instead of `self`
    #[arg(long, value_name = "TOPIC")]
    pub topic: Option<String>,
    /// Wait this long before answering
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub delay: Option<Duration>,
    /// Kill --exec/--rpc-exec commands that run longer than this
    #[arg(long, default_value = "10s", value_parser = parse_duration)]
    pub exec_timeout: Duration,
    /// Exit after answering this many requests
    #[arg(short = 'C', long, value_name = "N", value_parser = at_least_one::<u64>)]
    pub count: Option<u64>,
    /// How requests are printed (default: pretty on a terminal, json otherwise)
    #[arg(long, short = 'F', value_enum)]
    pub format: Option<Format>,
    /// Exit when the connection drops instead of reconnecting
    #[arg(long)]
    pub no_reconnect: bool,
    #[command(flatten)]
    pub conn: ConnectArgs,
}

#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// Publishers -> one topic -> subscribers: msgs/s, MB/s, latency percentiles
    #[command(after_long_help = BENCH_PUBSUB_EXAMPLES)]
    Pubsub(Box<BenchPubsubArgs>),
    /// RPC load against a handler (same as `smqctl rpc --count`): calls/s and latency
    #[command(
        after_long_help = "Examples:\n  smqctl bench rpc --call add 1 2 --count 20000 --concurrency 50\n  smqctl bench rpc SearchSitesReq '{}' --id-field request_id --count 5000 -c 20"
    )]
    Rpc(Box<RpcArgs>),
    /// Open many idle connections and report the broker's memory per connection
    #[command(after_long_help = BENCH_CONN_EXAMPLES)]
    Connections(Box<BenchConnArgs>),
}

const BENCH_PUBSUB_EXAMPLES: &str = "\
Examples:
  smqctl bench pubsub --embedded                       # in-process broker, ws://
  smqctl bench pubsub --embedded --url http://x/       # in-process broker, raw socket
  smqctl bench pubsub --url ws://127.0.0.1:9357/ --count 200000 --size 64
  smqctl bench pubsub --pubs 4 --subs 2 --format json | jq .msgs_per_s
  smqctl bench pubsub --duration 10s --rate 20000       # latency at 20k msgs/s

Latency is measured from a timestamp in the first 8 payload bytes (so --size must
be at least 8 for it); publishers and subscribers run in this process. A broker
that drops messages for slow subscribers (Mako does, when a socket queue is full)
shows them as lost.";

const BENCH_CONN_EXAMPLES: &str = "\
Examples:
  smqctl broker & smqctl bench connections --count 5000 --broker-pid $!

Reads the broker's resident memory (VmRSS in /proc/PID/status, Linux) before and
after opening the connections and prints the difference per connection.";

#[derive(Debug, Args)]
pub struct BenchPubsubArgs {
    /// Number of publishing connections
    #[arg(long, default_value_t = 1, value_parser = at_least_one::<usize>)]
    pub pubs: usize,
    /// Number of subscribing connections
    #[arg(long, default_value_t = 1, value_parser = at_least_one::<usize>)]
    pub subs: usize,
    /// Messages per publisher
    #[arg(long, short = 'n', default_value_t = 200_000, value_parser = at_least_one::<u64>)]
    pub count: u64,
    /// Publish for this long instead of --count messages
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub duration: Option<Duration>,
    /// At most this many messages per second per publisher (latency under a
    /// given load; without it publishers go flat out)
    #[arg(long, value_name = "PER_SECOND")]
    pub rate: Option<f64>,
    /// Payload size in bytes
    #[arg(long, default_value_t = 64)]
    pub size: usize,
    /// Topic to use (default: a fresh random one)
    #[arg(long)]
    pub topic: Option<String>,
    /// Start a broker inside this process on 127.0.0.1:0 and use it (the --url
    /// scheme still picks the transport: ws:// or http://)
    #[arg(long)]
    pub embedded: bool,
    /// Give up waiting for missing messages after this long without one
    #[arg(long, default_value = "3s", value_parser = parse_duration)]
    pub idle_timeout: Duration,
    #[arg(long, value_enum, default_value_t = SummaryFormat::Pretty)]
    pub format: SummaryFormat,
    #[command(flatten)]
    pub conn: ConnectArgs,
}

#[derive(Debug, Args)]
pub struct BenchConnArgs {
    /// Connections to open
    #[arg(long, short = 'n', default_value_t = 5000, value_parser = at_least_one::<usize>)]
    pub count: usize,
    /// Connections opened at the same time
    #[arg(long, default_value_t = 64, value_parser = at_least_one::<usize>)]
    pub parallel: usize,
    /// PID of the broker process, to read its memory (Linux)
    #[arg(long)]
    pub broker_pid: Option<u32>,
    /// Keep the connections open this long after the measurement
    #[arg(long, default_value = "0s", value_parser = parse_duration)]
    pub hold: Duration,
    #[arg(long, value_enum, default_value_t = SummaryFormat::Pretty)]
    pub format: SummaryFormat,
    #[command(flatten)]
    pub conn: ConnectArgs,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }
}

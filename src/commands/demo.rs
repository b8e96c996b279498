//! `smqctl demo`: one command, no setup — an embedded broker with tracing, a
//! small simulated `charger` fleet, an operator that sends commands and RPC calls
//! (with deliberate mistakes, so drops show up), and the TUI watching it all
//! (or `smqctl trace` lines when not on a terminal).
//!
//! It is assembled from the real pieces, in one process: `broker::Broker` with
//! the charger scenario's handler file, `simulate::fleet::run_fleet`, the SMQ
//! client for the operator, and the `tui`/`trace` commands attached over a real
//! loopback connection exactly as they would attach to a Mako broker.
//!
//! May import: `args`, `exit`, `text`, `broker` (and its handlers), `client`,
//! `transport`, `protocol` (`protocol::rpc`), `fleet`, `trace::schema`,
//! `commands::{trace, tui}` (the viewer).

use std::io::IsTerminal;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use anyhow::{Context, Result};
use bytes::Bytes;
use clap::{Args, Parser};
use tokio::sync::{broadcast, oneshot, watch};

use crate::args::{GlobalArgs, at_least_one};
use crate::broker::handlers::HandlerFile;
use crate::broker::{Broker, BrokerConfig};
use crate::client::{Client, ClientOptions, Dest};
use crate::commands::trace::{TraceArgs, TraceFormat};
use crate::commands::tui::TuiArgs;
use crate::exit::{self, input_error};
use crate::fleet::scenario;
use crate::fleet::{FleetConfig, run_fleet};
use crate::protocol::rpc::{RPC_REQ, RPC_RESP, rpc_request};
use crate::text::parse_positive_duration;
use crate::trace::schema::Kind;
use crate::transport::Endpoint;

pub const EXAMPLES: &str = "\
Examples:
  smqctl demo                          # broker + 20 chargers + operator, in the TUI
  smqctl demo --devices 200            # a bigger fleet
  smqctl demo --no-tui --duration 10s  # trace lines for 10 s (the default off a terminal)
  smqctl demo --no-tui -F json | jq -c 'select(.kind==\"drop\")'

What you see: chargers connect, subscribe, pass the readiness barrier and send
DeviceReady; ChargerState reports every second, re-published by the broker; an
operator sends SetCharger commands and $RpcReq calls. Deliberate mistakes show
as DROP rows: an alert published to a topic nobody subscribes to, a command to
a stale ETID, and a request the broker has no handler for (FirmwareUpdateReq);
the reboot call answers with an error.";

/// Handler rules the demo adds to the charger scenario's (RPC functions the
/// operator calls; `reboot` answers with an error on purpose).
const DEMO_HANDLERS: &str = r#"
[[rpc]]
name = "getConfig"
result = '{"mode":"eco","maxKW":22,"asked":{{args}}}'

[[rpc]]
name = "reboot"
error = "not allowed from the demo"
"#;

/// `smqctl demo` arguments.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Charger devices in the simulated fleet
    #[arg(short = 'n', long, value_name = "N", default_value_t = 20, value_parser = at_least_one::<u32>)]
    pub devices: u32,
    /// Address of the embedded broker (port 0 picks a free one)
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:0")]
    pub listen: String,
    /// Time between two operator actions (e.g. 700ms, 2s)
    #[arg(long, value_name = "DURATION", default_value = "700ms", value_parser = parse_positive_duration)]
    pub every: Duration,
    /// Print trace lines instead of opening the TUI (the default when not on a terminal)
    #[arg(long)]
    pub no_tui: bool,
    /// With --no-tui: stop after this long (default: until Ctrl-C)
    #[arg(short = 'd', long, value_name = "DURATION", value_parser = parse_positive_duration)]
    pub duration: Option<Duration>,
    /// With --no-tui: pretty lines or the trace schema's JSON (default: pretty on a terminal)
    #[arg(short = 'F', long, value_enum)]
    pub format: Option<TraceFormat>,
}

/// Wraps a command's flattened args so they can be built from argv.
#[derive(Parser)]
#[command(no_binary_name = true)]
struct Wrap<T: Args> {
    #[command(flatten)]
    args: T,
}

/// Runs the demo; returns the exit code of the viewer (TUI or trace).
pub async fn run(args: DemoArgs, global: &GlobalArgs) -> Result<u8> {
    let tui = !args.no_tui && std::io::stdout().is_terminal() && std::io::stdin().is_terminal();
    if tui && args.duration.is_some() {
        return Err(input_error(
            "--duration applies with --no-tui (in the TUI, press q to stop)",
        ));
    }

    // 1. The broker, with the charger scenario's handlers plus the demo's RPCs.
    let (_, charger_handlers) =
        scenario::builtin("charger").context("the charger scenario is built in")?;
    let handlers = HandlerFile::parse(
        &format!("{charger_handlers}\n{DEMO_HANDLERS}"),
        "the demo's handlers",
    )?;
    let listener = crate::broker::listen(&args.listen)
        .await
        .map_err(|e| input_error(format!("--listen {}: {e}", args.listen)))?;
    let addr = listener.local_addr()?;
    let broker = Broker::new(BrokerConfig::default());
    let installed = handlers.install(&broker);
    broker.set_handler(Arc::new(installed));
    let (stop_tx, stop_rx) = watch::channel(false);
    let counts = Arc::new(OperatorCounts::default());
    let broker_task = {
        let b = broker.clone();
        let mut stop = stop_rx.clone();
        tokio::spawn(async move {
            b.run(listener, async move {
                let _ = stop.wait_for(|stop| *stop).await;
            })
            .await
        })
    };
    let url = format!("ws://{addr}/");
    eprintln!(
        "smqctl demo: broker on {url} (server ETID {}); {} chargers; operator every {}",
        broker.server_etid(),
        args.devices,
        humantime::format_duration(args.every)
    );
    if !tui {
        eprintln!(
            "smqctl demo: Ctrl-C stops; run `smqctl tui --url {url}` in another terminal to watch it too"
        );
    }

    // 2 and 3 start once the viewer's tracer is attached (or after 5 s), so
    // the trace shows the fleet from its first connect.
    let mut attached = broker.events();
    let traffic = {
        let (stop_rx, counts, url, server, every) = (
            stop_rx.clone(),
            Arc::clone(&counts),
            url.clone(),
            broker.server_etid(),
            args.every,
        );
        let devices = args.devices;
        tokio::spawn(async move {
            let wait = async {
                loop {
                    match attached.recv().await {
                        Ok(r) if r.event.kind == Kind::Attach && r.event.verdict == Some(true) => {
                            break;
                        }
                        Err(broadcast::error::RecvError::Closed) => break,
                        _ => {}
                    }
                }
            };
            let _ = tokio::time::timeout(Duration::from_secs(5), wait).await;
            drop(attached);
            // The operator first: commands, RPC calls and deliberate mistakes.
            // Its dashboard subscription must exist before the first report.
            let (ready_tx, ready_rx) = oneshot::channel();
            let operator = tokio::spawn(operator(
                url.clone(),
                server,
                every,
                counts,
                stop_rx.clone(),
                ready_tx,
            ));
            let _ = tokio::time::timeout(Duration::from_secs(5), ready_rx).await;
            // Then the fleet, ramping up so connects and barriers are visible.
            let mut fleet = FleetConfig::builtin("charger", &url, devices)?;
            fleet.ramp = 10.0;
            let mut stop = stop_rx;
            let fleet = tokio::spawn(run_fleet(fleet, async move {
                let _ = stop.wait_for(|stop| *stop).await;
            }));
            anyhow::Ok((fleet, operator))
        })
    };

    // 4. The viewer: the TUI, or trace lines.
    let viewer = if tui {
        let w = Wrap::<TuiArgs>::try_parse_from(["--url", &url])
            .context("building the TUI's arguments")?;
        crate::commands::tui::run(w.args, global).await
    } else {
        let mut w = Wrap::<TraceArgs>::try_parse_from(["--url", &url])
            .context("building the trace's arguments")?;
        w.args.timeout = args.duration;
        w.args.format = args.format;
        crate::commands::trace::run(w.args, global).await
    };

    // 5. Stop everything: the fleet disconnects politely, then the broker.
    let _ = stop_tx.send(true);
    let (fleet_task, operator_task) = traffic.await.context("starting the fleet")??;
    let report = tokio::time::timeout(Duration::from_secs(10), fleet_task).await;
    match tokio::time::timeout(Duration::from_secs(5), operator_task).await {
        Ok(Ok(Err(e))) => eprintln!("smqctl demo: the operator stopped with an error: {e:#}"),
        Err(_) => eprintln!("smqctl demo: the operator did not stop in time"),
        _ => {}
    }
    broker.shutdown_all("demo finished");
    let _ = tokio::time::timeout(Duration::from_secs(5), broker_task).await;
    match report {
        Ok(Ok(Ok(r))) => eprintln!(
            "smqctl demo: {} chargers online at peak; operator sent {} commands, {} RPC calls ({} answered), {} deliberate mistake(s)",
            r.peak_online,
            counts.commands.load(Ordering::Relaxed),
            counts.calls.load(Ordering::Relaxed),
            counts.answers.load(Ordering::Relaxed),
            counts.mistakes.load(Ordering::Relaxed),
        ),
        Ok(Ok(Err(e))) => eprintln!("smqctl demo: the fleet stopped with an error: {e:#}"),
        _ => eprintln!("smqctl demo: the fleet did not stop in time"),
    }
    let code = viewer?;
    // A demo stopped with --duration ran as asked.
    Ok(if code == exit::TIMEOUT && args.duration.is_some() {
        exit::OK
    } else {
        code
    })
}

#[derive(Default)]
struct OperatorCounts {
    commands: AtomicU64,
    calls: AtomicU64,
    answers: AtomicU64,
    mistakes: AtomicU64,
}

/// Connects as `demo-operator`, learns device ETIDs from the broker's
/// `DeviceReady` events, and cycles through its actions until `stop`.
async fn operator(
    url: String,
    server: u32,
    every: Duration,
    counts: Arc<OperatorCounts>,
    mut stop: watch::Receiver<bool>,
    subscribed: oneshot::Sender<()>,
) -> Result<()> {
    let endpoint = Endpoint::parse(&url).map_err(crate::client::ClientError::from)?;
    let mut opts = ClientOptions::new(endpoint);
    opts.uid = Some("demo-operator".into());
    opts.info = "smqctl demo operator".into();
    let (client, mut events) = Client::connect(&opts).await?;
    let mut ready = client.subscribe("DeviceReady", None).await?;
    // A dashboard's subscription: the broker re-publishes every report here, and
    // without a subscriber each one would be a drop that hides the mistakes.
    let mut reports = client.subscribe("ChargerState", None).await?;
    let mut answers = client.subscribe("self", Some(RPC_RESP)).await?;
    let _ = subscribed.send(());
    let mut devices: Vec<u32> = Vec::new();
    let mut tick = tokio::time::interval(every);
    let mut n: u64 = 0;
    loop {
        tokio::select! {
            _ = stop.changed() => break,
            Some(m) = ready.rx.recv() => {
                let etid = serde_json::from_slice::<serde_json::Value>(&m.payload)
                    .ok()
                    .and_then(|v| v.get("etid").and_then(serde_json::Value::as_u64));
                if let Some(e) = etid.and_then(|e| u32::try_from(e).ok())
                    && !devices.contains(&e)
                {
                    devices.push(e);
                }
            }
            Some(_) = reports.rx.recv() => {}
            Some(_) = answers.rx.recv() => {
                counts.answers.fetch_add(1, Ordering::Relaxed);
            }
            ev = events.recv() => if ev.is_none() { break },
            _ = tick.tick() => {
                n += 1;
                act(&client, server, &devices, n, &counts).await?;
            }
        }
    }
    client.disconnect("demo finished").await;
    Ok(())
}

/// One operator action; every few actions one is a deliberate mistake.
async fn act(
    client: &Client,
    server: u32,
    devices: &[u32],
    n: u64,
    counts: &OperatorCounts,
) -> Result<()> {
    let json = |s: String| Bytes::from(s.into_bytes());
    match n % 8 {
        // A command to a device (round-robin over those that said DeviceReady).
        0 | 2 | 5 if !devices.is_empty() => {
            let etid = devices[(n as usize / 2) % devices.len()];
            let on = !n.is_multiple_of(3);
            client
                .publish(
                    Dest::Id(etid),
                    Some("SetCharger"),
                    json(format!("{{\"On\":{on}}}")),
                )
                .await?;
            counts.commands.fetch_add(1, Ordering::Relaxed);
        }
        // Correlated RPC calls: one answered, one refused by the handler.
        1 | 4 | 6 => {
            let name = if n % 8 == 6 { "reboot" } else { "getConfig" };
            client
                .publish(
                    Dest::Id(server),
                    Some(RPC_REQ),
                    rpc_request(n, name, &[n.into()]),
                )
                .await?;
            counts.calls.fetch_add(1, Ordering::Relaxed);
        }
        // Mistake: an alert on a topic nobody subscribes to.
        3 => {
            client
                .publish(
                    Dest::Topic("Alerts/Overheat"),
                    None,
                    json(format!("{{\"charger\":{n},\"tempC\":91}}")),
                )
                .await?;
            counts.mistakes.fetch_add(1, Ordering::Relaxed);
        }
        // Mistake: a command to a stale ETID (a device that never existed).
        7 if n % 16 == 7 => {
            client
                .publish(
                    Dest::Id(0x0bad_0001),
                    Some("SetCharger"),
                    json("{\"On\":true}".into()),
                )
                .await?;
            counts.mistakes.fetch_add(1, Ordering::Relaxed);
        }
        // Mistake: a request the broker has no handler for.
        _ => {
            client
                .publish(
                    Dest::Id(server),
                    Some("FirmwareUpdateReq"),
                    json("{\"version\":\"2.1.0\"}".into()),
                )
                .await?;
            counts.mistakes.fetch_add(1, Ordering::Relaxed);
        }
    }
    Ok(())
}

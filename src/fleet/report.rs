//! Counting and telling: the live [`Stats`] every device updates (atomics, no
//! locks on the message path), the final [`Report`] (human summary, one JSON
//! object, the `--report FILE`), and `merge` of the reports of several shards —
//! which also checks that the shards covered every device exactly once.
//!
//! May import: `latency`, `report_html` (the `--html` page), serde, serde_json.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering::Relaxed};

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::latency::Latency;

/// Live counters shared by every device of a fleet.
#[derive(Default)]
pub struct Stats {
    pub connecting: AtomicI64,
    pub online: AtomicI64,
    pub connects: AtomicU64,
    pub reconnects: AtomicU64,
    pub churned: AtomicU64,
    pub killed: AtomicU64,
    pub restarts: AtomicU64,
    pub failed: AtomicU64,
    pub msgs_out: AtomicU64,
    pub msgs_in: AtomicU64,
    pub replies: AtomicU64,
    pub unhandled: AtomicU64,
    /// Periodic messages sent late because the device fell behind.
    pub late: AtomicU64,
    /// Messages out by kind: 0 = ready, 1.. = the periodic messages.
    kinds_out: Vec<AtomicU64>,
    /// Commands in, by rule.
    kinds_in: Vec<AtomicU64>,
    errors: Mutex<BTreeMap<&'static str, u64>>,
    /// The first message of each error kind: what "connect failed 49" was.
    causes: Mutex<BTreeMap<&'static str, String>>,
    pub connect_latency: Mutex<Latency>,
    pub ready_latency: Mutex<Latency>,
    /// Correlated requests (`correlate`): sent, answered, answers matching none.
    pub requests: AtomicU64,
    pub answered: AtomicU64,
    pub uncorrelated: AtomicU64,
    pub request_latency: Mutex<Latency>,
    /// Reconnects by the cause of the drop before them ([`RECONNECT_CAUSES`]).
    reconnect_causes: [AtomicU64; 4],
    /// The `--verify` subscriber's figures: distinct reports and duplicates
    /// as they come, lost once the run's sent counts are known (at its end).
    pub verify_received: AtomicU64,
    pub verify_duplicated: AtomicU64,
    pub verify_lost: AtomicU64,
}

/// Why a device reconnected: the scenario's churn, `--kill-after`, a
/// `restart` command, or a connection lost (or refused) for any other reason.
pub const RECONNECT_CAUSES: [&str; 4] = ["churn", "kill", "restart", "lost"];

impl Stats {
    pub fn new(kinds_out: usize, kinds_in: usize) -> Stats {
        Stats {
            kinds_out: (0..kinds_out).map(|_| AtomicU64::new(0)).collect(),
            kinds_in: (0..kinds_in).map(|_| AtomicU64::new(0)).collect(),
            ..Stats::default()
        }
    }

    pub fn kind_out(&self, i: usize) {
        if let Some(c) = self.kinds_out.get(i) {
            c.fetch_add(1, Relaxed);
        }
    }

    pub fn kind_in(&self, i: usize) {
        if let Some(c) = self.kinds_in.get(i) {
            c.fetch_add(1, Relaxed);
        }
    }

    /// Counts a reconnect caused by `RECONNECT_CAUSES[cause]`.
    pub fn reconnect_cause(&self, cause: usize) {
        if let Some(c) = self.reconnect_causes.get(cause) {
            c.fetch_add(1, Relaxed);
        }
    }

    /// Reconnects so far, by cause, in the order of [`RECONNECT_CAUSES`].
    pub fn reconnects_by_cause(&self) -> [u64; 4] {
        std::array::from_fn(|i| self.reconnect_causes[i].load(Relaxed))
    }

    /// Messages out so far by kind (0 = ready, 1.. = the periodic messages).
    pub fn kinds_out(&self) -> Vec<u64> {
        self.kinds_out.iter().map(|c| c.load(Relaxed)).collect()
    }

    /// Commands in so far, by rule.
    pub fn kinds_in(&self) -> Vec<u64> {
        self.kinds_in.iter().map(|c| c.load(Relaxed)).collect()
    }

    /// Errors so far by kind.
    pub fn errors_by_kind(&self) -> Vec<(&'static str, u64)> {
        self.errors
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .map(|(k, v)| (*k, *v))
            .collect()
    }

    pub fn error(&self, kind: &'static str) {
        *self
            .errors
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(kind)
            .or_default() += 1;
    }

    /// [`Stats::error`], keeping `cause` when it is the kind's first.
    pub fn error_because(&self, kind: &'static str, cause: impl FnOnce() -> String) {
        self.error(kind);
        self.causes
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(kind)
            .or_insert_with(cause);
    }

    pub fn errors_total(&self) -> u64 {
        self.errors
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .values()
            .sum()
    }

    pub fn live(&self) -> Live {
        Live {
            connecting: self.connecting.load(Relaxed).max(0) as u64,
            online: self.online.load(Relaxed).max(0) as u64,
            connects: self.connects.load(Relaxed),
            reconnects: self.reconnects.load(Relaxed),
            msgs_out: self.msgs_out.load(Relaxed),
            msgs_in: self.msgs_in.load(Relaxed),
            commands: self.kinds_in.iter().map(|c| c.load(Relaxed)).sum(),
            replies: self.replies.load(Relaxed),
            errors: self.errors_total(),
            ..Live::default()
        }
    }
}

/// A snapshot for progress lines (`--format json`: `{"type":"stats",...}`).
#[derive(Debug, Clone, Default, Serialize)]
pub struct Live {
    pub elapsed_s: f64,
    /// Devices of this process (the shard).
    pub target: u64,
    /// Devices started so far (the ramp).
    pub started: u64,
    pub connecting: u64,
    pub online: u64,
    pub connects: u64,
    pub reconnects: u64,
    pub msgs_out: u64,
    pub msgs_in: u64,
    pub commands: u64,
    pub replies: u64,
    pub errors: u64,
    /// Rates over the last tick.
    pub out_per_s: f64,
    pub in_per_s: f64,
}

impl Live {
    pub fn line(&self) -> String {
        format!(
            "{:>6.1}s  online {}/{}  connecting {}  out {:.0}/s  in {:.0}/s  commands {} (replies {})  reconnects {}  errors {}",
            self.elapsed_s,
            self.online,
            self.target,
            self.connecting,
            self.out_per_s,
            self.in_per_s,
            self.commands,
            self.replies,
            self.reconnects,
            self.errors
        )
    }
}

/// Sequence accounting of `--verify`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct VerifyReport {
    pub topics: Vec<String>,
    /// Reports the devices sent (sum of their last sequence numbers).
    pub expected: u64,
    /// Distinct reports the verifier received.
    pub received: u64,
    pub lost: u64,
    pub duplicated: u64,
    /// Devices with at least one lost report.
    pub devices_with_loss: u64,
}

impl VerifyReport {
    /// When not one report came back: not loss but a broker that does not
    /// re-publish the reports on the verify topic (it lacks the scenario's
    /// handlers), said as such.
    pub fn none_came_back(&self, scenario: &str) -> Option<String> {
        (self.expected > 0 && self.received == 0).then(|| {
            format!(
                "none of the {} reports came back on {}: the broker does not re-publish them (it needs the scenario's handlers: see `smqctl simulate --print-handlers {scenario}`)",
                self.expected,
                self.topics.join(", ")
            )
        })
    }
}

/// One device in a report (so `merge` can check shards cover each once).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct DeviceRow {
    pub index: u32,
    pub uid: String,
    pub connects: u32,
    /// Reports sent (sum over periodic messages).
    pub sent: u64,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub failed: Option<String>,
}

/// The final summary; also the `--report FILE` format.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Report {
    pub scenario: String,
    pub url: String,
    /// "I/N" per shard, joined with "," after a merge.
    pub shard: String,
    /// Size of the whole fleet (all shards).
    pub fleet: u32,
    /// Devices simulated here.
    pub devices: u64,
    pub elapsed_s: f64,
    pub online_at_end: u64,
    pub peak_online: u64,
    /// Seconds until every device was online (None: never all at once).
    pub all_online_s: Option<f64>,
    pub connects: u64,
    pub reconnects: u64,
    pub churned: u64,
    pub killed: u64,
    pub restarts: u64,
    pub failed: u64,
    pub messages_out: u64,
    pub messages_in: u64,
    pub by_kind_out: BTreeMap<String, u64>,
    pub commands_in: BTreeMap<String, u64>,
    pub replies: u64,
    pub unhandled: u64,
    pub late: u64,
    pub errors: BTreeMap<String, u64>,
    /// The first message of each error kind in `errors` (when one was said).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub error_causes: BTreeMap<String, String>,
    pub connect_ms: Value,
    pub ready_ms: Value,
    /// Correlated requests (scenario `correlate`): sent, answered, responses
    /// that matched no pending request, and request→response latency.
    #[serde(default)]
    pub requests: u64,
    #[serde(default)]
    pub requests_answered: u64,
    #[serde(default)]
    pub responses_uncorrelated: u64,
    #[serde(default)]
    pub request_ms: Value,
    #[serde(default)]
    pub request_hist: Vec<(u64, u64)>,
    /// Connect latency samples as [µs, count] pairs (mergeable).
    pub connect_hist: Vec<(u64, u64)>,
    pub ready_hist: Vec<(u64, u64)>,
    pub verify: Option<VerifyReport>,
    pub device_list: Vec<DeviceRow>,
    /// The run over time, about one sample a second (bounded: see [`Series`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub series: Vec<Sample>,
}

/// The fleet at one moment of the run (`series` of the report).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Sample {
    /// Seconds since the start.
    pub t_s: f64,
    pub online: u64,
    /// Messages per second out and in since the previous sample.
    pub out_per_s: f64,
    pub in_per_s: f64,
    /// Totals so far.
    pub errors: u64,
    pub reconnects: u64,
    /// Request latency (ms) of the requests answered since the previous
    /// sample (None: none answered).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_p50_ms: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_p99_ms: Option<f64>,
}

/// Most samples a series keeps: past it every other sample goes and the
/// stride doubles (a 10-hour run still has ≥ 300 samples, its file stays small).
pub const MAX_SAMPLES: usize = 600;

/// A bounded time series: `push` every tick, it keeps one of each `stride`.
#[derive(Debug, Default)]
pub struct Series {
    pub samples: Vec<Sample>,
    stride: u64,
    ticks: u64,
}

impl Series {
    pub fn new() -> Series {
        Series {
            samples: Vec::new(),
            stride: 1,
            ticks: 0,
        }
    }

    /// Offers one tick's sample; kept when the tick falls on the stride.
    pub fn push(&mut self, s: Sample) {
        let keep = self.ticks.is_multiple_of(self.stride.max(1));
        self.ticks += 1;
        if !keep {
            return;
        }
        self.samples.push(s);
        if self.samples.len() >= MAX_SAMPLES {
            let mut i = 0;
            self.samples.retain(|_| {
                i += 1;
                i % 2 == 1
            });
            self.stride = self.stride.max(1) * 2;
        }
    }

    /// The last sample (the end of the run), even off the stride, unless it
    /// comes within half a second of the one before (its rates would be noise).
    pub fn finish(mut self, last: Sample) -> Vec<Sample> {
        if self.samples.last().is_none_or(|s| s.t_s + 0.5 <= last.t_s) {
            self.samples.push(last);
        }
        self.samples
    }
}

/// The samples of several shards as one series: samples of the same second
/// add up (online, rates, totals); latency percentiles take the worst shard's
/// (percentiles do not add).
pub fn merge_series(shards: &[&[Sample]]) -> Vec<Sample> {
    let mut by_s: BTreeMap<u64, Sample> = BTreeMap::new();
    for shard in shards {
        // One sample per shard per second: the shard's last in that second.
        let mut own: BTreeMap<u64, &Sample> = BTreeMap::new();
        for s in shard.iter() {
            own.insert(s.t_s.max(0.0).round() as u64, s);
        }
        for (k, s) in own {
            let o = by_s.entry(k).or_insert_with(|| Sample {
                t_s: k as f64,
                ..Sample::default()
            });
            o.online += s.online;
            o.out_per_s += s.out_per_s;
            o.in_per_s += s.in_per_s;
            o.errors += s.errors;
            o.reconnects += s.reconnects;
            let worst = |a: Option<f64>, b: Option<f64>| match (a, b) {
                (Some(a), Some(b)) => Some(a.max(b)),
                (a, b) => a.or(b),
            };
            o.request_p50_ms = worst(o.request_p50_ms, s.request_p50_ms);
            o.request_p99_ms = worst(o.request_p99_ms, s.request_p99_ms);
        }
    }
    by_s.into_values().collect()
}

fn hist(buckets: &[(u64, u64)]) -> Latency {
    let mut l = Latency::new();
    for (us, n) in buckets {
        l.record_us_n(*us, *n);
    }
    l
}

impl Report {
    /// Fills in names and latencies from the stats.
    #[allow(clippy::too_many_arguments)]
    pub fn from_stats(
        stats: &Stats,
        names_out: &[String],
        names_in: &[String],
        scenario: &str,
        url: &str,
        shard: (u32, u32),
        fleet: u32,
    ) -> Report {
        let mut by_kind_out = BTreeMap::new();
        for (name, c) in names_out.iter().zip(&stats.kinds_out) {
            *by_kind_out.entry(name.clone()).or_default() += c.load(Relaxed);
        }
        let mut commands_in = BTreeMap::new();
        for (name, c) in names_in.iter().zip(&stats.kinds_in) {
            *commands_in.entry(name.clone()).or_default() += c.load(Relaxed);
        }
        let connect = stats
            .connect_latency
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        let ready = stats
            .ready_latency
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        let request = stats
            .request_latency
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        Report {
            scenario: scenario.to_string(),
            url: url.to_string(),
            shard: format!("{}/{}", shard.0, shard.1),
            fleet,
            connects: stats.connects.load(Relaxed),
            reconnects: stats.reconnects.load(Relaxed),
            churned: stats.churned.load(Relaxed),
            killed: stats.killed.load(Relaxed),
            restarts: stats.restarts.load(Relaxed),
            failed: stats.failed.load(Relaxed),
            messages_out: stats.msgs_out.load(Relaxed),
            messages_in: stats.msgs_in.load(Relaxed),
            by_kind_out,
            commands_in,
            replies: stats.replies.load(Relaxed),
            unhandled: stats.unhandled.load(Relaxed),
            late: stats.late.load(Relaxed),
            errors: stats
                .errors
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .iter()
                .map(|(k, v)| (k.to_string(), *v))
                .collect(),
            error_causes: stats
                .causes
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect(),
            connect_ms: connect.to_json(),
            ready_ms: ready.to_json(),
            connect_hist: connect.buckets(),
            ready_hist: ready.buckets(),
            requests: stats.requests.load(Relaxed),
            requests_answered: stats.answered.load(Relaxed),
            responses_uncorrelated: stats.uncorrelated.load(Relaxed),
            request_ms: request.to_json(),
            request_hist: request.buckets(),
            ..Report::default()
        }
    }

    /// The summary as one JSON object (`"type":"summary"`), without the device list.
    pub fn summary_json(&self) -> Value {
        let mut v = serde_json::to_value(self).unwrap_or(Value::Null);
        if let Value::Object(m) = &mut v {
            m.remove("device_list");
            m.remove("connect_hist");
            m.remove("ready_hist");
            m.remove("request_hist");
            m.remove("series");
            if let Some(reason) = self
                .verify
                .as_ref()
                .and_then(|v| v.none_came_back(&self.scenario))
                && let Some(Value::Object(v)) = m.get_mut("verify")
            {
                v.insert("reason".into(), json!(reason));
            }
            let mut out = serde_json::Map::new();
            out.insert("type".into(), json!("summary"));
            out.extend(std::mem::take(m));
            return Value::Object(out);
        }
        v
    }

    /// The human summary.
    pub fn text(&self) -> String {
        let mut s = String::new();
        let mut line = |k: &str, v: String| {
            s.push_str(&format!("{k:<10} {v}\n"));
        };
        line(
            "simulate",
            format!(
                "{} device(s) of {} (shard {}, fleet {}) against {} for {:.1} s",
                self.devices, self.scenario, self.shard, self.fleet, self.url, self.elapsed_s
            ),
        );
        line(
            "devices",
            format!(
                "peak online {}, online at end {}, all online after {}, failed {}",
                self.peak_online,
                self.online_at_end,
                self.all_online_s
                    .map(|t| format!("{t:.1} s"))
                    .unwrap_or_else(|| "never".into()),
                self.failed
            ),
        );
        line(
            "connects",
            format!(
                "{} ({} reconnects; dropped on purpose: {} churn, {} kill, {} restart command)",
                self.connects, self.reconnects, self.churned, self.killed, self.restarts
            ),
        );
        line("connect", hist(&self.connect_hist).line());
        line("ready", hist(&self.ready_hist).line());
        let kinds: Vec<String> = self
            .by_kind_out
            .iter()
            .map(|(k, v)| format!("{k} {v}"))
            .collect();
        line(
            "sent",
            format!(
                "{} message(s): {}, replies {}{}",
                self.messages_out,
                kinds.join(", "),
                self.replies,
                if self.late > 0 {
                    format!(" ({} late: the devices fell behind)", self.late)
                } else {
                    String::new()
                }
            ),
        );
        let cmds: Vec<String> = self
            .commands_in
            .iter()
            .map(|(k, v)| format!("{k} {v}"))
            .collect();
        line(
            "received",
            format!(
                "{} message(s); commands: {}; unhandled {}",
                self.messages_in,
                if cmds.is_empty() {
                    "none".to_string()
                } else {
                    cmds.join(", ")
                },
                self.unhandled
            ),
        );
        if self.requests > 0 || self.responses_uncorrelated > 0 {
            line(
                "requests",
                format!(
                    "{} sent, {} answered, {} response(s) matching no request; {}",
                    self.requests,
                    self.requests_answered,
                    self.responses_uncorrelated,
                    hist(&self.request_hist).line()
                ),
            );
        }
        let errs: Vec<String> = self
            .errors
            .iter()
            .map(|(k, v)| match self.error_causes.get(k) {
                Some(cause) => format!("{k} {v} (first: {cause})"),
                None => format!("{k} {v}"),
            })
            .collect();
        line(
            "errors",
            if errs.is_empty() {
                "none".into()
            } else {
                errs.join(", ")
            },
        );
        if let Some(v) = &self.verify {
            line(
                "verify",
                format!(
                    "{}: expected {}, received {}, lost {}, duplicated {} ({} device(s) with loss)",
                    v.topics.join(", "),
                    v.expected,
                    v.received,
                    v.lost,
                    v.duplicated,
                    v.devices_with_loss
                ),
            );
            if let Some(reason) = v.none_came_back(&self.scenario) {
                line("", reason);
            }
        }
        s
    }
}

impl Report {
    /// The `--html` page of this report; `params` (the run's settings, from
    /// the command line) come first in its table.
    pub fn html_page(&self, params: Vec<(String, String)>) -> crate::report_html::Page {
        use crate::report_html::{Chart, Histogram, LineChart, Page};
        let mut p = params;
        let mut kv = |k: &str, v: String| p.push((k.to_string(), v));
        kv("scenario", self.scenario.clone());
        kv("broker", self.url.clone());
        kv("shard", self.shard.clone());
        kv("fleet", self.fleet.to_string());
        kv("devices here", self.devices.to_string());
        kv("elapsed", format!("{:.1} s", self.elapsed_s));
        kv(
            "online",
            format!(
                "peak {}, at end {}, all online after {}",
                self.peak_online,
                self.online_at_end,
                self.all_online_s
                    .map(|t| format!("{t:.1} s"))
                    .unwrap_or_else(|| "never".into())
            ),
        );
        kv(
            "connects",
            format!(
                "{} ({} reconnects, {} failed devices)",
                self.connects, self.reconnects, self.failed
            ),
        );
        kv(
            "messages",
            format!("{} out, {} in", self.messages_out, self.messages_in),
        );
        if self.requests > 0 {
            kv(
                "requests",
                format!(
                    "{} sent, {} answered, {} uncorrelated; {}",
                    self.requests,
                    self.requests_answered,
                    self.responses_uncorrelated,
                    hist(&self.request_hist).line()
                ),
            );
        }
        for (k, n) in &self.errors {
            let cause = self
                .error_causes
                .get(k)
                .map(|c| format!(" (first: {c})"))
                .unwrap_or_default();
            kv("error", format!("{k}: {n}{cause}"));
        }
        let verdict = self.verify.as_ref().map(|v| {
            let ok = v.lost == 0 && v.duplicated == 0 && v.none_came_back(&self.scenario).is_none();
            let mut t = format!(
                "verify: {} of {} reports received on {}, {} lost, {} duplicated, {} device(s) with loss",
                v.received,
                v.expected,
                v.topics.join(", "),
                v.lost,
                v.duplicated,
                v.devices_with_loss
            );
            if let Some(r) = v.none_came_back(&self.scenario) {
                t.push_str(": ");
                t.push_str(&r);
            }
            (ok, t)
        });
        let xy = |f: &dyn Fn(&Sample) -> Option<f64>| -> Vec<(f64, f64)> {
            self.series
                .iter()
                .filter_map(|s| f(s).map(|y| (s.t_s, y)))
                .collect()
        };
        let line = |title: &str, y: &str, series: Vec<(String, Vec<(f64, f64)>)>| {
            Chart::Line(LineChart {
                title: title.into(),
                x_label: "seconds".into(),
                y_label: y.into(),
                series,
            })
        };
        let charts = vec![
            line(
                "Online devices",
                "devices",
                vec![("online".into(), xy(&|s| Some(s.online as f64)))],
            ),
            line(
                "Messages per second",
                "msg/s",
                vec![
                    ("out".into(), xy(&|s| Some(s.out_per_s))),
                    ("in".into(), xy(&|s| Some(s.in_per_s))),
                ],
            ),
            Chart::Histogram(Histogram {
                title: "Connect time".into(),
                buckets: self.connect_hist.clone(),
            }),
            Chart::Histogram(Histogram {
                title: "Time to ready".into(),
                buckets: self.ready_hist.clone(),
            }),
            line(
                "Request latency over time",
                "ms",
                vec![
                    ("p50".into(), xy(&|s| s.request_p50_ms)),
                    ("p99".into(), xy(&|s| s.request_p99_ms)),
                ],
            ),
            line(
                "Errors and reconnects (totals)",
                "count",
                vec![
                    ("errors".into(), xy(&|s| Some(s.errors as f64))),
                    ("reconnects".into(), xy(&|s| Some(s.reconnects as f64))),
                ],
            ),
        ];
        Page {
            title: format!("smqctl simulate: {} × {}", self.devices, self.scenario),
            params: p,
            verdict,
            charts,
            // The command adds the --assert outcomes.
            asserts: Vec::new(),
        }
    }
}

/// Merges shard reports. Fails when a device appears in two of them; reports
/// devices of the fleet that none of them covered.
pub fn merge(reports: Vec<Report>) -> Result<(Report, Vec<u32>), String> {
    let mut out = Report::default();
    let mut seen: BTreeMap<u32, usize> = BTreeMap::new();
    let mut connect = Latency::new();
    let mut ready = Latency::new();
    let mut request = Latency::new();
    let mut shards = Vec::new();
    let mut shard_series: Vec<Vec<Sample>> = Vec::new();
    for (n, r) in reports.into_iter().enumerate() {
        if n == 0 {
            out.scenario = r.scenario.clone();
            out.url = r.url.clone();
            out.fleet = r.fleet;
        } else if r.fleet != out.fleet || r.scenario != out.scenario {
            return Err(format!(
                "report #{} is of another fleet ({} devices of {}; the first is {} of {})",
                n + 1,
                r.fleet,
                r.scenario,
                out.fleet,
                out.scenario
            ));
        }
        shards.push(r.shard.clone());
        for d in &r.device_list {
            if let Some(first) = seen.insert(d.index, n) {
                return Err(format!(
                    "device {} ({}) is in report #{} and report #{}: the shards overlap",
                    d.index,
                    d.uid,
                    first + 1,
                    n + 1
                ));
            }
        }
        out.devices += r.devices;
        out.elapsed_s = out.elapsed_s.max(r.elapsed_s);
        out.online_at_end += r.online_at_end;
        out.peak_online += r.peak_online;
        out.all_online_s = match (n, out.all_online_s, r.all_online_s) {
            (0, _, b) => b,
            (_, Some(a), Some(b)) => Some(a.max(b)),
            _ => None,
        };
        out.connects += r.connects;
        out.reconnects += r.reconnects;
        out.churned += r.churned;
        out.killed += r.killed;
        out.restarts += r.restarts;
        out.failed += r.failed;
        out.messages_out += r.messages_out;
        out.messages_in += r.messages_in;
        for (k, v) in r.by_kind_out {
            *out.by_kind_out.entry(k).or_default() += v;
        }
        for (k, v) in r.commands_in {
            *out.commands_in.entry(k).or_default() += v;
        }
        for (k, v) in r.errors {
            *out.errors.entry(k).or_default() += v;
        }
        for (k, v) in r.error_causes {
            out.error_causes.entry(k).or_insert(v);
        }
        out.replies += r.replies;
        out.unhandled += r.unhandled;
        out.late += r.late;
        connect.merge(&hist(&r.connect_hist));
        ready.merge(&hist(&r.ready_hist));
        request.merge(&hist(&r.request_hist));
        out.requests += r.requests;
        out.requests_answered += r.requests_answered;
        out.responses_uncorrelated += r.responses_uncorrelated;
        if let Some(v) = r.verify {
            let o = out.verify.get_or_insert_with(VerifyReport::default);
            for t in v.topics {
                if !o.topics.contains(&t) {
                    o.topics.push(t);
                }
            }
            o.expected += v.expected;
            o.received += v.received;
            o.lost += v.lost;
            o.duplicated += v.duplicated;
            o.devices_with_loss += v.devices_with_loss;
        }
        out.device_list.extend(r.device_list);
        shard_series.push(r.series);
    }
    out.shard = shards.join(",");
    out.connect_ms = connect.to_json();
    out.ready_ms = ready.to_json();
    out.connect_hist = connect.buckets();
    out.ready_hist = ready.buckets();
    out.request_ms = request.to_json();
    out.request_hist = request.buckets();
    out.device_list.sort_by_key(|d| d.index);
    let refs: Vec<&[Sample]> = shard_series.iter().map(Vec::as_slice).collect();
    out.series = merge_series(&refs);
    let missing: Vec<u32> = (0..out.fleet).filter(|i| !seen.contains_key(i)).collect();
    Ok((out, missing))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shard(i: u32, n: u32, fleet: u32) -> Report {
        let (start, end) = crate::fleet::shard_range(fleet, i, n);
        Report {
            scenario: "charger".into(),
            fleet,
            shard: format!("{i}/{n}"),
            devices: u64::from(end - start),
            messages_out: 10,
            device_list: (start..end)
                .map(|index| DeviceRow {
                    index,
                    uid: format!("sim-{index}"),
                    connects: 1,
                    sent: 1,
                    failed: None,
                })
                .collect(),
            ..Report::default()
        }
    }

    #[test]
    fn merge_sums_and_checks_coverage() {
        let (m, missing) = merge(vec![shard(0, 3, 10), shard(1, 3, 10), shard(2, 3, 10)])
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(missing.is_empty());
        assert_eq!(m.devices, 10);
        assert_eq!(m.messages_out, 30);
        assert_eq!(m.shard, "0/3,1/3,2/3");
        let (_, missing) =
            merge(vec![shard(0, 3, 10), shard(2, 3, 10)]).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(missing, vec![3, 4, 5]);
        let e = merge(vec![shard(0, 3, 10), shard(0, 3, 10)]).expect_err("must be refused");
        assert!(e.contains("overlap"), "{e}");
    }

    /// Every count of both shards, each a different non-zero number, so a sum
    /// taken as a difference, a product or not at all shows.
    fn counted(i: u32, k: u64, topics: &[&str]) -> Report {
        let map = |name: &str| BTreeMap::from([(name.to_string(), k + 1)]);
        Report {
            online_at_end: k,
            peak_online: k + 1,
            connects: k + 2,
            reconnects: k + 3,
            churned: k + 4,
            killed: k + 5,
            restarts: k + 6,
            failed: k + 7,
            messages_in: k + 8,
            by_kind_out: map("ChargerState"),
            commands_in: map("SetCharger"),
            errors: map("refused"),
            replies: k + 9,
            unhandled: k + 10,
            late: k + 11,
            requests: k + 12,
            requests_answered: k + 13,
            responses_uncorrelated: k + 14,
            verify: Some(VerifyReport {
                topics: topics.iter().map(|t| t.to_string()).collect(),
                expected: k + 20,
                received: k + 21,
                lost: k + 22,
                duplicated: k + 23,
                devices_with_loss: k + 24,
            }),
            ..shard(i, 2, 10)
        }
    }

    #[test]
    fn merge_adds_every_count_and_the_verify_figures_of_every_shard() {
        let (m, missing) = merge(vec![counted(0, 100, &["A"]), counted(1, 1000, &["A", "B"])])
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(missing.is_empty());
        let sum = |d: u64| 1100 + 2 * d;
        assert_eq!(m.devices, 10);
        assert_eq!(
            [
                m.online_at_end,
                m.peak_online,
                m.connects,
                m.reconnects,
                m.churned,
                m.killed,
                m.restarts,
                m.failed,
                m.messages_in,
                m.replies,
                m.unhandled,
                m.late,
                m.requests,
                m.requests_answered,
                m.responses_uncorrelated,
            ],
            [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14].map(sum)
        );
        for map in [&m.by_kind_out, &m.commands_in, &m.errors] {
            assert_eq!(
                map.values().copied().collect::<Vec<_>>(),
                vec![sum(1)],
                "{map:?}"
            );
        }
        let v = m.verify.expect("merged verify report");
        assert_eq!(
            v.topics,
            vec!["A".to_string(), "B".to_string()],
            "each topic once"
        );
        assert_eq!(
            [
                v.expected,
                v.received,
                v.lost,
                v.duplicated,
                v.devices_with_loss
            ],
            [20, 21, 22, 23, 24].map(sum)
        );
    }

    /// Stats with every counter set to a different non-zero number, two
    /// kinds out, two rules in, errors of two kinds and latency samples.
    fn busy_stats() -> Stats {
        let s = Stats::new(2, 2);
        s.connecting.store(3, Relaxed);
        s.online.store(4, Relaxed);
        s.connects.store(5, Relaxed);
        s.reconnects.store(6, Relaxed);
        s.churned.store(7, Relaxed);
        s.killed.store(8, Relaxed);
        s.restarts.store(9, Relaxed);
        s.failed.store(10, Relaxed);
        s.msgs_out.store(11, Relaxed);
        s.msgs_in.store(12, Relaxed);
        s.replies.store(13, Relaxed);
        s.unhandled.store(14, Relaxed);
        s.late.store(15, Relaxed);
        s.requests.store(16, Relaxed);
        s.answered.store(17, Relaxed);
        s.uncorrelated.store(18, Relaxed);
        s.kind_out(0);
        for _ in 0..3 {
            s.kind_out(1);
        }
        s.kind_out(2); // no such kind: ignored
        for _ in 0..2 {
            s.kind_in(1);
        }
        s.kind_in(7); // no such rule: ignored
        s.error("refused");
        s.error("refused");
        s.error("timeout");
        let lock = |m: &Mutex<Latency>, ms: u64| {
            m.lock()
                .unwrap_or_else(|e| e.into_inner())
                .record(std::time::Duration::from_millis(ms));
        };
        lock(&s.connect_latency, 20);
        lock(&s.ready_latency, 30);
        lock(&s.request_latency, 40);
        s
    }

    fn busy_report() -> Report {
        let names = |a: &str, b: &str| vec![a.to_string(), b.to_string()];
        Report::from_stats(
            &busy_stats(),
            &names("ready", "ChargerState"),
            &names("SetCharger", "Reset"),
            "charger",
            "ws://h/smq.lsp",
            (2, 5),
            50,
        )
    }

    #[test]
    fn stats_count_each_kind_each_rule_and_each_error_into_the_report() {
        let stats = busy_stats();
        assert_eq!(stats.errors_total(), 3);
        let r = busy_report();
        assert_eq!(
            (
                r.scenario.as_str(),
                r.url.as_str(),
                r.shard.as_str(),
                r.fleet
            ),
            ("charger", "ws://h/smq.lsp", "2/5", 50)
        );
        assert_eq!(
            [
                r.connects,
                r.reconnects,
                r.churned,
                r.killed,
                r.restarts,
                r.failed,
                r.messages_out,
                r.messages_in,
                r.replies,
                r.unhandled,
                r.late,
                r.requests,
                r.requests_answered,
                r.responses_uncorrelated,
            ],
            [5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18]
        );
        let map = |pairs: &[(&str, u64)]| -> BTreeMap<String, u64> {
            pairs.iter().map(|(k, v)| (k.to_string(), *v)).collect()
        };
        assert_eq!(r.by_kind_out, map(&[("ready", 1), ("ChargerState", 3)]));
        assert_eq!(r.commands_in, map(&[("SetCharger", 0), ("Reset", 2)]));
        assert_eq!(r.errors, map(&[("refused", 2), ("timeout", 1)]));
        for (what, ms, json, buckets) in [
            ("connect", 20.0, &r.connect_ms, &r.connect_hist),
            ("ready", 30.0, &r.ready_ms, &r.ready_hist),
            ("request", 40.0, &r.request_ms, &r.request_hist),
        ] {
            let p50 = json["p50"].as_f64().unwrap_or(-1.0);
            assert!((p50 - ms).abs() < 0.1, "{what} p50 {json}");
            assert_eq!(buckets.iter().map(|b| b.1).sum::<u64>(), 1, "{what}");
            assert!(buckets[0].0.abs_diff(ms as u64 * 1000) < 100, "{what}");
        }
    }

    #[test]
    fn live_progress_carries_every_counter_and_prints_them() {
        let l = Live {
            elapsed_s: 1.5,
            target: 40,
            out_per_s: 21.0,
            in_per_s: 22.0,
            ..busy_stats().live()
        };
        assert_eq!(
            [
                l.connecting,
                l.online,
                l.connects,
                l.reconnects,
                l.msgs_out,
                l.msgs_in,
                l.commands,
                l.replies,
                l.errors
            ],
            [3, 4, 5, 6, 11, 12, 2, 13, 3]
        );
        assert_eq!(
            l.line(),
            "   1.5s  online 4/40  connecting 3  out 21/s  in 22/s  commands 2 (replies 13)  reconnects 6  errors 3"
        );
    }

    #[test]
    fn summary_json_is_typed_summary_without_the_device_list_or_histograms() {
        let r = Report {
            device_list: shard(0, 1, 2).device_list,
            ..busy_report()
        };
        let v = r.summary_json();
        assert_eq!(v["type"], "summary");
        assert_eq!(v["scenario"], "charger");
        assert_eq!(v["connects"], 5);
        assert_eq!(v["errors"]["refused"], 2);
        assert!(v["connect_ms"]["p50"].is_f64(), "{v}");
        for gone in ["device_list", "connect_hist", "ready_hist", "request_hist"] {
            assert!(v.get(gone).is_none(), "{gone} in {v}");
        }
    }

    #[test]
    fn text_summary_shows_every_figure_of_the_run() {
        let r = Report {
            devices: 10,
            elapsed_s: 12.34,
            online_at_end: 8,
            peak_online: 9,
            all_online_s: Some(2.25),
            verify: Some(VerifyReport {
                topics: vec!["A".into(), "B".into()],
                expected: 31,
                received: 32,
                lost: 33,
                duplicated: 34,
                devices_with_loss: 35,
            }),
            ..busy_report()
        };
        let t = r.text();
        for want in [
            "simulate   10 device(s) of charger (shard 2/5, fleet 50) against ws://h/smq.lsp for 12.3 s\n",
            "devices    peak online 9, online at end 8, all online after 2.2 s, failed 10\n",
            "connects   5 (6 reconnects; dropped on purpose: 7 churn, 8 kill, 9 restart command)\n",
            "connect    min 20.",
            "ready      min 30.",
            "sent       11 message(s): ChargerState 3, ready 1, replies 13 (15 late: the devices fell behind)\n",
            "received   12 message(s); commands: Reset 2, SetCharger 0; unhandled 14\n",
            "requests   16 sent, 17 answered, 18 response(s) matching no request; min 40.",
            "errors     refused 2, timeout 1\n",
            "verify     A, B: expected 31, received 32, lost 33, duplicated 34 (35 device(s) with loss)\n",
        ] {
            assert!(t.contains(want), "want {want:?} in\n{t}");
        }
    }

    #[test]
    fn text_summary_leaves_out_what_did_not_happen() {
        let quiet = Report {
            scenario: "charger".into(),
            ..Report::default()
        };
        let t = quiet.text();
        for want in [
            "all online after never",
            "connect    no samples\n",
            "sent       0 message(s): , replies 0\n",
            "commands: none;",
            "errors     none\n",
        ] {
            assert!(t.contains(want), "want {want:?} in\n{t}");
        }
        for unwanted in ["late:", "requests", "verify"] {
            assert!(!t.contains(unwanted), "{unwanted:?} in\n{t}");
        }
        // Either count alone brings the requests line.
        let only_sent = Report {
            requests: 1,
            ..quiet.clone()
        };
        assert!(only_sent.text().contains("requests   1 sent, 0 answered"));
        let only_stray = Report {
            responses_uncorrelated: 1,
            ..quiet.clone()
        };
        assert!(
            only_stray
                .text()
                .contains("requests   0 sent, 0 answered, 1 response(s) matching no request")
        );
        let one_late = Report { late: 1, ..quiet };
        assert!(
            one_late
                .text()
                .contains("(1 late: the devices fell behind)")
        );
    }

    #[test]
    fn merge_refuses_a_report_of_another_fleet_size_or_scenario() {
        let other_size = merge(vec![shard(0, 2, 10), shard(1, 2, 12)]).expect_err("fleet");
        assert!(
            other_size.contains("report #2 is of another fleet"),
            "{other_size}"
        );
        let other_scenario = Report {
            scenario: "smib".into(),
            ..shard(1, 2, 10)
        };
        let e = merge(vec![shard(0, 2, 10), other_scenario]).expect_err("scenario");
        assert!(e.contains("10 devices of smib"), "{e}");
        // Same fleet and scenario: merged.
        assert!(merge(vec![shard(0, 2, 10), shard(1, 2, 10)]).is_ok());
    }

    #[test]
    fn merge_all_online_is_the_last_shard_to_get_there_or_never_if_one_never_did() {
        let at = |i: u32, t: Option<f64>| Report {
            all_online_s: t,
            ..shard(i, 2, 10)
        };
        let all = |a, b| merge(vec![at(0, a), at(1, b)]).map(|(m, _)| m.all_online_s);
        assert_eq!(all(Some(3.0), Some(5.0)), Ok(Some(5.0)));
        assert_eq!(all(Some(5.0), Some(3.0)), Ok(Some(5.0)));
        assert_eq!(all(None, Some(3.0)), Ok(None));
        assert_eq!(all(Some(3.0), None), Ok(None));
        let one = merge(vec![at(0, Some(4.0))]).map(|(m, _)| m.all_online_s);
        assert_eq!(one, Ok(Some(4.0)));
    }

    #[test]
    fn merge_pools_the_latency_samples_of_every_shard() {
        let with = |i: u32, ms: u64| {
            let mut l = Latency::new();
            l.record(std::time::Duration::from_millis(ms));
            Report {
                connect_hist: l.buckets(),
                ready_hist: l.buckets(),
                request_hist: l.buckets(),
                ..shard(i, 2, 10)
            }
        };
        let (m, _) = merge(vec![with(0, 10), with(1, 50)]).unwrap_or_else(|e| panic!("{e}"));
        for (what, json, buckets) in [
            ("connect", &m.connect_ms, &m.connect_hist),
            ("ready", &m.ready_ms, &m.ready_hist),
            ("request", &m.request_ms, &m.request_hist),
        ] {
            assert_eq!(buckets.len(), 2, "{what} {buckets:?}");
            let min = json["min"].as_f64().unwrap_or(-1.0);
            let max = json["max"].as_f64().unwrap_or(-1.0);
            assert!(
                (min - 10.0).abs() < 0.1 && (max - 50.0).abs() < 0.1,
                "{what} {json}"
            );
        }
        assert!(m.text().contains("connect    min 10."), "{}", m.text());
    }

    #[test]
    fn series_stays_bounded_over_a_long_run_and_keeps_its_start_and_end() {
        let mut s = Series::new();
        for i in 0..10_000u64 {
            s.push(Sample {
                t_s: i as f64,
                online: i,
                ..Sample::default()
            });
        }
        let v = s.finish(Sample {
            t_s: 10_000.0,
            ..Sample::default()
        });
        assert!(
            v.len() <= MAX_SAMPLES + 1 && v.len() > MAX_SAMPLES / 4,
            "{}",
            v.len()
        );
        assert_eq!(v[0].t_s, 0.0);
        assert_eq!(v.last().map(|s| s.t_s), Some(10_000.0));
        // Evenly thinned: the steps between samples are all the same.
        let steps: std::collections::BTreeSet<u64> = v
            .windows(2)
            .take(v.len() - 2)
            .map(|w| (w[1].t_s - w[0].t_s) as u64)
            .collect();
        assert_eq!(steps.len(), 1, "{steps:?}");
    }

    #[test]
    fn merge_series_adds_shards_second_by_second_and_keeps_the_worst_latency() {
        let at = |t: f64, online: u64, p99: Option<f64>| Sample {
            t_s: t,
            online,
            out_per_s: 10.0,
            request_p99_ms: p99,
            ..Sample::default()
        };
        let a = [
            at(0.0, 0, None),
            at(1.02, 3, Some(2.0)),
            at(2.0, 5, Some(1.0)),
        ];
        let b = [at(0.0, 0, None), at(0.98, 4, Some(5.0))];
        let m = merge_series(&[&a, &b]);
        assert_eq!(m.len(), 3);
        assert_eq!((m[1].t_s, m[1].online, m[1].out_per_s), (1.0, 7, 20.0));
        assert_eq!(m[1].request_p99_ms, Some(5.0));
        assert_eq!((m[2].online, m[2].request_p99_ms), (5, Some(1.0)));
    }
}

//! Test harness: an in-process embedded broker on an ephemeral port, and helpers
//! to run the real binary with timeouts (a test fails, it never hangs).

use std::io::{BufRead, BufReader, Read};
use std::net::SocketAddr;
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use smqctl::broker::handlers::HandlerFile;
use smqctl::broker::{Broker, BrokerConfig};
use smqctl::trace::schema::Kind;

/// Longest any single step may take before the test fails.
pub const STEP: Duration = Duration::from_secs(15);

pub struct TestBroker {
    pub addr: SocketAddr,
    pub broker: Broker,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl TestBroker {
    pub fn start() -> TestBroker {
        Self::with_config(BrokerConfig::default())
    }

    pub fn with_config(config: BrokerConfig) -> TestBroker {
        Self::with_config_at(config, "127.0.0.1:0")
    }

    /// A broker on a given address (e.g. the one a stopped broker used, to
    /// simulate a restart).
    pub fn with_config_at(config: BrokerConfig, at: &str) -> TestBroker {
        let at = at.to_string();
        let broker = Broker::new(config);
        let (addr_tx, addr_rx) = mpsc::channel();
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let b = broker.clone();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("test runtime");
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::bind(at.as_str())
                    .await
                    .expect("bind the broker's address");
                addr_tx
                    .send(listener.local_addr().expect("addr"))
                    .expect("send addr");
                let _ = b
                    .run(listener, async {
                        let _ = stop_rx.await;
                    })
                    .await;
            });
        });
        let addr = addr_rx.recv_timeout(STEP).expect("broker started");
        TestBroker {
            addr,
            broker,
            shutdown: Some(stop_tx),
            thread: Some(thread),
        }
    }

    /// A broker answering with the rules of a handler file (`--handlers`).
    pub fn with_handlers(rules: &str) -> TestBroker {
        let b = TestBroker::start();
        install_handlers(&b.broker, rules);
        b
    }

    pub fn url(&self, scheme: &str) -> String {
        format!("{scheme}://{}/smq/", self.addr)
    }
}

impl Drop for TestBroker {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// The real binary with a clean environment (no SMQCTL_* from the developer).
pub fn smqctl() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_smqctl"));
    for (k, _) in std::env::vars() {
        if k.starts_with("SMQCTL_") {
            cmd.env_remove(k);
        }
    }
    cmd.env("NO_COLOR", "1");
    cmd.stdin(Stdio::null());
    cmd
}

/// Runs to completion, failing the test if it takes longer than STEP.
pub fn run(cmd: &mut Command) -> Output {
    let child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn smqctl");
    Running::new(child).wait()
}

/// A background smqctl whose stderr/stdout lines can be awaited.
pub struct Running {
    child: Child,
    stdout_lines: mpsc::Receiver<String>,
    stderr_lines: mpsc::Receiver<String>,
    pub stdout_seen: Vec<String>,
    pub stderr_seen: Vec<String>,
}

fn pump(r: impl Read + Send + 'static) -> mpsc::Receiver<String> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(r).lines() {
            match line {
                Ok(l) => {
                    if tx.send(l).is_err() {
                        break;
                    }
                }
                Err(_) => break,
            }
        }
    });
    rx
}

impl Running {
    pub fn spawn(cmd: &mut Command) -> Running {
        let child = cmd
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn smqctl");
        Running::new(child)
    }

    /// Like [`Running::spawn`] with stdin piped: the test writes to it.
    pub fn spawn_with_stdin(cmd: &mut Command) -> (Running, std::process::ChildStdin) {
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn smqctl");
        let stdin = child.stdin.take().expect("stdin piped");
        (Running::new(child), stdin)
    }

    fn new(mut child: Child) -> Running {
        let stdout_lines = pump(child.stdout.take().expect("stdout piped"));
        let stderr_lines = pump(child.stderr.take().expect("stderr piped"));
        Running {
            child,
            stdout_lines,
            stderr_lines,
            stdout_seen: Vec::new(),
            stderr_seen: Vec::new(),
        }
    }

    /// Waits for a stderr line containing `needle`; returns it.
    pub fn stderr_line(&mut self, needle: &str) -> String {
        self.stderr_line_within(needle, STEP)
    }

    /// Like [`Running::stderr_line`] with its own deadline (for waits that are
    /// longer by design, e.g. a reconnect after a network partition).
    pub fn stderr_line_within(&mut self, needle: &str, limit: Duration) -> String {
        let deadline = Instant::now() + limit;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.stderr_lines.recv_timeout(left) {
                Ok(l) => {
                    self.stderr_seen.push(l.clone());
                    if l.contains(needle) {
                        return l;
                    }
                }
                Err(_) => panic!(
                    "no stderr line containing {needle:?} within {limit:?}; stderr so far: {:?}",
                    self.stderr_seen
                ),
            }
        }
    }

    /// The process id (e.g. to read its memory from /proc).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Sends SIGINT, as Ctrl-C in a terminal does.
    pub fn interrupt(&self) {
        self.signal(Signal::SIGINT);
    }

    /// Sends SIGTERM, as `kill`, Kubernetes or CI do.
    pub fn terminate(&self) {
        self.signal(Signal::SIGTERM);
    }

    pub fn signal(&self, sig: Signal) {
        let pid = i32::try_from(self.child.id()).expect("pid fits");
        kill(Pid::from_raw(pid), sig).unwrap_or_else(|e| panic!("kill -{sig}: {e}"));
    }

    /// Waits for the next stdout line.
    pub fn stdout_line(&mut self) -> String {
        match self.stdout_lines.recv_timeout(STEP) {
            Ok(l) => {
                self.stdout_seen.push(l.clone());
                l
            }
            Err(_) => panic!(
                "no stdout line within {STEP:?}; stderr: {:?}",
                self.stderr_rest()
            ),
        }
    }

    fn stderr_rest(&mut self) -> Vec<String> {
        while let Ok(l) = self.stderr_lines.try_recv() {
            self.stderr_seen.push(l);
        }
        self.stderr_seen.clone()
    }

    /// Waits for exit (killing it after STEP) and collects the rest of the output.
    pub fn wait(mut self) -> Output {
        let deadline = Instant::now() + STEP;
        let status = loop {
            if let Some(s) = self.child.try_wait().expect("try_wait") {
                break s;
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!(
                    "smqctl did not exit within {STEP:?}; stderr: {:?}",
                    self.stderr_rest()
                );
            }
            std::thread::sleep(Duration::from_millis(10));
        };
        let mut stdout: Vec<String> = std::mem::take(&mut self.stdout_seen);
        // The pump threads end at EOF once the process is gone.
        while let Ok(l) = self.stdout_lines.recv_timeout(Duration::from_secs(2)) {
            stdout.push(l);
        }
        let mut stderr: Vec<String> = std::mem::take(&mut self.stderr_seen);
        while let Ok(l) = self.stderr_lines.recv_timeout(Duration::from_secs(2)) {
            stderr.push(l);
        }
        let join = |v: Vec<String>| {
            let mut s = v.join("\n");
            if !s.is_empty() {
                s.push('\n');
            }
            s.into_bytes()
        };
        Output {
            status,
            stdout: join(stdout),
            stderr: join(stderr),
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Parses every stdout line as JSON.
pub fn json_lines(out: &Output) -> Vec<serde_json::Value> {
    text(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON: {l:?}: {e}")))
        .collect()
}

/// Starts `smqctl sub ... -v` and waits until it has subscribed (its "connected
/// to … as ETID" line); returns it with its ETID.
pub fn ready_sub(url: &str, args: &[&str]) -> (Running, u32) {
    let mut cmd = smqctl();
    cmd.arg("sub")
        .args(args)
        .args(["--url", url, "-v", "--format", "json"]);
    let mut sub = Running::spawn(&mut cmd);
    let line = sub.stderr_line("as ETID");
    let etid = line
        .split("as ETID ")
        .nth(1)
        .and_then(|r| r.split(';').next())
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or_else(|| panic!("no ETID in {line:?}"));
    (sub, etid)
}

/// `smqctl pub` that must succeed.
pub fn publish(url: &str, args: &[&str]) -> Output {
    let out = run(smqctl().arg("pub").args(args).args(["--url", url]));
    assert!(
        out.status.success(),
        "pub {args:?} failed: {}",
        text(&out.stderr)
    );
    out
}

/// Installs handler rules (the `--handlers` file format) on `broker`.
pub fn install_handlers(broker: &Broker, rules: &str) {
    let handlers = HandlerFile::parse(rules, "the test's handlers")
        .expect("valid handler rules")
        .install(broker);
    broker.set_handler(std::sync::Arc::new(handlers));
}

/// (uid, None) for a connect, (uid, Some(reason)) for a close.
type Seen = std::sync::Arc<std::sync::Mutex<Vec<(String, Option<String>)>>>;

/// The broker's connects and closes, recorded from the moment this is made:
/// start it before the client under test connects.
pub struct Closes {
    seen: Seen,
}

impl Closes {
    pub fn of(broker: &Broker) -> Closes {
        let mut events = broker.events();
        let seen = Seen::default();
        let s = seen.clone();
        std::thread::spawn(move || {
            loop {
                let entry = match events.blocking_recv() {
                    Ok(rec) => {
                        let uid = rec.event.from.as_ref().and_then(|c| c.uid.clone());
                        match rec.event.kind {
                            Kind::Connect => (uid.unwrap_or_default(), None),
                            Kind::Close => (
                                uid.unwrap_or_default(),
                                Some(rec.event.reason.clone().unwrap_or_default()),
                            ),
                            _ => continue,
                        }
                    }
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => continue,
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => break,
                };
                s.lock().expect("lock").push(entry);
            }
        });
        Closes { seen }
    }

    fn wait<T>(&self, what: &str, find: impl Fn(&[(String, Option<String>)]) -> Option<T>) -> T {
        let deadline = Instant::now() + STEP;
        loop {
            if let Some(t) = find(&self.seen.lock().expect("lock")) {
                return t;
            }
            assert!(
                Instant::now() < deadline,
                "no {what} within {STEP:?}; the broker saw: {:?}",
                self.seen.lock().expect("lock")
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Waits until `uid` has connected (the readiness signal of commands that
    /// print none).
    pub fn connected(&self, uid: &str) {
        self.wait(&format!("connect of {uid:?}"), |seen| {
            seen.iter()
                .any(|(u, r)| u == uid && r.is_none())
                .then_some(())
        })
    }

    /// Why the broker closed the connection of `uid` (waits for it).
    pub fn reason(&self, uid: &str) -> String {
        self.wait(&format!("close of {uid:?}"), |seen| {
            seen.iter()
                .find(|(u, r)| u == uid && r.is_some())
                .and_then(|(_, r)| r.clone())
        })
    }

    /// Waits until `n` connections whose uid starts with `prefix` have closed;
    /// returns their (uid, reason).
    pub fn closed(&self, prefix: &str, n: usize) -> Vec<(String, String)> {
        self.wait(&format!("{n} closes of {prefix}*"), |seen| {
            let got: Vec<(String, String)> = seen
                .iter()
                .filter_map(|(u, r)| Some((u.clone(), r.clone()?)))
                .filter(|(u, _)| u.starts_with(prefix))
                .collect();
            (got.len() >= n).then_some(got)
        })
    }
}

/// The reason the broker logs when a client leaves properly.
pub const SENT_DISCONNECT: &str = "client sent Disconnect";

/// `smqctl broker` run as a subprocess on `127.0.0.1:0`: its real command line
/// (flags, files, TLS set-up), not a `BrokerConfig` built in the test. Killed on
/// drop.
pub struct BrokerProcess {
    pub addr: SocketAddr,
    /// The server ETID from its start-up line (`server ETID N`).
    pub etid: u32,
    pub proc: Running,
}

impl BrokerProcess {
    /// Starts `smqctl broker --listen 127.0.0.1:0 ARGS` and waits for its
    /// `listening on HOST:PORT` line; fails the test if it exits first.
    pub fn start(args: &[&str]) -> BrokerProcess {
        let mut cmd = smqctl();
        cmd.args(["broker", "--listen", "127.0.0.1:0"]).args(args);
        let mut proc = Running::spawn(&mut cmd);
        let line = proc.stdout_line();
        let addr: SocketAddr = line
            .strip_prefix("listening on ")
            .and_then(|a| a.trim().parse().ok())
            .unwrap_or_else(|| {
                panic!("broker's first stdout line is not `listening on ADDR`: {line:?}")
            });
        let banner = proc.stderr_line("server ETID");
        let etid = banner
            .split("server ETID ")
            .nth(1)
            .and_then(|r| r.split(';').next())
            .and_then(|n| n.trim().parse().ok())
            .unwrap_or_else(|| panic!("no server ETID in {banner:?}"));
        BrokerProcess { addr, etid, proc }
    }

    /// `smqctl broker ARGS` that must fail before listening: its output.
    pub fn fails(args: &[&str]) -> Output {
        run(smqctl()
            .args(["broker", "--listen", "127.0.0.1:0"])
            .args(args))
    }

    pub fn url(&self, scheme: &str) -> String {
        format!("{scheme}://{}/smq/", self.addr)
    }
}

/// Asserts every time in a JSON output is rounded to microseconds: numbers
/// under a key ending in `_ms` have at most 3 decimals, `_s` at most 6, rates
/// (`_per_s`) at most 3 (`0.137`, never `0.13718899999999998`).
pub fn assert_times_rounded(v: &serde_json::Value) {
    fn decimals(n: &serde_json::Value) -> usize {
        n.to_string().split_once('.').map_or(0, |(_, f)| f.len())
    }
    fn walk(v: &serde_json::Value, limit: Option<usize>, path: &str) {
        match v {
            serde_json::Value::Number(_) => {
                if let Some(max) = limit {
                    assert!(decimals(v) <= max, "{path} = {v}: more than {max} decimals");
                }
            }
            serde_json::Value::Array(a) => a.iter().for_each(|x| walk(x, limit, path)),
            serde_json::Value::Object(o) => {
                for (k, x) in o {
                    let own = if k.ends_with("_per_s") || k.ends_with("_ms") {
                        Some(3)
                    } else if k.ends_with("_s") {
                        Some(6)
                    } else {
                        limit
                    };
                    walk(x, own, &format!("{path}.{k}"));
                }
            }
            _ => {}
        }
    }
    walk(v, None, "");
}

/// The UID of [`Recording::stop`]'s marker client: its connect and close end
/// a recording, and analyze tests leave it out of what they check.
pub const MARKER_UID: &str = "zz-marker-0001";

/// `smqctl trace -F json` into a file while a test reproduces a mistake with
/// real clients: [`Recording::stop`] waits until every event before it is in
/// the file (a marker client's close is the last line), then the test runs
/// `smqctl analyze --file` on it ([`analyze_file`]).
pub struct Recording {
    tracer: Running,
    url: String,
    dir: tempfile::TempDir,
}

impl Recording {
    /// Attached to the broker at `url` (its "attached" line seen).
    pub fn start(url: &str) -> Recording {
        let mut cmd = smqctl();
        cmd.args(["trace", "--format", "json", "--url", url]);
        let mut tracer = Running::spawn(&mut cmd);
        tracer.stderr_line("attached to the broker's tracer");
        Recording {
            tracer,
            url: url.to_string(),
            dir: tempfile::tempdir().expect("tempdir"),
        }
    }

    /// Ends the recording after everything done so far; returns the file.
    pub fn stop(mut self) -> Recorded {
        // Connects, then closes at its -W: two events no rule reports.
        let _ = run(smqctl()
            .args(["sub", "self", "-W", "50ms", "--uid", MARKER_UID, "--url"])
            .arg(&self.url));
        let mut lines = Vec::new();
        loop {
            let l = self.tracer.stdout_line();
            let done = l.contains("\"close\"") && l.contains(MARKER_UID);
            lines.push(l);
            if done {
                break;
            }
        }
        self.tracer.interrupt();
        let path = self.dir.path().join("trace.ndjson");
        std::fs::write(&path, lines.join("\n") + "\n").expect("write the recording");
        Recorded {
            path,
            _dir: self.dir,
        }
    }
}

/// A finished [`Recording`]: the file (removed with this value).
pub struct Recorded {
    pub path: std::path::PathBuf,
    _dir: tempfile::TempDir,
}

/// `smqctl analyze --file PATH -F json ARGS`: its findings (without the
/// marker's), its summary line, and the whole output (for the exit code).
pub fn analyze_file(
    path: &std::path::Path,
    args: &[&str],
) -> (Vec<serde_json::Value>, serde_json::Value, Output) {
    let out = run(smqctl()
        .args(["analyze", "-F", "json", "--file"])
        .arg(path)
        .args(args));
    let mut lines = json_lines(&out);
    let summary = lines.pop().unwrap_or_else(|| {
        panic!(
            "no output from analyze (exit {:?}): {}",
            out.status.code(),
            text(&out.stderr)
        )
    });
    assert_eq!(summary["type"], "summary", "the last line is the summary");
    let findings = lines
        .into_iter()
        .filter(|f| !f.to_string().contains(MARKER_UID))
        .collect();
    (findings, summary, out)
}

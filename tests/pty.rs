//! A pseudo-terminal driving the real binary as a person would: keys written to
//! the terminal, its output parsed by a VT100 emulator (`vt100`) and read back
//! as the screen, polled with a deadline (never slept on). Shared by the shell,
//! TUI and demo tests. Nothing outside Rust is needed, so these tests run on
//! every machine; a terminal that cannot be opened fails the test.

use std::ffi::OsStr;
use std::io::{Read, Write};
use std::num::NonZeroU16;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use portable_pty::{Child, CommandBuilder, MasterPty, PtySize, native_pty_system};

use crate::harness::STEP;

/// Answers the queries a terminal answers (cursor position, status, device
/// attributes): rustyline asks where the cursor is before each prompt.
#[derive(Default)]
struct Answers {
    pending: Vec<u8>,
}

impl vt100::Callbacks for Answers {
    fn unhandled_csi(
        &mut self,
        screen: &mut vt100::Screen,
        i1: Option<u8>,
        _i2: Option<u8>,
        params: &[&[u16]],
        c: char,
    ) {
        let first = params.first().and_then(|p| p.first()).copied();
        match (i1, c, first) {
            (None, 'n', Some(6)) => {
                let (row, col) = screen.cursor_position();
                let reply = format!("\x1b[{};{}R", row + 1, col + 1);
                self.pending.extend_from_slice(reply.as_bytes());
            }
            (None, 'n', Some(5)) => self.pending.extend_from_slice(b"\x1b[0n"),
            (None, 'c', None | Some(0)) => self.pending.extend_from_slice(b"\x1b[?62;22c"),
            _ => {}
        }
    }
}

type Parser = vt100::Parser<Answers>;

/// What to run in the terminal: `smqctl` (or another binary) with its
/// arguments, working directory, environment and terminal size.
pub struct PtyCommand {
    cmd: CommandBuilder,
    width: u16,
    height: u16,
}

impl PtyCommand {
    /// The test build of smqctl, `SMQCTL_*` settings of the caller removed,
    /// `NO_COLOR` unset (colours on, as in a person's terminal), 80×24.
    pub fn smqctl(args: &[&str]) -> PtyCommand {
        Self::bin(env!("CARGO_BIN_EXE_smqctl"), args)
    }

    pub fn bin(bin: impl AsRef<OsStr>, args: &[&str]) -> PtyCommand {
        let mut cmd = CommandBuilder::new(bin);
        cmd.args(args);
        for (k, _) in std::env::vars_os() {
            if k.to_string_lossy().starts_with("SMQCTL_") {
                cmd.env_remove(k);
            }
        }
        for k in ["NO_COLOR", "COLUMNS", "LINES", "TMUX"] {
            cmd.env_remove(k);
        }
        cmd.env("TERM", "xterm-256color");
        PtyCommand {
            cmd,
            width: 80,
            height: 24,
        }
    }

    pub fn dir(mut self, dir: &Path) -> PtyCommand {
        self.cmd.cwd(dir);
        self
    }

    pub fn env(mut self, key: &str, value: impl AsRef<OsStr>) -> PtyCommand {
        self.cmd.env(key, value);
        self
    }

    pub fn size(mut self, width: u16, height: u16) -> PtyCommand {
        self.width = width;
        self.height = height;
        self
    }

    /// Opens a `width`×`height` terminal and runs the command in it, as the
    /// session leader with the terminal as its controlling terminal.
    pub fn start(self) -> Pty {
        let size = PtySize {
            rows: self.height,
            cols: self.width,
            pixel_width: 0,
            pixel_height: 0,
        };
        let pair = native_pty_system()
            .openpty(size)
            .unwrap_or_else(|e| panic!("cannot open a pseudo-terminal: {e:#}"));
        let argv = self.cmd.get_argv().clone();
        let child = pair
            .slave
            .spawn_command(self.cmd)
            .unwrap_or_else(|e| panic!("cannot start {argv:?} in a pseudo-terminal: {e:#}"));
        // Only the child holds the terminal now: its exit ends the output.
        drop(pair.slave);
        let mut reader = pair
            .master
            .try_clone_reader()
            .unwrap_or_else(|e| panic!("cannot read the pseudo-terminal: {e:#}"));
        let writer = pair
            .master
            .take_writer()
            .unwrap_or_else(|e| panic!("cannot write to the pseudo-terminal: {e:#}"));
        let writer = Arc::new(Mutex::new(writer));
        let parser = Arc::new(Mutex::new(Parser::new_with_callbacks(
            nonzero(self.height),
            nonzero(self.width),
            0,
            Answers::default(),
        )));
        let closed = Arc::new(AtomicBool::new(false));
        let (p, w, c) = (parser.clone(), writer.clone(), closed.clone());
        std::thread::spawn(move || {
            let mut buf = [0u8; 16 * 1024];
            loop {
                match reader.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => {
                        let answers = {
                            let mut parser = lock(&p);
                            parser.process(&buf[..n]);
                            std::mem::take(&mut parser.callbacks_mut().pending)
                        };
                        if !answers.is_empty() {
                            let mut w = lock(&w);
                            let _ = w.write_all(&answers).and_then(|()| w.flush());
                        }
                    }
                }
            }
            c.store(true, Ordering::SeqCst);
        });
        Pty {
            master: pair.master,
            writer,
            parser,
            closed,
            child: Mutex::new(child),
            argv: argv
                .iter()
                .map(|a| a.to_string_lossy().into_owned())
                .collect(),
        }
    }
}

fn nonzero(n: u16) -> NonZeroU16 {
    NonZeroU16::new(n).expect("a terminal size is at least 1×1")
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// How the program in the terminal ended, and the screen it left behind.
#[derive(Debug)]
pub struct Exit {
    /// The exit code; None when a signal killed it.
    pub code: Option<u32>,
    /// The screen after the program exited and all its output was read.
    pub screen: String,
}

/// The terminal's modes as the program left them.
#[derive(Debug)]
pub struct TermState {
    pub alternate_screen: bool,
    pub cursor_hidden: bool,
    /// Line editing (ICANON), echo and signal keys (ISIG) on: not raw.
    pub cooked: bool,
    pub mouse_reporting: bool,
    pub bracketed_paste: bool,
}

/// A program running in a pseudo-terminal; killed when dropped.
pub struct Pty {
    master: Box<dyn MasterPty + Send>,
    writer: Arc<Mutex<Box<dyn Write + Send>>>,
    parser: Arc<Mutex<Parser>>,
    closed: Arc<AtomicBool>,
    child: Mutex<Box<dyn Child + Send + Sync>>,
    argv: Vec<String>,
}

impl Pty {
    /// Runs `smqctl args…` in a `width`×`height` terminal in `dir`.
    pub fn start(dir: &Path, args: &[&str], width: u16, height: u16) -> Pty {
        PtyCommand::smqctl(args)
            .dir(dir)
            .size(width, height)
            .start()
    }

    /// The screen as text: one line per row, trailing blanks trimmed.
    pub fn screen(&self) -> String {
        let parser = lock(&self.parser);
        let screen = parser.screen();
        let (_, cols) = screen.size();
        let mut out = String::new();
        for row in screen.rows(0, cols.get()) {
            out.push_str(row.trim_end());
            out.push('\n');
        }
        out
    }

    /// Polls the screen until `pred` holds; fails the test after STEP.
    pub fn wait_for(&self, what: &str, pred: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + STEP;
        loop {
            let s = self.screen();
            if pred(&s) {
                return s;
            }
            if Instant::now() > deadline {
                panic!("timed out waiting for {what}; screen:\n{s}");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn write(&self, bytes: &[u8]) {
        let mut w = lock(&self.writer);
        w.write_all(bytes)
            .and_then(|()| w.flush())
            .unwrap_or_else(|e| panic!("cannot type into {:?}: {e}", self.argv));
    }

    /// Presses keys, named as tmux names them: `Enter`, `Tab`, `Escape`,
    /// `BSpace`, `Space`, `Up`/`Down`/`Left`/`Right`, `Home`, `End`, `PPage`,
    /// `NPage`, `C-x` for Ctrl-x, or one character for itself.
    pub fn keys(&self, keys: &[&str]) {
        for key in keys {
            let app_cursor = lock(&self.parser).screen().application_cursor();
            let arrow = |c: char| {
                if app_cursor {
                    format!("\x1bO{c}")
                } else {
                    format!("\x1b[{c}")
                }
            };
            let bytes = match *key {
                "Enter" => "\r".to_string(),
                "Tab" => "\t".to_string(),
                "Escape" => "\x1b".to_string(),
                "BSpace" => "\x7f".to_string(),
                "Space" => " ".to_string(),
                "Up" => arrow('A'),
                "Down" => arrow('B'),
                "Right" => arrow('C'),
                "Left" => arrow('D'),
                "Home" => arrow('H'),
                "End" => arrow('F'),
                "PPage" => "\x1b[5~".to_string(),
                "NPage" => "\x1b[6~".to_string(),
                k if k.starts_with("C-") && k.len() == 3 => {
                    let c = k.as_bytes()[2].to_ascii_lowercase();
                    assert!(c.is_ascii_lowercase(), "no such control key: {k}");
                    char::from(c - b'a' + 1).to_string()
                }
                k if k.chars().count() == 1 => k.to_string(),
                k => panic!("unknown key name {k:?}"),
            };
            self.write(bytes.as_bytes());
        }
    }

    /// Types text literally.
    pub fn text(&self, s: &str) {
        self.write(s.as_bytes());
    }

    /// Pastes text as a terminal does (as tmux's `paste-buffer -p`): newlines
    /// sent as carriage returns, the block between bracketed-paste markers when
    /// the program turned bracketed paste on.
    pub fn paste(&self, text: &str) {
        let bracketed = lock(&self.parser).screen().bracketed_paste();
        let body = text.replace('\n', "\r");
        if bracketed {
            self.write(format!("\x1b[200~{body}\x1b[201~").as_bytes());
        } else {
            self.write(body.as_bytes());
        }
    }

    /// Resizes the terminal (the program gets SIGWINCH).
    pub fn resize(&self, width: u16, height: u16) {
        lock(&self.parser)
            .screen_mut()
            .set_size(nonzero(height), nonzero(width));
        self.master
            .resize(PtySize {
                rows: height,
                cols: width,
                pixel_width: 0,
                pixel_height: 0,
            })
            .unwrap_or_else(|e| panic!("cannot resize the terminal: {e:#}"));
    }

    /// Sends SIGTERM to the program, as `kill`, Kubernetes or CI do (not
    /// through the terminal: the program sees a signal, not a key).
    pub fn terminate(&self) {
        self.signal(nix::sys::signal::Signal::SIGTERM);
    }

    pub fn signal(&self, sig: nix::sys::signal::Signal) {
        let pid = lock(&self.child)
            .process_id()
            .unwrap_or_else(|| panic!("{:?} has no process id", self.argv));
        let pid = i32::try_from(pid).expect("pid fits");
        nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), sig)
            .unwrap_or_else(|e| panic!("kill -{sig} {:?}: {e}", self.argv));
    }

    /// Processes still in the program's session (it is the session leader):
    /// what it started and left behind, as "pid command". Linux (/proc).
    pub fn leftover_processes(&self) -> Vec<String> {
        let sid = lock(&self.child)
            .process_id()
            .unwrap_or_else(|| panic!("{:?} has no process id", self.argv));
        let proc = std::fs::read_dir("/proc")
            .unwrap_or_else(|e| panic!("cannot list processes in /proc: {e}"));
        let mut left = Vec::new();
        for entry in proc.flatten() {
            let Some(pid) = entry
                .file_name()
                .to_str()
                .and_then(|n| n.parse::<u32>().ok())
            else {
                continue;
            };
            // Gone meanwhile: not left over.
            let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
                continue;
            };
            // pid (comm) state ppid pgrp session ...; comm may hold spaces.
            let Some((comm, rest)) = stat.rsplit_once(')') else {
                continue;
            };
            let session = rest
                .split_whitespace()
                .nth(3)
                .and_then(|s| s.parse::<u32>().ok());
            if session == Some(sid) && pid != sid {
                let comm = comm.split_once('(').map_or(comm, |(_, c)| c);
                left.push(format!("{pid} {comm}"));
            }
        }
        left
    }

    /// Waits (deadline STEP) for the program to exit and for all its output to
    /// be read; fails the test if it does not, or if something it left behind
    /// still holds the terminal.
    pub fn wait_exit(&self) -> Exit {
        let deadline = Instant::now() + STEP;
        let status = loop {
            let polled = lock(&self.child).try_wait();
            match polled {
                Ok(Some(status)) => break status,
                Ok(None) => {}
                Err(e) => panic!("cannot wait for {:?}: {e}", self.argv),
            }
            if Instant::now() > deadline {
                panic!(
                    "timed out waiting for {:?} to exit; screen:\n{}",
                    self.argv,
                    self.screen()
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        while !self.closed.load(Ordering::SeqCst) {
            if Instant::now() > deadline {
                panic!(
                    "{:?} exited ({status}) but the terminal is still held open; screen:\n{}",
                    self.argv,
                    self.screen()
                );
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        Exit {
            code: status.signal().is_none().then(|| status.exit_code()),
            screen: self.screen(),
        }
    }

    /// The program's process id (to signal it from outside the terminal).
    pub fn pid(&self) -> u32 {
        lock(&self.child)
            .process_id()
            .expect("the program in the terminal has a pid")
    }

    /// The terminal's modes now (after `wait_exit`: as the program left them).
    pub fn state(&self) -> TermState {
        let parser = lock(&self.parser);
        let screen = parser.screen();
        let flags = self
            .master
            .get_termios()
            .expect("the terminal's settings (tcgetattr)")
            .local_flags
            .bits();
        let want = nix::libc::ICANON | nix::libc::ECHO | nix::libc::ISIG;
        TermState {
            alternate_screen: screen.alternate_screen(),
            cursor_hidden: screen.hide_cursor(),
            cooked: flags & want == want,
            mouse_reporting: screen.mouse_protocol_mode() != vt100::MouseProtocolMode::None,
            bracketed_paste: screen.bracketed_paste(),
        }
    }

    /// Fails the test unless the terminal is as a shell expects it back: main
    /// screen, cursor shown, line mode with echo, no mouse or paste reporting.
    pub fn assert_restored(&self) {
        let st = self.state();
        let mut wrong = Vec::new();
        if st.alternate_screen {
            wrong.push("still on the alternate screen");
        }
        if st.cursor_hidden {
            wrong.push("cursor left hidden");
        }
        if !st.cooked {
            wrong.push("terminal left in raw mode (no line editing/echo/signals)");
        }
        if st.mouse_reporting {
            wrong.push("mouse reporting left on");
        }
        if st.bracketed_paste {
            wrong.push("bracketed paste left on");
        }
        assert!(
            wrong.is_empty(),
            "{:?} did not restore the terminal: {}; screen:\n{}",
            self.argv,
            wrong.join(", "),
            self.screen()
        );
    }
}

impl Drop for Pty {
    fn drop(&mut self) {
        let mut child = lock(&self.child);
        if matches!(child.try_wait(), Ok(None)) {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

// ---- the driver itself ----

fn sh(script: &str) -> Pty {
    PtyCommand::bin("sh", &["-c", script]).size(40, 10).start()
}

#[test]
fn pty_reads_the_screen_at_its_size_and_the_exit_code() {
    let t = sh("stty size; printf 'a\\033[3;5Hb'; exit 7");
    let exit = t.wait_exit();
    assert_eq!(exit.code, Some(7), "{exit:?}");
    let rows: Vec<&str> = exit.screen.lines().collect();
    assert_eq!(rows.len(), 10, "{exit:?}");
    assert_eq!(rows[0], "10 40");
    assert_eq!(rows[1], "a");
    assert_eq!(rows[2], "    b");
    t.assert_restored();
}

#[test]
fn pty_sees_a_terminal_left_raw_on_the_alternate_screen_with_a_hidden_cursor() {
    // What a TUI that never restores the terminal leaves behind.
    let t = sh("stty raw -echo; printf '\\033[?1049h\\033[?25l\\033[?2004hTUI'");
    let exit = t.wait_exit();
    assert_eq!(exit.code, Some(0), "{exit:?}");
    let st = t.state();
    assert!(st.alternate_screen && st.cursor_hidden && !st.cooked && st.bracketed_paste);
    let err = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| t.assert_restored()))
        .expect_err("a raw terminal is not restored");
    let msg = err.downcast_ref::<String>().cloned().unwrap_or_default();
    for needle in ["alternate screen", "cursor", "raw mode", "bracketed paste"] {
        assert!(msg.contains(needle), "{needle}: {msg}");
    }
}

#[test]
fn pty_keys_reach_the_program_ctrl_c_signals_it_and_resize_sends_sigwinch() {
    let t = sh(
        "trap 'stty size' WINCH; trap 'echo got-INT' INT; stty -echo; echo ready; \
         IFS= read -r line; echo \"got $line|\"; while :; do sleep 0.05; done",
    );
    t.wait_for("the prompt", |s| s.contains("ready"));
    t.text("hello");
    t.keys(&["Space", "w", "Enter"]);
    t.wait_for("the line read", |s| s.contains("got hello w|"));
    // The terminal is the controlling one: Ctrl-C is SIGINT, as in a shell.
    t.keys(&["C-c"]);
    t.wait_for("the interrupt", |s| s.contains("got-INT"));
    t.resize(60, 12);
    let s = t.wait_for("the new size reported", |s| s.contains("12 60"));
    assert_eq!(s.lines().count(), 12, "{s}");
}

#[test]
fn pty_answers_where_the_cursor_is() {
    // rustyline asks before each prompt; a terminal that never answers makes
    // it wait and guess.
    let t = sh("stty raw -echo; printf '\\033[4;9H\\033[6n'; \
         reply=$(dd bs=1 count=6 2>/dev/null); stty sane; printf '\\n[%s]\\n' \"${reply#?}\"");
    let exit = t.wait_exit();
    assert!(exit.screen.contains("[[4;9R]"), "{exit:?}");
}

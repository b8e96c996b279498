//! A tmux pane driving the real binary as a person would: send-keys in,
//! capture-pane out, polled with a deadline (never slept on). Shared by the
//! shell, TUI and demo tests; each skips with a notice when tmux is missing.

use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use crate::harness::STEP;

static SERVERS: AtomicUsize = AtomicUsize::new(0);

pub fn have_tmux() -> bool {
    let ok = Command::new("tmux")
        .arg("-V")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        eprintln!("notice: tmux not found; skipping this tmux-driven test");
    }
    ok
}

/// A private tmux server (its own socket) with one pane running a command.
pub struct Tmux {
    socket: String,
}

impl Tmux {
    /// Runs `smqctl args…` in a `width`×`height` pane in `dir`; when it exits the
    /// pane prints `smqctl-exit=<code>`, then `tty=cooked` when the terminal
    /// mode was restored (`tty=raw` if smqctl left it raw), and stays open.
    pub fn start(dir: &Path, args: &[&str], width: u16, height: u16) -> Tmux {
        Self::start_bin(env!("CARGO_BIN_EXE_smqctl"), dir, args, width, height)
    }

    pub fn start_bin(bin: &str, dir: &Path, args: &[&str], width: u16, height: u16) -> Tmux {
        let socket = format!(
            "smqctl-test-{}-{}",
            std::process::id(),
            SERVERS.fetch_add(1, Ordering::SeqCst)
        );
        let quoted: Vec<String> = args.iter().map(|a| format!("'{a}'")).collect();
        let script = format!(
            "unset NO_COLOR; '{bin}' {} 2>&1; echo smqctl-exit=$?; \
             if stty -a | grep -q -- ' icanon'; then echo tty=cooked; else echo tty=raw; fi; sleep 600",
            quoted.join(" ")
        );
        let status = Command::new("tmux")
            .args(["-L", &socket, "-f", "/dev/null", "new-session", "-d"])
            .args(["-x", &width.to_string(), "-y", &height.to_string()])
            .arg("-c")
            .arg(dir)
            .args(["sh", "-c", &script])
            .env_remove("TMUX")
            .status()
            .expect("run tmux");
        assert!(status.success(), "tmux new-session failed");
        Tmux { socket }
    }

    /// Runs a shell command line as it is (no exit/tty report) in a pane.
    pub fn command(cmd: &str, width: u16, height: u16) -> Tmux {
        let socket = format!(
            "smqctl-test-{}-{}",
            std::process::id(),
            SERVERS.fetch_add(1, Ordering::SeqCst)
        );
        let status = Command::new("tmux")
            .args(["-L", &socket, "-f", "/dev/null", "new-session", "-d"])
            .args(["-x", &width.to_string(), "-y", &height.to_string()])
            .arg(cmd)
            .env_remove("TMUX")
            .status()
            .expect("run tmux");
        assert!(status.success(), "tmux new-session failed");
        Tmux { socket }
    }

    /// Pastes text as a terminal does with bracketed paste on.
    pub fn paste(&self, text: &str) {
        let run = |args: &[&str]| {
            let ok = Command::new("tmux")
                .args(["-L", &self.socket])
                .args(args)
                .status()
                .expect("tmux");
            assert!(ok.success(), "tmux {args:?}");
        };
        run(&["set-buffer", "-b", "paste", text]);
        run(&["paste-buffer", "-p", "-b", "paste"]);
    }

    /// Whether the pane's session still exists.
    pub fn alive(&self) -> bool {
        Command::new("tmux")
            .args(["-L", &self.socket, "has-session"])
            .output()
            .is_ok_and(|o| o.status.success())
    }

    pub fn screen(&self) -> String {
        let out = Command::new("tmux")
            .args(["-L", &self.socket, "capture-pane", "-p"])
            .output()
            .expect("capture-pane");
        String::from_utf8_lossy(&out.stdout).into_owned()
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

    pub fn keys(&self, keys: &[&str]) {
        let status = Command::new("tmux")
            .args(["-L", &self.socket, "send-keys"])
            .args(keys)
            .status()
            .expect("send-keys");
        assert!(status.success());
    }

    /// Types text literally.
    pub fn text(&self, s: &str) {
        let status = Command::new("tmux")
            .args(["-L", &self.socket, "send-keys", "-l", s])
            .status()
            .expect("send-keys -l");
        assert!(status.success());
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["-L", &self.socket, "kill-server"])
            .status();
    }
}

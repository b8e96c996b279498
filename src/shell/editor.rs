//! The shell's line editor: rustyline on a thread of its own (it blocks), fed
//! prompts and giving back lines over channels so the prompt loop can
//! `select!` a line against signals; its history file; the external printer
//! that becomes the session's [`Out`]; and saving and restoring the
//! terminal's mode around it (SIGTERM can come while it is in raw mode).
//!
//! May import: sibling `complete` (the helper it runs with) and `session`
//! (the [`Out`] sink); rustyline, nix. Never `commands`.

use std::path::PathBuf;

use tokio::sync::mpsc;

use super::complete;
use super::prompt::LivePrompt;
use super::session::{Out, lock};

/// What can go wrong with the line editor.
#[derive(Debug, thiserror::Error)]
pub enum EditorError {
    #[error("the line editor did not start")]
    NotStarted(#[source] std::sync::mpsc::RecvError),
    #[error("cannot start the line editor: {0}")]
    Start(String),
    #[error("the line editor stopped")]
    Stopped,
    #[error("cannot read the line: {0}")]
    Read(String),
}

/// `$XDG_STATE_HOME/smqctl/history`, else `~/.local/state/smqctl/history`.
pub fn history_path() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_STATE_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/state")))?;
    Some(base.join("smqctl").join("history"))
}

pub enum Read {
    Line(String),
    Interrupted,
    Eof,
}

/// The line editor on a thread of its own: it gets a prompt, gives back a line.
pub struct Editor {
    prompts: std::sync::mpsc::Sender<LivePrompt>,
    lines: mpsc::Receiver<Result<Read, String>>,
}

pub fn start_editor(helper: complete::ShellHelper) -> Result<(Editor, Out), EditorError> {
    let (prompt_tx, prompt_rx) = std::sync::mpsc::channel::<LivePrompt>();
    let (line_tx, line_rx) = mpsc::channel(1);
    let (ready_tx, ready_rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let config = rustyline::Config::builder()
            .max_history_size(2000)
            .map(|b| {
                b.completion_type(rustyline::CompletionType::List)
                    .auto_add_history(true)
                    .build()
            });
        let editor = config.and_then(
            rustyline::Editor::<complete::ShellHelper, rustyline::history::FileHistory>::with_config,
        );
        let mut editor = match editor {
            Ok(e) => e,
            Err(e) => {
                let _ = ready_tx.send(Err(e.to_string()));
                return;
            }
        };
        editor.set_helper(Some(helper));
        let history = history_path();
        if let Some(path) = &history {
            let _ = editor.load_history(path);
        }
        match editor.create_external_printer() {
            Ok(p) => {
                let p: Box<dyn rustyline::ExternalPrinter + Send> = Box::new(p);
                let _ = ready_tx.send(Ok(p));
            }
            Err(e) => {
                let _ = ready_tx.send(Err(e.to_string()));
                return;
            }
        }
        while let Ok(prompt) = prompt_rx.recv() {
            let read = match editor.readline(&prompt) {
                Ok(line) => {
                    if let Some(path) = &history
                        && !line.trim().is_empty()
                    {
                        if let Some(dir) = path.parent() {
                            let _ = std::fs::create_dir_all(dir);
                        }
                        let _ = editor.append_history(path);
                    }
                    Ok(Read::Line(line))
                }
                Err(rustyline::error::ReadlineError::Interrupted) => Ok(Read::Interrupted),
                Err(rustyline::error::ReadlineError::Eof) => Ok(Read::Eof),
                Err(e) => Err(e.to_string()),
            };
            if line_tx.blocking_send(read).is_err() {
                break;
            }
        }
    });
    let printer = ready_rx
        .recv()
        .map_err(EditorError::NotStarted)?
        .map_err(EditorError::Start)?;
    let out = Out::Editor(std::sync::Arc::new(std::sync::Mutex::new(printer)));
    Ok((
        Editor {
            prompts: prompt_tx,
            lines: line_rx,
        },
        out,
    ))
}

impl Editor {
    /// Shows the prompt; [`Editor::answer`] gets the line.
    pub fn ask(&mut self, prompt: LivePrompt) -> Result<(), EditorError> {
        self.prompts.send(prompt).map_err(|_| EditorError::Stopped)
    }

    /// The line for the last prompt. Cancel-safe.
    pub async fn answer(&mut self) -> Result<Read, EditorError> {
        match self.lines.recv().await {
            Some(Ok(r)) => Ok(r),
            Some(Err(e)) => Err(EditorError::Read(e)),
            None => Ok(Read::Eof),
        }
    }
}

/// Saving and restoring the terminal's mode around the line editor.
pub mod terminal {
    #[cfg(unix)]
    pub type Saved = Option<nix::sys::termios::Termios>;
    #[cfg(not(unix))]
    pub type Saved = ();

    pub fn save() -> Saved {
        #[cfg(unix)]
        {
            nix::sys::termios::tcgetattr(std::io::stdin()).ok()
        }
    }

    /// Puts the saved mode back, ends bracketed paste (which the editor turns
    /// on while it reads) and leaves the cursor on a fresh line.
    pub fn restore(saved: Saved) {
        use std::io::{IsTerminal, Write};
        let mut out = std::io::stdout();
        if out.is_terminal() {
            let _ = out.write_all(b"\x1b[?2004l\r\n");
            let _ = out.flush();
        }
        #[cfg(unix)]
        if let Some(t) = saved {
            let _ = nix::sys::termios::tcsetattr(
                std::io::stdin(),
                nix::sys::termios::SetArg::TCSANOW,
                &t,
            );
        }
        #[cfg(not(unix))]
        let _ = saved;
    }

    /// A last line on the terminal after [`restore`], written at once (the
    /// editor's printer would leave it to the editor's thread).
    pub fn say(text: &str) {
        use std::io::Write;
        let mut out = std::io::stdout();
        let _ = writeln!(out, "{text}");
        let _ = out.flush();
    }
}

/// An [`Out`] that can be re-pointed once the editor exists; until then it
/// writes like a script would.
#[derive(Clone, Default)]
pub struct SharedOut(std::sync::Arc<std::sync::Mutex<Option<Out>>>);

impl SharedOut {
    pub fn out(&self) -> Out {
        Out::Deferred(self.0.clone())
    }
    pub fn set(&self, out: Out) {
        *lock(&self.0) = Some(out);
    }
}

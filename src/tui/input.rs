//! Key handling: one handler per mode (normal, help overlay, prompt) and per
//! view, each turning a key into a state change and saying what the loop must
//! do next ([`Action`]). No I/O here: export only asks the loop to write.
//! The keys of the senders view, the plot and its picker, and the diff
//! toggle are small: their logic is in `app`, `fields` and `history`.
//!
//! May import: `tui::app`, `trace::schema`, crossterm key types.
//! Never `commands`: the loop there maps an [`Action`] to an exit code.

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

use super::act::{self, Request};
use super::app::{App, Flash, Mode, Prompt, PromptKind, Tab};
use super::editor::{Editor, Outcome};
use super::fields::{MAX_SHOWN, Picker};
use crate::trace::schema::Kind;

/// What the loop does after a key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Nothing changed on screen.
    None,
    Redraw,
    /// The user quit (`q`): leave, the work is done.
    Quit,
    /// Ctrl-C as a key: leave as interrupted (the command says with what exit code).
    Interrupt,
    /// Write the filtered events to this path.
    Export(String),
    /// Publish or observe on the broker (`r`, `R`, `o`): the command's
    /// connection does it and reports back ([`App::act_report`]).
    Act(Request),
    /// Put this text on the clipboard (OSC 52) (`y`).
    Copy(String),
}

/// Handles one key.
pub fn handle_key(app: &mut App, key: KeyEvent) -> Action {
    if key.kind == KeyEventKind::Release {
        return Action::None;
    }
    if key.modifiers.contains(KeyModifiers::CONTROL) && key.code == KeyCode::Char('c') {
        return Action::Interrupt;
    }
    // Any key clears a transient message.
    let had_flash = app.flash.take().is_some();
    let action = match app.mode.clone() {
        Mode::Help => help_key(app, key),
        Mode::Prompt(p) => prompt_key(app, p, key),
        Mode::Editor(e) => editor_key(app, e, key),
        Mode::Picker(p) => picker_key(app, p, key),
        Mode::Normal => normal_key(app, key),
    };
    match action {
        Action::None if had_flash => Action::Redraw,
        a => a,
    }
}

fn help_key(app: &mut App, key: KeyEvent) -> Action {
    match key.code {
        KeyCode::Char('q') => Action::Quit,
        _ => {
            app.mode = Mode::Normal;
            Action::Redraw
        }
    }
}

fn patterns(input: &str) -> Vec<String> {
    input
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

/// Applies what the prompt holds so far (text filters apply as typed).
fn apply_prompt(app: &mut App, p: &Prompt) {
    let mut f = app.filter.clone();
    match p.kind {
        PromptKind::Text => f.text = p.input.clone(),
        PromptKind::Include => f.include = patterns(&p.input),
        PromptKind::Exclude => f.exclude = patterns(&p.input),
        PromptKind::Export => return,
    }
    if f != app.filter {
        app.set_filter(f);
    }
}

fn prompt_key(app: &mut App, mut p: Prompt, key: KeyEvent) -> Action {
    match key.code {
        KeyCode::Esc => {
            if p.kind != PromptKind::Export && app.filter != p.before {
                app.set_filter(p.before);
            }
            app.mode = Mode::Normal;
            return Action::Redraw;
        }
        KeyCode::Enter => {
            app.mode = Mode::Normal;
            if p.kind == PromptKind::Export {
                let path = p.input.trim().to_string();
                if path.is_empty() {
                    return Action::Redraw;
                }
                return Action::Export(path);
            }
            apply_prompt(app, &p);
            return Action::Redraw;
        }
        KeyCode::Backspace => {
            p.input.pop();
        }
        KeyCode::Char(c) if !key.modifiers.contains(KeyModifiers::CONTROL) => {
            if p.input.len() < 1024 {
                p.input.push(c);
            }
        }
        KeyCode::Char('u') => p.input.clear(),
        _ => return Action::None,
    }
    apply_prompt(app, &p);
    app.mode = Mode::Prompt(p);
    Action::Redraw
}

fn open_prompt(app: &mut App, kind: PromptKind, input: String) -> Action {
    app.mode = Mode::Prompt(Prompt {
        kind,
        input,
        before: app.filter.clone(),
    });
    Action::Redraw
}

fn editor_key(app: &mut App, mut ed: Editor, key: KeyEvent) -> Action {
    match ed.key(key) {
        Outcome::Editing => app.mode = Mode::Editor(ed),
        Outcome::Cancel => app.mode = Mode::Normal,
        Outcome::Send(r) => {
            app.mode = Mode::Normal;
            return Action::Act(r);
        }
    }
    Action::Redraw
}

fn say(app: &mut App, text: impl Into<String>, error: bool) -> Action {
    app.flash = Some(Flash {
        text: text.into(),
        error,
    });
    Action::Redraw
}

/// `r`, `R`, `o`, `y` on the selected event.
fn act_key(app: &mut App, c: char) -> Action {
    let Some(e) = app.selected_event() else {
        return say(app, "no event selected", true);
    };
    if c == 'y' {
        // Copying needs no connection: a recorded message can be sent again.
        return match act::command_line(e) {
            Ok(line) => Action::Copy(line),
            Err(why) => say(app, why, true),
        };
    }
    if !app.can_act {
        return say(
            app,
            "acting needs a broker connection (--url); this is a --file replay",
            true,
        );
    }
    let opened = match c {
        'r' => Editor::reply(e),
        'R' => Editor::republish(e),
        _ => {
            let Some((etid, label)) = act::sender_label(e) else {
                return say(app, "the selected event has no sender to observe", true);
            };
            if app.observed.get(&etid).is_some_and(|w| !w.gone) {
                return say(app, format!("already observing {label}"), false);
            }
            if app.observed.len() >= super::app::KEY_CAP && !app.observed.contains_key(&etid) {
                return say(app, "too many observed senders", true);
            }
            let w = act::Watch {
                label: label.clone(),
                gone: false,
            };
            app.observed.insert(etid, w);
            return Action::Act(Request::Observe { etid, label });
        }
    };
    match opened {
        Ok(ed) => {
            app.mode = Mode::Editor(ed);
            Action::Redraw
        }
        Err(why) => say(app, why, true),
    }
}

/// Keys that work in every view.
fn normal_key(app: &mut App, key: KeyEvent) -> Action {
    match key.code {
        KeyCode::Char('q') => return Action::Quit,
        KeyCode::Char('?') | KeyCode::F(1) => {
            app.mode = Mode::Help;
            return Action::Redraw;
        }
        KeyCode::Tab => {
            app.tab = match app.tab {
                Tab::Events => Tab::Stats,
                Tab::Stats => Tab::Topics,
                Tab::Topics => Tab::Findings,
                Tab::Findings => Tab::Senders,
                Tab::Senders => Tab::Plot,
                Tab::Plot => Tab::Events,
            };
            return Action::Redraw;
        }
        KeyCode::BackTab => {
            app.tab = match app.tab {
                Tab::Events => Tab::Plot,
                Tab::Stats => Tab::Events,
                Tab::Topics => Tab::Stats,
                Tab::Findings => Tab::Topics,
                Tab::Senders => Tab::Findings,
                Tab::Plot => Tab::Senders,
            };
            return Action::Redraw;
        }
        KeyCode::Char('1') => {
            app.tab = Tab::Events;
            return Action::Redraw;
        }
        KeyCode::Char('2') => {
            app.tab = Tab::Stats;
            return Action::Redraw;
        }
        KeyCode::Char('3') => {
            app.tab = Tab::Topics;
            return Action::Redraw;
        }
        KeyCode::Char('4') => {
            app.tab = Tab::Findings;
            return Action::Redraw;
        }
        KeyCode::Char('5') => {
            if let Err(e) = app.show_senders() {
                flash_error(app, e);
            }
            return Action::Redraw;
        }
        KeyCode::Char('6') => {
            app.tab = Tab::Plot;
            return Action::Redraw;
        }
        KeyCode::Char(' ') | KeyCode::Char('p') => {
            app.toggle_pause();
            return Action::Redraw;
        }
        KeyCode::Char('/') => {
            let text = app.filter.text.clone();
            return open_prompt(app, PromptKind::Text, text);
        }
        KeyCode::Char('t') => {
            let text = app.filter.include.join(",");
            return open_prompt(app, PromptKind::Include, text);
        }
        KeyCode::Char('x') => {
            let text = app.filter.exclude.join(",");
            return open_prompt(app, PromptKind::Exclude, text);
        }
        KeyCode::Char('e') => {
            let name = format!(
                "smqctl-export-{}.ndjson",
                jiff::Zoned::now().strftime("%Y%m%d-%H%M%S")
            );
            return open_prompt(app, PromptKind::Export, name);
        }
        KeyCode::Char('d') => {
            let mut f = app.filter.clone();
            f.toggle_kind(Kind::Drop);
            app.set_filter(f);
            return Action::Redraw;
        }
        KeyCode::Char('m') => {
            // Messages only: publish, drop and deny (toggle).
            let mut f = app.filter.clone();
            let messages = [Kind::Publish, Kind::Drop, Kind::Deny];
            if messages.iter().all(|k| f.kinds.contains(k)) && f.kinds.len() == 3 {
                f.kinds.clear();
            } else {
                f.kinds = messages.into_iter().collect();
            }
            app.set_filter(f);
            return Action::Redraw;
        }
        KeyCode::Char('c') => {
            app.pin = None;
            app.set_filter(Default::default());
            app.flash = Some(Flash {
                text: "filter cleared".into(),
                error: false,
            });
            return Action::Redraw;
        }
        _ => {}
    }
    match app.tab {
        Tab::Events => events_key(app, key),
        Tab::Topics => topics_key(app, key),
        Tab::Findings => findings_key(app, key),
        Tab::Senders => senders_key(app, key),
        Tab::Plot => plot_key(app, key),
        Tab::Stats => Action::None,
    }
}

fn flash_error(app: &mut App, text: impl Into<String>) {
    app.flash = Some(Flash {
        text: text.into(),
        error: true,
    });
}

/// `g` and `G` of the events and plot views: plot a field of the selected
/// event (opens the picker), remove the field plotted last.
fn plot_field_key(app: &mut App, key: KeyEvent) -> Action {
    match key.code {
        KeyCode::Char('g') => {
            if let Err(e) = app.open_picker() {
                flash_error(app, e);
            }
        }
        KeyCode::Char('G') => match app.plot.remove_last() {
            Some(f) => {
                app.flash = Some(Flash {
                    text: format!(
                        "removed {} of {} from the plot ({} fields left)",
                        f.label,
                        f.key.label(),
                        app.plot.fields.len()
                    ),
                    error: false,
                })
            }
            None => flash_error(app, "nothing is plotted (g plots a field)"),
        },
        _ => return Action::None,
    }
    Action::Redraw
}

/// The field picker: type to narrow, arrows, Enter plots, Esc cancels.
fn picker_key(app: &mut App, mut p: Picker, key: KeyEvent) -> Action {
    let page = app.viewport.max(1) as isize;
    match key.code {
        KeyCode::Esc => app.mode = Mode::Normal,
        KeyCode::Enter => {
            app.mode = Mode::Normal;
            match app.plot_chosen(&p) {
                Ok(label) => {
                    let f = app.plot.fields.last();
                    let values: u64 = f.map_or(0, |f| f.series.iter().map(|s| s.count).sum());
                    let skipped = f.map_or(0, |f| f.skipped());
                    app.flash = Some(Flash {
                        text: format!(
                            "plotting {label}: {values} values from the buffer, {skipped} skipped"
                        ),
                        error: false,
                    });
                }
                Err(e) => flash_error(app, e),
            }
            return Action::Redraw;
        }
        KeyCode::Up => p.move_by(-1),
        KeyCode::Down => p.move_by(1),
        KeyCode::PageUp => p.move_by(-page),
        KeyCode::PageDown => p.move_by(page),
        KeyCode::Home => p.move_by(isize::MIN),
        KeyCode::End => p.move_by(isize::MAX),
        KeyCode::Backspace => p.backspace(),
        KeyCode::Char(c) if !key.modifiers.contains(KeyModifiers::CONTROL) => p.type_char(c),
        _ => return Action::None,
    }
    if matches!(app.mode, Mode::Picker(_)) {
        app.mode = Mode::Picker(p);
    }
    Action::Redraw
}

/// The plot view: more or fewer series, and `g`/`G`.
fn plot_key(app: &mut App, key: KeyEvent) -> Action {
    let n = &mut app.plot.top_n;
    match key.code {
        KeyCode::Char('+') => *n = (*n + 1).min(MAX_SHOWN),
        KeyCode::Char('-') => *n = n.saturating_sub(1).max(1),
        _ => return plot_field_key(app, key),
    }
    Action::Redraw
}

/// The senders view: move the selection.
fn senders_key(app: &mut App, key: KeyEvent) -> Action {
    let max = app
        .senders_key
        .as_ref()
        .and_then(|k| app.senders.stream(k))
        .map_or(0, |s| s.senders.len())
        .saturating_sub(1);
    let page = app.viewport.max(1);
    let s = &mut app.senders_scroll;
    match key.code {
        KeyCode::Up | KeyCode::Char('k') => *s = s.saturating_sub(1),
        KeyCode::Down | KeyCode::Char('j') => *s = (*s + 1).min(max),
        KeyCode::PageUp => *s = s.saturating_sub(page),
        KeyCode::PageDown => *s = (*s + page).min(max),
        KeyCode::Home => *s = 0,
        KeyCode::End => *s = max,
        _ => return Action::None,
    }
    Action::Redraw
}

/// The findings list: select, and Enter shows the evidence in the events view.
fn findings_key(app: &mut App, key: KeyEvent) -> Action {
    let max = app.findings().len().saturating_sub(1);
    let page = app.viewport.max(1);
    let s = &mut app.findings_scroll;
    match key.code {
        KeyCode::Up | KeyCode::Char('k') => *s = s.saturating_sub(1),
        KeyCode::Down | KeyCode::Char('j') => *s = (*s + 1).min(max),
        KeyCode::PageUp => *s = s.saturating_sub(page),
        KeyCode::PageDown => *s = (*s + page).min(max),
        KeyCode::Home | KeyCode::Char('g') => *s = 0,
        KeyCode::End | KeyCode::Char('G') => *s = max,
        KeyCode::Enter => {
            if app.findings().is_empty() {
                return Action::None;
            }
            if !app.pin_finding(app.findings_scroll.min(max)) {
                app.flash = Some(Flash {
                    text: "this finding's events are no longer in the buffer (--buffer)".into(),
                    error: true,
                });
            }
        }
        _ => return Action::None,
    }
    Action::Redraw
}

/// The events table and its detail pane.
fn events_key(app: &mut App, key: KeyEvent) -> Action {
    let page = app.viewport.max(1) as isize;
    match key.code {
        KeyCode::Up | KeyCode::Char('k') => app.move_selection(-1),
        KeyCode::Down | KeyCode::Char('j') => app.move_selection(1),
        KeyCode::PageUp => app.move_selection(-page),
        KeyCode::PageDown => app.move_selection(page),
        KeyCode::Home => app.select_first(),
        KeyCode::End => app.select_last(),
        KeyCode::Char('g') | KeyCode::Char('G') => return plot_field_key(app, key),
        KeyCode::Char('D') => {
            app.diff = !app.diff || !app.detail;
            app.detail = true;
            app.detail_scroll = 0;
        }
        KeyCode::Enter => {
            app.detail = !app.detail;
            app.detail_scroll = 0;
        }
        KeyCode::Esc if app.detail => app.detail = false,
        KeyCode::Esc if app.pin.is_some() => app.unpin(),
        KeyCode::Char('J') | KeyCode::Char(']') if app.detail => {
            app.detail_scroll = app.detail_scroll.saturating_add(1)
        }
        KeyCode::Char('K') | KeyCode::Char('[') if app.detail => {
            app.detail_scroll = app.detail_scroll.saturating_sub(1)
        }
        KeyCode::Char(c @ ('r' | 'R' | 'o' | 'y')) => return act_key(app, c),
        KeyCode::Char('+') | KeyCode::Char('-') => {
            let Some(name) = app
                .selected_event()
                .and_then(|e| e.to.as_ref()?.name.clone())
            else {
                app.flash = Some(Flash {
                    text: "the selected event has no topic to keep or hide".into(),
                    error: true,
                });
                return Action::Redraw;
            };
            let mut f = app.filter.clone();
            if key.code == KeyCode::Char('+') {
                f.include = vec![name];
            } else if !f.exclude.contains(&name) {
                f.exclude.push(name);
            }
            app.set_filter(f);
        }
        _ => return Action::None,
    }
    Action::Redraw
}

fn topics_key(app: &mut App, key: KeyEvent) -> Action {
    let max = app.topics.len().saturating_sub(1);
    let page = app.viewport.max(1);
    let s = &mut app.topics_scroll;
    match key.code {
        KeyCode::Up | KeyCode::Char('k') => *s = s.saturating_sub(1),
        KeyCode::Down | KeyCode::Char('j') => *s = (*s + 1).min(max),
        KeyCode::PageUp => *s = s.saturating_sub(page),
        KeyCode::PageDown => *s = (*s + page).min(max),
        KeyCode::Home | KeyCode::Char('g') => *s = 0,
        KeyCode::End | KeyCode::Char('G') => *s = max,
        KeyCode::Enter => {
            let rows = app.topic_rows();
            let Some((name, _)) = rows.get(app.topics_scroll.min(max)) else {
                return Action::None;
            };
            let mut f = app.filter.clone();
            f.include = vec![name.to_string()];
            app.set_filter(f);
            app.tab = Tab::Events;
        }
        _ => return Action::None,
    }
    Action::Redraw
}

#[cfg(test)]
mod tests {
    use super::super::app::tests::message;
    use super::*;

    fn key(code: KeyCode) -> KeyEvent {
        KeyEvent::new(code, KeyModifiers::NONE)
    }

    fn typed(app: &mut App, s: &str) {
        for c in s.chars() {
            handle_key(app, key(KeyCode::Char(c)));
        }
    }

    fn app() -> App {
        let mut app = App::new(100, "test");
        app.push(message(
            Kind::Publish,
            "alice",
            "DeviceState",
            b"{\"On\":true}",
        ));
        app.push(message(Kind::Drop, "bob", "Nobody", b"lost"));
        app.push(message(Kind::Publish, "carol", "Chat", b"hello"));
        app
    }

    #[test]
    fn slash_filters_as_you_type_and_esc_restores() {
        let mut app = app();
        assert_eq!(
            handle_key(&mut app, key(KeyCode::Char('/'))),
            Action::Redraw
        );
        typed(&mut app, "BOB");
        assert_eq!(app.view.len(), 1);
        assert!(matches!(app.mode, Mode::Prompt(_)));
        handle_key(&mut app, key(KeyCode::Esc));
        assert_eq!(app.view.len(), 3);
        assert_eq!(app.filter.text, "");
        handle_key(&mut app, key(KeyCode::Char('/')));
        typed(&mut app, "chat");
        handle_key(&mut app, key(KeyCode::Enter));
        assert_eq!(app.mode, Mode::Normal);
        assert_eq!(app.filter.text, "chat");
        assert_eq!(app.view.len(), 1);
        // 'q' inside a prompt is text, not quit.
        handle_key(&mut app, key(KeyCode::Char('/')));
        assert_eq!(
            handle_key(&mut app, key(KeyCode::Char('q'))),
            Action::Redraw
        );
    }

    #[test]
    fn d_toggles_drops_only_and_c_clears() {
        let mut app = app();
        handle_key(&mut app, key(KeyCode::Char('d')));
        assert_eq!(app.view.len(), 1);
        assert_eq!(app.selected_event().map(|e| e.kind), Some(Kind::Drop));
        handle_key(&mut app, key(KeyCode::Char('d')));
        assert_eq!(app.view.len(), 3);
        handle_key(&mut app, key(KeyCode::Char('x')));
        typed(&mut app, "Chat, Device*");
        handle_key(&mut app, key(KeyCode::Enter));
        assert_eq!(app.filter.exclude, vec!["Chat", "Device*"]);
        assert_eq!(app.view.len(), 1);
        handle_key(&mut app, key(KeyCode::Char('c')));
        assert_eq!(app.view.len(), 3);
    }

    #[test]
    fn plus_on_an_event_without_a_topic_says_so_and_keeps_the_filter() {
        let mut app = app();
        app.push(crate::trace::schema::Event::new(
            Kind::Connect,
            "2026-01-01T00:00:00Z".into(),
        ));
        assert_eq!(
            handle_key(&mut app, key(KeyCode::Char('+'))),
            Action::Redraw
        );
        assert!(app.filter.include.is_empty());
        let flash = app.flash.as_ref().expect("a message");
        assert!(flash.error && flash.text.contains("no topic"), "{flash:?}");
    }

    #[test]
    fn plus_keeps_only_the_selected_topic_and_minus_hides_it() {
        let mut app = app();
        handle_key(&mut app, key(KeyCode::Char('+')));
        assert_eq!(app.filter.include, vec!["Chat"]);
        assert_eq!(app.view.len(), 1);
        handle_key(&mut app, key(KeyCode::Char('c')));
        handle_key(&mut app, key(KeyCode::Up));
        handle_key(&mut app, key(KeyCode::Char('-')));
        assert_eq!(app.filter.exclude, vec!["Nobody"]);
        assert_eq!(app.view.len(), 2);
    }

    #[test]
    fn export_prompt_asks_the_loop_to_write_and_keys_route_by_mode() {
        let mut app = app();
        handle_key(&mut app, key(KeyCode::Char('e')));
        let Mode::Prompt(p) = &app.mode else {
            panic!("export opens a prompt");
        };
        assert!(p.input.starts_with("smqctl-export-") && p.input.ends_with(".ndjson"));
        handle_key(&mut app, key(KeyCode::Char('u')).with_ctrl());
        typed(&mut app, "out.ndjson");
        assert_eq!(
            handle_key(&mut app, key(KeyCode::Enter)),
            Action::Export("out.ndjson".into())
        );
        assert_eq!(
            handle_key(&mut app, key(KeyCode::Char('?'))),
            Action::Redraw
        );
        assert_eq!(app.mode, Mode::Help);
        handle_key(&mut app, key(KeyCode::Esc));
        assert_eq!(app.mode, Mode::Normal);
        assert_eq!(handle_key(&mut app, key(KeyCode::Char('q'))), Action::Quit);
        assert_eq!(
            handle_key(
                &mut app,
                KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL)
            ),
            Action::Interrupt
        );
    }

    #[test]
    fn space_pauses_and_arrows_leave_follow() {
        let mut app = app();
        handle_key(&mut app, key(KeyCode::Char(' ')));
        assert!(app.paused);
        handle_key(&mut app, key(KeyCode::Up));
        assert!(!app.follow);
        assert_eq!(app.selected, Some(1));
        handle_key(&mut app, key(KeyCode::End));
        assert!(app.follow);
        handle_key(&mut app, key(KeyCode::Enter));
        assert!(app.detail);
        handle_key(&mut app, key(KeyCode::Esc));
        assert!(!app.detail);
    }

    #[test]
    fn enter_on_a_topic_shows_its_events() {
        let mut app = app();
        handle_key(&mut app, key(KeyCode::Char('3')));
        // Sorted by name: Chat, DeviceState, Nobody.
        handle_key(&mut app, key(KeyCode::Down));
        handle_key(&mut app, key(KeyCode::Down));
        handle_key(&mut app, key(KeyCode::Down));
        assert_eq!(app.topics_scroll, 2, "stops at the last topic");
        handle_key(&mut app, key(KeyCode::Enter));
        assert_eq!(app.tab, Tab::Events);
        assert_eq!(app.filter.include, vec!["Nobody"]);
        assert_eq!(app.view.len(), 1);
    }

    #[test]
    fn enter_on_a_finding_shows_its_evidence_and_esc_shows_all_again() {
        let mut app = App::new(100, "test");
        for n in ["devices/#", "DeviceState", "devices/#"] {
            let mut e = crate::trace::schema::Event::new(
                Kind::Subscribe,
                format!("2026-11-22T03:44:1{}Z", app.totals.events),
            );
            e.from = Some(super::super::app::tests::client(7, "dash"));
            e.to = Some(super::super::app::tests::topic(9, n));
            app.push(e);
        }
        app.push(message(Kind::Publish, "alice", "DeviceState", b"{}"));
        assert_eq!(app.findings().len(), 1);
        handle_key(&mut app, key(KeyCode::Char('4')));
        assert_eq!(app.tab, Tab::Findings);
        handle_key(&mut app, key(KeyCode::Down));
        assert_eq!(app.findings_scroll, 0, "one finding: stays on it");
        handle_key(&mut app, key(KeyCode::Enter));
        assert_eq!(app.tab, Tab::Events);
        assert_eq!(app.view.iter().copied().collect::<Vec<_>>(), vec![0, 2]);
        // New events do not enter the evidence view.
        app.push(message(Kind::Publish, "alice", "DeviceState", b"{}"));
        assert_eq!(app.view.len(), 2);
        handle_key(&mut app, key(KeyCode::Esc));
        assert!(app.pin.is_none());
        assert_eq!(app.view.len(), 5);
        // Tab goes round all six views.
        for want in [
            Tab::Stats,
            Tab::Topics,
            Tab::Findings,
            Tab::Senders,
            Tab::Plot,
            Tab::Events,
        ] {
            handle_key(&mut app, key(KeyCode::Tab));
            assert_eq!(app.tab, want);
        }
        handle_key(&mut app, key(KeyCode::BackTab));
        assert_eq!(app.tab, Tab::Plot);
    }

    #[test]
    fn enter_on_a_finding_whose_events_left_the_buffer_says_so() {
        let mut app = App::new(2, "test");
        let mut e =
            crate::trace::schema::Event::new(Kind::Subscribe, "2026-11-22T03:44:10Z".into());
        e.from = Some(super::super::app::tests::client(7, "dash"));
        e.to = Some(super::super::app::tests::topic(9, "devices/#"));
        app.push(e);
        app.push(message(Kind::Publish, "alice", "A", b"{}"));
        app.push(message(Kind::Publish, "alice", "B", b"{}"));
        handle_key(&mut app, key(KeyCode::Char('4')));
        handle_key(&mut app, key(KeyCode::Enter));
        assert_eq!(app.tab, Tab::Findings);
        assert!(app.pin.is_none());
        let flash = app.flash.as_ref().expect("a message");
        assert!(
            flash.error && flash.text.contains("no longer in the buffer"),
            "{flash:?}"
        );
    }

    #[test]
    fn g_picks_a_field_enter_plots_it_and_capital_g_removes_it() {
        let mut app = App::new(100, "test");
        for (uid, kw) in [
            ("c-1", "1.5"),
            ("c-2", "2"),
            ("c-1", "\"high\""),
            ("c-1", "3"),
        ] {
            let p = format!("{{\"id\":1,\"kW\":{kw}}}");
            app.push(message(Kind::Publish, uid, "DeviceState", p.as_bytes()));
        }
        handle_key(&mut app, key(KeyCode::Char('g')));
        let Mode::Picker(p) = &app.mode else {
            panic!("g opens the picker: {:?}", app.mode);
        };
        assert_eq!(p.chosen().map(|l| l.label.as_str()), Some("id"));
        typed(&mut app, "kw");
        assert_eq!(handle_key(&mut app, key(KeyCode::Enter)), Action::Redraw);
        assert_eq!(app.mode, Mode::Normal);
        assert_eq!(app.tab, Tab::Plot);
        let f = &app.plot.fields[0];
        assert_eq!(
            (f.label.as_str(), f.series.len(), f.non_numeric),
            ("kW", 2, 1)
        );
        let flash = app.flash.clone().expect("says what it plots");
        assert!(
            flash.text.contains("3 values") && flash.text.contains("1 skipped"),
            "{flash:?}"
        );
        // New events of the stream are plotted; others are not.
        app.push(message(Kind::Publish, "c-3", "DeviceState", b"{\"kW\":4}"));
        app.push(message(Kind::Publish, "c-3", "Other", b"{\"kW\":4}"));
        assert_eq!(app.plot.fields[0].series.len(), 3);
        handle_key(&mut app, key(KeyCode::Char('-')));
        assert_eq!(app.plot.top_n, super::super::fields::TOP_N - 1);
        handle_key(&mut app, key(KeyCode::Char('G')));
        assert!(app.plot.is_empty());
        handle_key(&mut app, key(KeyCode::Char('G')));
        assert!(app.flash.as_ref().is_some_and(|f| f.error));
        // Esc leaves the picker without plotting.
        handle_key(&mut app, key(KeyCode::Char('1')));
        handle_key(&mut app, key(KeyCode::Char('g')));
        handle_key(&mut app, key(KeyCode::Esc));
        assert_eq!(app.mode, Mode::Normal);
        assert!(app.plot.is_empty());
    }

    #[test]
    fn g_opens_the_picker_on_the_newest_event_after_the_ring_evicted_some() {
        let mut app = App::new(5, "test");
        for i in 0..12 {
            let p = format!("{{\"n\":{i}}}");
            app.push(message(Kind::Publish, "a", "DeviceState", p.as_bytes()));
        }
        handle_key(&mut app, key(KeyCode::Char('g')));
        assert!(matches!(app.mode, Mode::Picker(_)), "{:?}", app.flash);
    }

    #[test]
    fn g_on_an_event_that_is_not_json_says_why_and_opens_nothing() {
        let mut app = app();
        assert_eq!(
            handle_key(&mut app, key(KeyCode::Char('g'))),
            Action::Redraw
        );
        assert_eq!(app.mode, Mode::Normal);
        let flash = app.flash.as_ref().expect("a message");
        assert!(flash.error && flash.text.contains("not JSON"), "{flash:?}");
    }

    #[test]
    fn capital_d_opens_the_detail_with_the_diff_and_toggles_it() {
        let mut app = app();
        handle_key(&mut app, key(KeyCode::Char('D')));
        assert!(app.detail && app.diff);
        handle_key(&mut app, key(KeyCode::Char('D')));
        assert!(app.detail && !app.diff);
        handle_key(&mut app, key(KeyCode::Char('D')));
        assert!(app.diff);
        handle_key(&mut app, key(KeyCode::Enter));
        assert!(!app.detail);
        // Closed: D opens the diff again, never closes it.
        handle_key(&mut app, key(KeyCode::Char('D')));
        assert!(app.detail && app.diff);
    }

    #[test]
    fn five_shows_the_senders_of_the_selected_events_stream() {
        let mut app = App::new(100, "test");
        handle_key(&mut app, key(KeyCode::Char('5')));
        assert_eq!(app.tab, Tab::Senders);
        assert!(app.flash.as_ref().is_some_and(|f| f.error));
        for uid in ["a", "b", "a"] {
            app.push(message(Kind::Publish, uid, "T", b"1"));
        }
        handle_key(&mut app, key(KeyCode::Char('1')));
        handle_key(&mut app, key(KeyCode::Char('5')));
        let k = app.senders_key.clone().expect("the stream");
        assert_eq!(k.dest, "T");
        assert_eq!(app.senders.stream(&k).map(|s| s.senders.len()), Some(2));
        handle_key(&mut app, key(KeyCode::Down));
        handle_key(&mut app, key(KeyCode::Down));
        assert_eq!(app.senders_scroll, 1, "stops at the last sender");
    }

    trait Ctrl {
        fn with_ctrl(self) -> Self;
    }
    impl Ctrl for KeyEvent {
        fn with_ctrl(mut self) -> Self {
            self.modifiers = KeyModifiers::CONTROL;
            self
        }
    }
}

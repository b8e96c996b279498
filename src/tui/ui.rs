//! Drawing: a pure function of [`App`] into a ratatui frame. This file only
//! lays the screen out (header, filter bar, the current view, status line;
//! the help overlay on top) and dispatches each area to the file that draws
//! it. Styles and formatting helpers are in [`super::theme`].
//!
//! May import: `tui::{app, theme, bars, help, editor, events, stats, topics, findings,
//! senders, plot}`, ratatui.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};

use super::app::{App, Mode, Tab};
use super::theme::Theme;
use super::{bars, editor, events, findings, help, plot, senders, stats, topics};

/// Rows the events table has for rows of data in a terminal of `area`
/// (used by the loop for paging).
pub fn table_rows(area: Rect, app: &App) -> usize {
    let main = areas(area).main;
    let table = if app.detail {
        events::split(main).0
    } else {
        main
    };
    // Title line and column header.
    table.height.saturating_sub(2) as usize
}

struct Areas {
    header: Rect,
    filter: Rect,
    main: Rect,
    status: Rect,
}

fn areas(area: Rect) -> Areas {
    let [header, filter, main, status] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Min(0),
        Constraint::Length(1),
    ])
    .areas(area);
    Areas {
        header,
        filter,
        main,
        status,
    }
}

/// Draws the whole screen.
pub fn draw(frame: &mut Frame, app: &App) {
    let theme = Theme { color: app.color };
    let a = areas(frame.area());
    bars::header(frame, a.header, app, theme);
    bars::filter_bar(frame, a.filter, app, theme);
    match app.tab {
        Tab::Events => events::draw(frame, a.main, app, theme),
        Tab::Stats => stats::draw(frame, a.main, app, theme),
        Tab::Topics => topics::draw(frame, a.main, app, theme),
        Tab::Findings => findings::draw(frame, a.main, app, theme),
        Tab::Senders => senders::draw(frame, a.main, app, theme),
        Tab::Plot => plot::draw(frame, a.main, app, theme),
    }
    bars::status_line(frame, a.status, app, theme);
    match &app.mode {
        Mode::Help => help::draw(frame, frame.area(), theme),
        Mode::Editor(ed) => editor::draw(frame, a.main, ed, theme),
        Mode::Picker(p) => plot::draw_picker(frame, a.main, p, theme),
        _ => {}
    }
}

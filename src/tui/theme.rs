//! Styles and small formatting helpers shared by every drawing file: the
//! [`Theme`] (with or without colour), kind labels, thousands separators,
//! cutting to a width, clock times. A leaf: nothing here draws a widget.
//!
//! Colour is optional (`App::color`, off for NO_COLOR): without it, the things
//! that must stand out (drops, the selection) use bold and reverse video.
//!
//! May import: `trace::schema`, `text`, ratatui styles. Nothing else of
//! `tui` (every other drawing file imports this one).

use ratatui::style::{Color, Modifier, Style};

use crate::trace::schema::{Event, Kind};

/// Styles, with or without colour.
#[derive(Debug, Clone, Copy)]
pub struct Theme {
    pub color: bool,
}

impl Theme {
    pub fn fg(self, c: Color) -> Style {
        if self.color {
            Style::new().fg(c)
        } else {
            Style::new()
        }
    }

    pub fn dim(self) -> Style {
        if self.color {
            Style::new().fg(Color::DarkGray)
        } else {
            Style::new().add_modifier(Modifier::DIM)
        }
    }

    pub fn title(self) -> Style {
        Style::new().add_modifier(Modifier::BOLD)
    }

    pub fn key(self) -> Style {
        self.fg(Color::Cyan).add_modifier(Modifier::BOLD)
    }

    pub fn label(self) -> Style {
        self.fg(Color::Blue)
    }

    pub fn warn(self) -> Style {
        self.fg(Color::Yellow).add_modifier(Modifier::BOLD)
    }

    pub fn error(self) -> Style {
        if self.color {
            Style::new().fg(Color::Red).add_modifier(Modifier::BOLD)
        } else {
            Style::new().add_modifier(Modifier::BOLD | Modifier::REVERSED)
        }
    }

    pub fn selected(self) -> Style {
        if self.color {
            Style::new()
                .bg(Color::Indexed(237))
                .add_modifier(Modifier::BOLD)
        } else {
            Style::new().add_modifier(Modifier::REVERSED)
        }
    }

    /// The kind column: drops stand out (white on red, or reverse video).
    pub fn kind(self, k: Kind) -> Style {
        match k {
            Kind::Drop => {
                if self.color {
                    Style::new()
                        .fg(Color::White)
                        .bg(Color::Red)
                        .add_modifier(Modifier::BOLD)
                } else {
                    Style::new().add_modifier(Modifier::BOLD | Modifier::REVERSED)
                }
            }
            Kind::Publish => self.fg(Color::Green),
            Kind::Deny => self.fg(Color::Magenta).add_modifier(Modifier::BOLD),
            Kind::Connect | Kind::Snapshot => self.fg(Color::Cyan),
            Kind::Close => self.fg(Color::Yellow),
            Kind::Subscribe | Kind::Unsubscribe => self.fg(Color::Blue),
            Kind::Notice => self.warn(),
            Kind::Error => self.error(),
            Kind::Create | Kind::Createsub | Kind::Unknown => self.dim(),
            // Broker-local: never sent to a tracer, shown like an unknown kind.
            Kind::Reject | Kind::Shutdown | Kind::Attach | Kind::Observe | Kind::Unobserve => {
                self.dim()
            }
        }
    }
}

/// Short label of a kind for the table.
pub fn kind_label(k: Kind) -> &'static str {
    match k {
        Kind::Publish => "PUB",
        Kind::Drop => "DROP",
        Kind::Deny => "DENY",
        Kind::Connect => "CONN",
        Kind::Close => "CLOSE",
        Kind::Subscribe => "SUB",
        Kind::Unsubscribe => "UNSUB",
        Kind::Create => "CREATE",
        Kind::Createsub => "SUBTOP",
        Kind::Snapshot => "SNAP",
        Kind::Notice => "NOTICE",
        Kind::Error => "ERROR",
        // Broker-local kinds never reach a tracer.
        Kind::Unknown
        | Kind::Reject
        | Kind::Shutdown
        | Kind::Attach
        | Kind::Observe
        | Kind::Unobserve => "?",
    }
}

/// `1234567` → `1,234,567`.
pub fn count(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::with_capacity(s.len() + s.len() / 3);
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Cuts `s` to at most `max` characters, marking the cut with `…`.
pub fn cut(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// Clock time of an event in the app's zone (`HH:MM:SS.mmm`; `HH:MM:SS`
/// for a source with whole seconds only), or its raw `ts`.
pub fn clock(e: &Event, zone: &jiff::tz::TimeZone) -> String {
    match e.timestamp() {
        Some(t) if e.whole_seconds() => {
            crate::text::clock_seconds_in(std::time::SystemTime::from(t), zone)
        }
        Some(t) => crate::text::clock_time_in(std::time::SystemTime::from(t), zone),
        None => cut(&e.ts, 12),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_have_thousands_separators() {
        assert_eq!(count(0), "0");
        assert_eq!(count(999), "999");
        assert_eq!(count(1000), "1,000");
        assert_eq!(count(1_234_567), "1,234,567");
    }

    #[test]
    fn cut_marks_what_it_removes() {
        assert_eq!(cut("abc", 3), "abc");
        assert_eq!(cut("abcdef", 4), "abc…");
        assert_eq!(cut("ééé", 2), "é…");
    }
}

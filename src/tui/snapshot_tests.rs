//! Snapshot tests: every view drawn from fixed state with ratatui's TestBackend,
//! compared with insta snapshots (in `snapshots/` beside this file). Times are
//! rendered in UTC so the snapshots do not depend on the machine's zone.
//!
//! May import: `tui::{app, ui}` (and `app`'s test fixtures), `trace`, ratatui's
//! TestBackend, insta.

use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::style::{Color, Modifier};

use super::app::tests::{client, message, topic};
use super::app::{App, Flash, Mode, Prompt, PromptKind, Tab};
use super::ui;
use crate::trace::filter::Filter;
use crate::trace::schema::{Client, Dest, DestType, Event, Kind, Snapshot, TopicInfo};
use crate::trace::source::Status;

fn at(mut e: Event, secs: u32) -> Event {
    e.ts = format!("2026-11-22T03:44:{secs:02}.{:03}Z", secs * 7 % 1000);
    e
}

/// A small session: snapshot, a connect, a subscription, JSON, text and binary
/// messages, a drop to a topic nobody subscribes, a direct message, a close.
pub fn fixture() -> App {
    let mut app = App::new(100, "file demo.ndjson");
    app.zone = jiff::tz::TimeZone::UTC;
    app.color = true;
    let mut snap = Event::new(Kind::Snapshot, String::new());
    snap.snapshot = Some(Snapshot {
        server_etid: Some(1),
        topics: vec![
            TopicInfo {
                tid: 9,
                name: "DeviceState".into(),
                subscribers: Some(1),
            },
            TopicInfo {
                tid: 14,
                name: "Chargers/Cmd".into(),
                subscribers: Some(0),
            },
        ],
        subtopics: vec![],
        clients: vec![client(5, "dashboard-1")],
        subscriptions: vec![],
    });
    app.push(at(snap, 1));
    let mut conn = Event::new(Kind::Connect, String::new());
    conn.from = Some(Client {
        etid: 7,
        uid: Some("charger-007".into()),
        info: Some("fw 1.2".into()),
        addr: Some("127.0.0.1:50312".into()),
        server: false,
    });
    app.push(at(conn, 2));
    let mut sub = Event::new(Kind::Subscribe, String::new());
    sub.from = Some(client(5, "dashboard-1"));
    sub.to = Some(topic(12, "Alerts"));
    app.push(at(sub, 3));
    let mut json = message(
        Kind::Publish,
        "charger-007",
        "DeviceState",
        br#"{"id":7,"On":true,"kW":11.5,"site":"north"}"#,
    );
    json.subtopic = Some("Telemetry".into());
    json.subtid = Some(20);
    json.receivers = Some(1);
    json.verdict = Some(true);
    app.push(at(json, 4));
    let mut drop = message(
        Kind::Drop,
        "charger-007",
        "Chargers/Cmd",
        b"reboot now\nplease",
    );
    drop.reason = Some("no subscriber".into());
    drop.to = Some(topic(14, "Chargers/Cmd"));
    app.push(at(drop, 5));
    // Binary on a topic of its own: JSON and binary on one topic would be a
    // mixed-payload-types finding, and this fixture has none.
    let mut bin = message(
        Kind::Publish,
        "charger-007",
        "Firmware",
        &[
            0x00, 0x01, 0xfe, 0xff, b'S', b'M', b'Q', 0x7f, 0x80, 0x10, 0x20, 0x30, 0x41, 0x42,
            0x43, 0x44, 0x45,
        ],
    );
    bin.receivers = Some(1);
    app.push(at(bin, 6));
    let mut direct = message(Kind::Publish, "dashboard-1", "", b"{\"cmd\":\"ping\"}");
    direct.to = Some(Dest {
        tid: 7,
        kind: DestType::Client,
        name: None,
        uid: Some("charger-007".into()),
    });
    app.push(at(direct, 7));
    let mut close = Event::new(Kind::Close, String::new());
    close.from = Some(client(7, "charger-007"));
    close.reason = Some("socket closed".into());
    app.push(at(close, 8));
    app.roll_to(1);
    for _ in 0..3 {
        app.push(at(
            message(Kind::Publish, "charger-007", "DeviceState", b"{}"),
            9,
        ));
    }
    app.roll_to(2);
    app.roll_to(3);
    app.status = Some(Status::Ended {
        reason: "end of demo.ndjson (11 events)".into(),
        error: false,
    });
    app.viewport = 20;
    app
}

fn render(app: &App, w: u16, h: u16) -> Terminal<TestBackend> {
    let mut t = Terminal::new(TestBackend::new(w, h)).expect("test terminal");
    t.draw(|f| ui::draw(f, app)).expect("draws");
    t
}

fn select_kind(app: &mut App, kind: Kind) {
    let i = app
        .view
        .iter()
        .position(|&s| app.ring.get(s).is_some_and(|e| e.kind == kind))
        .expect("kind present");
    app.follow = false;
    app.selected = Some(app.view[i]);
}

#[test]
fn events_table_with_a_drop() {
    let app = fixture();
    let t = render(&app, 100, 30);
    insta::assert_snapshot!(t.backend());
    // The DROP cell stands out: white on red.
    let buf = t.backend().buffer();
    let cell = (0..30u16)
        .flat_map(|y| (0..100u16).map(move |x| (x, y)))
        .find(|&(x, y)| {
            buf[(x, y)].symbol() == "D"
                && buf[(x + 1, y)].symbol() == "R"
                && buf[(x + 2, y)].symbol() == "O"
        })
        .expect("a DROP cell");
    assert_eq!(buf[cell].bg, Color::Red);
    assert!(buf[cell].modifier.contains(Modifier::BOLD));
}

#[test]
fn detail_pane_json() {
    let mut app = fixture();
    app.detail = true;
    select_kind(&mut app, Kind::Publish);
    app.move_selection(0);
    insta::assert_snapshot!(render(&app, 100, 30).backend());
}

#[test]
fn detail_pane_text_of_a_drop() {
    let mut app = fixture();
    app.detail = true;
    select_kind(&mut app, Kind::Drop);
    insta::assert_snapshot!(render(&app, 100, 30).backend());
}

#[test]
fn detail_pane_binary_hex_dump() {
    let mut app = fixture();
    app.detail = true;
    let seq = app.view[5];
    app.follow = false;
    app.selected = Some(seq);
    assert_eq!(
        app.selected_event().and_then(|e| e.encoding),
        Some(crate::trace::schema::Encoding::Base64)
    );
    insta::assert_snapshot!(render(&app, 100, 30).backend());
}

#[test]
fn filter_bar_while_typing_and_applied() {
    let mut app = fixture();
    let before = app.filter.clone();
    let f = Filter {
        text: "charger".into(),
        ..Filter::default()
    };
    app.set_filter(f);
    app.mode = Mode::Prompt(Prompt {
        kind: PromptKind::Text,
        input: "charger".into(),
        before,
    });
    insta::assert_snapshot!("filter_typing", render(&app, 100, 30).backend());
    app.mode = Mode::Normal;
    let mut f = app.filter.clone();
    f.toggle_kind(Kind::Drop);
    f.exclude = vec!["Alerts".into()];
    app.set_filter(f);
    insta::assert_snapshot!("filter_applied", render(&app, 100, 30).backend());
}

#[test]
fn stats_view() {
    let mut app = fixture();
    app.tab = Tab::Stats;
    insta::assert_snapshot!(render(&app, 100, 30).backend());
}

#[test]
fn topics_view_flags_drops_without_subscribers() {
    let mut app = fixture();
    app.tab = Tab::Topics;
    insta::assert_snapshot!(render(&app, 100, 30).backend());
}

#[test]
fn help_overlay() {
    let mut app = fixture();
    app.mode = Mode::Help;
    insta::assert_snapshot!(render(&app, 100, 30).backend());
}

#[test]
fn paused_and_degraded_status() {
    let mut app = fixture();
    app.toggle_pause();
    app.push(message(Kind::Publish, "x", "y", b"z"));
    app.status = Some(Status::Degraded {
        etid: 9,
        reason: "no tracer answered the attach request".into(),
        topics: vec!["DeviceState".into(), "self".into()],
    });
    insta::assert_snapshot!(render(&app, 100, 30).backend());
}

#[test]
fn standard_80x24_terminal() {
    let mut app = fixture();
    insta::assert_snapshot!("events_80x24", render(&app, 80, 24).backend());
    app.detail = true;
    select_kind(&mut app, Kind::Drop);
    insta::assert_snapshot!("detail_80x24", render(&app, 80, 24).backend());
    app.tab = Tab::Stats;
    insta::assert_snapshot!("stats_80x24", render(&app, 80, 24).backend());
}

#[test]
fn very_narrow_terminals_do_not_panic() {
    let mut app = fixture();
    insta::assert_snapshot!("events_50x15", render(&app, 50, 15).backend());
    for (w, h) in [(50, 15), (20, 6), (1, 1), (0, 0), (200, 3)] {
        for tab in [Tab::Events, Tab::Stats, Tab::Topics] {
            for detail in [false, true] {
                for mode in [Mode::Normal, Mode::Help] {
                    app.tab = tab;
                    app.detail = detail;
                    app.mode = mode;
                    render(&app, w, h);
                }
            }
        }
    }
}

#[test]
fn empty_state_says_why_nothing_is_shown() {
    let mut app = App::new(10, "file empty.ndjson");
    app.zone = jiff::tz::TimeZone::UTC;
    insta::assert_snapshot!("empty", render(&app, 80, 24).backend());
    app.push(message(Kind::Publish, "a", "b", b"c"));
    let f = Filter {
        text: "nothing".into(),
        ..Filter::default()
    };
    app.set_filter(f);
    insta::assert_snapshot!("nothing_matches", render(&app, 80, 24).backend());
}

#[test]
fn without_colour_drops_and_the_selection_use_reverse_video() {
    let mut app = fixture();
    app.color = false;
    let t = render(&app, 100, 30);
    let buf = t.backend().buffer();
    let find = |text: &str| {
        (0..30u16)
            .find_map(|y| {
                let row: String = (0..100u16).map(|x| buf[(x, y)].symbol()).collect();
                row.find(text).map(|i| (row[..i].chars().count() as u16, y))
            })
            .expect("text on screen")
    };
    let drop = find("DROP");
    assert!(buf[drop].modifier.contains(Modifier::REVERSED));
    assert_eq!(buf[drop].fg, Color::Reset, "no colour at all");
    let sel = find("▶");
    assert!(buf[sel].modifier.contains(Modifier::REVERSED));
}

/// Real TIDs and ETIDs have up to ten digits; a column too narrow for them
/// showed only their last digits (a wrong ID) in an 80×24 terminal.
#[test]
fn full_ten_digit_tids_and_etids_fit_an_80x24_terminal() {
    let mut app = App::new(10, "file ids.ndjson");
    app.zone = jiff::tz::TimeZone::UTC;
    let mut snap = Event::new(Kind::Snapshot, String::new());
    snap.snapshot = Some(Snapshot {
        server_etid: Some(1),
        topics: vec![TopicInfo {
            tid: 4_032_326_919,
            name: "DeviceState".into(),
            subscribers: Some(1),
        }],
        subtopics: vec![],
        clients: vec![client(3_668_314_590, "charger-00001")],
        subscriptions: vec![],
    });
    app.push(snap);
    let screen = |app: &App| {
        let t = render(app, 80, 24);
        let buf = t.backend().buffer();
        (0..24u16)
            .map(|y| (0..80u16).map(|x| buf[(x, y)].symbol()).collect::<String>())
            .collect::<Vec<_>>()
            .join("\n")
    };
    app.tab = Tab::Topics;
    let topics = screen(&app);
    assert!(topics.contains("4032326919"), "{topics}");
    app.tab = Tab::Stats;
    let stats = screen(&app);
    assert!(stats.contains("3668314590"), "{stats}");
}

/// The export message names the file it wrote; at 80 columns the counters
/// beside it used to cut the path (and its `.ndjson`) off.
#[test]
fn export_message_shows_the_whole_path_in_80_columns() {
    let mut app = fixture();
    let text = "exported 2 events to /tmp/qa/smqctl-export-20261122-045255.ndjson";
    app.flash = Some(Flash {
        text: text.into(),
        error: false,
    });
    let t = render(&app, 80, 24);
    let buf = t.backend().buffer();
    let last: String = (0..80u16).map(|x| buf[(x, 23)].symbol()).collect();
    assert!(last.contains(text), "{last}");
}

/// The fixture plus a charger that the broker sends to before its
/// `DeviceReady`, then subscribes after it, and a dashboard that subscribes to
/// an MQTT-style wildcard topic: three findings of the analyzer.
fn with_findings() -> App {
    let mut app = fixture();
    let charger = Client {
        etid: 21,
        uid: Some("charger-00001".into()),
        info: None,
        addr: None,
        server: false,
    };
    let server = Client {
        etid: 1,
        uid: None,
        info: None,
        addr: None,
        server: true,
    };
    let mut conn = Event::new(Kind::Connect, String::new());
    conn.from = Some(charger.clone());
    app.push(at(conn, 10));
    let mut early = Event::new(Kind::Publish, String::new()).with_payload(b"{\"id\":7}", 256);
    early.from = Some(server);
    early.to = Some(Dest {
        tid: 21,
        kind: DestType::Client,
        name: None,
        uid: Some("charger-00001".into()),
    });
    early.subtid = Some(31);
    early.subtopic = Some("SetDeviceID".into());
    app.push(at(early, 11));
    let mut ready = Event::new(Kind::Publish, String::new()).with_payload(b"{}", 256);
    ready.from = Some(charger.clone());
    ready.to = Some(Dest {
        tid: 1,
        kind: DestType::Server,
        name: None,
        uid: None,
    });
    ready.subtid = Some(32);
    ready.subtopic = Some("DeviceReady".into());
    app.push(at(ready, 12));
    let mut late = Event::new(Kind::Subscribe, String::new());
    late.from = Some(charger);
    late.to = Some(topic(33, "DeviceState"));
    app.push(at(late, 13));
    let mut wild = Event::new(Kind::Subscribe, String::new());
    wild.from = Some(client(5, "dashboard-1"));
    wild.to = Some(topic(34, "chargers/+/state"));
    app.push(at(wild, 14));
    app.tab = Tab::Findings;
    app
}

#[test]
fn findings_view_80x24_lists_findings_and_the_selected_ones_detail() {
    let app = with_findings();
    assert_eq!(app.findings().len(), 3, "{:#?}", app.findings());
    insta::assert_snapshot!("findings_80x24", render(&app, 80, 24).backend());
}

#[test]
fn findings_view_in_a_large_terminal_shows_every_field() {
    let mut app = with_findings();
    app.findings_scroll = 1;
    let t = render(&app, 160, 48);
    insta::assert_snapshot!("findings_160x48", t.backend());
    // The error count in the header has the error style.
    let buf = t.backend().buffer();
    let header: String = (0..160u16).map(|x| buf[(x, 0)].symbol()).collect();
    let at = header.find("Findings ").expect("tab label") + "Findings ".len();
    assert_eq!(buf[(at as u16, 0)].symbol(), "3", "{header}");
    assert_eq!(buf[(at as u16, 0)].fg, Color::Red);
}

#[test]
fn findings_view_without_findings_says_what_it_checks() {
    let mut app = fixture();
    app.tab = Tab::Findings;
    insta::assert_snapshot!("findings_none", render(&app, 80, 24).backend());
}

#[test]
fn enter_on_a_finding_shows_only_its_evidence_in_the_events_view() {
    let mut app = with_findings();
    assert!(app.pin_finding(0));
    assert_eq!(app.tab, Tab::Events);
    insta::assert_snapshot!("findings_evidence_80x24", render(&app, 80, 24).backend());
}

/// `r` on the JSON publish: the reply editor over the events view, the
/// payload field focused with the cursor at its end.
#[test]
fn reply_editor_over_the_events_view() {
    use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
    let mut app = fixture();
    app.can_act = true;
    select_kind(&mut app, Kind::Publish);
    let key = |c| KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE);
    super::input::handle_key(&mut app, key('r'));
    assert!(matches!(app.mode, Mode::Editor(_)), "{:?}", app.mode);
    insta::assert_snapshot!("reply_editor_80x24", render(&app, 80, 24).backend());
    // The sub-topic field focused, a note under the fields.
    super::input::handle_key(&mut app, KeyEvent::new(KeyCode::Tab, KeyModifiers::NONE));
    if let Mode::Editor(ed) = &mut app.mode {
        ed.note = Some("the trace kept 256 of 300 payload bytes: this sends what you see".into());
    }
    insta::assert_snapshot!("reply_editor_120x40", render(&app, 120, 40).backend());
    // Tiny terminals draw without a panic.
    for (w, h) in [(1, 1), (10, 5), (30, 8)] {
        render(&app, w, h);
    }
}

/// `o` marks: ◉ while observed, ✖ once the broker said the sender left.
#[test]
fn observed_senders_are_marked_in_the_from_column() {
    let mut app = fixture();
    app.observed.insert(
        5,
        super::act::Watch {
            label: "dashboard-1 (etid 5)".into(),
            gone: false,
        },
    );
    app.observed.insert(
        7,
        super::act::Watch {
            label: "charger-007 (etid 7)".into(),
            gone: false,
        },
    );
    app.act_report(super::act::Report::Gone { etid: 7 });
    let t = render(&app, 80, 24);
    insta::assert_snapshot!("observed_marks_80x24", t.backend());
    let buf = t.backend().buffer();
    let gone = (0..24u16)
        .flat_map(|y| (0..80u16).map(move |x| (x, y)))
        .find(|&xy| buf[xy].symbol() == "✖")
        .expect("a gone mark");
    assert_eq!(buf[gone].fg, Color::Red, "gone stands out");
}

/// The fixture plus three chargers reporting `ChargerState` to the broker
/// once a second: charger-00003 goes silent after four reports, one report of
/// charger-00002 has a `kW` that is not a number, and charger-00001's last
/// report changes `kW`, adds `fault` and drops `mode`; then two binary
/// messages of one sender that differ in two bytes and one added.
fn fleet() -> App {
    let mut app = fixture();
    let report = |uid: &str, etid: u32, secs: u32, payload: &str| {
        let mut e = message(Kind::Publish, uid, "", payload.as_bytes());
        e.from = Some(client(etid, uid));
        e.to = Some(Dest {
            tid: 1,
            kind: DestType::Server,
            name: None,
            uid: None,
        });
        e.subtopic = Some("ChargerState".into());
        e.subtid = Some(40);
        e.ts = format!("2026-11-22T03:45:{secs:02}.000Z");
        e
    };
    for i in 0..10u32 {
        let s = 10 + i;
        let one = if i == 9 {
            r#"{"ChargerID":"charger-00001","On":true,"kW":15,"fault":"E42"}"#.to_string()
        } else {
            format!(
                r#"{{"ChargerID":"charger-00001","On":true,"kW":{},"mode":"fast"}}"#,
                10.0 + f64::from(i) * 0.5
            )
        };
        app.push(report("charger-00001", 21, s, &one));
        let two = if i == 5 {
            r#"{"ChargerID":"charger-00002","On":false,"kW":"n/a"}"#.to_string()
        } else {
            format!(
                r#"{{"ChargerID":"charger-00002","On":true,"kW":{}}}"#,
                20 - i
            )
        };
        app.push(report("charger-00002", 22, s, &two));
        if i < 4 {
            let three = format!(
                r#"{{"ChargerID":"charger-00003","On":true,"kW":{}}}"#,
                5 + i % 3
            );
            app.push(report("charger-00003", 23, s, &three));
        }
    }
    for (secs, bytes) in [
        (20, &b"\x00\x01SMQ\x7f\x80\x10"[..]),
        (21, &b"\x00\x02SMQ\x7f\x81\x10\x45"[..]),
    ] {
        let mut bin = message(Kind::Publish, "meter-9", "Firmware", bytes);
        bin.from = Some(client(30, "meter-9"));
        bin.ts = format!("2026-11-22T03:45:{secs:02}.000Z");
        app.push(bin);
    }
    app
}

/// Selects the last event of `uid` in the ring.
fn select_last_of(app: &mut App, uid: &str) {
    let seq = *app
        .view
        .iter()
        .rev()
        .find(|&&s| {
            app.ring
                .get(s)
                .and_then(|e| e.from.as_ref()?.uid.clone())
                .as_deref()
                == Some(uid)
        })
        .expect("an event of uid");
    app.follow = false;
    app.selected = Some(seq);
}

fn screen_text(t: &Terminal<TestBackend>) -> String {
    let buf = t.backend().buffer();
    let area = buf.area;
    (0..area.height)
        .map(|y| {
            (0..area.width)
                .map(|x| buf[(x, y)].symbol())
                .collect::<String>()
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The style of the first cell of `text` on screen.
fn style_of(t: &Terminal<TestBackend>, text: &str) -> ratatui::style::Style {
    let buf = t.backend().buffer();
    let area = buf.area;
    for y in 0..area.height {
        let row: Vec<&str> = (0..area.width).map(|x| buf[(x, y)].symbol()).collect();
        let joined: String = row.concat();
        if let Some(i) = joined.find(text) {
            let col = joined[..i].chars().count() as u16;
            return buf[(col, y)].style();
        }
    }
    panic!("{text:?} not on screen:\n{}", screen_text(t));
}

#[test]
fn senders_view_lists_each_sender_and_the_silent_one_stands_out() {
    let mut app = fleet();
    select_last_of(&mut app, "charger-00001");
    app.show_senders().expect("a message is selected");
    let t = render(&app, 80, 24);
    insta::assert_snapshot!("senders_80x24", t.backend());
    let s = screen_text(&t);
    assert!(s.contains("server / ChargerState"), "{s}");
    assert!(s.contains("3 senders") && s.contains("1 silent"), "{s}");
    // Silent first, in the warning style.
    let first = s.lines().nth(4).expect("first row");
    assert!(
        first.contains("charger-00003") && first.contains("silent"),
        "{s}"
    );
    assert_eq!(style_of(&t, "silent {").fg, Some(Color::Yellow));
    let t = render(&app, 160, 48);
    insta::assert_snapshot!("senders_160x48", t.backend());
    assert!(
        screen_text(&t).contains("8.0s"),
        "charger-00003 last reported 8 s before the newest event"
    );
}

#[test]
fn picker_lists_the_payloads_fields_and_starts_on_a_number() {
    let mut app = fleet();
    select_last_of(&mut app, "charger-00002");
    app.open_picker().expect("a JSON message");
    let t = render(&app, 80, 24);
    insta::assert_snapshot!("picker_80x24", t.backend());
    let s = screen_text(&t);
    assert!(s.contains("▶ kW") && s.contains("(not a number)"), "{s}");
}

fn plotted(field: &str) -> App {
    let mut app = fleet();
    select_last_of(&mut app, "charger-00001");
    app.open_picker().expect("a JSON message");
    let Mode::Picker(mut p) = app.mode.clone() else {
        panic!("picker open");
    };
    for c in field.chars() {
        p.type_char(c);
    }
    app.mode = Mode::Normal;
    app.plot_chosen(&p).expect("plotted");
    app
}

#[test]
fn plot_of_three_series_with_a_legend_of_senders_and_the_skipped_count() {
    let app = plotted("kW");
    assert_eq!(app.tab, Tab::Plot);
    let t = render(&app, 80, 24);
    insta::assert_snapshot!("plot_three_series_80x24", t.backend());
    let s = screen_text(&t);
    for uid in ["charger-00001", "charger-00002", "charger-00003"] {
        assert!(s.contains(uid), "legend names {uid}:\n{s}");
    }
    assert!(s.contains("skipped 1 non-numeric · 0 absent"), "{s}");
    let t = render(&app, 160, 48);
    insta::assert_snapshot!("plot_three_series_160x48", t.backend());
    // Three series, three colours of line on the chart.
    let buf = t.backend().buffer();
    let mut colours: Vec<Color> = Vec::new();
    for y in 0..48u16 {
        for x in 0..120u16 {
            let c = &buf[(x, y)];
            let braille = c
                .symbol()
                .chars()
                .next()
                .is_some_and(|ch| ('\u{2801}'..='\u{28ff}').contains(&ch));
            if braille && !colours.contains(&c.fg) {
                colours.push(c.fg);
            }
        }
    }
    colours.sort_by_key(|c| format!("{c:?}"));
    assert_eq!(
        colours,
        vec![Color::Cyan, Color::Magenta, Color::Yellow],
        "{colours:?}"
    );
}

#[test]
fn plot_of_two_fields_of_two_topics_in_one_chart_counts_hidden_series() {
    let mut app = plotted("kW");
    select_kind(&mut app, Kind::Publish);
    assert_eq!(
        app.selected_event()
            .and_then(|e| e.subtopic.clone())
            .as_deref(),
        Some("Telemetry")
    );
    app.open_picker().expect("a JSON message");
    let Mode::Picker(mut p) = app.mode.clone() else {
        panic!("picker open");
    };
    app.mode = Mode::Normal;
    for c in "kw".chars() {
        p.type_char(c);
    }
    app.plot_chosen(&p).expect("a second field");
    app.plot.top_n = 2;
    let t = render(&app, 160, 48);
    insta::assert_snapshot!("plot_two_fields_160x48", t.backend());
    let s = screen_text(&t);
    assert!(s.contains("2 fields · 2 of 4 series · 2 hidden"), "{s}");
    assert!(s.contains("DeviceState / Telemetry"), "{s}");
}

#[test]
fn diff_with_the_previous_message_marks_changed_added_and_removed_fields() {
    let mut app = fleet();
    select_last_of(&mut app, "charger-00001");
    app.detail = true;
    app.diff = true;
    let t = render(&app, 80, 24);
    insta::assert_snapshot!("diff_json_80x24", t.backend());
    let t = render(&app, 160, 48);
    insta::assert_snapshot!("diff_json_160x48", t.backend());
    let s = screen_text(&t);
    assert!(s.contains("~ kW") && s.contains("14 → 15"), "{s}");
    assert!(s.contains("+ fault") && s.contains("- mode"), "{s}");
    assert!(
        s.contains("1 changed · 1 added · 1 removed · 2 unchanged"),
        "{s}"
    );
    assert_eq!(style_of(&t, "~ kW").fg, Some(Color::Yellow));
    assert_eq!(style_of(&t, "+ fault").fg, Some(Color::Green));
    assert_eq!(style_of(&t, "- mode").fg, Some(Color::Red));
}

#[test]
fn diff_of_binary_messages_highlights_the_changed_bytes() {
    let mut app = fleet();
    select_last_of(&mut app, "meter-9");
    app.detail = true;
    app.diff = true;
    let t = render(&app, 100, 30);
    insta::assert_snapshot!("diff_binary", t.backend());
    let s = screen_text(&t);
    assert!(s.contains("2 bytes changed · 1 added · 0 removed"), "{s}");
    let st = style_of(&t, "02 53");
    assert!(st.add_modifier.contains(Modifier::REVERSED), "{st:?}");
    assert!(
        !style_of(&t, "00 02")
            .add_modifier
            .contains(Modifier::REVERSED)
    );
}

#[test]
fn diff_of_a_senders_first_message_says_there_is_nothing_to_compare() {
    let mut app = fleet();
    let seq = *app
        .view
        .iter()
        .find(|&&s| {
            app.ring
                .get(s)
                .is_some_and(|e| e.subtopic.as_deref() == Some("ChargerState"))
        })
        .expect("a report");
    app.follow = false;
    app.selected = Some(seq);
    app.detail = true;
    app.diff = true;
    let s = screen_text(&render(&app, 100, 30));
    assert!(s.contains("no earlier message from charger-00001"), "{s}");
}

#[test]
fn the_new_views_in_tiny_terminals_do_not_panic() {
    let mut app = plotted("kW");
    select_last_of(&mut app, "charger-00001");
    app.show_senders().expect("selected");
    for (w, h) in [(50, 15), (20, 6), (1, 1), (0, 0), (200, 3)] {
        for tab in [Tab::Senders, Tab::Plot, Tab::Events] {
            app.tab = tab;
            app.detail = true;
            app.diff = true;
            render(&app, w, h);
        }
        app.tab = Tab::Events;
        select_last_of(&mut app, "charger-00001");
        app.open_picker().expect("a JSON message");
        render(&app, w, h);
        app.mode = Mode::Normal;
    }
}

/// A message naming a plotted field quotes the broker's text: a payload key
/// with an escape sequence must not reach the terminal as one.
#[test]
fn a_message_quoting_broker_text_is_escaped_in_the_status_line() {
    let mut app = App::new(10, "test");
    app.zone = jiff::tz::TimeZone::UTC;
    app.push(message(Kind::Publish, "dev-1", "T", b"{\"\\u001b[2Jk\":1}"));
    app.open_picker().expect("a JSON message");
    let Mode::Picker(p) = app.mode.clone() else {
        panic!("picker open");
    };
    app.mode = Mode::Normal;
    let label = app.plot_chosen(&p).expect("plotted");
    assert!(
        label.contains('\u{1b}'),
        "the label is the raw key: {label:?}"
    );
    app.flash = Some(Flash {
        text: format!("plotting {label}"),
        error: false,
    });
    let t = render(&app, 80, 24);
    let buf = t.backend().buffer();
    let last: String = (0..80u16).map(|x| buf[(x, 23)].symbol()).collect();
    assert!(last.contains("plotting \\u{1b}[2Jk of T"), "{last}");
    let s = screen_text(&t);
    assert!(!s.contains('\u{1b}'), "{s}");
}

//! The Mako Lua hook (src/trace/hook.lua) on an embedded Lua 5.4 (mlua, no
//! system `lua5.4`), against tests/lua/fake_hub.lua: a stand-in for Mako's
//! smq.hub written from the real one (the order of its hooks, its log lines,
//! its server publish queue). The checks of the hook's logic are Lua cases in
//! tests/lua/hook_test.lua; here each runs in a fresh Lua state, and every
//! event the hook sent must parse as the schema's Event. The install the
//! README describes is run on a model of how Mako starts an app.

use std::path::Path;

use smqctl::trace::schema::{Event, Kind};

use crate::harness::{run, smqctl, text};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// Runs the Lua case `name` with `arg` (if any); returns the trace events it
/// collected, each parsed as the schema's Event.
fn lua_case(name: &str, arg: Option<&str>) -> Vec<Event> {
    let raw = lua_case_raw(name, arg);
    let events: Vec<Event> = raw
        .iter()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not a schema event: {l}: {e}")))
        .collect();
    assert!(
        events.iter().all(|e| e.timestamp().is_some()),
        "every ts parses: {raw:?}"
    );
    events
}

/// The case's return value: the JSON texts of the events it collected (or,
/// for `install`, one line saying why the app did not load).
fn lua_case_raw(name: &str, arg: Option<&str>) -> Vec<String> {
    let lua = mlua::Lua::new();
    lua.globals().set("ROOT", ROOT).expect("set ROOT");
    let file = Path::new(ROOT).join("tests/lua/hook_test.lua");
    let src = std::fs::read_to_string(&file).expect("read hook_test.lua");
    let cases: mlua::Table = lua
        .load(src)
        .set_name("@tests/lua/hook_test.lua")
        .eval()
        .unwrap_or_else(|e| panic!("loading hook_test.lua: {e}"));
    let case: mlua::Function = cases
        .get(name)
        .unwrap_or_else(|e| panic!("no case {name}: {e}"));
    let out: Result<Vec<String>, _> = match arg {
        Some(a) => case.call(a),
        None => case.call(()),
    };
    out.unwrap_or_else(|e| panic!("Lua case {name} failed:\n{e}"))
}

fn has(events: &[Event], kind: Kind) -> bool {
    events.iter().any(|e| e.kind == kind)
}

#[test]
fn lua_hook_logic_passes_on_embedded_lua54_and_its_events_fit_the_schema() {
    let events = lua_case("basics", None);
    assert!(events.len() >= 10, "{events:?}");
    for kind in [
        Kind::Snapshot,
        Kind::Publish,
        Kind::Drop,
        Kind::Deny,
        Kind::Error,
        Kind::Connect,
        Kind::Close,
        Kind::Subscribe,
        Kind::Createsub,
        Kind::Notice,
    ] {
        assert!(has(&events, kind), "no {kind} from the hook");
    }

    // What `smqctl hook lua` writes is that same tested file.
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("trace.lua");
    let out = run(smqctl().args(["hook", "lua", "--output"]).arg(&file));
    assert!(out.status.success(), "{}", text(&out.stderr));
    let shipped = std::fs::read_to_string(&file).expect("written");
    let source =
        std::fs::read_to_string(Path::new(ROOT).join("src/trace/hook.lua")).expect("source");
    assert_eq!(shipped, source);
}

#[test]
fn mako_hook_traces_connect_before_what_the_app_publishes_in_its_onconnect() {
    let events = lua_case("connect_comes_before_what_the_app_sends_in_onconnect", None);
    let connect = events
        .iter()
        .position(|e| {
            e.kind == Kind::Connect
                && e.from.as_ref().and_then(|c| c.uid.as_deref()) == Some("client-c")
        })
        .expect("client-c's connect");
    let welcome = events
        .iter()
        .position(|e| e.payload.as_deref() == Some(r#"{"hello":"client-c"}"#))
        .expect("the app's welcome");
    assert!(connect < welcome, "{events:#?}");
}

#[test]
fn mako_hook_subscribe_events_carry_the_topics_real_tid_not_0() {
    let events = lua_case(
        "subscribe_and_create_events_carry_the_new_topics_real_tid",
        None,
    );
    let tids: Vec<u32> = events
        .iter()
        .filter(|e| matches!(e.kind, Kind::Subscribe | Kind::Create))
        .filter_map(|e| e.to.as_ref().map(|d| d.tid))
        .collect();
    assert_eq!(tids.len(), 3, "{events:#?}");
    assert!(tids.iter().all(|t| *t != 0), "{tids:?}");
}

#[test]
fn mako_drops_only_logged_by_the_hub_become_drop_events_with_their_reason() {
    let events = lua_case("drops_mako_only_logs_become_drop_events", None);
    let reasons: Vec<&str> = events
        .iter()
        .filter(|e| e.kind == Kind::Drop)
        .filter_map(|e| e.reason.as_deref())
        .collect();
    for want in [
        "socket queue full",
        "publish queue is full",
        "the server has no handler for it",
    ] {
        assert!(
            reasons.iter().any(|r| r.contains(want)),
            "no drop for {want:?}: {reasons:?}"
        );
    }
    assert!(
        !reasons.contains(&"no subscribers"),
        "a receiver's full queue is not 'no subscribers': {reasons:?}"
    );
    lua_case(
        "mako_default_log_line_is_kept_and_a_dying_tracer_breaks_nothing",
        None,
    );
}

/// The first ```lua block of the README's Mako hook section.
fn readme_install_block() -> String {
    let readme = std::fs::read_to_string(Path::new(ROOT).join("README.md")).expect("README");
    let section = readme
        .split("### Mako Server / BAS: the Lua hook")
        .nth(1)
        .expect("the README's Mako hook section");
    let block = section.split("```lua\n").nth(1).expect("a lua block");
    block.split("```").next().expect("closed").to_string()
}

/// An app as a user makes it: the hook written by the real binary into
/// `.lua/smqctl/trace.lua`, and a `.preload` of `op`, then `lines`, then
/// handing the hub to the app's pages.
fn app_with(dir: &Path, lines: &str) -> String {
    let out = run(smqctl()
        .args(["hook", "lua", "--output"])
        .arg(dir.join(".lua/smqctl/trace.lua")));
    assert!(out.status.success(), "{}", text(&out.stderr));
    std::fs::write(
        dir.join(".preload"),
        format!("local op = {{}}\n{lines}\napp.smq = smq\n"),
    )
    .expect("write .preload");
    text(&out.stderr)
}

#[test]
fn the_mako_install_the_readme_and_hook_lua_output_give_loads_and_traces() {
    // The README's lines.
    let dir = tempfile::tempdir().expect("tempdir");
    let block = readme_install_block();
    assert!(block.contains("mako.createloader(io)"), "{block}");
    app_with(dir.path(), &block);
    let events = lua_case("install", dir.path().to_str());
    assert!(
        has(&events, Kind::Snapshot) && has(&events, Kind::Publish),
        "{events:?}"
    );

    // The lines `smqctl hook lua --output` prints: the same, indented.
    let dir = tempfile::tempdir().expect("tempdir");
    let said = app_with(dir.path(), "");
    let lines: Vec<&str> = said
        .lines()
        .filter_map(|l| l.strip_prefix("    "))
        .collect();
    assert_eq!(
        lines.first().copied(),
        Some("mako.createloader(io)"),
        "the first line to add: {said}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.contains(r#"require"smqctl.trace".create(op)"#)),
        "{said}"
    );
    app_with(dir.path(), &lines.join("\n"));
    let events = lua_case("install", dir.path().to_str());
    assert!(has(&events, Kind::Snapshot), "{events:?}");

    // Without the loader line the app does not load, as on Mako (the defect).
    let without: Vec<&str> = lines
        .iter()
        .copied()
        .filter(|l| !l.contains("createloader"))
        .collect();
    app_with(dir.path(), &without.join("\n"));
    let why = lua_case_raw("install", dir.path().to_str());
    assert!(
        why.len() == 1 && why[0].contains("did not load") && why[0].contains("smqctl.trace"),
        "the model reproduces Mako's failure: {why:?}"
    );

    // `hook lua --help` says it too.
    let out = run(smqctl().args(["hook", "lua", "--help"]));
    assert!(
        text(&out.stdout).contains("mako.createloader(io)"),
        "{}",
        text(&out.stdout)
    );
}

#[test]
fn mako_hook_json_payload_is_the_value_in_schema_v2_and_a_string_for_a_v1_tracer() {
    let raw = lua_case_raw("json_payload_is_the_value_for_a_version_2_tracer", None);
    let values: Vec<serde_json::Value> = raw
        .iter()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON: {l}: {e}")))
        .collect();
    let publishes: Vec<&serde_json::Value> = values
        .iter()
        .filter(|v| v["kind"] == "publish" && v["encoding"] == "json")
        .collect();
    assert_eq!(publishes.len(), 2, "{raw:#?}");
    let (v1, v2): (Vec<&serde_json::Value>, Vec<&serde_json::Value>) =
        publishes.into_iter().partition(|v| v["v"] == 1);
    assert!(v1[0]["payload"].is_string(), "{raw:#?}");
    assert_eq!(v2[0]["v"], 2);
    assert!(v2[0]["payload"].is_object(), "{raw:#?}");
    assert_eq!(v2[0]["payload"]["On"], true);
    // Both read as the same event: the payload's JSON text.
    let events = lua_case("json_payload_is_the_value_for_a_version_2_tracer", None);
    let texts: Vec<serde_json::Value> = events
        .iter()
        .filter(|e| e.kind == Kind::Publish && e.payload.as_deref() != Some("plain"))
        .map(|e| serde_json::from_str(e.payload.as_deref().expect("payload")).expect("json text"))
        .collect();
    assert_eq!(texts.len(), 2);
    assert_eq!(texts[0], texts[1]);
}

#[test]
fn mako_hook_gives_a_recorder_whole_payloads_and_cuts_one_too_big_for_a_message_to_fit() {
    let raw = lua_case_raw("full_payloads_for_a_tracer_that_asks", None);
    for l in &raw {
        assert!(
            l.len() <= smqctl::protocol::MAX_PAYLOAD,
            "an event of {} bytes does not fit one SMQ message",
            l.len()
        );
    }
    let events = lua_case("full_payloads_for_a_tracer_that_asks", None);
    let subs = events
        .iter()
        .find_map(|e| e.snapshot.as_ref())
        .map(|s| s.subscriptions.len());
    assert_eq!(
        subs,
        Some(3),
        "the recorder's snapshot lists the subscriptions"
    );
    let cut: Vec<&Event> = events
        .iter()
        .filter(|e| e.kind == Kind::Publish && e.size == Some(60_000))
        .collect();
    assert_eq!(cut.len(), 2, "both tracers got the binary publish");
    for e in cut {
        assert!(e.truncated);
        let kept = e.preview_bytes().expect("base64 decodes").len();
        assert!(kept > 0 && kept < 60_000, "{kept} bytes kept");
    }
}

//! Connection profiles: precedence (flags > SMQCTL_* environment > profile >
//! defaults), credentials taken from the environment and never shown, and the
//! `smqctl profile` commands.

use std::process::{Command, Output};

use smqctl::broker::Auth;
use smqctl::broker::BrokerConfig;

use crate::harness::{TestBroker, run, smqctl, text};

/// smqctl with its config file in `dir`.
fn with_config(dir: &tempfile::TempDir) -> Command {
    let mut cmd = smqctl();
    cmd.env("SMQCTL_CONFIG", dir.path().join("config.toml"));
    cmd
}

/// Runs `smqctl [GLOBAL...] shell [ARGS...] --script` with `status` then
/// `format`, and returns the output.
fn shell_status(mut cmd: Command, global: &[&str], args: &[&str]) -> Output {
    let dir = tempfile::tempdir().expect("tempdir");
    let script = dir.path().join("s.smq");
    std::fs::write(&script, "status\nformat\n").expect("write script");
    run(cmd
        .args(global)
        .arg("shell")
        .args(args)
        .arg("--script")
        .arg(&script))
}

#[test]
fn flags_beat_environment_beat_profile_beat_defaults() {
    let (p, e, f) = (
        TestBroker::start(),
        TestBroker::start(),
        TestBroker::start(),
    );
    let (p_url, e_url, f_url) = (p.url("ws"), e.url("http"), f.url("ws"));
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("config.toml"),
        format!("[profile.lab]\nurl = \"{p_url}\"\nformat = \"pretty\"\n"),
    )
    .expect("write config");
    let url_line = |u: &str| format!("url         {u}\n");

    // Profile over defaults: its URL, its format (not json, the piped default).
    let out = shell_status(with_config(&dir), &["--profile", "lab"], &[]);
    let so = text(&out.stdout);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(so.contains(&url_line(&p_url)), "{so}");
    assert!(so.ends_with("pretty\n"), "{so}");

    // SMQCTL_PROFILE selects it as well; SMQCTL_URL beats the profile's URL.
    let mut cmd = with_config(&dir);
    cmd.env("SMQCTL_PROFILE", "lab").env("SMQCTL_URL", &e_url);
    let so = text(&shell_status(cmd, &[], &[]).stdout);
    assert!(so.contains(&url_line(&e_url)), "{so}");

    // A flag beats both.
    let mut cmd = with_config(&dir);
    cmd.env("SMQCTL_URL", &e_url);
    let so = text(&shell_status(cmd, &["--profile", "lab"], &["--url", &f_url]).stdout);
    assert!(so.contains(&url_line(&f_url)), "{so}");

    // --format on the command line beats the profile's.
    let out = shell_status(
        with_config(&dir),
        &["--profile", "lab"],
        &["--format", "json"],
    );
    let so = text(&out.stdout);
    let lines: Vec<&str> = so.lines().collect();
    let status: serde_json::Value = serde_json::from_str(lines[0]).expect("json status");
    assert_eq!(status["url"], p_url.as_str());
    assert_eq!(lines[1], "json");

    // Without a profile: the defaults (json when piped).
    let so = text(&shell_status(with_config(&dir), &[], &["--url", &f_url]).stdout);
    assert!(so.ends_with("json\n"), "{so}");
}

#[test]
fn profile_credentials_come_from_the_environment_and_are_never_shown() {
    const SECRET: &str = "s3cret-value-91";
    let broker = TestBroker::with_config(BrokerConfig {
        auth: Some(Auth::Shared(SECRET.into())),
        ..BrokerConfig::default()
    });
    let url = broker.url("ws");
    let dir = tempfile::tempdir().expect("tempdir");
    let out = run(with_config(&dir).args([
        "profile",
        "add",
        "sec",
        "--url",
        &url,
        "--credentials-env",
        "TEST_SMQ_SECRET",
        "--uid",
        "prof-{{pid}}-{{random}}",
    ]));
    assert!(out.status.success(), "{}", text(&out.stderr));

    // The broker accepts the secret the profile points at.
    let ok = run(with_config(&dir).env("TEST_SMQ_SECRET", SECRET).args([
        "--profile",
        "sec",
        "pub",
        "Chat",
        "hi",
    ]));
    assert!(ok.status.success(), "{}", text(&ok.stderr));
    // SMQCTL_CREDENTIALS (environment) beats the profile: refused, exit 4.
    let env = run(with_config(&dir)
        .env("TEST_SMQ_SECRET", SECRET)
        .env("SMQCTL_CREDENTIALS", "wrong")
        .args(["--profile", "sec", "pub", "Chat", "hi"]));
    assert_eq!(env.status.code(), Some(4), "{}", text(&env.stderr));
    // The variable unset: a clear error before connecting.
    let unset = run(with_config(&dir).args(["--profile", "sec", "pub", "Chat", "hi"]));
    assert_eq!(unset.status.code(), Some(2));
    assert!(
        text(&unset.stderr).contains("$TEST_SMQ_SECRET, which is not set"),
        "{}",
        text(&unset.stderr)
    );

    // `show` and `list` say where the secret comes from, never what it is.
    for args in [&["profile", "show", "sec"][..], &["profile", "list"][..]] {
        let out = run(with_config(&dir).env("TEST_SMQ_SECRET", SECRET).args(args));
        assert!(out.status.success(), "{args:?}: {}", text(&out.stderr));
        let all = format!("{}{}", text(&out.stdout), text(&out.stderr));
        assert!(!all.contains(SECRET), "{args:?} printed the secret: {all}");
        if args[1] == "show" {
            assert!(
                all.contains("from $TEST_SMQ_SECRET (set; value hidden)"),
                "{all}"
            );
            assert!(all.contains("prof-{{pid}}-{{random}}"), "{all}");
        }
    }
    // Nor is it written to the file.
    let file = std::fs::read_to_string(dir.path().join("config.toml")).expect("config");
    assert!(!file.contains(SECRET), "{file}");

    // A plaintext secret in the file is refused without echoing it.
    std::fs::write(
        dir.path().join("config.toml"),
        format!("[profile.bad]\nurl = \"{url}\"\ncredentials = \"{SECRET}\"\n"),
    )
    .expect("write");
    let out = run(with_config(&dir).args(["--profile", "bad", "pub", "Chat", "hi"]));
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(err.contains("plain text") && !err.contains(SECRET), "{err}");
}

#[test]
fn unknown_profile_is_a_usage_error_naming_the_known_ones() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("config.toml"),
        "[profile.dev]\nurl = \"ws://127.0.0.1:1/\"\n[profile.prod]\nurl = \"wss://x/\"\n",
    )
    .expect("write");
    let out = run(with_config(&dir).args(["--profile", "stage", "sub", "X"]));
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(
        err.contains("unknown profile 'stage'; known profiles: dev, prod"),
        "{err}"
    );
    let out = run(with_config(&dir)
        .env("SMQCTL_PROFILE", "nope")
        .args(["pub", "X", "y"]));
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn profiles_are_added_listed_replaced_and_removed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let add = |extra: &[&str]| {
        run(with_config(&dir)
            .args(["profile", "add", "dev", "--url", "ws://a:1/smq/"])
            .args(extra))
    };
    assert!(add(&[]).status.success());
    let again = add(&[]);
    assert_eq!(again.status.code(), Some(2));
    assert!(text(&again.stderr).contains("use --force"));
    assert!(add(&["--force", "--format", "hex"]).status.success());
    let list = run(with_config(&dir).args(["profile", "list"]));
    assert_eq!(text(&list.stdout), "dev  ws://a:1/smq/\n");
    let show = run(with_config(&dir).args(["profile", "show", "dev"]));
    assert!(
        text(&show.stdout).contains("format      hex"),
        "{}",
        text(&show.stdout)
    );
    let rm = run(with_config(&dir).args(["profile", "remove", "dev"]));
    assert!(rm.status.success());
    let list = run(with_config(&dir).args(["profile", "list"]));
    assert_eq!(text(&list.stdout), "");
    let rm = run(with_config(&dir).args(["profile", "remove", "dev"]));
    assert_eq!(rm.status.code(), Some(2));
}

#[test]
fn a_profile_with_a_uid_still_runs_simulate() {
    // The README's own profile has a `uid`; `simulate` refuses --uid (each
    // device's UID comes from its scenario), and used to refuse the profile's.
    let broker = TestBroker::start();
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("config.toml"),
        format!(
            "[profile.lab]\nurl = \"{}\"\nuid = \"ops-{{{{pid}}}}\"\n",
            broker.url("ws")
        ),
    )
    .expect("write config");
    let out = run(with_config(&dir).args([
        "--profile",
        "lab",
        "simulate",
        "-n",
        "1",
        "--duration",
        "300ms",
        "--format",
        "json",
    ]));
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("\"type\":\"summary\""));
    // A --uid given on the command line is still refused.
    let out = run(with_config(&dir).args([
        "--profile",
        "lab",
        "simulate",
        "-n",
        "1",
        "--uid",
        "someone",
    ]));
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
}

#[test]
fn a_profile_that_makes_the_file_invalid_can_still_be_removed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = dir.path().join("config.toml");
    std::fs::write(
        &config,
        "[profile.sec]\nurl = \"ws://h/\"\ncredentials = \"s3cret\"\n",
    )
    .expect("write config");
    let list = run(smqctl()
        .env("SMQCTL_CONFIG", &config)
        .args(["profile", "list"]));
    assert_eq!(list.status.code(), Some(2));
    let err = text(&list.stderr);
    assert!(
        err.contains(&config.display().to_string()),
        "names the file: {err}"
    );
    assert!(!err.contains("s3cret"), "{err}");

    let rm = run(smqctl()
        .env("SMQCTL_CONFIG", &config)
        .args(["profile", "remove", "sec"]));
    assert!(rm.status.success(), "{}", text(&rm.stderr));
    assert!(
        !std::fs::read_to_string(&config)
            .expect("read")
            .contains("s3cret")
    );

    let bad = run(smqctl().env("SMQCTL_CONFIG", &config).args([
        "profile",
        "add",
        "b",
        "--url",
        "not a url at all",
    ]));
    assert_eq!(bad.status.code(), Some(2), "{}", text(&bad.stderr));
    assert!(
        !std::fs::read_to_string(&config)
            .expect("read")
            .contains("[profile.b]")
    );
}

/// A config file that is not TOML was reported with TOML's multi-line
/// snippet (as `\n`s in `profile list`, over six lines in `sub --profile`);
/// now one line: the file, the line and the reason, exit 2.
#[test]
fn a_config_file_that_is_not_toml_was_reported_as_a_multi_line_snippet() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = dir.path().join("config.toml");
    std::fs::write(&config, "[profile.x]\nurl = \n").expect("write config");
    let want = format!("error: invalid config file {}, line 2: ", config.display());
    for args in [&["profile", "list"][..], &["sub", "T", "--profile", "x"]] {
        let out = run(with_config(&dir).args(args));
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.starts_with(&want), "{args:?}: {err}");
        assert!(
            !err.contains("\\n") && !err.contains(" | "),
            "{args:?}: {err}"
        );
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
    }
}

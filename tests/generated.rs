//! completions/ and man/ are generated from the CLI; these tests fail when the
//! committed files are stale (regenerate with .ci/regenerate).

use std::path::Path;

use crate::harness::{run, smqctl};

#[test]
fn committed_completions_are_current() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for (shell, file) in [
        ("bash", "smqctl.bash"),
        ("zsh", "_smqctl"),
        ("fish", "smqctl.fish"),
        ("elvish", "smqctl.elv"),
        ("powershell", "_smqctl.ps1"),
    ] {
        let out = run(smqctl().args(["completions", shell]));
        assert!(out.status.success());
        let committed = std::fs::read(root.join("completions").join(file)).unwrap_or_default();
        assert!(
            committed == out.stdout,
            "completions/{file} is stale ({shell}): run .ci/regenerate"
        );
    }
}

#[test]
fn committed_man_pages_are_current() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = tempfile::tempdir().expect("tempdir");
    let out = run(smqctl().args(["man", "--dir"]).arg(dir.path()));
    assert!(out.status.success());
    let mut fresh: Vec<_> = std::fs::read_dir(dir.path())
        .expect("read tmp")
        .map(|e| e.expect("entry").file_name())
        .collect();
    fresh.sort();
    assert!(fresh.len() >= 4, "one page per subcommand: {fresh:?}");
    for name in fresh {
        let new = std::fs::read(dir.path().join(&name)).expect("fresh page");
        let committed = std::fs::read(root.join("man").join(&name)).unwrap_or_default();
        assert!(
            committed == new,
            "man/{} is stale: run .ci/regenerate",
            name.to_string_lossy()
        );
    }
}

/// The committed man pages, by file name.
fn committed_pages() -> std::collections::BTreeMap<String, String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("man");
    std::fs::read_dir(&dir)
        .expect("man/")
        .map(|e| {
            let e = e.expect("entry");
            let name = e.file_name().to_string_lossy().into_owned();
            let body = std::fs::read_to_string(e.path()).expect("man page is text");
            (name, body)
        })
        .collect()
}

#[test]
fn every_man_page_a_page_cites_exists() {
    let pages = committed_pages();
    let mut cited = 0;
    for (name, body) in &pages {
        // roff escapes the dashes: smqctl\-bench\-pubsub(1)
        for (at, _) in body.match_indices("(1)") {
            let start = body[..at]
                .rfind(|c: char| !(c.is_ascii_alphanumeric() || c == '\\' || c == '-'))
                .map_or(0, |i| i + 1);
            let page = body[start..at].replace("\\-", "-");
            if !page.starts_with("smqctl") {
                continue;
            }
            cited += 1;
            assert!(
                pages.contains_key(&format!("{page}.1")),
                "man/{name} cites {page}(1), which is not in man/"
            );
        }
    }
    // The root page alone names every top-level subcommand.
    assert!(cited >= 20, "only {cited} citations found");
    for page in [
        "smqctl-bench-pubsub.1",
        "smqctl-hook-lua.1",
        "smqctl-simulate-merge.1",
        "smqctl-profile-add.1",
    ] {
        assert!(pages.contains_key(page), "man/{page} is missing");
    }
}

#[test]
fn every_flag_of_every_subcommand_is_in_its_man_page() {
    let pages = committed_pages();
    // The tree the binary runs (local commands hide the connection globals).
    let mut cmd = smqctl::cli::command();
    cmd.build();
    let mut checked = 0;
    let mut stack = vec![("smqctl".to_string(), cmd)];
    while let Some((page, cmd)) = stack.pop() {
        let body = pages
            .get(&format!("{page}.1"))
            .unwrap_or_else(|| panic!("no man/{page}.1 for `{}`", page.replace('-', " ")));
        for arg in cmd.get_arguments().filter(|a| !a.is_hide_set()) {
            let mut spellings = Vec::new();
            if let Some(l) = arg.get_long() {
                spellings.push(format!("\\fB\\-\\-{}\\fR", l.replace('-', "\\-")));
            }
            if let Some(s) = arg.get_short() {
                spellings.push(format!("\\fB\\-{s}\\fR"));
            }
            for s in spellings {
                checked += 1;
                assert!(
                    body.contains(&s),
                    "man/{page}.1 does not mention {s} (of `{}`)",
                    page.replace('-', " ")
                );
            }
        }
        for sub in cmd.get_subcommands().filter(|s| s.get_name() != "help") {
            stack.push((format!("{page}-{}", sub.get_name()), sub.clone()));
        }
    }
    assert!(checked > 200, "only {checked} flags checked");
}

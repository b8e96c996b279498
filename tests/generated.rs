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

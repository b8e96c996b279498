//! Replays the fuzzers' saved inputs on the stable toolchain: every file of
//! `fuzz/corpus/<target>/` and every crash or regression input kept in
//! `fuzz/artifacts-regressions/` (named `<target>-<what went wrong>`) goes
//! through the same `smqctl::fuzzing` function as the cargo-fuzz target, so
//! a fixed bug stays fixed without nightly.

use std::path::{Path, PathBuf};

use smqctl::fuzzing::{TARGETS, Target, target};

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz")
}

fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("directory entry").path())
        .filter(|p| p.is_file())
        .collect();
    out.sort();
    out
}

/// Runs one input, naming the file when it panics.
fn replay(name: &str, f: Target, path: &Path) {
    let data = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    if std::panic::catch_unwind(|| f(&data)).is_err() {
        panic!(
            "{name} panicked on {} (reproduce: cd fuzz && cargo +nightly fuzz run {name} {})",
            path.display(),
            path.display()
        );
    }
}

#[test]
fn every_fuzz_target_has_its_source_file_and_a_seeded_corpus() {
    let sources: Vec<String> = files(&fuzz_dir().join("fuzz_targets"))
        .iter()
        .filter_map(|p| Some(p.file_stem()?.to_str()?.to_string()))
        .collect();
    let mut names: Vec<String> = TARGETS.iter().map(|(n, _)| n.to_string()).collect();
    names.sort();
    assert_eq!(
        sources, names,
        "fuzz/fuzz_targets/*.rs and fuzzing::TARGETS differ"
    );
    for name in &names {
        let corpus = files(&fuzz_dir().join("corpus").join(name));
        assert!(!corpus.is_empty(), "fuzz/corpus/{name} is empty");
    }
}

#[test]
fn fuzz_corpus_replays_without_panic() {
    let mut replayed = 0;
    for (name, f) in TARGETS {
        for path in files(&fuzz_dir().join("corpus").join(name)) {
            replay(name, *f, &path);
            replayed += 1;
        }
    }
    assert!(replayed >= TARGETS.len(), "only {replayed} inputs replayed");
}

#[test]
fn fuzz_crash_and_regression_inputs_replay_without_panic() {
    let inputs = files(&fuzz_dir().join("artifacts-regressions"));
    assert!(!inputs.is_empty(), "no regression inputs found");
    for path in inputs {
        let file = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        let name = file.split('-').next().unwrap_or_default();
        let f = target(name).unwrap_or_else(|| {
            panic!("{file}: name it <target>-<what went wrong>, <target> one of fuzzing::TARGETS")
        });
        replay(name, f, &path);
    }
}

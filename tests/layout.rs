//! The house's own rules, read from the sources: each module's `//!` doc says
//! what it may import (ARCHITECTURE.md habit 1), and that line must stay true
//! as imports change.

use std::path::{Path, PathBuf};

/// Modules every floor may use without naming them: the leaves (and the
/// fuzzing entry point, compiled only for fuzzing).
const LEAVES: [&str; 5] = ["text", "template", "latency", "shutdown", "fuzzing"];

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let entries = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    for entry in entries {
        let path = entry.expect("directory entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|x| x == "rs") {
            out.push(path);
        }
    }
}

/// The `//!` paragraph that starts with "May import", joined into one line.
fn may_import(source: &str) -> Option<String> {
    let doc: Vec<&str> = source
        .lines()
        .take_while(|l| l.starts_with("//!"))
        .map(|l| &l[3..])
        .collect();
    let start = doc.iter().position(|l| l.contains("May import"))?;
    let para: Vec<&str> = doc[start..]
        .iter()
        .take_while(|l| !l.trim().is_empty())
        .copied()
        .collect();
    Some(para.join(" "))
}

/// The crate's top-level modules named by `crate::X` in code outside tests
/// (comments and everything from the first top-level `#[cfg(test)]` on are skipped).
fn crate_modules_used(source: &str) -> Vec<String> {
    let mut used = Vec::new();
    for line in source.lines() {
        if line.starts_with("#[cfg(test)]") {
            break;
        }
        if line.trim_start().starts_with("//") {
            continue;
        }
        for (at, _) in line.match_indices("crate::") {
            let name: String = line[at + "crate::".len()..]
                .chars()
                .take_while(|c| c.is_ascii_lowercase() || *c == '_')
                .collect();
            if !name.is_empty() && !used.contains(&name) {
                used.push(name);
            }
        }
    }
    used
}

/// Whether `word` occurs in `text` as a whole word.
fn names(text: &str, word: &str) -> bool {
    let ident = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_');
    text.match_indices(word).any(|(at, _)| {
        !ident(text[..at].chars().next_back()) && !ident(text[at + word.len()..].chars().next())
    })
}

#[test]
fn may_import_docs_name_every_crate_module_the_file_imports() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    files.sort();
    let mut wrong = Vec::new();
    let mut checked = 0;
    for path in &files {
        let source = std::fs::read_to_string(path).expect("read a source file");
        let Some(para) = may_import(&source) else {
            continue;
        };
        checked += 1;
        if names(&para, "everything") {
            continue;
        }
        let rel = path.strip_prefix(&src).expect("under src");
        // The file's own module (src/broker/x.rs may name crate::broker).
        let own = rel
            .components()
            .next()
            .and_then(|c| c.as_os_str().to_str())
            .map(|s| s.trim_end_matches(".rs").to_string())
            .unwrap_or_default();
        let missing: Vec<String> = crate_modules_used(&source)
            .into_iter()
            .filter(|m| *m != own && !LEAVES.contains(&m.as_str()) && !names(&para, m))
            .collect();
        if !missing.is_empty() {
            wrong.push(format!(
                "src/{}: imports {} but its doc says \"{}\"",
                rel.display(),
                missing.join(", "),
                para.trim()
            ));
        }
    }
    assert!(checked > 40, "only {checked} files with a May import line");
    assert!(wrong.is_empty(), "\n{}", wrong.join("\n"));
}

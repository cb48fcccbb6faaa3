//! Every file under `tests/fixtures/` is read by some test: a fixture that no test names (a
//! fuzz finding committed without its regression test, a golden file nobody decodes) fails
//! here. Files are matched by name in the sources of `tests/*.rs` (this file excluded);
//! `*.md` files are documentation.

use std::path::{Path, PathBuf};

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files(&path, out);
        } else if path.extension().is_none_or(|e| e != "md") {
            out.push(path);
        }
    }
}

#[test]
fn every_fixture_is_read_by_a_test() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests");
    let mut sources = String::new();
    for entry in std::fs::read_dir(&root).unwrap() {
        let path = entry.unwrap().path();
        let is_test = path.extension().is_some_and(|e| e == "rs");
        if is_test && path.file_name().is_some_and(|n| n != "fixtures_used.rs") {
            sources.push_str(&std::fs::read_to_string(&path).unwrap());
        }
    }
    let mut fixtures = Vec::new();
    files(&root.join("fixtures"), &mut fixtures);
    assert!(fixtures.len() >= 10, "the fixtures directory was found: {fixtures:?}");
    let unused: Vec<String> = fixtures
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .filter(|name| !sources.contains(&format!("\"{name}\"")) && !sources.contains(&format!("/{name}\"")))
        .collect();
    assert!(unused.is_empty(), "fixtures no test reads: {unused:?}");
}

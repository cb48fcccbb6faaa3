//! The front ends (the CLI, Python and SQL crates) sit above one boundary: the umbrella crate's
//! flat names. They never reach into a layered crate, neither through the umbrella's layer
//! modules (`ailake::catalog::…`) nor by depending on an `ailk-*` crate, so the layers can be
//! reshaped without touching them.

use std::path::{Path, PathBuf};

const FRONT_ENDS: [&str; 3] = ["ailake-cli", "ailake-python", "ailake-datafusion"];
const LAYERS: [&str; 5] = ["catalog", "search", "format", "writer", "index"];

fn crates_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.map(Result::unwrap) {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Every `ailake::<layer>` path in `source`, including one inside a grouped import
/// (`use ailake::{catalog::X, …}`), with comments left out.
fn layer_paths(source: &str) -> Vec<String> {
    let code: String =
        source.lines().map(|l| l.split("//").next().unwrap_or("")).collect::<Vec<_>>().join("\n");
    let mut found = Vec::new();
    for layer in LAYERS {
        if code.contains(&format!("ailake::{layer}::")) {
            found.push(format!("ailake::{layer}::"));
        }
    }
    // Grouped imports: the text between `use ailake::{` and its closing brace.
    let mut rest = code.as_str();
    while let Some(at) = rest.find("ailake::{") {
        let group = &rest[at + "ailake::{".len()..];
        let end = group.find('}').unwrap_or(group.len());
        for item in group[..end].split(',') {
            let item = item.trim();
            if let Some(layer) = LAYERS.iter().find(|l| item.starts_with(&format!("{l}::")) || item == **l) {
                found.push(format!("ailake::{{{layer}…}}"));
            }
        }
        rest = &group[end..];
    }
    found
}

#[test]
fn front_ends_use_only_the_umbrellas_flat_names() {
    let mut offenders = Vec::new();
    let mut checked = 0;
    for front_end in FRONT_ENDS {
        let mut files = Vec::new();
        rust_files(&crates_dir().join(front_end), &mut files);
        assert!(!files.is_empty(), "no sources found for {front_end}");
        for file in files {
            checked += 1;
            let source = std::fs::read_to_string(&file).unwrap();
            for path in layer_paths(&source) {
                offenders.push(format!("{}: {path}", file.display()));
            }
        }
    }
    assert!(checked > 20, "only {checked} files checked");
    assert!(offenders.is_empty(), "front ends reaching past the umbrella:\n{}", offenders.join("\n"));
}

#[test]
fn front_ends_depend_on_no_layer_crate() {
    for front_end in FRONT_ENDS {
        let manifest = std::fs::read_to_string(crates_dir().join(front_end).join("Cargo.toml")).unwrap();
        let layers: Vec<&str> = manifest
            .lines()
            .map(str::trim_start)
            .filter(|l| l.starts_with("ailk-") && !l.starts_with("ailk-testkit"))
            .collect();
        assert!(layers.is_empty(), "{front_end} depends on layer crates: {layers:?}");
    }
}

#[test]
fn the_checker_sees_every_form_of_a_layer_path() {
    assert_eq!(layer_paths("use ailake::catalog::LiveFile;"), ["ailake::catalog::"]);
    assert_eq!(layer_paths("use ailake::{Filter, search::Op};"), ["ailake::{search…}"]);
    assert_eq!(layer_paths("let x = ailake::index::DEFAULT_EF;"), ["ailake::index::"]);
    assert!(layer_paths("use ailake::{Filter, LiveFile}; // ailake::catalog::x").is_empty());
}

/// Module path (`a::b`) of each source file of a crate: `src/a/b.rs` or `src/a/b/mod.rs`;
/// the crate root (`lib.rs`) is left out (it only declares and re-exports).
fn modules(src: &Path) -> Vec<(String, PathBuf)> {
    let mut files = Vec::new();
    rust_files(src, &mut files);
    files
        .into_iter()
        .filter_map(|f| {
            let rel = f.strip_prefix(src).unwrap().with_extension("");
            let mut parts: Vec<String> = rel.iter().map(|p| p.to_string_lossy().into_owned()).collect();
            if parts.last().is_some_and(|p| p == "mod") {
                parts.pop();
            }
            let path = parts.join("::");
            (path != "lib" && path != "main" && !path.is_empty()).then_some((path, f))
        })
        .collect()
}

/// Whether `text[at..]` starts a path (not the middle of a longer name or path).
fn starts_path(text: &str, at: usize) -> bool {
    !text[..at].ends_with(|c: char| c.is_alphanumeric() || c == '_' || c == ':')
}

/// The modules of `known` that `source` (the file of module `me`) names: through `crate::`,
/// `super::` and `self::` paths (grouped imports `crate::a::{b, c::D}` expanded) and through
/// bare paths into its own child modules (`child::f()`); comments left out.
fn imported_modules(source: &str, me: &str, known: &[String]) -> Vec<String> {
    let code: Vec<&str> = source.lines().map(|l| l.split("//").next().unwrap_or("")).collect();
    let text = code.join(" ");
    let parent = |path: &str| path.rsplit_once("::").map(|(p, _)| p.to_string()).unwrap_or_default();
    let mut paths = Vec::new();
    for (prefix, base) in [("crate::", String::new()), ("super::", parent(me)), ("self::", me.to_string())] {
        let mut from = 0;
        while let Some(at) = text[from..].find(prefix) {
            let start = from + at;
            from = start + prefix.len();
            if !starts_path(&text, start) {
                continue;
            }
            let rest = &text[from..];
            let end =
                rest.find(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':')).unwrap_or(rest.len());
            let head = rest[..end].trim_end_matches(':').to_string();
            let join = |tail: &str| match (base.is_empty(), tail.is_empty()) {
                (true, _) => tail.to_string(),
                (false, true) => base.clone(),
                (false, false) => format!("{base}::{tail}"),
            };
            if rest[end..].starts_with('{') {
                let group = &rest[end + 1..];
                let close = group.find('}').unwrap_or(group.len());
                for item in group[..close].split(',') {
                    let item = item.trim().split(" as ").next().unwrap_or("").trim();
                    let full = if head.is_empty() { item.to_string() } else { format!("{head}::{item}") };
                    paths.push(join(&full));
                }
            } else {
                paths.push(join(&head));
            }
        }
    }
    for child in known.iter().filter(|m| parent(m) == me) {
        let name = format!("{}::", child.rsplit("::").next().unwrap_or(child));
        let mut from = 0;
        while let Some(at) = text[from..].find(&name) {
            let start = from + at;
            from = start + name.len();
            if starts_path(&text, start) {
                paths.push(child.clone());
                break;
            }
        }
    }
    let mut found = Vec::new();
    for path in paths {
        // The longest known module the path starts with.
        let module = known
            .iter()
            .filter(|m| path == **m || path.starts_with(&format!("{m}::")))
            .max_by_key(|m| m.len());
        if let Some(m) = module {
            if m != me && !found.contains(m) {
                found.push(m.clone());
            }
        }
    }
    found
}

/// The modules on an import cycle among `files` (module path, source). A child naming its
/// ancestors' items (the `impl` of a type split over the files of its module) is how a module
/// is split, not a cycle.
fn modules_on_cycles(files: &[(String, String)]) -> Vec<String> {
    let known: Vec<String> = files.iter().map(|(m, _)| m.clone()).collect();
    let edges: Vec<Vec<usize>> = files
        .iter()
        .map(|(me, source)| {
            imported_modules(source, me, &known)
                .iter()
                .filter(|m| !me.starts_with(&format!("{m}::")))
                .map(|m| known.iter().position(|k| k == m).unwrap())
                .collect()
        })
        .collect();
    // A module on a cycle reaches itself.
    let mut on_cycle = Vec::new();
    for (start, module) in known.iter().enumerate() {
        let mut seen = vec![false; files.len()];
        let mut stack = edges[start].clone();
        while let Some(n) = stack.pop() {
            if n == start {
                on_cycle.push(module.clone());
                break;
            }
            if !std::mem::replace(&mut seen[n], true) {
                stack.extend(&edges[n]);
            }
        }
    }
    on_cycle
}

/// No file of a layered crate (or of the SQL crate) depends on itself through other files.
#[test]
fn no_import_cycle_between_files_of_a_crate() {
    let crates =
        ["ailk-format", "ailk-index", "ailk-catalog", "ailk-search", "ailk-writer", "ailake-datafusion"];
    let mut cycles = Vec::new();
    for name in crates {
        let files: Vec<(String, String)> = modules(&crates_dir().join(name).join("src"))
            .into_iter()
            .map(|(module, file)| (module, std::fs::read_to_string(file).unwrap()))
            .collect();
        assert!(files.len() > 5, "{name}: only {} files", files.len());
        cycles.extend(modules_on_cycles(&files).into_iter().map(|m| format!("{name}: {m}")));
    }
    assert!(cycles.is_empty(), "files on an import cycle:\n{}", cycles.join("\n"));
}

#[test]
fn the_cycle_checker_finds_sibling_cycles_and_allows_children_naming_ancestors() {
    let files = |list: &[(&str, &str)]| -> Vec<(String, String)> {
        list.iter().map(|(m, s)| (m.to_string(), s.to_string())).collect()
    };
    let siblings = files(&[
        ("staging", "use crate::writer::TableWriter;"),
        ("writer", "use crate::staging::Staging;"),
        ("other", "use crate::writer::X;"),
    ]);
    assert_eq!(modules_on_cycles(&siblings), ["staging", "writer"]);
    let through_three =
        files(&[("a", "use crate::b::X;"), ("b", "use crate::c::Y;"), ("c", "use super::a::Z;")]);
    assert_eq!(modules_on_cycles(&through_three), ["a", "b", "c"]);
    let split_impl =
        files(&[("session", "mod plan; plan::build();"), ("session::plan", "use super::SearchSession;")]);
    assert!(modules_on_cycles(&split_impl).is_empty());
}

#[test]
fn the_cycle_checker_resolves_crate_super_and_grouped_paths() {
    let known: Vec<String> = ["a", "a::b", "c"].iter().map(|s| s.to_string()).collect();
    let found = imported_modules("use crate::a::b::Thing;\nuse crate::{c::X, a::Y};", "d", &known);
    assert_eq!(found, ["a::b", "c", "a"]);
    assert_eq!(imported_modules("use super::Thing; // crate::c", "a::b", &known), ["a"]);
    assert_eq!(imported_modules("let x = b::f(); let y = other::b::g();", "a", &known), ["a::b"]);
    assert_eq!(imported_modules("use self::b::Z;", "a", &known), ["a::b"]);
    assert!(imported_modules("let x = ab::f(); let y = my_c::g();", "", &known).is_empty());
}

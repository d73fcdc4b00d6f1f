//! The library's top-level modules depend on each other without a cycle (tests aside).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// `crate::<name>` references in `text`, outside comments and test modules.
fn references(text: &str) -> BTreeSet<String> {
    let code = text.split("#[cfg(test)]").next().unwrap_or_default();
    let mut out = BTreeSet::new();
    for line in code.lines().filter(|l| !l.trim_start().starts_with("//")) {
        for marker in ["crate::", "super::super::"] {
            for piece in line.split(marker).skip(1) {
                let name: String = piece
                    .chars()
                    .take_while(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_')
                    .collect();
                if !name.is_empty() {
                    out.insert(name);
                }
            }
        }
    }
    out
}

fn rust_files(path: &Path, out: &mut Vec<String>) {
    if path.is_dir() {
        for entry in std::fs::read_dir(path).unwrap() {
            rust_files(&entry.unwrap().path(), out);
        }
    } else if path.extension().is_some_and(|e| e == "rs") {
        out.push(std::fs::read_to_string(path).unwrap());
    }
}

#[test]
fn top_level_modules_form_no_cycle() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for entry in std::fs::read_dir(&src).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        if name == "lib" {
            continue;
        }
        let mut texts = Vec::new();
        rust_files(&path, &mut texts);
        let deps = texts
            .iter()
            .flat_map(|t| references(t))
            .filter(|d| *d != name)
            .collect();
        graph.insert(name, deps);
    }
    assert!(graph.len() > 5, "{graph:?}");
    assert_acyclic(&graph);
}

/// Panics with the path of the first cycle in `graph`.
fn assert_acyclic(graph: &BTreeMap<String, BTreeSet<String>>) {
    // Depth-first search for a path back to the start.
    for start in graph.keys() {
        let mut stack = vec![vec![start.clone()]];
        while let Some(path) = stack.pop() {
            let last = path.last().unwrap();
            for next in graph
                .get(last)
                .into_iter()
                .flatten()
                .filter(|n| graph.contains_key(*n))
            {
                assert!(
                    next != start,
                    "module cycle: {} -> {next}",
                    path.join(" -> ")
                );
                if !path.contains(next) {
                    let mut longer = path.clone();
                    longer.push(next.clone());
                    stack.push(longer);
                }
            }
        }
    }
}

/// The names `marker` (`super::` or `super::super::`) leads to in `text`, grouped imports
/// (`super::{a, b::c}`) included, outside comments and test modules.
fn names_after(text: &str, marker: &str) -> BTreeSet<String> {
    let code = text.split("#[cfg(test)]").next().unwrap_or_default();
    let ident = |s: &str| -> String {
        s.trim_start()
            .chars()
            .take_while(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_')
            .collect()
    };
    let mut out = BTreeSet::new();
    let joined: String = code
        .lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join(" ");
    for piece in joined.split(marker).skip(1) {
        if piece.starts_with("super::") {
            continue;
        }
        if let Some(group) = piece.strip_prefix('{') {
            let inner = group.split('}').next().unwrap_or_default();
            out.extend(inner.split(',').map(ident));
        } else {
            out.insert(ident(piece));
        }
    }
    out.remove("");
    out
}

/// Inside `engine/`, the engines and what they share depend on each other without a cycle:
/// the shared parts (suites, session cache, interned verifiers) never reach into an engine,
/// and neither engine into the other.
#[test]
fn engine_submodules_form_no_cycle() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/engine");
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let names: BTreeSet<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_stem().is_some_and(|s| s != "mod"))
        .map(|p| p.file_stem().unwrap().to_string_lossy().into_owned())
        .collect();
    for name in &names {
        let path = dir.join(name);
        let mut deps = BTreeSet::new();
        if path.is_dir() {
            for entry in std::fs::read_dir(&path).unwrap() {
                let file = entry.unwrap().path();
                let text = std::fs::read_to_string(&file).unwrap();
                // A folder's mod.rs reaches its siblings with `super::`, its files with
                // `super::super::`.
                let marker = if file.file_stem().is_some_and(|s| s == "mod") {
                    "super::"
                } else {
                    "super::super::"
                };
                deps.extend(names_after(&text, marker));
            }
        } else {
            let text = std::fs::read_to_string(path.with_extension("rs")).unwrap();
            deps.extend(names_after(&text, "super::"));
        }
        deps.retain(|d| names.contains(d) && d != name);
        graph.insert(name.clone(), deps);
    }
    assert!(
        graph.contains_key("rustls_engine") && graph["session"].contains("rustls_engine"),
        "{graph:?}"
    );
    assert_acyclic(&graph);
}

/// The lines of each function in `text` whose body runs over `limit` lines: (line, name,
/// length). Braces inside strings and comments are skipped; a character literal `'{'` too.
fn long_functions(text: &str, limit: usize) -> Vec<(usize, String, usize)> {
    let lines: Vec<&str> = text.lines().collect();
    let mut found = Vec::new();
    for (start, line) in lines.iter().enumerate() {
        let t = line.trim_start();
        if t.starts_with("//") {
            continue;
        }
        let Some(at) = t.find("fn ") else { continue };
        let head = &t[..at];
        if !head
            .split_whitespace()
            .all(|w| w.starts_with("pub") || ["const", "async", "unsafe"].contains(&w))
        {
            continue;
        }
        let name: String = t[at + 3..]
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        let (mut depth, mut opened) = (0i32, false);
        for (offset, l) in lines[start..].iter().enumerate() {
            let code = strip_literals(l);
            if !opened && code.contains(';') && !code.contains('{') {
                break;
            }
            for c in code.chars() {
                match c {
                    '{' => {
                        depth += 1;
                        opened = true;
                    }
                    '}' => depth -= 1,
                    _ => {}
                }
            }
            if opened && depth == 0 {
                if offset + 1 > limit {
                    found.push((start + 1, name.clone(), offset + 1));
                }
                break;
            }
        }
    }
    found
}

/// `line` without string and character literals and without a trailing comment.
fn strip_literals(line: &str) -> String {
    let mut out = String::new();
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' => {
                while let Some(d) = chars.next() {
                    match d {
                        '\\' => {
                            chars.next();
                        }
                        '"' => break,
                        _ => {}
                    }
                }
            }
            '\'' if matches!(chars.clone().nth(1), Some('\'')) => {
                chars.next();
                chars.next();
            }
            '/' if chars.peek() == Some(&'/') => break,
            _ => out.push(c),
        }
    }
    out
}

/// No function of the library runs over 120 lines: the long ones were where options were
/// read, decided and applied all at once.
#[test]
fn no_function_in_the_library_is_over_120_lines() {
    fn walk(path: &Path, out: &mut Vec<(String, usize, String, usize)>) {
        if path.is_dir() {
            for entry in std::fs::read_dir(path).unwrap() {
                walk(&entry.unwrap().path(), out);
            }
        } else if path.extension().is_some_and(|e| e == "rs") {
            let text = std::fs::read_to_string(path).unwrap();
            for (line, name, len) in long_functions(&text, 120) {
                out.push((path.display().to_string(), line, name, len));
            }
        }
    }
    let mut long = Vec::new();
    walk(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
        &mut long,
    );
    assert!(long.is_empty(), "functions over 120 lines: {long:?}");
    // The check itself finds a long function.
    let body = "fn long() {\n".to_owned() + &"    let x = '{';\n".repeat(130) + "}\n";
    assert_eq!(long_functions(&body, 120), [(1, "long".to_owned(), 132)]);
}

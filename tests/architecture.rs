//! The code map in ARCHITECTURE.md is the rule: every module may refer only to the modules its row names
//! under "may use", and the modules' references to each other form no circle. Both are read from the
//! source (`crate::…` paths outside comments), so a new import that breaks the map fails here.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// One row of the code map: the path it covers (`store/`, `fanout.rs`) and what it may use.
struct Row {
    key: String,
    may_use: BTreeSet<String>,
}

fn top(segment: &str) -> String {
    segment.trim_end_matches('/').split(['/', ':']).next().unwrap().trim_end_matches(".rs").to_owned()
}

fn backticked(text: &str) -> Vec<&str> {
    text.split('`').skip(1).step_by(2).collect()
}

fn code_map() -> Vec<Row> {
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/ARCHITECTURE.md")).unwrap();
    let table = doc.split("## Code map").nth(1).expect("a code map").split("\n## ").next().unwrap();
    let mut rows: Vec<Row> = Vec::new();
    for line in table.lines().filter(|l| l.starts_with("| `")) {
        let cells: Vec<&str> = line.trim_matches('|').split(" | ").collect();
        assert_eq!(cells.len(), 3, "a code map row has three cells: {line}");
        let key = backticked(cells[0])[0].trim_end_matches("mod.rs").to_owned();
        let column = cells[2];
        // "everything above" means the rows before this one; "… but `x`" takes some out again.
        let may_use: BTreeSet<String> = match (column.contains("everything"), column.split_once(" but ")) {
            (true, Some((_, except))) => {
                let except: BTreeSet<String> = backticked(except).into_iter().map(top).collect();
                rows.iter().map(|r| top(&r.key)).filter(|m| !except.contains(m)).collect()
            }
            (true, None) => rows.iter().map(|r| top(&r.key)).collect(),
            (false, _) => backticked(column).into_iter().map(top).collect(),
        };
        rows.push(Row { key, may_use });
    }
    assert!(rows.len() > 20, "the code map was read");
    rows
}

fn sources(dir: &Path, found: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            sources(&path, found);
        } else if path.extension().is_some_and(|e| e == "rs") {
            found.push(path);
        }
    }
}

/// The top-level modules a file refers to through `crate::…` (a group such as `crate::{a, b::{c, d}}` may
/// span lines), comments left out.
fn references(text: &str) -> BTreeSet<String> {
    let code: String = text.lines().filter(|l| !l.trim_start().starts_with("//")).collect::<Vec<_>>().join("\n");
    let identifier =
        |s: &str| -> String { s.trim_start().chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect() };
    let mut found = BTreeSet::new();
    for (at, _) in code.match_indices("crate::") {
        let before = code[..at].chars().last();
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '$') {
            continue; // `herald_crate::` or a macro's `$crate::`
        }
        let rest = &code[at + "crate::".len()..];
        let Some(group) = rest.strip_prefix('{') else {
            found.insert(identifier(rest));
            continue;
        };
        // The group's items at its own depth: each one's first segment is a module.
        let (mut depth, mut item_start) = (0usize, true);
        for (i, c) in group.char_indices() {
            match c {
                '{' => depth += 1,
                '}' if depth == 0 => break,
                '}' => depth -= 1,
                ',' if depth == 0 => item_start = true,
                c if item_start && !c.is_whitespace() => {
                    found.insert(identifier(&group[i..]));
                    item_start = false;
                }
                _ => {}
            }
        }
    }
    found.remove("");
    found
}

/// Every module file of the library (not the binaries' entry points) with what it refers to.
fn graph() -> BTreeMap<String, BTreeSet<String>> {
    let src = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/src"));
    let mut files = Vec::new();
    sources(src, &mut files);
    let mut by_file = BTreeMap::new();
    for file in files {
        let relative = file.strip_prefix(src).unwrap().to_string_lossy().replace('\\', "/");
        if relative == "lib.rs" || relative == "main.rs" || relative.starts_with("bin/") {
            continue;
        }
        by_file.insert(relative, references(&std::fs::read_to_string(&file).unwrap()));
    }
    by_file
}

#[test]
fn every_module_uses_only_what_its_row_of_the_code_map_allows() {
    let rows = code_map();
    let mut broken = Vec::new();
    for (file, used) in graph() {
        let row = rows
            .iter()
            .filter(|r| if r.key.ends_with('/') { file.starts_with(&r.key) } else { file == r.key })
            .max_by_key(|r| r.key.len())
            .unwrap_or_else(|| panic!("src/{file} has no row in ARCHITECTURE.md's code map"));
        let own = top(&file);
        for module in used.iter().filter(|m| **m != own && !row.may_use.contains(*m)) {
            broken.push(format!("src/{file} uses `{module}`, which the row `{}` does not allow", row.key));
        }
    }
    assert!(broken.is_empty(), "imports the code map does not allow:\n{}", broken.join("\n"));
}

/// A circle in `edges` (module → the modules it refers to), as the modules along it, if there is one.
fn find_circle(edges: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    // Depth-first; a module met again while it is still on the path closes a circle.
    fn visit<'a>(
        module: &'a str,
        edges: &'a BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<&'a str>,
        done: &mut BTreeSet<&'a str>,
    ) -> Option<Vec<String>> {
        if let Some(start) = path.iter().position(|m| *m == module) {
            let mut circle: Vec<String> = path[start..].iter().map(|m| m.to_string()).collect();
            circle.push(module.to_owned());
            return Some(circle);
        }
        if !done.insert(module) {
            return None;
        }
        path.push(module);
        let found = edges.get(module).into_iter().flatten().find_map(|next| visit(next, edges, path, done));
        path.pop();
        found
    }
    let mut done = BTreeSet::new();
    edges.keys().find_map(|module| visit(module, edges, &mut Vec::new(), &mut done))
}

#[test]
fn the_modules_refer_to_each_other_without_a_circle() {
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (file, used) in graph() {
        let own = top(&file);
        let targets = edges.entry(own.clone()).or_default();
        targets.extend(used.into_iter().filter(|m| *m != own));
    }
    assert!(edges.len() > 20, "the modules were read");
    if let Some(circle) = find_circle(&edges) {
        panic!("a circle among the modules: {}", circle.join(" → "));
    }
}

#[test]
fn a_circle_is_found_where_there_is_one() {
    let graph = |pairs: &[(&str, &str)]| {
        let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for (from, to) in pairs {
            edges.entry(from.to_string()).or_default().insert(to.to_string());
        }
        edges
    };
    let circle = find_circle(&graph(&[("api", "publish"), ("publish", "deliver"), ("deliver", "publish")]));
    assert_eq!(circle.unwrap(), ["publish", "deliver", "publish"]);
    assert!(find_circle(&graph(&[("api", "publish"), ("api", "store"), ("publish", "store")])).is_none());
}

#[test]
fn references_are_read_from_code_not_comments() {
    let text = "use crate::store::{A, B};\nuse crate::{retry, domain::Timestamp};\n// crate::api\nlet x = $crate::y;\n\
                use crate::{\n    deliver::{queue, send},\n    fanout,\n};\n";
    let found: Vec<String> = references(text).into_iter().collect();
    assert_eq!(found, ["deliver", "domain", "fanout", "retry", "store"]);
}

//! The library's modules form no cycle (issue 23: the output path was once
//! a circle, cli.rs → context.rs → report.rs → cli.rs, which made every
//! change to one of them a change to all three).  The graph is read from
//! the sources: module A depends on B when A's code (not its comments, not
//! its `#[cfg(test)]` tail) names `crate::B`, or `crate::{B, ..}`.  A
//! module is a file or directory under src/; main.rs and cli.rs are the
//! binary's and not counted.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

type Graph = BTreeMap<String, BTreeSet<String>>;

/// The module a file under src/ belongs to: its first path component.
fn module_of(relative: &Path) -> String {
    let first = relative.components().next().unwrap();
    let name = first.as_os_str().to_string_lossy();
    name.strip_suffix(".rs").unwrap_or(&name).to_string()
}

/// The code of a source file: no comment lines, nothing from the first
/// `#[cfg(test)]` on.
fn code_of(text: &str) -> String {
    text.lines()
        .take_while(|line| !line.starts_with("#[cfg(test)]"))
        .filter(|line| !line.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Every name `code` reaches through `crate::`: `crate::a::..` gives `a`,
/// `crate::{a, b::c}` gives `a` and `b`.
fn crate_paths(code: &str) -> Vec<String> {
    let mut names = Vec::new();
    for (at, _) in code.match_indices("crate::") {
        let rest = &code[at + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let end = group.find('}').unwrap_or(group.len());
            for part in group[..end].split(',') {
                names.push(first_identifier(part));
            }
        } else {
            names.push(first_identifier(rest));
        }
    }
    names.retain(|name| !name.is_empty());
    names
}

fn first_identifier(text: &str) -> String {
    text.trim_start()
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .collect()
}

fn add_files(src: &Path, dir: &Path, graph: &mut Graph) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            add_files(src, &path, graph);
            continue;
        }
        if path.extension().is_none_or(|e| e != "rs") {
            continue;
        }
        let module = module_of(path.strip_prefix(src).unwrap());
        if ["main", "cli", "lib"].contains(&module.as_str()) {
            continue;
        }
        let code = code_of(&std::fs::read_to_string(&path).unwrap());
        let uses = graph.entry(module.clone()).or_default();
        uses.extend(crate_paths(&code).into_iter().filter(|m| *m != module));
    }
}

/// The library's module graph; a name that is not a module (an item of
/// lib.rs, a re-exported crate) is dropped.
fn module_graph(src: &Path) -> Graph {
    let mut graph = Graph::new();
    add_files(src, src, &mut graph);
    let modules: BTreeSet<String> = graph.keys().cloned().collect();
    for uses in graph.values_mut() {
        uses.retain(|name| modules.contains(name));
    }
    graph
}

/// One cycle, as the modules along it, if there is any (depth-first
/// search: a module met again while still on the path closes a cycle).
fn find_cycle(graph: &Graph) -> Option<Vec<String>> {
    fn visit(
        module: &str,
        graph: &Graph,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(at) = path.iter().position(|m| m == module) {
            let mut cycle = path[at..].to_vec();
            cycle.push(module.to_string());
            return Some(cycle);
        }
        if done.contains(module) {
            return None;
        }
        path.push(module.to_string());
        for next in &graph[module] {
            if let Some(cycle) = visit(next, graph, path, done) {
                return Some(cycle);
            }
        }
        path.pop();
        done.insert(module.to_string());
        None
    }
    let mut done = BTreeSet::new();
    graph
        .keys()
        .find_map(|module| visit(module, graph, &mut Vec::new(), &mut done))
}

#[test]
fn the_library_modules_form_no_cycle() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let graph = module_graph(&src);
    // The graph was read (a reader that finds nothing would pass): the
    // sinks reach the output trait, and every module is there.
    assert!(graph["sinks"].contains("output"), "{graph:?}");
    assert!(graph.len() > 15, "{graph:?}");
    if let Some(cycle) = find_cycle(&graph) {
        panic!("module cycle: {}", cycle.join(" -> "));
    }
}

#[test]
fn a_cycle_is_found_and_named() {
    let mut graph = Graph::new();
    for (from, to) in [("cli", "context"), ("context", "report"), ("report", "cli")] {
        graph.entry(from.into()).or_default().insert(to.into());
    }
    graph.entry("alone".into()).or_default();
    let cycle = find_cycle(&graph).unwrap();
    assert_eq!(cycle, ["cli", "context", "report", "cli"]);
    graph.get_mut("report").unwrap().clear();
    assert_eq!(find_cycle(&graph), None);
}

#[test]
fn crate_paths_read_single_and_grouped_uses() {
    let code =
        "use crate::output::{A, B};\nuse crate::{event, probe::X};\nlet x = crate::scan::MAX;";
    assert_eq!(
        crate_paths(code),
        ["output", "event", "probe", "scan"].map(String::from)
    );
    assert_eq!(
        code_of("use crate::a;\n// crate::b\n#[cfg(test)]\nuse crate::c;"),
        "use crate::a;"
    );
}

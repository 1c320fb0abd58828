//! Tidy: the tree's shape, checked so it cannot drift from what ARCHITECTURE.md says.
//!
//! - `crate_graph_matches_architecture_md`: the workspace's dependency edges (from
//!   `cargo metadata`) equal the machine-readable block under ARCHITECTURE.md's diagram.
//! - `no_comment_names_an_issue_number`: comments say what the code does, not which
//!   ticket once asked for it (such references go stale).
//! - `functions_stay_within_the_length_budget`: no function grows past
//!   [`FN_LINE_BUDGET`] lines; the existing ones are listed and may only shrink.
//! - `core_modules_form_layers`: no two of the core's top-level modules use each other,
//!   directly or through others, so they stack in layers a reader can follow.
//!
//! The core's purity (no I/O, clock, env, threads or async) is checked by
//! `crates/fireline-core/tests/purity.rs`. This file lives in the binary crate, the top of
//! the graph, so it adds no crate and no dependency; it reads sources and runs `cargo`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The most lines a function may span, from `fn` to its closing brace.
const FN_LINE_BUDGET: usize = 120;

/// Functions over [`FN_LINE_BUDGET`] when this list was written: path, name, lines.
/// An entry may not grow; once its function is within the budget, delete the entry.
#[rustfmt::skip]
const LONG_FNS: &[(&str, &str, usize)] = &[
    ("crates/fireline-http/tests/api/bad_input.rs", "refused_changes_store_nothing", 279),
    ("crates/fireline-http/tests/api/bad_input.rs", "refused_declarations_store_nothing", 169),
    ("crates/fireline-http/tests/api/lifecycle.rs", "incident_lifecycle", 203),
    ("crates/fireline-http/tests/api/oncall.rs", "entries_are_checked_against_the_whole_roster", 122),
    ("crates/fireline-http/tests/api/openapi.rs", "openapi_document_matches_responses", 460),
    ("crates/fireline-http/tests/api/postmortems.rs", "action_items_are_added_changed_closed_with_a_note_and_listed_overdue", 128),
    ("crates/fireline-http/tests/api/postmortems.rs", "bad_input_names_the_field_and_changes_nothing", 133),
    ("crates/fireline-http/tests/api/postmortems.rs", "draft_is_written_from_the_timeline_and_edits_keep_history", 131),
    ("crates/fireline-http/tests/api/status_page.rs", "only_status_page_updates_are_public", 122),
    ("crates/fireline-http/tests/api/tokens.rs", "token_lifecycle", 173),
    ("crates/fireline-http/tests/api/ui_admin.rs", "non_admins_and_forged_posts_change_nothing", 121),
    ("crates/fireline-http/tests/api/ui_admin.rs", "overrides_are_added_and_removed_on_the_oncall_page", 132),
    ("crates/fireline-http/tests/api/ui_admin.rs", "roster_entries_are_edited_as_toml", 124),
    ("crates/fireline-http/tests/api/ui_admin.rs", "users_are_created_disabled_and_given_new_passwords", 172),
    ("crates/fireline/tests/cli.rs", "responder_drives_an_incident_through_the_cli", 259),
    ("crates/fireline/tests/oncall_cli.rs", "a_roster_is_imported_and_queried_through_the_cli", 291),
    ("crates/fireline/tests/paging.rs", "a_page_by_email_carries_a_link_that_acknowledges", 186),
    ("crates/fireline/tests/postmortem_cli.rs", "a_postmortem_and_its_action_items_from_the_cli", 178),
];

/// Comments that name an issue number in files owned elsewhere this session; each is
/// path and the comment line, trimmed. Reword the comment, then delete its entry.
#[rustfmt::skip]
const ISSUE_COMMENTS: &[(&str, &str)] = &[
];

// ---------------------------------------------------------------------------------------
// Files

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("the workspace root exists")
}

/// Every `.rs` file under `dir`, sorted, skipping build output.
fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .map(|entry| entry.expect("a directory entry").path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            if path.file_name().is_some_and(|n| n == "target") {
                continue;
            }
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The workspace's Rust sources (`crates/` and `bench/`), as (path from the root, text).
fn sources() -> Vec<(String, String)> {
    let root = workspace_root();
    let mut files = Vec::new();
    rust_files(&root.join("crates"), &mut files);
    rust_files(&root.join("bench"), &mut files);
    assert!(
        files.len() > 50,
        "found the sources under {}",
        root.display()
    );
    files
        .into_iter()
        .map(|path| {
            let text = std::fs::read_to_string(&path)
                .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
            let rel = path.strip_prefix(&root).expect("under the root");
            (rel.to_string_lossy().replace('\\', "/"), text)
        })
        .collect()
}

// ---------------------------------------------------------------------------------------
// The crate graph

/// The edges listed in ARCHITECTURE.md's block after the `<!-- crate-graph` marker: lines
/// `from -> to`, or a crate name alone for a crate with no workspace dependency.
fn documented_graph() -> (BTreeSet<String>, BTreeSet<(String, String)>) {
    let doc = std::fs::read_to_string(workspace_root().join("ARCHITECTURE.md"))
        .expect("ARCHITECTURE.md is readable");
    let after = doc
        .split_once("<!-- crate-graph")
        .expect("ARCHITECTURE.md has a `<!-- crate-graph` marker before the edge block")
        .1;
    let block = after
        .split_once("```")
        .and_then(|(_, rest)| rest.split_once('\n'))
        .and_then(|(_, rest)| rest.split_once("```"))
        .expect("a fenced block follows the `<!-- crate-graph` marker")
        .0;
    let (mut crates, mut edges) = (BTreeSet::new(), BTreeSet::new());
    for line in block.lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        match line.split_once("->") {
            Some((from, to)) => {
                let (from, to) = (from.trim().to_owned(), to.trim().to_owned());
                crates.insert(from.clone());
                crates.insert(to.clone());
                edges.insert((from, to));
            }
            None => {
                crates.insert(line.to_owned());
            }
        }
    }
    (crates, edges)
}

/// The workspace as `cargo metadata` sees it: its crates, their normal (and build)
/// dependency edges between workspace crates, and their dev-dependency edges with
/// the features each enables.
struct CodeGraph {
    crates: BTreeSet<String>,
    edges: BTreeSet<(String, String)>,
    dev_edges: Vec<(String, String, Vec<String>)>,
}

fn code_graph() -> CodeGraph {
    let output = Command::new(env!("CARGO"))
        .args([
            "metadata",
            "--format-version",
            "1",
            "--no-deps",
            "--offline",
        ])
        .current_dir(workspace_root())
        .output()
        .expect("cargo metadata runs");
    assert!(
        output.status.success(),
        "cargo metadata failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let meta: serde_json::Value =
        serde_json::from_slice(&output.stdout).expect("cargo metadata prints JSON");
    let packages = meta["packages"].as_array().expect("packages");
    let name = |v: &serde_json::Value| v["name"].as_str().expect("a name").to_owned();
    let crates: BTreeSet<String> = packages.iter().map(name).collect();
    let (mut edges, mut dev_edges) = (BTreeSet::new(), Vec::new());
    for package in packages {
        for dep in package["dependencies"].as_array().expect("dependencies") {
            let to = name(dep);
            if !crates.contains(&to) {
                continue;
            }
            if dep["kind"].as_str() == Some("dev") {
                let features = dep["features"].as_array().expect("features");
                let features = features.iter().filter_map(|f| f.as_str()).map(String::from);
                dev_edges.push((name(package), to, features.collect()));
            } else {
                edges.insert((name(package), to));
            }
        }
    }
    CodeGraph {
        crates,
        edges,
        dev_edges,
    }
}

fn listed<'a>(items: impl IntoIterator<Item = &'a (String, String)>) -> String {
    items
        .into_iter()
        .map(|(from, to)| format!("\n    {from} -> {to}"))
        .collect()
}

#[test]
fn crate_graph_matches_architecture_md() {
    let (doc_crates, doc_edges) = documented_graph();
    let problems = graph_problems(&doc_crates, &doc_edges, &code_graph());
    assert!(problems.is_empty(), "{}", problems.join("\n\n"));
}

/// How the code's crate graph differs from the documented one, each way.
fn graph_problems(
    doc_crates: &BTreeSet<String>,
    doc_edges: &BTreeSet<(String, String)>,
    code: &CodeGraph,
) -> Vec<String> {
    let mut problems = Vec::new();
    let only_code: Vec<_> = code.edges.difference(doc_edges).collect();
    if !only_code.is_empty() {
        problems.push(format!(
            "dependencies in the code that ARCHITECTURE.md's crate graph lacks (add them \
             to the diagram and its edge block, or remove the dependency):{}",
            listed(only_code)
        ));
    }
    let only_doc: Vec<_> = doc_edges.difference(&code.edges).collect();
    if !only_doc.is_empty() {
        problems.push(format!(
            "edges in ARCHITECTURE.md's crate graph that no Cargo.toml has (remove them \
             from the edge block and the diagram):{}",
            listed(only_doc)
        ));
    }
    for missing in code.crates.difference(doc_crates) {
        problems.push(format!(
            "workspace crate `{missing}` is not in ARCHITECTURE.md's edge block (a crate \
             with no workspace dependency is listed alone on a line)"
        ));
    }
    for unknown in doc_crates.difference(&code.crates) {
        problems.push(format!(
            "ARCHITECTURE.md's edge block names `{unknown}`, which is no workspace crate"
        ));
    }
    for (from, to, features) in &code.dev_edges {
        let test_store = to == "fireline-store" && features.iter().any(|f| f == "testing");
        if from != to && !test_store && !doc_edges.contains(&(from.clone(), to.clone())) {
            problems.push(format!(
                "`{from}` has a dev-dependency on `{to}`, which the crate graph does not \
                 allow (only documented edges and `fireline-store` with `testing` are)"
            ));
        }
    }
    problems
}

#[test]
fn graph_differences_are_found_both_ways() {
    let pairs = |list: &[(&str, &str)]| -> BTreeSet<(String, String)> {
        list.iter()
            .map(|&(a, b)| (a.to_owned(), b.to_owned()))
            .collect()
    };
    let crates: BTreeSet<String> = ["a", "b", "c"].map(String::from).into();
    let doc = pairs(&[("a", "b"), ("b", "c")]);
    let code = CodeGraph {
        crates: crates.clone(),
        edges: pairs(&[("a", "b"), ("a", "c")]),
        dev_edges: vec![("c".into(), "a".into(), vec![])],
    };
    let problems = graph_problems(&crates, &doc, &code).join("\n");
    assert!(
        problems.contains("lacks") && problems.contains("a -> c"),
        "{problems}"
    );
    assert!(
        problems.contains("no Cargo.toml") && problems.contains("b -> c"),
        "{problems}"
    );
    assert!(
        problems.contains("`c` has a dev-dependency on `a`"),
        "{problems}"
    );
    let same = CodeGraph {
        crates: crates.clone(),
        edges: doc.clone(),
        dev_edges: vec![],
    };
    assert!(graph_problems(&crates, &doc, &same).is_empty());
}

// ---------------------------------------------------------------------------------------
// A small Rust lexer: enough to tell code from comments, strings and characters.

/// A source file split into its code (comments and literal contents blanked, line
/// breaks kept) and its comments, one entry per line: (line number, text).
struct Lexed {
    code: Vec<char>,
    comments: Vec<(usize, String)>,
}

fn is_ident(c: char) -> bool {
    c == '_' || c.is_alphanumeric()
}

fn blank(code: &mut [char], from: usize, to: usize) {
    let to = to.min(code.len());
    for c in &mut code[from..to] {
        if *c != '\n' {
            *c = ' ';
        }
    }
}

/// The end (exclusive) of the line comment starting at `i`.
fn line_comment_end(s: &[char], mut i: usize) -> usize {
    while i < s.len() && s[i] != '\n' {
        i += 1;
    }
    i
}

/// The end (exclusive) of the (possibly nested) block comment starting at `i`.
fn block_comment_end(s: &[char], mut i: usize) -> usize {
    let mut depth = 0usize;
    while i < s.len() {
        if s[i] == '/' && s.get(i + 1) == Some(&'*') {
            depth += 1;
            i += 2;
        } else if s[i] == '*' && s.get(i + 1) == Some(&'/') {
            depth -= 1;
            i += 2;
            if depth == 0 {
                return i;
            }
        } else {
            i += 1;
        }
    }
    i
}

/// The end (exclusive) of the string literal whose opening quote is at `i`.
fn string_end(s: &[char], mut i: usize) -> usize {
    i += 1;
    while i < s.len() {
        match s[i] {
            '\\' => i += 2,
            '"' => return i + 1,
            _ => i += 1,
        }
    }
    i
}

/// If a raw string starts at `i` (just after its `r`/`br`/`cr` prefix), its end.
fn raw_string_end(s: &[char], i: usize) -> Option<usize> {
    let hashes = s[i..].iter().take_while(|&&c| c == '#').count();
    if s.get(i + hashes) != Some(&'"') {
        return None;
    }
    let mut k = i + hashes + 1;
    while k < s.len() {
        if s[k] == '"'
            && s[k + 1..]
                .iter()
                .take(hashes)
                .filter(|&&c| c == '#')
                .count()
                == hashes
        {
            return Some(k + 1 + hashes);
        }
        k += 1;
    }
    Some(k)
}

/// If a character literal starts at `i` (a `'`), its end; `None` for a lifetime.
fn char_end(s: &[char], i: usize) -> Option<usize> {
    if s.get(i + 1) == Some(&'\\') {
        let mut k = i + 3;
        while k < s.len() && s[k] != '\'' && s[k] != '\n' {
            k += 1;
        }
        return Some(k + 1);
    }
    (s.get(i + 2) == Some(&'\'')).then_some(i + 3)
}

/// Records the comment spanning `from..to` in `out`, one entry per line.
fn push_comment(s: &[char], from: usize, to: usize, line: usize, out: &mut Vec<(usize, String)>) {
    let text: String = s[from..to.min(s.len())].iter().collect();
    for (n, part) in text.split('\n').enumerate() {
        out.push((line + n, part.to_owned()));
    }
}

fn lex(src: &str) -> Lexed {
    let s: Vec<char> = src.chars().collect();
    let mut code = s.clone();
    let mut comments = Vec::new();
    let (mut i, mut line) = (0, 1);
    while i < s.len() {
        let (c, next) = (s[i], s.get(i + 1).copied());
        // Where this token ends, and whether it is a comment or literal to blank out.
        let (end, hidden) = if c == '/' && (next == Some('/') || next == Some('*')) {
            let end = if next == Some('/') {
                line_comment_end(&s, i)
            } else {
                block_comment_end(&s, i)
            };
            push_comment(&s, i, end, line, &mut comments);
            (end, true)
        } else if c == '"' {
            (string_end(&s, i), true)
        } else if c == '\'' {
            char_end(&s, i).map_or((i + 1, false), |end| (end, true))
        } else if is_ident(c) {
            let word_end = i + s[i..].iter().take_while(|&&c| is_ident(c)).count();
            let word: String = s[i..word_end].iter().collect();
            let raw = ["r", "br", "cr"].contains(&word.as_str());
            match raw.then(|| raw_string_end(&s, word_end)).flatten() {
                Some(end) => (end, true),
                None => (word_end, false),
            }
        } else {
            (i + 1, false)
        };
        let end = end.min(s.len());
        if hidden {
            blank(&mut code, i, end);
        }
        line += s[i..end].iter().filter(|&&c| c == '\n').count();
        i = end;
    }
    Lexed { code, comments }
}

// ---------------------------------------------------------------------------------------
// Comments naming issue numbers

/// Whether `text` names an issue by number: the word issue(s) followed by a number, by
/// `#` and a number, or by a colon right after an opening parenthesis.
fn names_an_issue(text: &str) -> bool {
    let lower = text.to_lowercase();
    let chars: Vec<char> = lower.chars().collect();
    let word: Vec<char> = "issue".chars().collect();
    (0..chars.len()).any(|i| {
        if !chars[i..].starts_with(&word) || (i > 0 && is_ident(chars[i - 1])) {
            return false;
        }
        let mut k = i + word.len();
        if chars.get(k) == Some(&'s') {
            k += 1;
        }
        if chars
            .get(k)
            .is_some_and(|&c| is_ident(c) && !c.is_ascii_digit())
        {
            return false;
        }
        if chars.get(k) == Some(&':') && i > 0 && chars[i - 1] == '(' {
            return true;
        }
        while chars
            .get(k)
            .is_some_and(|&c| c == ' ' || c == '#' || c == '-')
        {
            k += 1;
        }
        chars.get(k).is_some_and(char::is_ascii_digit)
    })
}

#[test]
fn issue_reference_pattern() {
    for yes in [
        "// see issue 14",
        "/// Issue #5: x",
        "// (issue: 7)",
        "// issues 3 and 4",
        "// Issue 17 / 20",
        "// issue-9",
    ] {
        assert!(names_an_issue(yes), "{yes}");
    }
    for no in [
        "// the issue time",
        "// IssueError",
        "// issued 5 links",
        "// issue a token",
        "// tissue 5",
    ] {
        assert!(!names_an_issue(no), "{no}");
    }
}

#[test]
fn no_comment_names_an_issue_number() {
    let mut found = Vec::new();
    for (path, text) in sources() {
        for (line, comment) in lex(&text).comments {
            if names_an_issue(&comment) {
                found.push((path.clone(), line, comment.trim().to_owned()));
            }
        }
    }
    let allowed: BTreeSet<(&str, &str)> = ISSUE_COMMENTS.iter().copied().collect();
    let mut problems: Vec<String> = found
        .iter()
        .filter(|(path, _, text)| !allowed.contains(&(path.as_str(), text.as_str())))
        .map(|(path, line, text)| format!("  {path}:{line}: {text}"))
        .collect();
    if !problems.is_empty() {
        problems.insert(
            0,
            "comments that name an issue number (they go stale: say what the code does or \
             why, not which ticket asked for it):"
                .into(),
        );
    }
    // A stale entry allows nothing, so it is reported, not failed: the files it names
    // are edited elsewhere, and their owners reword at their own pace.
    for (path, text) in &allowed {
        if !found.iter().any(|(p, _, t)| p == path && t == text) {
            println!("ISSUE_COMMENTS: no longer found, delete the entry: {path}: {text}");
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

// ---------------------------------------------------------------------------------------
// Function length

/// Every function with a body in `code`: (name, first line, lines spanned).
fn functions(code: &[char]) -> Vec<(String, usize, usize)> {
    let mut line_of = Vec::with_capacity(code.len() + 1);
    let mut line = 1;
    for &c in code {
        line_of.push(line);
        line += usize::from(c == '\n');
    }
    line_of.push(line);
    let mut found = Vec::new();
    for i in 0..code.len() {
        let keyword = code[i..].starts_with(&['f', 'n'])
            && (i == 0 || !is_ident(code[i - 1]))
            && !code.get(i + 2).copied().is_some_and(is_ident);
        if !keyword {
            continue;
        }
        let start = i
            + 2
            + code[i + 2..]
                .iter()
                .take_while(|c| c.is_whitespace())
                .count();
        let name: String = code[start..].iter().take_while(|&&c| is_ident(c)).collect();
        if name.is_empty() {
            continue; // a function pointer type, or a macro's `fn $name`
        }
        if let Some(end) = body_end(code, start + name.len()) {
            found.push((name, line_of[i], line_of[end] - line_of[i] + 1));
        }
    }
    found
}

/// The index of the closing brace of the body of the function whose signature continues
/// at `i`, or `None` for a declaration without a body.
fn body_end(code: &[char], i: usize) -> Option<usize> {
    let mut depth = 0i64;
    let mut k = i;
    let open = loop {
        match code.get(k)? {
            '(' | '[' => depth += 1,
            ')' | ']' => depth -= 1,
            ';' if depth == 0 => return None,
            '{' if depth == 0 => break k,
            _ => {}
        }
        k += 1;
    };
    let mut braces = 0i64;
    for (k, &c) in code.iter().enumerate().skip(open) {
        match c {
            '{' => braces += 1,
            '}' => {
                braces -= 1;
                if braces == 0 {
                    return Some(k);
                }
            }
            _ => {}
        }
    }
    None
}

#[test]
fn function_scanner() {
    let src = r##"
fn short() { let s = "}"; let c = '}'; let r = r#"}"#; }
/* fn not_a_function() { } */
trait T { fn declared(&self) -> [u8; 2]; }
fn long<'a>(x: &'a str) -> impl Fn(u8) -> u8 {
    // }
    let f: fn(u8) -> u8 = |v| v;
    f
}
"##;
    let found = functions(&lex(src).code);
    let names: Vec<(&str, usize, usize)> = found
        .iter()
        .map(|(n, l, len)| (n.as_str(), *l, *len))
        .collect();
    assert_eq!(names, [("short", 2, 1), ("long", 5, 5)]);
}

#[test]
fn every_source_lexes_with_balanced_braces() {
    for (path, text) in sources() {
        let code = lex(&text).code;
        let open = code.iter().filter(|&&c| c == '{').count();
        let close = code.iter().filter(|&&c| c == '}').count();
        assert_eq!(
            open, close,
            "{path}: the tidy lexer lost track of a literal"
        );
    }
}

/// Functions over the budget: `(path, name)` to lines. A name that occurs more than once
/// over the budget in one file is numbered in file order (`name#2`).
fn long_functions() -> BTreeMap<(String, String), usize> {
    let mut long = BTreeMap::new();
    for (path, text) in sources() {
        for (name, _, lines) in functions(&lex(&text).code) {
            if lines <= FN_LINE_BUDGET {
                continue;
            }
            let mut key = (path.clone(), name.clone());
            let mut n = 1;
            while long.contains_key(&key) {
                n += 1;
                key.1 = format!("{name}#{n}");
            }
            long.insert(key, lines);
        }
    }
    long
}

#[test]
fn functions_stay_within_the_length_budget() {
    let found = long_functions();
    let listing: String = found
        .iter()
        .map(|((path, name), lines)| format!("\n    ({path:?}, {name:?}, {lines}),"))
        .collect();
    println!("functions over {FN_LINE_BUDGET} lines (LONG_FNS):{listing}");
    let mut problems = Vec::new();
    let allowed: BTreeMap<(String, String), usize> = LONG_FNS
        .iter()
        .map(|&(path, name, lines)| ((path.to_owned(), name.to_owned()), lines))
        .collect();
    for (key, &lines) in &found {
        match allowed.get(key) {
            None => problems.push(format!(
                "{}: `{}` is {lines} lines, over the budget of {FN_LINE_BUDGET}: split it",
                key.0, key.1
            )),
            Some(&was) if lines > was => problems.push(format!(
                "{}: `{}` grew from {was} to {lines} lines (budget {FN_LINE_BUDGET}): \
                 split it rather than grow it",
                key.0, key.1
            )),
            Some(_) => {}
        }
    }
    for (key, was) in &allowed {
        if !found.contains_key(key) {
            problems.push(format!(
                "{}: `{}` (listed at {was} lines) is now within the budget or gone: \
                 delete its LONG_FNS entry",
                key.0, key.1
            ));
        }
    }
    assert!(
        problems.is_empty(),
        "{}\n\nfunctions over {FN_LINE_BUDGET} lines now:{listing}",
        problems.join("\n")
    );
}

// ---------------------------------------------------------------------------------------
// The core's module layers

/// Which top-level module of a crate a file under its `src` belongs to (`plan.rs` and
/// `policy/file.rs` give `plan` and `policy`); `None` for `lib.rs`, the root itself.
fn top_module(rel: &str) -> Option<&str> {
    match rel.split_once('/') {
        Some((dir, _)) => Some(dir),
        None => rel.strip_suffix(".rs").filter(|m| *m != "lib"),
    }
}

/// How many `super::` lead from a file's own module to the crate root: 1 for `plan.rs` and
/// `policy/mod.rs`, 2 for `policy/file.rs`.
fn file_depth(rel: &str) -> usize {
    let parts = rel.split('/').count();
    if rel.ends_with("/mod.rs") {
        parts - 1
    } else {
        parts
    }
}

fn skip_space(code: &[char], mut i: usize) -> usize {
    while code.get(i).is_some_and(|c| c.is_whitespace()) {
        i += 1;
    }
    i
}

fn ident_at(code: &[char], i: usize) -> String {
    code[i.min(code.len())..]
        .iter()
        .take_while(|&&c| is_ident(c))
        .collect()
}

/// The `::` after the word ending at `i`, if there is one: the index just past it.
fn path_separator(code: &[char], i: usize) -> Option<usize> {
    let i = skip_space(code, i);
    code[i..]
        .starts_with(&[':', ':'])
        .then(|| skip_space(code, i + 2))
}

/// The first segment of each path a root-relative path starting at `i` names: `policy`
/// for `policy::Policy`, `event` and `Status` for `{event::EventData, Status}`.
fn first_segments(code: &[char], i: usize) -> Vec<String> {
    if code.get(i) != Some(&'{') {
        return vec![ident_at(code, i)];
    }
    let mut found = Vec::new();
    let (mut depth, mut item_start) = (0usize, true);
    for (k, &c) in code.iter().enumerate().skip(i) {
        match c {
            '{' => {
                depth += 1;
                item_start = depth == 1;
            }
            '}' => {
                depth -= 1;
                if depth == 0 {
                    break;
                }
            }
            ',' if depth == 1 => item_start = true,
            c if item_start && is_ident(c) => {
                found.push(ident_at(code, k));
                item_start = false;
            }
            _ => {}
        }
    }
    found
}

/// The names `lib.rs` re-exports at the crate root, each with the top-level module it
/// comes from (`Status` from `status`), so `crate::Status` counts as using `status`.
fn root_reexports(lib: &[char]) -> BTreeMap<String, String> {
    let code: String = lib.iter().collect();
    let mut names = BTreeMap::new();
    for statement in code.split("pub use ").skip(1) {
        let statement = statement.split(';').next().unwrap_or_default();
        let Some((module, rest)) = statement.split_once("::") else {
            continue;
        };
        let items = rest.trim().trim_start_matches('{').trim_end_matches('}');
        for item in items.split(',').map(str::trim).filter(|i| !i.is_empty()) {
            let name = item.rsplit([' ', ':']).next().unwrap_or(item);
            names.insert(name.to_owned(), module.trim().to_owned());
        }
    }
    names
}

/// Each top-level module's uses of other top-level modules, as `from -> to -> files`,
/// from paths through the crate root: `crate::x`, `use crate::{x, y}`, a `crate::Name`
/// the root re-exports, and `super::` chains that climb to the root. A module's own
/// submodules are one module here. `files` are (path under `src`, source text).
fn module_graph(
    files: &[(String, String)],
) -> BTreeMap<String, BTreeMap<String, BTreeSet<String>>> {
    let modules: BTreeSet<&str> = files
        .iter()
        .filter_map(|(rel, _)| top_module(rel))
        .collect();
    let reexports = files
        .iter()
        .find(|(rel, _)| rel == "lib.rs")
        .map(|(_, text)| root_reexports(&lex(text).code))
        .unwrap_or_default();
    let mut graph: BTreeMap<String, BTreeMap<String, BTreeSet<String>>> = BTreeMap::new();
    for (rel, text) in files {
        let Some(from) = top_module(rel) else {
            continue;
        };
        graph.entry(from.to_owned()).or_default();
        for name in root_paths(&lex(text).code, file_depth(rel)) {
            let to = if modules.contains(name.as_str()) {
                Some(name.as_str())
            } else {
                reexports.get(&name).map(String::as_str)
            };
            if let Some(to) = to.filter(|&to| to != from) {
                let uses = graph.entry(from.to_owned()).or_default();
                uses.entry(to.to_owned()).or_default().insert(rel.clone());
            }
        }
    }
    graph
}

/// The first segment of every path in `code` that starts at the crate root, for a file
/// whose module is `depth` below the root; inline `mod name { … }` blocks go one deeper.
fn root_paths(code: &[char], depth: usize) -> Vec<String> {
    let mut found = Vec::new();
    let (mut braces, mut inline_mods) = (0usize, Vec::new());
    let mut i = 0;
    while i < code.len() {
        match code[i] {
            '{' => braces += 1,
            '}' => {
                braces = braces.saturating_sub(1);
                if inline_mods.last() == Some(&braces) {
                    inline_mods.pop();
                }
            }
            c if is_ident(c) && (i == 0 || !is_ident(code[i - 1])) => {
                let word = ident_at(code, i);
                let after = i + word.chars().count();
                match word.as_str() {
                    "mod" => {
                        let name_at = skip_space(code, after);
                        let name = ident_at(code, name_at);
                        let open = skip_space(code, name_at + name.chars().count());
                        if !name.is_empty() && code.get(open) == Some(&'{') {
                            inline_mods.push(braces);
                        }
                    }
                    "crate" => {
                        if let Some(path) = path_separator(code, after) {
                            found.extend(first_segments(code, path));
                        }
                    }
                    "super" => {
                        let (mut climbs, mut at) = (0, i);
                        while ident_at(code, at) == "super" {
                            let Some(next) = path_separator(code, at + 5) else {
                                break;
                            };
                            climbs += 1;
                            at = next;
                        }
                        if climbs > 0 && climbs >= depth + inline_mods.len() {
                            found.extend(first_segments(code, at));
                        }
                        i = at.max(after);
                        continue;
                    }
                    _ => {}
                }
                i = after;
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    found
}

/// Modules that `from` reaches, by the shortest path, back to `to`: `from` first.
fn shortest_path(
    graph: &BTreeMap<String, BTreeMap<String, BTreeSet<String>>>,
    from: &str,
    to: &str,
) -> Option<Vec<String>> {
    let mut came_from: BTreeMap<&str, &str> = BTreeMap::new();
    let mut queue = std::collections::VecDeque::from([from]);
    while let Some(at) = queue.pop_front() {
        for next in graph.get(at).into_iter().flat_map(|uses| uses.keys()) {
            if next == to {
                let mut path = vec![to.to_owned(), at.to_owned()];
                let mut back = at;
                while back != from {
                    back = came_from[back];
                    path.push(back.to_owned());
                }
                path.reverse();
                return Some(path);
            }
            if next != from && !came_from.contains_key(next.as_str()) {
                came_from.insert(next, at);
                queue.push_back(next);
            }
        }
    }
    None
}

/// One circle per group of modules that depend on each other, shortest first found:
/// `[a, b, a]` for `a` and `b` using each other.
fn module_cycles(graph: &BTreeMap<String, BTreeMap<String, BTreeSet<String>>>) -> Vec<Vec<String>> {
    let mut reported: BTreeSet<String> = BTreeSet::new();
    let mut cycles = Vec::new();
    for module in graph.keys() {
        if reported.contains(module) {
            continue;
        }
        let Some(cycle) = shortest_path(graph, module, module) else {
            continue;
        };
        // The rest of the group would only report the same circle again.
        for other in graph.keys() {
            if shortest_path(graph, module, other).is_some()
                && shortest_path(graph, other, module).is_some()
            {
                reported.insert(other.clone());
            }
        }
        cycles.push(cycle);
    }
    cycles
}

/// The modules by layer: layer 0 uses no other module, each other module sits one above
/// the highest it uses. `None` when there is a circle.
fn module_layers(
    graph: &BTreeMap<String, BTreeMap<String, BTreeSet<String>>>,
) -> Option<Vec<Vec<String>>> {
    let mut layer_of: BTreeMap<&str, usize> = BTreeMap::new();
    while layer_of.len() < graph.len() {
        let placed = layer_of.len();
        for (module, uses) in graph {
            if layer_of.contains_key(module.as_str()) {
                continue;
            }
            let below: Option<Vec<usize>> = uses
                .keys()
                .map(|u| layer_of.get(u.as_str()).copied())
                .collect();
            if let Some(below) = below {
                layer_of.insert(module, below.into_iter().max().map_or(0, |l| l + 1));
            }
        }
        if layer_of.len() == placed {
            return None;
        }
    }
    let mut layers = vec![Vec::new(); layer_of.values().max().map_or(0, |l| l + 1)];
    for (module, layer) in layer_of {
        layers[layer].push(module.to_owned());
    }
    Some(layers)
}

/// What is wrong with the graph's shape: each circle, with the files that make each step.
fn cycle_problems(graph: &BTreeMap<String, BTreeMap<String, BTreeSet<String>>>) -> Vec<String> {
    module_cycles(graph)
        .into_iter()
        .map(|cycle| {
            let steps: String = cycle
                .windows(2)
                .map(|step| {
                    let files = &graph[&step[0]][&step[1]];
                    let files: Vec<&str> = files.iter().map(String::as_str).collect();
                    format!("\n    {} -> {} (in {})", step[0], step[1], files.join(", "))
                })
                .collect();
            format!(
                "the core's top-level modules {} depend on each other in a circle:{steps}",
                cycle.join(" -> ")
            )
        })
        .collect()
}

#[test]
fn core_modules_form_layers() {
    let src = workspace_root().join("crates/fireline-core/src");
    let mut paths = Vec::new();
    rust_files(&src, &mut paths);
    let files: Vec<(String, String)> = paths
        .iter()
        .map(|path| {
            let text = std::fs::read_to_string(path)
                .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
            let rel = path.strip_prefix(&src).expect("under src");
            (rel.to_string_lossy().replace('\\', "/"), text)
        })
        .collect();
    let graph = module_graph(&files);
    assert!(
        graph.contains_key("policy") && graph["plan"].contains_key("policy"),
        "the module graph was read: {graph:?}"
    );
    let problems = cycle_problems(&graph);
    assert!(
        problems.is_empty(),
        "{}\n\nmove what the lower module needs down (plain data below the behaviour that \
         reads it), so each module only uses modules below it",
        problems.join("\n\n")
    );
    let layers = module_layers(&graph).expect("no circle, so every module has a layer");
    for (n, layer) in layers.iter().enumerate() {
        println!("layer {n}: {}", layer.join(", "));
    }
}

#[test]
fn module_cycles_are_found() {
    let files = |list: &[(&str, &str)]| -> Vec<(String, String)> {
        list.iter()
            .map(|&(rel, text)| (rel.to_owned(), text.to_owned()))
            .collect()
    };
    let circle = files(&[
        (
            "lib.rs",
            "pub mod a; pub mod b; pub mod c; pub mod d;\npub use c::{x::Thing, Other as O};",
        ),
        (
            "a.rs",
            "use crate::b::X; // crate::d::Y\nconst S: &str = \"crate::d::Z\";",
        ),
        ("b/mod.rs", "mod inner;\npub struct X;\nuse self::inner::f;"),
        ("b/inner.rs", "use super::super::Thing;\nuse super::X;"),
        (
            "c.rs",
            "use crate::{\n    d::Y,\n    unknown::Z,\n};\nmod tests { use super::Thing; }",
        ),
        ("d.rs", "fn f() { super::a::g() }"),
    ]);
    let graph = module_graph(&circle);
    let edges: Vec<(&str, &str)> = graph
        .iter()
        .flat_map(|(from, uses)| uses.keys().map(move |to| (from.as_str(), to.as_str())))
        .collect();
    assert_eq!(edges, [("a", "b"), ("b", "c"), ("c", "d"), ("d", "a")]);
    let problems = cycle_problems(&graph);
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(
        problems[0].contains("a -> b -> c -> d -> a")
            && problems[0].contains("b -> c (in b/inner.rs)"),
        "{}",
        problems[0]
    );
    assert!(module_layers(&graph).is_none());

    let mut layered = circle;
    layered.retain(|(rel, _)| rel != "d.rs");
    layered.push((
        "d.rs".into(),
        "mod tests { use super::f; use super::super::Unknown; }".into(),
    ));
    let graph = module_graph(&layered);
    assert!(
        cycle_problems(&graph).is_empty(),
        "{:?}",
        cycle_problems(&graph)
    );
    let layers = module_layers(&graph).expect("layers");
    assert_eq!(layers, [vec!["d"], vec!["c"], vec!["b"], vec!["a"]]);
}

//! Architecture invariant: the core does no I/O and reads no clock, environment or threads, and is not async, so it may not depend on crates that do.

/// Crates that do I/O, start threads, read the clock or the environment, or bring an
/// async runtime; a name ending in `*` bans every crate that starts with it.
const BANNED_CRATES: &[&str] = &[
    "tokio*",
    "async-*",
    "futures*",
    "smol",
    "mio",
    "socket2",
    "sqlx*",
    "rusqlite",
    "postgres*",
    "axum*",
    "hyper*",
    "tower*",
    "reqwest",
    "ureq",
    "lettre",
    "rand*",
    "getrandom",
    "tracing*",
    "log",
    "metrics*",
    "rayon*",
    "crossbeam*",
    "threadpool",
    "num_cpus",
    "notify",
    "tempfile",
    "walkdir",
    "dirs*",
    "libc",
    "nix",
    "chrono",
    "time",
];

/// Every crate the core's manifest depends on outside tests: the `package` a dependency
/// names, else its key, from `[dependencies]`, `[build-dependencies]` and the same
/// tables under `[target.*]`.
fn core_dependencies() -> Vec<String> {
    let manifest: toml::Table =
        toml::from_str(include_str!("../Cargo.toml")).expect("core's Cargo.toml is TOML");
    let mut tables = vec![&manifest];
    if let Some(targets) = manifest.get("target").and_then(|t| t.as_table()) {
        tables.extend(targets.values().filter_map(|t| t.as_table()));
    }
    let mut names = Vec::new();
    for table in tables {
        for kind in ["dependencies", "build-dependencies"] {
            let Some(deps) = table.get(kind).and_then(|d| d.as_table()) else {
                continue;
            };
            for (key, spec) in deps {
                let package = spec.get("package").and_then(|p| p.as_str());
                names.push(package.unwrap_or(key).to_owned());
            }
        }
    }
    names
}

#[test]
fn core_depends_on_no_io_or_runtime_crate() {
    let deps = core_dependencies();
    assert!(
        deps.iter().any(|d| d == "serde"),
        "read the dependency tables: {deps:?}"
    );
    for dep in &deps {
        let banned = BANNED_CRATES.iter().find(|b| match b.strip_suffix('*') {
            Some(prefix) => dep.starts_with(prefix),
            None => dep == *b,
        });
        assert!(
            banned.is_none(),
            "fireline-core must stay pure (no I/O, threads, clock, env or async), but \
             depends on `{dep}`"
        );
    }
}

fn rust_files(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("src is readable") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn core_source_never_reads_the_clock() {
    let mut files = Vec::new();
    rust_files(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
        &mut files,
    );
    assert!(files.len() > 5, "found the sources");
    for path in files {
        let text = std::fs::read_to_string(&path).expect("source is text");
        for banned in [
            "Timestamp::now",
            "SystemTime::now",
            "Instant::now",
            "Zoned::now",
        ] {
            assert!(
                !text.contains(banned),
                "{} reads the clock via {banned}",
                path.display()
            );
        }
    }
}

/// Standard library modules that reach outside the process's memory, and what they are.
const BANNED_STD: &[(&str, &str)] = &[
    ("env", "the environment"),
    ("thread", "threads"),
    ("fs", "files"),
    ("net", "the network"),
    ("process", "processes"),
];

/// The first path segment of each item in every `std::{…}` group in `text`.
fn grouped_std_modules(text: &str) -> Vec<String> {
    let mut modules = Vec::new();
    for (start, _) in text.match_indices("std::{") {
        let (mut depth, mut item) = (0, String::new());
        for c in text[start + "std::".len()..].chars() {
            match c {
                '{' => depth += 1,
                '}' | ',' if depth == 1 => {
                    let first = item.split("::").next().unwrap_or_default().trim();
                    modules.push(first.to_owned());
                    item.clear();
                    if c == '}' {
                        break;
                    }
                    continue;
                }
                '}' => depth -= 1,
                _ => {}
            }
            if depth == 1 && c != '{' {
                item.push(c);
            }
        }
    }
    modules
}

#[test]
fn grouped_imports_are_read() {
    assert_eq!(
        grouped_std_modules("use std::{collections::{BTreeMap, HashMap}, env, fmt};"),
        ["collections", "env", "fmt"]
    );
}

#[test]
fn core_source_does_no_io_env_threads_or_async() {
    let mut files = Vec::new();
    rust_files(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
        &mut files,
    );
    assert!(files.len() > 5, "found the sources");
    for path in files {
        let text = std::fs::read_to_string(&path).expect("source is text");
        let grouped = grouped_std_modules(&text);
        for (module, what) in BANNED_STD {
            let named =
                text.contains(&format!("std::{module}")) || grouped.contains(&module.to_string());
            assert!(
                !named,
                "{} reaches {what} through std::{module}; the core takes what it needs as arguments",
                path.display()
            );
        }
        for banned in ["async fn", "async move", "async {", ".await"] {
            assert!(
                !text.contains(banned),
                "{} is async (`{banned}`); the core is synchronous",
                path.display()
            );
        }
    }
}

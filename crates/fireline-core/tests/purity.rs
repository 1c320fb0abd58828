//! Architecture invariant: the core does no I/O, so it may not depend on crates that do.

#[test]
fn core_depends_on_no_io_or_runtime_crate() {
    let manifest = include_str!("../Cargo.toml");
    let deps = manifest
        .split("[dependencies]")
        .nth(1)
        .expect("core has a [dependencies] table")
        .split("\n[")
        .next()
        .unwrap_or_default();
    for banned in [
        "tokio",
        "sqlx",
        "axum",
        "reqwest",
        "ureq",
        "hyper",
        "tower",
        "async-trait",
        "rand",
        "getrandom",
        "tracing",
    ] {
        let declared = deps
            .lines()
            .any(|l| l.split(['=', '.', ' ']).next() == Some(banned));
        assert!(
            !declared,
            "fireline-core must stay pure, but depends on `{banned}`"
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

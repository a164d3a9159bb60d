//! The hostile-input corpus (tests/corpus/): odd and malicious files, each with the
//! exact expected outcome and error class, run through both `licensectl verify` and
//! the app's command layer (the same function the install wizard calls).
//!
//! `cases.json` is the table of cases: each file's expected outcome, the check that
//! decides it and the error class, written by hand. `scripts/regenerate-corpus` makes
//! the files it names afresh, with a new vendor key (`tests/corpus/regenerate.rs`).

use serde_json::Value;
use std::path::{Path, PathBuf};

#[path = "corpus/cases.rs"]
mod cases;
use cases::{cases, corpus_dir, Case};

/// A private copy of the corpus environment (checks write the clock file).
fn environment() -> (tempfile::TempDir, PathBuf) {
    let d = tempfile::tempdir().unwrap();
    for f in ["environment.toml", "facts.txt", "installed.lic"] {
        std::fs::copy(corpus_dir().join(f), d.path().join(f)).unwrap();
    }
    let cfg = d.path().join("environment.toml");
    (d, cfg)
}

/// Inputs too big to commit are made at test time.
fn materialise(case: &Case, dir: &Path) -> PathBuf {
    if case.file == "huge.lic" {
        let p = dir.join("huge.lic");
        let mut text = String::from("-----BEGIN LICENSE FILE-----\n");
        while text.len() <= license_core::MAX_FILE_BYTES as usize {
            text.push_str(&"A".repeat(64));
            text.push('\n');
        }
        text.push_str("-----END LICENSE FILE-----\n");
        std::fs::write(&p, text).unwrap();
        return p;
    }
    corpus_dir().join(&case.file)
}

/// (outcome, check, code) from a report: the first failing check, else the first warning.
fn classify(report: &Value) -> (String, Option<String>, Option<String>) {
    let checks = report["checks"].as_array().unwrap();
    let pick = |status: &str| checks.iter().find(|c| c["status"] == status);
    if let Some(c) = pick("fail") {
        return ("refused".into(), c["id"].as_str().map(str::to_string), c["code"].as_str().map(str::to_string));
    }
    if let Some(c) = pick("warn") {
        return ("confirm".into(), c["id"].as_str().map(str::to_string), None);
    }
    assert_eq!(report["installable"], true);
    ("installable".into(), None, None)
}

fn expected(c: &Case) -> (String, Option<String>, Option<String>) {
    (c.outcome.clone(), c.check.clone(), c.code.clone())
}

#[test]
fn corpus_has_at_least_forty_cases_and_every_file() {
    let cases = cases();
    assert!(cases.len() >= 40, "{} cases", cases.len());
    for c in &cases {
        assert!(c.file == "huge.lic" || corpus_dir().join(&c.file).is_file(), "missing {}", c.file);
    }
}

#[test]
fn corpus_through_the_cli() {
    let (dir, cfg) = environment();
    let bin = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("target")
        .join(if cfg!(debug_assertions) { "debug" } else { "release" })
        .join("licensectl");
    assert!(bin.is_file(), "build licensectl first (cargo build -p licensectl)");
    let mut failures = Vec::new();
    for case in cases() {
        let file = materialise(&case, dir.path());
        let out = std::process::Command::new(&bin)
            .args(["--config", cfg.to_str().unwrap(), "--json", "verify", file.to_str().unwrap()])
            .output()
            .unwrap();
        let v: Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|_| panic!("{}: no JSON: {}", case.file, String::from_utf8_lossy(&out.stderr)));
        let got = match v.get("error") {
            Some(e) => ("error".to_string(), None, e["code"].as_str().map(str::to_string)),
            None => classify(&v["report"]),
        };
        let exit_ok = match got.0.as_str() {
            "installable" | "confirm" => out.status.code() == Some(0),
            "refused" => out.status.code() == Some(1),
            _ => out.status.code() == Some(2),
        };
        if got != expected(&case) || !exit_ok {
            failures.push(format!(
                "{}: expected {:?}, got {:?} (exit {:?})",
                case.file,
                expected(&case),
                got,
                out.status.code()
            ));
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

#[test]
fn corpus_through_the_command_layer() {
    let (dir, cfg) = environment();
    let state = license_manager::state::AppState::default();
    state.open(&cfg).unwrap();
    let mut failures = Vec::new();
    for case in cases() {
        let file = materialise(&case, dir.path());
        let got = match license_manager::commands::install::from_path(&state, &file) {
            Ok(view) => classify(&serde_json::to_value(&view.report).unwrap()),
            Err(e) => ("error".into(), None, serde_json::to_value(&e).unwrap()["code"].as_str().map(str::to_string)),
        };
        if got != expected(&case) {
            failures.push(format!("{}: expected {:?}, got {:?}", case.file, expected(&case), got));
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

// ---- generator -------------------------------------------------------------

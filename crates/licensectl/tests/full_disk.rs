//! A full disk, met for real on a small tmpfs (root only: see `Tmpfs`): audits and
//! their period records are written both or neither, and a transfer import onto a
//! full license folder changes nothing.
// Linux only: a real full disk needs a tmpfs (mount, as root).
#![cfg(target_os = "linux")]

use license_core::environment::Config;
use license_core::{Audit, SelfSigned};
use license_test_support::{Cli, Tmpfs};
use std::path::{Path, PathBuf};

fn p(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// The demo environment with its state folder on `tmpfs`.
fn demo_with_state_on(tmpfs: &Tmpfs) -> (tempfile::TempDir, Cli, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let cli = Cli::new(env!("CARGO_BIN_EXE_licensectl")).home(dir.path());
    cli.ok(&["demo", p(&dir.path().join("demo"))]);
    let config = dir.path().join("demo/environment.toml");
    license_test_support::write_config(
        Config::read(&config).unwrap().edit().state_dir(Some(tmpfs.path().join("state"))),
        &config,
    );
    (dir, cli, config)
}

fn outbox(state: &Path) -> Vec<Audit> {
    let mut audits: Vec<Audit> = std::fs::read_dir(state.join("outbox"))
        .unwrap()
        .flatten()
        .filter(|e| e.path().extension().is_some_and(|x| x == "audit"))
        .map(|e| Audit::open(&std::fs::read(e.path()).unwrap()).unwrap().0)
        .collect();
    audits.sort_by_key(|a| a.period_start);
    audits
}

/// Writing the period record fails on a full disk after the audit is written: the
/// audit is taken back, so the next audit does not cover the same period again.
#[test]
fn an_audit_and_its_period_are_written_both_or_neither() {
    let Some(tmpfs) = Tmpfs::mount(256) else { return };
    let (_dir, cli, config) = demo_with_state_on(&tmpfs);
    let state = tmpfs.path().join("state");
    cli.ok(&["--config", p(&config), "audit", "generate"]);
    let first = outbox(&state);
    assert_eq!(first.len(), 1);
    let size = std::fs::read_dir(state.join("outbox")).unwrap().flatten().next().unwrap().metadata().unwrap().len();
    assert!(size < 4096, "an audit fits in the one page left: {size}");
    // One page left: the audit fits, its period record then does not.
    tmpfs.fill_leaving(4096);
    let o = cli.run(&["--config", p(&config), "audit", "generate"]);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("last-audit.json") && stderr.contains("No space left on device"), "{stderr}");
    assert_eq!(stderr.matches("os error 28").count(), 1, "the cause is said once: {stderr}");
    assert_eq!(outbox(&state).len(), 1, "the audit whose period was not recorded was taken back");
    tmpfs.unfill();
    cli.ok(&["--config", p(&config), "audit", "generate"]);
    let audits = outbox(&state);
    assert_eq!(audits.len(), 2);
    assert!(audits[1].period_start >= audits[0].period_end, "no two audits cover one period: {audits:?}");
}

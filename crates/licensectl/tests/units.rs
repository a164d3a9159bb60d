//! The systemd units shipped in the packages (packaging/systemd/) pass
//! `systemd-analyze verify`: settings, the programs they start, the man page their
//! Documentation= names. The packaged files are verified again where they are
//! installed, by scripts/check-package.
// systemd and systemd-analyze are Linux's; the Windows schedule is Task Scheduler
// XML, checked by scripts/windows --test.
#![cfg(target_os = "linux")]

use license_test_support::Launch;
use std::path::Path;
use std::process::Command;

const UNITS: &[&str] = &[
    "licensectl-check.service",
    "licensectl-check.timer",
    "licensectl-audit.service",
    "licensectl-audit.timer",
    "licensectl-renew.service",
    "licensectl-renew.timer",
];

/// The units with `/usr/bin/licensectl` pointing at the binary under test, and the
/// generated man pages, in `dir`; returns `systemd-analyze verify`'s verdict.
fn verify(dir: &Path, edit: impl Fn(&str, String) -> String) -> (bool, String) {
    let bin = env!("CARGO_BIN_EXE_licensectl");
    let assets = dir.join("assets");
    assert!(Command::new(bin).arg("package-assets").arg(&assets).launch_status().success());
    let man = dir.join("man/man1");
    std::fs::create_dir_all(&man).unwrap();
    std::fs::copy(assets.join("man/licensectl.1"), man.join("licensectl.1")).unwrap();
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../packaging/systemd");
    let mut paths = Vec::new();
    for u in UNITS {
        let text = std::fs::read_to_string(src.join(u)).unwrap().replace("/usr/bin/licensectl", bin);
        let p = dir.join(u);
        std::fs::write(&p, edit(u, text)).unwrap();
        paths.push(p);
    }
    let o = Command::new("systemd-analyze").arg("verify").args(&paths).env("MANPATH", dir.join("man")).launch_output();
    (o.status.success(), format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr)))
}

#[test]
fn the_shipped_units_pass_systemd_analyze_verify() {
    let d = tempfile::tempdir().unwrap();
    let (ok, said) = verify(d.path(), |_, t| t);
    assert!(ok, "systemd-analyze verify:\n{said}");
}

#[test]
fn systemd_analyze_finds_fault_with_a_broken_timer() {
    // The check must be able to fail: a timer with an impossible schedule.
    let d = tempfile::tempdir().unwrap();
    let (ok, said) =
        verify(
            d.path(),
            |u, t| if u.ends_with(".timer") { t.replace("OnCalendar=daily", "OnCalendar=someday") } else { t },
        );
    assert!(!ok && said.contains("someday"), "{said}");
}

#[test]
fn the_units_ship_disabled_and_run_what_the_readme_says() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../packaging/systemd");
    let check = std::fs::read_to_string(src.join("licensectl-check.service")).unwrap();
    assert!(check.contains("licensectl metrics --out /var/lib/prometheus/node-exporter/license-manager.prom"));
    assert!(check.contains("ExecStart=/usr/bin/licensectl check"));
    let audit = std::fs::read_to_string(src.join("licensectl-audit.service")).unwrap();
    assert!(audit.contains("licensectl audit generate") && audit.contains("licensectl audit upload"));
    assert!(audit.contains("LoadCredentialEncrypted=portal-token:"), "the token comes as an encrypted credential");
    let renew = std::fs::read_to_string(src.join("licensectl-renew.service")).unwrap();
    assert!(renew.contains("ExecStart=/usr/bin/licensectl renew\n"));
    assert!(renew.contains("LoadCredentialEncrypted=portal-token:"), "the token comes as an encrypted credential");
    // Services have no [Install]: only the timers are enabled, by the administrator.
    assert!(!check.contains("[Install]") && !audit.contains("[Install]") && !renew.contains("[Install]"));
}

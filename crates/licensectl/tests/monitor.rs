//! `licensectl check` and `licensectl metrics` as monitoring runs them: every state
//! of the check with its exit code, and metrics a Prometheus parser accepts.

use license_test_support::{Cli, Launch};
use std::path::Path;

fn cli() -> Cli {
    Cli::new(env!("CARGO_BIN_EXE_licensectl"))
}

/// A demo environment; its license expires within 30 days (the demo warns).
fn demo() -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    cli().ok(&["demo", dir.path().to_str().unwrap()]);
    let config = dir.path().join("environment.toml").to_str().unwrap().to_string();
    (dir, config)
}

/// (exit code, status line, whole output).
fn check(config: &str, extra: &[&str]) -> (i32, String, String) {
    let mut args = vec!["--config", config, "check"];
    args.extend_from_slice(extra);
    let o = cli().run(&args);
    let out = String::from_utf8(o.stdout).unwrap();
    (o.status.code().unwrap(), out.lines().next().unwrap_or("").to_string(), out)
}

fn days_left(config: &str) -> i64 {
    let v: serde_json::Value = serde_json::from_str(&cli().ok(&["--config", config, "status", "--json"])).unwrap();
    v["installed"]["days_left"].as_i64().unwrap()
}

/// The one day count (`timestamp::days_until`): the demo's license was made to
/// expire 20 days from now, and `status`, `status --json` and `check` all say 20, as
/// the app's overview, install report and notification do (the E2E tests).
#[test]
fn status_and_check_count_the_same_days() {
    let (_dir, c) = demo();
    assert_eq!(days_left(&c), 20);
    assert!(cli().ok(&["--config", &c, "status"]).contains("expires in 20 days"));
    let (_, line, _) = check(&c, &[]);
    assert!(line.starts_with("LICENSE WARNING - expires in 20 days"), "{line}");
}

#[test]
fn each_state_has_its_exit_code_and_one_status_line() {
    let (dir, c) = demo();
    let d = days_left(&c);
    let (w, cr) = ((d + 10).to_string(), (d - 5).to_string());

    // WARNING: within the warning window, and no backup of the installed license yet.
    let (code, line, out) = check(&c, &["--warning", &w, "--critical", &cr]);
    assert_eq!(code, 1, "{out}");
    assert_eq!(
        line,
        format!("LICENSE WARNING - expires in {d} days ({}) | days_left={d};{w};{cr};0 {DEMO_USAGE_PERF}", expiry(&c))
    );
    assert!(out.contains("WARNING: no backup of the installed license"), "{out}");

    // OK once backed up and outside the windows.
    cli().ok(&["--config", &c, "backup"]);
    let (code, line, _) = check(&c, &["--warning", &(d - 5).to_string(), "--critical", "1"]);
    assert_eq!(code, 0);
    assert!(line.starts_with(&format!("LICENSE OK - valid, {d} days left")), "{line}");

    // CRITICAL within the critical window.
    let (code, line, _) = check(&c, &["--warning", "400", "--critical", &(d + 1).to_string()]);
    assert_eq!(code, 2);
    assert!(line.starts_with("LICENSE CRITICAL - expires in"), "{line}");

    // WARNING: an audit waiting longer than --audit-age.
    cli().ok(&["--config", &c, "audit", "generate"]);
    let (code, _, out) = check(&c, &["--warning", "1", "--critical", "0", "--audit-age", "0"]);
    assert_eq!(code, 1);
    assert!(out.contains("1 audit waiting for upload for more than 0 days"), "{out}");

    // CRITICAL: a license for another serial (the demo's wrong-serial sample, forced in).
    std::fs::copy(dir.path().join("samples/wrong-serial.lic"), dir.path().join("license.lic")).unwrap();
    let (code, line, _) = check(&c, &[]);
    assert_eq!(code, 2);
    assert!(line.contains("serial number") && !line.contains('|'), "{line}");

    // CRITICAL: nothing installed.
    std::fs::remove_file(dir.path().join("license.lic")).unwrap();
    assert_eq!(check(&c, &[]).1, "LICENSE CRITICAL - no license is installed");

    // UNKNOWN: the check cannot run.
    let (code, line, _) = check(&dir.path().join("nope.toml").to_string_lossy(), &[]);
    assert_eq!(code, 3);
    assert!(line.starts_with("LICENSE UNKNOWN - "), "{line}");
}

#[test]
fn an_expired_license_is_critical() {
    let (dir, c) = demo();
    std::fs::copy(dir.path().join("samples/expired.lic"), dir.path().join("license.lic")).unwrap();
    let (code, line, _) = check(&c, &[]);
    assert_eq!((code, line.starts_with("LICENSE CRITICAL - the installed license expired")), (2, true), "{line}");
}

/// The demo's consumption (87 of 100 named users, 412 of 500 objects) as performance
/// data: used; warning at 90%; critical at the entitlement; minimum; maximum.
const DEMO_USAGE_PERF: &str = "named_users=87;90;100;0;100 application_objects=412;450;500;0;500";

/// Consumption as the usage source reports it now.
fn set_usage(dir: &Path, named_users: u64, application_objects: u64) {
    let json =
        format!(r#"{{"named_users": {named_users}, "application_objects": {application_objects}, "servers": 3}}"#);
    std::fs::write(dir.join("usage.json"), json).unwrap();
}

/// Consumption at 90% of an entitlement warns, over it is critical, and the
/// percentage is the administrator's to set; each says which metric and how much.
#[test]
fn consumption_near_or_over_an_entitlement_is_reported() {
    let (dir, c) = demo();
    cli().ok(&["--config", &c, "backup"]);
    let quiet = ["--warning", "1", "--critical", "0"];
    let (code, line, _) = check(&c, &quiet);
    assert_eq!(code, 0, "the demo's 87% and 82% are below 90%: {line}");
    assert!(line.ends_with(DEMO_USAGE_PERF), "{line}");

    set_usage(dir.path(), 92, 412);
    let (code, line, _) = check(&c, &quiet);
    assert_eq!(code, 1, "{line}");
    assert!(line.starts_with("LICENSE WARNING - named users at 92% of the entitlement (92 of 100)"), "{line}");
    assert!(line.contains("named_users=92;90;100;0;100"), "{line}");
    let (code, line, _) = check(&c, &[&quiet[..], &["--usage-warning", "95"]].concat());
    assert_eq!(code, 0, "95% is the limit asked for: {line}");
    assert!(line.contains("named_users=92;95;100;0;100"), "{line}");

    set_usage(dir.path(), 87, 501);
    let (code, line, _) = check(&c, &quiet);
    assert_eq!(code, 2, "{line}");
    assert!(line.contains("application objects: 501 in use, over the entitlement of 500"), "{line}");

    let o = cli().run(&["--config", &c, "check", "--usage-warning", "0"]);
    assert_eq!(o.status.code(), Some(2), "a percentage of 0 is refused as a usage error");
}

/// A trend in the audits that reaches an entitlement before the license expires is a
/// WARNING that names when; the same audits with a later expiry are not.
#[test]
fn a_trend_that_reaches_an_entitlement_before_expiry_warns() {
    let (dir, c) = demo();
    cli().ok(&["--config", &c, "backup"]);
    // A rise of 2 named users a month, 87 now: 100 in about six and a half months.
    let now = chrono::Utc::now();
    let history: Vec<serde_json::Value> = (1..=6)
        .map(|ago| {
            serde_json::json!({
                "at": (now - chrono::Duration::days(30 * ago)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                "consumption": {"named_users": 87 - 2 * ago, "application_objects": 412, "servers": 3},
            })
        })
        .rev()
        .collect();
    let file = dir.path().join(".license-manager/consumption-history.json");
    std::fs::write(&file, serde_json::to_vec(&history).unwrap()).unwrap();
    let quiet = ["--warning", "1", "--critical", "0"];
    let (code, line, _) = check(&c, &quiet);
    assert_eq!(code, 0, "the demo's license expires in 20 days, before the limit: {line}");

    // The renewal runs 395 days and entitles 150 named users: at 2 a month that is
    // 31 months away; at 6 a month, 10 and a half, before it ends.
    cli().ok(&["--config", &c, "install", dir.path().join("samples/renewal.lic").to_str().unwrap(), "--yes"]);
    cli().ok(&["--config", &c, "backup"]);
    let (code, line, _) = check(&c, &quiet);
    assert_eq!(code, 0, "{line}");
    set_usage(dir.path(), 87, 412);
    let steep: Vec<serde_json::Value> = history
        .iter()
        .map(|h| {
            let mut h = h.clone();
            let users = h["consumption"]["named_users"].as_u64().unwrap();
            h["consumption"]["named_users"] = (users * 3 - 174).into();
            h
        })
        .collect();
    std::fs::write(&file, serde_json::to_vec(&steep).unwrap()).unwrap();
    let (code, line, _) = check(&c, &quiet);
    assert_eq!(code, 1, "six a month from 87 reaches 150 in about 10 months, before the renewal ends: {line}");
    assert!(line.contains("named users would reach the entitlement of 150 around "), "{line}");
    assert!(line.contains("before the license expires"), "{line}");
}

fn expiry(config: &str) -> String {
    let v: serde_json::Value = serde_json::from_str(&cli().ok(&["--config", config, "status", "--json"])).unwrap();
    v["installed"]["license"]["expires_at"].as_str().unwrap()[..10].to_string()
}

#[test]
fn metrics_are_prometheus_text_and_written_atomically() {
    let (dir, c) = demo();
    cli().ok(&["--config", &c, "backup"]);
    let text = cli().ok(&["--config", &c, "metrics"]);
    let mut families = Vec::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let name = rest.split(' ').next().unwrap();
            assert!(!families.contains(&name.to_string()), "{name} declared twice");
            families.push(name.to_string());
            continue;
        }
        if line.starts_with("# HELP ") {
            continue;
        }
        let (series, value) = line.rsplit_once(' ').unwrap();
        value.parse::<f64>().unwrap_or_else(|_| panic!("not a number: {line}"));
        let name = series.split('{').next().unwrap();
        assert_eq!(families.last().map(String::as_str), Some(name), "samples of {name} follow its TYPE line");
    }
    for needed in [
        "license_manager_license_valid 1",
        "license_manager_license_remaining_seconds ",
        "license_manager_license_expiry_timestamp_seconds ",
        "license_manager_entitlement{metric=\"named_users\"} 100",
        "license_manager_consumption{metric=\"named_users\"} 87",
        "license_manager_outbox_audits 0",
        "license_manager_consumption_ratio{metric=\"named_users\"} 0.87",
        "license_manager_consumption_ratio{metric=\"application_objects\"} 0.824",
        "license_manager_consumption_limit_forecast_timestamp_seconds{metric=\"named_users\"} ",
        "license_manager_last_backup_timestamp_seconds ",
    ] {
        assert!(text.contains(needed), "missing {needed:?} in\n{text}");
    }
    assert!(text.contains("license_manager_license_info{environment_type=\"production\""), "{text}");
    let file = dir.path().join("license.prom");
    cli().ok(&["--config", &c, "metrics", "--out", file.to_str().unwrap()]);
    assert_eq!(std::fs::read_to_string(&file).unwrap().lines().count(), text.lines().count());
    assert!(!Path::new(&file).with_extension("prom.tmp").exists());
    // promtool is Linux's (Debian's prometheus package); licensectl writes the same
    // bytes on Windows, so under Wine the Linux run's check stands for it.
    if cfg!(unix) {
        promtool_accepts(&file);
    }
}

/// Prometheus' own linter (`promtool`, Debian's prometheus package, installed by
/// scripts/setup) reads the file as node_exporter's textfile collector would.
fn promtool_accepts(file: &Path) {
    let o = std::process::Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(std::fs::File::open(file).unwrap())
        .launch_output();
    let said = format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr));
    assert!(o.status.success() && said.trim().is_empty(), "promtool check metrics: {said}");
}

/// Linux only: promtool is not a Windows program (the check above says why).
#[cfg(unix)]
#[test]
fn promtool_finds_fault_with_a_broken_file() {
    // The linter must be able to fail: a counter without _total and no HELP.
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.prom");
    std::fs::write(&bad, "# TYPE requests counter\nrequests 1\n").unwrap();
    let o = std::process::Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(std::fs::File::open(&bad).unwrap())
        .launch_output();
    let said = format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr));
    assert!(!said.trim().is_empty() || !o.status.success(), "promtool accepted a broken file");
}

/// Issues, with the demo's vendor key, a production license for this environment's
/// current serial in `code`'s subscription, valid `from`..`until`, written to `out`.
fn issue_for_this_serial(dir: &Path, config: &str, code: &str, from: Option<&str>, until: &str, out: &Path) {
    let serial = cli().ok(&["--config", config, "serial"]).trim().to_string();
    let key = dir.join("vendor.key");
    let mut args = vec!["vendor", "issue", "--key", key.to_str().unwrap(), "--serial", &serial];
    args.extend(["--activation-code", code, "--type", "production", "--customer", "Demo Corp"]);
    if let Some(from) = from {
        args.extend(["--not-before", from]);
    }
    args.extend(["--expires", until, "--out", out.to_str().unwrap()]);
    cli().ok(&args);
}

/// Moves the demo to `before` facts with a license installed for them (so the facts
/// are remembered), then changes the facts to `after`.
fn drifted(before: &str, after: &str) -> (tempfile::TempDir, String) {
    let (dir, c) = demo();
    let d = dir.path();
    std::fs::write(d.join("facts.txt"), before).unwrap();
    let lic = d.join("for-these-facts.lic");
    issue_for_this_serial(d, &c, &activation_code(&c), None, "2099-01-01T00:00:00Z", &lic);
    cli().ok(&["--config", &c, "install", lic.to_str().unwrap(), "--yes"]);
    cli().ok(&["--config", &c, "backup"]);
    std::fs::write(d.join("facts.txt"), after).unwrap();
    (dir, c)
}

fn activation_code(config: &str) -> String {
    let v: serde_json::Value = serde_json::from_str(&cli().ok(&["--config", config, "status", "--json"])).unwrap();
    v["installed"]["license"]["activation_code"].as_str().unwrap().to_string()
}

/// `status`, `check` and `serial --explain` all say which fact changed, and offer
/// the request for the new serial.
fn assert_explained(c: &str, why: &str) {
    let status = cli().ok(&["--config", c, "status"]);
    assert!(status.contains(why), "status:\n{status}");
    let new_serial = cli().ok(&["--config", c, "serial"]).trim().to_string();
    assert!(status.contains(&format!("Request a license for {new_serial} now")), "status:\n{status}");
    let (code, line, _) = check(c, &[]);
    assert_eq!(code, 2, "{line}");
    assert!(line.contains(why) && line.contains(&format!("request a license for {new_serial}")), "{line}");
    let explain = cli().ok(&["--config", c, "serial", "--explain"]);
    assert!(explain.contains("not this serial number") && explain.contains(why), "serial --explain:\n{explain}");
}

const UUID_A: &str = "4c4c4544-0042-3510-8052-b4c04f4e3232";
const UUID_B: &str = "9d2a1f3e-77aa-4c1e-9b2d-3f1e5a6b7c8d";
const MID_A: &str = "0f3c9a7e2b1d4e5f8a6b7c8d9e0f1a2b";
const MID_B: &str = "7e6d5c4b3a291807f6e5d4c3b2a19080";

#[test]
fn a_changed_platform_uuid_is_explained() {
    let (_d, c) = drifted(
        &format!("platform_uuid={UUID_A}\nmachine_id={MID_A}\n"),
        &format!("platform_uuid={UUID_B}\nmachine_id={MID_A}\n"),
    );
    assert_explained(
        &c,
        "the platform UUID changed since this license was installed: the machine was probably moved or recreated",
    );
}

#[test]
fn a_changed_machine_id_is_explained() {
    let (_d, c) = drifted(&format!("machine_id={MID_A}\n"), &format!("machine_id={MID_B}\n"));
    assert_explained(&c, "the machine-id changed since this license was installed");
}

#[test]
fn a_placeholder_uuid_that_appeared_is_explained() {
    let (_d, c) = drifted(
        &format!("platform_uuid={UUID_A}\nmachine_id={MID_A}\n"),
        &format!("platform_uuid=03000200-0400-0500-0006-000700080009\nmachine_id={MID_A}\n"),
    );
    assert_explained(&c, "the platform UUID is now a placeholder value");
}

#[test]
fn the_remembered_facts_hold_no_raw_value() {
    let (d, _c) = drifted(
        &format!("platform_uuid={UUID_A}\nmachine_id={MID_A}\n"),
        &format!("platform_uuid={UUID_A}\nmachine_id={MID_A}\n"),
    );
    let mut found = Vec::new();
    for e in license_test_support::files_under(d.path()) {
        if e.file_name().is_some_and(|n| n == "facts.txt") {
            continue;
        }
        let bytes = std::fs::read(&e).unwrap_or_default();
        if bytes.windows(UUID_A.len()).any(|w| w == UUID_A.as_bytes()) {
            found.push(e);
        }
    }
    assert!(found.is_empty(), "the platform UUID was written to {found:?}");
}

#[test]
fn a_license_of_another_type_a_bad_signature_or_not_yet_valid_is_critical() {
    let (dir, c) = demo();
    let d = dir.path();
    let installed = d.join("license.lic");
    let code = activation_code(&c);
    for (sample, says) in [("development.lic", "development"), ("tampered.lic", "signature")] {
        std::fs::copy(d.join("samples").join(sample), &installed).unwrap();
        let (code, line, _) = check(&c, &[]);
        assert_eq!(code, 2, "{sample}: {line}");
        assert!(line.starts_with("LICENSE CRITICAL - ") && line.contains(says), "{sample}: {line}");
    }
    issue_for_this_serial(d, &c, &code, Some("2099-01-01T00:00:00Z"), "2100-01-01T00:00:00Z", &installed);
    let (code, line, _) = check(&c, &[]);
    assert_eq!(code, 2, "{line}");
    assert!(line.contains("not valid until"), "{line}");
}

#[test]
fn a_license_of_another_subscription_is_critical_when_the_subscription_is_configured() {
    let (dir, c) = demo();
    let code = activation_code(&c);
    let text = std::fs::read_to_string(&c).unwrap();
    std::fs::write(&c, format!("activation_code = \"{code}\"\n{text}")).unwrap();
    cli().ok(&["--config", &c, "backup"]);
    assert_eq!(check(&c, &["--warning", "1", "--critical", "0"]).0, 0, "its own subscription: OK");
    std::fs::copy(dir.path().join("samples/other-subscription.lic"), dir.path().join("license.lic")).unwrap();
    let (code_, line, _) = check(&c, &["--warning", "1", "--critical", "0"]);
    assert_eq!(code_, 2, "{line}");
    assert!(line.contains(&format!("but this environment belongs to {code}")), "{line}");
}

#[test]
fn a_clock_that_is_not_trusted_is_a_warning() {
    let (dir, c) = demo();
    cli().ok(&["--config", &c, "backup"]);
    std::fs::write(dir.path().join(".license-manager/clock.json"), "{\"edited\": true}").unwrap();
    let (code, line, out) = check(&c, &["--warning", "1", "--critical", "0"]);
    assert_eq!(code, 1, "{out}");
    assert!(line.starts_with("LICENSE WARNING - ") && out.contains("edited or damaged"), "{out}");
}

/// A relative usage command is the configuration folder's, and runs there: a
/// `check` started from another folder (a timer's, a shell's) never runs that
/// folder's `./usage.sh` (issue 31).
#[cfg(unix)]
#[test]
fn the_usage_command_runs_from_the_configuration_folder() {
    use std::os::unix::fs::PermissionsExt;
    let (dir, c) = demo();
    let script = |folder: &Path, users: u64, mark: &str| {
        let path = folder.join("usage.sh");
        let body = format!(
            "#!/bin/sh\ntouch \"$(pwd)/{mark}\"\necho '{{\"named_users\": {users}, \"application_objects\": 1, \"servers\": 1}}'\n"
        );
        std::fs::write(&path, body).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    };
    script(dir.path(), 11, "ran-here");
    let elsewhere = tempfile::tempdir().unwrap();
    script(elsewhere.path(), 99, "ran-elsewhere");
    let config = license_core::environment::Config::read(Path::new(&c)).unwrap();
    let usage =
        license_core::environment::config::Usage::new(license_core::environment::config::UsageSource::Command(vec![
            "./usage.sh".into(),
        ]));
    license_test_support::write_config(config.edit().usage(Some(usage)), Path::new(&c));
    cli().ok(&["--config", &c, "backup"]);
    let o = cli()
        .command(&["--config", &c, "check", "--warning", "1", "--critical", "0"])
        .current_dir(elsewhere.path())
        .launch_output();
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("named_users=11;"), "the configuration folder's script: {out}");
    assert!(dir.path().join("ran-here").exists(), "it ran in the configuration's folder");
    assert!(!elsewhere.path().join("ran-elsewhere").exists(), "the other folder's script never ran");
}

/// Only a placeholder platform UUID: the serial cannot be computed, so `check`
/// cannot confirm the license is this machine's, and says so with the fix, not a
/// clean bill of health on the expiry alone.
#[test]
fn check_says_when_the_serial_cannot_be_computed() {
    let (d, c) = demo();
    cli().ok(&["--config", &c, "backup"]);
    let (code, before, _) = check(&c, &["--warning", "1", "--critical", "0"]);
    assert_eq!(code, 0, "{before}");
    std::fs::write(d.path().join("facts.txt"), "platform_uuid=03000200-0400-0500-0006-000700080009\n").unwrap();
    let (code, out, _) = check(&c, &["--warning", "1", "--critical", "0"]);
    assert_eq!(code, 1, "{out}");
    assert!(out.starts_with("LICENSE WARNING - the serial number cannot be computed"), "{out}");
    assert!(out.contains("known placeholder") && out.contains("cannot be confirmed to be this machine's"), "{out}");
}

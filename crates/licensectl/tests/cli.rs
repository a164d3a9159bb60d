//! licensectl end to end, as an administrator runs it: real files in a temp folder.

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use license_test_support::{Cli, Launch};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn cli() -> Cli {
    Cli::new(env!("CARGO_BIN_EXE_licensectl"))
}

fn licensectl(args: &[&str]) -> Output {
    cli().run(args)
}

fn ok(args: &[&str]) -> String {
    cli().ok(args)
}

fn p(path: &Path) -> &str {
    path.to_str().unwrap()
}

struct Vendor {
    _dir: tempfile::TempDir,
    key: PathBuf,
    public: String,
    facts: PathBuf,
    serial: String,
}

fn vendor() -> Vendor {
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("vendor.key");
    let out: Value = serde_json::from_str(&ok(&["vendor", "keygen", "--out", p(&key), "--json"])).unwrap();
    let facts = dir.path().join("facts.txt");
    std::fs::write(&facts, "platform_uuid=6f1d9e0a-2b1c-4e55-9d3a-0c7e5b1a2f44\n").unwrap();
    let serial = ok(&["serial", "--facts", p(&facts)]).trim().to_string();
    Vendor { public: out["public_key"].as_str().unwrap().to_string(), key, facts, serial, _dir: dir }
}

const CODE: &str = "ABCDE-FGHJK-MNPQR-STVWX-YZ01";

/// CODE with its check symbol computed independently of the core.
fn code() -> String {
    let payload = CODE.replace('-', "");
    let payload = &payload[..24];
    // Luhn mod 32, as in shared/spec/formats.md.
    let alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
    let (mut factor, mut sum) = (2, 0);
    for c in payload.chars().rev() {
        let p = alphabet.find(c).unwrap() * factor;
        sum += p / 32 + p % 32;
        factor = 3 - factor;
    }
    format!("{payload}{}", alphabet.as_bytes()[(32 - sum % 32) % 32] as char)
}

fn issue(v: &Vendor, out: &Path, extra: &[&str]) {
    let code = code();
    let mut args = vec![
        "vendor",
        "issue",
        "--key",
        p(&v.key),
        "--serial",
        &v.serial,
        "--activation-code",
        &code,
        "--type",
        "production",
        "--customer",
        "Acme",
        "--expires",
        "2099-01-01T00:00:00Z",
        "--named-users",
        "50",
        "--out",
        p(out),
    ];
    args.extend_from_slice(extra);
    ok(&args);
}

#[test]
fn issue_then_verify_round_trips() {
    let v = vendor();
    let lic = v._dir.path().join("a.lic");
    issue(&v, &lic, &["--features", "sso,ha"]);
    let out = ok(&[
        "verify",
        p(&lic),
        "--vendor-key",
        &v.public,
        "--facts",
        p(&v.facts),
        "--environment-type",
        "production",
        "--json",
    ]);
    let r: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(r["report"]["installable"], true);
    assert_eq!(r["report"]["license"]["entitlements"]["features"], serde_json::json!(["sso", "ha"]));
    let text =
        ok(&["verify", p(&lic), "--vendor-key", &v.public, "--facts", p(&v.facts), "--environment-type", "production"]);
    for label in
        ["File format", "Vendor signature", "Validity dates", "Serial number", "Activation code", "Environment type"]
    {
        assert!(text.contains(&format!("[PASS] {label}")), "{label} missing in\n{text}");
    }
}

#[test]
fn hand_edited_payload_byte_fails_with_a_signature_message() {
    let v = vendor();
    let lic = v._dir.path().join("a.lic");
    issue(&v, &lic, &[]);
    let text = std::fs::read_to_string(&lic).unwrap();
    let body: String = text.lines().filter(|l| !l.starts_with("-----")).collect();
    let mut env: Value = serde_json::from_slice(&STANDARD.decode(body).unwrap()).unwrap();
    let mut payload = URL_SAFE_NO_PAD.decode(env["payload"].as_str().unwrap()).unwrap();
    let i = payload.windows(4).position(|w| w == b"\":50").unwrap() + 2;
    payload[i] = b'9'; // 50 named users -> 90
    env["payload"] = URL_SAFE_NO_PAD.encode(&payload).into();
    let b64 = STANDARD.encode(serde_json::to_vec(&env).unwrap());
    let lines: Vec<&str> = b64.as_bytes().chunks(64).map(|c| std::str::from_utf8(c).unwrap()).collect();
    std::fs::write(&lic, format!("-----BEGIN LICENSE FILE-----\n{}\n-----END LICENSE FILE-----\n", lines.join("\n")))
        .unwrap();

    let o = licensectl(&["verify", p(&lic), "--vendor-key", &v.public, "--facts", p(&v.facts)]);
    assert_eq!(o.status.code(), Some(1));
    let out = String::from_utf8(o.stdout).unwrap();
    assert!(out.contains("[FAIL] Vendor signature") && out.contains("altered after signing"), "{out}");
}

#[test]
fn a_vendor_key_that_starts_with_a_hyphen_is_a_key_not_an_option() {
    // base64url keys begin with '-' one time in 64.
    let key = loop {
        let k = license_core::KeyPair::generate().public().to_base64url();
        if k.starts_with('-') {
            break k;
        }
    };
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("environment.toml");
    let o = licensectl(
        &["init", "--path", p(&cfg), "--name", "x", "--type", "production"]
            .into_iter()
            .chain(["--license-file", p(&dir.path().join("l.lic")), "--backup-dir", p(&dir.path().join("b"))])
            .chain(["--vendor-key", &key])
            .collect::<Vec<_>>(),
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(std::fs::read_to_string(&cfg).unwrap().contains(&key));
}

#[test]
fn verify_refusals_name_the_check_and_the_fix() {
    let v = vendor();
    let lic = v._dir.path().join("a.lic");
    issue(&v, &lic, &[]);
    let o = licensectl(&[
        "verify",
        p(&lic),
        "--vendor-key",
        &v.public,
        "--serial",
        &ok(&["serial", "--facts", p(&v.facts)]),
        "--environment-type",
        "quality",
    ]);
    assert_eq!(o.status.code(), Some(1));
    let out = String::from_utf8(o.stdout).unwrap();
    assert!(out.contains("[FAIL] Environment type") && out.contains("request a quality license"), "{out}");
    // Unknown vendor key: the kid is named, and the fix.
    let o = licensectl(&["verify", p(&lic), "--facts", p(&v.facts)]);
    let out = String::from_utf8(o.stdout).unwrap();
    assert!(out.contains("not a trusted vendor key") && out.contains("add the vendor's public key"), "{out}");
}

#[test]
fn environment_flows_install_backup_restore() {
    let dir = tempfile::tempdir().unwrap();
    ok(&["demo", p(dir.path())]);
    let cfg = dir.path().join("environment.toml");
    let c = p(&cfg);
    let installed = dir.path().join("license.lic");
    let original = std::fs::read(&installed).unwrap();

    let status: Value = serde_json::from_str(&ok(&["--config", c, "status", "--json"])).unwrap();
    assert_eq!(status["installed"]["status"], "expiring");

    // Refused: the installed license is untouched, and the output says which check.
    let o = licensectl(&["--config", c, "install", p(&dir.path().join("samples/wrong-serial.lic")), "--yes"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("Serial number: the license is for serial number"));
    assert_eq!(std::fs::read(&installed).unwrap(), original);

    // A warning needs --yes when nobody can be asked.
    let o = licensectl(&["--config", c, "install", p(&dir.path().join("samples/other-subscription.lic"))]);
    assert_eq!(o.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&o.stderr).contains("--yes"));
    assert_eq!(std::fs::read(&installed).unwrap(), original);

    let out = ok(&["--config", c, "install", p(&dir.path().join("samples/renewal.lic"))]);
    assert!(out.contains("named_users") && out.contains("100 → 150"), "{out}");
    assert_eq!(std::fs::read(&installed).unwrap(), std::fs::read(dir.path().join("samples/renewal.lic")).unwrap());

    let list: Value = serde_json::from_str(&ok(&["--config", c, "backups", "--json"])).unwrap();
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(std::fs::read(list[0]["path"].as_str().unwrap()).unwrap(), original);
    let id = list[0]["id"].as_str().unwrap();

    ok(&["--config", c, "restore", id, "--yes"]);
    assert_eq!(std::fs::read(&installed).unwrap(), original);
    let list: Value = serde_json::from_str(&ok(&["--config", c, "backups", "--json"])).unwrap();
    assert_eq!(list.as_array().unwrap().len(), 2);

    let taken: Value = serde_json::from_str(&ok(&["--config", c, "backup", "--json"])).unwrap();
    assert!(taken["id"].as_str().is_some());

    let o = licensectl(&["--config", c, "restore", "nope"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("licensectl backups"));
}

// Unix only: symbolic links and modes. Wine 8 makes no link a Windows program can
// open, and Windows keeps a DACL instead of a mode (fs.rs's Windows tests).
#[cfg(unix)]
#[test]
fn install_through_a_linked_license_file_replaces_the_target_and_keeps_its_mode() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    ok(&["demo", p(dir.path())]);
    let cfg = dir.path().join("environment.toml");
    let c = p(&cfg);
    // The platform keeps its license elsewhere and links it, readable by its owner only.
    let real_dir = dir.path().join("platform/conf");
    std::fs::create_dir_all(&real_dir).unwrap();
    let real = real_dir.join("platform.lic");
    let link = dir.path().join("license.lic");
    std::fs::rename(&link, &real).unwrap();
    std::fs::set_permissions(&real, std::fs::Permissions::from_mode(0o600)).unwrap();
    std::os::unix::fs::symlink(&real, &link).unwrap();

    let out: Value =
        serde_json::from_str(&ok(&["--config", c, "install", p(&dir.path().join("samples/renewal.lic")), "--json"]))
            .unwrap();
    assert_eq!(
        out["written_path"].as_str().unwrap(),
        p(&std::fs::canonicalize(&real).unwrap()),
        "the outcome names the real file"
    );
    assert!(std::fs::symlink_metadata(&link).unwrap().file_type().is_symlink(), "the link is still a link");
    assert_eq!(
        std::fs::read(&real).unwrap(),
        std::fs::read(dir.path().join("samples/renewal.lic")).unwrap(),
        "the platform reads the new license"
    );
    assert_eq!(std::fs::metadata(&real).unwrap().permissions().mode() & 0o777, 0o600, "mode kept");
    let text = ok(&[
        "--config",
        c,
        "restore",
        serde_json::from_str::<Value>(&ok(&["--config", c, "backups", "--json"])).unwrap()[0]["id"].as_str().unwrap(),
        "--yes",
    ]);
    assert!(text.contains(&format!("written to {}", std::fs::canonicalize(&real).unwrap().display())), "{text}");
}

// Unix only: the odd files are a named pipe and links (mkfifo and symlinks have no
// Windows counterpart that Wine 8 can make).
#[cfg(unix)]
#[test]
fn odd_files_in_the_backup_folder_are_listed_as_damaged_without_hanging() {
    let dir = tempfile::tempdir().unwrap();
    ok(&["demo", p(dir.path())]);
    let cfg = dir.path().join("environment.toml");
    let c = p(&cfg);
    ok(&["--config", c, "backup"]);
    let backups = dir.path().join("backups");
    let fifo = backups.join("20260101T000000Z-aaaaaaaaaaaa.lic");
    assert!(Command::new("mkfifo").arg(&fifo).launch_status().success());
    std::os::unix::fs::symlink("/dev/zero", backups.join("20260102T000000Z-bbbbbbbbbbbb.lic")).unwrap();
    // Each of these used to block on the FIFO (or read /dev/zero until memory ran out).
    let run = |args: &[&str]| {
        let mut child =
            Command::new(env!("CARGO_BIN_EXE_licensectl")).args(args).stdout(std::process::Stdio::piped()).launch();
        let started = std::time::Instant::now();
        while child.try_wait().unwrap().is_none() {
            if started.elapsed() > std::time::Duration::from_secs(20) {
                child.kill().unwrap();
                panic!("licensectl {args:?} hung on an odd file in the backup folder");
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        let o = child.wait_with_output().unwrap();
        assert!(o.status.success(), "{args:?}");
        String::from_utf8(o.stdout).unwrap()
    };
    let list: Value = serde_json::from_str(&run(&["--config", c, "backups", "--json"])).unwrap();
    let damaged: Vec<_> = list
        .as_array()
        .unwrap()
        .iter()
        .filter(|b| b["intact"] == false)
        .map(|b| b["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(damaged, ["20260102T000000Z-bbbbbbbbbbbb", "20260101T000000Z-aaaaaaaaaaaa"]);
    run(&["--config", c, "status", "--json"]);
    let o = licensectl(&["--config", c, "restore", "20260101T000000Z-aaaaaaaaaaaa", "--yes"]);
    assert_eq!(o.status.code(), Some(2), "a damaged backup cannot be restored");
}

#[test]
fn an_edited_clock_record_is_evident_and_never_expires_every_license() {
    let dir = tempfile::tempdir().unwrap();
    ok(&["demo", p(dir.path())]);
    let cfg = dir.path().join("environment.toml");
    let c = p(&cfg);
    let status: Value = serde_json::from_str(&ok(&["--config", c, "status", "--json"])).unwrap();
    assert_eq!(status["installed"]["status"], "expiring");
    // A record saying 2099 (a clock that once jumped, or an edit) no longer expires every license.
    let record = dir.path().join(".license-manager/clock.json");
    let text = std::fs::read_to_string(&record).unwrap();
    let year = &text[text.find("latest_seen").unwrap() + 14..][..4];
    std::fs::write(&record, text.replace(&format!("\"{year}-"), "\"2099-")).unwrap();
    let status: Value = serde_json::from_str(&ok(&["--config", c, "status", "--json"])).unwrap();
    assert_eq!(status["installed"]["status"], "expiring", "judged by the system clock: {status}");
    assert_eq!(status["clock"]["state"], "record_altered", "an edited record is evident");
    let clock: Value = serde_json::from_str(&ok(&["--config", c, "clock", "--json"])).unwrap();
    assert_eq!(clock["state"], "ok", "reported once, then a fresh record");
    // Nothing is behind, so there is nothing to accept.
    let o = licensectl(&["--config", c, "clock", "--accept", "--json"]);
    assert_eq!(o.status.code(), Some(2));
    let e: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(e["error"]["code"], "nothing_to_accept", "{e}");
}

#[test]
fn serial_explain_names_the_facts() {
    let dir = tempfile::tempdir().unwrap();
    let facts = dir.path().join("f.txt");
    std::fs::write(&facts, "platform_uuid=00000000-0000-0000-0000-000000000000\nmachine_id=0123abcd\n").unwrap();
    let out = ok(&["serial", "--facts", p(&facts), "--explain"]);
    assert!(out.contains("known placeholder") && out.contains("machine_id=0123abcd"), "{out}");
    std::fs::write(&facts, "platform_uuid=00000000-0000-0000-0000-000000000000\n").unwrap();
    let o = licensectl(&["serial", "--facts", p(&facts)]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("no usable fact"));
}

#[test]
fn missing_configuration_says_how_to_create_one() {
    let home = tempfile::tempdir().unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_licensectl"))
        .arg("status")
        .env_remove("LICENSE_MANAGER_CONFIG")
        .env("HOME", home.path())
        .env("XDG_CONFIG_HOME", home.path())
        .launch_output();
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("licensectl init") && err.contains("demo"), "{err}");
}

/// A site checks a release before installing it, with licensectl or with the
/// documented openssl + sha256sum one-liner; both refuse an altered file.
#[test]
fn a_signed_release_verifies_with_licensectl_and_with_openssl() {
    let d = tempfile::tempdir().unwrap();
    let rel = d.path().join("release");
    std::fs::create_dir(&rel).unwrap();
    std::fs::write(rel.join("licensectl_0.1.0-1_amd64.deb"), b"a package").unwrap();
    std::fs::write(rel.join("license-manager-0.1.0-1.x86_64.rpm"), b"another package").unwrap();
    let key = d.path().join("release.key");
    let (k, r) = (key.to_str().unwrap(), rel.to_str().unwrap());
    ok(&["vendor", "keygen", "--out", k]);
    ok(&["vendor", "sign-release", "--key", k, r]);
    let pem = d.path().join("release-key.pub.pem");
    std::fs::write(&pem, ok(&["vendor", "pubkey", "--key", k, "--pem"])).unwrap();
    let verified = ok(&["verify-release", r, "--key", pem.to_str().unwrap()]);
    assert!(verified.contains("release verified: 2 files"), "{verified}");

    // The one-liner is a Linux site's (sh, openssl, sha256sum); a Windows server has
    // none of them, so under Wine only licensectl's verdicts are checked.
    let one_liner = format!(
        "cd '{r}' && openssl pkeyutl -verify -pubin -inkey '{}' -rawin -in SHA256SUMS -sigfile SHA256SUMS.sig && sha256sum -c SHA256SUMS",
        pem.display()
    );
    let sh = |script: &str| std::process::Command::new("sh").args(["-c", script]).launch_output();
    if cfg!(unix) {
        let o = sh(&one_liner);
        assert!(o.status.success(), "{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr));
    }

    std::fs::write(rel.join("licensectl_0.1.0-1_amd64.deb"), b"a trojan").unwrap();
    let o = licensectl(&["verify-release", r, "--key", pem.to_str().unwrap()]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert!(out.contains("MISMATCH  licensectl_0.1.0-1_amd64.deb") && out.contains("NOT verified"), "{out}");
    if cfg!(unix) {
        assert!(!sh(&one_liner).status.success(), "sha256sum -c refuses the altered file");
    }
}

/// `licensectl … | head`: the reader has gone before anything is written. The
/// command ends quietly, with no panic and no error message.
#[test]
fn a_closed_pipe_ends_quietly() {
    let v = vendor();
    for args in [vec!["serial", "--facts", p(&v.facts)], vec!["serial", "--facts", p(&v.facts), "--json"]] {
        let (reader, writer) = std::io::pipe().unwrap();
        drop(reader);
        let child = cli().command(&args).stdout(writer).stderr(std::process::Stdio::piped()).launch();
        let o = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert!(stderr.is_empty(), "{args:?}: {stderr}");
        assert_eq!(o.status.code(), Some(0), "{args:?}");
    }
}

/// LICENSE_MANAGER_TOKEN set, but bound to no portal (no LICENSE_MANAGER_PORTAL, no
/// configuration): it is not sent, and the error says how to bind it rather than
/// to set the variable that is already set.
#[test]
fn an_unbound_token_says_how_to_bind_it() {
    let dir = tempfile::tempdir().unwrap();
    let o = cli()
        .home(dir.path())
        .env("LICENSE_MANAGER_TOKEN", "lm_sometoken")
        .command(&["--portal", "http://127.0.0.1:9", "transfer", "process", "x.transfer.zip", "--json"])
        .env("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent")
        .launch_output();
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["error"]["code"], "token_not_bound", "{v}");
    let m = v["error"]["message"].as_str().unwrap();
    assert!(m.contains("LICENSE_MANAGER_PORTAL=http://127.0.0.1:9"), "{m}");
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(!stderr.contains("another portal"), "there is no other portal: {stderr}");
}

/// The command list says what each command does: restore had no line and renew's
/// began with restore's (issue 33).
#[test]
fn help_gives_each_command_its_own_line() {
    let help = ok(&["--help"]);
    let line = |cmd: &str| {
        help.lines()
            .find(|l| l.trim_start().starts_with(&format!("{cmd} ")))
            .unwrap_or_else(|| panic!("{cmd}: {help}"))
            .to_string()
    };
    assert!(line("restore").contains("Reinstall a backup"), "{}", line("restore"));
    assert!(line("renew").contains("Automatic renewal"), "{}", line("renew"));
    assert!(!line("renew").contains("Reinstall"), "{}", line("renew"));
}

/// "Prepare renewals" looks at most a year ahead: a number past the limit is
/// refused with the limit, before any portal is asked (none is reachable here),
/// and as a typed fact in `--json`.
#[test]
fn prepare_renewals_names_the_days_limit() {
    let d = tempfile::tempdir().unwrap();
    let file = d.path().join("r.transfer.zip");
    let o = licensectl(&["--portal", "http://127.0.0.1:9", "transfer", "prepare-renewals", p(&file), "--days", "400"]);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("must be from 1 to 365 (400 given)"), "{stderr}");
    assert!(!file.exists());
    let o = licensectl(&[
        "--json",
        "--portal",
        "http://127.0.0.1:9",
        "transfer",
        "prepare-renewals",
        p(&file),
        "--days",
        "0",
    ]);
    let out: Value = serde_json::from_slice(&o.stdout).unwrap();
    let err = &out["error"];
    assert_eq!(err["code"], "out_of_range", "{out}");
    assert_eq!((err["range"]["min"].as_i64(), err["range"]["max"].as_i64()), (Some(1), Some(365)), "{out}");
}

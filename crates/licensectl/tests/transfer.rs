//! The air gap, for a whole infrastructure: three environments (production, quality,
//! development, each with its own serial from a facts file) put their papers into one
//! transfer file; a connected workstation with no configuration processes it against
//! the real portal on loopback, with faults; each environment takes back its license
//! and receipts. Twice, to prove a second run changes nothing.
// A scenario reads best whole: tests may run long (clippy.toml).
#![allow(clippy::too_many_lines)]

use license_core::environment::config::{Usage, UsageSource};
use license_core::environment::Config;
use license_core::transfer::Transfer;
use license_core::{ActivationCode, Audit, EnvironmentType, KeyPair, License, Payload, SelfSigned};
use license_portal::faults::Fault;
use license_test_support::{Capture, Cli, Launch, Permission, TestPortal, ALL};
use serde_json::Value;
use std::path::{Path, PathBuf};

struct Site {
    dir: tempfile::TempDir,
    config: PathBuf,
}

impl Site {
    /// An environment with no license yet, trusting the portal's vendor key.
    fn new(name: &str, t: EnvironmentType, vendor_public: &str) -> Site {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("facts.txt"), format!("platform_uuid={}\n", uuid::Uuid::new_v4())).unwrap();
        std::fs::write(
            dir.path().join("usage.json"),
            br#"{"named_users": 12, "application_objects": 40, "servers": 2}"#,
        )
        .unwrap();
        let config = dir.path().join("environment.toml");
        license_test_support::write_config(
            Config::new(name, t, "license.lic", "backups")
                .facts_file(Some("facts.txt".into()))
                .vendor_keys(vec![vendor_public.to_string()])
                .usage(Some(Usage::new(UsageSource::File("usage.json".into())))),
            &config,
        );
        Site { dir, config }
    }

    fn cli(&self) -> Cli {
        Cli::new(env!("CARGO_BIN_EXE_licensectl")).home(self.dir.path())
    }

    fn with_config<'a>(&'a self, args: &[&'a str]) -> Vec<&'a str> {
        let mut all = vec!["--config", self.config.to_str().unwrap()];
        all.extend_from_slice(args);
        all
    }

    fn ok(&self, args: &[&str]) -> String {
        self.cli().ok(&self.with_config(args))
    }

    fn run(&self, args: &[&str]) -> std::process::Output {
        self.cli().run(&self.with_config(args))
    }

    fn json(&self, args: &[&str]) -> Value {
        let mut all = args.to_vec();
        all.push("--json");
        serde_json::from_str(&self.ok(&all)).unwrap()
    }

    fn outbox(&self) -> usize {
        self.json(&["audit", "outbox"]).as_array().unwrap().len()
    }

    fn backups(&self) -> usize {
        self.json(&["backups"]).as_array().unwrap().len()
    }

    fn license(&self) -> Vec<u8> {
        std::fs::read(self.dir.path().join("license.lic")).unwrap()
    }
}

/// The portal, the public half of the vendor key it signs with, and a subscription code.
fn portal() -> (TestPortal, String, ActivationCode) {
    let vendor = KeyPair::generate();
    let public = vendor.public().to_base64url();
    (TestPortal::with_vendor(vendor), public, ActivationCode::from_payload("TRANSFERTESTCQDE01234567").unwrap())
}

fn p(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// A transfer file on a "USB stick", and a connected workstation with `token` and
/// no configuration at all.
fn carrier(portal: &TestPortal, token: &str) -> (tempfile::TempDir, PathBuf, tempfile::TempDir, Cli) {
    let usb = tempfile::tempdir().unwrap();
    let file = usb.path().join("site.transfer.zip");
    let home = tempfile::tempdir().unwrap();
    let workstation = Cli::new(env!("CARGO_BIN_EXE_licensectl")).home(home.path()).token(token, &portal.url);
    (usb, file, home, workstation)
}

/// One production environment licensed through its first trip, with its portal,
/// token, transfer file and workstation.
/// Bind `_usb` and `_home` where it is used: they are the folders' lifetimes.
struct Licensed {
    portal: TestPortal,
    vendor_public: String,
    code: ActivationCode,
    token: String,
    site: Site,
    file: PathBuf,
    workstation: Cli,
    _usb: tempfile::TempDir,
    _home: tempfile::TempDir,
}

fn licensed_production() -> Licensed {
    let (portal, vendor_public, code) = portal();
    portal.subscription(&code, vec![(EnvironmentType::Production, 1)]);
    let token = portal.token(&code, ALL);
    let site = Site::new("Production", EnvironmentType::Production, &vendor_public);
    let (_usb, file, _home, workstation) = carrier(&portal, &token);
    first_trip(&site, &file, &workstation, &portal.url, &code);
    Licensed { portal, vendor_public, code, token, site, file, workstation, _usb, _home }
}

/// An environment's first trip: its license request out, processed, its license in.
fn first_trip(site: &Site, file: &Path, workstation: &Cli, portal: &str, code: &ActivationCode) {
    site.ok(&["transfer", "export", p(file), "--request", "--activation-code", &code.to_string()]);
    workstation.ok(&["--portal", portal, "transfer", "process", p(file)]);
    site.ok(&["transfer", "import", p(file), "--yes"]);
}

#[test]
fn one_file_carries_three_environments_across_the_air_gap_and_back() {
    let (portal, vendor_public, code) = portal();
    portal.subscription(
        &code,
        vec![(EnvironmentType::Production, 1), (EnvironmentType::Quality, 1), (EnvironmentType::Development, 1)],
    );
    let token = portal.token(&code, ALL);
    let sites = [
        Site::new("Production EU", EnvironmentType::Production, &vendor_public),
        Site::new("Quality", EnvironmentType::Quality, &vendor_public),
        Site::new("Development", EnvironmentType::Development, &vendor_public),
    ];
    let usb = tempfile::tempdir().unwrap();
    let file = usb.path().join("site.transfer.zip");
    // The workstation: no configuration at all, only the portal and a token.
    let workstation_home = tempfile::tempdir().unwrap();
    let workstation =
        Cli::new(env!("CARGO_BIN_EXE_licensectl")).home(workstation_home.path()).token(&token, &portal.url);
    let process = || workstation.run(&["--portal", &portal.url, "transfer", "process", p(&file)]);

    // First trip: three requests, no license anywhere yet.
    for s in &sites {
        s.ok(&["transfer", "export", p(&file), "--request", "--activation-code", &code.to_string()]);
    }
    let shown: Value = serde_json::from_str(&workstation.ok(&["transfer", "show", p(&file), "--json"])).unwrap();
    assert_eq!(shown["environments"].as_array().unwrap().len(), 3);
    assert!(process().status.success());
    // Registered under the environments' own names from the file, not their host names.
    for name in ["Production EU", "Quality", "Development"] {
        assert_eq!(portal.count(&format!("SELECT COUNT(*) FROM slots WHERE name = '{name}'")), 1, "{name}");
    }
    for s in &sites {
        s.ok(&["transfer", "import", p(&file), "--yes"]);
        assert_eq!(s.json(&["status"])["installed"]["status"], "valid");
    }

    // Second trip: each has two audits waiting and asks for a renewal.
    for s in &sites {
        s.ok(&["audit", "generate"]);
        s.ok(&["audit", "generate"]);
        assert_eq!(s.outbox(), 2);
        s.ok(&["transfer", "export", p(&file), "--request"]);
    }
    let before: Vec<Vec<u8>> = sites.iter().map(Site::license).collect();
    // One 503, and one connection dropped after the portal committed an upload.
    portal.faults(vec![Fault::Status { status: 503, retry_after: None }, Fault::DropAfterCommit]);
    let o = process();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(portal.pending_faults(), 0, "both faults were hit");
    for (s, old) in sites.iter().zip(&before) {
        let out = s.ok(&["transfer", "import", p(&file), "--yes"]);
        assert!(out.contains("2 audits moved"), "{out}");
        assert_ne!(&s.license(), old, "the renewed license is installed");
        assert_eq!(s.backups(), 1, "the previous license was backed up first");
        assert_eq!(s.outbox(), 0, "every audit left the outbox");
        let history = s.json(&["audit", "history"]);
        let lines = history.as_array().unwrap();
        assert_eq!(lines.len(), 2);
        assert!(lines.iter().all(|l| l["receipt_verified"] == true && l["receipt"].as_str().is_some()), "{history}");
    }
    // Each audit exactly once on the portal, whatever the faults.
    assert_eq!(portal.count("SELECT COUNT(*) FROM audits"), 6);
    assert_eq!(portal.count("SELECT COUNT(DISTINCT audit_id) FROM audits WHERE status = 'verified'"), 6);

    // Again: nothing is sent, nothing changes.
    let bytes = std::fs::read(&file).unwrap();
    let licenses = portal.count("SELECT COUNT(*) FROM licenses");
    let o = process();
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("the file is unchanged"),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
    assert_eq!(std::fs::read(&file).unwrap(), bytes);
    assert_eq!(
        (portal.count("SELECT COUNT(*) FROM audits"), portal.count("SELECT COUNT(*) FROM licenses")),
        (6, licenses)
    );
    for s in &sites {
        let license = s.license();
        let out = s.ok(&["transfer", "import", p(&file), "--yes"]);
        assert!(out.contains("already installed"), "{out}");
        assert_eq!((s.license(), s.backups(), s.outbox()), (license, 1, 0));
    }
    // Exported to, processed and imported from many times: only the file is on the
    // stick (on Windows the empty lock file stays, hidden: docs/spec-choices.md).
    let on_stick: Vec<_> = std::fs::read_dir(file.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap())
        .filter(|e| !hidden_on_windows(&e.path()))
        .map(|e| e.file_name())
        .collect();
    assert_eq!(on_stick, [file.file_name().unwrap()], "no lock file stays beside it");
}

#[cfg(windows)]
fn hidden_on_windows(path: &Path) -> bool {
    use std::os::windows::fs::MetadataExt;
    const FILE_ATTRIBUTE_HIDDEN: u32 = 2;
    std::fs::metadata(path).unwrap().file_attributes() & FILE_ATTRIBUTE_HIDDEN != 0
}

#[cfg(not(windows))]
fn hidden_on_windows(_: &Path) -> bool {
    false
}

#[test]
fn a_workstation_reports_each_failed_item_and_goes_on() {
    let (portal, vendor_public, code) = portal();
    // Only one production slot: the second production environment cannot be registered.
    portal.subscription(&code, vec![(EnvironmentType::Production, 1)]);
    let token = portal.token(&code, ALL);
    let a = Site::new("Production A", EnvironmentType::Production, &vendor_public);
    let b = Site::new("Production B", EnvironmentType::Production, &vendor_public);
    let usb = tempfile::tempdir().unwrap();
    let file = usb.path().join("site.transfer.zip");
    for s in [&a, &b] {
        s.ok(&["transfer", "export", p(&file), "--request", "--activation-code", &code.to_string()]);
    }
    let home = tempfile::tempdir().unwrap();
    let o = Cli::new(env!("CARGO_BIN_EXE_licensectl")).home(home.path()).token(&token, &portal.url).run(&[
        "--portal",
        &portal.url,
        "transfer",
        "process",
        p(&file),
        "--json",
    ]);
    assert_eq!(o.status.code(), Some(2), "a failed item is an error exit");
    let report: Value = serde_json::from_slice(&o.stdout).unwrap();
    let states: Vec<&str> = report["items"].as_array().unwrap().iter().map(|i| i["state"].as_str().unwrap()).collect();
    assert_eq!(states.iter().filter(|s| **s == "done").count(), 1);
    let failed = report["items"].as_array().unwrap().iter().find(|i| i["state"] == "failed").unwrap();
    assert_eq!(failed["error"]["code"], "portal_no_free_slot", "{failed}");
    assert!(report["written"] == true, "the other environment's license was written");
}

/// Uploads an audit file straight to the portal with `token`, as any holder of a
/// token can (the attacker needs no License Manager of the victim's).
fn upload(portal: &TestPortal, token: &str, audit: &[u8]) -> license_core::portal::UploadResult {
    let url: license_core::PortalUrl = portal.url.parse().unwrap();
    let token = license_core::secrets::validate_token(token).unwrap();
    let client = license_core::portal::PortalClient::new(&url, Some(token), Default::default()).unwrap();
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(client.upload_audit(audit))
        .unwrap()
}

/// The victim's one waiting audit, as the transfer file carries it: (id, file bytes).
fn waiting_audit(file: &Path, serial: &license_core::SerialNumber) -> (uuid::Uuid, Vec<u8>) {
    let t = Transfer::read(file, None).unwrap();
    t.papers(serial).unwrap().audits.iter().next().map(|(k, v)| (*k, v.clone())).unwrap()
}

/// The forged proof of upload, end to end: an attacker with a token of another
/// subscription, or a lesser token of the victim's own, uploads an audit that
/// carries the victim's audit id and serial. The portal signs no receipt for a
/// serial the uploader's subscription does not hold, and a receipt it signs names
/// the content it received, so neither moves the victim's audit out of its outbox.
#[test]
fn a_forged_upload_never_proves_the_victims_audit() {
    let (portal, vendor_public, code) = portal();
    portal.subscription(&code, vec![(EnvironmentType::Production, 1)]);
    let attacker_code = ActivationCode::from_payload("ATTACKERSVBSCR1PT10N0000").unwrap();
    portal.subscription(&attacker_code, vec![(EnvironmentType::Production, 1)]);
    let token = portal.token(&code, ALL);
    let victim = Site::new("Production", EnvironmentType::Production, &vendor_public);
    let (_usb, file, _home, workstation) = carrier(&portal, &token);
    first_trip(&victim, &file, &workstation, &portal.url, &code);
    victim.ok(&["audit", "generate"]);
    victim.ok(&["transfer", "export", p(&file)]);
    let serial: license_core::SerialNumber =
        victim.json(&["serial"])["serial_number"].as_str().unwrap().parse().unwrap();
    let (audit_id, genuine) = waiting_audit(&file, &serial);
    let (audit, _) = Audit::open(&genuine).unwrap();
    let forge = |code: &ActivationCode| {
        let attacker = KeyPair::generate();
        Audit { activation_code: code.clone(), environment_key: attacker.public().to_base64url(), ..audit.clone() }
            .seal(&attacker)
    };

    // Another customer's token: rejected, and no receipt at all.
    let r = upload(&portal, &portal.token(&attacker_code, ALL), forge(&attacker_code).as_bytes());
    assert_eq!(r.status, license_core::payload::UploadStatus::Rejected);
    assert!(r.receipt.is_none(), "a receipt for a serial the uploader does not hold: {:?}", r.receipt);

    // An upload-only token of the victim's own subscription: a rejected receipt,
    // but one that names the forged content, which the environment will not apply.
    let r = upload(&portal, &portal.token(&code, &[Permission::UploadAudit]), forge(&code).as_bytes());
    assert_eq!(r.status, license_core::payload::UploadStatus::Rejected);
    let receipt = r.receipt.expect("a receipt for a serial of the uploader's subscription");
    let mut t = Transfer::read(&file, None).unwrap();
    t.papers_mut(&serial).unwrap().receipts.insert(audit_id, receipt.into_bytes());
    t.write(&file).unwrap();
    let out = victim.run(&["transfer", "import", p(&file), "--yes"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("not applied") && stderr.contains("other content"), "{stderr}");
    assert_eq!(victim.outbox(), 1, "the audit still waits for the portal");
    assert!(victim.json(&["audit", "history"]).as_array().unwrap().is_empty(), "nothing was recorded");

    // The genuine round trip still works, and its receipt names the audit's content.
    let mut t = Transfer::read(&file, None).unwrap();
    t.papers_mut(&serial).unwrap().receipts.clear();
    t.write(&file).unwrap();
    workstation.ok(&["--portal", &portal.url, "transfer", "process", p(&file)]);
    let t = Transfer::read(&file, None).unwrap();
    let receipt = &t.papers(&serial).unwrap().receipts[&audit_id];
    let env = license_core::document::Envelope::parse(license_core::DocumentKind::Receipt, receipt).unwrap();
    let parsed = license_core::payload::Receipt::from_json(env.payload()).unwrap();
    assert_eq!(
        parsed.audit_sha256,
        license_core::document::signed_sha256(license_core::DocumentKind::Audit, &genuine).unwrap()
    );
    victim.ok(&["transfer", "import", p(&file), "--yes"]);
    assert_eq!(victim.outbox(), 0);
    let history = victim.json(&["audit", "history"]);
    assert_eq!(history[0]["receipt_verified"], true, "{history}");
}

/// `transfer import` applies nothing before the administrator confirms: a license
/// that needs confirmation (here an older one, a downgrade), unconfirmed, leaves the
/// receipts unapplied too.
#[test]
fn an_unconfirmed_import_applies_no_receipt() {
    let vendor = KeyPair::generate();
    let signer = KeyPair::from_pem(&vendor.to_pem()).unwrap();
    let vendor_public = vendor.public().to_base64url();
    let portal = TestPortal::with_vendor(vendor);
    let code = ActivationCode::from_payload("TRANSFERTESTCQDE01234567").unwrap();
    portal.subscription(&code, vec![(EnvironmentType::Production, 1)]);
    let token = portal.token(&code, ALL);
    let site = Site::new("Production", EnvironmentType::Production, &vendor_public);
    let (_usb, file, _home, workstation) = carrier(&portal, &token);
    first_trip(&site, &file, &workstation, &portal.url, &code);
    site.ok(&["audit", "generate"]);
    site.ok(&["transfer", "export", p(&file)]);
    workstation.ok(&["--portal", &portal.url, "transfer", "process", p(&file)]);
    // Beside the receipt, a license issued a day before the installed one.
    let installed = site.license();
    let env = license_core::document::Envelope::parse(license_core::DocumentKind::License, &installed).unwrap();
    let old = License::from_json(env.payload()).unwrap();
    let older =
        License { license_id: uuid::Uuid::new_v4(), issued_at: old.issued_at - chrono::Duration::days(1), ..old };
    let serial = older.serial_number.clone();
    let mut t = Transfer::read(&file, None).unwrap();
    t.papers_mut(&serial).unwrap().license = Some(older.seal(&signer).into_bytes());
    t.write(&file).unwrap();

    let o = site.run(&["transfer", "import", p(&file)]);
    assert_eq!(o.status.code(), Some(3), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(String::from_utf8_lossy(&o.stderr).contains("receipts were not applied"));
    assert_eq!(site.outbox(), 1, "the receipt was not applied");
    assert_eq!(site.license(), installed, "the license was not installed");
    assert!(site.json(&["audit", "history"]).as_array().unwrap().is_empty());
    site.ok(&["transfer", "import", p(&file), "--yes"]);
    assert_eq!(site.outbox(), 0, "confirmed: the receipt moved the audit");
    assert_ne!(site.license(), installed);
}

/// `file`'s members plus `copies` more members named `name` (with `data`): written
/// under stand-in names of the same length, since ZIP writers refuse duplicates,
/// then renamed in the headers, as a hostile tool would.
fn with_copies(file: &Path, name: &str, data: &[u8], copies: usize) -> Vec<u8> {
    use std::io::{Read, Write};
    let bytes = std::fs::read(file).unwrap();
    let mut src = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    let mut z = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let o = zip::write::SimpleFileOptions::default();
    for i in 0..src.len() {
        let mut f = src.by_index(i).unwrap();
        let mut b = Vec::new();
        f.read_to_end(&mut b).unwrap();
        z.start_file(f.name().unwrap(), o).unwrap();
        z.write_all(&b).unwrap();
    }
    // '#' and digits: unique names, all found again in one pass.
    let stand_in = |i: usize| format!("#{:0>width$}", i, width = name.len() - 1);
    for i in 0..copies {
        z.start_file(stand_in(i), o).unwrap();
        z.write_all(data).unwrap();
    }
    let mut out = z.finish().unwrap().into_inner();
    let n = name.len();
    let mut i = 0;
    while i + n <= out.len() {
        if out[i] == b'#' && out[i + 1..i + n].iter().all(u8::is_ascii_digit) {
            out[i..i + n].copy_from_slice(name.as_bytes());
            i += n;
        } else {
            i += 1;
        }
    }
    out
}

/// A member twice (the ZIP library would fold the copies into one, and the last one
/// would win): refused by show, process and import alike, and nothing reaches the
/// portal. 5,001 copies are refused by their count before anything is parsed.
#[test]
fn an_archive_with_a_member_twice_is_refused_and_nothing_is_sent() {
    let (portal, vendor_public, code) = portal();
    portal.subscription(&code, vec![(EnvironmentType::Production, 1)]);
    let token = portal.token(&code, ALL);
    let site = Site::new("Production", EnvironmentType::Production, &vendor_public);
    let usb = tempfile::tempdir().unwrap();
    let good = usb.path().join("good.transfer.zip");
    site.ok(&["transfer", "export", p(&good), "--request", "--activation-code", &code.to_string()]);
    let home = tempfile::tempdir().unwrap();
    let workstation = Cli::new(env!("CARGO_BIN_EXE_licensectl")).home(home.path()).token(&token, &portal.url);
    let index = {
        let t = workstation.ok(&["transfer", "show", p(&good), "--json"]);
        assert!(t.contains("environments"));
        // A second index that lists nobody: were it the one read, the request would vanish.
        br#"{"format": 1, "environments": []}"#.to_vec()
    };
    for (copies, why) in [(1, "'transfer.json' appears twice"), (5001, "at most 1000 are allowed")] {
        let file = usb.path().join(format!("copies-{copies}.transfer.zip"));
        std::fs::write(&file, with_copies(&good, "transfer.json", &index, copies)).unwrap();
        for args in [vec!["transfer", "show", p(&file)], vec!["--portal", &portal.url, "transfer", "process", p(&file)]]
        {
            let o = workstation.run(&args);
            assert_eq!(o.status.code(), Some(2), "{args:?}");
            assert!(
                String::from_utf8_lossy(&o.stderr).contains(why),
                "{args:?}: {}",
                String::from_utf8_lossy(&o.stderr)
            );
        }
        let o = site.run(&["transfer", "import", p(&file)]);
        assert!(String::from_utf8_lossy(&o.stderr).contains(why), "{}", String::from_utf8_lossy(&o.stderr));
    }
    assert_eq!(portal.count("SELECT COUNT(*) FROM license_requests"), 0, "nothing reached the portal");
    assert_eq!(portal.count("SELECT COUNT(*) FROM licenses"), 0);
}

/// Two imports of the same file at once (an administrator double-clicks, or a
/// scheduled job runs beside a person): the environment's one lock serialises the
/// history's read-modify-write, so every receipt is recorded exactly once.
#[test]
fn two_imports_at_once_record_every_receipt_once() {
    let Licensed { portal, site, file, workstation, _usb, _home, .. } = licensed_production();
    for _ in 0..16 {
        site.ok(&["audit", "generate"]);
    }
    site.ok(&["transfer", "export", p(&file)]);
    workstation.ok(&["--portal", &portal.url, "transfer", "process", p(&file)]);
    for round in 0..3 {
        let children: Vec<_> = (0..2)
            .map(|_| site.cli().command(&site.with_config(&["transfer", "import", p(&file), "--yes"])).launch())
            .collect();
        for mut c in children {
            assert!(c.wait().unwrap().success(), "round {round}");
        }
        let history = site.json(&["audit", "history"]);
        let ids: std::collections::BTreeSet<_> =
            history.as_array().unwrap().iter().map(|l| l["audit_id"].as_str().unwrap().to_string()).collect();
        assert_eq!((history.as_array().unwrap().len(), ids.len()), (16, 16), "round {round}: {history}");
        assert_eq!(site.outbox(), 0);
    }
}

/// A second writer waits for the environment's lock (with a note) instead of
/// failing at once, and goes on when the first is done.
#[test]
fn a_second_writer_waits_for_the_lock_then_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let cli = Cli::new(env!("CARGO_BIN_EXE_licensectl")).home(dir.path());
    cli.ok(&["demo", p(&dir.path().join("demo"))]);
    let config = dir.path().join("demo/environment.toml");
    let state = license_core::environment::Config::read(&config).unwrap().state_dir();
    std::fs::create_dir_all(&state).unwrap();
    let lock = std::fs::File::create(state.join("lock")).unwrap();
    lock.lock().unwrap();
    let child = cli.command(&["--config", p(&config), "backup"]).stderr(std::process::Stdio::piped()).launch();
    std::thread::sleep(std::time::Duration::from_millis(1500));
    drop(lock);
    let o = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{stderr}");
    assert!(stderr.contains("waiting for another install, restore or upload"), "{stderr}");
    assert!(!stderr.contains('\x1b'), "no colour codes in a pipe: {stderr:?}");
}

/// An environment exported into the file while a workstation processes it (the
/// portal is slow) is kept: process merges what came back into the file as it is
/// at the end, under the file's lock.
#[test]
fn an_export_during_a_process_is_kept() {
    let (portal, vendor_public, code) = portal();
    portal.subscription(&code, vec![(EnvironmentType::Production, 1), (EnvironmentType::Quality, 1)]);
    let token = portal.token(&code, ALL);
    let a = Site::new("Production", EnvironmentType::Production, &vendor_public);
    let b = Site::new("Quality", EnvironmentType::Quality, &vendor_public);
    let usb = tempfile::tempdir().unwrap();
    let file = usb.path().join("site.transfer.zip");
    a.ok(&["transfer", "export", p(&file), "--request", "--activation-code", &code.to_string()]);
    portal.faults(vec![Fault::Delay { ms: 2000 }]);
    let home = tempfile::tempdir().unwrap();
    let workstation = Cli::new(env!("CARGO_BIN_EXE_licensectl")).home(home.path()).token(&token, &portal.url);
    let process = workstation.command(&["--portal", &portal.url, "transfer", "process", p(&file)]).launch();
    while portal.pending_faults() > 0 {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    // The portal holds A's request now; B is added meanwhile.
    b.ok(&["transfer", "export", p(&file), "--request", "--activation-code", &code.to_string()]);
    assert!(process.wait_with_output().unwrap().status.success());
    let shown: Value = serde_json::from_str(&workstation.ok(&["transfer", "show", p(&file), "--json"])).unwrap();
    let envs = shown["environments"].as_array().unwrap();
    assert_eq!(envs.len(), 2, "B's export was kept: {shown}");
    let by_name = |n: &str| envs.iter().find(|e| e["entry"]["name"] == n).unwrap().clone();
    assert_eq!(by_name("Production")["license"], true, "A's license came back: {shown}");
    assert_eq!(
        (by_name("Quality")["request"].clone(), by_name("Quality")["license"].clone()),
        (true.into(), false.into())
    );
    // The next run does B's request.
    workstation.ok(&["--portal", &portal.url, "transfer", "process", p(&file)]);
    b.ok(&["transfer", "import", p(&file), "--yes"]);
    assert_eq!(b.json(&["status"])["installed"]["status"], "valid");
}

/// Names in a transfer file are untrusted: `show` and `process` print them without
/// control characters, so a name cannot clear or rewrite the administrator's screen.
#[test]
fn untrusted_names_are_printed_without_control_characters() {
    let (portal, vendor_public, code) = portal();
    portal.subscription(&code, vec![(EnvironmentType::Production, 1)]);
    let token = portal.token(&code, ALL);
    let site = Site::new("Production", EnvironmentType::Production, &vendor_public);
    let usb = tempfile::tempdir().unwrap();
    let file = usb.path().join("site.transfer.zip");
    site.ok(&["transfer", "export", p(&file), "--request", "--activation-code", &code.to_string()]);
    let mut t = Transfer::read(&file, None).unwrap();
    t.environments[0].0.name = "Prod\x1b[2J\x1b[1;1HAll good\u{202e}".into();
    t.environments[0].0.hostname = "host\r\nforged line".into();
    t.write(&file).unwrap();
    let home = tempfile::tempdir().unwrap();
    let workstation = Cli::new(env!("CARGO_BIN_EXE_licensectl")).home(home.path()).token(&token, &portal.url);
    let shown = workstation.ok(&["transfer", "show", p(&file)]);
    assert!(shown.contains("Prod[2J[1;1HAll good on hostforged line"), "{shown:?}");
    let o = workstation.run(&["--portal", &portal.url, "transfer", "process", p(&file)]);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(!stderr.contains('\x1b') && !stderr.contains('\u{202e}') && !stderr.contains('\r'), "{stderr:?}");
    assert!(stderr.contains("Prod[2J"), "{stderr:?}");
}

/// `process` refuses up front, with the figure, a file whose answers would not fit
/// (every audit gets a receipt, every request a license): nothing is sent, and
/// export refuses to make such a file in the first place.
#[test]
fn a_file_whose_answers_would_not_fit_is_refused_before_anything_is_sent() {
    let Licensed { portal, vendor_public, code, site, file, workstation, _usb, _home, .. } = licensed_production();
    site.ok(&["audit", "generate"]);
    site.ok(&["transfer", "export", p(&file)]);
    // 600 audits of this environment, each signed by its own key, as a site that
    // carried its outbox for a long time would have.
    let key = KeyPair::read(&site.dir.path().join(".license-manager/environment.key")).unwrap();
    let mut t = Transfer::read(&file, None).unwrap();
    let papers = &mut t.environments[0].1;
    let (_, one) = papers.audits.iter().next().map(|(k, v)| (*k, v.clone())).unwrap();
    let (audit, _) = Audit::open(&one).unwrap();
    while papers.audits.len() < 600 {
        let id = uuid::Uuid::new_v4();
        papers.audits.insert(id, Audit { audit_id: id, ..audit.clone() }.seal(&key).into_bytes());
    }
    t.write(&file).unwrap();
    let before = std::fs::read(&file).unwrap();
    let o = workstation.run(&["--portal", &portal.url, "transfer", "process", p(&file), "--json"]);
    assert_eq!(o.status.code(), Some(2));
    let e: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(e["error"]["code"], "transfer_full", "{e}");
    assert!(e["error"]["message"].as_str().unwrap().contains("1201 members"), "{e}");
    assert_eq!(portal.count("SELECT COUNT(*) FROM audits"), 0, "nothing was sent");
    assert_eq!(std::fs::read(&file).unwrap(), before, "nothing was written");
    // Export: adding another environment to that file is refused the same way.
    let other = Site::new("Quality", EnvironmentType::Quality, &vendor_public);
    let o = other.run(&["transfer", "export", p(&file), "--request", "--activation-code", &code.to_string()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("second transfer file"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert_eq!(std::fs::read(&file).unwrap(), before);
}

/// A full license folder during `transfer import`: the space check comes before the
/// backup, the install and the receipts, so the import changes nothing, and once
/// there is room it completes.
// Linux only: the full folder is a real tmpfs (mount, as root; see `Tmpfs`).
#[cfg(target_os = "linux")]
#[test]
fn an_import_onto_a_full_license_folder_changes_nothing() {
    let Some(tmpfs) = license_test_support::Tmpfs::mount(256) else { return };
    let (portal, vendor_public, code) = portal();
    portal.subscription(&code, vec![(EnvironmentType::Production, 1)]);
    let token = portal.token(&code, ALL);
    let site = Site::new("Production", EnvironmentType::Production, &vendor_public);
    license_test_support::write_config(
        license_core::environment::Config::read(&site.config)
            .unwrap()
            .edit()
            .license_file(tmpfs.path().join("license.lic")),
        &site.config,
    );
    let (_usb, file, _home, workstation) = carrier(&portal, &token);
    first_trip(&site, &file, &workstation, &portal.url, &code);
    site.ok(&["audit", "generate"]);
    site.ok(&["transfer", "export", p(&file), "--request"]);
    workstation.ok(&["--portal", &portal.url, "transfer", "process", p(&file)]);
    let license = std::fs::read(tmpfs.path().join("license.lic")).unwrap();
    let backups = site.backups();
    tmpfs.fill_leaving(0);
    let o = site.run(&["transfer", "import", p(&file), "--yes", "--json"]);
    assert_eq!(o.status.code(), Some(2));
    let e: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(e["error"]["code"], "no_space", "{e}");
    assert_eq!(std::fs::read(tmpfs.path().join("license.lic")).unwrap(), license, "the license is untouched");
    assert_eq!((site.backups(), site.outbox()), (backups, 1), "no backup, no receipt applied");
    assert!(site.json(&["audit", "history"]).as_array().unwrap().is_empty());
    tmpfs.unfill();
    site.ok(&["transfer", "import", p(&file), "--yes"]);
    assert_ne!(std::fs::read(tmpfs.path().join("license.lic")).unwrap(), license);
    assert_eq!(site.outbox(), 0);
}

/// The portal keeps the whole subscription's uploads; an environment's history
/// shows only its own.
#[test]
fn an_environments_history_shows_only_its_own_audits() {
    let (portal, vendor_public, code) = portal();
    portal.subscription(&code, vec![(EnvironmentType::Production, 1), (EnvironmentType::Quality, 1)]);
    let token = portal.token(&code, ALL);
    let sites = [
        Site::new("Production", EnvironmentType::Production, &vendor_public),
        Site::new("Quality", EnvironmentType::Quality, &vendor_public),
    ];
    let (_usb, file, _home, workstation) = carrier(&portal, &token);
    for s in &sites {
        s.ok(&["transfer", "export", p(&file), "--request", "--activation-code", &code.to_string()]);
    }
    workstation.ok(&["--portal", &portal.url, "transfer", "process", p(&file)]);
    let mut own = Vec::new();
    for s in &sites {
        s.ok(&["transfer", "import", p(&file), "--yes"]);
        license_test_support::write_config(
            license_core::environment::Config::read(&s.config)
                .unwrap()
                .edit()
                .portal_url(Some(portal.url.parse().unwrap())),
            &s.config,
        );
        let online = s.cli().token(&token, &portal.url);
        let g: Value = serde_json::from_str(&online.ok(&s.with_config(&["audit", "generate", "--json"]))).unwrap();
        online.ok(&s.with_config(&["audit", "upload"]));
        own.push((online, g["audit"]["audit_id"].as_str().unwrap().to_string()));
    }
    assert_eq!(portal.count("SELECT COUNT(*) FROM audits"), 2);
    for ((online, audit_id), s) in own.iter().zip(&sites) {
        let history: Value = serde_json::from_str(&online.ok(&s.with_config(&["audit", "history", "--json"]))).unwrap();
        let ids: Vec<&str> = history.as_array().unwrap().iter().map(|l| l["audit_id"].as_str().unwrap()).collect();
        assert_eq!(ids, vec![audit_id.as_str()], "only its own audit: {history}");
        assert_eq!(history[0]["known_to_portal"], true, "the portal was asked: {history}");
    }
}

/// A slot freed while its license is still valid: the portal asks why it is reused.
/// The request fails with `portal_reason_required`, and the environment's audit is
/// held back, not burned (the portal would reject it for good); `--reason` on the
/// next run registers the serial, and the held audit goes through.
#[test]
fn a_reused_slot_needs_a_reason_and_holds_the_audit_until_given() {
    let Licensed { portal, code, token, site, file, workstation, _usb, _home, .. } = licensed_production();
    // The server is rebuilt: its slot is freed in the portal while its license is
    // still valid, and the new machine has a new serial.
    let old: license_core::SerialNumber = site.json(&["serial"])["serial_number"].as_str().unwrap().parse().unwrap();
    let client = license_core::portal::PortalClient::new(
        &portal.url.parse().unwrap(),
        Some(token.clone()),
        license_core::portal::ClientOptions::default(),
    )
    .unwrap();
    tokio::runtime::Runtime::new()
        .unwrap()
        .block_on(
            client.unregister(
                license_core::portal::FreeSlot::propose(code.clone(), old.clone(), None)
                    .confirm(&license_core::trust::CommandLine)
                    .unwrap(),
            ),
        )
        .unwrap();
    std::fs::write(site.dir.path().join("facts.txt"), format!("platform_uuid={}\n", uuid::Uuid::new_v4())).unwrap();
    let serial = site.json(&["serial"])["serial_number"].as_str().unwrap().to_string();
    site.ok(&["audit", "generate"]);
    site.ok(&["transfer", "export", p(&file), "--request", "--activation-code", &code.to_string()]);

    let o = workstation.run(&["--portal", &portal.url, "transfer", "process", p(&file), "--json"]);
    assert_eq!(o.status.code(), Some(2), "{}", String::from_utf8_lossy(&o.stderr));
    let report: Value = serde_json::from_slice(&o.stdout).unwrap();
    let item = |kind: &str| {
        let items = report["items"].as_array().unwrap();
        items.iter().find(|i| i["kind"] == kind && i["serial_number"] == serial.as_str()).unwrap().clone()
    };
    assert_eq!(item("request")["error"]["code"], "portal_reason_required", "{report}");
    assert_eq!(item("audit")["state"], "held", "{report}");
    assert_eq!(portal.count("SELECT COUNT(*) FROM audits"), 0, "the held audit was not sent");

    let refused = workstation.run(&["--portal", &portal.url, "transfer", "process", p(&file), "--reason", "rebuilt"]);
    assert_eq!(refused.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("SERIAL=TEXT"));

    let reason = format!("{serial}=the server was rebuilt");
    let o = workstation.run(&["--portal", &portal.url, "transfer", "process", p(&file), "--reason", &reason]);
    let out = String::from_utf8_lossy(&o.stdout);
    // Sent once, now that its serial is registered, and judged on its own: the
    // rebuilt server still runs the old machine's license, so the portal rejects
    // it, and the run says so (exit 2) with the next step.
    assert_eq!(o.status.code(), Some(2), "{out}");
    assert!(out.starts_with("2 done, 1 already done, 0 failed, 1 audit rejected by the portal;"), "{out}");
    assert!(out.contains("install the license the portal issued"), "{out}");
    assert_eq!(portal.count("SELECT COUNT(*) FROM audits"), 1);
}

/// "Prepare renewals" on the connected machine (issue 19): three environments whose
/// licenses expire in 20 days; before the subscription's renewal is booked the
/// portal has nothing newer and nothing is added; once it is, one file carries each
/// environment's renewal, to be imported Development first; back from the
/// environments, `transfer show` says which was renewed, staged or still waits. The
/// test clock (crash-points) reaches the renewal's start.
#[cfg(feature = "crash-points")]
#[test]
fn prepared_renewals_go_out_in_one_file_and_come_back_renewed_staged_or_waiting() {
    let (portal, vendor_public, code) = portal();
    portal.subscription(
        &code,
        vec![(EnvironmentType::Production, 1), (EnvironmentType::Quality, 1), (EnvironmentType::Development, 1)],
    );
    let now = chrono::Utc::now();
    let stamp = |t: chrono::DateTime<chrono::Utc>| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let expiry = now + chrono::Duration::days(20);
    portal.execute("UPDATE subscriptions SET expires_at = ?1", [stamp(expiry)]);
    let token = portal.token(&code, ALL);
    let sites = [
        Site::new("Production EU", EnvironmentType::Production, &vendor_public),
        Site::new("Quality", EnvironmentType::Quality, &vendor_public),
        Site::new("Development", EnvironmentType::Development, &vendor_public),
    ];
    let (_usb, file, _home, workstation) = carrier(&portal, &token);
    for s in &sites {
        first_trip(s, &file, &workstation, &portal.url, &code);
    }
    let renewals = tempfile::tempdir().unwrap();
    let renewal_file = renewals.path().join("renewals.transfer.zip");
    let prepare = |days: &str| {
        let args = ["--portal", &portal.url, "transfer", "prepare-renewals", p(&renewal_file), "--days", days];
        workstation.run(&[&args[..], &["--activation-code", &code.to_string()]].concat())
    };

    // Not due within 10 days; due within 30, but the portal has no renewal yet.
    let o = prepare("10");
    assert!(
        o.status.success()
            && String::from_utf8_lossy(&o.stdout).contains("no environment's license expires within 10 days")
    );
    let o = prepare("30");
    let said = String::from_utf8_lossy(&o.stdout).to_string();
    assert!(o.status.success(), "no renewal yet is no failure: {said}");
    assert_eq!(said.matches("nothing added: no renewal for").count(), 3, "{said}");
    assert!(!renewal_file.exists(), "nothing to carry: no file is written");

    // Times are whole seconds. A renewal is issued after the license it renews, and
    // an export within the second the renewal was sent cannot say it came after.
    let next_second = || std::thread::sleep(std::time::Duration::from_millis(1100));
    // The renewal is booked: a new term from the day before the old one ends.
    next_second();
    let starts = expiry - chrono::Duration::days(1);
    portal.execute(
        "UPDATE subscriptions SET starts_at = ?1, expires_at = ?2",
        [stamp(starts), stamp(expiry + chrono::Duration::days(365))],
    );
    let o = prepare("30");
    let said = String::from_utf8_lossy(&o.stdout).to_string();
    assert!(o.status.success(), "{said}");
    let lines: Vec<&str> = said.lines().collect();
    assert!(lines[0].starts_with("1. development Development"), "Development first: {said}");
    assert!(
        lines[1].starts_with("2. quality Quality") && lines[2].starts_with("3. production Production EU"),
        "{said}"
    );
    assert_eq!(said.matches("(it is staged when imported)").count(), 3, "{said}");
    let shown = workstation.ok(&["transfer", "show", p(&renewal_file)]);
    assert!(
        shown.contains(
            "Import order: Development (development), then Quality (quality), then Production EU (production)"
        ),
        "{shown}"
    );
    assert_eq!(shown.matches("renewal: waiting").count(), 3, "{shown}");
    next_second();

    // Development imports (staged), reaches the start (installed), and exports;
    // Quality imports (staged) and exports; Production does nothing yet.
    let at = stamp(starts + chrono::Duration::minutes(1));
    let (production, quality, development) = (&sites[0], &sites[1], &sites[2]);
    let dev_at = |args: &[&str]| {
        let o = development.cli().env("LICENSE_MANAGER_TEST_NOW", at.clone()).run(&development.with_config(args));
        assert!(o.status.success(), "{args:?}: {}", String::from_utf8_lossy(&o.stderr));
    };
    for s in [development, quality] {
        let o = s.run(&["transfer", "import", p(&renewal_file), "--yes"]);
        let (out, notes) = (String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr));
        assert!(out.contains("takes effect"), "staged: {out}");
        assert!(notes.contains("import it on Development (development"), "each environment is told the order: {notes}");
    }
    dev_at(&["check"]);
    // "Renewed" needs a paper Development signed: an audit naming the new license.
    dev_at(&["audit", "generate"]);
    dev_at(&["transfer", "export", p(&renewal_file)]);
    quality.ok(&["transfer", "export", p(&renewal_file)]);
    let before = production.license();

    let shown = workstation.ok(&["transfer", "show", p(&renewal_file)]);
    // The state is on the line after the environment's.
    let block = |name: &str| {
        let lines: Vec<&str> = shown.lines().collect();
        let at = lines.iter().position(|l| l.contains(&format!(" {name} on "))).expect(name);
        lines.get(at + 1).copied().unwrap_or("").to_string()
    };
    assert!(block("Development").contains("renewal: renewed"), "{shown}");
    assert!(block("Quality").contains(&format!("renewal: staged, takes effect {}", stamp(starts))), "{shown}");
    assert!(block("Production EU").contains("renewal: waiting"), "{shown}");
    assert_eq!(production.license(), before, "nothing changed where nothing was imported");
    let json: Value = serde_json::from_str(&workstation.ok(&["transfer", "show", p(&renewal_file), "--json"])).unwrap();
    let states: Vec<&str> =
        json["environments"].as_array().unwrap().iter().map(|e| e["renewal"]["state"].as_str().unwrap()).collect();
    assert_eq!(states.len(), 3, "{json}");
    assert!(states.contains(&"renewed") && states.contains(&"staged") && states.contains(&"waiting"), "{json}");

    // transfer.json is not signed: an entry edited to name Production's renewal,
    // with no audit Production signed, still reads "waiting" (issue 31).
    let mut t = Transfer::read(&renewal_file, None).unwrap();
    let (entry, papers) = t.environments.iter_mut().find(|(e, _)| e.name == "Production EU").unwrap();
    let sent = License::from_json(
        license_core::document::Envelope::parse(license_core::DocumentKind::License, papers.license.as_ref().unwrap())
            .unwrap()
            .payload(),
    )
    .unwrap();
    entry.license_id = Some(sent.license_id);
    entry.hostname = "edited".into();
    entry.exported_at = chrono::Utc::now() + chrono::Duration::days(30);
    t.write(&renewal_file).unwrap();
    let shown = workstation.ok(&["transfer", "show", p(&renewal_file)]);
    let lines: Vec<&str> = shown.lines().collect();
    let at = lines.iter().position(|l| l.contains(" Production EU on ")).expect("Production EU");
    assert!(lines.get(at + 1).is_some_and(|l| l.contains("renewal: waiting")), "{shown}");
}

/// One wrong answer spoils nothing else: a portal that sends, for one environment,
/// a license of another serial has that answer left out and named, and the other
/// environments' renewals still go into the file (issue 31).
#[test]
fn prepare_renewals_leaves_out_only_a_wrong_answer() {
    use license_core::serial::serial_from_facts_text;
    let code = ActivationCode::from_payload("TRANSFERTESTCQDE01234567").unwrap();
    let (right, wrong, stranger) = (
        serial_from_facts_text("platform_uuid=right\n"),
        serial_from_facts_text("platform_uuid=wrong\n"),
        serial_from_facts_text("platform_uuid=stranger\n"),
    );
    let now = chrono::Utc::now();
    let stamp = |t: chrono::DateTime<chrono::Utc>| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let (expiring, renewed) = (stamp(now + chrono::Duration::days(10)), now + chrono::Duration::days(375));
    let vendor = KeyPair::generate();
    let license_for = |serial: &license_core::SerialNumber| {
        let mut l = License::sample(serial);
        l.activation_code = code.clone();
        l.issued_at = now;
        l.not_before = now;
        l.expires_at = Some(renewed);
        l.seal(&vendor)
    };
    let slot = |serial: &license_core::SerialNumber, t: &str| {
        serde_json::json!({"environment_type": t, "serial_number": serial.to_string(), "name": format!("{t} site"),
                           "license_expires_at": expiring})
    };
    let subscription = serde_json::json!({"activation_code": code.to_string(), "customer": "Example Corp",
        "entitlements": {"named_users": 1, "application_objects": 1, "environments": 2, "support_level": "standard", "features": []},
        "expires_at": null, "slots": [slot(&right, "production"), slot(&wrong, "quality")]})
    .to_string();
    let (right_path, wrong_path) = (format!("/environments/{right}/license"), format!("/environments/{wrong}/license"));
    let (good, bad) = (license_for(&right), license_for(&stranger));
    let portal = Capture::start(move |head| {
        let (kind, body) = if head.contains(&right_path) {
            ("application/x-license-file", good.clone())
        } else if head.contains(&wrong_path) {
            ("application/x-license-file", bad.clone())
        } else {
            ("application/json", subscription.clone())
        };
        format!(
            "HTTP/1.1 200 OK\r\nContent-Type: {kind}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
        .into_bytes()
    });
    let home = tempfile::tempdir().unwrap();
    let file = home.path().join("renewals.transfer.zip");
    let workstation = Cli::new(env!("CARGO_BIN_EXE_licensectl")).home(home.path()).token("lmp_t", &portal.url);
    let args = ["--portal", &portal.url, "transfer", "prepare-renewals", p(&file), "--days", "30"];
    let o = workstation.run(&[&args[..], &["--activation-code", &code.to_string()]].concat());
    let said = format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr));
    assert_eq!(o.status.code(), Some(2), "a wrong answer is a failure to report: {said}");
    assert!(
        said.contains(&format!("asked for the license of {wrong}")) && said.contains(&stranger.to_string()),
        "{said}"
    );
    let t = Transfer::read(&file, None).unwrap();
    assert!(t.papers(&right).is_some_and(|p| p.license.is_some()), "one wrong answer spoils nothing else");
    assert!(t.papers(&wrong).is_none() && t.papers(&stranger).is_none(), "the wrong one is not");
}

/// An environment with 600 audits waiting (months offline, or an audit each hour)
/// could not export at all: a file holds 1,000 members, and each audit needs room for
/// its receipt (issue 32). The oldest that fit travel, the export says how many wait,
/// and the next trip carries the rest: every audit reaches the portal once.
#[test]
fn six_hundred_waiting_audits_travel_oldest_first_over_two_trips() {
    let l = licensed_production();
    let env = license_core::Environment::open(&l.site.config).unwrap();
    let ends: std::collections::HashMap<uuid::Uuid, _> =
        (0..600).map(|_| env.generate_audit().unwrap().audit).map(|a| (a.audit_id, a.period_end)).collect();
    let first = l.site.json(&["transfer", "export", p(&l.file)]);
    let (carried, waiting) =
        (first["audits"].as_u64().unwrap() as usize, first["audits_waiting"].as_u64().unwrap() as usize);
    assert_eq!(carried + waiting, 600, "{first}");
    assert!(waiting > 0 && carried > 400, "{first}");
    let in_file = Transfer::read(&l.file, None).unwrap();
    let ids: Vec<uuid::Uuid> = in_file.environments[0].1.audits.keys().copied().collect();
    // Periods are signed to the second.
    let newest_carried = ids.iter().map(|id| ends[id].timestamp()).max().unwrap();
    let oldest_left = ends.iter().filter(|(id, _)| !ids.contains(id)).map(|(_, end)| end.timestamp()).min().unwrap();
    assert!(newest_carried <= oldest_left, "the oldest travel first: {newest_carried} carried, {oldest_left} left");
    l.workstation.ok(&["--portal", &l.portal.url, "transfer", "process", p(&l.file)]);
    l.site.ok(&["transfer", "import", p(&l.file), "--yes"]);
    assert_eq!(l.site.outbox(), waiting);

    let text = l.site.ok(&["transfer", "export", p(&l.file)]);
    assert!(!text.contains("wait in the outbox"), "{text}");
    l.workstation.ok(&["--portal", &l.portal.url, "transfer", "process", p(&l.file)]);
    l.site.ok(&["transfer", "import", p(&l.file), "--yes"]);
    assert_eq!(l.site.outbox(), 0);
    assert_eq!(l.portal.count("SELECT COUNT(*) FROM audits WHERE status = 'verified'"), 600);
}

/// An environment whose expiry the workstation does not know (registered, but the
/// portal lists no license for it and the file holds no export) is named as
/// "expiry unknown", never taken for "nothing to prepare"; with nothing added the
/// file is not written, and the closing line says so (issue 33).
#[test]
fn prepare_renewals_names_each_environment_whose_expiry_is_unknown() {
    let (portal, _, code) = portal();
    portal.subscription(&code, vec![(EnvironmentType::Production, 1), (EnvironmentType::Quality, 1)]);
    let serial = license_core::serial::serial_from_facts_text("platform_uuid=quality-never-licensed\n");
    portal.execute(
        "UPDATE slots SET serial_number = ?1, name = 'Quality EU' WHERE environment_type = 'quality'",
        [serial.to_string()],
    );
    let token = portal.token(&code, ALL);
    let (_usb, file, _home, workstation) = carrier(&portal, &token);
    let args =
        ["--portal", &portal.url, "transfer", "prepare-renewals", p(&file), "--activation-code", &code.to_string()];
    let said = workstation.ok(&args);
    assert!(said.contains(&format!("Quality EU ({serial}), expiry unknown: nothing added")), "{said}");
    assert!(said.contains(&format!("no license was added; {} is unchanged", file.display())), "{said}");
    assert!(!file.exists(), "nothing to carry, no file");
    let json: Value = serde_json::from_str(&workstation.ok(&[&args[..], &["--json"]].concat())).unwrap();
    assert_eq!(json[0]["expires_at"], Value::Null, "{json}");
    assert_eq!(json[0]["problem"]["code"], "expiry_unknown", "{json}");
}

/// An audit the portal rejects is a problem on both sides of the air gap: the
/// workstation's run fails and names the portal's reason and the next step, again
/// on a second run, and once its receipt is imported `status` and `check` say the
/// same.
#[test]
fn a_rejected_audit_is_a_problem_on_both_sides_of_the_air_gap() {
    let l = licensed_production();
    // The portal no longer holds the license installed here as issued to this serial.
    l.portal.execute("DELETE FROM licenses", []);
    l.site.ok(&["audit", "generate"]);
    l.site.ok(&["transfer", "export", p(&l.file)]);
    for run in ["first", "second"] {
        let o = l.workstation.run(&["--portal", &l.portal.url, "transfer", "process", p(&l.file)]);
        let said = String::from_utf8_lossy(&o.stdout);
        assert_eq!(o.status.code(), Some(2), "{run} run: a rejected audit is not a success: {said}");
        assert!(said.contains("1 audit rejected by the portal"), "{run} run: {said}");
        assert!(said.contains("was not issued to serial"), "{run} run: {said}");
        assert!(said.contains("install the license the portal issued for this serial number"), "{run} run: {said}");
    }
    assert_eq!(l.portal.count("SELECT COUNT(*) FROM audits"), 1, "sent once");
    l.site.ok(&["transfer", "import", p(&l.file), "--yes"]);
    assert!(l.site.ok(&["status"]).contains("Last audit:    rejected by the portal"));
    let said = String::from_utf8_lossy(&l.site.run(&["check"]).stdout).into_owned();
    assert!(said.contains("the portal rejected the last audit") && said.contains("was not issued to serial"), "{said}");
}

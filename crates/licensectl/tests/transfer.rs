//! The air gap, for a whole infrastructure: three environments (production, quality,
//! development, each with its own serial from a facts file) put their papers into one
//! transfer file; a connected workstation with no configuration processes it against
//! the real portal on loopback, with faults; each environment takes back its license
//! and receipts. Twice, to prove a second run changes nothing.

use license_core::environment::config::{Usage, UsageSource};
use license_core::environment::Config;
use license_core::{ActivationCode, EnvironmentType, KeyPair};
use license_portal::faults::Fault;
use license_test_support::{Cli, TestPortal, ALL};
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
        Config::new(name, t, "license.lic", "backups")
            .facts_file(Some("facts.txt".into()))
            .vendor_keys(vec![vendor_public.to_string()])
            .usage(Some(Usage::new(UsageSource::File("usage.json".into()))))
            .write(&config)
            .unwrap();
        Site { dir, config }
    }

    fn cli(&self) -> Cli {
        Cli::new(env!("CARGO_BIN_EXE_licensectl")).home(self.dir.path())
    }

    fn ok(&self, args: &[&str]) -> String {
        let mut all = vec!["--config", self.config.to_str().unwrap()];
        all.extend_from_slice(args);
        self.cli().ok(&all)
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
        assert!(out.contains("2 audit(s) moved"), "{out}");
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

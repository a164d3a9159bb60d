//! The reference portal as tests and benchmarks start it: on an ephemeral loopback
//! port, in a database of its own, with subscriptions and tokens made directly.
//! Part of the portal crate (not test-support) so that the portal's own benchmarks
//! and tests need no crate that depends on the portal.

use crate::admin::{create_subscription, NewSubscription};
use crate::faults::{Applies, Fault};
use crate::permission::Permission;
use crate::{db, Portal};
use chrono::{Duration, Utc};
use license_core::environment::audits::LocalUpload;
use license_core::payload::Entitlements;
use license_core::portal::{ClientOptions, PortalClient, Registration};
use license_core::timestamp::format as stamp;
use license_core::{ActivationCode, Environment, EnvironmentType, InstallOptions, KeyPair, SerialNumber};
use std::path::Path;
use std::sync::Arc;
use uuid::Uuid;

/// The reference portal on an ephemeral loopback port, with fault injection on.
pub struct TestPortal {
    pub url: String,
    pub portal: Arc<Portal>,
    _dir: tempfile::TempDir,
}

impl TestPortal {
    /// Signs licenses and receipts with the vendor key in `vendor_key` (PKCS#8 PEM).
    pub fn start(vendor_key: &Path) -> TestPortal {
        Self::with_vendor(KeyPair::read(vendor_key).expect("vendor key"))
    }

    pub fn with_vendor(vendor: KeyPair) -> TestPortal {
        let dir = tempfile::tempdir().expect("temp dir");
        let conn = db::open(&dir.path().join("portal.db")).expect("portal database");
        let (url, portal) = crate::spawn_background(conn, vendor, true);
        TestPortal { url, portal, _dir: dir }
    }

    /// A subscription with the given slots; its contacts are `admin@<code>.example`.
    pub fn subscription(&self, code: &ActivationCode, slots: Vec<(EnvironmentType, u32)>) {
        create_subscription(
            &mut self.portal.db(),
            &NewSubscription {
                activation_code: code.clone(),
                customer: "Demo Corp".into(),
                entitlements: Entitlements {
                    named_users: 200,
                    application_objects: 800,
                    environments: 3,
                    support_level: "premium".into(),
                    // A superset of the demo license's features: a license from
                    // this portal gives the demo environment no less.
                    features: vec!["sso".into(), "audit-log".into()],
                },
                contacts: vec![format!("admin@{}.example", code.compact().to_ascii_lowercase())],
                expires_at: Some("2099-01-01T00:00:00Z".into()),
                slots,
            },
        )
        .expect("create subscription");
    }

    pub fn token(&self, code: &ActivationCode, perms: &[Permission]) -> String {
        db::create_token(&self.portal.db(), &code.to_string(), perms).expect("create token")
    }

    /// Scripted faults for the next POST requests.
    pub fn faults(&self, f: Vec<Fault>) {
        self.portal.faults.as_ref().expect("faults enabled").push(Applies::Post, f);
    }

    /// Scripted faults for the next GET requests (a license download).
    pub fn get_faults(&self, f: Vec<Fault>) {
        self.portal.faults.as_ref().expect("faults enabled").push(Applies::Get, f);
    }

    /// Changes the portal's records as its administrators would (a renewed term, a
    /// slot of another type), e.g. `UPDATE subscriptions SET starts_at = ...`.
    pub fn execute(&self, sql: &str, params: impl rusqlite::Params) {
        self.portal.db().execute(sql, params).expect("portal update");
    }

    pub fn pending_faults(&self) -> usize {
        self.portal.faults.as_ref().expect("faults enabled").pending()
    }

    /// `n` verified uploads of `serial` in `code`'s history, a day apart, the newest
    /// yesterday: what years of audits leave in the database, written directly
    /// (each as large as a real one's record). Returns their upload ids, newest first.
    pub fn seed_uploads(&self, code: &ActivationCode, serial: &SerialNumber, n: usize) -> Vec<Uuid> {
        let mut db = self.portal.db();
        let tx = db.transaction().expect("transaction");
        let now = Utc::now();
        let mut ids = Vec::with_capacity(n);
        for day in 1..=n {
            let at = now - Duration::days(day as i64);
            let id = Uuid::new_v4();
            let summary = serde_json::json!({
                "audit_id": Uuid::new_v4(), "period_start": stamp(&(at - Duration::days(30))), "period_end": stamp(&at),
                "consumption": {"named_users": 120, "application_objects": 640, "servers": 3},
            });
            tx.execute(
                "INSERT INTO audits (upload_id, idempotency_key, activation_code, serial_number, audit_id, status,
                   response, summary, received_at, uploader)
                 VALUES (?1, ?2, ?3, ?4, ?5, 'verified', ?6, ?7, ?8, ?3)",
                rusqlite::params![
                    id.to_string(),
                    license_core::sha256_hex(id.as_bytes()),
                    code.to_string(),
                    serial.to_string(),
                    summary["audit_id"].as_str(),
                    serde_json::json!({"upload_id": id, "status": "verified", "reasons": []}).to_string(),
                    summary.to_string(),
                    stamp(&at),
                ],
            )
            .expect("seed upload");
            ids.push(id);
        }
        tx.commit().expect("commit");
        ids
    }

    /// Fills `n` free production slots of `code` with environments that each hold a
    /// license (environment `i`'s expires in `i + 1` days) and have uploaded one
    /// audit: a large infrastructure, written directly. Returns their serials.
    pub fn seed_environments(&self, code: &ActivationCode, n: usize) -> Vec<SerialNumber> {
        let serials: Vec<SerialNumber> = (0..n)
            .map(|i| license_core::serial::serial_from_facts_text(&format!("platform_uuid=seeded-{code}-{i}\n")))
            .collect();
        let mut db = self.portal.db();
        let tx = db.transaction().expect("transaction");
        let now = Utc::now();
        for (i, serial) in serials.iter().enumerate() {
            let slot: i64 = tx
                .query_row(
                    "SELECT id FROM slots WHERE activation_code = ?1 AND environment_type = 'production'
                       AND serial_number IS NULL ORDER BY id LIMIT 1",
                    [code.to_string()],
                    |r| r.get(0),
                )
                .expect("a free production slot");
            tx.execute(
                "UPDATE slots SET serial_number = ?1, name = ?2 WHERE id = ?3",
                rusqlite::params![serial.to_string(), format!("Environment {i}"), slot],
            )
            .expect("seed slot");
            tx.execute(
                "INSERT INTO licenses (license_id, serial_number, activation_code, issued_at, slot_id, expires_at, not_before)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?4)",
                rusqlite::params![
                    Uuid::new_v4().to_string(),
                    serial.to_string(),
                    code.to_string(),
                    stamp(&(now - Duration::days(365))),
                    slot,
                    stamp(&(now + Duration::days(i as i64 + 1))),
                ],
            )
            .expect("seed license");
        }
        tx.commit().expect("commit");
        drop(db);
        for serial in &serials {
            self.seed_uploads(code, serial, 1);
        }
        serials
    }

    /// A single number from SQL, e.g. `SELECT COUNT(*) FROM audits`.
    pub fn count(&self, sql: &str) -> i64 {
        self.portal.db().query_row(sql, [], |r| r.get(0)).expect("count query")
    }
}

/// A demo environment in `dir`, its subscription on a new portal (signing with the
/// demo's vendor key), registered and licensed by it: the environment, the portal
/// and a client with every permission.
pub fn licensed_demo(rt: &tokio::runtime::Runtime, dir: &Path) -> (Environment, TestPortal, PortalClient) {
    let env = Environment::open(&license_core::demo::create(dir).expect("demo")).expect("demo environment");
    let code = env.installed_activation_code().expect("a demo license");
    let portal = TestPortal::start(&dir.join("vendor.key"));
    portal.subscription(&code, vec![(EnvironmentType::Production, 1)]);
    let token = portal.token(&code, &Permission::ALL);
    let client = PortalClient::new(&portal.url.parse().expect("url"), Some(token), ClientOptions::default())
        .expect("portal client");
    let reg = Registration {
        serial_number: env.serial().expect("serial").serial_number,
        environment_type: EnvironmentType::Production,
        name: "bench".into(),
        environment_key: Some(env.environment_key().expect("environment key")),
        reason: None,
    };
    rt.block_on(client.register(&code, &reg)).expect("register");
    let lic = rt.block_on(client.download_license(&reg.serial_number)).expect("license");
    env.install(lic.as_bytes(), InstallOptions { confirmed: true }, &mut |_| {}).expect("install");
    (env, portal, client)
}

/// `n` earlier verified uploads of `serial`, an hour apart and ending an hour ago,
/// as years of audits leave them in an environment's upload history.
pub fn earlier_uploads(serial: &SerialNumber, n: usize) -> Vec<LocalUpload> {
    let now = Utc::now();
    (0..n as i64)
        .map(|i| LocalUpload {
            upload_id: Uuid::new_v4(),
            audit_id: Some(Uuid::new_v4()),
            serial_number: Some(serial.clone()),
            status: license_core::payload::UploadStatus::Verified,
            reasons: vec![],
            received_at: now - Duration::hours(n as i64 - i),
            sha256: "0".repeat(64),
            audit_sha256: Some("0".repeat(64)),
            receipt: Some("x".repeat(900)),
            period_end: Some(now - Duration::hours(n as i64 - i + 1)),
        })
        .collect()
}

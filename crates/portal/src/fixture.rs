//! The reference portal as tests and benchmarks start it: on an ephemeral loopback
//! port, in a database of its own, with subscriptions and tokens made directly.
//! Part of the portal crate (not test-support) so that the portal's own benchmarks
//! and tests need no crate that depends on the portal.

use crate::admin::{create_subscription, NewSubscription};
use crate::faults::{Applies, Fault};
use crate::permission::Permission;
use crate::{db, Portal};
use license_core::payload::Entitlements;
use license_core::{ActivationCode, EnvironmentType, KeyPair};
use std::path::Path;
use std::sync::Arc;

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

    /// A single number from SQL, e.g. `SELECT COUNT(*) FROM audits`.
    pub fn count(&self, sql: &str) -> i64 {
        self.portal.db().query_row(sql, [], |r| r.get(0)).expect("count query")
    }
}

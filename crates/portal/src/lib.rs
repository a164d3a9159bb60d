//! The reference portal server (portal API v1, `shared/spec/portal-api.md`): what
//! License Manager talks to in tests and in the demo. axum over SQLite.

pub mod admin;
pub mod api;
pub mod db;
pub mod faults;
pub mod fixture;
pub mod permission;
pub mod problem;
pub mod uploads;

use std::sync::{Arc, Mutex};

pub use api::{Portal, OPENAPI};

impl Portal {
    pub fn new(db: rusqlite::Connection, vendor: license_core::KeyPair, faults: bool) -> Arc<Self> {
        Arc::new(Portal { db: Mutex::new(db), vendor, faults: faults.then(faults::Faults::default) })
    }
}

/// Serves until the listener fails or the task is dropped.
pub async fn serve(listener: tokio::net::TcpListener, portal: Arc<Portal>) -> std::io::Result<()> {
    axum::serve(listener, api::router(portal)).await
}

/// Starts a portal on an ephemeral loopback port in a background thread (tests and
/// embedding); returns its base URL and the shared state for administration.
pub fn spawn_background(
    db: rusqlite::Connection,
    vendor: license_core::KeyPair,
    faults: bool,
) -> (String, Arc<Portal>) {
    let portal = Portal::new(db, vendor, faults);
    let served = portal.clone();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Runtime::new().expect("tokio runtime");
        rt.block_on(async move {
            let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind loopback");
            tx.send(l.local_addr().expect("address")).expect("report address");
            serve(l, served).await.expect("serve");
        });
    });
    let addr = rx.recv().expect("portal started");
    (format!("http://{addr}"), portal)
}

//! The portal's SQLite database. Migrations are numbered and applied in order;
//! `PRAGMA user_version` records how far a database has come.

use crate::permission::Permission;
use rusqlite::{params, Connection, OptionalExtension};

const MIGRATIONS: &[&str] = &[
    // 1: subscriptions, slots, tokens, issued licenses, audits, license sends.
    "CREATE TABLE subscriptions (
        activation_code TEXT PRIMARY KEY,
        customer TEXT NOT NULL,
        entitlements TEXT NOT NULL,
        contacts TEXT NOT NULL,
        expires_at TEXT
     );
     CREATE TABLE slots (
        id INTEGER PRIMARY KEY,
        activation_code TEXT NOT NULL REFERENCES subscriptions(activation_code),
        environment_type TEXT NOT NULL,
        serial_number TEXT UNIQUE,
        name TEXT,
        environment_key TEXT
     );
     CREATE TABLE tokens (
        token_sha256 TEXT PRIMARY KEY,
        activation_code TEXT NOT NULL REFERENCES subscriptions(activation_code),
        permissions TEXT NOT NULL
     );
     CREATE TABLE licenses (
        license_id TEXT PRIMARY KEY,
        serial_number TEXT NOT NULL,
        activation_code TEXT NOT NULL,
        issued_at TEXT NOT NULL
     );
     CREATE TABLE audits (
        upload_id TEXT PRIMARY KEY,
        idempotency_key TEXT NOT NULL UNIQUE,
        activation_code TEXT,
        serial_number TEXT,
        audit_id TEXT,
        status TEXT NOT NULL,
        response TEXT NOT NULL,
        summary TEXT NOT NULL,
        received_at TEXT NOT NULL
     );
     CREATE TABLE license_sends (
        id INTEGER PRIMARY KEY,
        serial_number TEXT NOT NULL,
        contacts TEXT NOT NULL,
        sent_at TEXT NOT NULL
     );",
    // 2: answers are kept per uploading subscription (so another subscription's token
    // cannot replay a body to read them); license sends are idempotent; the same
    // license request file yields the same license.
    "ALTER TABLE audits ADD COLUMN uploader TEXT NOT NULL DEFAULT '';
     UPDATE audits SET uploader = COALESCE(activation_code, '');
     ALTER TABLE audits RENAME TO audits_v1;
     -- (the copy keeps the columns, not their NOT NULLs: the handler writes every one)
     CREATE TABLE audits AS SELECT * FROM audits_v1 WHERE 0;
     CREATE UNIQUE INDEX audits_upload_id ON audits (upload_id);
     CREATE UNIQUE INDEX audits_idempotency ON audits (uploader, idempotency_key);
     INSERT INTO audits SELECT * FROM audits_v1;
     DROP TABLE audits_v1;
     ALTER TABLE license_sends ADD COLUMN activation_code TEXT;
     ALTER TABLE license_sends ADD COLUMN idempotency_key TEXT;
     ALTER TABLE license_sends ADD COLUMN response TEXT;
     CREATE UNIQUE INDEX license_sends_key ON license_sends (activation_code, idempotency_key);
     CREATE TABLE license_requests (
        activation_code TEXT NOT NULL,
        request_sha256 TEXT NOT NULL,
        request_id TEXT NOT NULL,
        license TEXT NOT NULL,
        PRIMARY KEY (activation_code, request_sha256)
     );",
    // 3: serials are unique per subscription, not across them (another subscription's
    // serial is none of this one's business, and its existence must not show);
    // licenses remember their slot, terms and file (the same terms give the same
    // license) and when a freed slot revoked them; slot events keep the reasons.
    "CREATE TABLE slots_v3 (
        id INTEGER PRIMARY KEY,
        activation_code TEXT NOT NULL REFERENCES subscriptions(activation_code),
        environment_type TEXT NOT NULL,
        serial_number TEXT,
        name TEXT,
        environment_key TEXT,
        UNIQUE (activation_code, serial_number)
     );
     INSERT INTO slots_v3 SELECT id, activation_code, environment_type, serial_number, name, environment_key FROM slots;
     DROP TABLE slots;
     ALTER TABLE slots_v3 RENAME TO slots;
     ALTER TABLE licenses ADD COLUMN slot_id INTEGER;
     ALTER TABLE licenses ADD COLUMN terms_sha256 TEXT;
     ALTER TABLE licenses ADD COLUMN file TEXT;
     ALTER TABLE licenses ADD COLUMN expires_at TEXT;
     ALTER TABLE licenses ADD COLUMN revoked_at TEXT;
     CREATE TABLE slot_events (
        id INTEGER PRIMARY KEY,
        slot_id INTEGER NOT NULL,
        activation_code TEXT NOT NULL,
        serial_number TEXT NOT NULL,
        event TEXT NOT NULL,
        reason TEXT,
        at TEXT NOT NULL
     );",
    // A renewed term: licenses issued for it start at `starts_at`, not on the day.
    "ALTER TABLE subscriptions ADD COLUMN starts_at TEXT;",
    // When each license starts, so a workstation can draw its term.
    "ALTER TABLE licenses ADD COLUMN not_before TEXT;",
    // 6: every read of a subscription, a serial or a page of history is an index
    // lookup, so its cost does not grow with the subscription's other environments
    // or with its history (1,000 environments' table took 2.2 s without them).
    "CREATE INDEX licenses_by_serial ON licenses (activation_code, serial_number, issued_at);
     CREATE INDEX audits_by_code ON audits (activation_code, received_at);
     CREATE INDEX audits_by_serial ON audits (activation_code, serial_number, received_at);
     CREATE INDEX audits_by_uploader ON audits (uploader, serial_number, received_at);
     CREATE INDEX slot_events_by_code ON slot_events (activation_code, at);
     CREATE INDEX license_sends_by_serial ON license_sends (serial_number, sent_at);",
];

pub fn open(path: &std::path::Path) -> rusqlite::Result<Connection> {
    let mut c = Connection::open(path)?;
    c.pragma_update(None, "journal_mode", "WAL")?;
    c.pragma_update(None, "foreign_keys", "ON")?;
    migrate(&mut c)?;
    Ok(c)
}

pub fn migrate(c: &mut Connection) -> rusqlite::Result<()> {
    let version: usize = c.pragma_query_value(None, "user_version", |r| r.get(0))?;
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(version) {
        let tx = c.transaction()?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", i + 1)?;
        tx.commit()?;
    }
    Ok(())
}

pub fn token_hash(token: &str) -> String {
    license_core::sha256_hex(token.as_bytes())
}

/// A new random token; only its hash is stored.
pub fn create_token(c: &Connection, activation_code: &str, permissions: &[Permission]) -> rusqlite::Result<String> {
    let mut raw = [0u8; 24];
    rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut raw);
    let token = format!("lmp_{}", raw.iter().map(|b| format!("{b:02x}")).collect::<String>());
    c.execute(
        "INSERT INTO tokens (token_sha256, activation_code, permissions) VALUES (?1, ?2, ?3)",
        params![
            token_hash(&token),
            activation_code,
            permissions.iter().map(|p| p.as_str()).collect::<Vec<_>>().join(",")
        ],
    )?;
    Ok(token)
}

pub struct TokenGrant {
    pub activation_code: String,
    pub permissions: Vec<Permission>,
}

pub fn find_token(c: &Connection, token: &str) -> rusqlite::Result<Option<TokenGrant>> {
    c.query_row("SELECT activation_code, permissions FROM tokens WHERE token_sha256 = ?1", [token_hash(token)], |r| {
        let perms: String = r.get(1)?;
        Ok(TokenGrant {
            activation_code: r.get(0)?,
            permissions: perms.split(',').filter_map(Permission::parse).collect(),
        })
    })
    .optional()
}

#[cfg(test)]
mod tests {
    #[test]
    fn migrations_are_idempotent() {
        let mut c = rusqlite::Connection::open_in_memory().unwrap();
        super::migrate(&mut c).unwrap();
        super::migrate(&mut c).unwrap();
        let v: usize = c.pragma_query_value(None, "user_version", |r| r.get(0)).unwrap();
        assert_eq!(v, super::MIGRATIONS.len());
    }
}

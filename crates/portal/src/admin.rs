//! Administration of the reference portal: subscriptions with slots, tokens, and a
//! license issued elsewhere adopted as its own (the demo's).

use license_core::payload::{Entitlements, License};
use license_core::{ActivationCode, EnvironmentType};
use rusqlite::{params, Connection, OptionalExtension};

pub struct NewSubscription {
    pub activation_code: ActivationCode,
    pub customer: String,
    pub entitlements: Entitlements,
    pub contacts: Vec<String>,
    pub expires_at: Option<String>,
    /// Slots per environment type.
    pub slots: Vec<(EnvironmentType, u32)>,
}

pub fn create_subscription(c: &mut Connection, s: &NewSubscription) -> rusqlite::Result<()> {
    let tx = c.transaction()?;
    tx.execute(
        "INSERT INTO subscriptions (activation_code, customer, entitlements, contacts, expires_at) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![
            s.activation_code.to_string(),
            s.customer,
            serde_json::to_string(&s.entitlements).expect("json"),
            serde_json::to_string(&s.contacts).expect("json"),
            s.expires_at
        ],
    )?;
    for (t, n) in &s.slots {
        for _ in 0..*n {
            tx.execute(
                "INSERT INTO slots (activation_code, environment_type) VALUES (?1, ?2)",
                params![s.activation_code.to_string(), t.as_str()],
            )?;
        }
    }
    tx.commit()
}

/// Records a license issued outside this portal (the demo's, made by `licensectl
/// demo` with the same vendor key) as one it issued, its serial registered under
/// `name` in a slot of its type: so the portal verifies that environment's audits
/// instead of rejecting them as "not issued to serial". Nothing else changes.
pub fn adopt_license(c: &mut Connection, license: &License, name: &str) -> Result<(), String> {
    let (code, serial) = (license.activation_code.to_string(), license.serial_number.to_string());
    let tx = c.transaction().map_err(|e| e.to_string())?;
    let held: Option<i64> = tx
        .query_row("SELECT id FROM slots WHERE activation_code = ?1 AND serial_number = ?2", [&code, &serial], |r| {
            r.get(0)
        })
        .optional()
        .map_err(|e| e.to_string())?;
    let slot = match held {
        Some(id) => id,
        None => tx
            .query_row(
                "SELECT id FROM slots WHERE activation_code = ?1 AND environment_type = ?2 AND serial_number IS NULL
                 ORDER BY id LIMIT 1",
                [&code, license.environment_type.as_str()],
                |r| r.get(0),
            )
            .optional()
            .map_err(|e| e.to_string())?
            .ok_or_else(|| format!("subscription {code} has no free {} slot for {serial}", license.environment_type))?,
    };
    tx.execute("UPDATE slots SET serial_number = ?1, name = ?2 WHERE id = ?3", params![serial, name, slot])
        .map_err(|e| e.to_string())?;
    tx.execute(
        "INSERT OR IGNORE INTO licenses (license_id, serial_number, activation_code, issued_at, slot_id, expires_at, not_before)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![
            license.license_id.to_string(),
            serial,
            code,
            license_core::timestamp::format(&license.issued_at),
            slot,
            license.expires_at.as_ref().map(license_core::timestamp::format),
            license_core::timestamp::format(&license.not_before)
        ],
    )
    .map_err(|e| e.to_string())?;
    tx.commit().map_err(|e| e.to_string())
}

//! Administration of the reference portal: subscriptions with slots, and tokens.

use license_core::payload::Entitlements;
use license_core::{ActivationCode, EnvironmentType};
use rusqlite::{params, Connection};

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

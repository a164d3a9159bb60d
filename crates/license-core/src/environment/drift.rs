//! Serial drift: why this environment's serial number no longer matches its license.
//!
//! At each install the environment remembers a digest of each fact that made the
//! serial number (never the raw values: a platform UUID is an identifier worth
//! keeping off backups and support bundles). When the serial changes, comparing the
//! digests says which fact changed, in words an administrator can act on.

use super::Environment;
use crate::error::Error;
use crate::fs;
use crate::payload::License;
use crate::serial::{FactState, HostFacts};
use crate::timestamp::{self, Timestamp};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

const FILE: &str = "serial-facts.json";
const DOMAIN: &[u8] = b"license-manager/serial-fact/v1";

/// What is remembered at install: the license, and the facts that made its serial.
#[derive(Debug, Serialize, Deserialize)]
struct Record {
    license_id: uuid::Uuid,
    serial_number: String,
    #[serde(with = "timestamp")]
    recorded_at: Timestamp,
    /// Fact name → SHA-256 of the domain, the name and the value the serial used.
    facts: BTreeMap<String, String>,
}

fn digest(key: &str, value: &str) -> String {
    crate::digest::sha256_hex(&[DOMAIN, b"\0", key.as_bytes(), b"\0", value.as_bytes()].concat())
}

/// What is remembered of `facts`: a digest of each fact the serial number uses.
fn digests(facts: &HostFacts) -> BTreeMap<String, String> {
    facts.usable().0.iter().map(|(k, v)| (k.clone(), digest(k, v))).collect()
}

#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
/// How one fact differs from when the license was installed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Change {
    /// Used then and now, with another value.
    Changed,
    /// Used then; now present but a placeholder value, so left out.
    BecamePlaceholder,
    /// Used then; now not there at all.
    Disappeared,
    /// Not used then; used now.
    Appeared,
}

#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FactChange {
    pub fact: String,
    pub change: Change,
    /// The change in the CLI's words, with its likely cause. Not in the TypeScript
    /// type: the UI words `fact` and `change` itself (`driftWords`).
    #[cfg_attr(feature = "ts", ts(skip))]
    pub text: String,
}

#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
/// The comparison `licensectl serial --explain`, `status`, `check` and the overview show.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Drift {
    /// False when nothing was remembered for the installed license (installed by an
    /// older version, by hand, or on another machine).
    pub recorded: bool,
    pub changes: Vec<FactChange>,
    /// One sentence for the CLI: the first change, or why no fact can be named.
    /// Not in the TypeScript type, like `FactChange::text`.
    #[cfg_attr(feature = "ts", ts(skip))]
    pub summary: String,
}

fn fact_name(key: &str) -> String {
    match key {
        "platform_uuid" => "the platform UUID".into(),
        "machine_id" => "the machine-id".into(),
        other => format!("the fact {other}"),
    }
}

fn words(key: &str, change: Change) -> String {
    let name = fact_name(key);
    match (key, change) {
        ("platform_uuid", Change::Changed) => {
            format!("{name} changed since this license was installed: the machine was probably moved or recreated")
        }
        ("machine_id", Change::Changed) => format!(
            "{name} changed since this license was installed: the operating system was probably reinstalled, or the machine cloned"
        ),
        (_, Change::Changed) => format!("{name} changed since this license was installed"),
        ("platform_uuid", Change::BecamePlaceholder) => format!(
            "{name} is now a placeholder value, so it no longer counts: the hypervisor or firmware stopped reporting the machine's UUID (common after a virtual machine was moved or converted)"
        ),
        (_, Change::BecamePlaceholder) => format!("{name} is now empty or a placeholder value, so it no longer counts"),
        (_, Change::Disappeared) => format!(
            "{name} can no longer be read (it was used when this license was installed): check that the service reads it with the same rights as before"
        ),
        ("platform_uuid", Change::Appeared) => format!(
            "{name} can now be read and takes the place of the machine-id: the service probably runs with more rights than before, or the firmware now reports it"
        ),
        (_, Change::Appeared) => format!("{name} is now used, and was not when this license was installed"),
    }
}

/// Compares the facts remembered at install with today's.
fn compare(then: &BTreeMap<String, String>, now: &HostFacts) -> Vec<FactChange> {
    let (used, notes) = now.usable();
    let mut changes = Vec::new();
    let mut push =
        |fact: &str, change| changes.push(FactChange { fact: fact.to_string(), change, text: words(fact, change) });
    for (key, was) in then {
        match used.get(key) {
            Some(v) if digest(key, v) == *was => {}
            Some(_) => push(key, Change::Changed),
            None => match notes.iter().find(|n| n.key == *key).map(|n| n.state) {
                Some(FactState::Placeholder) => push(key, Change::BecamePlaceholder),
                // Left out because a better fact appeared: that one is the change.
                Some(FactState::Superseded) => {}
                _ => push(key, Change::Disappeared),
            },
        }
    }
    for key in used.keys().filter(|k| !then.contains_key(*k)) {
        push(key, Change::Appeared);
    }
    changes
}

impl Environment {
    /// The facts the serial number is made from, and where they were read.
    pub fn facts(&self) -> Result<(HostFacts, String), Error> {
        match &self.config.facts_file {
            Some(f) => Ok((HostFacts::read(f)?, f.display().to_string())),
            None => Ok((crate::serial::host_facts(), crate::serial::HOST_SOURCE.to_string())),
        }
    }

    /// Remembers the digests of the facts that made this environment's serial, for
    /// `license` (called after each install; the demo calls it for its own license).
    pub fn remember_serial_facts(&self, license: &License) -> Result<(), Error> {
        let (facts, _) = self.facts()?;
        let record = Record {
            license_id: license.license_id,
            serial_number: license.serial_number.to_string(),
            recorded_at: chrono::Utc::now(),
            facts: digests(&facts),
        };
        let path = self.config.state_dir().join(FILE);
        fs::replace(&path, &serde_json::to_vec_pretty(&record).expect("json"), "serial facts")
    }

    /// Why the serial no longer matches the installed license; `None` when it matches
    /// (or nothing is installed, or the serial cannot be worked out).
    pub fn serial_drift(&self) -> Option<Drift> {
        let license = self.installed().ok()?;
        let (facts, _) = self.facts().ok()?;
        self.drift_for(&license, &facts)
    }

    /// [`Environment::serial_drift`] for a license and facts already read (the
    /// overview has both).
    pub fn drift_for(&self, license: &License, facts: &HostFacts) -> Option<Drift> {
        if facts.serial_number().ok()? == license.serial_number {
            return None;
        }
        let record: Option<Record> =
            fs::read_capped(&self.config.state_dir().join(FILE), crate::kind::MAX_FILE_BYTES, fs::Links::Refuse)
                .ok()
                .and_then(|b| serde_json::from_slice(&b).ok())
                .filter(|r: &Record| r.license_id == license.license_id);
        let Some(record) = record else {
            return Some(Drift {
                recorded: false,
                changes: Vec::new(),
                summary: "the serial number differs from the license's, and no record of the facts from when it was installed exists (it was installed by an older version, by hand, or on another machine)".into(),
            });
        };
        let changes = compare(&record.facts, facts);
        let summary = match changes.first() {
            Some(c) => c.text.clone(),
            None => "the facts are the same as when this license was installed: the license file was made for another environment".into(),
        };
        Some(Drift { recorded: true, changes, summary })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const UUID_A: &str = "4c4c4544-0042-3510-8052-b4c04f4e3232";
    const UUID_B: &str = "9d2a1f3e-77aa-4c1e-9b2d-3f1e5a6b7c8d";
    const MID_A: &str = "0f3c9a7e2b1d4e5f8a6b7c8d9e0f1a2b";
    const MID_B: &str = "7e6d5c4b3a291807f6e5d4c3b2a19080";

    fn facts(text: &str) -> HostFacts {
        HostFacts::parse(text, "test").unwrap()
    }

    fn remembered(text: &str) -> BTreeMap<String, String> {
        digests(&facts(text))
    }

    fn only(changes: Vec<FactChange>) -> (String, Change, String) {
        assert_eq!(changes.len(), 1, "{changes:?}");
        let c = changes.into_iter().next().unwrap();
        (c.fact, c.change, c.text)
    }

    #[test]
    fn a_changed_platform_uuid_is_named_with_its_likely_cause() {
        let then = remembered(&format!("platform_uuid={UUID_A}\nmachine_id={MID_A}\n"));
        let (fact, change, text) =
            only(compare(&then, &facts(&format!("platform_uuid={UUID_B}\nmachine_id={MID_A}\n"))));
        assert_eq!((fact.as_str(), change), ("platform_uuid", Change::Changed));
        assert_eq!(
            text,
            "the platform UUID changed since this license was installed: the machine was probably moved or recreated"
        );
    }

    #[test]
    fn a_changed_machine_id_is_named() {
        let then = remembered(&format!("machine_id={MID_A}\n"));
        let (fact, change, text) = only(compare(&then, &facts(&format!("machine_id={MID_B}\n"))));
        assert_eq!((fact.as_str(), change), ("machine_id", Change::Changed));
        assert!(text.starts_with("the machine-id changed") && text.contains("reinstalled"), "{text}");
    }

    #[test]
    fn a_placeholder_uuid_that_appeared_is_named_not_the_fallback() {
        let then = remembered(&format!("platform_uuid={UUID_A}\nmachine_id={MID_A}\n"));
        let now = facts(&format!("platform_uuid=03000200-0400-0500-0006-000700080009\nmachine_id={MID_A}\n"));
        let changes = compare(&then, &now);
        // The placeholder is the cause; machine_id now being used follows from it.
        assert_eq!(changes[0].change, Change::BecamePlaceholder);
        assert!(changes[0].text.contains("placeholder"), "{}", changes[0].text);
        assert_eq!(
            changes[1],
            FactChange {
                fact: "machine_id".into(),
                change: Change::Appeared,
                text: words("machine_id", Change::Appeared)
            }
        );
    }

    #[test]
    fn a_uuid_that_became_readable_supersedes_the_machine_id() {
        let then = remembered(&format!("machine_id={MID_A}\n"));
        let (fact, change, _) = only(compare(&then, &facts(&format!("platform_uuid={UUID_A}\nmachine_id={MID_A}\n"))));
        assert_eq!((fact.as_str(), change), ("platform_uuid", Change::Appeared));
    }

    #[test]
    fn the_same_facts_give_no_change_and_the_record_holds_no_raw_value() {
        let text = format!("platform_uuid={UUID_A}\nmachine_id={MID_A}\n");
        let then = remembered(&text);
        assert!(compare(&then, &facts(&text)).is_empty());
        let json = serde_json::to_string(&then).unwrap();
        assert!(!json.contains(UUID_A) && !json.contains(MID_A), "{json}");
    }
}

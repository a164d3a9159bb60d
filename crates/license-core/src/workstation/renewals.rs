//! Renewals across the infrastructure, on the connected workstation: which
//! environments' licenses expire within N days, one transfer file carrying the
//! portal's license for each ("Prepare renewals"), and, once each environment's
//! export comes back, whether it was renewed, staged or still waits.
//!
//! The transfer file has no field for a staged renewal (spec "Transfer file"; we
//! write only its fields), so the workstation keeps its own record beside its
//! configuration (`renewals.json`): each license it put in a file, and the latest
//! export it has seen of each environment. From the two:
//! - renewed: the environment's export names the license sent;
//! - staged: it exported after the license was sent, the license starts after
//!   that export, and the export names another license (importing a license that
//!   starts later stages it);
//! - waiting: no export since, or one that does not name it although it has started.
//!
//! Invariants:
//! - The portal is only read from here: downloading a serial's license gives the
//!   current one (the portal issues one only when the subscription's terms changed).
//! - The record is derived: a damaged one reads as empty, and losing it loses only
//!   these states, never a license (the licenses are in the file and at the portal).

use crate::activation::ActivationCode;
use crate::document::Envelope;
use crate::error::Error;
use crate::fs;
use crate::kind::DocumentKind;
use crate::payload::{EnvironmentType, License, Payload, SelfSigned};
use crate::portal::{PortalClient, Slot, Subscription};
use crate::serial::SerialNumber;
use crate::timestamp::{self, Timestamp};
use crate::transfer::{Transfer, TransferEntry};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use uuid::Uuid;

/// Days before expiry from which "Prepare renewals" takes an environment.
pub const PREPARE_WITHIN_DAYS: i64 = 60;
/// How far ahead "Prepare renewals" may look: a license is issued for a year.
pub const PREPARE_DAYS: std::ops::RangeInclusive<i64> = 1..=365;
pub const RECORD_FILE: &str = "renewals.json";
/// Entries kept per list: far more environments than a subscription has.
const KEEP: usize = 1000;

/// The workstation's renewal record, beside `workstation.toml`.
pub fn record_path(workstation_config: &Path) -> PathBuf {
    workstation_config.parent().unwrap_or(Path::new(".")).join(RECORD_FILE)
}

/// A license the workstation put in a transfer file for an environment.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SentLicense {
    pub serial_number: SerialNumber,
    pub license_id: Uuid,
    #[serde(with = "timestamp")]
    #[cfg_attr(feature = "ts", ts(type = "string"))]
    pub not_before: Timestamp,
    #[serde(with = "timestamp::option")]
    #[cfg_attr(feature = "ts", ts(type = "string | null"))]
    pub expires_at: Option<Timestamp>,
    #[serde(with = "timestamp")]
    #[cfg_attr(feature = "ts", ts(type = "string"))]
    pub sent_at: Timestamp,
    /// The expiry of the license it renews (what made it due).
    #[serde(default, with = "timestamp::option")]
    #[cfg_attr(feature = "ts", ts(type = "string | null"))]
    pub renews_expiry: Option<Timestamp>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
struct Record {
    sent: Vec<SentLicense>,
    /// The latest export seen of each environment (its `transfer.json` entry).
    exports: Vec<TransferEntry>,
    /// What each environment signed about the license it runs: the newest audit
    /// seen, under the key first seen for it. `transfer.json` is not signed, so an
    /// edited entry proves nothing; only these say "renewed".
    #[serde(default)]
    signed: Vec<SignedInstall>,
}

/// An audit the environment signed, naming the license it had installed.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct SignedInstall {
    serial_number: SerialNumber,
    license_id: Uuid,
    #[serde(with = "timestamp")]
    generated_at: Timestamp,
    /// The environment key (base64url) it was signed with.
    key: String,
}

impl Record {
    fn load(path: &Path) -> Record {
        fs::read_derived(path, "renewal record")
    }

    fn save(&mut self, path: &Path) -> Result<(), Error> {
        let cut = |n: usize| n.saturating_sub(KEEP);
        self.sent.drain(..cut(self.sent.len()));
        self.exports.drain(..cut(self.exports.len()));
        if let Some(dir) = path.parent() {
            fs::ensure_dir(dir)?;
        }
        fs::replace(path, &serde_json::to_vec_pretty(self).expect("json"), "renewals")
    }

    fn sent_to(&self, serial: &SerialNumber) -> Option<&SentLicense> {
        self.sent.iter().rev().find(|s| &s.serial_number == serial)
    }

    fn export_of(&self, serial: &SerialNumber) -> Option<&TransferEntry> {
        self.exports.iter().find(|e| &e.serial_number == serial)
    }

    fn signed_by(&self, serial: &SerialNumber) -> Option<&SignedInstall> {
        self.signed.iter().find(|s| &s.serial_number == serial)
    }

    /// Takes the newest audit among `audits` (each already verified under its own
    /// key when the file was read) whose key is the one first seen for `serial`.
    /// `true` when it changed what is known.
    fn see_audits(&mut self, serial: &SerialNumber, audits: &[Vec<u8>]) -> bool {
        let pinned = self.signed_by(serial).map(|s| s.key.clone());
        let newest = audits
            .iter()
            .filter_map(|a| crate::payload::Audit::open(a).ok())
            .filter(|(a, key)| &a.serial_number == serial && pinned.as_ref().is_none_or(|p| p == &key.to_base64url()))
            .max_by_key(|(a, _)| a.generated_at);
        let Some((audit, key)) = newest else { return false };
        if self.signed_by(serial).is_some_and(|s| s.generated_at >= audit.generated_at) {
            return false;
        }
        self.signed.retain(|s| &s.serial_number != serial);
        let key = key.to_base64url();
        self.signed.push(SignedInstall {
            serial_number: serial.clone(),
            license_id: audit.license_id,
            generated_at: audit.generated_at,
            key,
        });
        true
    }
}

/// Remembers each environment's export in `transfer` (newer than the one seen
/// before), so its renewal state can be told. The entry the workstation wrote
/// itself for an environment new to the file is no export: it has no hostname, no
/// license, and the time the license was sent. (Telling it by time alone, "not
/// after what was sent", ignored for good an export made within the same second.)
pub fn observe(record: &Path, transfer: &Transfer) -> Result<(), Error> {
    let mut r = Record::load(record);
    let mut changed = false;
    for (entry, papers) in &transfer.environments {
        let audits: Vec<Vec<u8>> = papers.audits.values().cloned().collect();
        changed |= r.see_audits(&entry.serial_number, &audits);
        let ours = r.sent_to(&entry.serial_number).is_some_and(|s| written_by_workstation(entry, s));
        let seen = r.export_of(&entry.serial_number).map(|e| e.exported_at);
        if ours || seen.is_some_and(|t| t >= entry.exported_at) {
            continue;
        }
        r.exports.retain(|e| e.serial_number != entry.serial_number);
        r.exports.push(entry.clone());
        changed = true;
    }
    if changed {
        r.save(record)?;
    }
    Ok(())
}

/// The entry [`prepare`] writes for an environment the file did not hold yet.
pub(crate) fn written_by_workstation(entry: &TransferEntry, sent: &SentLicense) -> bool {
    entry.hostname.is_empty() && entry.license_id.is_none() && entry.exported_at == sent.sent_at
}

/// What became of a license sent to an environment.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RenewalState {
    /// An audit it signed names the license sent: installed.
    Renewed,
    /// It exported after the license was sent, before the license starts: staged there.
    Staged,
    /// No export since the license was sent, or none that proves the license installed.
    Waiting,
}

/// Times are whole seconds (spec "Transfer file"), so an export within the second
/// the license was sent may have come before its import: that one says waiting
/// until the next export (the strict reading; ARCHITECTURE, spec-silent choices).
///
/// "Renewed" needs a paper the environment signed: an audit naming the license
/// sent. What `transfer.json` says alone is unsigned, so it never makes one.
fn state_of(sent: &SentLicense, export: Option<&TransferEntry>, signed: Option<&SignedInstall>) -> RenewalState {
    if signed.is_some_and(|s| s.license_id == sent.license_id) {
        return RenewalState::Renewed;
    }
    match export {
        Some(e) if e.exported_at > sent.sent_at && sent.not_before > e.exported_at => RenewalState::Staged,
        _ => RenewalState::Waiting,
    }
}

/// A license's term, as far as it is known (a start the portal does not say is None).
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Term {
    pub license_id: Option<Uuid>,
    #[serde(with = "timestamp::option")]
    #[cfg_attr(feature = "ts", ts(type = "string | null"))]
    pub starts: Option<Timestamp>,
    #[serde(with = "timestamp::option")]
    #[cfg_attr(feature = "ts", ts(type = "string | null"))]
    pub ends: Option<Timestamp>,
}

/// One environment on the infrastructure timeline.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Clone, Debug, Serialize)]
pub struct TimelineRow {
    pub serial_number: SerialNumber,
    pub name: String,
    pub environment_type: EnvironmentType,
    /// The license it runs on now, as far as the workstation knows.
    pub current: Option<Term>,
    /// A license that starts later: sent to it (with its state), or issued at the portal.
    pub next: Option<Term>,
    /// What became of the license the workstation sent it, if it sent one.
    pub renewal: Option<RenewalState>,
    #[serde(with = "timestamp::option")]
    #[cfg_attr(feature = "ts", ts(type = "string | null"))]
    pub last_audit_at: Option<Timestamp>,
}

/// Every registered environment of `sub`, in import order (Development first).
pub fn timeline(sub: &Subscription, record: &Path, now: Timestamp) -> Vec<TimelineRow> {
    let r = Record::load(record);
    let mut rows: Vec<TimelineRow> = sub
        .slots
        .iter()
        .filter_map(|slot| {
            let serial = slot.serial_number.clone()?;
            let seen = Seen { sent: r.sent_to(&serial), export: r.export_of(&serial), signed: r.signed_by(&serial) };
            Some(row(slot, serial, seen, now))
        })
        .collect();
    rows.sort_by_key(|r| r.environment_type.import_rank());
    rows
}

/// What the workstation's record knows of one environment.
struct Seen<'a> {
    sent: Option<&'a SentLicense>,
    export: Option<&'a TransferEntry>,
    signed: Option<&'a SignedInstall>,
}

fn row(slot: &Slot, serial: SerialNumber, seen: Seen<'_>, now: Timestamp) -> TimelineRow {
    let Seen { sent, export, signed } = seen;
    // What is not known stays unknown (no term), never a license without an end:
    // a slot with no license issued, an export that named none.
    let issued = slot.license_id.map(|id| Term {
        license_id: Some(id),
        starts: slot.license_not_before,
        ends: slot.license_expires_at,
    });
    let started = |t: &Term| t.starts.is_none_or(|s| s <= now);
    let renewal = sent.map(|s| state_of(s, export, signed));
    let sent_term =
        sent.map(|s| Term { license_id: Some(s.license_id), starts: Some(s.not_before), ends: s.expires_at });
    let exported = export.filter(|e| e.license_id.is_some()).map(|e| Term {
        license_id: e.license_id,
        starts: None,
        ends: e.expires_at,
    });
    // Before any export came back, the license it renews is known by its expiry.
    let renewed = sent.map(|s| Term { license_id: None, starts: None, ends: s.renews_expiry });
    let (current, next) = match (renewal, sent_term) {
        (Some(RenewalState::Renewed), Some(t)) => (Some(t), None),
        (Some(_), Some(t)) if !started(&t) => (exported.or(issued.filter(started)).or(renewed), Some(t)),
        (Some(_), Some(_)) => (exported, None),
        _ => match issued {
            Some(i) if started(&i) => (Some(i), None),
            i => (exported, i),
        },
    };
    TimelineRow {
        serial_number: serial,
        name: slot.name.clone().unwrap_or_default(),
        environment_type: slot.environment_type,
        current,
        next,
        renewal,
        last_audit_at: slot.last_audit_at,
    }
}

/// What "Prepare renewals" did for one environment.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Clone, Debug, Serialize)]
pub struct PreparedRenewal {
    pub serial_number: SerialNumber,
    pub name: String,
    pub environment_type: EnvironmentType,
    /// The expiry that made it due; none when it is not known (the portal lists no
    /// license for it and the file holds no export of it).
    #[serde(with = "timestamp::option")]
    #[cfg_attr(feature = "ts", ts(type = "string | null"))]
    pub expires_at: Option<Timestamp>,
    /// The license put in the file for it, if there is one.
    pub license: Option<SentLicense>,
    /// Why none was: the portal has nothing newer yet, or answered with an error.
    pub problem: Option<crate::error::ErrorView>,
}

/// The environments whose license expires within `within_days` of `now`, in import
/// order, with each one's expiry: the portal's word for the license issued last,
/// else the expiry its last export (seen in `existing`) named. A registered
/// environment whose expiry neither says is listed too, with none: unknown is not
/// "not due".
pub fn due<'a>(
    sub: &'a Subscription,
    existing: Option<&Transfer>,
    within_days: i64,
    now: Timestamp,
) -> Vec<(&'a Slot, SerialNumber, Option<Timestamp>)> {
    // Looked up, not searched: the cost follows the subscription's size once.
    let exported: std::collections::HashMap<&SerialNumber, &TransferEntry> =
        existing.map(|t| t.environments.iter().map(|(e, _)| (&e.serial_number, e)).collect()).unwrap_or_default();
    let mut due: Vec<_> = sub
        .slots
        .iter()
        .filter_map(|slot| {
            let serial = slot.serial_number.clone()?;
            let export = exported.get(&serial);
            match slot.license_expires_at.or_else(|| export.and_then(|e| e.expires_at)) {
                Some(expires) => {
                    (expires - now <= chrono::Duration::days(within_days)).then_some((slot, serial, Some(expires)))
                }
                // A license known without an end (perpetual) is never due; one not
                // known at all is listed as unknown, as the timeline draws it.
                None if slot.license_id.is_some() || export.is_some_and(|e| e.license_id.is_some()) => None,
                None => Some((slot, serial, None)),
            }
        })
        .collect();
    due.sort_by_key(|(slot, _, _)| slot.environment_type.import_rank());
    due
}

/// "Prepare renewals": for every environment due (see [`due`]), the portal's
/// current license for its serial, when it runs beyond the expiry that made it
/// due, goes into the transfer file at `file` (new or existing; each environment's
/// other papers are kept), and into the record. Returns each environment's outcome,
/// in import order.
pub async fn prepare(
    client: &PortalClient,
    sub: &Subscription,
    file: &Path,
    record: &Path,
    within_days: i64,
    now: Timestamp,
) -> Result<Vec<PreparedRenewal>, Error> {
    crate::error::Range::check(crate::error::Quantity::RenewalDays, PREPARE_DAYS, within_days)?;
    let existing = match std::fs::symlink_metadata(file) {
        Ok(_) => Some(Transfer::read(file, None)?),
        Err(_) => None,
    };
    let mut out = Vec::new();
    let mut licenses = Vec::new();
    for (slot, serial, expires_at) in due(sub, existing.as_ref(), within_days, now) {
        let (item, license) = prepare_one(client, sub, slot, serial, expires_at, now).await;
        licenses.extend(license);
        out.push(item);
    }
    if !licenses.is_empty() {
        Transfer::put_licenses(file, licenses)?;
        let mut r = Record::load(record);
        for sent in out.iter().filter_map(|i| i.license.clone()) {
            r.sent.retain(|s| s.serial_number != sent.serial_number);
            r.sent.push(sent);
        }
        r.save(record)?;
    }
    Ok(out)
}

/// One environment of "Prepare renewals": its outcome, and the file entry and
/// license to add when the portal has a newer one. An unknown expiry asks the
/// portal nothing and says so.
async fn prepare_one(
    client: &PortalClient,
    sub: &Subscription,
    slot: &Slot,
    serial: SerialNumber,
    expires_at: Option<Timestamp>,
    now: Timestamp,
) -> (PreparedRenewal, Option<(TransferEntry, Vec<u8>)>) {
    let name = slot.name.clone().unwrap_or_else(|| format!("{} environment", slot.environment_type.as_str()));
    let mut item = PreparedRenewal {
        serial_number: serial.clone(),
        name: name.clone(),
        environment_type: slot.environment_type,
        expires_at,
        license: None,
        problem: None,
    };
    let Some(expires_at) = expires_at else {
        let unknown = Error::ExpiryUnknown { name, serial: serial.to_string() };
        item.problem = Some(crate::error::ErrorView::from(&unknown));
        return (item, None);
    };
    match fetch_newer(client, &serial, &sub.activation_code, expires_at).await {
        Ok((text, license)) => {
            let entry = TransferEntry {
                serial_number: serial.clone(),
                environment_type: slot.environment_type,
                name,
                hostname: String::new(),
                activation_code: Some(sub.activation_code.clone()),
                license_id: None,
                expires_at: Some(expires_at),
                exported_at: now,
            };
            item.license = Some(SentLicense {
                serial_number: serial,
                license_id: license.license_id,
                not_before: license.not_before,
                expires_at: license.expires_at,
                sent_at: now,
                renews_expiry: Some(expires_at),
            });
            (item, Some((entry, text.into_bytes())))
        }
        Err(e) => {
            item.problem = Some(crate::error::ErrorView::from(&e));
            (item, None)
        }
    }
}

/// The portal's license for `serial`, read (not verified: the environment verifies
/// it on import, with the vendor keys the workstation does not hold), when it runs
/// beyond `expires_at`.
async fn fetch_newer(
    client: &PortalClient,
    serial: &SerialNumber,
    code: &ActivationCode,
    expires_at: Timestamp,
) -> Result<(String, License), Error> {
    let text = client.download_license(serial).await?;
    let license = License::from_json(Envelope::parse(DocumentKind::License, text.as_bytes())?.payload())?;
    // Each answer is checked on its own: a wrong one is left out and named, and the
    // other environments' renewals still go into the file.
    if &license.serial_number != serial || &license.activation_code != code {
        return Err(Error::PortalProtocol {
            reason: format!(
                "asked for the license of {serial} in subscription {code}, it sent one for {} in {}; that answer is left out",
                license.serial_number, license.activation_code
            ),
        });
    }
    if license.expires_at.is_some_and(|e| e <= expires_at) {
        return Err(Error::NoRenewalYet {
            serial: serial.to_string(),
            reason: format!(
                "the portal's license for it expires on {} too: the subscription's renewal is not at the portal yet",
                timestamp::format(&expires_at)
            ),
        });
    }
    Ok((text, license))
}

/// Each environment in `transfer` that the workstation sent a license to, with
/// what became of it (after [`observe`] has seen the file).
pub fn states(record: &Path, transfer: &Transfer) -> Vec<(SerialNumber, SentLicense, RenewalState)> {
    let r = Record::load(record);
    transfer
        .environments
        .iter()
        .filter_map(|(e, _)| {
            let sent = r.sent_to(&e.serial_number)?;
            let state = state_of(sent, r.export_of(&e.serial_number), r.signed_by(&e.serial_number));
            Some((e.serial_number.clone(), sent.clone(), state))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, Utc};

    fn serial() -> SerialNumber {
        crate::serial::HostFacts::parse("platform_uuid=9d2a1f3e-77aa-4c1e-9b2d-3f1e5a6b7c8d\n", "t")
            .unwrap()
            .serial_number()
            .unwrap()
    }

    fn sent(not_before: Timestamp, sent_at: Timestamp) -> SentLicense {
        SentLicense {
            serial_number: serial(),
            license_id: Uuid::new_v4(),
            not_before,
            expires_at: None,
            sent_at,
            renews_expiry: None,
        }
    }

    fn export(license_id: Option<Uuid>, exported_at: Timestamp) -> TransferEntry {
        TransferEntry {
            serial_number: serial(),
            environment_type: EnvironmentType::Production,
            name: "P".into(),
            hostname: "h".into(),
            activation_code: None,
            license_id,
            expires_at: None,
            exported_at,
        }
    }

    #[test]
    fn renewed_staged_or_waiting_from_the_export_after_the_license_was_sent() {
        let now = Utc::now();
        let later = sent(now + Duration::days(10), now);
        // No export since: waiting.
        assert_eq!(state_of(&later, None, None), RenewalState::Waiting);
        assert_eq!(state_of(&later, Some(&export(None, now - Duration::days(1))), None), RenewalState::Waiting);
        // Exported after, the license not started yet, another license installed: staged.
        let e = export(Some(Uuid::new_v4()), now + Duration::hours(2));
        assert_eq!(state_of(&later, Some(&e), None), RenewalState::Staged);
        // An audit the environment signed names the license sent: renewed.
        let signed = SignedInstall {
            serial_number: later.serial_number.clone(),
            license_id: later.license_id,
            generated_at: now,
            key: String::new(),
        };
        assert_eq!(state_of(&later, None, Some(&signed)), RenewalState::Renewed);
        // transfer.json alone is not signed: naming the license there proves nothing.
        let claimed = export(Some(later.license_id), now + Duration::days(11));
        assert_eq!(state_of(&later, Some(&claimed), None), RenewalState::Waiting);
        // A license that has started but is not named by an export after it: waiting.
        let started = sent(now - Duration::days(1), now - Duration::days(2));
        assert_eq!(state_of(&started, Some(&export(Some(Uuid::new_v4()), now)), None), RenewalState::Waiting);
    }

    /// A registered environment with no license the portal knows of, and no export
    /// naming one, has no term: unknown is never drawn as a license without an end,
    /// and "Prepare renewals" lists it as unknown instead of "not due" (issue 33).
    #[test]
    fn an_environment_whose_license_is_not_known_has_no_term_and_is_listed_as_unknown() {
        let d = tempfile::tempdir().unwrap();
        let now = Utc::now();
        let slot = |serial: Option<SerialNumber>, expires: Option<Timestamp>| Slot {
            environment_type: EnvironmentType::Quality,
            serial_number: serial,
            name: Some("Quality EU".into()),
            license_id: expires.map(|_| Uuid::new_v4()),
            license_not_before: None,
            license_expires_at: expires,
            last_audit_status: None,
            last_audit_at: None,
        };
        let sub = Subscription {
            activation_code: ActivationCode::from_payload("TRANSFERTESTCQDE01234567").unwrap(),
            customer: "Example".into(),
            entitlements: crate::payload::License::sample(&serial()).entitlements,
            expires_at: None,
            slots: vec![slot(Some(serial()), None), slot(None, None)],
        };
        let mut perpetual = slot(Some(crate::serial::serial_from_facts_text("platform_uuid=perpetual\n")), None);
        perpetual.license_id = Some(Uuid::new_v4());
        let rows = timeline(&sub, &d.path().join(RECORD_FILE), now);
        assert_eq!(rows.len(), 1, "free slots are not environments");
        assert_eq!((rows[0].current.as_ref(), rows[0].next.as_ref()), (None, None));
        let with_perpetual = Subscription { slots: [sub.slots.clone(), vec![perpetual]].concat(), ..sub.clone() };
        let listed = due(&with_perpetual, None, 60, now);
        assert_eq!(listed.len(), 1, "a license without an end is known, and never due");
        assert_eq!((&listed[0].1, listed[0].2), (&serial(), None), "unknown, not left out");
    }

    #[test]
    fn the_import_order_is_development_quality_production_lifetime() {
        let mut types = vec![
            EnvironmentType::Lifetime,
            EnvironmentType::Production,
            EnvironmentType::Development,
            EnvironmentType::Quality,
        ];
        types.sort_by_key(|t| t.import_rank());
        assert_eq!(types, EnvironmentType::ALL.to_vec());
    }

    #[test]
    fn observing_keeps_the_newest_export_and_ignores_the_workstations_own_entries() {
        let d = tempfile::tempdir().unwrap();
        let record = d.path().join(RECORD_FILE);
        // Whole seconds, as the record and transfer.json keep them.
        let now = timestamp::parse(&timestamp::format(&Utc::now())).unwrap();
        let mut r = Record { sent: vec![sent(now + Duration::days(10), now)], ..Record::default() };
        r.save(&record).unwrap();
        let t = |e: TransferEntry| Transfer { environments: vec![(e, Default::default())] };
        let own = TransferEntry { hostname: String::new(), ..export(None, now) };
        observe(&record, &t(own)).unwrap();
        assert!(Record::load(&record).exports.is_empty(), "the workstation's own entry is no export");
        // An environment's export within the same second is one, though it says
        // waiting: it may have come before the import.
        let same_second = export(Some(Uuid::new_v4()), now);
        observe(&record, &t(same_second.clone())).unwrap();
        assert_eq!(Record::load(&record).exports, vec![same_second.clone()]);
        assert_eq!(state_of(&r.sent[0], Some(&same_second), None), RenewalState::Waiting);
        observe(&record, &t(export(None, now + Duration::hours(1)))).unwrap();
        observe(&record, &t(export(None, now + Duration::minutes(30)))).unwrap();
        let seen = Record::load(&record).exports;
        assert_eq!(seen.len(), 1);
        assert_eq!(seen[0].exported_at, now + Duration::hours(1), "an older export does not replace a newer one");
        std::fs::write(&record, b"[damaged").unwrap();
        assert!(Record::load(&record).sent.is_empty(), "damaged: read as empty");
    }
}

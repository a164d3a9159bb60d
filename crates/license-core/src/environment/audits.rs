//! Audits (license consumption): generate the signed file from the usage source,
//! keep it in the outbox until the portal has acknowledged it, and remember what
//! was uploaded.
//!
//! No audit is lost: a generated audit is written to the outbox (durably) before
//! anything else happens, and leaves it only after the portal answered. No audit is
//! counted twice: uploads carry the body's SHA-256 as Idempotency-Key, so a retry
//! gets the portal's first answer.

use super::{identity, usage, Environment};
use crate::error::Error;
use crate::fs;
use crate::payload::UploadStatus;
use crate::payload::{Audit, Payload};
use crate::portal::{PortalClient, PortalUpload, UploadResult};
use crate::portal_url::PortalUrl;
use crate::run::Blocking;
use crate::timestamp::{self, Timestamp};
use chrono::Timelike;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use uuid::Uuid;

const OUTBOX: &str = "outbox";
const HISTORY: &str = "upload-history.json";
/// Above this many uploads the oldest move to `history/` (years of audits), so the
/// live file, read at every upload, stays small.
const HISTORY_LIMIT: crate::rotation::Limit = crate::rotation::Limit { above: 2000, keep: 1000 };
const LAST_PERIOD: &str = "last-audit.json";

#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Clone, Debug, Serialize)]
pub struct GeneratedAudit {
    pub audit: Audit,
    pub text: String,
    pub outbox_path: PathBuf,
    pub usage: Vec<usage::UsageLine>,
}

#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct LocalUpload {
    pub upload_id: Uuid,
    pub audit_id: Option<Uuid>,
    /// Whose audit it was: this environment's, or (uploaded from here as a file)
    /// another's. Missing in entries recorded before it was kept: taken as ours.
    #[serde(default)]
    pub serial_number: Option<crate::serial::SerialNumber>,
    pub status: UploadStatus,
    pub reasons: Vec<String>,
    #[serde(with = "timestamp")]
    #[cfg_attr(feature = "ts", ts(type = "string"))]
    pub received_at: Timestamp,
    pub sha256: String,
    /// SHA-256 of the audit's signed bytes: what its receipt must name. Missing in
    /// entries recorded before receipts were bound to content; such a receipt does
    /// not count as verified.
    #[serde(default)]
    pub audit_sha256: Option<String>,
    /// The portal's signed receipt (armored), when it gave one.
    #[serde(default)]
    pub receipt: Option<String>,
    /// The end of the audit's period: the next audit starts after it, even when
    /// `last-audit.json` is lost. Missing in entries recorded before it was kept.
    #[serde(default, with = "timestamp::option")]
    #[cfg_attr(feature = "ts", ts(type = "string | null"))]
    pub period_end: Option<Timestamp>,
}

#[derive(Serialize, Deserialize)]
struct LastPeriod {
    #[serde(with = "timestamp")]
    period_end: Timestamp,
}

#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
/// One line of the merged history: what this machine uploaded and what the portal
/// has, joined on the upload id.
#[derive(Clone, Debug, Serialize)]
pub struct HistoryLine {
    pub upload_id: Uuid,
    pub status: UploadStatus,
    #[serde(with = "timestamp")]
    #[cfg_attr(feature = "ts", ts(type = "string"))]
    pub received_at: Timestamp,
    pub audit_id: Option<Uuid>,
    pub reasons: Vec<String>,
    pub uploaded_from_here: bool,
    /// None when the portal was not asked (unreachable or offline).
    pub known_to_portal: Option<bool>,
    /// This environment holds the portal's receipt for this upload, and it verifies
    /// with the vendor key and names this upload.
    pub receipt_verified: bool,
    /// The receipt itself (armored), for `--json` and export.
    pub receipt: Option<String>,
}

impl Environment {
    /// A client for this environment's portal: its URL (or `url`), proxy, CA bundle,
    /// and the token from `LICENSE_MANAGER_TOKEN` or the OS keyring.
    pub fn portal_client(&self, url: Option<&PortalUrl>) -> Result<PortalClient, Error> {
        self.portal_client_with(url, |_| {})
    }

    /// [`Self::portal_client`] with its options changed by `tune` (a scheduled
    /// renewal's shorter timeout).
    pub fn portal_client_with(
        &self,
        url: Option<&PortalUrl>,
        tune: impl FnOnce(&mut crate::portal::ClientOptions),
    ) -> Result<PortalClient, Error> {
        let url = url.or(self.config.portal_url.as_ref()).ok_or_else(|| Error::BadConfig {
            path: self.config_path.clone(),
            reason: "no portal_url is configured: set it in Settings or the configuration".into(),
        })?;
        let token = crate::secrets::load(url, self.config.portal_url.as_ref())?;
        let mut opts = crate::portal::ClientOptions {
            proxy: self.config.proxy.clone(),
            ca_bundle: self.config.ca_bundle.clone(),
            ..Default::default()
        };
        tune(&mut opts);
        PortalClient::new(url, token, opts)
    }

    /// The activation code of the installed license.
    pub fn installed_activation_code(&self) -> Result<crate::activation::ActivationCode, Error> {
        Ok(self.installed()?.activation_code)
    }

    fn outbox_dir(&self) -> PathBuf {
        self.config.state_dir().join(OUTBOX)
    }

    /// Builds, signs and stores (in the outbox) an audit of current consumption.
    pub fn generate_audit(&self) -> Result<GeneratedAudit, Error> {
        let lock = self.lock()?;
        let state = self.config.state_dir();
        let license = self.installed()?;
        let consumption = usage::read(self.config.usage.as_ref(), &self.config_path)?;
        let key = identity::load_or_create(&state)?;
        let now = self.clock().effective_now();
        let period_start = self.next_period_start(&license, now)?;
        let audit = Audit {
            format: 1,
            audit_id: Uuid::new_v4(),
            activation_code: license.activation_code.clone(),
            serial_number: self.serial()?.serial_number,
            environment_type: self.config.environment_type,
            license_id: license.license_id,
            generated_at: now,
            period_start,
            period_end: now,
            consumption: consumption.clone(),
            environment_key: key.public().to_base64url(),
        };
        let text = audit.seal(&key);
        let outbox_path = self.outbox_dir().join(format!("{}-{}.audit", now.format("%Y%m%dT%H%M%SZ"), audit.audit_id));
        fs::replace(&outbox_path, text.as_bytes(), "outbox")?;
        // The audit and the record of its period are one step: if the record cannot
        // be written (a full disk), the audit is taken back out of the outbox, so the
        // next audit starts from the same period and no two audits cover one period.
        // Removing needs no space, and nothing else has seen the file (the lock is held).
        if let Err(e) = fs::replace(
            &state.join(LAST_PERIOD),
            &serde_json::to_vec(&LastPeriod { period_end: now }).expect("json"),
            "last-audit",
        ) {
            if let Err(undo) = std::fs::remove_file(&outbox_path) {
                tracing::error!(error = %undo, path = %outbox_path.display(), "could not take back the audit whose period was not recorded");
            }
            return Err(e);
        }
        self.record_consumption(&lock, super::forecast::Reading { at: now, consumption: consumption.clone() });
        tracing::info!(audit_id = %audit.audit_id, "audit generated");
        Ok(GeneratedAudit { usage: usage::compare(&consumption, &license.entitlements), audit, text, outbox_path })
    }

    /// Where the next audit's period starts: after the latest period end that is
    /// known, from the period record, the audits waiting in the outbox (one
    /// written just before a kill, whose period was not recorded yet) and the
    /// uploaded ones in the history, so periods never overlap even when the record
    /// is lost or damaged; the license's start when none is known.
    fn next_period_start(&self, license: &crate::payload::License, now: Timestamp) -> Result<Timestamp, Error> {
        let path = self.config.state_dir().join(LAST_PERIOD);
        // Damaged, it is set aside (never written over); the outbox and the history
        // still say where the next period starts.
        let last: Option<LastPeriod> = fs::read_record(&path, 4096, "audit period record");
        let waiting_end = self.waiting_period_end()?;
        let uploaded_end = self.own_history().into_iter().filter_map(|u| u.period_end).max();
        let known = [last.map(|l| l.period_end), waiting_end, uploaded_end].into_iter().flatten().max();
        Ok(known.filter(|t| *t <= now).unwrap_or(license.not_before).min(now))
    }

    /// Audits waiting for the portal's answer, oldest first.
    pub fn outbox(&self) -> Result<Vec<PathBuf>, Error> {
        Ok(self.outbox_listing()?.into_iter().filter(|p| self.sound_in_outbox(p).is_some()).collect())
    }

    /// The outbox's audit files by name, not yet read: oldest first, as each name
    /// starts with its period's end.
    pub(super) fn outbox_listing(&self) -> Result<Vec<PathBuf>, Error> {
        let dir = self.outbox_dir();
        let mut files: Vec<PathBuf> = match std::fs::read_dir(&dir) {
            Ok(rd) => rd.flatten().map(|e| e.path()).filter(|p| p.extension().is_some_and(|x| x == "audit")).collect(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(e) => return Err(Error::io("list the outbox", &dir, e)),
        };
        files.sort();
        Ok(files)
    }

    /// The latest period end of the audits waiting. Names start with the period's
    /// end to the second, so only the newest sound audits are read: generating an
    /// audit costs the same with 1 or 600 waiting. A name that does not start with
    /// a time (a file put there by hand) is read whatever its place.
    fn waiting_period_end(&self) -> Result<Option<Timestamp>, Error> {
        let mut latest: Option<Timestamp> = None;
        for path in self.outbox_listing()?.into_iter().rev() {
            let named = path
                .file_name()
                .and_then(|n| n.to_str())
                .and_then(|n| n.get(..16))
                .and_then(|t| chrono::NaiveDateTime::parse_from_str(t, "%Y%m%dT%H%M%SZ").ok().map(|t| t.and_utc()));
            if let (Some(named), Some(l)) = (named, latest) {
                if named < l.with_nanosecond(0).unwrap_or(l) {
                    continue;
                }
            }
            if let Some((audit, _)) = self.sound_in_outbox(&path) {
                latest = latest.max(Some(audit.period_end));
            }
        }
        Ok(latest)
    }

    /// The audit at `path`, if it is sound. One that is not (damaged, altered, not a
    /// regular file, too large) is set aside in the quarantine and named, so the
    /// good audits still travel and nothing is lost; one another writer just took
    /// out is simply not there.
    pub(super) fn sound_in_outbox(&self, path: &Path) -> Option<(Audit, Vec<u8>)> {
        let read = fs::read_capped(path, crate::kind::MAX_FILE_BYTES, fs::Links::Refuse);
        let damage = match read.and_then(|b| <Audit as crate::payload::SelfSigned>::open(&b).map(|(a, _)| (a, b))) {
            Ok(sound) => return Some(sound),
            Err(e) if e.is_gone() => return None,
            Err(e) => e,
        };
        match fs::quarantine_in(path, &self.config.state_dir().join(fs::QUARANTINE)) {
            Ok(to) => tracing::warn!(path = %path.display(), set_aside = %to.display(), error = %damage,
                "an audit in the outbox is damaged: it was set aside, and the others go on"),
            Err(e) => {
                tracing::error!(path = %path.display(), error = %e, "a damaged audit in the outbox could not be set aside")
            }
        }
        None
    }

    /// Reads and opens one audit file for upload: the blocking step before the send.
    /// The outbox is our own folder: nothing in it is followed through a link.
    pub fn prepare_upload(&self, path: &Path, from_outbox: bool) -> Result<PreparedUpload, Error> {
        let links = if from_outbox { fs::Links::Refuse } else { fs::Links::Follow };
        let bytes = fs::read_capped(path, crate::kind::MAX_FILE_BYTES, links)?;
        let (audit, _) = <Audit as crate::payload::SelfSigned>::open(&bytes)?;
        let audit_sha256 = crate::document::signed_sha256(crate::kind::DocumentKind::Audit, &bytes)?;
        Ok(PreparedUpload { path: path.to_path_buf(), bytes, audit, audit_sha256, from_outbox })
    }

    /// Records the portal's answer in the history and, for an audit from the
    /// outbox, takes it out: one step under the environment lock (the lock is not
    /// held while the portal answers).
    pub fn record_answer(&self, p: &PreparedUpload, r: &UploadResult) -> Result<(), Error> {
        let lock = self.lock()?;
        self.record_upload(
            &lock,
            LocalUpload {
                upload_id: r.upload_id,
                audit_id: Some(p.audit.audit_id),
                serial_number: Some(p.audit.serial_number.clone()),
                status: r.status,
                reasons: r.reasons.clone(),
                received_at: r.received_at,
                sha256: crate::digest::sha256_hex(&p.bytes),
                audit_sha256: Some(p.audit_sha256.clone()),
                receipt: r.receipt.clone(),
                period_end: Some(p.audit.period_end),
            },
        )?;
        if p.from_outbox {
            // Another upload or an import may have moved it meanwhile: done either way.
            fs::remove_if_present(&p.path, "remove from the outbox")?;
        }
        Ok(())
    }

    /// The upload's receipt verifies with the vendor key and names this upload and
    /// the content that was uploaded.
    fn receipt_verifies(&self, u: &LocalUpload) -> bool {
        u.receipt
            .as_deref()
            .and_then(|r| crate::payload::open_receipt(r.as_bytes(), self.vendor_keys()).ok())
            .is_some_and(|r| {
                r.upload_id == u.upload_id
                    && Some(r.audit_id) == u.audit_id
                    && u.audit_sha256.as_deref() == Some(r.audit_sha256.as_str())
            })
    }

    pub(crate) fn record_upload(&self, lock: &super::EnvLock, u: LocalUpload) -> Result<(), Error> {
        self.record_uploads(lock, vec![u])
    }

    /// Adds `uploads` to the history (each once, by upload id) in one read and one
    /// write, under the environment lock.
    pub(crate) fn record_uploads(&self, _lock: &super::EnvLock, uploads: Vec<LocalUpload>) -> Result<(), Error> {
        let mut all = self.local_history();
        let before = all.len();
        for u in uploads {
            if !all.iter().any(|x| x.upload_id == u.upload_id) {
                all.push(u);
            }
        }
        if all.len() == before {
            return Ok(());
        }
        let path = self.config.state_dir().join(HISTORY);
        crate::rotation::rotate(&path, &mut all, HISTORY_LIMIT, |u| u.received_at)?;
        fs::replace(&path, &serde_json::to_vec_pretty(&all).expect("json"), "history")
    }

    /// The whole upload history: the parts rotated out of it (`history/`) and the
    /// live file, each upload once. For showing it; the live file alone holds the
    /// newest uploads, which is all the other readers need.
    pub fn full_history(&self) -> Vec<LocalUpload> {
        let live = self.config.state_dir().join(HISTORY);
        let mut all: Vec<LocalUpload> = crate::rotation::rotated(&live, "upload history part");
        all.extend(self.local_history());
        let mut seen = std::collections::HashSet::new();
        // The later copy wins (a kill between rotation's two writes leaves two).
        all.reverse();
        all.retain(|u| seen.insert(u.upload_id));
        all.reverse();
        all
    }

    /// The uploads recorded here. A damaged or oversized history is set aside in
    /// the quarantine, never written over (`fs::read_record`).
    pub fn local_history(&self) -> Vec<LocalUpload> {
        fs::read_record(&self.config.state_dir().join(HISTORY), 16 * crate::kind::MAX_FILE_BYTES, "upload history")
    }

    /// The uploads of this environment's own audits: what its history, the
    /// overview's "last upload" and the metrics count. Another environment's audit
    /// file uploaded from here is recorded, but it is not this environment's history.
    pub fn own_history(&self) -> Vec<LocalUpload> {
        self.history_of(self.serial().ok().map(|s| s.serial_number).as_ref())
    }

    /// [`Environment::own_history`] for a serial already worked out (reading the
    /// facts again would be the same work twice).
    pub(crate) fn history_of(&self, serial: Option<&crate::serial::SerialNumber>) -> Vec<LocalUpload> {
        own_uploads(self.local_history(), serial)
    }

    /// The local history merged with the portal's (when reachable), newest first.
    /// The portal answers for the whole subscription; only this environment's own
    /// uploads (its serial) are its history.
    pub fn merge_history(&self, portal: Option<&[PortalUpload]>) -> Vec<HistoryLine> {
        let own = self.serial().ok().map(|s| s.serial_number);
        let local = own_uploads(self.full_history(), own.as_ref());
        let mut lines: Vec<HistoryLine> = portal
            .unwrap_or_default()
            .iter()
            .filter(|p| own.is_none() || p.serial_number == own)
            .map(|p| HistoryLine {
                upload_id: p.upload_id,
                status: p.status,
                received_at: p.received_at,
                audit_id: p.audit_id,
                reasons: p.reasons.clone(),
                uploaded_from_here: local.iter().any(|l| l.upload_id == p.upload_id),
                known_to_portal: Some(true),
                receipt_verified: local.iter().any(|l| l.upload_id == p.upload_id && self.receipt_verifies(l)),
                receipt: local.iter().find(|l| l.upload_id == p.upload_id).and_then(|l| l.receipt.clone()),
            })
            .collect();
        for l in local {
            if !lines.iter().any(|x| x.upload_id == l.upload_id) {
                let receipt_verified = self.receipt_verifies(&l);
                lines.push(HistoryLine {
                    receipt_verified,
                    receipt: l.receipt,
                    upload_id: l.upload_id,
                    status: l.status,
                    received_at: l.received_at,
                    audit_id: l.audit_id,
                    reasons: l.reasons,
                    uploaded_from_here: true,
                    known_to_portal: portal.map(|_| false),
                });
            }
        }
        lines.sort_by_key(|l| std::cmp::Reverse(l.received_at));
        lines
    }
}

/// One audit file read and opened for upload (see [`Environment::prepare_upload`]).
pub struct PreparedUpload {
    path: PathBuf,
    bytes: Vec<u8>,
    audit: Audit,
    audit_sha256: String,
    from_outbox: bool,
}

/// Uploads every audit in the outbox; each one leaves it only once the portal
/// answered. Returns the answers and the first failure, if any. Reading and
/// recording run through `blocking`; only the sends are awaited here.
pub async fn flush_outbox(
    env: &Arc<Environment>,
    client: &PortalClient,
    blocking: &impl Blocking,
    progress: &mut (dyn FnMut(usize, usize) + Send),
) -> (Vec<UploadResult>, Option<Error>) {
    let e = env.clone();
    let files = match blocking.run(move || e.outbox()).await {
        Ok(f) => f,
        Err(e) => return (Vec::new(), Some(e)),
    };
    let mut done = Vec::new();
    for (i, path) in files.iter().enumerate() {
        progress(i, files.len());
        match upload(env, client, path, true, blocking).await {
            Ok(r) => done.push(r),
            // Another upload or an import took it out of the outbox meanwhile: done.
            Err(e) if e.is_gone() => continue,
            Err(e) => return (done, Some(e)),
        }
    }
    progress(files.len(), files.len());
    (done, None)
}

/// Uploads one audit file (from the outbox or made on another machine) and
/// records the answer in the local history.
pub async fn upload_file(
    env: &Arc<Environment>,
    client: &PortalClient,
    path: &Path,
    blocking: &impl Blocking,
) -> Result<UploadResult, Error> {
    upload(env, client, path, false, blocking).await
}

/// Prepare (blocking), send (async), record (blocking).
async fn upload(
    env: &Arc<Environment>,
    client: &PortalClient,
    path: &Path,
    from_outbox: bool,
    blocking: &impl Blocking,
) -> Result<UploadResult, Error> {
    let (e, p) = (env.clone(), path.to_path_buf());
    let prepared = blocking.run(move || e.prepare_upload(&p, from_outbox)).await?;
    let r = client.upload_audit(&prepared.bytes).await?;
    let e = env.clone();
    blocking.run(move || e.record_answer(&prepared, &r).map(|()| r)).await
}

/// The uploads of `serial`'s own audits (entries written before the serial was
/// kept count as its own; with no serial known, all are).
fn own_uploads(mut all: Vec<LocalUpload>, serial: Option<&crate::serial::SerialNumber>) -> Vec<LocalUpload> {
    all.retain(|u| u.serial_number.is_none() || serial.is_none() || u.serial_number.as_ref() == serial);
    all
}

#[cfg(test)]
mod tests {
    use super::*;

    const OLD_MINE: Uuid = Uuid::from_u128(1);
    const LEGACY: Uuid = Uuid::from_u128(2);
    const NEWER_OTHER: Uuid = Uuid::from_u128(3);

    fn upload(id: Uuid, serial: Option<crate::serial::SerialNumber>, at: &str) -> LocalUpload {
        LocalUpload {
            upload_id: id,
            audit_id: None,
            serial_number: serial,
            status: UploadStatus::Verified,
            reasons: vec![],
            received_at: timestamp::parse(at).unwrap(),
            sha256: String::new(),
            audit_sha256: None,
            receipt: None,
            period_end: None,
        }
    }

    /// Another environment's audit file uploaded from here is recorded, but it is
    /// not this environment's history, nor its overview's last upload.
    #[test]
    fn another_environments_upload_is_not_this_ones_history() {
        let d = tempfile::tempdir().unwrap();
        let env = Environment::open(&crate::demo::create(d.path()).unwrap()).unwrap();
        let mine = env.serial().unwrap().serial_number;
        let other = crate::serial::serial_from_facts_text("machine_id=elsewhere\n");
        let lock = env.lock().unwrap();
        env.record_upload(&lock, upload(OLD_MINE, Some(mine), "2026-11-01T00:00:00Z")).unwrap();
        env.record_upload(&lock, upload(LEGACY, None, "2026-11-02T00:00:00Z")).unwrap();
        env.record_upload(&lock, upload(NEWER_OTHER, Some(other), "2026-11-03T00:00:00Z")).unwrap();
        drop(lock);
        assert_eq!(env.local_history().len(), 3, "every upload from here is recorded");
        let own: Vec<Uuid> = env.own_history().into_iter().map(|u| u.upload_id).collect();
        assert_eq!(own, [OLD_MINE, LEGACY]);
        let lines: Vec<Uuid> = env.merge_history(None).into_iter().map(|l| l.upload_id).collect();
        assert_eq!(lines, [LEGACY, OLD_MINE], "newest first, the other environment's left out");
        assert_eq!(env.overview().unwrap().last_upload.unwrap().upload_id, LEGACY);
    }
}

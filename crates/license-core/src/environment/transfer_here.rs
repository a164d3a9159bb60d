//! This environment's side of a transfer file: add its papers (audits in the outbox,
//! optionally a license request), and take back what the connected machine wrote for
//! it (its license, and the receipts that move audits from the outbox to the history).
//!
//! Reading verifies every signed member with this environment's vendor keys; members
//! for other serials are skipped with a note; nothing changes until the administrator
//! applies the plan (the license goes through the same checked, backed-up install).

use super::audits::LocalUpload;
use super::{requests, Environment};
use crate::activation::ActivationCode;
use crate::check::Report;
use crate::error::Error;
use crate::fs;
use crate::kind::DocumentKind;
use crate::payload::{Audit, Receipt};
use crate::serial::SerialNumber;
use crate::transfer::{Papers, Transfer, TransferEntry};
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use uuid::Uuid;

/// What a receipt in the transfer file will do here.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ReceiptFate {
    /// Its audit waits in the outbox: it moves to the history with this receipt.
    MovesToHistory,
    /// Its audit is already in the history (the file was imported before).
    AlreadyRecorded,
    /// No audit with that id waits here: skipped.
    NotInOutbox,
    /// An audit with that id waits here, but the receipt answers other content, or
    /// names another serial or subscription: it proves nothing, and is skipped.
    DoesNotMatch,
}

#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Clone, Debug, Serialize)]
pub struct ReceiptPlan {
    pub receipt: Receipt,
    pub fate: ReceiptFate,
    /// With `DoesNotMatch`: the first thing in which the receipt differs.
    pub mismatch: Option<crate::payload::Mismatch>,
    /// What to do when the receipt rejects the audit (the core's rule).
    pub next_step: Option<super::audit_verdict::AuditNextStep>,
}

/// One environment in a transfer file's import order.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Clone, Debug, Serialize)]
pub struct OrderedEnvironment {
    pub name: String,
    pub environment_type: crate::payload::EnvironmentType,
    /// This environment.
    pub here: bool,
}

/// What importing a transfer file would do here; nothing has changed yet.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Clone, Debug, Serialize)]
pub struct ImportPlan {
    pub path: PathBuf,
    /// This environment's serial, which the file is searched for.
    pub serial_number: SerialNumber,
    /// This environment is listed in the file.
    pub listed: bool,
    /// The license written for this environment, with every install check.
    pub license: Option<Report>,
    /// The same license is installed already: importing again changes nothing.
    pub license_installed: bool,
    pub receipts: Vec<ReceiptPlan>,
    /// Other environments in the file: their papers stay in it for them.
    pub others_skipped: usize,
    /// When the file carries licenses for several environments (prepared renewals):
    /// them all, in the order to import them (Development first).
    pub import_order: Vec<OrderedEnvironment>,
    #[serde(skip)]
    #[cfg_attr(feature = "ts", ts(skip))]
    license_bytes: Option<Vec<u8>>,
    #[serde(skip)]
    #[cfg_attr(feature = "ts", ts(skip))]
    receipt_bytes: BTreeMap<Uuid, Vec<u8>>,
}

/// The environments `t` carries a license for, in import order, when there are
/// several (one alone has no order to keep).
fn import_order(t: &Transfer, here: &SerialNumber) -> Vec<OrderedEnvironment> {
    let mut order: Vec<_> = t
        .environments
        .iter()
        .filter(|(_, p)| p.license.is_some())
        .map(|(e, _)| OrderedEnvironment {
            name: e.name.clone(),
            environment_type: e.environment_type,
            here: &e.serial_number == here,
        })
        .collect();
    order.sort_by_key(|o| o.environment_type.import_rank());
    if order.len() > 1 {
        order
    } else {
        Vec::new()
    }
}

impl ImportPlan {
    /// What is skipped or refused, in the CLI's words (the UI words the same facts).
    pub fn notes(&self) -> Vec<String> {
        let mut notes = Vec::new();
        if !self.import_order.is_empty() {
            let order: Vec<String> = self
                .import_order
                .iter()
                .map(|o| {
                    let here = if o.here { ", this one" } else { "" };
                    format!("{} ({}{here})", crate::text::printable(&o.name), o.environment_type)
                })
                .collect();
            notes.push(format!(
                "this file carries licenses for several environments: import it on {}",
                order.join(", then ")
            ));
        }
        if self.others_skipped > 0 {
            notes.push(format!(
                "{} in the file: their licenses and receipts stay in it for them",
                crate::text::count(self.others_skipped, "other environment")
            ));
        }
        if !self.listed {
            notes.push(format!("this environment ({}) is not in the file: add it there first", self.serial_number));
        }
        for r in &self.receipts {
            let id = r.receipt.audit_id;
            match (r.fate, r.mismatch) {
                (ReceiptFate::DoesNotMatch, Some(why)) => notes.push(format!(
                    "the receipt for audit {id} was not applied: {why}, so it proves nothing about the audit waiting here; the audit stays in the outbox (upload it again)"
                )),
                (ReceiptFate::NotInOutbox, _) => {
                    notes.push(format!("a receipt for audit {id} was skipped: no such audit waits in this environment's outbox"))
                }
                _ => {}
            }
        }
        notes
    }

    /// The license file to hand to the install (same checks, backup first).
    pub fn license_file(&self) -> Option<&[u8]> {
        self.license_bytes.as_deref().filter(|_| !self.license_installed)
    }
}

#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Clone, Debug, Serialize)]
pub struct ExportSummary {
    pub path: PathBuf,
    pub entry: TransferEntry,
    pub audits: usize,
    /// Audits left in the outbox for the next file: the newest, when the file has
    /// no room for all of them and their receipts.
    pub audits_waiting: usize,
    pub request: bool,
    /// Environments in the file now, this one included.
    pub environments: usize,
    /// Other environments that were in the file and are kept.
    pub others_kept: usize,
}

impl Environment {
    /// Adds this environment to a transfer file (a new one, or one that already holds
    /// other environments): its entry, every audit in the outbox, and a license
    /// request when `request` is set (`code` when no license is installed).
    pub fn export_transfer(
        &self,
        path: &Path,
        request: bool,
        code: Option<ActivationCode>,
    ) -> Result<ExportSummary, Error> {
        let serial = self.serial()?.serial_number;
        let installed = self.installed().ok();
        // Oldest period first, so what cannot travel now is the newest.
        let mut waiting: Vec<(Uuid, Waiting)> = self.outbox_by_audit_id()?.into_iter().collect();
        waiting.sort_by(|(_, a), (_, b)| (a.audit.period_end, &a.path).cmp(&(b.audit.period_end, &b.path)));
        let audits = waiting.into_iter().map(|(id, w)| (id, w.bytes)).collect();
        let mut papers = Papers::default();
        if request {
            papers.request = Some(self.license_request(code.clone())?.text.into_bytes());
        }
        let entry = TransferEntry {
            serial_number: serial,
            environment_type: self.config.environment_type,
            name: self.config.name.clone(),
            hostname: requests::hostname(),
            activation_code: installed.as_ref().map(|l| l.activation_code.clone()).or(code),
            license_id: installed.as_ref().map(|l| l.license_id),
            expires_at: installed.as_ref().and_then(|l| l.expires_at),
            exported_at: self.clock().effective_now(),
        };
        let (t, audits_waiting) = Transfer::add_to_file(path, entry.clone(), papers, audits)?;
        let audits = t.papers(&entry.serial_number).map_or(0, |p| p.audits.len());
        tracing::info!(path = %path.display(), audits, audits_waiting, request, "added this environment to the transfer file");
        let others_kept = t.environments.iter().filter(|(e, _)| e.serial_number != entry.serial_number).count();
        Ok(ExportSummary {
            path: path.to_path_buf(),
            entry,
            audits,
            audits_waiting,
            request,
            environments: t.environments.len(),
            others_kept,
        })
    }

    /// Reads a transfer file for this environment: verifies every signed member with
    /// this environment's vendor keys and says what importing would do.
    pub fn plan_import(&self, path: &Path) -> Result<ImportPlan, Error> {
        let t = Transfer::read(path, Some(self.vendor_keys()))?;
        let serial = self.serial()?.serial_number;
        let mut plan = ImportPlan {
            path: path.to_path_buf(),
            serial_number: serial.clone(),
            listed: false,
            license: None,
            license_installed: false,
            receipts: Vec::new(),
            others_skipped: t.environments.iter().filter(|(e, _)| e.serial_number != serial).count(),
            import_order: import_order(&t, &serial),
            license_bytes: None,
            receipt_bytes: BTreeMap::new(),
        };
        let Some(papers) = t.papers(&serial) else {
            return Ok(plan);
        };
        plan.listed = true;
        if let Some(lic) = &papers.license {
            plan.license = Some(self.check(lic)?);
            plan.license_installed = self.installed_bytes()?.as_deref() == Some(lic.as_slice());
            plan.license_bytes = Some(lic.clone());
        }
        let waiting = self.outbox_by_audit_id()?;
        let recorded: Vec<Uuid> = self.local_history().into_iter().filter_map(|u| u.audit_id).collect();
        for (id, bytes) in &papers.receipts {
            let receipt = crate::payload::open_receipt(bytes, self.vendor_keys())?;
            let (fate, mismatch) = match waiting.get(id) {
                Some(w) => match receipt.answers(&w.audit, &w.signed_sha256) {
                    Ok(()) => (ReceiptFate::MovesToHistory, None),
                    Err(why) => {
                        tracing::warn!(audit_id = %id, %why, "a receipt in the transfer file does not answer the audit in the outbox");
                        (ReceiptFate::DoesNotMatch, Some(why))
                    }
                },
                None if recorded.contains(id) => (ReceiptFate::AlreadyRecorded, None),
                None => (ReceiptFate::NotInOutbox, None),
            };
            // A receipt is signed only for a registered serial: its rejection's step follows.
            let next_step = super::audit_verdict::AuditNextStep::after(receipt.status, true);
            plan.receipts.push(ReceiptPlan { receipt, fate, mismatch, next_step });
            plan.receipt_bytes.insert(*id, bytes.clone());
        }
        Ok(plan)
    }

    /// Moves each audit that a receipt in `plan` answers from the outbox into the
    /// history, with the portal's verdict and the receipt. The history is written
    /// before the audit leaves the outbox, so a crash in between loses nothing (the
    /// next import finds it recorded and only removes it). Returns how many moved.
    pub fn apply_receipts(&self, plan: &ImportPlan) -> Result<usize, Error> {
        // Under the environment lock, the outbox is read again: only what still
        // waits, and still matches, moves; two imports at once cannot interleave.
        let lock = self.lock()?;
        let waiting = self.outbox_by_audit_id()?;
        let answered: Vec<(&Waiting, LocalUpload)> = plan
            .receipts
            .iter()
            .filter(|r| r.fate == ReceiptFate::MovesToHistory)
            .filter_map(|r| {
                let w = waiting.get(&r.receipt.audit_id)?;
                r.receipt.answers(&w.audit, &w.signed_sha256).ok()?;
                let text = String::from_utf8_lossy(&plan.receipt_bytes[&r.receipt.audit_id]).into_owned();
                Some((w, upload_from(&r.receipt, w, text)))
            })
            .collect();
        // One read and one write of the history for the whole import, whatever
        // its length: the cost grows with the receipts, not with the history.
        self.record_uploads(&lock, answered.iter().map(|(_, u)| u.clone()).collect())?;
        let mut moved = 0;
        for (w, _) in answered {
            if fs::remove_if_present(&w.path, "remove from the outbox")? {
                moved += 1;
            }
        }
        Ok(moved)
    }

    /// Audits waiting in the outbox, by id.
    pub(super) fn outbox_by_audit_id(&self) -> Result<BTreeMap<Uuid, Waiting>, Error> {
        let mut out = BTreeMap::new();
        for path in self.outbox_listing()? {
            let Some((audit, bytes)) = self.sound_in_outbox(&path) else { continue };
            let signed_sha256 = crate::document::signed_sha256(DocumentKind::Audit, &bytes)?;
            out.insert(audit.audit_id, Waiting { path, bytes, audit, signed_sha256 });
        }
        Ok(out)
    }
}

/// An audit in the outbox, with what a receipt must match.
pub(super) struct Waiting {
    path: PathBuf,
    bytes: Vec<u8>,
    pub(super) audit: Audit,
    signed_sha256: String,
}

fn upload_from(r: &Receipt, audit: &Waiting, receipt: String) -> LocalUpload {
    LocalUpload {
        upload_id: r.upload_id,
        audit_id: Some(r.audit_id),
        serial_number: Some(r.serial_number.clone()),
        status: r.status,
        reasons: r.reasons.clone(),
        received_at: r.received_at,
        sha256: crate::digest::sha256_hex(&audit.bytes),
        audit_sha256: Some(audit.signed_sha256.clone()),
        receipt: Some(receipt),
        period_end: Some(audit.audit.period_end),
    }
}

//! The workstation side of a transfer file: its papers taken to the portal and
//! the answers written back. The file format is `crate::transfer`'s; this module
//! is the only one that brings the two together.

use crate::document::Envelope;
use crate::environment::audit_verdict::AuditNextStep;
use crate::error::Error;
use crate::kind::DocumentKind;
use crate::payload::{Audit, EnvironmentType, License, Payload, Receipt, Request, SelfSigned, UploadStatus};
use crate::portal::PortalClient;
use crate::run::Blocking;
use crate::serial::SerialNumber;
use crate::timestamp::{self, Timestamp};
use crate::transfer::{Answer, Transfer};
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use uuid::Uuid;

/// Which paper an item of the processing is.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ItemKind {
    /// An audit to upload; its receipt comes back.
    Audit,
    /// A license request; the license comes back.
    Request,
}

#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ItemState {
    /// Done now: the receipt or license is in the file.
    Done,
    /// Done by an earlier run: nothing was sent.
    AlreadyDone,
    /// The portal refused it or could not be reached: see the error; the others went on.
    Failed,
    /// Not sent: its environment's license request failed, so its serial may not be
    /// registered, and the portal would reject the audit for good. It is sent on
    /// the next run, once the request succeeds.
    Held,
}

#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Clone, Debug, Serialize)]
pub struct ItemOutcome {
    pub serial_number: SerialNumber,
    pub environment_name: String,
    pub kind: ItemKind,
    /// The audit's id (audits only).
    pub audit_id: Option<Uuid>,
    pub state: ItemState,
    /// The portal's verdict on an uploaded audit.
    pub verdict: Option<crate::payload::UploadStatus>,
    /// Why the portal rejected it (empty when verified).
    pub reasons: Vec<String>,
    /// What to do when the portal rejected it.
    pub next_step: Option<AuditNextStep>,
    /// The license a request brought back (requests only).
    pub license: Option<IssuedLicense>,
    pub error: Option<crate::error::ErrorView>,
}

/// What a request's license says, for the result line: the slot it is registered
/// in, the name it is registered under, and until when it is valid.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Clone, Debug, Serialize)]
pub struct IssuedLicense {
    pub license_id: Uuid,
    pub environment_type: EnvironmentType,
    /// The name it is registered under: the environment's, from `transfer.json`.
    pub registered_as: String,
    #[serde(with = "timestamp::option")]
    #[cfg_attr(feature = "ts", ts(type = "string | null"))]
    pub expires_at: Option<Timestamp>,
}

#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Clone, Debug, Serialize)]
pub struct ProcessReport {
    pub items: Vec<ItemOutcome>,
    /// The file was rewritten (something new came back).
    pub written: bool,
    /// Audits the portal rejected: their receipts travel back, but each is a
    /// problem with a next step, never part of "everything is done".
    pub rejected: usize,
}

impl ProcessReport {
    /// Items not done: failed, or held back behind a failed request.
    pub fn failed(&self) -> usize {
        self.items.iter().filter(|i| matches!(i.state, ItemState::Failed | ItemState::Held)).count()
    }
}

/// The portal's verdict on an uploaded audit, with its reasons.
type Verdict = (UploadStatus, Vec<String>);

/// Portal requests in flight at once while processing a transfer file.
pub const CONCURRENCY: usize = 8;

enum Work {
    Audit(Uuid, Vec<u8>),
    Request(Vec<u8>),
}

/// A transfer file read and checked, with what it still needs from the portal:
/// the blocking first step of [`process`].
pub struct Plan {
    path: PathBuf,
    /// Done by an earlier run.
    done: Vec<ItemOutcome>,
    requests: Vec<(ItemOutcome, Work)>,
    audits: Vec<(ItemOutcome, Work)>,
}

/// What the portal answered for a [`Plan`]: every item's outcome and what came back.
pub struct Sent {
    path: PathBuf,
    items: Vec<ItemOutcome>,
    answers: Vec<(SerialNumber, Answer)>,
}

/// On the connected machine: uploads every audit that has no receipt yet and turns
/// every request that has no license yet into one, `CONCURRENCY` at a time, then
/// writes the receipts and licenses back into the file atomically. One item's error
/// does not stop the others. Running it again sends nothing for what is done, and
/// audits are idempotent on the portal anyway (a lost answer is asked again).
///
/// Three steps: [`prepare`] and [`record`] read, verify and fsync, through
/// `blocking`; [`send`] only talks to the portal.
pub async fn process(
    path: &Path,
    client: &PortalClient,
    reasons: &BTreeMap<SerialNumber, String>,
    blocking: &impl Blocking,
    progress: &(dyn Fn(&ItemOutcome, usize, usize) + Sync),
) -> Result<ProcessReport, Error> {
    let p = path.to_path_buf();
    let plan = blocking.run(move || prepare(&p)).await?;
    let sent = send(plan, client, reasons, progress).await;
    blocking.run(move || record(sent)).await
}

/// Reads and checks the file, and sorts out what it still needs. Everything that
/// comes back must fit in the file: refused here, before anything is sent.
pub fn prepare(path: &Path) -> Result<Plan, Error> {
    let transfer = Transfer::read(path, None)?;
    transfer.room_for_answers()?;
    let (mut done, mut requests, mut audits) = (Vec::new(), Vec::new(), Vec::new());
    for (e, p) in &transfer.environments {
        let outcome = |kind, audit_id, state| ItemOutcome {
            serial_number: e.serial_number.clone(),
            environment_name: e.name.clone(),
            kind,
            audit_id,
            state,
            verdict: None,
            reasons: Vec::new(),
            next_step: None,
            license: None,
            error: None,
        };
        for (id, bytes) in &p.audits {
            if let Some(receipt) = p.receipts.get(id) {
                // An earlier run's rejection is still a rejection: it keeps its reasons.
                let mut item = outcome(ItemKind::Audit, Some(*id), ItemState::AlreadyDone);
                if let Some((status, reasons)) = receipt_verdict(receipt) {
                    item.next_step = AuditNextStep::after(status, true);
                    (item.verdict, item.reasons) = (Some(status), reasons);
                }
                done.push(item);
            } else {
                audits.push((outcome(ItemKind::Audit, Some(*id), ItemState::Done), Work::Audit(*id, bytes.clone())));
            }
        }
        match (&p.request, &p.license) {
            (Some(_), Some(_)) => done.push(outcome(ItemKind::Request, None, ItemState::AlreadyDone)),
            (Some(r), None) => {
                requests.push((outcome(ItemKind::Request, None, ItemState::Done), Work::Request(r.clone())))
            }
            (None, _) => {}
        }
    }
    Ok(Plan { path: path.to_path_buf(), done, requests, audits })
}

/// Sends the plan's work to the portal. License requests first, all of them, then
/// the audits: a request registers its serial, and the portal signs a receipt only
/// for a registered serial, so an environment's first trip brings back both its
/// license and its receipts. An audit whose environment's request failed is held
/// back: sent now, the portal would reject it for good (an unregistered serial).
pub async fn send(
    plan: Plan,
    client: &PortalClient,
    reasons: &BTreeMap<SerialNumber, String>,
    progress: &(dyn Fn(&ItemOutcome, usize, usize) + Sync),
) -> Sent {
    use futures_util::stream::{self, StreamExt};
    let Plan { path, done: mut items, requests, audits } = plan;
    let total = items.len() + requests.len() + audits.len();
    let mut done = items.len();
    let send = |(item, w): (ItemOutcome, Work)| async move {
        let answer = match &w {
            Work::Audit(id, bytes) => upload_for_receipt(client, &item.serial_number, *id, bytes).await,
            Work::Request(bytes) => {
                let reason = reasons.get(&item.serial_number).map(String::as_str);
                license_for_request(client, &item.serial_number, &item.environment_name, reason, bytes).await
            }
        };
        (item, w, answer)
    };
    let mut answers: Vec<(SerialNumber, Answer)> = Vec::new();
    let mut finished = |item: ItemOutcome, items: &mut Vec<ItemOutcome>| {
        done += 1;
        progress(&item, done, total);
        items.push(item);
    };
    let mut results = stream::iter(requests).map(send).buffer_unordered(CONCURRENCY);
    while let Some((item, work, answer)) = results.next().await {
        finished(answered(item, work, answer, &mut answers), &mut items);
    }
    drop(results);
    let unregistered: Vec<SerialNumber> = items
        .iter()
        .filter(|i| i.kind == ItemKind::Request && i.state == ItemState::Failed)
        .map(|i| i.serial_number.clone())
        .collect();
    let (held, audits): (Vec<_>, Vec<_>) =
        audits.into_iter().partition(|(item, _)| unregistered.contains(&item.serial_number));
    for (mut item, _) in held {
        item.state = ItemState::Held;
        finished(item, &mut items);
    }
    let mut results = stream::iter(audits).map(send).buffer_unordered(CONCURRENCY);
    while let Some((item, work, answer)) = results.next().await {
        finished(answered(item, work, answer, &mut answers), &mut items);
    }
    drop(results);
    Sent { path, items, answers }
}

/// Writes what came back into the file (see [`Transfer::add_answers`]).
pub fn record(sent: Sent) -> Result<ProcessReport, Error> {
    let written = !sent.answers.is_empty();
    if written {
        Transfer::add_answers(&sent.path, sent.answers)?;
    }
    let rejected = sent.items.iter().filter(|i| i.verdict == Some(UploadStatus::Rejected)).count();
    Ok(ProcessReport { items: sent.items, written, rejected })
}

/// One item's outcome from the portal's answer to `work`; what came back joins
/// `answers` (a license with the request it answers).
fn answered(
    mut item: ItemOutcome,
    work: Work,
    answer: Result<(Option<Verdict>, Vec<u8>), Error>,
    answers: &mut Vec<(SerialNumber, Answer)>,
) -> ItemOutcome {
    match answer {
        Ok((verdict, bytes)) => {
            let back = match work {
                Work::Audit(id, _) => Answer::Receipt(id, bytes),
                Work::Request(request) => {
                    item.license = issued(&bytes, &item.environment_name);
                    Answer::License { request, license: bytes }
                }
            };
            answers.push((item.serial_number.clone(), back));
            if let Some((status, reasons)) = verdict {
                item.next_step = AuditNextStep::after(status, true);
                item.verdict = Some(status);
                item.reasons = reasons;
            }
        }
        Err(e) => {
            tracing::warn!(serial = %item.serial_number, kind = ?item.kind, error = %e, "transfer item failed");
            item.state = ItemState::Failed;
            item.error = Some((&e).into());
        }
    }
    item
}

/// The verdict a receipt already in the file carries.
fn receipt_verdict(receipt: &[u8]) -> Option<Verdict> {
    let env = Envelope::parse(DocumentKind::Receipt, receipt).ok()?;
    let r = Receipt::from_json(env.payload()).ok()?;
    Some((r.status, r.reasons))
}

/// Uploads one audit; returns the verdict and the receipt, which must name it.
async fn upload_for_receipt(
    client: &PortalClient,
    serial: &SerialNumber,
    id: Uuid,
    bytes: &[u8],
) -> Result<(Option<Verdict>, Vec<u8>), Error> {
    let (audit, _) = Audit::open(bytes)?;
    let sent = crate::document::signed_sha256(DocumentKind::Audit, bytes)?;
    let r = client.upload_audit(bytes).await?;
    let Some(receipt) = r.receipt else {
        // The portal signs receipts only for serials of the uploader's subscription.
        return Err(Error::AuditNotRegistered { audit_id: id, serial: serial.to_string(), reasons: r.reasons });
    };
    let env = Envelope::parse(DocumentKind::Receipt, receipt.as_bytes())?;
    let parsed = Receipt::from_json(env.payload())?;
    if let Err(why) = parsed.answers(&audit, &sent) {
        return Err(Error::PortalProtocol {
            reason: format!("the portal's receipt for audit {id} does not answer it: {why}"),
        });
    }
    Ok((Some((r.status, r.reasons)), receipt.into_bytes()))
}

/// What a license brought back says, for the result line.
fn issued(license: &[u8], name: &str) -> Option<IssuedLicense> {
    let env = Envelope::parse(DocumentKind::License, license).ok()?;
    let l = License::from_json(env.payload()).ok()?;
    Some(IssuedLicense {
        license_id: l.license_id,
        environment_type: l.environment_type,
        registered_as: name.to_string(),
        expires_at: l.expires_at,
    })
}

/// Turns a request into its license, which must be for the request's serial. The
/// serial is registered first under the environment's own name from `transfer.json`
/// (the request file carries only its host name); registering again is idempotent.
/// `reason`: why a slot freed while its license is still valid is reused, when the
/// portal asked for one (`portal_reason_required`) on an earlier run.
async fn license_for_request(
    client: &PortalClient,
    serial: &SerialNumber,
    name: &str,
    reason: Option<&str>,
    bytes: &[u8],
) -> Result<(Option<Verdict>, Vec<u8>), Error> {
    let (req, _) = Request::open(bytes)?;
    let registration = crate::portal::Registration {
        serial_number: req.serial_number.clone(),
        environment_type: req.environment_type,
        name: name.to_string(),
        environment_key: None,
        reason: reason.map(str::to_string),
    };
    client.register(&req.activation_code, &registration).await?;
    let text = client.license_from_request(bytes).await?;
    let env = Envelope::parse(DocumentKind::License, text.as_bytes())?;
    let lic = License::from_json(env.payload())?;
    if &lic.serial_number != serial {
        return Err(Error::PortalProtocol {
            reason: format!("the portal issued a license for {}, not {serial}", lic.serial_number),
        });
    }
    Ok((None, text.into_bytes()))
}

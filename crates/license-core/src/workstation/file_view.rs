//! A transfer file as the connected workstation shows it: each environment, what
//! it carries, and what became of the renewal sent to it. One view for the app's
//! Transfer page and `licensectl transfer show` (its text and `--json`).

use super::renewals::{self, RenewalState, SentLicense};
use crate::error::Error;
use crate::serial::SerialNumber;
use crate::timestamp::{self, Timestamp};
use crate::transfer::{Transfer, TransferEntry};
use serde::Serialize;
use std::path::{Path, PathBuf};
use uuid::Uuid;

/// The license this workstation sent an environment, and what became of it.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Clone, Debug, Serialize)]
pub struct SentRenewal {
    pub sent: SentLicense,
    pub state: RenewalState,
}

#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Clone, Debug, Serialize)]
pub struct FileEnvironment {
    pub entry: TransferEntry,
    /// When the environment itself last exported into the file. `None` for the
    /// entry this workstation wrote when it added a renewal for an environment that
    /// has not exported into the file since: that time is no export.
    #[serde(with = "timestamp::option")]
    #[cfg_attr(feature = "ts", ts(type = "string | null"))]
    pub exported_at: Option<Timestamp>,
    pub request: bool,
    pub audits: Vec<Uuid>,
    pub license: bool,
    pub receipts: Vec<Uuid>,
    pub renewal: Option<SentRenewal>,
}

#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Clone, Debug, Serialize)]
pub struct FileView {
    pub path: PathBuf,
    pub environments: Vec<FileEnvironment>,
    /// The environments whose licenses the file carries, in the order to import
    /// them (Development first), when there is more than one.
    pub import_order: Vec<SerialNumber>,
}

/// The file at `path`, read as `t`, with each renewal's state once the exports in
/// it have been seen (`record`, beside the workstation's configuration).
pub fn view(record: &Path, path: &Path, t: &Transfer) -> Result<FileView, Error> {
    renewals::observe(record, t)?;
    let states = renewals::states(record, t);
    let environments: Vec<FileEnvironment> = t
        .environments
        .iter()
        .map(|(e, p)| {
            let renewal = states
                .iter()
                .find(|(s, _, _)| s == &e.serial_number)
                .map(|(_, sent, state)| SentRenewal { sent: sent.clone(), state: *state });
            let ours = renewal.as_ref().is_some_and(|r| renewals::written_by_workstation(e, &r.sent));
            FileEnvironment {
                entry: e.clone(),
                exported_at: (!ours).then_some(e.exported_at),
                request: p.request.is_some(),
                audits: p.audits.keys().copied().collect(),
                license: p.license.is_some(),
                receipts: p.receipts.keys().copied().collect(),
                renewal,
            }
        })
        .collect();
    let mut carrying: Vec<&TransferEntry> = environments.iter().filter(|e| e.license).map(|e| &e.entry).collect();
    carrying.sort_by_key(|e| e.environment_type.import_rank());
    let import_order =
        if carrying.len() > 1 { carrying.iter().map(|e| e.serial_number.clone()).collect() } else { Vec::new() };
    Ok(FileView { path: path.to_path_buf(), environments, import_order })
}

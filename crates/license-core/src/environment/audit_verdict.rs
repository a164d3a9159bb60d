//! What the portal's verdict on the last audit means for the administrator: a
//! rejected audit is a problem with a way forward, the same in the Overview,
//! `status`, `check` and the workstation's results.

use super::audits::LocalUpload;
use crate::payload::UploadStatus;
use serde::Serialize;

/// What to do after the portal rejected an audit.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AuditNextStep {
    /// No receipt came back: the portal signs receipts only for serials registered
    /// in the subscription, so this one is not. Register it, then send a new audit.
    Register,
    /// The portal named what is wrong (its reasons), usually a license it did not
    /// issue to this serial: install the portal's license, then send a new audit.
    InstallPortalLicense,
}

impl AuditNextStep {
    /// The step for an upload's answer; `None` when the portal verified it.
    pub fn after(status: UploadStatus, has_receipt: bool) -> Option<Self> {
        match (status, has_receipt) {
            (UploadStatus::Verified, _) => None,
            (UploadStatus::Rejected, false) => Some(AuditNextStep::Register),
            (UploadStatus::Rejected, true) => Some(AuditNextStep::InstallPortalLicense),
        }
    }

    /// The step in words, with the commands, for `status` and `check`.
    pub fn words(self) -> &'static str {
        match self {
            AuditNextStep::Register => {
                "register this environment (licensectl portal register), then generate a new audit and upload it (licensectl audit generate, licensectl audit upload)"
            }
            AuditNextStep::InstallPortalLicense => {
                "install the license the portal issued for this serial number (licensectl portal fetch-license --install), then generate a new audit and upload it (licensectl audit generate, licensectl audit upload)"
            }
        }
    }
}

/// The portal's rejection of an environment's last audit, as one line: when, why,
/// and what to do. `None` when the last audit was verified.
pub fn rejection(last: &LocalUpload) -> Option<String> {
    let step = AuditNextStep::after(last.status, last.receipt.is_some())?;
    let why = if last.reasons.is_empty() { "no reason given".to_string() } else { last.reasons.join("; ") };
    let when = crate::timestamp::format(&last.received_at);
    Some(format!("the portal rejected the last audit ({when}): {why}; {}", step.words()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rejection_names_the_reason_and_the_way_forward() {
        assert_eq!(AuditNextStep::after(UploadStatus::Verified, true), None);
        assert_eq!(AuditNextStep::after(UploadStatus::Rejected, false), Some(AuditNextStep::Register));
        assert_eq!(AuditNextStep::after(UploadStatus::Rejected, true), Some(AuditNextStep::InstallPortalLicense));
    }
}

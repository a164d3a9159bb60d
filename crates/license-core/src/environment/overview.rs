//! The overview: this environment's serial, its installed license as it stands
//! today, its last backup and upload, the clock and any serial drift, with the
//! warnings an administrator should see. It stands above the modules whose facts
//! it gathers (audits, drift), so none of them needs it.

use super::audit_verdict::{self, AuditNextStep};
use super::audits::LocalUpload;
use super::backups::BackupEntry;
use super::clock::ClockReading;
use super::drift::Drift;
use super::staged::StagedLicense;
use super::{Environment, EXPIRY_WARNING_DAYS};
use crate::check::{check_license, CheckId, Expectations, Report, Status};
use crate::error::Error;
use crate::payload::{EnvironmentType, License};
use crate::serial::{SerialExplanation, SerialNumber};
use crate::timestamp::Timestamp;
use serde::Serialize;
use std::path::PathBuf;

#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LicenseStatus {
    None,
    Valid,
    Expiring,
    Expired,
    NotYetValid,
    SerialMismatch,
    InvalidSignature,
    WrongEnvironmentType,
    Invalid,
}

#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Clone, Debug, Serialize)]
pub struct InstalledLicense {
    pub status: LicenseStatus,
    pub status_text: String,
    pub days_left: Option<i64>,
    pub license: Option<License>,
    pub report: Report,
}

#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Serialize)]
pub struct Overview {
    pub name: String,
    pub environment_type: EnvironmentType,
    pub config_path: PathBuf,
    pub license_path: PathBuf,
    pub serial: Option<SerialExplanation>,
    pub serial_error: Option<Error>,
    pub installed: InstalledLicense,
    pub last_backup: Option<BackupEntry>,
    pub last_upload: Option<LocalUpload>,
    /// What to do when the portal rejected the last audit (`None` when it verified it).
    pub audit_next_step: Option<AuditNextStep>,
    pub clock: ClockReading,
    /// Why the serial no longer matches the installed license (only then).
    pub drift: Option<Drift>,
    /// The renewal waiting for its start time, if one is staged (and sound).
    pub staged: Option<StagedLicense>,
    /// A staged file is there but does not verify: it will never be installed.
    pub staged_damaged: bool,
    /// False when no vendor key is trusted: no license can be checked.
    pub vendor_keys_configured: bool,
    /// The staged renewal takes effect by the installed license's expiry, so the
    /// expiry needs nothing more from the administrator.
    pub staged_covers_expiry: bool,
    /// A license request belongs in the next transfer file: no license here runs
    /// another year (the installed one, or the renewal staged after it).
    pub request_advised: bool,
    /// Every problem in one line each, for the CLI (the app words its own from the
    /// fields above).
    pub warnings: Vec<String>,
}

impl Environment {
    /// The installed license, checked as the overview shows it.
    fn installed_license(&self, serial: Option<SerialNumber>, now: Timestamp) -> Result<InstalledLicense, Error> {
        Ok(match self.installed_bytes()? {
            None => InstalledLicense {
                status: LicenseStatus::None,
                status_text: "no license is installed".into(),
                days_left: None,
                license: None,
                report: check_license(b"", &self.vendor_keys, &Expectations::default()),
            },
            Some(bytes) => {
                let exp = self.expectations(serial, None, now);
                installed_status(check_license(&bytes, &self.vendor_keys, &exp), now)
            }
        })
    }

    /// The staged renewal, and whether a staged file is damaged (said in `warnings`).
    fn staged_or_why(&self, warnings: &mut Vec<String>) -> (Option<StagedLicense>, bool) {
        match self.staged() {
            Ok(staged) => (staged, false),
            Err(e) => {
                warnings.push(e.to_string());
                (None, matches!(e, Error::StagedDamaged { .. }))
            }
        }
    }

    pub fn overview(&self) -> Result<Overview, Error> {
        let clock = self.clock();
        let now = clock.effective_now();
        // The facts are read once: they make the serial, and explain a changed one.
        let (facts, serial, serial_error) = match self.facts().and_then(|(f, source)| {
            let explained = f.explain(&source)?;
            Ok((f, explained))
        }) {
            Ok((f, s)) => (Some(f), Some(s), None),
            Err(e) => (None, None, Some(e)),
        };
        let mut installed = self.installed_license(serial.as_ref().map(|s| s.serial_number.clone()), now)?;
        let mut warnings = Vec::new();
        warnings.extend(clock.warning.clone());
        let (staged, staged_damaged) = self.staged_or_why(&mut warnings);
        let staged_covers_expiry = staged_takes_over(&mut installed, staged.as_ref());
        if let Some(e) = &serial_error {
            warnings.push(e.to_string());
        }
        if !matches!(installed.status, LicenseStatus::Valid | LicenseStatus::None) && !staged_covers_expiry {
            warnings.push(installed.status_text.clone());
        }
        let drift = match (installed.status, &installed.license, &facts) {
            (LicenseStatus::SerialMismatch, Some(l), Some(f)) => self.drift_for(l, f),
            _ => None,
        };
        if self.vendor_keys.is_empty() {
            let config = self.config_path.display();
            warnings.push(format!("no trusted vendor key is configured: add vendor_keys to {config}"));
        }
        let last_upload =
            self.history_of(serial.as_ref().map(|s| &s.serial_number)).into_iter().max_by_key(|u| u.received_at);
        warnings.extend(last_upload.as_ref().and_then(audit_verdict::rejection));
        let audit_next_step = last_upload.as_ref().and_then(|u| AuditNextStep::after(u.status, u.receipt.is_some()));
        let request_advised = !covered_for_a_year(&installed, staged.as_ref(), now);
        Ok(Overview {
            name: self.config.name.clone(),
            environment_type: self.config.environment_type,
            config_path: self.config_path.clone(),
            license_path: self.config.license_file.clone(),
            serial,
            serial_error,
            installed,
            last_backup: self.backups().list()?.into_iter().next(),
            last_upload,
            audit_next_step,
            clock,
            drift,
            staged,
            staged_damaged,
            vendor_keys_configured: !self.vendor_keys.is_empty(),
            staged_covers_expiry,
            request_advised,
            warnings,
        })
    }
}

/// Whether a staged renewal that will install takes effect by the license's expiry;
/// if so, an expiring license's text says that, not "request a renewal".
fn staged_takes_over(installed: &mut InstalledLicense, staged: Option<&StagedLicense>) -> bool {
    let expires_at = installed.license.as_ref().and_then(|l| l.expires_at);
    let Some(s) = staged.filter(|s| s.will_not_install.is_none()) else { return false };
    if expires_at.is_none_or(|e| s.takes_effect > e) {
        return false;
    }
    if installed.status == LicenseStatus::Expiring {
        let days = installed.days_left.unwrap_or(0);
        let from = crate::timestamp::format(&s.takes_effect);
        installed.status_text = format!("the license expires in {days} days; the staged renewal takes effect {from}");
    }
    true
}

/// A license in use, or a renewal staged to follow it, runs at least a year from
/// `now` (a perpetual one always does).
fn covered_for_a_year(installed: &InstalledLicense, staged: Option<&StagedLicense>, now: Timestamp) -> bool {
    let in_use = matches!(installed.status, LicenseStatus::Valid | LicenseStatus::Expiring);
    let licenses = installed
        .license
        .iter()
        .filter(|_| in_use)
        .chain(staged.filter(|s| s.will_not_install.is_none()).map(|s| &s.license));
    let year = now + chrono::Duration::days(365);
    licenses.into_iter().any(|l| l.expires_at.is_none_or(|e| e >= year))
}

fn installed_status(report: Report, now: Timestamp) -> InstalledLicense {
    let failed = |id: CheckId| report.checks.iter().find(|c| c.id == id && c.status == Status::Fail);
    let license = report.license.clone();
    let days_left = license.as_ref().and_then(|l| l.expires_at).map(|e| crate::timestamp::days_until(&e, &now));
    let (status, text) = if let Some(c) = failed(CheckId::Format).or(failed(CheckId::Contents)) {
        (LicenseStatus::Invalid, format!("the installed license is unreadable: {}", c.message))
    } else if let Some(c) = failed(CheckId::Signature) {
        (LicenseStatus::InvalidSignature, format!("the installed license's signature is invalid: {}", c.message))
    } else if let Some(c) = failed(CheckId::SerialNumber) {
        (LicenseStatus::SerialMismatch, c.message.clone())
    } else if let Some(c) = failed(CheckId::EnvironmentType) {
        (LicenseStatus::WrongEnvironmentType, c.message.clone())
    } else if let Some(c) = failed(CheckId::Dates) {
        let not_yet = license.as_ref().is_some_and(|l| now < l.not_before);
        let s = if not_yet { LicenseStatus::NotYetValid } else { LicenseStatus::Expired };
        (s, format!("the installed license {}", c.message))
    } else {
        match days_left {
            Some(d) if d < EXPIRY_WARNING_DAYS => {
                (LicenseStatus::Expiring, format!("the license expires in {d} days: request a renewal"))
            }
            Some(d) => (LicenseStatus::Valid, format!("valid, {d} days left")),
            None => (LicenseStatus::Valid, "valid, perpetual".into()),
        }
    };
    InstalledLicense { status, status_text: text, days_left, license, report }
}

//! Staged renewals: a license that starts in the future is checked as an install
//! would be at its start time, kept in the state folder, and installed (a backup of
//! the old license first) the first time the environment is looked at on or after
//! that time: by the scheduled check, `licensectl check` or `status`, or the app.
//!
//! Invariants:
//! - At most one license is staged, and a second one replaces it only if it was
//!   issued later. A staged license was issued after the installed one.
//! - Staging changes nothing of the installed license or its backups.
//! - A staged license is installed only through `replace_license`, under the
//!   environment's lock, so the install invariant (old or new, never neither, a
//!   backup first) holds for it too; then a backup of the new license is kept
//!   (nobody is there to take one), and last the staged copy goes. Killed anywhere
//!   between, the next look finds the staged license installed and settles again.
//! - Nothing is installed while the clock is not trusted, and a staged license that
//!   no longer passes (expired while waiting, a changed environment) stays staged,
//!   with the reason said, and is not installed.
//! - A staged license that needs a confirmation (a changed subscription, less than
//!   the installed one gives) is refused: nobody is there to confirm at its start
//!   time, so it is installed by hand on the day.

use super::clock::ClockState;
use super::{EnvLock, Environment, InstallOptions, InstallOutcome, Step};
use crate::check::Report;
use crate::error::Error;
use crate::fs;
use crate::payload::License;
use crate::timestamp::{self, Timestamp};
use crate::trust::{Confirmed, Proposal};
use serde::Serialize;
use std::path::PathBuf;

const FILE: &str = "staged.lic";
/// How far ahead a renewal may start and still be staged: a year.
const STAGE_AHEAD_DAYS: i64 = 366;

#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Clone, Debug, Serialize)]
pub struct StagedLicense {
    pub license: License,
    /// When it is installed: its start (`not_before`).
    #[serde(with = "timestamp")]
    #[cfg_attr(feature = "ts", ts(type = "string"))]
    pub takes_effect: Timestamp,
    pub path: PathBuf,
    /// Why it will not be installed at its start, judged again against the license
    /// installed now (a newer install since, a confirmation it needs, a check it no
    /// longer passes); `None` when it will be.
    pub will_not_install: Option<String>,
}

/// Removing the staged file that was shown: its path and digest.
pub struct RemoveStaged {
    path: PathBuf,
    sha256: String,
}

/// What looking at a staged renewal did.
#[derive(Debug)]
pub enum Activation {
    /// Its start time came: it is installed now.
    Installed(Box<InstallOutcome>),
    /// Its start time came, but it was not installed, for `reason`; it stays staged.
    Waiting { staged: Box<StagedLicense>, reason: String },
}

impl Environment {
    fn staged_path(&self) -> PathBuf {
        self.config.state_dir().join(FILE)
    }

    /// The staged renewal, verified; `None` when none is staged. A staged file that
    /// does not verify is [`Error::StagedDamaged`].
    pub fn staged(&self) -> Result<Option<StagedLicense>, Error> {
        Ok(self.read_staged()?.map(|(_, staged)| staged))
    }

    /// The staged file's bytes and what they say, read once and verified.
    fn read_staged(&self) -> Result<Option<(Vec<u8>, StagedLicense)>, Error> {
        let path = self.staged_path();
        let Some(bytes) = self.staged_bytes()? else { return Ok(None) };
        match crate::payload::open_license(&bytes, &self.vendor_keys) {
            Ok(license) => {
                let will_not_install = self.rejudge(&bytes, &license);
                if let Some(why) = &will_not_install {
                    tracing::warn!(license_id = %license.license_id, reason = %why, "the staged renewal will not be installed");
                }
                let staged = StagedLicense { takes_effect: license.not_before, license, path, will_not_install };
                Ok(Some((bytes, staged)))
            }
            Err(e) => Err(Error::StagedDamaged { path, reason: e.to_string() }),
        }
    }

    /// The staged license judged again, as its install at its start will judge it,
    /// against the license installed now: why it would be refused, if it would.
    fn rejudge(&self, bytes: &[u8], license: &License) -> Option<String> {
        let installed = self.installed_bytes().ok().flatten();
        let current = installed.as_deref().and_then(|b| crate::payload::open_license(b, &self.vendor_keys).ok());
        if current.as_ref().is_some_and(|c| c.license_id == license.license_id) {
            // Installed by a run stopped before it removed the copy: the next look settles it.
            return None;
        }
        let report = self.check_against_at(bytes, installed.as_deref(), license.not_before);
        if !report.installable {
            return Some(format!("it fails at its start: {}", Report::summary_of(report.failed())));
        }
        self.against_installed(&report, current.as_ref(), license).err()
    }

    /// Staging's rules against the installed license: no confirmation needed (nobody
    /// is there at its start), and issued after the installed license.
    fn against_installed(&self, report: &Report, installed: Option<&License>, license: &License) -> Result<(), String> {
        let starts = timestamp::format(&license.not_before);
        if report.needs_confirmation {
            return Err(format!(
                "it needs a confirmation ({}), and nobody is there to give it when it starts: install it by hand on or after {starts}",
                Report::summary_of(report.warnings()),
            ));
        }
        if let Some(installed) = installed {
            if license.issued_at <= installed.issued_at {
                return Err(format!(
                    "it was issued {}, not after the installed license (issued {}): a renewal is newer than the license it replaces",
                    timestamp::format(&license.issued_at),
                    timestamp::format(&installed.issued_at)
                ));
            }
        }
        Ok(())
    }

    fn staged_bytes(&self) -> Result<Option<Vec<u8>>, Error> {
        fs::read_optional(&self.staged_path(), fs::Links::Refuse)
    }

    /// Proposes removing the staged renewal, damaged or not: a trust change, since
    /// the renewal this environment was told to install at its start would not be.
    /// `None` when none is staged.
    pub fn propose_remove_staged(&self) -> Result<Option<Proposal<RemoveStaged>>, Error> {
        let Some(bytes) = self.staged_bytes()? else { return Ok(None) };
        let line = match self.staged() {
            Ok(Some(s)) => format!(
                "Remove the staged renewal {} (takes effect {}): it will not be installed",
                s.license.license_id,
                timestamp::format(&s.takes_effect)
            ),
            _ => format!(
                "Remove the damaged staged renewal {}",
                crate::text::printable(&self.staged_path().display().to_string())
            ),
        };
        let what = RemoveStaged { path: self.staged_path(), sha256: crate::digest::sha256_hex(&bytes) };
        Ok(Some(Proposal::new(what, "Remove the staged renewal?", vec![line])))
    }

    /// Removes the confirmed staged renewal. `false` when none was staged; refused
    /// when another file was staged since it was confirmed.
    pub fn remove_staged(&self, confirmed: Confirmed<RemoveStaged>) -> Result<bool, Error> {
        let _lock = self.lock()?;
        let what = confirmed.get();
        match self.staged_bytes()? {
            None => return Ok(false),
            Some(b) if what.path != self.staged_path() || crate::digest::sha256_hex(&b) != what.sha256 => {
                return Err(Error::NotConfirmed {
                    what: "Another renewal was staged while the removal was being confirmed.".into(),
                })
            }
            Some(_) => {}
        }
        let removed = self.remove_staged_copy()?;
        if removed {
            tracing::info!(path = %self.staged_path().display(), "staged renewal removed");
        }
        Ok(removed)
    }

    /// The license in `file` when it verifies and starts after `now`: it is staged,
    /// not installed.
    pub(super) fn starts_after(&self, file: &[u8], now: Timestamp) -> Option<License> {
        let license = crate::payload::open_license(file, &self.vendor_keys).ok()?;
        (license.not_before > now).then_some(license)
    }

    /// The report for `file`, a license that starts later: every install check as
    /// of its start, then staging's own rules (see the module's invariants).
    pub(super) fn check_staging(&self, file: &[u8], old: Option<&[u8]>, license: &License, now: Timestamp) -> Report {
        let mut report = self.check_against_at(file, old, license.not_before);
        if report.installable {
            let verdict = self.staging_verdict(&report, old, license, now);
            report.add_staging(license.not_before, verdict);
        } else {
            report.takes_effect = Some(license.not_before);
        }
        report
    }

    /// `Ok` with what staging will do, or `Err` with why it will not.
    fn staging_verdict(
        &self,
        report: &Report,
        old: Option<&[u8]>,
        license: &License,
        now: Timestamp,
    ) -> Result<String, String> {
        let starts = timestamp::format(&license.not_before);
        if license.not_before - now > chrono::Duration::days(STAGE_AHEAD_DAYS) {
            return Err(format!(
                "it starts {starts}, more than a year from now: a renewal starts where the current license ends, so check that this is the file you meant"
            ));
        }
        let installed = old.and_then(|b| crate::payload::open_license(b, &self.vendor_keys).ok());
        self.against_installed(report, installed.as_ref(), license)?;
        // A damaged staged file is replaced; a sound one only by a newer license.
        if let Ok(Some(current)) = self.staged() {
            if current.license.license_id != license.license_id && current.license.issued_at >= license.issued_at {
                return Err(format!(
                    "a renewal issued {} is already staged (license {}, takes effect {}): remove it first if this one should take its place",
                    timestamp::format(&current.license.issued_at),
                    current.license.license_id,
                    timestamp::format(&current.takes_effect)
                ));
            }
        }
        Ok(format!("starts {starts}: it is kept staged and installed then, the installed license backed up first"))
    }

    /// Stages `file` (whose license is `license`), checked as of its start time.
    /// The caller holds the environment's lock.
    pub(super) fn stage(
        &self,
        _lock: &EnvLock,
        file: &[u8],
        license: License,
        now: Timestamp,
        progress: &mut dyn FnMut(Step),
    ) -> Result<InstallOutcome, Error> {
        progress(Step::Checking);
        let old = self.installed_bytes()?;
        let report = self.check_staging(file, old.as_deref(), &license, now);
        if let Some(reason) = report.staging_refusal() {
            return Err(stage_refused(reason.to_string()));
        }
        if !report.installable {
            return Err(Error::Refused { failed: Report::summary_of(report.failed()) });
        }
        progress(Step::Writing);
        // The state folder exists and is private: taking the lock made sure of it.
        let path = self.staged_path();
        fs::replace(&path, file, "staged")?;
        progress(Step::Verifying);
        if self.staged_bytes()?.as_deref() != Some(file) {
            return Err(Error::io(
                "verify",
                &path,
                std::io::Error::other("the staged copy did not read back identically"),
            ));
        }
        tracing::info!(license_id = %license.license_id, takes_effect = %timestamp::format(&license.not_before), "renewal staged");
        progress(Step::Done);
        let takes_effect = Some(license.not_before);
        Ok(InstallOutcome { license, backup: None, report, written_path: path, takes_effect })
    }

    /// Installs the staged renewal if its start time has come and the clock is
    /// trusted. `None` when nothing is staged or it is not due yet.
    pub fn activate_staged(&self, progress: &mut dyn FnMut(Step)) -> Result<Option<Activation>, Error> {
        // Most looks find nothing staged, and take no lock for that.
        if self.staged_bytes()?.is_none() {
            return Ok(None);
        }
        let lock = self.lock()?;
        // A damaged staged file installs nothing and hides nothing: the installed
        // license's state is still told, and the overview and `check` name it.
        let (bytes, staged) = match self.read_staged() {
            Ok(Some(read)) => read,
            Ok(None) => return Ok(None),
            Err(e @ Error::StagedDamaged { .. }) => {
                tracing::warn!(error = %e, "the staged renewal is damaged; nothing is installed from it");
                return Ok(None);
            }
            Err(e) => return Err(e),
        };
        let clock = self.clock();
        let now = clock.effective_now();
        // Its start comes by the system clock, never by a remembered time ahead.
        if clock.start_now() < staged.takes_effect {
            return Ok(None);
        }
        if clock.state != ClockState::Ok {
            let reason = format!(
                "the clock is not trusted ({}), so nothing is installed automatically: check the clock (`licensectl clock`)",
                clock.warning.clone().unwrap_or_else(|| "it was turned back".into())
            );
            return Ok(Some(Activation::Waiting { staged: Box::new(staged), reason }));
        }
        if self.installed().is_ok_and(|l| l.license_id == staged.license.license_id) {
            // Installed by a run that was stopped before it removed the copy.
            self.settle_installed(&lock, &bytes)?;
            return Ok(None);
        }
        let (opts, reason) = (InstallOptions { confirmed: false }, super::BackupReason::BeforeInstall);
        match self.replace_license(&lock, &bytes, opts, &reason, now, progress) {
            Ok(outcome) => {
                fs::crash_point("staged:installed");
                self.settle_installed(&lock, &bytes)?;
                tracing::info!(license_id = %outcome.license.license_id, "staged renewal installed");
                Ok(Some(Activation::Installed(Box::new(outcome))))
            }
            Err(e @ (Error::Refused { .. } | Error::NeedsConfirmation { .. } | Error::NoSpace { .. })) => {
                tracing::warn!(error = %e, "the staged renewal was not installed");
                Ok(Some(Activation::Waiting { staged: Box::new(staged), reason: e.to_string() }))
            }
            Err(e) => Err(e),
        }
    }

    /// After the staged renewal `bytes` was installed: since nobody is there to take
    /// one, a backup of the new license is kept, then its staged copy goes. In that
    /// order: a run killed between the two finds the copy and settles again (an
    /// identical backup is not stored twice).
    fn settle_installed(&self, lock: &EnvLock, bytes: &[u8]) -> Result<(), Error> {
        if let Err(e) = self.back_up(lock, bytes, &super::BackupReason::StagedInstalled) {
            tracing::warn!(error = %e, "the installed renewal was not backed up; take a backup (licensectl backup)");
        }
        self.remove_staged_copy().map(drop)
    }

    /// Removes the staged copy, durably; `false` when there was none.
    fn remove_staged_copy(&self) -> Result<bool, Error> {
        let path = self.staged_path();
        match std::fs::remove_file(&path) {
            Ok(()) => fs::sync_dir(&self.config.state_dir()).map(|()| true),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(Error::io("remove", &path, e)),
        }
    }
}

fn stage_refused(reason: String) -> Error {
    Error::StageRefused { reason }
}

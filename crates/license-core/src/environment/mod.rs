//! The local environment: its configuration, serial number, installed license,
//! backups, and the install and restore operations.
//!
//! Invariant (proved by `crates/licensectl/tests/crash.rs`): at every instant the
//! license file is byte-for-byte the old license or the new one, and before it can
//! be the new one a verified, fsynced backup of the old one exists.

pub mod audit_verdict;
pub mod audit_view;
pub mod audits;
pub mod backups;
pub mod clock;
pub mod config;
pub mod drift;
pub mod forecast;
pub mod identity;
pub mod monitor;
pub mod overview;
pub mod renewal;
pub mod report;
pub mod request_view;
pub mod requests;
pub mod staged;
pub mod subscription;
pub mod transfer_here;
pub mod usage;

use crate::check::{check_license, Expectations, Report};
use crate::error::Error;
use crate::fs;
use crate::keys::KeyRing;
use crate::payload::License;
use crate::serial::{SerialExplanation, SerialNumber};
use crate::timestamp::Timestamp;
use crate::trust::{Confirmed, Proposal};
pub use backups::BackupReason;
use backups::{BackupEntry, Backups};
use clock::ClockReading;
pub use config::Config;
use serde::Serialize;
use std::fs::File;
use std::path::{Path, PathBuf};

/// Days before expiry from which the overview warns.
pub const EXPIRY_WARNING_DAYS: i64 = 30;

pub struct Environment {
    pub config: Config,
    pub config_path: PathBuf,
    vendor_keys: KeyRing,
}

#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
/// The phases of an install or restore, reported as they start.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Step {
    Checking,
    BackingUp,
    Writing,
    Verifying,
    Done,
}

/// Free space kept beyond the new license's size before an install starts: file
/// systems allocate whole blocks, and a folder entry may need one.
const SPACE_MARGIN: u64 = 64 * 1024;

pub use crate::fs::LOCK_WAIT;

/// Accepting the system clock, for the environment whose state folder this is.
pub struct AcceptClock {
    state_dir: PathBuf,
}

/// Proof that this process holds the environment's lock ([`Environment::lock`]).
pub(crate) struct EnvLock {
    _file: File,
}

#[derive(Clone, Copy, Debug, Default)]
pub struct InstallOptions {
    /// The administrator accepted the warnings (changed subscription, downgrade).
    pub confirmed: bool,
}

#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Clone, Debug, Serialize)]
pub struct InstallOutcome {
    pub license: License,
    pub backup: Option<BackupEntry>,
    pub report: Report,
    /// The file really written: the link's target when the license path is a link;
    /// the staged copy when the license was staged.
    pub written_path: PathBuf,
    /// When the license starts, if it was staged rather than installed (it starts
    /// in the future; see [`staged`]).
    #[serde(with = "crate::timestamp::option")]
    #[cfg_attr(feature = "ts", ts(type = "string | null"))]
    pub takes_effect: Option<Timestamp>,
}

impl Environment {
    pub fn open(config_path: &Path) -> Result<Self, Error> {
        let config = Config::read(config_path)?;
        fs::check_configuration(config_path, &config.state_dir(), config::is_system_wide(config_path))?;
        Ok(Self::from_config(config, config_path.to_path_buf()))
    }

    pub fn from_config(config: Config, config_path: PathBuf) -> Self {
        let vendor_keys = config.vendor_keys();
        Self { config, config_path, vendor_keys }
    }

    pub fn vendor_keys(&self) -> &KeyRing {
        &self.vendor_keys
    }

    pub fn backups(&self) -> Backups<'_> {
        Backups { dir: &self.config.backup_dir, vendor_keys: &self.vendor_keys }
    }

    pub fn serial(&self) -> Result<SerialExplanation, Error> {
        let (facts, source) = self.facts()?;
        facts.explain(&source)
    }

    pub fn clock(&self) -> ClockReading {
        clock::observe(&self.config.state_dir(), clock::system_now())
    }

    /// The installed license file's bytes, `None` when nothing is installed.
    pub fn installed_bytes(&self) -> Result<Option<Vec<u8>>, Error> {
        fs::read_optional(&self.config.license_file, fs::Links::Follow)
    }

    /// The installed license, parsed and verified against the trusted vendor keys.
    pub fn installed(&self) -> Result<License, Error> {
        let bytes = self.installed_bytes()?.ok_or(Error::NothingInstalled)?;
        crate::payload::open_license(&bytes, &self.vendor_keys)
    }

    /// What this environment expects of a license. `installed` is the file to compare
    /// with (changed subscription, downgrade); one that does not verify is ignored.
    fn expectations(&self, serial: Option<SerialNumber>, installed: Option<&[u8]>, now: Timestamp) -> Expectations {
        Expectations {
            serial_number: serial,
            environment_type: Some(self.config.environment_type),
            installed: installed.and_then(|b| crate::payload::open_license(b, &self.vendor_keys).ok()),
            now,
        }
    }

    /// The checks as they will stand at `now` (a staged renewal: at its start).
    fn check_against_at(&self, file: &[u8], installed: Option<&[u8]>, now: Timestamp) -> Report {
        check_license(
            file,
            &self.vendor_keys,
            &self.expectations(self.serial().ok().map(|e| e.serial_number), installed, now),
        )
    }

    /// Runs every check of a candidate license file against this environment. A
    /// license that starts later is checked as installing it would: as of its start,
    /// to be staged (the report's `takes_effect`).
    pub fn check(&self, file: &[u8]) -> Result<Report, Error> {
        let installed = self.installed_bytes()?;
        let clock = self.clock();
        let now = clock.effective_now();
        Ok(match self.starts_after(file, clock.start_now()) {
            Some(license) => self.check_staging(file, installed.as_deref(), &license, now),
            None => self.check_against_at(file, installed.as_deref(), now),
        })
    }

    /// Takes the environment's one lock, which every writer of its files holds:
    /// install, restore, backup, the clock's acceptance, audits, receipts and the
    /// upload history (each a read-modify-write that two processes must not
    /// interleave). Another holder is waited for up to [`LOCK_WAIT`], with a note in
    /// the log, then [`Error::Busy`]. The OS drops the lock when the process dies, so
    /// a killed install never blocks the next one. Not re-entrant: only public entry
    /// points take it, and what they call receives the [`EnvLock`] as proof.
    pub(crate) fn lock(&self) -> Result<EnvLock, Error> {
        let dir = self.config.state_dir();
        fs::ensure_private_dir(&dir)?;
        let path = dir.join("lock");
        let file = fs::lock_file_within(&path, LOCK_WAIT, || {
            tracing::warn!(lock = %path.display(), "waiting for another install, restore or upload to finish");
        })?;
        // Every writer of these folders holds this lock: what a killed one left is stale.
        for d in [dir.clone(), dir.join("outbox"), self.config.backup_dir.clone()] {
            fs::remove_stale_temps(&d);
        }
        Ok(EnvLock { _file: file })
    }

    /// Proposes that the system clock is right (after a suspect clock record): the
    /// remembered time would become now. A trust change: it lifts the clock's
    /// protection against a license used past its expiry.
    pub fn propose_accept_clock(&self) -> Result<Proposal<AcceptClock>, Error> {
        let reading = self.clock();
        if !reading.can_accept() {
            return Err(Error::NothingToAccept);
        }
        let line = format!(
            "Trust the system clock ({}) and forget the later time this environment remembers ({})",
            crate::timestamp::format(&reading.system_time),
            crate::timestamp::format(&reading.latest_seen),
        );
        Ok(Proposal::new(AcceptClock { state_dir: self.config.state_dir() }, "Accept the system clock?", vec![line]))
    }

    /// The administrator confirmed the system clock is right: the remembered time
    /// becomes now.
    pub fn accept_clock(&self, confirmed: Confirmed<AcceptClock>) -> Result<ClockReading, Error> {
        if confirmed.get().state_dir != self.config.state_dir() {
            return Err(Error::NotConfirmed { what: "The clock was confirmed for another environment.".into() });
        }
        let _lock = self.lock()?;
        if !self.clock().can_accept() {
            return Err(Error::NothingToAccept);
        }
        clock::accept(&self.config.state_dir(), clock::system_now())?;
        Ok(self.clock())
    }

    /// Backs up the installed license now. `None` when nothing is installed.
    pub fn backup_now(&self, reason: &BackupReason) -> Result<Option<BackupEntry>, Error> {
        let lock = self.lock()?;
        match self.installed_bytes()? {
            None => Ok(None),
            Some(bytes) => self.back_up(&lock, &bytes, reason),
        }
    }

    /// Backs up `bytes`, the installed license file, with the license file's own
    /// permission bits. Only a license is backed up: the license path may be a link,
    /// and a link to a secret must not become a readable copy of it. "A license" is
    /// judged leniently (its armor label anywhere in the text), so a license that
    /// an editor re-saved with a byte-order mark or CRLF line ends is still kept.
    fn back_up(&self, _lock: &EnvLock, bytes: &[u8], reason: &BackupReason) -> Result<Option<BackupEntry>, Error> {
        let label = format!("-----BEGIN {}-----", crate::kind::DocumentKind::License.label());
        if !bytes.windows(label.len()).any(|w| w == label.as_bytes()) {
            return Err(Error::NotALicense {
                path: self.config.license_file.clone(),
                reason: format!("it has no {label} line"),
            });
        }
        let mode = fs::mode_of_path(&self.config.license_file);
        self.backups().store(bytes, reason, chrono::Utc::now(), mode).map(Some)
    }

    /// Installs `file`, or stages it when it starts in the future (see [`staged`]).
    pub fn install(
        &self,
        file: &[u8],
        opts: InstallOptions,
        progress: &mut dyn FnMut(Step),
    ) -> Result<InstallOutcome, Error> {
        let lock = self.lock()?;
        // One reading of the clock (which records what it saw) decides both whether
        // the license starts later (by the system clock: a remembered time ahead
        // starts nothing early) and how it is checked.
        let clock = self.clock();
        let now = clock.effective_now();
        if let Some(license) = self.starts_after(file, clock.start_now()) {
            return self.stage(&lock, file, license, now, progress);
        }
        self.replace_license(&lock, file, opts, &BackupReason::BeforeInstall, now, progress)
    }

    pub fn restore(
        &self,
        backup_id: &str,
        opts: InstallOptions,
        progress: &mut dyn FnMut(Step),
    ) -> Result<InstallOutcome, Error> {
        let bytes = self.backups().read(backup_id)?;
        let lock = self.lock()?;
        let reason = BackupReason::BeforeRestore { backup_id: backup_id.to_string() };
        self.replace_license(&lock, &bytes, opts, &reason, self.clock().effective_now(), progress)
    }

    /// The checks an install must pass: installable here, and confirmed when the
    /// report has warnings.
    fn admit(&self, file: &[u8], old: Option<&[u8]>, opts: InstallOptions, now: Timestamp) -> Result<Report, Error> {
        let report = self.check_against_at(file, old, now);
        if !report.installable {
            return Err(Error::Refused { failed: Report::summary_of(report.failed()) });
        }
        if report.needs_confirmation && !opts.confirmed {
            return Err(Error::NeedsConfirmation { warnings: Report::summary_of(report.warnings()) });
        }
        Ok(report)
    }

    /// Installs `file` over the license, a verified backup of the old one first,
    /// checked as of `now` (the caller's one clock reading). The caller holds the
    /// environment's lock.
    fn replace_license(
        &self,
        lock: &EnvLock,
        file: &[u8],
        opts: InstallOptions,
        reason: &BackupReason,
        now: Timestamp,
        progress: &mut dyn FnMut(Step),
    ) -> Result<InstallOutcome, Error> {
        fs::crash_point("install:locked");
        // Platforms often link their license file: the link's target is replaced in
        // its own folder, keeping its mode and owner, and the link stays.
        let target = &fs::resolve_link(&self.config.license_file)?;
        if let Some(dir) = target.parent() {
            fs::remove_stale_temps(dir);
        }

        progress(Step::Checking);
        // Read once: the same bytes are compared with and then backed up.
        let old = self.installed_bytes()?;
        let report = self.admit(file, old.as_deref(), opts, now)?;
        let license = report.license.clone().expect("installable reports carry the license");
        // Room for the new file beside the old one (the temporary copy is written
        // first), checked before the backup: an install either completes or changes
        // nothing, not even the backup folder.
        ensure_room(target.parent().unwrap_or(Path::new(".")), file.len() as u64 + SPACE_MARGIN)?;

        progress(Step::BackingUp);
        let backup = match &old {
            Some(bytes) => match self.back_up(lock, bytes, reason) {
                // What is there is not a license: there is nothing to lose, and no
                // copy of it is made (the path may be a link to something private).
                Err(Error::NotALicense { reason, .. }) => {
                    tracing::warn!(%reason, "the file at the license path is not a license; it is replaced without a backup");
                    None
                }
                other => other?,
            },
            None => None,
        };
        fs::crash_point("install:backed-up");

        progress(Step::Writing);
        fs::replace(target, file, "license")?;

        progress(Step::Verifying);
        let back = fs::read_optional(&self.config.license_file, fs::Links::Follow)?;
        if back.as_deref() != Some(file) {
            if let (Some(old), Some(b)) = (&old, &backup) {
                fs::replace(target, old, "license-rollback")?;
                return Err(Error::ReadBackFailed { backup: b.id.clone() });
            }
            return Err(Error::io(
                "verify",
                target,
                std::io::Error::other("the written license did not read back identically"),
            ));
        }
        tracing::info!(license_id = %license.license_id, backup = ?backup.as_ref().map(|b| &b.id), path = %target.display(), "license installed");
        // The license is installed whatever happens here; without the record a later
        // serial change is still reported, only without naming the fact.
        if let Err(e) = self.remember_serial_facts(&license) {
            tracing::warn!(error = %e, "could not remember the serial's facts");
        }
        progress(Step::Done);
        Ok(InstallOutcome { license, backup, report, written_path: target.clone(), takes_effect: None })
    }
}

fn ensure_room(dir: &Path, needed: u64) -> Result<(), Error> {
    match fs::free_bytes(dir).filter(|free| *free < needed) {
        Some(free) => Err(Error::NoSpace { path: dir.to_path_buf(), needed, free }),
        None => Ok(()),
    }
}

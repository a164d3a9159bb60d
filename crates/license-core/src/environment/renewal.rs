//! Automatic renewal where connected (opt-in): within a number of days of expiry,
//! ask the portal for this serial's current license and, when it is newer and
//! passes every check, install it, or stage it when it starts later.
//!
//! Invariants:
//! - The installed license changes only through [`Environment::install`], under the
//!   environment's lock, with a backup first; a run that fails anywhere (portal
//!   unreachable, slow, 5xx, a hostile answer) changes nothing and the next run
//!   tries again.
//! - Nothing is installed automatically that a person should decide: a changed
//!   subscription or environment type, a downgrade, or any install while the clock
//!   is not trusted. Those wait, with the reason named.
//! - An answer that is not this serial's license from the trusted vendor (another
//!   serial, an unknown key, a damaged file) is refused as hostile.
//! - One renewal at a time per environment: a second one is refused at once rather
//!   than queued behind the first ([`Error::RenewalRunning`]).
//! - Every run that asked the portal leaves a line in the renewal history
//!   (`<state>/renewals.json`, the newest [`HISTORY_KEPT`] to twice that; older
//!   runs move to `<state>/history/renewals.<time>.json`, never dropped).

use super::clock::{self, ClockState};
use super::{Environment, InstallOptions, InstallOutcome, Step};
use crate::check::{CheckId, Field, Report};
use crate::error::Error;
use crate::fs;
use crate::payload::License;
use crate::portal::PortalClient;
use crate::timestamp::{self, Timestamp};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// Days before expiry from which `licensectl renew` asks the portal.
pub const RENEW_WITHIN_DAYS: i64 = 30;
/// Runs the live renewal history keeps when it rotates.
pub const HISTORY_KEPT: usize = 100;
/// The most of one run's detail the history keeps: 100 runs stay far below the
/// history's read cap.
const MAX_DETAIL_CHARS: usize = 2000;
const HISTORY: &str = "renewals.json";
const LOCK: &str = "renew.lock";

#[derive(Clone, Copy, Debug)]
pub struct RenewOptions {
    /// Ask the portal only within this many days of expiry.
    pub within_days: i64,
    /// Decide, and say what would happen, but change nothing.
    pub dry_run: bool,
}

impl Default for RenewOptions {
    fn default() -> Self {
        Self { within_days: RENEW_WITHIN_DAYS, dry_run: false }
    }
}

#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
/// What one renewal run decided.
#[derive(Clone, Debug, Serialize)]
#[serde(tag = "renewal", rename_all = "snake_case")]
pub enum Renewal {
    /// More than the window is left (or the license is perpetual): the portal was not asked.
    NotDue {
        #[serde(with = "timestamp::option")]
        #[cfg_attr(feature = "ts", ts(type = "string | null"))]
        expires_at: Option<Timestamp>,
    },
    /// The portal's license is the one installed or staged, or not newer.
    UpToDate { license_id: uuid::Uuid },
    /// A dry run: this license would be installed (or staged, from `takes_effect`).
    WouldInstall {
        license: License,
        #[serde(with = "timestamp::option")]
        #[cfg_attr(feature = "ts", ts(type = "string | null"))]
        takes_effect: Option<Timestamp>,
        /// The portal's license file, for a person to check and install by hand.
        #[serde(skip)]
        #[cfg_attr(feature = "ts", ts(skip))]
        text: String,
    },
    /// Installed now, a backup of the old license first.
    Installed { outcome: Box<InstallOutcome> },
    /// Staged: it is installed when it starts.
    Staged { outcome: Box<InstallOutcome> },
    /// Not installed automatically, for `reason`: it waits for a person.
    WaitsForPerson {
        license: Option<License>,
        reason: String,
        /// The portal's license file, for a person to check and install by hand.
        #[serde(skip)]
        #[cfg_attr(feature = "ts", ts(skip))]
        text: Option<String>,
    },
}

impl Renewal {
    /// The outcome's name, as the history and `--json` carry it.
    pub fn name(&self) -> &'static str {
        match self {
            Renewal::NotDue { .. } => "not_due",
            Renewal::UpToDate { .. } => "up_to_date",
            Renewal::WouldInstall { .. } => "would_install",
            Renewal::Installed { .. } => "installed",
            Renewal::Staged { .. } => "staged",
            Renewal::WaitsForPerson { .. } => "waits_for_person",
        }
    }

    fn license_id(&self) -> Option<uuid::Uuid> {
        match self {
            Renewal::NotDue { .. } => None,
            Renewal::UpToDate { license_id } => Some(*license_id),
            Renewal::WouldInstall { license, .. } => Some(license.license_id),
            Renewal::Installed { outcome } | Renewal::Staged { outcome } => Some(outcome.license.license_id),
            Renewal::WaitsForPerson { license, .. } => license.as_ref().map(|l| l.license_id),
        }
    }

    /// The portal's license a person should look at: one a check found newer, or
    /// one that waits for a person's confirmation.
    pub fn offered(&self) -> Option<&str> {
        match self {
            Renewal::WouldInstall { text, .. } => Some(text),
            Renewal::WaitsForPerson { text, .. } => text.as_deref(),
            _ => None,
        }
    }
}

#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
/// One line of the renewal history.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RenewalRecord {
    #[serde(with = "timestamp")]
    #[cfg_attr(feature = "ts", ts(type = "string"))]
    pub at: Timestamp,
    /// [`Renewal::name`], or `failed`.
    pub outcome: String,
    pub license_id: Option<uuid::Uuid>,
    /// The reason it waits, or the error it failed with.
    pub detail: Option<String>,
}

/// Proof that this process is the environment's one renewal.
pub struct RenewalLock {
    _file: std::fs::File,
}

impl Environment {
    /// Takes the renewal lock without waiting: a second renewal is refused.
    pub fn renewal_lock(&self) -> Result<RenewalLock, Error> {
        let dir = self.config.state_dir();
        fs::ensure_private_dir(&dir)?;
        match fs::lock_file(&dir.join(LOCK), false) {
            Ok(file) => Ok(RenewalLock { _file: file }),
            Err(Error::Busy { path }) => Err(Error::RenewalRunning { path }),
            Err(e) => Err(e),
        }
    }

    /// Whether the installed license is within `within_days` of its expiry
    /// (`None`: not due, with its expiry).
    fn renewal_due(&self, within_days: i64, now: Timestamp) -> Result<Option<Renewal>, Error> {
        let installed = self.installed()?;
        match installed.expires_at {
            Some(e) if e - now <= chrono::Duration::days(within_days) => Ok(None),
            expires_at => Ok(Some(Renewal::NotDue { expires_at })),
        }
    }

    /// Decides what to do with `file`, the portal's answer, without changing anything.
    fn judge_renewal(&self, file: &[u8]) -> Result<Decision, Error> {
        let license = crate::payload::open_license(file, &self.vendor_keys)
            .map_err(|e| hostile(format!("its answer is not a license from the trusted vendor ({e})")))?;
        let installed = self.installed()?;
        if license.license_id == installed.license_id || license.issued_at <= installed.issued_at {
            return Ok(Decision::Done(Renewal::UpToDate { license_id: license.license_id }));
        }
        if let Ok(Some(staged)) = self.staged() {
            if staged.license.license_id == license.license_id || license.issued_at <= staged.license.issued_at {
                return Ok(Decision::Done(Renewal::UpToDate { license_id: license.license_id }));
            }
        }
        let at = self.clock().effective_now().max(license.not_before);
        let report = self.check_against_at(file, self.installed_bytes()?.as_deref(), at);
        Ok(match for_a_person(&report) {
            Some(reason) => {
                let text = String::from_utf8(file.to_vec()).ok();
                Decision::Done(Renewal::WaitsForPerson { license: Some(license), reason, text })
            }
            None if !report.installable => {
                return Err(hostile(format!(
                    "its license is not for this environment: {}",
                    Report::summary_of(report.failed())
                )))
            }
            None => Decision::Install(license),
        })
    }

    /// The renewal history, oldest first; empty when there is none, and empty with a
    /// logged warning when it is unreadable (it is derived: the install history and
    /// the backups keep what matters).
    pub fn renewal_history(&self) -> Vec<RenewalRecord> {
        fs::read_derived(&self.history_path(), "renewal history")
    }

    pub(crate) fn history_path(&self) -> PathBuf {
        self.config.state_dir().join(HISTORY)
    }

    /// Appends a run to the history; the outcome of a run recorded as installing
    /// takes that record's place. The caller holds the renewal lock, the history's
    /// only writer.
    fn record_renewal(&self, _lock: &RenewalLock, record: RenewalRecord) -> Result<(), Error> {
        let mut history = self.renewal_history();
        if history.last().is_some_and(|r| r.outcome == INSTALLING) && record.outcome != INSTALLING {
            history.pop();
        }
        history.push(record);
        let limit = crate::rotation::Limit { above: 2 * HISTORY_KEPT, keep: HISTORY_KEPT };
        crate::rotation::rotate(&self.history_path(), &mut history, limit, |r| r.at)?;
        let body = serde_json::to_vec_pretty(&history).expect("serialises");
        fs::replace(&self.history_path(), &body, "renewals")
    }
}

/// Each record stays small, so the kept history stays under its read cap whatever
/// a portal answered.
fn capped(record: RenewalRecord) -> RenewalRecord {
    RenewalRecord { detail: record.detail.map(|d| crate::text::printable_capped(&d, MAX_DETAIL_CHARS)), ..record }
}

/// The outcome recorded before a renewal installs, replaced by how it ended.
const INSTALLING: &str = "installing";

impl Environment {
    /// A run killed while it installed left "installing" as the history's last
    /// record: it becomes what really happened, as the license files say.
    fn settle_interrupted(&self, lock: &RenewalLock) {
        let Some(last) = self.renewal_history().pop().filter(|r| r.outcome == INSTALLING) else { return };
        let id = last.license_id;
        let outcome = if self.installed().is_ok_and(|l| Some(l.license_id) == id) {
            "installed"
        } else if self.staged().ok().flatten().is_some_and(|s| Some(s.license.license_id) == id) {
            "staged"
        } else {
            "failed"
        };
        let detail = Some(format!("the run was stopped while it installed; settled by the next run ({outcome})"));
        let record = RenewalRecord { outcome: outcome.into(), detail, ..last };
        if let Err(e) = self.record_renewal(lock, record) {
            tracing::warn!(error = %e, "could not settle the interrupted renewal in its history");
        }
    }
}

enum Decision {
    Done(Renewal),
    Install(License),
}

/// Why a person must decide on this license, if they must: a changed subscription
/// or environment type, or a downgrade (the checks that warn or fail for those);
/// or a lesser change no check refuses: another customer, or a support level that
/// is not known to be higher ([`support_rises`]).
fn for_a_person(report: &Report) -> Option<String> {
    let person = [CheckId::ActivationCode, CheckId::EnvironmentType, CheckId::Downgrade];
    let other_failures = report.failed().any(|c| !person.contains(&c.id));
    let named: Vec<_> = report.failed().chain(report.warnings()).filter(|c| person.contains(&c.id)).cloned().collect();
    let mut reasons: Vec<String> = Vec::new();
    if !named.is_empty() {
        reasons.push(Report::summary_of(named.iter()));
    }
    let changed = report.differences.iter().filter(|d| d.old.is_some());
    let lesser = |d: &&crate::check::Difference| match d.field {
        Field::Customer => true,
        Field::SupportLevel => !support_rises(d.old.as_ref().and_then(|v| v.value.as_deref()), d.new.value.as_deref()),
        _ => false,
    };
    for d in changed.filter(lesser) {
        let old = d.old.as_ref().map(|v| v.to_string()).unwrap_or_default();
        reasons.push(format!("the {} changes ({old} → {})", d.field.label().to_lowercase(), d.new));
    }
    (!other_failures && !reasons.is_empty()).then(|| {
        format!(
            "{}; it is not installed automatically: review it and install it by hand (`licensectl portal fetch-license --install`)",
            reasons.join("; ")
        )
    })
}

/// The spec gives support levels no order. These common names rise in this order;
/// a change between two of them upward renews unattended, any other change of
/// level (down, or to or from a name not in the list) waits for a person.
const SUPPORT_LEVELS: &[&str] = &["basic", "standard", "premium", "enterprise"];

fn support_rises(old: Option<&str>, new: Option<&str>) -> bool {
    let rank = |l: Option<&str>| l.and_then(|l| SUPPORT_LEVELS.iter().position(|k| k.eq_ignore_ascii_case(l.trim())));
    matches!((rank(old), rank(new)), (Some(o), Some(n)) if n > o)
}

fn hostile(reason: String) -> Error {
    Error::RenewalRefused { reason }
}

/// One renewal run: see the module's invariants. `progress` hears the install's steps.
pub async fn renew(
    env: &Environment,
    client: &PortalClient,
    opts: RenewOptions,
    progress: &mut (dyn FnMut(Step) + Send),
) -> Result<Renewal, Error> {
    let lock = env.renewal_lock()?;
    // What a killed run left: its temporary history file, and a run recorded as
    // installing that never said how it ended.
    fs::remove_stale_temps_of(&env.history_path());
    env.settle_interrupted(&lock);
    let clock = env.clock();
    if let Some(not_due) = env.renewal_due(opts.within_days, clock.effective_now())? {
        return Ok(not_due);
    }
    let result = renew_due(env, client, opts, (&lock, clock.state), progress).await;
    if !opts.dry_run {
        let at = clock::system_now();
        let record = match &result {
            Ok(r) => RenewalRecord {
                at,
                outcome: r.name().into(),
                license_id: r.license_id(),
                detail: match r {
                    Renewal::WaitsForPerson { reason, .. } => Some(reason.clone()),
                    _ => None,
                },
            },
            Err(e) => RenewalRecord { at, outcome: "failed".into(), license_id: None, detail: Some(e.to_string()) },
        };
        if let Err(e) = env.record_renewal(&lock, capped(record)) {
            tracing::warn!(error = %e, "could not record the renewal in its history");
        }
    }
    result
}

async fn renew_due(
    env: &Environment,
    client: &PortalClient,
    opts: RenewOptions,
    (lock, clock_state): (&RenewalLock, ClockState),
    progress: &mut (dyn FnMut(Step) + Send),
) -> Result<Renewal, Error> {
    let serial = env.serial()?.serial_number;
    let text = client.download_license(&serial).await?;
    let license = match env.judge_renewal(text.as_bytes())? {
        Decision::Done(r) => return Ok(r),
        Decision::Install(license) => license,
    };
    if clock_state != ClockState::Ok {
        let reason =
            "the clock is not trusted, so nothing is installed automatically: check the clock (`licensectl clock`)";
        return Ok(Renewal::WaitsForPerson { license: Some(license), reason: reason.into(), text: Some(text) });
    }
    if opts.dry_run {
        let takes_effect = (license.not_before > env.clock().start_now()).then_some(license.not_before);
        return Ok(Renewal::WouldInstall { license, takes_effect, text });
    }
    // Recorded before it installs: a run killed mid-install still left its mark,
    // which the next run settles (`settle_interrupted`).
    let installing = RenewalRecord {
        at: clock::system_now(),
        outcome: INSTALLING.into(),
        license_id: Some(license.license_id),
        detail: None,
    };
    env.record_renewal(lock, installing)?;
    // The install checks again under the environment's lock: what it installs is
    // what it checked, whatever happened since.
    let outcome = Box::new(env.install(text.as_bytes(), InstallOptions { confirmed: false }, progress)?);
    tracing::info!(license_id = %outcome.license.license_id, staged = outcome.takes_effect.is_some(), "renewed from the portal");
    Ok(if outcome.takes_effect.is_some() { Renewal::Staged { outcome } } else { Renewal::Installed { outcome } })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_known_higher_support_level_renews_unattended() {
        assert!(support_rises(Some("standard"), Some("Premium")));
        assert!(!support_rises(Some("premium"), Some("standard")), "lower");
        assert!(!support_rises(Some("standard"), Some("gold")), "not known");
        assert!(!support_rises(Some("24x7"), Some("premium")), "from a level not known");
    }

    /// Long refusals (a portal's megabyte of detail) never push the history past its
    /// read cap: every record is kept, each cut to its own cap, and past twice
    /// [`HISTORY_KEPT`] the oldest move to a rotated part instead of being dropped.
    #[test]
    fn long_refusals_keep_the_renewal_history() {
        let d = tempfile::tempdir().unwrap();
        let env = Environment::open(&crate::demo::create(d.path()).unwrap()).unwrap();
        let lock = env.renewal_lock().unwrap();
        let runs = 2 * HISTORY_KEPT + 20;
        for i in 0..runs {
            let detail = Some(format!("run {i}: {}", "x".repeat(100_000)));
            let record = RenewalRecord { at: clock::system_now(), outcome: "failed".into(), license_id: None, detail };
            env.record_renewal(&lock, capped(record)).unwrap();
        }
        let history = env.renewal_history();
        let moved: Vec<RenewalRecord> = crate::rotation::rotated(&env.history_path(), "renewal history part");
        assert_eq!((moved.len(), history.len()), (HISTORY_KEPT + 1, HISTORY_KEPT + 19), "kept, not reset or dropped");
        let first = |r: &RenewalRecord| r.detail.as_ref().unwrap().split(':').next().unwrap().to_string();
        let all: Vec<String> = moved.iter().chain(&history).map(first).collect();
        assert_eq!(all, (0..runs).map(|i| format!("run {i}")).collect::<Vec<_>>(), "every run, in order");
        assert!(history.iter().all(|r| r.detail.as_ref().unwrap().chars().count() <= MAX_DETAIL_CHARS + 1));
    }
}

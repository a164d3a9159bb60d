//! Clock check: the latest time ever seen is remembered, so a clock turned back is
//! reported and cannot make an expired license look valid again.
//!
//! What the record is trusted for (ARCHITECTURE.md, "Clock"):
//! - It carries a MAC keyed by the environment key, so an edited or corrupt record is
//!   evident. This is tamper-evident, not tamper-proof: root on the same machine can
//!   read the key and forge a record.
//! - A remembered time ahead of the system clock is believed, however far ahead:
//!   licenses are judged by it, so a clock turned back by a week or by a year cannot
//!   revive an expired license. Up to [`TRUST_AHEAD_DAYS`] ahead the clock is
//!   reported as *behind*; further ahead as *suspect* (more likely a clock that once
//!   jumped forward). Either way the remembered time is kept until the system clock
//!   reaches it or the administrator accepts the current clock ([`accept`], allowed
//!   only in those two states): a clock that once jumped to 2099 expires the
//!   licenses until a person decides, loudly, rather than letting a rollback pass.
//! - A missing record (once the environment key exists) or one that fails its MAC is
//!   reported once, then replaced by a fresh record from now.

use super::identity;
use crate::fs;
use crate::keys::KeyPair;
use crate::timestamp::{self, Timestamp};
use chrono::Duration;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use std::path::Path;

const FILE: &str = "clock.json";
/// Small corrections (NTP adjustments) are not worth a warning.
const TOLERANCE_MINUTES: i64 = 10;
/// Up to how far ahead of the system clock a remembered time is reported as the
/// clock being behind; further ahead it is suspect. Both are believed.
pub const TRUST_AHEAD_DAYS: i64 = 7;

#[derive(Serialize, Deserialize)]
struct Record {
    #[serde(with = "timestamp")]
    latest_seen: Timestamp,
    /// Hex HMAC-SHA256 of `clock/v1\n<latest_seen>`.
    mac: String,
}

#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ClockState {
    /// The system clock is at or after every time seen.
    Ok,
    /// The system clock is behind a time seen before, within the trusted bound:
    /// licenses are judged by the remembered time.
    Behind,
    /// The remembered time is far ahead of the system clock: still believed, and
    /// worth an administrator's decision ([`accept`]).
    Suspect,
    /// The record was missing although this environment had one: protection restarts now.
    RecordMissing,
    /// The record was edited or damaged: protection restarts now.
    RecordAltered,
    /// The environment key cannot be read (damaged, unreadable, others may read it):
    /// no time can be remembered, so a clock turned back goes unnoticed.
    Unprotected,
}

#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Clone, Debug, Serialize)]
pub struct ClockReading {
    #[serde(with = "timestamp")]
    #[cfg_attr(feature = "ts", ts(type = "string"))]
    pub system_time: Timestamp,
    #[serde(with = "timestamp")]
    #[cfg_attr(feature = "ts", ts(type = "string"))]
    pub latest_seen: Timestamp,
    pub state: ClockState,
    pub warning: Option<String>,
}

impl ClockReading {
    /// The time by which a license has *started*: the system clock, never the
    /// remembered time. A clock that jumped forward and was set right again leaves
    /// a remembered time ahead; expiry is judged by that later time (a rollback
    /// revives nothing), but a start only by the system clock, within the
    /// 10-minute tolerance of a clock behind the remembered time: a jump forward
    /// activates nothing before its start.
    pub fn start_now(&self) -> Timestamp {
        self.system_time
    }

    /// The time licenses are judged by: the later of the system clock and the
    /// remembered time, while that is trusted (not after a missing or altered record).
    pub fn effective_now(&self) -> Timestamp {
        match self.state {
            ClockState::Behind | ClockState::Suspect => self.system_time.max(self.latest_seen),
            _ => self.system_time,
        }
    }

    /// Whether the administrator may accept the system clock: only while it is
    /// behind a remembered time.
    pub fn can_accept(&self) -> bool {
        matches!(self.state, ClockState::Behind | ClockState::Suspect)
    }
}

fn mac_key(key: &KeyPair) -> Hmac<Sha256> {
    // Ed25519 signatures are deterministic: this is a secret only the key holder can derive.
    let secret = key.sign(b"license-manager/clock-record-mac/v1").to_bytes();
    Hmac::<Sha256>::new_from_slice(&secret).expect("any key length")
}

fn mac_of(key: &KeyPair, latest: &Timestamp) -> String {
    let mut m = mac_key(key);
    m.update(format!("clock/v1\n{}", timestamp::format(latest)).as_bytes());
    crate::digest::hex_lower(&m.finalize().into_bytes())
}

/// Writes the record for `latest`, with its MAC.
fn write(path: &Path, key: &KeyPair, latest: Timestamp) -> Result<(), crate::error::Error> {
    let body = serde_json::to_vec(&Record { latest_seen: latest, mac: mac_of(key, &latest) }).expect("serialises");
    fs::replace(path, &body, "clock")
}

enum Read {
    Missing,
    Altered,
    Seen(Timestamp),
}

fn read(path: &Path, key: &KeyPair) -> Read {
    let bytes = match fs::read_capped(path, 4096, fs::Links::Refuse) {
        Err(crate::error::Error::Io { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => {
            return Read::Missing
        }
        Err(_) => return Read::Altered,
        Ok(b) => b,
    };
    match serde_json::from_slice::<Record>(&bytes) {
        Ok(r) if mac_of(key, &r.latest_seen) == r.mac => Read::Seen(r.latest_seen),
        _ => Read::Altered,
    }
}

/// The system clock. Test builds (`crash-points`) can set it with
/// `LICENSE_MANAGER_TEST_NOW` (RFC 3339), so a test can reach a staged renewal's
/// start time without waiting for it; shipped builds read the system clock only.
pub fn system_now() -> Timestamp {
    #[cfg(feature = "crash-points")]
    if let Some(t) = std::env::var("LICENSE_MANAGER_TEST_NOW").ok().and_then(|s| timestamp::parse(&s).ok()) {
        return t;
    }
    chrono::Utc::now()
}

/// Reads the remembered time and records `now` if it is later. Failing to record is
/// not fatal (a read-only state folder still lets the overview work).
pub fn observe(state_dir: &Path, now: Timestamp) -> ClockReading {
    let path = state_dir.join(FILE);
    let had_key = identity::exists(state_dir);
    let key = match identity::load_or_create(state_dir) {
        Ok(k) => k,
        Err(e) => return unprotected(state_dir, now, &e),
    };
    let fmt = timestamp::format;
    // Each branch: the state, the remembered time, what to record (None: keep the
    // record as it is), and the warning.
    let (state, latest, record, warning) = match read(&path, &key) {
        Read::Missing if !had_key => (ClockState::Ok, now, Some(now), None),
        Read::Missing => (
            ClockState::RecordMissing,
            now,
            Some(now),
            Some(format!("the clock record {} was missing: protection against a clock turned back starts again from now", path.display())),
        ),
        Read::Altered => (
            ClockState::RecordAltered,
            now,
            Some(now),
            Some(format!(
                "the clock record {} was edited or damaged and is not trusted: protection against a clock turned back starts again from now",
                path.display()
            )),
        ),
        // Kept as evidence until the clock reaches it or the administrator accepts.
        Read::Seen(seen) if seen - now > Duration::days(TRUST_AHEAD_DAYS) => (
            ClockState::Suspect,
            seen,
            None,
            Some(format!(
                "this environment once saw the time {}, far ahead of the system clock ({}): if the system clock is right, accept it (the earlier time was a clock error); if not, correct the clock. Until then license dates are judged by the later time, so a license expired by then is expired",
                fmt(&seen),
                fmt(&now)
            )),
        ),
        Read::Seen(seen) if seen - now > Duration::minutes(TOLERANCE_MINUTES) => (
            ClockState::Behind,
            seen,
            None,
            Some(format!(
                "the system clock ({}) is behind a time this environment already saw ({}): correct the clock; license dates are judged by the later time",
                fmt(&now),
                fmt(&seen)
            )),
        ),
        Read::Seen(seen) => (ClockState::Ok, seen.max(now), (now > seen).then_some(now), None),
    };
    if let Some(w) = &warning {
        tracing::warn!(state = ?state, "{w}");
    }
    if let Some(t) = record {
        if let Err(e) = write(&path, &key, t) {
            tracing::warn!(error = %e, "could not record the clock reading");
        }
    }
    ClockReading { system_time: now, latest_seen: latest, state, warning }
}

/// The reading when the environment key cannot be used. The key is kept where it
/// is, never replaced: the portal pinned it, and a new one would have every later
/// audit refused. `check` warns instead.
fn unprotected(state_dir: &Path, now: Timestamp, e: &crate::error::Error) -> ClockReading {
    let warning = format!(
        "the environment key cannot be used ({e}), so no time is remembered and a clock turned back goes unnoticed: restore {} from a backup of the state folder",
        state_dir.join(identity::FILE).display()
    );
    tracing::warn!("{warning}");
    ClockReading { system_time: now, latest_seen: now, state: ClockState::Unprotected, warning: Some(warning) }
}

/// The administrator says the system clock is right: the remembered time becomes now.
pub fn accept(state_dir: &Path, now: Timestamp) -> Result<(), crate::error::Error> {
    let key = identity::load_or_create(state_dir)?;
    tracing::warn!(now = %timestamp::format(&now), "the administrator accepted the system clock");
    write(&state_dir.join(FILE), &key, now)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> Timestamp {
        timestamp::parse(s).unwrap()
    }

    #[test]
    fn a_clock_turned_back_is_reported_and_ignored_for_validity() {
        let d = tempfile::tempdir().unwrap();
        let t1 = at("2026-11-22T10:00:00Z");
        let r = observe(d.path(), t1);
        assert!(r.warning.is_none());
        let back = t1 - Duration::days(3);
        let r = observe(d.path(), back);
        assert_eq!(r.state, ClockState::Behind);
        assert!(r.warning.as_deref().unwrap().contains("behind"));
        assert_eq!(r.effective_now(), t1);
        // A small step back is tolerated; moving forward updates the memory.
        assert!(observe(d.path(), t1 - Duration::minutes(2)).warning.is_none());
        let t2 = t1 + Duration::days(1);
        assert_eq!(observe(d.path(), t2).latest_seen, t2);
    }

    #[test]
    fn a_time_far_ahead_is_suspect_and_believed_until_accepted() {
        let d = tempfile::tempdir().unwrap();
        observe(d.path(), at("2099-01-01T00:00:00Z"));
        let now = at("2026-11-24T10:00:00Z");
        let r = observe(d.path(), now);
        assert_eq!(r.state, ClockState::Suspect);
        // No horizon: a clock turned back by years is judged by the later time too.
        assert_eq!(r.effective_now(), at("2099-01-01T00:00:00Z"), "a rollback never revives a license");
        assert!(r.can_accept());
        assert!(r.warning.as_deref().unwrap().contains("2099-01-01"));
        assert_eq!(observe(d.path(), now).state, ClockState::Suspect, "kept until accepted");
        accept(d.path(), now).unwrap();
        let r = observe(d.path(), now);
        assert_eq!((r.state, r.warning.clone()), (ClockState::Ok, None));
        assert_eq!(r.effective_now(), now);
        assert!(!r.can_accept(), "accepting is only for a clock behind a time seen");
    }

    #[test]
    fn an_edited_or_missing_record_is_reported_once() {
        let d = tempfile::tempdir().unwrap();
        let t1 = at("2026-11-22T10:00:00Z");
        observe(d.path(), t1);
        let path = d.path().join(FILE);
        // Moving the remembered time back by editing the record is evident.
        let edited = std::fs::read_to_string(&path).unwrap().replace("2026-11-22", "2020-01-01");
        std::fs::write(&path, edited).unwrap();
        assert_eq!(observe(d.path(), t1).state, ClockState::RecordAltered);
        assert_eq!(observe(d.path(), t1).state, ClockState::Ok, "reported once");
        std::fs::write(&path, b"{not json").unwrap();
        assert_eq!(observe(d.path(), t1).state, ClockState::RecordAltered);
        std::fs::remove_file(&path).unwrap();
        let r = observe(d.path(), t1);
        assert_eq!(r.state, ClockState::RecordMissing);
        assert!(r.warning.unwrap().contains("missing"));
        assert_eq!(observe(d.path(), t1).state, ClockState::Ok);
    }
}

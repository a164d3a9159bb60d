//! Clock check: the latest time ever seen is remembered, so a clock turned back
//! is reported and cannot make an expired license look valid again.

use super::durable;
use crate::timestamp::{self, Timestamp};
use chrono::Duration;
use serde::{Deserialize, Serialize};
use std::path::Path;

const FILE: &str = "clock.json";
/// Small corrections (NTP adjustments) are not worth a warning.
const TOLERANCE_MINUTES: i64 = 10;

#[derive(Serialize, Deserialize)]
struct Seen {
    #[serde(with = "timestamp")]
    latest_seen: Timestamp,
}

#[derive(Clone, Debug, Serialize)]
pub struct ClockReading {
    #[serde(with = "timestamp")]
    pub system_time: Timestamp,
    #[serde(with = "timestamp")]
    pub latest_seen: Timestamp,
    /// Set when the system clock is behind a time seen before.
    pub warning: Option<String>,
}

impl ClockReading {
    /// The time licenses are judged by.
    pub fn effective_now(&self) -> Timestamp {
        self.system_time.max(self.latest_seen)
    }
}

/// Reads the remembered time and records `now` if it is later. Failing to record is
/// not fatal (a read-only state folder still lets the overview work).
pub fn observe(state_dir: &Path, now: Timestamp) -> ClockReading {
    let path = state_dir.join(FILE);
    let seen = std::fs::read(&path).ok().and_then(|b| serde_json::from_slice::<Seen>(&b).ok()).map(|s| s.latest_seen);
    let latest = seen.map_or(now, |s| s.max(now));
    if seen.is_none_or(|s| now > s) {
        let body = serde_json::to_vec(&Seen { latest_seen: now }).expect("serialises");
        if let Err(e) = durable::replace(&path, &body, "clock") {
            tracing::warn!(error = %e, "could not record the clock reading");
        }
    }
    let warning = seen.filter(|s| *s - now > Duration::minutes(TOLERANCE_MINUTES)).map(|s| {
        format!(
            "the system clock ({}) is behind a time this environment already saw ({}): correct the clock; license dates are judged by the later time",
            timestamp::format(&now),
            timestamp::format(&s)
        )
    });
    ClockReading { system_time: now, latest_seen: latest, warning }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_clock_turned_back_is_reported_and_ignored_for_validity() {
        let d = tempfile::tempdir().unwrap();
        let t1 = timestamp::parse("2026-11-22T10:00:00Z").unwrap();
        let r = observe(d.path(), t1);
        assert!(r.warning.is_none());
        let back = timestamp::parse("2026-01-01T00:00:00Z").unwrap();
        let r = observe(d.path(), back);
        assert!(r.warning.as_deref().unwrap().contains("behind"));
        assert_eq!(r.effective_now(), t1);
        // A small step back is tolerated; moving forward updates the memory.
        assert!(observe(d.path(), t1 - Duration::minutes(2)).warning.is_none());
        let t2 = t1 + Duration::days(1);
        assert_eq!(observe(d.path(), t2).latest_seen, t2);
    }
}

//! RFC 3339 UTC timestamps as the spec writes them: `2026-11-22T10:00:00Z`.
//! Offsets other than `Z` are refused: every tool must agree on one spelling.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Deserializer, Serializer};

pub type Timestamp = DateTime<Utc>;

/// Why a text is not a timestamp as the spec writes it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TimestampError {
    #[error("timestamp '{0}' is not UTC: write it with a trailing Z")]
    NotUtc(String),
    #[error("'{0}' is not an RFC 3339 timestamp")]
    Malformed(String),
}

pub fn parse(s: &str) -> Result<Timestamp, TimestampError> {
    let shown = || s.chars().take(64).collect::<String>();
    if !s.ends_with('Z') {
        return Err(TimestampError::NotUtc(shown()));
    }
    DateTime::parse_from_rfc3339(s).map(|t| t.with_timezone(&Utc)).map_err(|_| TimestampError::Malformed(shown()))
}

/// Whole days from `now` to `t`, rounded to the nearest day (a half day rounds up):
/// 19 days and 23 hours is "20 days". Negative when `t` has passed. This is the one
/// day count: the overview, the install report, the notification, `licensectl` and
/// the UI (`relative` in `words.svelte.ts`, the same arithmetic) all use it, so that
/// they never disagree by one.
pub fn days_until(t: &Timestamp, now: &Timestamp) -> i64 {
    const DAY_MS: i64 = 86_400_000;
    ((*t - *now).num_milliseconds() + DAY_MS / 2).div_euclid(DAY_MS)
}

pub fn format(t: &Timestamp) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

pub fn serialize<S: Serializer>(t: &Timestamp, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&format(t))
}

pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Timestamp, D::Error> {
    parse(&String::deserialize(d)?).map_err(serde::de::Error::custom)
}

pub mod option {
    use super::*;
    pub fn serialize<S: Serializer>(t: &Option<Timestamp>, s: S) -> Result<S::Ok, S::Error> {
        match t {
            Some(t) => super::serialize(t, s),
            None => s.serialize_none(),
        }
    }
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Timestamp>, D::Error> {
        Option::<String>::deserialize(d)?.map(|s| parse(&s).map_err(serde::de::Error::custom)).transpose()
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn days_round_to_the_nearest_day() {
        let now = super::parse("2026-12-01T12:00:00Z").unwrap();
        let at = |s: &str| super::days_until(&super::parse(s).unwrap(), &now);
        assert_eq!(at("2026-12-21T11:59:59Z"), 20, "19 days 23:59:59 reads as 20");
        assert_eq!(at("2026-12-02T00:00:00Z"), 1, "a half day rounds up");
        assert_eq!(at("2026-12-01T23:59:59Z"), 0);
        assert_eq!(at("2026-12-01T12:00:00Z"), 0);
        assert_eq!(at("2026-11-30T12:00:01Z"), -1);
        assert_eq!(at("2026-11-01T12:00:00Z"), -30);
    }

    #[test]
    fn only_utc_z_is_accepted() {
        assert!(super::parse("2026-11-22T10:00:00Z").is_ok());
        assert!(super::parse("2026-11-22T10:00:00.5Z").is_ok());
        assert!(matches!(super::parse("2026-11-22T10:00:00+02:00"), Err(super::TimestampError::NotUtc(_))));
        assert!(super::parse("2026-13-22T10:00:00Z").is_err());
        assert_eq!(super::format(&super::parse("2026-11-22T10:00:00.9Z").unwrap()), "2026-11-22T10:00:00Z");
    }
}

//! Consumption over time and where it is heading: every audit's consumption is kept
//! (`consumption-history.json` in the state folder), and a straight line fitted
//! through it (least squares) says when each entitled metric would reach its limit.
//! `licensectl check` warns on it, `metrics` exports the ratios, and the License
//! verification page charts it.
//!
//! Invariants:
//! - The history is derived data: failing to record a point never fails the audit
//!   it came from, and a damaged history reads as empty (with a warning in the log).
//! - A trend needs two readings at least a day apart; without one, nothing is
//!   projected. A trend that is flat or falling reaches no limit.
//! - Only entitled metrics are judged (servers have no entitlement in the format).

use super::Environment;
use crate::error::Error;
use crate::fs;
use crate::payload::{Consumption, Entitlements};
use crate::timestamp::{self, Timestamp};
use serde::{Deserialize, Serialize};

const FILE: &str = "consumption-history.json";
/// Readings the live history keeps when it rotates: about ten years of monthly
/// audits, or a year and more of weekly ones (the forecast reads these).
const KEEP: usize = 120;
/// A projection further out than this is no forecast.
const HORIZON_DAYS: f64 = 3650.0;

/// One reading of consumption: from an audit, or (the last one of a forecast) now.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reading {
    #[serde(with = "timestamp")]
    #[cfg_attr(feature = "ts", ts(type = "string"))]
    pub at: Timestamp,
    pub consumption: Consumption,
}

/// One entitled metric: its readings, its limit and its trend.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Clone, Debug, Serialize)]
pub struct MetricForecast {
    /// `named_users` or `application_objects` (the UI's `METRIC_LABEL` keys).
    pub metric: &'static str,
    pub entitled: u64,
    /// (time, used), oldest first.
    #[cfg_attr(feature = "ts", ts(type = "Array<[string, number]>"))]
    pub readings: Vec<(String, u64)>,
    /// The latest reading.
    pub used: Option<u64>,
    /// `used / entitled`; 0 entitled counts as over at any use.
    pub ratio: Option<f64>,
    /// The fitted line's change a day (None: too few readings for a trend).
    pub per_day: Option<f64>,
    /// The fitted line's value at the latest reading (the projection starts there).
    pub fitted_now: Option<f64>,
    /// When the fitted line reaches the entitlement: the latest reading's time when
    /// it already has, None when it does not rise or only beyond ten years.
    #[serde(with = "timestamp::option")]
    #[cfg_attr(feature = "ts", ts(type = "string | null"))]
    pub reaches_limit: Option<Timestamp>,
}

/// Consumption against entitlements over time, for the installed license.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Clone, Debug, Serialize)]
pub struct Forecast {
    pub metrics: Vec<MetricForecast>,
    /// The installed license's expiry, which a limit reached before is warned about.
    #[serde(with = "timestamp::option")]
    #[cfg_attr(feature = "ts", ts(type = "string | null"))]
    pub expires_at: Option<Timestamp>,
    #[serde(with = "timestamp")]
    #[cfg_attr(feature = "ts", ts(type = "string"))]
    pub now: Timestamp,
}

impl MetricForecast {
    fn new(metric: &'static str, entitled: u64, readings: &[(Timestamp, u64)]) -> Self {
        let used = readings.last().map(|r| r.1);
        let ratio = used.map(|u| if entitled == 0 { f64::INFINITY } else { u as f64 / entitled as f64 });
        let fit = fit_line(readings);
        let last_at = readings.last().map(|r| r.0);
        let reaches_limit = match (used, last_at, fit) {
            (Some(u), Some(at), _) if u >= entitled => Some(at),
            (_, Some(at), Some((fitted, per_day))) if per_day > 0.0 => {
                let days = (entitled as f64 - fitted) / per_day;
                (days <= HORIZON_DAYS).then(|| at + chrono::Duration::seconds((days.max(0.0) * 86_400.0) as i64))
            }
            _ => None,
        };
        MetricForecast {
            metric,
            entitled,
            readings: readings.iter().map(|(t, u)| (timestamp::format(t), *u)).collect(),
            used,
            ratio,
            per_day: fit.map(|f| f.1),
            fitted_now: fit.map(|f| f.0),
            reaches_limit,
        }
    }
}

/// Least squares through (days, used): the line's value at the last reading and
/// its slope a day. None with fewer than two readings or less than a day between
/// the first and the last.
fn fit_line(readings: &[(Timestamp, u64)]) -> Option<(f64, f64)> {
    let (first, last) = (readings.first()?.0, readings.last()?.0);
    if readings.len() < 2 || (last - first).num_seconds() < 86_400 {
        return None;
    }
    let xs: Vec<f64> = readings.iter().map(|(t, _)| (*t - first).num_seconds() as f64 / 86_400.0).collect();
    let n = readings.len() as f64;
    let mean_x = xs.iter().sum::<f64>() / n;
    let mean_y = readings.iter().map(|r| r.1 as f64).sum::<f64>() / n;
    let sxx: f64 = xs.iter().map(|x| (x - mean_x).powi(2)).sum();
    let sxy: f64 = xs.iter().zip(readings).map(|(x, r)| (x - mean_x) * (r.1 as f64 - mean_y)).sum();
    let slope = sxy / sxx;
    let x_last = *xs.last()?;
    Some((mean_y + slope * (x_last - mean_x), slope))
}

/// The forecast from `readings` (oldest first) against `ent`.
pub fn forecast(readings: &[Reading], ent: &Entitlements, expires_at: Option<Timestamp>, now: Timestamp) -> Forecast {
    let series = |f: fn(&Consumption) -> u64| readings.iter().map(|r| (r.at, f(&r.consumption))).collect::<Vec<_>>();
    Forecast {
        metrics: vec![
            MetricForecast::new("named_users", ent.named_users, &series(|c| c.named_users)),
            MetricForecast::new("application_objects", ent.application_objects, &series(|c| c.application_objects)),
        ],
        expires_at,
        now,
    }
}

impl Environment {
    fn consumption_history_path(&self) -> std::path::PathBuf {
        self.config.state_dir().join(FILE)
    }

    /// The consumption of every audit made here, oldest first (empty when none
    /// was kept or the record is damaged).
    pub fn consumption_history(&self) -> Vec<Reading> {
        fs::read_derived(&self.consumption_history_path(), "consumption history")
    }

    /// Adds `reading` to the history. The caller holds the environment's lock. A
    /// failure is logged, not returned (see the invariants).
    pub(super) fn record_consumption(&self, lock: &super::EnvLock, reading: Reading) {
        if let Err(e) = self.add_readings(lock, vec![reading]) {
            tracing::warn!(error = %e, "the audit's consumption was not added to the history");
        }
    }

    /// Adds readings made elsewhere (the demo's past audits) to the history.
    pub fn import_readings(&self, readings: Vec<Reading>) -> Result<(), Error> {
        let lock = self.lock()?;
        self.add_readings(&lock, readings)
    }

    /// Adds `readings`, oldest first; past twice [`KEEP`], all but the newest
    /// [`KEEP`] move to a rotated part (`history/`), never dropped.
    fn add_readings(&self, _lock: &super::EnvLock, readings: Vec<Reading>) -> Result<(), Error> {
        let mut all = self.consumption_history();
        all.extend(readings);
        all.sort_by_key(|r| r.at);
        let limit = crate::rotation::Limit { above: 2 * KEEP, keep: KEEP };
        crate::rotation::rotate(&self.consumption_history_path(), &mut all, limit, |r| r.at)?;
        fs::replace(&self.consumption_history_path(), &serde_json::to_vec(&all).expect("json"), "consumption-history")
    }

    /// The history and, when the usage source answers and no audit of the last hour
    /// stands for it, a reading now, against the installed license. `Error::NothingInstalled` without a license.
    pub fn forecast(&self) -> Result<Forecast, Error> {
        let license = self.installed()?;
        let now = self.clock().effective_now();
        let mut readings = self.consumption_history();
        // An audit of the last hour is today's reading already.
        let fresh = readings.last().is_some_and(|r| now - r.at < chrono::Duration::hours(1));
        if !fresh {
            match super::usage::read(self.config.usage.as_ref(), &self.config_path) {
                Ok(c) => readings.push(Reading { at: now, consumption: c }),
                Err(e) => {
                    tracing::info!(error = %e, "no reading of consumption now; the forecast uses the audits only")
                }
            }
        }
        Ok(forecast(&readings, &license.entitlements, license.expires_at, now))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, Utc};

    fn ent(named_users: u64) -> Entitlements {
        Entitlements {
            named_users,
            application_objects: 500,
            environments: 1,
            support_level: "standard".into(),
            features: Vec::new(),
        }
    }

    fn readings(start: Timestamp, users: &[u64], every_days: i64) -> Vec<Reading> {
        users
            .iter()
            .enumerate()
            .map(|(i, u)| Reading {
                at: start + Duration::days(every_days * i as i64),
                consumption: Consumption { named_users: *u, application_objects: 100, servers: 1 },
            })
            .collect()
    }

    #[test]
    fn a_steady_rise_reaches_the_limit_where_the_line_says() {
        let t0 = Utc::now() - Duration::days(40);
        // 60, 70, 80, 90 ten days apart: one a day, 90 now, 100 in ten days.
        let f = forecast(&readings(t0, &[60, 70, 80, 90], 10), &ent(100), None, Utc::now());
        let users = &f.metrics[0];
        assert_eq!(users.used, Some(90));
        assert!((users.per_day.unwrap() - 1.0).abs() < 1e-9);
        let at = users.reaches_limit.unwrap();
        assert_eq!((at - (t0 + Duration::days(30))).num_days(), 10, "ten days after the last reading: {at}");
        assert!((users.ratio.unwrap() - 0.9).abs() < 1e-9);
    }

    #[test]
    fn flat_falling_or_too_short_histories_reach_no_limit() {
        let t0 = Utc::now() - Duration::days(30);
        for (users, every) in [(&[80, 80, 80][..], 10), (&[90, 85, 80][..], 10), (&[10, 90][..], 0), (&[50][..], 1)] {
            let f = forecast(&readings(t0, users, every), &ent(100), None, Utc::now());
            assert_eq!(f.metrics[0].reaches_limit, None, "{users:?} every {every} days");
        }
        assert_eq!(forecast(&readings(t0, &[10, 90], 0), &ent(100), None, Utc::now()).metrics[0].per_day, None);
    }

    #[test]
    fn at_or_over_the_limit_it_is_reached_now_and_zero_entitled_is_over() {
        let t0 = Utc::now() - Duration::days(30);
        let r = readings(t0, &[100, 120], 10);
        let f = forecast(&r, &ent(100), None, Utc::now());
        assert_eq!(f.metrics[0].reaches_limit, Some(r[1].at));
        let f = forecast(&r, &ent(0), None, Utc::now());
        assert!(f.metrics[0].ratio.unwrap().is_infinite());
    }

    #[test]
    fn the_history_keeps_the_newest_and_survives_damage() {
        let d = tempfile::tempdir().unwrap();
        let env = Environment::open(&crate::demo::create(d.path()).unwrap()).unwrap();
        let before = env.consumption_history().len();
        let lock = env.lock().unwrap();
        for r in readings(Utc::now() - Duration::days(400), &[1; 2 * KEEP], 1) {
            env.record_consumption(&lock, r);
        }
        let all = env.consumption_history();
        let moved: Vec<Reading> = crate::rotation::rotated(&env.consumption_history_path(), "consumption part");
        assert_eq!(
            moved.len() + all.len(),
            before + 2 * KEEP,
            "{before} from the demo, then {} more: none dropped",
            2 * KEEP
        );
        assert!(all.len() <= 2 * KEEP && all.len() >= KEEP, "the live history keeps the newest: {}", all.len());
        assert!(moved.last().unwrap().at <= all[0].at, "the oldest moved");
        assert!(all.windows(2).all(|w| w[0].at <= w[1].at), "oldest first");
        std::fs::write(env.consumption_history_path(), b"{ not json").unwrap();
        assert!(env.consumption_history().is_empty(), "damaged: read as empty");
        env.record_consumption(&lock, readings(Utc::now(), &[5], 1).remove(0));
        assert_eq!(env.consumption_history().len(), 1, "and the next audit starts it again");
    }
}

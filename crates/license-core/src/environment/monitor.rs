//! What monitoring tools read: the environment's health as one verdict with its
//! reasons (`licensectl check`, the monitoring-plugin conventions of Nagios, Icinga,
//! Zabbix and Checkmk), and its figures as Prometheus metrics (`licensectl metrics`,
//! for node_exporter's textfile collector).

use super::clock::ClockState;
use super::forecast::Forecast;
use super::overview::{LicenseStatus, Overview};
use super::Environment;
use crate::error::Error;
use crate::payload::UploadStatus;
use crate::payload::{Audit, SelfSigned};
use crate::timestamp::{self, Timestamp};
use serde::Serialize;
use std::fmt::Write;

#[derive(Clone, Copy, Debug)]
pub struct Thresholds {
    /// WARNING when the license expires within this many days.
    pub warning_days: i64,
    /// CRITICAL when it expires within this many days.
    pub critical_days: i64,
    /// WARNING when an audit has waited in the outbox longer than this.
    pub audit_age_days: i64,
    /// WARNING when consumption reaches this percentage of an entitlement.
    pub usage_warning_percent: u64,
}

impl Thresholds {
    /// The defaults `licensectl check` documents (its options' default values).
    pub const DEFAULT: Thresholds =
        Thresholds { warning_days: 30, critical_days: 7, audit_age_days: 35, usage_warning_percent: 90 };
}

/// The plugin states, in order of gravity; the exit code is the discriminant.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Severity {
    Ok = 0,
    Warning = 1,
    Critical = 2,
    Unknown = 3,
}

impl Severity {
    pub fn name(self) -> &'static str {
        match self {
            Severity::Ok => "OK",
            Severity::Warning => "WARNING",
            Severity::Critical => "CRITICAL",
            Severity::Unknown => "UNKNOWN",
        }
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct Problem {
    pub severity: Severity,
    pub text: String,
}

impl Problem {
    fn critical(text: String) -> Self {
        Problem { severity: Severity::Critical, text }
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct Health {
    pub severity: Severity,
    /// Worst first.
    pub problems: Vec<Problem>,
    pub summary: String,
    pub days_left: Option<i64>,
    #[serde(with = "timestamp::option")]
    pub expires_at: Option<Timestamp>,
    pub thresholds_days: (i64, i64),
    /// Each entitled metric's consumption now, for the performance data.
    pub usage: Vec<UsagePerf>,
}

/// One metric's performance data: `named_users=87;90;100;0;100` (used; warning at
/// the configured percentage of the entitlement; critical at the entitlement).
#[derive(Clone, Debug, Serialize)]
pub struct UsagePerf {
    pub metric: &'static str,
    pub used: u64,
    pub warning: u64,
    pub entitled: u64,
}

impl Health {
    /// The plugin's one status line, with performance data when there is an expiry
    /// or a reading of consumption:
    /// `LICENSE WARNING - expires in 20 days (2026-12-14) | days_left=20;30;7;0 named_users=87;90;100;0;100`.
    pub fn status_line(&self) -> String {
        let mut line = format!("LICENSE {} - {}", self.severity.name(), self.summary);
        let mut perf = Vec::new();
        if let Some(d) = self.days_left {
            let (w, c) = self.thresholds_days;
            perf.push(format!("days_left={d};{w};{c};0"));
        }
        for u in &self.usage {
            perf.push(format!("{}={};{};{};0;{}", u.metric, u.used, u.warning, u.entitled, u.entitled));
        }
        if !perf.is_empty() {
            let _ = write!(line, " | {}", perf.join(" "));
        }
        line
    }
}

/// The commands that request a license for this environment's serial, online and
/// offline: offered by `licensectl check` and `status` when the serial changed.
pub const REQUEST_ONLINE: &str = "licensectl portal register && licensectl portal fetch-license --install";
pub const REQUEST_OFFLINE: &str = "licensectl request export --out request.lreq";

fn day(t: &Timestamp) -> String {
    t.format("%Y-%m-%d").to_string()
}

impl Environment {
    /// The environment's health for monitoring: CRITICAL for no license, a license
    /// that does not belong here or does not verify, expired, not yet valid, or
    /// expiring within `critical_days`; WARNING for expiring within `warning_days`,
    /// audits waiting longer than `audit_age_days`, a clock that is not trusted, or no
    /// backup of the installed license.
    pub fn health(&self, t: &Thresholds) -> Result<Health, Error> {
        let o = self.overview()?;
        let lic = o.installed.license.as_ref();
        let expires_at = lic.and_then(|l| l.expires_at);
        let days_left = o.installed.days_left;
        let mut problems: Vec<Problem> = license_problem(&o, t).into_iter().collect();
        if let (Some(want), Some(l)) = (&self.config.activation_code, lic) {
            if &l.activation_code != want {
                problems.push(Problem::critical(format!(
                    "the license is for subscription {}, but this environment belongs to {want}: request a license in {want}",
                    l.activation_code
                )));
            }
        }
        problems.extend(standing_problems(&o));
        problems.extend(self.quarantine_problem());
        problems.extend(self.stale_audits(o.clock.effective_now(), t)?);
        problems.extend(self.backup_problem()?);
        // Only this environment's own license has days and entitlements that matter here.
        let own = matches!(
            o.installed.status,
            LicenseStatus::Valid | LicenseStatus::Expiring | LicenseStatus::Expired | LicenseStatus::NotYetValid
        );
        let forecast = if own { self.forecast().ok() } else { None };
        if let Some(f) = &forecast {
            problems.extend(consumption_problems(f, t));
        }
        problems.sort_by_key(|p| std::cmp::Reverse(p.severity));
        let severity = problems.first().map_or(Severity::Ok, |p| p.severity);
        let mut summary = match (problems.first(), expires_at, days_left) {
            (Some(p), _, _) => p.text.clone(),
            (None, Some(e), Some(d)) => format!("valid, {d} days left ({})", day(&e)),
            (None, _, _) => "valid, perpetual".into(),
        };
        match &o.staged {
            Some(s) if s.will_not_install.is_none() => {
                summary.push_str(&format!("; renewal staged, takes effect {}", day(&s.takes_effect)))
            }
            _ => {}
        }
        Ok(Health {
            severity,
            problems,
            summary,
            days_left: days_left.filter(|_| own),
            expires_at,
            thresholds_days: (t.warning_days, t.critical_days),
            usage: forecast.map(|f| usage_perf(&f, t)).unwrap_or_default(),
        })
    }

    /// Audits that have waited in the outbox for `audit_age_days` or more.
    fn stale_audits(&self, now: Timestamp, t: &Thresholds) -> Result<Option<Problem>, Error> {
        let stale = self
            .outbox()?
            .iter()
            .filter_map(|p| crate::fs::read_capped(p, crate::kind::MAX_FILE_BYTES, crate::fs::Links::Refuse).ok())
            .filter_map(|b| Audit::open(&b).ok().map(|(a, _)| a.generated_at))
            .filter(|g| (now - *g).num_days() >= t.audit_age_days)
            .count();
        Ok((stale > 0).then(|| Problem {
            severity: Severity::Warning,
            text: format!(
                "{} waiting for upload for more than {}",
                crate::text::count(stale, "audit"),
                crate::text::count(t.audit_age_days as usize, "day")
            ),
        }))
    }

    /// A warning when no intact backup holds the installed license's bytes.
    fn backup_problem(&self) -> Result<Option<Problem>, Error> {
        let Some(bytes) = self.installed_bytes()? else { return Ok(None) };
        let sha = crate::digest::sha256_hex(&bytes);
        let backed_up = self.backups().list()?.iter().any(|b| b.intact && b.sha256 == sha);
        Ok((!backed_up).then(|| Problem {
            severity: Severity::Warning,
            text: "no backup of the installed license: take one (licensectl backup)".into(),
        }))
    }

    /// The environment's figures in the Prometheus text format (version 0.0.4).
    pub fn metrics(&self) -> Result<String, Error> {
        let o = self.overview()?;
        let mut m = Metrics::default();
        let valid = matches!(o.installed.status, LicenseStatus::Valid | LicenseStatus::Expiring);
        m.gauge(
            "license_manager_license_valid",
            "1 when the installed license is valid here, else 0",
            &[],
            f64::from(u8::from(valid)),
        );
        if let Some(l) = &o.installed.license {
            license_gauges(&mut m, l, o.clock.effective_now());
            if let Ok(c) = super::usage::read(self.config.usage.as_ref(), &self.config_path) {
                for (metric, v) in [
                    ("named_users", c.named_users),
                    ("application_objects", c.application_objects),
                    ("servers", c.servers),
                ] {
                    m.gauge(
                        "license_manager_consumption",
                        "Current consumption from the usage source, per metric",
                        &[("metric", metric.into())],
                        v as f64,
                    );
                }
            }
        }
        if let Some(f) = o.installed.license.as_ref().and_then(|_| self.forecast().ok()) {
            forecast_gauges(&mut m, &f);
        }
        m.gauge(
            "license_manager_outbox_audits",
            "Audits waiting in the outbox for the portal's answer",
            &[],
            self.outbox()?.len() as f64,
        );
        let last_verified =
            self.own_history().into_iter().filter(|u| u.status == UploadStatus::Verified).map(|u| u.received_at).max();
        if let Some(t) = last_verified {
            m.gauge(
                "license_manager_last_verified_upload_timestamp_seconds",
                "When the portal last verified an audit of this environment (Unix time)",
                &[],
                t.timestamp() as f64,
            );
        }
        if let Some(b) = &o.last_backup {
            m.gauge(
                "license_manager_last_backup_timestamp_seconds",
                "When the installed license was last backed up (Unix time)",
                &[],
                b.taken_at.timestamp() as f64,
            );
        }
        Ok(m.text)
    }
}

impl Environment {
    /// Records that were damaged and set aside: kept as evidence, and a WARNING
    /// until an administrator has looked at them and deleted them.
    fn quarantine_problem(&self) -> Option<Problem> {
        let dir = self.config.state_dir();
        let set_aside = crate::fs::quarantined(&dir);
        let names: Vec<String> =
            set_aside.iter().filter_map(|p| p.file_name()).map(|n| n.to_string_lossy().to_string()).collect();
        let what = match names.len() {
            0 => return None,
            1 => "1 damaged record was".to_string(),
            n => format!("{n} damaged records were"),
        };
        Some(Problem {
            severity: Severity::Warning,
            text: format!(
                "{what} set aside in {}: {}; look at them (a history is evidence), then delete them",
                dir.join(crate::fs::QUARANTINE).display(),
                names.join(", ")
            ),
        })
    }
}

/// WARNINGs from the overview's standing: a serial that cannot be computed, an
/// untrusted clock, a staged renewal that will not install, and an audit the portal
/// rejected.
fn standing_problems(o: &Overview) -> Vec<Problem> {
    let mut problems = Vec::new();
    if let Some(e) = &o.serial_error {
        // Unknown, so never taken as matching: the license may not be this machine's.
        let text = format!("{e}; until it can, the license cannot be confirmed to be this machine's");
        problems.push(Problem { severity: Severity::Warning, text });
    }
    if o.clock.state != ClockState::Ok {
        let text = o.clock.warning.clone().unwrap_or_else(|| "the clock is not trusted".into());
        problems.push(Problem { severity: Severity::Warning, text });
    }
    if o.staged_damaged {
        let text = "the staged renewal is damaged, so it will not be installed: remove it (`licensectl staged remove`) and stage the renewal again from the file you were sent".to_string();
        problems.push(Problem { severity: Severity::Warning, text });
    }
    if let Some(why) = o.staged.as_ref().and_then(|s| s.will_not_install.as_ref()) {
        let text = format!(
            "the staged renewal will not be installed at its start: {why}; remove it (`licensectl staged remove`) and install or stage the right license"
        );
        problems.push(Problem { severity: Severity::Warning, text });
    }
    if let Some(text) = o.last_upload.as_ref().and_then(super::audit_verdict::rejection) {
        problems.push(Problem { severity: Severity::Warning, text });
    }
    problems
}

/// The installed license's own problem, if any: missing, not for here, not valid,
/// or expiring within the thresholds.
fn license_problem(o: &Overview, t: &Thresholds) -> Option<Problem> {
    let expires_at = o.installed.license.as_ref().and_then(|l| l.expires_at);
    match o.installed.status {
        LicenseStatus::None => Some(Problem::critical("no license is installed".into())),
        // A staged renewal that starts by the expiry takes its place then.
        LicenseStatus::Valid | LicenseStatus::Expiring if o.staged_covers_expiry => None,
        LicenseStatus::Valid | LicenseStatus::Expiring => match (o.installed.days_left, expires_at) {
            (Some(d), Some(e)) if d < t.critical_days => {
                Some(Problem::critical(format!("expires in {d} days ({})", day(&e))))
            }
            (Some(d), Some(e)) if d < t.warning_days => {
                Some(Problem { severity: Severity::Warning, text: format!("expires in {d} days ({})", day(&e)) })
            }
            _ => None,
        },
        LicenseStatus::SerialMismatch => Some(Problem::critical(match (&o.drift, &o.serial) {
            (Some(d), Some(s)) => format!(
                "{}; {}; request a license for {} now: {REQUEST_ONLINE}, or offline: {REQUEST_OFFLINE}",
                o.installed.status_text, d.summary, s.serial_number
            ),
            _ => o.installed.status_text.clone(),
        })),
        _ => Some(Problem::critical(o.installed.status_text.clone())),
    }
}

/// WARNING at the configured share of an entitlement, or when the trend reaches it
/// before the license expires (within a year for a perpetual one); CRITICAL over it.
fn consumption_problems(f: &Forecast, t: &Thresholds) -> Vec<Problem> {
    let horizon = f.expires_at.unwrap_or(f.now + chrono::Duration::days(365));
    let mut out = Vec::new();
    for m in &f.metrics {
        let (Some(used), Some(ratio)) = (m.used, m.ratio) else { continue };
        let name = METRIC_WORDS.iter().find(|(k, _)| *k == m.metric).map_or(m.metric, |(_, w)| w);
        let percent = (ratio * 100.0).round();
        if used > m.entitled {
            out.push(Problem::critical(format!(
                "{name}: {used} in use, over the entitlement of {}: request a license with more, or reduce use",
                m.entitled
            )));
        } else if ratio.is_infinite() || percent >= t.usage_warning_percent as f64 {
            out.push(Problem {
                severity: Severity::Warning,
                text: format!("{name} at {percent}% of the entitlement ({used} of {})", m.entitled),
            });
        } else if let Some(at) = m.reaches_limit.filter(|at| *at < horizon) {
            let before = match f.expires_at {
                Some(e) => format!("before the license expires ({})", day(&e)),
                None => "within a year".into(),
            };
            out.push(Problem {
                severity: Severity::Warning,
                text: format!(
                    "{name} would reach the entitlement of {} around {}, {before}, at the trend of the audits ({:+.1} a month)",
                    m.entitled,
                    day(&at),
                    m.per_day.unwrap_or(0.0) * 30.0
                ),
            });
        }
    }
    out
}

/// The metrics' names in the check's words.
const METRIC_WORDS: &[(&str, &str)] = &[("named_users", "named users"), ("application_objects", "application objects")];

fn usage_perf(f: &Forecast, t: &Thresholds) -> Vec<UsagePerf> {
    f.metrics
        .iter()
        .filter_map(|m| {
            let warning = (m.entitled * t.usage_warning_percent).div_ceil(100);
            m.used.map(|used| UsagePerf { metric: m.metric, used, warning, entitled: m.entitled })
        })
        .collect()
}

/// Each entitled metric's share in use and, when the trend reaches the entitlement,
/// when.
fn forecast_gauges(m: &mut Metrics, f: &Forecast) {
    for mf in &f.metrics {
        if let Some(r) = mf.ratio.filter(|r| r.is_finite()) {
            m.gauge(
                "license_manager_consumption_ratio",
                "Consumption divided by the entitlement, per metric (1 is the limit)",
                &[("metric", mf.metric.into())],
                r,
            );
        }
    }
    for mf in &f.metrics {
        if let Some(at) = mf.reaches_limit {
            m.gauge(
                "license_manager_consumption_limit_forecast_timestamp_seconds",
                "When the audits' trend reaches the entitlement, per metric (Unix time)",
                &[("metric", mf.metric.into())],
                at.timestamp() as f64,
            );
        }
    }
}

/// What the installed license says: its facts, its expiry and its entitlements.
fn license_gauges(m: &mut Metrics, l: &crate::payload::License, now: Timestamp) {
    let labels = [
        ("environment_type", l.environment_type.as_str().to_string()),
        ("activation_code", l.activation_code.to_string()),
        ("license_id", l.license_id.to_string()),
        ("customer", l.customer.clone()),
    ];
    m.gauge(
        "license_manager_license_info",
        "The installed license (always 1; the labels carry the facts)",
        &labels,
        1.0,
    );
    if let Some(e) = l.expires_at {
        m.gauge(
            "license_manager_license_expiry_timestamp_seconds",
            "When the installed license expires (Unix time)",
            &[],
            e.timestamp() as f64,
        );
        // Prometheus wants base units (promtool rejects a _days metric): the time
        // left in seconds, which alert rules divide by 86400 for days.
        m.gauge(
            "license_manager_license_remaining_seconds",
            "Seconds until the installed license expires (negative once expired)",
            &[],
            (e - now).num_seconds() as f64,
        );
    }
    let ent = &l.entitlements;
    for (metric, v) in [("named_users", ent.named_users), ("application_objects", ent.application_objects)] {
        m.gauge(
            "license_manager_entitlement",
            "What the installed license entitles, per metric",
            &[("metric", metric.into())],
            v as f64,
        );
    }
}

/// Writes gauges, each family's HELP and TYPE once, before its first sample.
#[derive(Default)]
struct Metrics {
    text: String,
    declared: Vec<&'static str>,
}

impl Metrics {
    fn gauge(&mut self, name: &'static str, help: &str, labels: &[(&str, String)], value: f64) {
        if !self.declared.contains(&name) {
            self.declared.push(name);
            let _ = writeln!(self.text, "# HELP {name} {help}\n# TYPE {name} gauge");
        }
        let labels: Vec<String> = labels.iter().map(|(k, v)| format!("{k}=\"{}\"", escape(v))).collect();
        let labels = if labels.is_empty() { String::new() } else { format!("{{{}}}", labels.join(",")) };
        let _ = writeln!(self.text, "{name}{labels} {value}");
    }
}

/// Label values escape backslash, double quote and line feed (the text format's rule).
fn escape(v: &str) -> String {
    v.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

/// What the desktop app says in a native notification, when something needs the
/// administrator before the license stops working.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Alert {
    pub title: String,
    pub body: String,
}

impl Environment {
    /// A notification for an expiring or expired license, or one that no longer
    /// matches this environment's serial; `None` when all is well.
    pub fn desktop_alert(&self) -> Result<Option<Alert>, Error> {
        let o = self.overview()?;
        let name = &o.name;
        let lic = o.installed.license.as_ref();
        let alert = match (o.installed.status, lic) {
            // A staged renewal takes over by the expiry: nothing to alert about.
            (LicenseStatus::Expiring, _) if o.staged_covers_expiry => return Ok(None),
            (LicenseStatus::Expiring, Some(l)) => Alert {
                title: format!("License expires in {} days", o.installed.days_left.unwrap_or(0)),
                body: format!(
                    "{name}: the license expires on {}. Request a renewal now so the new license arrives in time.",
                    l.expires_at.as_ref().map(day).unwrap_or_default()
                ),
            },
            (LicenseStatus::Expired, Some(l)) => Alert {
                title: "License expired".into(),
                body: format!(
                    "{name}: the license expired on {}. Request a renewed license.",
                    l.expires_at.as_ref().map(day).unwrap_or_default()
                ),
            },
            (LicenseStatus::SerialMismatch, _) => Alert {
                title: "License no longer matches this machine".into(),
                body: match &o.drift {
                    Some(d) => format!("{name}: {}. Request a license for the new serial number.", d.summary),
                    None => {
                        format!("{name}: the license is for another serial number. Request a license for this one.")
                    }
                },
            },
            _ => return Ok(None),
        };
        Ok(Some(alert))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A clock turned back by a month (the environment saw a time a month ahead of
    /// today's clock) does not revive a license that expired by then: with no 7-day
    /// horizon, the later time is believed until an administrator accepts the clock.
    #[test]
    fn a_suspect_clock_judges_by_the_latest_time_seen_until_accepted() {
        let d = tempfile::tempdir().unwrap();
        let env = crate::environment::Environment::open(&crate::demo::create(d.path()).unwrap()).unwrap();
        env.backup_now(&crate::environment::BackupReason::OnDemand).unwrap();
        assert_eq!(
            env.propose_accept_clock().err().unwrap().code(),
            crate::error::ErrorCode::NothingToAccept,
            "nothing to accept yet"
        );
        // The demo's license expires in under 30 days.
        super::super::clock::observe(&env.config.state_dir(), chrono::Utc::now() + chrono::Duration::days(30));
        let h = env.health(&Thresholds { warning_days: 1, critical_days: 0, ..Thresholds::DEFAULT }).unwrap();
        assert_eq!(h.severity, Severity::Critical, "{:?}", h.problems);
        assert!(h.problems.iter().any(|p| p.text.contains("far ahead of the system clock")), "{:?}", h.problems);
        env.accept_clock(env.propose_accept_clock().unwrap().confirm(&crate::trust::CommandLine).unwrap()).unwrap();
        let h = env.health(&Thresholds { warning_days: 1, critical_days: 0, ..Thresholds::DEFAULT }).unwrap();
        assert_eq!(h.severity, Severity::Ok, "accepted: judged by the system clock again: {:?}", h.problems);
    }

    #[test]
    fn a_desktop_alert_for_expiring_and_moved_but_not_for_a_valid_license() {
        let d = tempfile::tempdir().unwrap();
        let config = crate::demo::create(d.path()).unwrap();
        let env = crate::environment::Environment::open(&config).unwrap();
        // The demo's license expires within the warning window.
        let a = env.desktop_alert().unwrap().expect("expiring");
        assert!(a.title.starts_with("License expires in ") && a.body.starts_with("Demo production: "), "{a:?}");
        let renewal = std::fs::read(d.path().join("samples/renewal.lic")).unwrap();
        env.install(&renewal, crate::environment::InstallOptions { confirmed: true }, &mut |_| {}).unwrap();
        assert_eq!(env.desktop_alert().unwrap(), None);
        // The machine was recreated: the platform UUID changed.
        std::fs::write(d.path().join("facts.txt"), "platform_uuid=9d2a1f3e-77aa-4c1e-9b2d-3f1e5a6b7c8d\n").unwrap();
        let a = env.desktop_alert().unwrap().expect("serial mismatch");
        assert_eq!(a.title, "License no longer matches this machine");
        assert!(a.body.contains("the platform UUID changed since this license was installed"), "{a:?}");
    }

    /// The overview, the health check (`licensectl check`), the notification and the
    /// install report name the same number of days left: one count, one rule.
    #[test]
    fn every_report_counts_the_same_days_left() {
        let d = tempfile::tempdir().unwrap();
        let env = crate::environment::Environment::open(&crate::demo::create(d.path()).unwrap()).unwrap();
        let days = env.overview().unwrap().installed.days_left.expect("the demo's license expires");
        assert_eq!(days, 20, "the demo's license expires 20 days after it is made");
        let in_days = format!("in {days} days");
        assert!(env.desktop_alert().unwrap().unwrap().title.ends_with(&in_days));
        let h = env.health(&Thresholds::DEFAULT).unwrap();
        assert_eq!(h.days_left, Some(days));
        assert!(h.problems.iter().any(|p| p.text.contains(&in_days)), "{:?}", h.problems);
        let report = env.check(&env.installed_bytes().unwrap().unwrap()).unwrap();
        let dates = report.checks.iter().find(|c| c.id == crate::check::CheckId::Dates).unwrap();
        assert!(dates.message.ends_with(&format!("({days} days left)")), "{}", dates.message);
    }
}

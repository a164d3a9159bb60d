//! The install report: a one-page record of an install or restore for change
//! management, written in words (no ids as the main text) and self-contained HTML
//! that prints on one page. It is written only from what the install really did.

use super::backups::BackupEntry;
use crate::check::{Report, Status};
use crate::payload::{EnvironmentType, License};
use crate::serial::SerialNumber;
use crate::timestamp::Timestamp;
use chrono::{DateTime, Local};

/// What changed, by whom and when: kept by the app after each install or restore.
#[derive(Clone, Debug)]
pub struct InstallRecord {
    /// "Install" or "Restore of the backup taken …".
    pub action: String,
    pub environment_name: String,
    pub environment_type: EnvironmentType,
    pub serial_number: Option<SerialNumber>,
    pub previous: Option<License>,
    pub installed: License,
    pub report: Report,
    pub backup: Option<BackupEntry>,
    pub at: Timestamp,
    /// The operating-system account that ran it.
    pub by: String,
}

/// "22 Dec 2027, 23:39 (+01:00)" in this machine's time zone: a report is read where
/// it was made, and the offset makes it unambiguous anywhere else.
fn when(t: &Timestamp) -> String {
    let local: DateTime<Local> = t.with_timezone(&Local);
    local.format("%-d %b %Y, %H:%M (UTC%:z)").to_string()
}

fn day(t: &Timestamp) -> String {
    t.with_timezone(&Local).format("%-d %b %Y").to_string()
}

/// A license in words: customer, type and how long it runs.
pub fn describe(l: &License) -> String {
    let until = match &l.expires_at {
        Some(t) => format!("valid until {}", day(t)),
        None => "perpetual".into(),
    };
    format!("{} · {} · {until}", l.customer, l.environment_type.label())
}

fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn verdict(s: Status) -> &'static str {
    match s {
        Status::Pass => "Passed",
        Status::Warn => "Accepted warning",
        Status::Fail => "Failed",
        Status::Skipped => "Not checked",
    }
}

impl InstallRecord {
    /// The record's facts: what, when, by whom, where, and the licenses before and after.
    fn fact_rows(&self) -> String {
        let mut rows = String::new();
        let mut row = |k: &str, v: &str| rows.push_str(&format!("<tr><th>{}</th><td>{}</td></tr>\n", esc(k), esc(v)));
        row("What", &self.action);
        row("When", &when(&self.at));
        row("By", &self.by);
        row("Environment", &format!("{} ({})", self.environment_name, self.environment_type.label()));
        row("Serial number", &self.serial_number.as_ref().map(|s| s.to_string()).unwrap_or_else(|| "unknown".into()));
        row("Subscription (activation code)", &self.installed.activation_code.to_string());
        row("Before", &self.previous.as_ref().map(describe).unwrap_or_else(|| "no license installed".into()));
        row("After", &describe(&self.installed));
        row(
            "Backup taken first",
            &match &self.backup {
                Some(b) => format!("{} — {}", when(&b.taken_at), b.path.display()),
                None => "none: no license was installed before".into(),
            },
        );
        rows
    }

    /// The report as one self-contained HTML page (no scripts, no external parts).
    pub fn to_html(&self) -> String {
        let rows = self.fact_rows();
        let checks: String = self
            .report
            .checks
            .iter()
            .map(|c| {
                format!(
                    "<tr><th>{}</th><td>{}</td><td>{}</td></tr>\n",
                    esc(c.label),
                    verdict(c.status),
                    esc(&c.message)
                )
            })
            .collect();
        let differences: String = self
            .report
            .differences
            .iter()
            .map(|d| {
                let old = d.old.as_ref().map_or_else(|| "—".to_string(), |v| esc(&v.to_string()));
                format!(
                    "<tr><th>{}</th><td>{old}</td><td>{}</td></tr>\n",
                    esc(d.field.label()),
                    esc(&d.new.to_string())
                )
            })
            .collect();
        format!(
            r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>License change record — {name}</title>
<style>
body {{ font: 11pt/1.4 system-ui, sans-serif; color: #111; max-width: 48rem; margin: 1.5rem auto; }}
h1 {{ font-size: 16pt; margin: 0 0 .75rem; }} h2 {{ font-size: 12pt; margin: 1rem 0 .4rem; }}
table {{ border-collapse: collapse; width: 100%; }} th, td {{ text-align: left; vertical-align: top; padding: .2rem .5rem; border-bottom: 1px solid #ccc; }}
th {{ width: 14rem; }} footer {{ margin-top: 1rem; font-size: 9pt; color: #444; }}
@page {{ size: A4; margin: 1.5cm; }}
</style></head>
<body>
<h1>License change record — {name}</h1>
<table>
{rows}</table>
<h2>Checks before the change</h2>
<table>
{checks}</table>
<h2>What changed</h2>
<table><tr><th>Field</th><th>Before</th><th>After</th></tr>
{differences}</table>
<footer>Written by License Manager {version}. License {license_id}.</footer>
</body></html>
"#,
            name = esc(&self.environment_name),
            version = env!("CARGO_PKG_VERSION"),
            license_id = self.installed.license_id,
        )
    }
}

#[cfg(all(test, feature = "test-support"))]
mod tests {
    use super::*;

    #[test]
    fn the_report_escapes_what_it_quotes_and_says_what_changed() {
        let serial = crate::serial::HostFacts::parse("machine_id=abc\n", "test").unwrap().serial_number().unwrap();
        let mut installed = License::sample(&serial);
        installed.customer = "<script>alert(1)</script> & Co".into();
        let record = InstallRecord {
            action: "Install".into(),
            environment_name: "Prod \"EU\"".into(),
            environment_type: EnvironmentType::Production,
            serial_number: None,
            previous: None,
            installed,
            report: Report::default(),
            backup: None,
            at: chrono::Utc::now(),
            by: "alice".into(),
        };
        let html = record.to_html();
        assert!(!html.contains("<script>"), "{html}");
        assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt; &amp; Co · Production"), "{html}");
        assert!(html.contains("Prod &quot;EU&quot;"));
        assert!(html.contains("<th>By</th><td>alice</td>"));
        assert!(html.contains("no license installed"));
    }
}

//! Consumption figures for audits, read from the configured usage source: a JSON
//! file, or a command that prints JSON (`{"named_users":…, "application_objects":…,
//! "servers":…}`).

use super::config::UsageSource;
use crate::error::Error;
use crate::payload::{Consumption, Entitlements};
use serde::Serialize;
use std::path::PathBuf;

pub fn read(source: Option<&UsageSource>, config_path: &std::path::Path) -> Result<Consumption, Error> {
    let bad = |reason: String| Error::BadConfig { path: config_path.to_path_buf(), reason };
    let (bytes, origin) = match source {
        None => return Err(bad("no [usage] source is configured: add `file = \"usage.json\"` or `command = [...]` under [usage]".into())),
        Some(UsageSource::File(p)) => (std::fs::read(p).map_err(|e| Error::io("read the usage file", p, e))?, p.display().to_string()),
        Some(UsageSource::Command(argv)) => {
            let (cmd, args) = argv.split_first().ok_or_else(|| bad("usage command is empty".into()))?;
            let out = std::process::Command::new(cmd).args(args).output().map_err(|e| Error::io("run the usage command", &PathBuf::from(cmd), e))?;
            if !out.status.success() {
                return Err(bad(format!("the usage command `{}` failed ({}): {}", argv.join(" "), out.status, String::from_utf8_lossy(&out.stderr).trim())));
            }
            (out.stdout, format!("`{}`", argv.join(" ")))
        }
    };
    serde_json::from_slice(&bytes).map_err(|e| bad(format!("usage from {origin} is not {{\"named_users\", \"application_objects\", \"servers\"}} JSON: {e}")))
}

#[derive(Clone, Debug, Serialize)]
pub struct UsageLine {
    pub metric: &'static str,
    pub used: u64,
    /// None where the license has no matching entitlement (servers).
    pub entitled: Option<u64>,
    pub over: bool,
}

/// Consumption side by side with entitlements, for the preview before uploading.
/// Servers are reported but the license format has no server entitlement, so they
/// are never "over".
pub fn compare(c: &Consumption, e: &Entitlements) -> Vec<UsageLine> {
    [
        ("named_users", c.named_users, Some(e.named_users)),
        ("application_objects", c.application_objects, Some(e.application_objects)),
        ("servers", c.servers, None),
    ]
    .into_iter()
    .map(|(metric, used, entitled)| UsageLine { metric, used, entitled, over: entitled.is_some_and(|n| used > n) })
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_entitled_metrics_can_be_over() {
        let e = Entitlements { named_users: 10, application_objects: 5, environments: 1, support_level: "s".into(), features: vec![] };
        let lines = compare(&Consumption { named_users: 11, application_objects: 5, servers: 40 }, &e);
        let over: Vec<_> = lines.iter().filter(|l| l.over).map(|l| l.metric).collect();
        assert_eq!(over, ["named_users"]);
        assert_eq!(lines[2].entitled, None);
    }
}

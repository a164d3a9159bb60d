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
    pub entitled: u64,
    pub over: bool,
}

/// Consumption side by side with entitlements, for the preview before uploading.
pub fn compare(c: &Consumption, e: &Entitlements) -> Vec<UsageLine> {
    [
        ("named_users", c.named_users, e.named_users),
        ("application_objects", c.application_objects, e.application_objects),
        ("servers", c.servers, e.environments),
    ]
    .into_iter()
    .map(|(metric, used, entitled)| UsageLine { metric, used, entitled, over: used > entitled })
    .collect()
}

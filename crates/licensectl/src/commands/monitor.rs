//! For monitoring: the plugin check and the Prometheus figures.

use crate::output::Out;
use anyhow::Result;
use license_core::environment::monitor::{Severity, Thresholds};
use license_core::Environment;
use std::path::Path;

/// The exit code is the plugin's status. Whatever keeps the check from running is
/// UNKNOWN, never an OK by omission.
pub fn check(cfg: Option<&Path>, t: &Thresholds, out: &Out) -> u8 {
    // The status line comes first (the plugin format), the renewal installed after.
    let activated = |env: &license_core::Environment| -> anyhow::Result<_> {
        let a = env.activate_staged(&mut |_| {})?;
        Ok((env.health(t)?, a))
    };
    match super::environment(cfg).and_then(|env| activated(&env)) {
        Ok((h, a)) => {
            out.health(&h);
            if let Some(a) = a {
                out.activation(&a);
            }
            h.severity as u8
        }
        Err(e) => {
            outln!("LICENSE UNKNOWN - {}", e.to_string().lines().next().unwrap_or(""));
            Severity::Unknown as u8
        }
    }
}

pub fn metrics(env: &Environment, file: Option<&Path>) -> Result<u8> {
    let text = env.metrics()?;
    match file {
        Some(f) => license_core::fs::replace(f, text.as_bytes(), "metrics")?,
        None => out!("{text}"),
    }
    Ok(crate::exit::EXIT_OK)
}

//! What one environment says of itself: serial number, checks of a file, status,
//! backups and the clock. Nothing here talks to the portal.

use crate::exit::{EXIT_OK, EXIT_REFUSED};
use crate::output::Out;
use anyhow::Result;
use license_core::environment::subscription;
use license_core::serial::HostFacts;
use license_core::trust::CommandLine;
use license_core::{check_license, Environment, EnvironmentType, Error, SerialNumber};
use std::path::{Path, PathBuf};

pub fn serial(env: Option<Environment>, explain: bool, facts: Option<PathBuf>, out: &Out) -> Result<u8> {
    let own_facts = facts.is_none();
    let e = match (facts, &env) {
        (Some(f), _) => HostFacts::read(&f)?.explain(&f.display().to_string())?,
        (None, Some(env)) => env.serial()?,
        (None, None) => license_core::serial::host_explanation()?,
    };
    // With an environment: compare with the installed license, and say which fact
    // changed when they differ.
    let licensed = match (explain && own_facts, &env) {
        (true, Some(env)) => env.installed().ok().map(|l| (l.serial_number, env.serial_drift())),
        _ => None,
    };
    out.serial(&e, explain, licensed);
    Ok(EXIT_OK)
}

/// Every check on a file, against the serial and type named here, else the
/// environment's (`subscription::expectations`).
pub fn verify(
    env: Option<Environment>,
    file: &Path,
    vendor_keys: Vec<String>,
    serial: Option<String>,
    facts: Option<PathBuf>,
    environment_type: Option<String>,
    out: &Out,
) -> Result<u8> {
    let bytes = license_core::fs::read_document(file)?;
    // On this environment as it is: the report an install would act on, which the
    // app's wizard shows too (a license that starts later is judged for staging).
    if let (Some(env), true, None, None, None) = (&env, vendor_keys.is_empty(), &serial, &facts, &environment_type) {
        let report = env.check(&bytes)?;
        out.report(file, &report);
        return Ok(if report.installable { EXIT_OK } else { EXIT_REFUSED });
    }
    let ring = subscription::key_ring(env.as_ref(), vendor_keys)?;
    let serial_number: Option<SerialNumber> = match (serial, facts) {
        (Some(s), _) => Some(s.parse()?),
        (_, Some(f)) => Some(HostFacts::read(&f)?.serial_number()?),
        _ => None,
    };
    let environment_type: Option<EnvironmentType> =
        environment_type.map(|t| t.parse().map_err(anyhow::Error::msg)).transpose()?;
    let report =
        check_license(&bytes, &ring, &subscription::expectations(env.as_ref(), serial_number, environment_type));
    out.report(file, &report);
    Ok(if report.installable { EXIT_OK } else { EXIT_REFUSED })
}

pub fn status(env: &Environment, out: &Out) -> Result<u8> {
    activate_staged(env, out)?;
    out.overview(&env.overview()?);
    Ok(EXIT_OK)
}

/// A staged renewal whose start time has come is installed first (`status`, `check`).
pub fn activate_staged(env: &Environment, out: &Out) -> Result<()> {
    if let Some(a) = env.activate_staged(&mut |s| out.step(s))? {
        out.activation(&a);
    }
    Ok(())
}

/// `licensectl staged`, and `licensectl staged remove`.
pub fn staged(env: &Environment, remove: bool, out: &Out) -> Result<u8> {
    if remove {
        // `staged remove` names the change: the command line is the confirmation.
        let removed = match env.propose_remove_staged()? {
            Some(p) => env.remove_staged(p.confirm(&CommandLine)?)?,
            None => false,
        };
        out.line(if removed { "staged renewal removed" } else { "no renewal is staged; nothing was changed" });
        return Ok(EXIT_OK);
    }
    out.staged(env.staged()?.as_ref());
    Ok(EXIT_OK)
}

pub fn backup(env: &Environment, out: &Out) -> Result<u8> {
    let b = env.backup_now(&license_core::environment::BackupReason::OnDemand)?.ok_or(Error::NothingInstalled)?;
    out.backup_taken(&b);
    Ok(EXIT_OK)
}

pub fn backups(env: &Environment, out: &Out) -> Result<u8> {
    out.backups(&env.backups().list()?);
    Ok(EXIT_OK)
}

pub fn clock(env: &Environment, accept: bool, out: &Out) -> Result<u8> {
    // `--accept` names the change: the command line is the confirmation.
    let r = if accept { env.accept_clock(env.propose_accept_clock()?.confirm(&CommandLine)?)? } else { env.clock() };
    out.clock(&r);
    Ok(EXIT_OK)
}

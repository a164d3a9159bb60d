//! Install and restore: the core checks, backs up and writes; this asks for the
//! confirmation that warnings need.

use crate::exit::{EXIT_NEEDS_CONFIRMATION, EXIT_OK, EXIT_REFUSED};
use crate::output::Out;
use anyhow::Result;
use license_core::environment::{InstallOptions, InstallOutcome};
use license_core::{Environment, Error};
use std::io::{IsTerminal, Write};
use std::path::Path;

pub fn install(env: &Environment, file: &Path, yes: bool, out: &Out) -> Result<u8> {
    let bytes = license_core::fs::read_document(file)?;
    install_bytes(env, &bytes, yes, out)
}

/// Installs a license that is already in memory (fetched, or carried in a transfer file).
pub fn install_bytes(env: &Environment, bytes: &[u8], yes: bool, out: &Out) -> Result<u8> {
    apply(out, env, yes, |env, opts| env.install(bytes, opts, &mut |s| out.step(s)))
}

pub fn restore(env: &Environment, id: &str, yes: bool, out: &Out) -> Result<u8> {
    apply(out, env, yes, |env, opts| env.restore(id, opts, &mut |s| out.step(s)))
}

/// Try without confirmation; on warnings ask at a terminal (or take `--yes`).
fn apply(
    out: &Out,
    env: &Environment,
    yes: bool,
    op: impl Fn(&Environment, InstallOptions) -> Result<InstallOutcome, Error>,
) -> Result<u8> {
    let result = match op(env, InstallOptions { confirmed: yes }) {
        Err(Error::NeedsConfirmation { warnings }) if !out.json && std::io::stdin().is_terminal() => {
            if !confirm(&warnings)? {
                out.line("Not installed; nothing was changed.");
                return Ok(EXIT_NEEDS_CONFIRMATION);
            }
            op(env, InstallOptions { confirmed: true })
        }
        other => other,
    };
    match result {
        Ok(outcome) => {
            out.installed(&outcome);
            Ok(EXIT_OK)
        }
        Err(e @ Error::Refused { .. }) => {
            out.error(&e.into());
            Ok(EXIT_REFUSED)
        }
        Err(e @ Error::NeedsConfirmation { .. }) => {
            out.error(&anyhow::Error::from(e).context("run again with --yes to accept these warnings"));
            Ok(EXIT_NEEDS_CONFIRMATION)
        }
        Err(e) => Err(e.into()),
    }
}

/// Asks on the terminal; only "y" or "yes" installs.
fn confirm(warnings: &str) -> Result<bool> {
    eprint!("Warning: {warnings}\nInstall anyway? [y/N] ");
    std::io::stderr().flush().ok();
    let mut answer = String::new();
    std::io::stdin().read_line(&mut answer)?;
    let answer = answer.trim();
    Ok(answer.eq_ignore_ascii_case("y") || answer.eq_ignore_ascii_case("yes"))
}

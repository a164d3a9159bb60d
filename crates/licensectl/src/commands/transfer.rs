//! `licensectl transfer`: one file carries the papers of many environments across the
//! air gap (spec "Transfer file") and back.

use crate::exit::{EXIT_ERROR, EXIT_OK};
use crate::output::Out;
use anyhow::{Context, Result};
use clap::Subcommand;
use license_core::run::InPlace;
use license_core::transfer::Transfer;
use license_core::workstation::{file_view, process, renewals, WorkstationConfig};
use license_core::{ActivationCode, Environment, PortalUrl};
use std::path::{Path, PathBuf};

#[derive(Subcommand)]
pub enum TransferCommand {
    /// On this environment: add its audits (and a license request) to a transfer file,
    /// new or existing; other environments in the file are kept.
    Export {
        file: PathBuf,
        /// Also add a license request for this environment.
        #[arg(long)]
        request: bool,
        /// The subscription to request under when no license is installed.
        #[arg(long, value_name = "CODE", requires = "request")]
        activation_code: Option<ActivationCode>,
    },
    /// Show every environment in a transfer file and what it carries; on the
    /// connected machine, whether each renewal it prepared was renewed, staged or waits.
    Show { file: PathBuf },
    /// On a connected machine: put the portal's license for every environment whose
    /// license expires within --days into one transfer file (new or existing), to be
    /// imported Development first, then Quality, Production and LifeTime.
    PrepareRenewals {
        file: PathBuf,
        /// Environments whose license expires within DAYS.
        #[arg(long, value_name = "DAYS", default_value_t = renewals::PREPARE_WITHIN_DAYS)]
        days: i64,
        /// The subscription (default: the installed license's).
        #[arg(long, value_name = "CODE")]
        activation_code: Option<ActivationCode>,
    },
    /// On a connected machine: upload every audit, turn every request into a license,
    /// and write the receipts and licenses back into the file. Needs only --portal and
    /// a token.
    Process {
        file: PathBuf,
        /// Why a slot freed while its license is still valid is reused, for the
        /// environment with this serial (the portal asks for a reason): SERIAL=TEXT.
        /// Repeat it for several environments.
        #[arg(long, value_name = "SERIAL=TEXT", value_parser = serial_reason)]
        reason: Vec<(license_core::SerialNumber, String)>,
    },
    /// On this environment: take its license (same checks, backup first) and the
    /// receipts that move its audits from the outbox to the history.
    Import {
        file: PathBuf,
        /// Accept the license's warnings without asking.
        #[arg(long, short = 'y')]
        yes: bool,
    },
}

pub fn run(cmd: TransferCommand, env: Option<Environment>, portal: Option<&PortalUrl>, out: &Out) -> Result<u8> {
    let need_env =
        || env.as_ref().context("this runs on an environment: pass --config (or set LICENSE_MANAGER_CONFIG)");
    match cmd {
        TransferCommand::Export { file, request, activation_code } => {
            out.exported(&need_env()?.export_transfer(&file, request, activation_code)?);
            Ok(EXIT_OK)
        }
        TransferCommand::Show { file } => {
            let t = Transfer::read(&file, env.as_ref().map(|e| e.vendor_keys()))?;
            out.transfer(&file_view::view(&record()?, &file, &t)?);
            Ok(EXIT_OK)
        }
        TransferCommand::PrepareRenewals { file, days, activation_code } => {
            // Before the portal is asked: the core's limits.
            license_core::error::Range::check(
                license_core::error::Quantity::RenewalDays,
                renewals::PREPARE_DAYS,
                days,
            )?;
            let code = match activation_code {
                Some(c) => c,
                None => need_env()?.installed_activation_code()?,
            };
            let client = super::portal::client(env.as_ref(), portal)?;
            let (now, record) = (chrono::Utc::now(), record()?);
            let prepared = super::portal::runtime()?.block_on(async {
                let sub = client.subscription(&code).await?;
                renewals::prepare(&client, &sub, &file, &record, days, now).await
            })?;
            Ok(out.prepared_renewals(&file, days, &prepared))
        }
        TransferCommand::Process { file, reason } => {
            let reasons = reason.into_iter().collect();
            let client = super::portal::client(env.as_ref(), portal)?;
            let rt = super::portal::runtime()?;
            let report = rt.block_on(process::process(&file, &client, &reasons, &InPlace, &|item, done, total| {
                out.item_progress(item, done, total)
            }))?;
            let failed = out.processed(&file, &report);
            Ok(if failed > 0 { EXIT_ERROR } else { EXIT_OK })
        }
        TransferCommand::Import { file, yes } => import(need_env()?, &file, yes, out),
    }
}

/// Nothing is applied before the administrator has confirmed: the license goes first
/// (its checks, its confirmation, backup first), and only once it is installed do
/// the receipts move audits to the history. A refused or unconfirmed license leaves
/// the environment exactly as it was.
fn import(env: &Environment, file: &Path, yes: bool, out: &Out) -> Result<u8> {
    let plan = env.plan_import(file)?;
    out.import_notes(&plan);
    let status = match plan.license_file() {
        Some(lic) => {
            let status = super::install::install_bytes(env, lic, yes, out)?;
            if status != EXIT_OK {
                if !out.json {
                    eprintln!(
                        "The receipts were not applied either: run the import again once the license can be installed."
                    );
                }
                return Ok(status);
            }
            status
        }
        None => {
            out.line(if plan.license_installed {
                "the license in the file is already installed"
            } else {
                "the file carries no license for this environment"
            });
            EXIT_OK
        }
    };
    let moved = env.apply_receipts(&plan)?;
    out.receipts_applied(&plan, moved);
    Ok(status)
}

/// The connected machine's renewal record, beside its configuration.
fn record() -> Result<PathBuf> {
    let config =
        WorkstationConfig::path().context("no folder for the workstation's files: set LICENSE_MANAGER_WORKSTATION")?;
    Ok(renewals::record_path(&config))
}

/// `--reason SERIAL=TEXT`.
fn serial_reason(s: &str) -> Result<(license_core::SerialNumber, String), String> {
    let (serial, text) =
        s.split_once('=').ok_or("write it as SERIAL=TEXT, for example AAAAA-…=the server was rebuilt")?;
    let text = text.trim();
    if text.is_empty() {
        return Err("the reason after '=' is empty: say why the slot is reused".into());
    }
    Ok((serial.parse().map_err(|e: license_core::Error| e.to_string())?, text.to_string()))
}

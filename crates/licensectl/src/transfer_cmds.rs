//! `licensectl transfer`: one file carries the papers of many environments across the
//! air gap (spec "Transfer file") and back.

use crate::output::Out;
use crate::portal_cmds;
use anyhow::{Context, Result};
use clap::Subcommand;
use license_core::environment::transfer_here::ReceiptFate;
use license_core::environment::InstallOptions;
use license_core::run::InPlace;
use license_core::transfer::Transfer;
use license_core::workstation::process::{self, ItemState};
use license_core::{count, ActivationCode, Environment, PortalUrl};
use serde_json::json;
use std::path::PathBuf;

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
    /// Show every environment in a transfer file and what it carries.
    Show { file: PathBuf },
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
            let s = need_env()?.export_transfer(&file, request, activation_code)?;
            out.value(&s, || {
                format!(
                    "added {} ({}) to {}: {}{}; the file now carries {}\n",
                    s.entry.name,
                    s.entry.serial_number,
                    s.path.display(),
                    count(s.audits, "audit"),
                    if s.request { " and a license request" } else { "" },
                    count(s.environments, "environment")
                )
            });
            Ok(crate::EXIT_OK)
        }
        TransferCommand::Show { file } => {
            let keys = env.as_ref().map(|e| e.vendor_keys());
            let t = Transfer::read(&file, keys)?;
            out.value(&describe(&t), || render(&t));
            Ok(crate::EXIT_OK)
        }
        TransferCommand::Process { file, reason } => {
            let reasons = reason.into_iter().collect();
            let client = portal_cmds::client(env.as_ref(), portal)?;
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
            let report = rt.block_on(process::process(&file, &client, &reasons, &InPlace, &|item, done, total| {
                if !out.json {
                    let what = match item.audit_id {
                        Some(id) => format!("audit {id}"),
                        None => "license request".into(),
                    };
                    let state = match (&item.state, &item.error, item.verdict) {
                        (ItemState::Failed, Some(e), _) => format!("failed: {}", e.message),
                        (ItemState::Held, _, _) => {
                            "held back: this environment's license request failed, and the portal would reject the audit; it is sent on the next run".into()
                        }
                        (_, _, Some(v)) => format!("uploaded, {v}"),
                        _ => match &item.license {
                            Some(l) => format!(
                                "license received: registered as \"{}\" in a {} slot, {}",
                                license_core::printable(&l.registered_as),
                                l.environment_type,
                                l.expires_at
                                    .map(|t| format!("valid until {}", license_core::timestamp::format(&t)))
                                    .unwrap_or_else(|| "perpetual".into())
                            ),
                            None => "license received".into(),
                        },
                    };
                    let name = license_core::printable(&item.environment_name);
                    eprintln!("[{done}/{total}] {name} ({}): {what}: {state}", item.serial_number);
                }
            }))?;
            let (done, already, failed, held) = tally(&report);
            let held = if held > 0 { format!(", {held} held back") } else { String::new() };
            out.value(&report, || {
                format!(
                    "{done} done, {already} already done, {failed} failed{held}; {}\n",
                    if report.written { format!("{} updated", file.display()) } else { "the file is unchanged".into() }
                )
            });
            Ok(if failed > 0 { crate::EXIT_ERROR } else { crate::EXIT_OK })
        }
        TransferCommand::Import { file, yes } => {
            let env = need_env()?;
            let plan = env.plan_import(&file)?;
            for n in &plan.notes {
                if !out.json {
                    eprintln!("note: {n}");
                }
            }
            // Nothing is applied before the administrator has confirmed: the license
            // goes first (its checks, its confirmation, backup first), and only once
            // it is installed do the receipts move audits to the history. A refused
            // or unconfirmed license leaves the environment exactly as it was.
            let status = match plan.license_file() {
                Some(lic) => {
                    let lic = lic.to_vec();
                    let status = crate::apply(out, env, yes, |env, opts: InstallOptions| {
                        env.install(&lic, opts, &mut |s| out.step(s))
                    })?;
                    if status != crate::EXIT_OK {
                        if !out.json {
                            eprintln!("The receipts were not applied either: run the import again once the license can be installed.");
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
                    crate::EXIT_OK
                }
            };
            let moved = env.apply_receipts(&plan)?;
            let recorded = plan.receipts.iter().filter(|r| r.fate == ReceiptFate::AlreadyRecorded).count();
            let unmatched = plan.receipts.iter().filter(|r| r.fate == ReceiptFate::DoesNotMatch).count();
            if out.json {
                outln!(
                    "{}",
                    json!({"receipts_moved": moved, "receipts_already_recorded": recorded, "receipts_not_matching": unmatched, "notes": plan.notes})
                );
            } else {
                outln!(
                    "{} moved from the outbox to the history with the portal's receipt ({recorded} already there)",
                    count(moved, "audit")
                );
                if unmatched > 0 {
                    outln!(
                        "{} did not answer the audit waiting here and were not applied (see the notes)",
                        count(unmatched, "receipt")
                    );
                }
            }
            Ok(status)
        }
    }
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

fn tally(r: &process::ProcessReport) -> (usize, usize, usize, usize) {
    let n = |s: ItemState| r.items.iter().filter(|i| i.state == s).count();
    (n(ItemState::Done), n(ItemState::AlreadyDone), n(ItemState::Failed), n(ItemState::Held))
}

fn describe(t: &Transfer) -> serde_json::Value {
    let envs: Vec<_> = t
        .environments
        .iter()
        .map(|(e, p)| {
            json!({
                "entry": e,
                "request": p.request.is_some(),
                "audits": p.audits.keys().collect::<Vec<_>>(),
                "license": p.license.is_some(),
                "receipts": p.receipts.keys().collect::<Vec<_>>(),
            })
        })
        .collect();
    json!({"environments": envs})
}

fn render(t: &Transfer) -> String {
    let mut s = format!("{}\n", count(t.environments.len(), "environment"));
    for (e, p) in &t.environments {
        s += &format!(
            "  {} — {} {} on {}: {}, {}{}{}\n",
            e.serial_number,
            e.environment_type,
            license_core::printable(&e.name),
            license_core::printable(&e.hostname),
            count(p.audits.len(), "audit"),
            count(p.receipts.len(), "receipt"),
            if p.request.is_some() { ", a license request" } else { "" },
            if p.license.is_some() { ", a license" } else { "" },
        );
    }
    s
}

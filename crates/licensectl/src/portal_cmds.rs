//! Commands that talk to the portal, or prepare files for a machine that can.

use crate::output::Out;
use anyhow::{bail, Context, Result};
use clap::Subcommand;
use license_core::environment::{audits, InstallOptions};
use license_core::fs;
use license_core::portal::{ClientOptions, PortalClient, Registration};
use license_core::run::InPlace;
use license_core::{secrets, ActivationCode, Environment, Error, PortalUrl};
use serde_json::json;
use std::io::Read;
use std::path::PathBuf;

#[derive(Subcommand)]
pub enum PortalCommand {
    /// Store the portal token in the OS keyring (read from standard input).
    Login,
    /// Remove the stored token.
    Logout,
    /// Show the subscription: entitlements and environment slots.
    Subscription,
    /// Register this environment's serial number in a free slot of its type.
    Register {
        #[arg(long)]
        activation_code: Option<String>,
        /// The name shown on the portal (default: the environment's name).
        #[arg(long)]
        name: Option<String>,
        /// Why a slot freed while its license is still valid is reused (the portal
        /// asks for one then).
        #[arg(long)]
        reason: Option<String>,
    },
    /// Download this environment's license; with --install, install it (same checks).
    FetchLicense {
        #[arg(long, value_name = "FILE", required_unless_present = "install")]
        out: Option<PathBuf>,
        #[arg(long)]
        install: bool,
        #[arg(long, short = 'y')]
        yes: bool,
    },
    /// Ask the portal to send the license file to the subscription's contacts.
    SendLicense,
}

#[derive(Subcommand)]
pub enum AuditCommand {
    /// Generate the signed audit file of current consumption (kept in the outbox).
    Generate {
        /// Also save a copy here, to carry to a connected machine.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
    /// Upload the outbox, or the given audit files (e.g. made on another machine).
    Upload { files: Vec<PathBuf> },
    /// Audits waiting to be uploaded.
    Outbox,
    /// Upload history: this machine's, merged with the portal's when reachable.
    History,
}

#[derive(Subcommand)]
pub enum RequestCommand {
    /// Write a signed license request file (and its QR code) for an air-gapped transfer.
    Export {
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
        #[arg(long)]
        activation_code: Option<String>,
        /// Also write the request as a QR code (SVG).
        #[arg(long, value_name = "FILE")]
        qr: Option<PathBuf>,
    },
    /// On a connected machine: turn a request file into a license file through the portal.
    Fulfil {
        file: PathBuf,
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },
}

fn runtime() -> Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_current_thread().enable_all().build()?)
}

/// The portal to talk to: `--portal`, else `LICENSE_MANAGER_PORTAL`, else the configuration's.
fn portal_url(env: Option<&Environment>, flag: Option<&PortalUrl>) -> Result<PortalUrl> {
    let configured = env.and_then(|e| e.config.portal_url.as_ref());
    let url = match flag {
        Some(u) => Some(u.clone()),
        None => secrets::env_token_owner(None)?.or_else(|| configured.cloned()),
    };
    url.context("no portal URL: set portal_url in the configuration, pass --portal URL, or set LICENSE_MANAGER_PORTAL")
}

pub fn client(env: Option<&Environment>, flag: Option<&PortalUrl>) -> Result<PortalClient> {
    let url = portal_url(env, flag)?;
    match env {
        Some(env) => Ok(env.portal_client(Some(&url))?),
        None => Ok(PortalClient::new(&url, secrets::load(&url, None)?, ClientOptions::default())?),
    }
}

fn installed_code(env: &Environment, flag: Option<&str>) -> Result<ActivationCode> {
    match flag {
        Some(c) => Ok(c.parse()?),
        None => Ok(env.installed_activation_code().context("give --activation-code")?),
    }
}

pub fn portal(cmd: PortalCommand, env: Option<Environment>, portal_flag: Option<&PortalUrl>, out: &Out) -> Result<u8> {
    let rt = runtime()?;
    match cmd {
        PortalCommand::Login => {
            let url = portal_url(env.as_ref(), portal_flag)?;
            let mut input = String::new();
            std::io::stdin().read_to_string(&mut input)?;
            if input.trim().is_empty() {
                bail!("no token on standard input: pipe it in, e.g. `licensectl portal login < token.txt`");
            }
            let token = secrets::validate_token(&input)?;
            // Prove the token works before keeping it.
            let c = PortalClient::new(&url, Some(token.clone()), ClientOptions::default())?;
            if let Some(env) = &env {
                if let Ok(code) = installed_code(env, None) {
                    rt.block_on(c.subscription(&code))?;
                }
            }
            secrets::store(&url, &token)?;
            out.line(&format!("token stored in the OS keyring for {url}"));
        }
        PortalCommand::Logout => {
            let url = portal_url(env.as_ref(), portal_flag)?;
            secrets::clear(&url)?;
            out.line(&format!("token removed for {url}"));
        }
        PortalCommand::Subscription => {
            let env = env.context("no environment: pass --config")?;
            let code = installed_code(&env, None)?;
            let s = rt.block_on(client(Some(&env), portal_flag)?.subscription(&code))?;
            out.value(&s, || {
                let mut t = format!("{} — {}\n", s.activation_code, s.customer);
                for slot in &s.slots {
                    t += &format!(
                        "  {:<12} {}\n",
                        slot.environment_type.as_str(),
                        slot.serial_number
                            .as_ref()
                            .map(|x| format!("{x} ({})", license_core::printable(slot.name.as_deref().unwrap_or(""))))
                            .unwrap_or("free".into())
                    );
                }
                t
            });
        }
        PortalCommand::Register { activation_code, name, reason } => {
            let env = env.context("no environment: pass --config")?;
            let code = installed_code(&env, activation_code.as_deref())?;
            let reg = Registration {
                serial_number: env.serial()?.serial_number,
                environment_type: env.config.environment_type,
                name: name.unwrap_or_else(|| env.config.name.clone()),
                environment_key: Some(env.environment_key()?),
                reason,
            };
            rt.block_on(client(Some(&env), portal_flag)?.register(&code, &reg))?;
            out.line(&format!("serial {} registered in a {} slot of {code}", reg.serial_number, reg.environment_type));
        }
        PortalCommand::FetchLicense { out: path, install, yes } => {
            let env = env.context("no environment: pass --config")?;
            let serial = env.serial()?.serial_number;
            let text = match rt.block_on(client(Some(&env), portal_flag)?.download_license(&serial)) {
                Err(e @ Error::PortalRefused { status: 403, .. }) => {
                    return Err(anyhow::Error::from(e)
                        .context("this token may not download licenses: run `licensectl portal send-license` to have it sent to the subscription's contacts"));
                }
                other => other?,
            };
            if let Some(p) = &path {
                fs::replace(p, text.as_bytes(), "fetch")?;
                out.line(&format!("license saved to {}", p.display()));
            }
            if install {
                return crate::apply(out, &env, yes, |env, opts: InstallOptions| {
                    env.install(text.as_bytes(), opts, &mut |s| out.step(s))
                });
            }
        }
        PortalCommand::SendLicense => {
            let env = env.context("no environment: pass --config")?;
            let serial = env.serial()?.serial_number;
            let to = rt.block_on(client(Some(&env), portal_flag)?.send_license(&serial))?;
            out.value(&json!({"sent_to": to}), || format!("the license was sent to {}\n", to.join(", ")));
        }
    }
    Ok(crate::EXIT_OK)
}

pub fn audit(cmd: AuditCommand, env: Option<Environment>, portal_flag: Option<&PortalUrl>, out: &Out) -> Result<u8> {
    // A connected machine may upload files made elsewhere without an environment.
    if let (AuditCommand::Upload { files }, None) = (&cmd, &env) {
        if files.is_empty() {
            bail!("no environment (pass --config) and no files to upload");
        }
        let rt = runtime()?;
        let c = client(None, portal_flag)?;
        for f in files {
            let bytes = fs::read_document(f)?;
            <license_core::Audit as license_core::SelfSigned>::open(&bytes)?;
            let r = rt.block_on(c.upload_audit(&bytes))?;
            out.value(&r, || format!("{}: {} ({})\n", f.display(), r.status, r.upload_id));
        }
        return Ok(crate::EXIT_OK);
    }
    // Shared with the upload flow's blocking steps.
    let env = std::sync::Arc::new(env.context("no environment: pass --config")?);
    match cmd {
        AuditCommand::Generate { out: copy } => {
            let g = env.generate_audit()?;
            if let Some(p) = &copy {
                fs::replace(p, g.text.as_bytes(), "audit-copy")?;
            }
            out.value(&g, || {
                let mut t =
                    format!("audit {} for {} – {}\n", g.audit.audit_id, g.audit.period_start, g.audit.period_end);
                for l in &g.usage {
                    let entitled = l.entitled.map(|n| n.to_string()).unwrap_or_else(|| "-".into());
                    t += &format!(
                        "  {:<20} {:>6} of {:<6}{}\n",
                        l.metric,
                        l.used,
                        entitled,
                        if l.over { "  OVER ENTITLEMENT" } else { "" }
                    );
                }
                t += &format!("kept in the outbox: {}\n", g.outbox_path.display());
                if let Some(p) = &copy {
                    t += &format!("copy saved to {} for upload from a connected machine\n", p.display());
                }
                t
            });
        }
        AuditCommand::Upload { files } => {
            let rt = runtime()?;
            let c = client(Some(&env), portal_flag)?;
            if files.is_empty() {
                let progress = &mut |i, n| out.progress("uploading", i, n);
                let (done, failed) = rt.block_on(audits::flush_outbox(&env, &c, &InPlace, progress));
                out.value(&done, || done.iter().map(|r| format!("{} {}\n", r.upload_id, r.status)).collect());
                if let Some(e) = failed {
                    return Err(anyhow::Error::from(e).context(format!(
                        "the outbox keeps {} for the next upload",
                        license_core::count(env.outbox()?.len(), "audit")
                    )));
                }
            } else {
                for f in files {
                    let r = rt.block_on(audits::upload_file(&env, &c, &f, &InPlace))?;
                    out.value(&r, || format!("{}: {} ({})\n", f.display(), r.status, r.upload_id));
                }
            }
        }
        AuditCommand::Outbox => {
            let files = env.outbox()?;
            out.value(&files, || files.iter().map(|f| format!("{}\n", f.display())).collect());
        }
        AuditCommand::History => {
            let rt = runtime()?;
            let portal = client(Some(&env), portal_flag).ok().and_then(|c| {
                installed_code(&env, None).ok().and_then(|code| rt.block_on(c.audit_history(&code)).ok())
            });
            let lines = env.merge_history(portal.as_deref());
            out.value(&lines, || {
                let mut t = String::new();
                if portal.is_none() {
                    t += "(portal not reachable: showing this machine's uploads only)\n";
                }
                for l in &lines {
                    t += &format!(
                        "{}  {:<9} {}{}{}\n",
                        l.received_at,
                        l.status.as_str(),
                        l.upload_id,
                        if l.uploaded_from_here { "" } else { "  (from another machine)" },
                        if l.receipt_verified { "  receipt verified" } else { "" }
                    );
                }
                t
            });
        }
    }
    Ok(crate::EXIT_OK)
}

pub fn request(
    cmd: RequestCommand,
    env: Option<Environment>,
    portal_flag: Option<&PortalUrl>,
    out: &Out,
) -> Result<u8> {
    match cmd {
        RequestCommand::Export { out: path, activation_code, qr } => {
            let env = env.context("no environment: pass --config")?;
            let code = activation_code.map(|c| c.parse()).transpose()?;
            let r = env.license_request(code)?;
            fs::replace(&path, r.text.as_bytes(), "request")?;
            if let Some(q) = &qr {
                fs::replace(q, license_core::qr::svg(&r.text).as_bytes(), "request-qr")?;
            }
            out.line(&format!(
                "license request {} written to {}: upload it from a connected machine (`licensectl request fulfil`)",
                r.request.request_id,
                path.display()
            ));
        }
        RequestCommand::Fulfil { file, out: path } => {
            let bytes = fs::read_document(&file)?;
            // Check the file before sending it anywhere.
            <license_core::Request as license_core::SelfSigned>::open(&bytes)?;
            let rt = runtime()?;
            let text = rt.block_on(client(env.as_ref(), portal_flag)?.license_from_request(&bytes))?;
            fs::replace(&path, text.as_bytes(), "fulfil")?;
            out.line(&format!(
                "license written to {}: carry it back and install it with `licensectl install`",
                path.display()
            ));
        }
    }
    Ok(crate::EXIT_OK)
}

//! `licensectl portal`: the token, the subscription, registration and the license
//! download; and the portal client the other portal commands share.

use crate::exit::EXIT_OK;
use crate::output::Out;
use anyhow::{bail, Context, Result};
use clap::Subcommand;
use license_core::fs;
use license_core::portal::{ClientOptions, PortalClient};
use license_core::{secrets, ActivationCode, Environment, Error, PortalUrl};
use std::io::Read;
use std::path::{Path, PathBuf};

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

pub fn runtime() -> Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_current_thread().enable_all().build()?)
}

/// The portal to talk to: `--portal`, else `LICENSE_MANAGER_PORTAL`, else the configuration's.
pub fn portal_url(env: Option<&Environment>, flag: Option<&PortalUrl>) -> Result<PortalUrl> {
    let configured = env.and_then(|e| e.config.portal_url.as_ref());
    let url = match flag {
        Some(u) => Some(u.clone()),
        None => secrets::env_token_owner(None)?.or_else(|| configured.cloned()),
    };
    url.context("no portal URL: set portal_url in the configuration, pass --portal URL, or set LICENSE_MANAGER_PORTAL")
}

pub fn client(env: Option<&Environment>, flag: Option<&PortalUrl>) -> Result<PortalClient> {
    client_with(env, flag, |_| {})
}

/// [`client`] with its options changed by `tune`.
pub fn client_with(
    env: Option<&Environment>,
    flag: Option<&PortalUrl>,
    tune: impl FnOnce(&mut ClientOptions),
) -> Result<PortalClient> {
    let url = portal_url(env, flag)?;
    match env {
        Some(env) => Ok(env.portal_client_with(Some(&url), tune)?),
        None => {
            let mut opts = ClientOptions::default();
            tune(&mut opts);
            Ok(PortalClient::new(&url, secrets::load(&url, None)?, opts)?)
        }
    }
}

/// The subscription meant: `--activation-code`, else the installed license's.
pub fn subscription_code(env: &Environment, flag: Option<&str>) -> Result<ActivationCode> {
    env.subscription_code(flag).context("give --activation-code")
}

pub fn needs_environment(env: Option<Environment>) -> Result<Environment> {
    env.context("no environment: pass --config")
}

pub fn run(cmd: PortalCommand, env: Option<Environment>, flag: Option<&PortalUrl>, out: &Out) -> Result<u8> {
    match cmd {
        PortalCommand::Login => login(env.as_ref(), flag, out),
        PortalCommand::Logout => {
            let url = portal_url(env.as_ref(), flag)?;
            secrets::clear(&url)?;
            out.line(&format!("token removed for {url}"));
            Ok(EXIT_OK)
        }
        PortalCommand::Subscription => {
            let env = needs_environment(env)?;
            let code = subscription_code(&env, None)?;
            out.subscription(&runtime()?.block_on(client(Some(&env), flag)?.subscription(&code))?);
            Ok(EXIT_OK)
        }
        PortalCommand::Register { activation_code, name, reason } => {
            let env = needs_environment(env)?;
            let code = subscription_code(&env, activation_code.as_deref())?;
            let reg = env.registration(name, reason)?;
            runtime()?.block_on(client(Some(&env), flag)?.register(&code, &reg))?;
            out.line(&format!("serial {} registered in a {} slot of {code}", reg.serial_number, reg.environment_type));
            Ok(EXIT_OK)
        }
        PortalCommand::FetchLicense { out: path, install, yes } => {
            fetch_license(&needs_environment(env)?, flag, path.as_deref(), install.then_some(yes), out)
        }
        PortalCommand::SendLicense => {
            let env = needs_environment(env)?;
            let serial = env.serial()?.serial_number;
            let to = runtime()?.block_on(client(Some(&env), flag)?.send_license(&serial))?;
            out.sent_to(&to);
            Ok(EXIT_OK)
        }
    }
}

/// Reads the token from standard input and keeps it in the OS keyring once the
/// portal has accepted it.
fn login(env: Option<&Environment>, flag: Option<&PortalUrl>, out: &Out) -> Result<u8> {
    let url = portal_url(env, flag)?;
    let mut input = String::new();
    std::io::stdin().read_to_string(&mut input)?;
    if input.trim().is_empty() {
        bail!("no token on standard input: pipe it in, e.g. `licensectl portal login < token.txt`");
    }
    let token = secrets::validate_token(&input)?;
    // Prove the token works before keeping it.
    let c = PortalClient::new(&url, Some(token.clone()), ClientOptions::default())?;
    if let Some(code) = env.and_then(|env| env.installed_activation_code().ok()) {
        runtime()?.block_on(c.subscription(&code))?;
    }
    secrets::store(&url, &token)?;
    out.line(&format!("token stored in the OS keyring for {url}"));
    Ok(EXIT_OK)
}

/// Downloads this environment's license: saved to `path`, and with `install`
/// (`Some(yes)`) installed with the usual checks.
fn fetch_license(
    env: &Environment,
    flag: Option<&PortalUrl>,
    path: Option<&Path>,
    install: Option<bool>,
    out: &Out,
) -> Result<u8> {
    let serial = env.serial()?.serial_number;
    let text = match runtime()?.block_on(client(Some(env), flag)?.download_license(&serial)) {
        Err(e @ Error::PortalRefused { status: 403, .. }) => {
            return Err(anyhow::Error::from(e)
                .context("this token may not download licenses: run `licensectl portal send-license` to have it sent to the subscription's contacts"));
        }
        other => other?,
    };
    if let Some(p) = path {
        fs::replace(p, text.as_bytes(), "fetch")?;
        out.line(&format!("license saved to {}", p.display()));
    }
    match install {
        Some(yes) => super::install::install_bytes(env, text.as_bytes(), yes, out),
        None => Ok(EXIT_OK),
    }
}

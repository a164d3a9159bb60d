//! `licensectl renew`: automatic renewal where connected (opt-in, run by the
//! disabled `license-manager-renew.timer` or by hand). The core decides; this maps
//! the outcome to the exit code a scheduled job reports.

use super::portal::{client_with, runtime};
use crate::exit::{EXIT_NEEDS_CONFIRMATION, EXIT_OK, EXIT_REFUSED};
use crate::output::Out;
use anyhow::{Context, Result};
use license_core::environment::renewal::{self, RenewOptions, Renewal};
use license_core::{Environment, Error, PortalUrl};
use std::time::Duration;

pub struct RenewArgs {
    pub options: RenewOptions,
    pub timeout: Duration,
}

pub fn run(env: &Environment, args: &RenewArgs, flag: Option<&PortalUrl>, out: &Out) -> Result<u8> {
    // A scheduled job tries again on its next run: a slow portal is not waited on long.
    let client = client_with(Some(env), flag, |o| {
        o.request_timeout = args.timeout;
        o.retries = RENEW_RETRIES;
    })?;
    // A renewal staged earlier whose start has come goes in first, as `check` does.
    if let Some(a) = env.activate_staged(&mut |s| out.step(s))? {
        out.activation(&a);
    }
    let result = runtime()?.block_on(renewal::renew(env, &client, args.options, &mut |s| out.step(s)));
    match result {
        Ok(r) => {
            out.renewal(&r);
            Ok(match r {
                Renewal::WaitsForPerson { .. } => EXIT_NEEDS_CONFIRMATION,
                _ => EXIT_OK,
            })
        }
        Err(e @ Error::RenewalRefused { .. }) => {
            out.error(&e.into());
            Ok(EXIT_REFUSED)
        }
        Err(e @ (Error::PortalUnreachable { .. } | Error::PortalRefused { .. } | Error::PortalProtocol { .. })) => {
            Err(anyhow::Error::from(e))
                .context("the renewal did not run; the installed license is unchanged, and the next run tries again")
        }
        Err(e) => Err(e.into()),
    }
}

/// Attempts after the first within one run.
const RENEW_RETRIES: u32 = 2;

pub fn history(env: &Environment, out: &Out) -> Result<u8> {
    out.renewal_history(&env.renewal_history());
    Ok(EXIT_OK)
}

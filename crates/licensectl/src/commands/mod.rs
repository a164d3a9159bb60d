//! One module per group of subcommands. Each function takes what the command line
//! said, calls the core, hands the result to `output`, and returns the exit code.

pub mod audit;
pub mod install;
pub mod local;
pub mod monitor;
pub mod portal;
pub mod release;
pub mod renew;
pub mod request;
pub mod setup;
pub mod transfer;
pub mod vendor;

use anyhow::Result;
use license_core::environment::config;
use license_core::{Environment, Error};
use std::path::Path;

pub fn environment(cli_config: Option<&Path>) -> Result<Environment> {
    let path = config::locate(cli_config)?;
    Ok(Environment::open(&path)?)
}

/// The environment if one is configured; a configuration that exists but is broken
/// is an error, never silently skipped.
pub fn optional_environment(cli_config: Option<&Path>) -> Result<Option<Environment>> {
    match config::locate(cli_config) {
        Ok(path) => Ok(Some(Environment::open(&path)?)),
        Err(Error::NoConfig { .. }) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

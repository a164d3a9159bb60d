//! `licensectl request`: the signed license request an air-gapped environment
//! carries out, and its fulfilment on a connected machine.

use super::portal::{client, needs_environment, runtime};
use crate::exit::EXIT_OK;
use crate::output::Out;
use anyhow::Result;
use clap::Subcommand;
use license_core::{fs, Environment, PortalUrl};
use std::path::PathBuf;

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

pub fn run(cmd: RequestCommand, env: Option<Environment>, flag: Option<&PortalUrl>, out: &Out) -> Result<u8> {
    match cmd {
        RequestCommand::Export { out: path, activation_code, qr } => {
            let env = needs_environment(env)?;
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
            let text = runtime()?.block_on(client(env.as_ref(), flag)?.license_from_request(&bytes))?;
            fs::replace(&path, text.as_bytes(), "fulfil")?;
            out.line(&format!(
                "license written to {}: carry it back and install it with `licensectl install`",
                path.display()
            ));
        }
    }
    Ok(EXIT_OK)
}

//! License requests: a signed file (and QR code) an administrator carries from an
//! air-gapped environment to a connected machine, where the portal turns it into a
//! license file.

use super::{identity, Environment};
use crate::activation::ActivationCode;
use crate::error::Error;
use crate::payload::{Payload, Request};
use serde::Serialize;
use uuid::Uuid;

#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Clone, Debug, Serialize)]
pub struct LicenseRequest {
    pub request: Request,
    pub text: String,
}

impl Environment {
    /// The subscription to ask under: the given code, else the installed license's.
    pub fn license_request(&self, activation_code: Option<ActivationCode>) -> Result<LicenseRequest, Error> {
        let code = match activation_code {
            Some(c) => c,
            None => self.installed_activation_code().map_err(|e| match e {
                Error::NothingInstalled => Error::InvalidActivationCode {
                    input: String::new(),
                    reason: "no license is installed to take it from: give the activation code".into(),
                    length: None,
                },
                other => other,
            })?,
        };
        let key = identity::load_or_create(&self.config.state_dir())?;
        let request = Request {
            format: 1,
            request_id: Uuid::new_v4(),
            activation_code: code,
            serial_number: self.serial()?.serial_number,
            environment_type: self.config.environment_type,
            hostname: hostname(),
            requested_at: self.clock().effective_now(),
            environment_key: key.public().to_base64url(),
        };
        Ok(LicenseRequest { text: request.seal(&key), request })
    }

    /// The environment's public key, for registering it with the portal.
    pub fn environment_key(&self) -> Result<String, Error> {
        Ok(identity::load_or_create(&self.config.state_dir())?.public().to_base64url())
    }
}

pub(crate) fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("COMPUTERNAME").ok())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "unknown".into())
}

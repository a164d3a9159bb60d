//! What both front ends ask of an environment before they talk to the portal or
//! check a file: which subscription is meant, how the environment registers, and
//! what a license file is checked against. One copy here, so the app and
//! `licensectl` cannot drift apart.

use super::Environment;
use crate::activation::ActivationCode;
use crate::check::Expectations;
use crate::error::Error;
use crate::keys::KeyRing;
use crate::payload::EnvironmentType;
use crate::portal::Registration;
use crate::serial::SerialNumber;

impl Environment {
    /// The subscription to ask: the code the administrator typed (blank counts as
    /// none), else the installed license's.
    pub fn subscription_code(&self, typed: Option<&str>) -> Result<ActivationCode, Error> {
        match typed.filter(|c| !c.trim().is_empty()) {
            Some(c) => c.parse(),
            None => self.installed_activation_code(),
        }
    }

    /// How this environment registers its serial number in a slot: its own serial,
    /// type and key, under `name` (default: the configured name). `reason`: why a
    /// slot freed while its license is still valid is reused; blank counts as none.
    pub fn registration(&self, name: Option<String>, reason: Option<String>) -> Result<Registration, Error> {
        Ok(Registration {
            serial_number: self.serial()?.serial_number,
            environment_type: self.config.environment_type,
            name: name.unwrap_or_else(|| self.config.name.clone()),
            environment_key: Some(self.environment_key()?),
            reason: reason.filter(|r| !r.trim().is_empty()),
        })
    }
}

/// What a license file is checked against when it is only being verified (not
/// installed): the given serial number and type where the administrator named
/// them, else the environment's, else this host's serial. Without an environment
/// there is no installed license to compare with and no clock history.
pub fn expectations(
    env: Option<&Environment>,
    serial_number: Option<SerialNumber>,
    environment_type: Option<EnvironmentType>,
) -> Expectations {
    let serial_number = serial_number.or_else(|| match env {
        Some(env) => env.serial().ok().map(|e| e.serial_number),
        None => crate::serial::host_explanation().ok().map(|e| e.serial_number),
    });
    Expectations {
        serial_number,
        environment_type: environment_type.or(env.map(|e| e.config.environment_type)),
        installed: env.and_then(|e| e.installed().ok()),
        now: env.map(|e| e.clock().effective_now()).unwrap_or_else(chrono::Utc::now),
    }
}

/// The vendor keys a file is verified with: the environment's, and `extra` keys
/// (base64url) given for this check.
pub fn key_ring(env: Option<&Environment>, extra: Vec<String>) -> Result<KeyRing, Error> {
    let mut keys: Vec<String> = env.map(|e| e.config.vendor_keys.clone()).unwrap_or_default();
    keys.extend(extra);
    KeyRing::parse(&keys)
}

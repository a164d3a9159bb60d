//! The connected workstation: a machine with no environment of its own that talks
//! to the portal for every environment of the subscription. Its configuration is the
//! portal (URL, proxy, CA bundle) and the subscription's activation code; the token
//! lives in the OS keyring like an environment's.

pub mod file_view;
pub mod process;
pub mod renewals;

use crate::activation::ActivationCode;
use crate::environment::config;
use crate::error::{Error, Setting, SettingProblem};
use crate::fs;
use crate::portal::{ClientOptions, PortalClient};
use crate::portal_url::PortalUrl;
use crate::trust::{Confirmed, Proposal};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

pub const FILE_NAME: &str = "workstation.toml";
/// Overrides where the workstation configuration is kept (tests, several profiles).
pub const ENV_VAR: &str = "LICENSE_MANAGER_WORKSTATION";

#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkstationConfig {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub portal_url: Option<PortalUrl>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proxy: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(type = "string | null"))]
    pub ca_bundle: Option<PathBuf>,
    /// The subscription whose environments this workstation looks after.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub activation_code: Option<ActivationCode>,
}

impl WorkstationConfig {
    /// Where it is kept: `LICENSE_MANAGER_WORKSTATION`, else beside the user's
    /// environment configuration.
    pub fn path() -> Option<PathBuf> {
        if let Some(p) = std::env::var_os(ENV_VAR).filter(|v| !v.is_empty()) {
            return Some(PathBuf::from(p));
        }
        config::candidates(None).into_iter().next().and_then(|p| p.parent().map(|d| d.join(FILE_NAME)))
    }

    /// The saved configuration, or an empty one.
    pub fn load(path: &Path) -> Result<Self, Error> {
        match fs::read_optional(path, fs::Links::Follow)? {
            None => Ok(Self::default()),
            Some(bytes) => {
                let text = String::from_utf8(bytes)
                    .map_err(|_| Error::BadConfig { path: path.into(), reason: "not UTF-8 text".into() })?;
                toml::from_str(&text)
                    .map_err(|e| Error::BadConfig { path: path.into(), reason: e.message().to_string() })
            }
        }
    }

    /// Checks (a proxy that parses, a CA bundle that exists), then proposes saving
    /// the configuration at `path`: what changes in the portal, proxy and CA bundle
    /// the workstation trusts (the activation code is no trust anchor). Nothing is
    /// written until the proposal is confirmed and applied.
    pub fn propose(self, path: &Path) -> Result<Proposal<WorkstationWrite>, Error> {
        self.check()?;
        let before = fs::read_optional(path, fs::Links::Follow)?;
        let old = match &before {
            Some(_) => Self::load(path).ok(),
            None => Some(Self::default()),
        };
        let mut changes = Vec::new();
        let old = old.unwrap_or_else(|| {
            changes
                .push(format!("Replace {}, which cannot be read", crate::text::printable(&path.display().to_string())));
            Self::default()
        });
        let anchors = |c: &Self| config::TrustAnchors {
            vendor_keys: vec![],
            portal_url: c.portal_url.clone(),
            proxy: c.proxy.clone(),
            ca_bundle: c.ca_bundle.clone(),
        };
        changes.extend(anchors(&old).changes_to(&anchors(&self)));
        let write = WorkstationWrite { config: self, path: path.to_path_buf(), before };
        Ok(Proposal::new(write, "Change what this workstation trusts?", changes))
    }

    fn check(&self) -> Result<(), Error> {
        let bad = |setting: Setting, problem: SettingProblem, reason: String| Error::InvalidSetting {
            setting,
            problem,
            reason,
        };
        if let Some(p) = &self.proxy {
            reqwest::Proxy::all(p).map_err(|e| {
                bad(Setting::Proxy, SettingProblem::Unreadable, format!("'{p}' is not a proxy URL ({e})"))
            })?;
        }
        if let Some(ca) = &self.ca_bundle {
            if !ca.is_absolute() || !ca.is_file() {
                return Err(bad(
                    Setting::CaBundle,
                    SettingProblem::NoSuchFile,
                    format!("{} is not an existing file (give its full path)", ca.display()),
                ));
            }
        }
        Ok(())
    }

    pub fn portal_url(&self) -> Result<&PortalUrl, Error> {
        self.portal_url.as_ref().ok_or_else(|| Error::InvalidSetting {
            setting: Setting::PortalUrl,
            problem: SettingProblem::NotSet,
            reason: "it is not set: enter the portal's address in Settings".into(),
        })
    }

    pub fn activation_code(&self) -> Result<&ActivationCode, Error> {
        self.activation_code.as_ref().ok_or_else(|| Error::InvalidSetting {
            setting: Setting::ActivationCode,
            problem: SettingProblem::NotSet,
            reason: "it is not set: enter the subscription's activation code in Settings".into(),
        })
    }

    /// A client for the portal, with the token stored for it.
    pub fn client(&self) -> Result<PortalClient, Error> {
        let url = self.portal_url()?;
        let token = crate::secrets::load(url, Some(url))?;
        let opts = ClientOptions { proxy: self.proxy.clone(), ca_bundle: self.ca_bundle.clone(), ..Default::default() };
        PortalClient::new(url, token, opts)
    }
}

/// A checked workstation configuration, waiting for its confirmation to be saved.
pub struct WorkstationWrite {
    config: WorkstationConfig,
    path: PathBuf,
    before: Option<Vec<u8>>,
}

impl Confirmed<WorkstationWrite> {
    /// Saves the confirmed configuration atomically, if the file is still what the
    /// person saw when they confirmed; returns it.
    pub fn apply(self) -> Result<WorkstationConfig, Error> {
        let w = self.into_inner();
        fs::unchanged_since(&w.path, &w.before)?;
        if let Some(dir) = w.path.parent() {
            fs::ensure_dir(dir)?;
        }
        fs::replace(&w.path, toml::to_string_pretty(&w.config).expect("serialises").as_bytes(), "workstation")?;
        Ok(w.config)
    }
}

//! The environment configuration (TOML). Relative paths are relative to the
//! configuration file's folder, so an environment folder can be moved whole.

use crate::error::{Error, Setting, SettingProblem};
use crate::keys::KeyRing;
use crate::payload::EnvironmentType;
use crate::portal_url::PortalUrl;
use crate::trust::{Confirmed, Proposal};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

pub const ENV_VAR: &str = "LICENSE_MANAGER_CONFIG";
pub const FILE_NAME: &str = "environment.toml";

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Shown to administrators, e.g. "Production EU".
    pub name: String,
    #[serde(rename = "type")]
    pub environment_type: EnvironmentType,
    pub license_file: PathBuf,
    pub backup_dir: PathBuf,
    /// Lock, clock and history files. Default: `.license-manager` beside the license.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state_dir: Option<PathBuf>,
    /// Compute the serial from this facts file instead of the host (containers, tests).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub facts_file: Option<PathBuf>,
    /// Checked when parsed ([`PortalUrl`]): https, or plain http only to loopback.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub portal_url: Option<PortalUrl>,
    /// The subscription this environment belongs to. When set, a license of another
    /// subscription is critical for `licensectl check` (not only a warning at install).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub activation_code: Option<crate::activation::ActivationCode>,
    /// Trusted vendor public keys, base64url of the raw 32 bytes.
    #[serde(default)]
    pub vendor_keys: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage: Option<Usage>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proxy: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_bundle: Option<PathBuf>,
    /// Automatic renewal from the portal (opt-in): the desktop app asks the portal
    /// at start and once a day while it runs (`environment::renewal`). Headless
    /// servers opt in by enabling `licensectl-renew.timer` instead.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub auto_renew: bool,
}

/// Where consumption figures come from: a JSON file, or a command printing JSON.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum UsageSource {
    File(PathBuf),
    Command(Vec<String>),
}

/// The `[usage]` table: exactly one of `file` or `command`, and how long the
/// command may run (`timeout_seconds`, default 30).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "UsageTable", into = "UsageTable")]
pub struct Usage {
    pub source: UsageSource,
    pub timeout_seconds: u64,
}

pub const USAGE_TIMEOUT_SECONDS: u64 = 30;

impl Usage {
    pub fn new(source: UsageSource) -> Self {
        Self { source, timeout_seconds: USAGE_TIMEOUT_SECONDS }
    }
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct UsageTable {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    file: Option<PathBuf>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    command: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    timeout_seconds: Option<u64>,
}

impl TryFrom<UsageTable> for Usage {
    type Error = String;
    fn try_from(t: UsageTable) -> Result<Self, String> {
        let source = match (t.file, t.command) {
            (Some(f), None) => UsageSource::File(f),
            (None, Some(c)) if !c.is_empty() => UsageSource::Command(c),
            (None, Some(_)) => return Err("[usage] command is empty: give the program and its arguments".into()),
            _ => return Err("[usage] needs exactly one of `file = \"usage.json\"` or `command = [...]`".into()),
        };
        let timeout_seconds = t.timeout_seconds.unwrap_or(USAGE_TIMEOUT_SECONDS);
        if !(1..=3600).contains(&timeout_seconds) {
            return Err(format!("[usage] timeout_seconds is {timeout_seconds}: give 1 to 3600"));
        }
        Ok(Usage { source, timeout_seconds })
    }
}

impl From<Usage> for UsageTable {
    fn from(u: Usage) -> Self {
        let timeout_seconds = (u.timeout_seconds != USAGE_TIMEOUT_SECONDS).then_some(u.timeout_seconds);
        match u.source {
            UsageSource::File(f) => UsageTable { file: Some(f), command: None, timeout_seconds },
            UsageSource::Command(c) => UsageTable { file: None, command: Some(c), timeout_seconds },
        }
    }
}

impl Config {
    pub fn parse(text: &str, path: &Path) -> Result<Self, Error> {
        let bad = |reason: String| Error::BadConfig { path: path.to_path_buf(), reason };
        let mut c: Config = toml::from_str(text).map_err(|e| bad(e.message().to_string()))?;
        if c.name.trim().is_empty() {
            return Err(bad("name is empty: give the environment a name administrators recognise".into()));
        }
        KeyRing::parse(&c.vendor_keys).map_err(|e| bad(format!("vendor_keys: {e}")))?;
        let base = path.parent().unwrap_or(Path::new("."));
        let abs = |p: &Path| if p.is_absolute() { p.to_path_buf() } else { base.join(p) };
        c.license_file = abs(&c.license_file);
        c.backup_dir = abs(&c.backup_dir);
        c.state_dir = c.state_dir.as_deref().map(abs);
        c.facts_file = c.facts_file.as_deref().map(abs);
        c.ca_bundle = c.ca_bundle.as_deref().map(abs);
        if let Some(Usage { source: UsageSource::File(p), .. }) = &mut c.usage {
            *p = abs(p);
        }
        if c.license_file.file_name().is_none() {
            return Err(bad("license_file must name a file".into()));
        }
        Ok(c)
    }

    /// The one way to make a new configuration (the demo, `licensectl init`, the
    /// app's first run): set what differs from the defaults, then [`ConfigBuilder::write`]
    /// checks every rule once and writes it.
    // A builder, not a `Config`: a new configuration is never used unchecked.
    #[allow(clippy::new_ret_no_self)]
    pub fn new(
        name: impl Into<String>,
        environment_type: EnvironmentType,
        license_file: impl Into<PathBuf>,
        backup_dir: impl Into<PathBuf>,
    ) -> ConfigBuilder {
        ConfigBuilder(Config {
            name: name.into(),
            environment_type,
            license_file: license_file.into(),
            backup_dir: backup_dir.into(),
            state_dir: None,
            facts_file: None,
            portal_url: None,
            activation_code: None,
            vendor_keys: Vec::new(),
            usage: None,
            proxy: None,
            ca_bundle: None,
            auto_renew: false,
        })
    }

    /// Changes to this configuration (the app's Settings), checked like a new one.
    pub fn edit(self) -> ConfigBuilder {
        ConfigBuilder(self)
    }

    pub fn read(path: &Path) -> Result<Self, Error> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io("read the configuration", path, e))?;
        Self::parse(&text, path)
    }

    pub fn to_toml(&self) -> String {
        toml::to_string_pretty(self).expect("configuration serialises")
    }

    pub fn vendor_keys(&self) -> KeyRing {
        KeyRing::parse(&self.vendor_keys).expect("validated when parsed")
    }

    pub fn state_dir(&self) -> PathBuf {
        self.state_dir
            .clone()
            .unwrap_or_else(|| self.license_file.parent().unwrap_or(Path::new(".")).join(".license-manager"))
    }
}

/// A configuration being made or changed; nothing is checked or written until
/// [`ConfigBuilder::write`].
#[must_use]
pub struct ConfigBuilder(Config);

impl ConfigBuilder {
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.0.name = name.into();
        self
    }
    pub fn environment_type(mut self, t: EnvironmentType) -> Self {
        self.0.environment_type = t;
        self
    }
    pub fn license_file(mut self, p: impl Into<PathBuf>) -> Self {
        self.0.license_file = p.into();
        self
    }
    pub fn backup_dir(mut self, p: impl Into<PathBuf>) -> Self {
        self.0.backup_dir = p.into();
        self
    }
    pub fn state_dir(mut self, p: Option<PathBuf>) -> Self {
        self.0.state_dir = p;
        self
    }

    pub fn facts_file(mut self, p: Option<PathBuf>) -> Self {
        self.0.facts_file = p;
        self
    }
    pub fn portal_url(mut self, url: Option<PortalUrl>) -> Self {
        self.0.portal_url = url;
        self
    }
    pub fn vendor_keys(mut self, keys: Vec<String>) -> Self {
        self.0.vendor_keys = keys.into_iter().map(|k| k.trim().to_string()).filter(|k| !k.is_empty()).collect();
        self
    }
    pub fn usage(mut self, usage: Option<Usage>) -> Self {
        self.0.usage = usage;
        self
    }
    pub fn proxy(mut self, proxy: Option<String>) -> Self {
        self.0.proxy = proxy.map(|p| p.trim().to_string()).filter(|p| !p.is_empty());
        self
    }
    pub fn auto_renew(mut self, on: bool) -> Self {
        self.0.auto_renew = on;
        self
    }

    pub fn ca_bundle(mut self, p: Option<PathBuf>) -> Self {
        self.0.ca_bundle = p;
        self
    }

    /// Checks every rule for a configuration kept at `path`: a name; paths absolute
    /// or relative to the configuration's folder, without `..`, in folders that
    /// exist; the files it names exist; the vendor keys and the proxy parse (the
    /// portal URL already did, as a [`PortalUrl`]).
    pub fn check(&self, path: &Path) -> Result<(), Error> {
        let c = &self.0;
        if c.name.trim().is_empty() {
            return Err(bad(
                Setting::Name,
                SettingProblem::Empty,
                "it is empty: give the environment a name administrators recognise".into(),
            ));
        }
        let base = path.parent().unwrap_or(Path::new("."));
        if let Some(p) = &c.state_dir {
            place(base, Setting::StateDir, p)?;
        }
        let license = place(base, Setting::LicenseFile, &c.license_file)?;
        if license.file_name().is_none() || license.is_dir() {
            return Err(bad(
                Setting::LicenseFile,
                SettingProblem::IsAFolder,
                format!("{} is a folder: name the license file itself", license.display()),
            ));
        }
        let backups = place(base, Setting::BackupDir, &c.backup_dir)?;
        for (setting, p) in [(Setting::LicenseFile, &license), (Setting::BackupDir, &backups)] {
            if !p.parent().is_some_and(Path::is_dir) {
                return Err(bad(
                    setting,
                    SettingProblem::NoSuchFolder,
                    format!("the folder of {} does not exist: create it first", p.display()),
                ));
            }
        }
        for (setting, p) in [(Setting::FactsFile, &c.facts_file), (Setting::CaBundle, &c.ca_bundle)] {
            if let Some(p) = p {
                let p = place(base, setting, p)?;
                if !p.is_file() {
                    let reason = format!("{} does not exist or is not a file", p.display());
                    return Err(bad(setting, SettingProblem::NoSuchFile, reason));
                }
            }
        }
        KeyRing::parse(&c.vendor_keys)
            .map_err(|e| bad(Setting::VendorKeys, SettingProblem::Unreadable, e.to_string()))?;
        if let Some(p) = &c.proxy {
            reqwest::Proxy::all(p).map_err(|e| {
                bad(Setting::Proxy, SettingProblem::Unreadable, format!("'{p}' is not a proxy URL ({e})"))
            })?;
        }
        Ok(())
    }

    /// Checks every rule, then proposes writing the configuration to `path`: what
    /// the write would change in what the environment trusts, where it writes and
    /// what it runs (creating or replacing the file is such a change). Nothing is
    /// written until the proposal is confirmed ([`crate::trust`]) and applied.
    pub fn propose(self, path: &Path) -> Result<Proposal<ConfigWrite>, Error> {
        self.check(path)?;
        let before = crate::fs::read_optional(path, crate::fs::Links::Follow)?;
        let written = before.as_deref().and_then(|b| toml::from_str::<Config>(std::str::from_utf8(b).ok()?).ok());
        let text = self.0.relative_as_written(written.as_ref(), path).to_toml();
        let new = Config::parse(&text, path)?;
        let old = before.as_deref().map(|b| std::str::from_utf8(b).map_err(|e| e.to_string()));
        let old = old.map(|t| t.and_then(|t| Config::parse(t, path).map_err(|e| e.to_string())));
        let (title, mut changes) = match &old {
            None => ("Create this environment's configuration?", vec![format!("Create {}", shown(path))]),
            Some(Err(why)) => (
                "Replace this environment's configuration?",
                vec![format!("Replace {}, which cannot be read ({})", shown(path), crate::text::printable(why))],
            ),
            Some(Ok(_)) => ("Change what this environment trusts?", vec![]),
        };
        let blank = Config::new(String::new(), new.environment_type, PathBuf::new(), PathBuf::new()).0;
        let old = match &old {
            Some(Ok(c)) => c,
            _ => &blank,
        };
        changes.extend(old.trust_changes_to(&new));
        let write = ConfigWrite { text, path: path.to_path_buf(), before };
        Ok(Proposal::new(write, title, changes))
    }
}

/// A checked configuration, waiting for its confirmation to be written.
pub struct ConfigWrite {
    text: String,
    path: PathBuf,
    /// The file as it was when the change was proposed (`None`: there was none).
    before: Option<Vec<u8>>,
}

impl Confirmed<ConfigWrite> {
    /// Writes the confirmed configuration atomically; returns it as read back. The
    /// file must still be what the person saw when they confirmed.
    pub fn apply(self) -> Result<Config, Error> {
        let w = self.into_inner();
        crate::fs::unchanged_since(&w.path, &w.before)?;
        let parsed = Config::parse(&w.text, &w.path)?;
        crate::fs::replace(&w.path, w.text.as_bytes(), "config")?;
        Ok(parsed)
    }
}

impl Proposal<ConfigWrite> {
    /// The demo's configuration, in the folder the core creates for it: nothing
    /// that was trusted before changes.
    pub(crate) fn made_by_the_core(self) -> Confirmed<ConfigWrite> {
        Confirmed::made_by_the_core(self.into_value())
    }
}

impl Config {
    /// Paths as the file had them: one written relative to the configuration's
    /// folder stays relative while it still points inside that folder (a saved
    /// Settings page must not turn `license.lic` into this machine's absolute path).
    fn relative_as_written(mut self, written: Option<&Config>, path: &Path) -> Config {
        let Some(base) = path.parent().filter(|b| !b.as_os_str().is_empty()) else { return self };
        let keep = |new: &mut PathBuf, old: Option<&Path>| {
            if let (Some(_), Ok(rel)) = (old.filter(|o| o.is_relative()), new.strip_prefix(base)) {
                if !rel.as_os_str().is_empty() {
                    *new = rel.to_path_buf();
                }
            }
        };
        let old = |f: fn(&Config) -> Option<&Path>| written.and_then(f);
        keep(&mut self.license_file, old(|c| Some(c.license_file.as_path())));
        keep(&mut self.backup_dir, old(|c| Some(c.backup_dir.as_path())));
        if let Some(p) = self.state_dir.as_mut() {
            keep(p, old(|c| c.state_dir.as_deref()));
        }
        if let Some(p) = self.facts_file.as_mut() {
            keep(p, old(|c| c.facts_file.as_deref()));
        }
        if let Some(p) = self.ca_bundle.as_mut() {
            keep(p, old(|c| c.ca_bundle.as_deref()));
        }
        if let Some(Usage { source: UsageSource::File(p), .. }) = self.usage.as_mut() {
            keep(
                p,
                old(|c| match &c.usage {
                    Some(Usage { source: UsageSource::File(f), .. }) => Some(f.as_path()),
                    _ => None,
                }),
            );
        }
        self
    }
}

fn shown(p: &Path) -> String {
    crate::text::printable(&p.display().to_string())
}

fn shown_opt(p: Option<&Path>) -> String {
    p.map(shown).unwrap_or_else(|| "none".into())
}

impl Config {
    /// Each change from `self` to `new` that a person confirms, one line each: the
    /// trust anchors, the portal, every place the environment reads or writes, and
    /// the usage source (a command is run).
    fn trust_changes_to(&self, new: &Config) -> Vec<String> {
        let mut out = self.trust_anchors().changes_to(&new.trust_anchors());
        let paths: [(&str, Option<&Path>, Option<&Path>); 4] = [
            ("License file", Some(self.license_file.as_path()), Some(new.license_file.as_path())),
            ("Backup folder", Some(self.backup_dir.as_path()), Some(new.backup_dir.as_path())),
            ("State folder", self.state_dir.as_deref(), new.state_dir.as_deref()),
            ("Facts file for the serial number", self.facts_file.as_deref(), new.facts_file.as_deref()),
        ];
        for (what, old, new) in paths {
            if old != new {
                out.push(format!(
                    "{what}: {} → {}",
                    shown_opt(old.filter(|p| !p.as_os_str().is_empty())),
                    shown_opt(new)
                ));
            }
        }
        if self.usage != new.usage {
            out.push(format!("Usage source: {} → {}", usage_words(&self.usage), usage_words(&new.usage)));
        }
        out
    }
}

fn usage_words(u: &Option<Usage>) -> String {
    match u.as_ref().map(|u| &u.source) {
        None => "none".into(),
        Some(UsageSource::File(p)) => format!("the file {}", shown(p)),
        Some(UsageSource::Command(argv)) => format!("run `{}`", crate::text::printable(&argv.join(" "))),
    }
}

/// Where a configuration is looked for, in order: the flag, the environment
/// variable, the user's configuration folder, then the system-wide one.
pub fn candidates(flag: Option<&Path>) -> Vec<PathBuf> {
    if let Some(p) = flag {
        return vec![p.to_path_buf()];
    }
    if let Some(p) = std::env::var_os(ENV_VAR).filter(|v| !v.is_empty()) {
        return vec![PathBuf::from(p)];
    }
    let mut out = Vec::new();
    if let Some(dir) = user_config_dir() {
        out.push(dir.join("license-manager").join(FILE_NAME));
    }
    out.push(system_folder().join(FILE_NAME));
    out
}

pub fn locate(flag: Option<&Path>) -> Result<PathBuf, Error> {
    let c = candidates(flag);
    if flag.is_some() || std::env::var_os(ENV_VAR).is_some_and(|v| !v.is_empty()) {
        // An explicit choice is never silently replaced by another file.
        return Ok(c[0].clone());
    }
    c.iter().find(|p| p.is_file()).cloned().ok_or_else(|| Error::NoConfig {
        searched: c.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", "),
    })
}

fn user_config_dir() -> Option<PathBuf> {
    #[cfg(windows)]
    return std::env::var_os("APPDATA").map(PathBuf::from);
    #[cfg(target_os = "macos")]
    return std::env::var_os("HOME").map(|h| PathBuf::from(h).join("Library/Application Support"));
    #[cfg(not(any(windows, target_os = "macos")))]
    return std::env::var_os("XDG_CONFIG_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")));
}

/// What an environment or a workstation trusts beyond its own files: the vendor
/// keys that sign its licenses and receipts, the portal its token goes to, and the
/// proxy and CA bundle its portal connection relies on.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TrustAnchors {
    pub vendor_keys: Vec<String>,
    pub portal_url: Option<PortalUrl>,
    pub proxy: Option<String>,
    pub ca_bundle: Option<PathBuf>,
}

impl Config {
    pub fn trust_anchors(&self) -> TrustAnchors {
        TrustAnchors {
            vendor_keys: self.vendor_keys.clone(),
            portal_url: self.portal_url.clone(),
            proxy: self.proxy.clone(),
            ca_bundle: self.ca_bundle.clone(),
        }
    }
}

impl TrustAnchors {
    /// Each change from `self` to `new`, as a line an administrator confirms in a
    /// native dialog: keys by their id, the proxy without its password.
    pub fn changes_to(&self, new: &TrustAnchors) -> Vec<String> {
        let kid = |k: &str| {
            crate::keys::PublicKey::parse_any(k)
                .map(|p| p.kid().to_string())
                .unwrap_or_else(|_| crate::text::printable(k))
        };
        let mut out = Vec::new();
        for k in new.vendor_keys.iter().filter(|k| !self.vendor_keys.contains(k)) {
            out.push(format!("Trust a new vendor key: {}", kid(k)));
        }
        for k in self.vendor_keys.iter().filter(|k| !new.vendor_keys.contains(k)) {
            out.push(format!("Stop trusting the vendor key {}", kid(k)));
        }
        let url = |u: &Option<PortalUrl>| u.as_ref().map(|u| u.to_string()).unwrap_or_else(|| "none".into());
        if self.portal_url != new.portal_url {
            out.push(format!("Portal: {} → {}", url(&self.portal_url), url(&new.portal_url)));
        }
        let shown = |p: &Option<String>| p.as_deref().map(without_password).unwrap_or_else(|| "the system's".into());
        if self.proxy != new.proxy {
            out.push(format!("Proxy: {} → {}", shown(&self.proxy), shown(&new.proxy)));
        }
        if self.ca_bundle != new.ca_bundle {
            let ca = |p: &Option<PathBuf>| p.as_ref().map(|p| p.display().to_string()).unwrap_or_else(|| "none".into());
            out.push(format!("Extra CA bundle: {} → {}", ca(&self.ca_bundle), ca(&new.ca_bundle)));
        }
        out
    }
}

/// A proxy URL as it may be shown: `user:****@` instead of its password.
fn without_password(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let userinfo = &url[scheme + 3..at];
            let user = userinfo.split(':').next().unwrap_or("");
            crate::text::printable(&format!("{}{user}:****{}", &url[..scheme + 3], &url[at..]))
        }
        _ => crate::text::printable(url),
    }
}

/// Whether `path` is in the system-wide configuration folder.
pub fn is_system_wide(path: &Path) -> bool {
    path.starts_with(system_folder())
}

/// The state folder a system-wide environment gets by default (`licensectl init`):
/// where services keep their state, owned by the administrator (root).
pub fn system_state_dir() -> PathBuf {
    #[cfg(windows)]
    return system_folder().join("state");
    #[cfg(target_os = "macos")]
    return PathBuf::from("/Library/Application Support/LicenseManager/state");
    #[cfg(not(any(windows, target_os = "macos")))]
    return PathBuf::from("/var/lib/license-manager");
}

/// The machine-wide configuration folder (`/etc/license-manager`, on Windows
/// `%ProgramData%\License Manager`).
pub fn system_folder() -> PathBuf {
    #[cfg(windows)]
    return PathBuf::from(std::env::var_os("ProgramData").unwrap_or_else(|| "C:\\ProgramData".into()))
        .join("License Manager");
    #[cfg(target_os = "macos")]
    return PathBuf::from("/Library/Application Support/LicenseManager");
    #[cfg(not(any(windows, target_os = "macos")))]
    return PathBuf::from("/etc/license-manager");
}

fn bad(setting: Setting, problem: SettingProblem, reason: String) -> Error {
    Error::InvalidSetting { setting, problem, reason }
}

/// Where a configured path points: absolute, or relative to the configuration's
/// folder `base`; never empty and never through `..`.
fn place(base: &Path, setting: Setting, p: &Path) -> Result<PathBuf, Error> {
    if p.as_os_str().is_empty() {
        return Err(bad(setting, SettingProblem::Empty, "it is empty".into()));
    }
    if p.components().any(|c| matches!(c, std::path::Component::ParentDir)) {
        return Err(bad(
            setting,
            SettingProblem::HasParentDir,
            format!("{} contains '..': give the path without it", p.display()),
        ));
    }
    Ok(if p.is_absolute() { p.to_path_buf() } else { base.join(p) })
}

#[cfg(test)]
mod tests {
    use super::*;

    struct No;
    impl crate::trust::Confirmer for No {
        fn confirm(&self, _: &str, _: &[String]) -> bool {
            false
        }
    }

    /// Creating a configuration, and every change to its portal, places and keys, is
    /// put to a person; a "no" writes nothing; a name alone asks nobody.
    #[test]
    fn every_trust_change_of_a_configuration_is_proposed_and_a_no_writes_nothing() {
        let d = tempfile::tempdir().unwrap();
        let path = crate::demo::create(d.path()).unwrap();
        let before = std::fs::read(&path).unwrap();
        let c = Config::read(&path).unwrap();
        let evil = "https://evil.example.com".parse::<PortalUrl>().unwrap();
        let k = crate::keys::KeyPair::generate().public().to_base64url();
        let p = c
            .clone()
            .edit()
            .portal_url(Some(evil))
            .license_file("samples/renewal.lic")
            .vendor_keys(vec![k])
            .usage(Some(Usage::new(UsageSource::Command(vec!["./steal.sh".into()]))))
            .propose(&path)
            .unwrap();
        let lines = p.changes().join("\n");
        for want in ["Trust a new vendor key", "→ https://evil.example.com", "License file:", "run `./steal.sh`"] {
            assert!(lines.contains(want), "{want}: {lines}");
        }
        assert_eq!(p.confirm(&No).err().unwrap().code(), crate::ErrorCode::NotConfirmed);
        assert_eq!(std::fs::read(&path).unwrap(), before, "a no writes nothing");

        let renamed = c.edit().name("Renamed").propose(&path).unwrap();
        assert!(renamed.changes().is_empty(), "{:?}", renamed.changes());
        renamed.confirm(&No).unwrap().apply().unwrap();
        assert_eq!(Config::read(&path).unwrap().name, "Renamed");

        let fresh = d.path().join("new.toml");
        let p = Config::new("New", EnvironmentType::Production, "license.lic", "backups").propose(&fresh).unwrap();
        assert!(p.changes()[0].starts_with("Create "), "{:?}", p.changes());
        assert!(p.confirm(&No).is_err() && !fresh.exists());
    }

    #[test]
    fn trust_changes_name_keys_by_id_and_hide_proxy_passwords() {
        let k = crate::keys::KeyPair::generate().public();
        let old = TrustAnchors::default();
        let new = TrustAnchors {
            vendor_keys: vec![k.to_base64url()],
            proxy: Some("http://admin:s3cret@proxy:3128".into()),
            ca_bundle: Some("/etc/ssl/corp.pem".into()),
            ..TrustAnchors::default()
        };
        let c = old.changes_to(&new);
        assert_eq!(c[0], format!("Trust a new vendor key: {}", k.kid()));
        assert_eq!(c[1], "Proxy: the system's → http://admin:****@proxy:3128");
        assert_eq!(c[2], "Extra CA bundle: none → /etc/ssl/corp.pem");
        assert!(!c.join("\n").contains("s3cret"));
        assert_eq!(new.changes_to(&old)[0], format!("Stop trusting the vendor key {}", k.kid()));
        assert!(new.changes_to(&new).is_empty());
    }

    #[cfg(all(unix, not(target_os = "macos")))]
    #[test]
    fn a_system_wide_environment_keeps_its_state_in_var_lib() {
        assert!(is_system_wide(Path::new("/etc/license-manager/environment.toml")));
        assert!(!is_system_wide(Path::new("/home/admin/.config/license-manager/environment.toml")));
        assert_eq!(system_state_dir(), Path::new("/var/lib/license-manager"));
    }

    const GOOD: &str = r#"
name = "Production EU"
type = "production"
license_file = "license.lic"
backup_dir = "backups"
vendor_keys = []
[usage]
command = ["platform-usage", "--json"]
"#;

    #[test]
    fn relative_paths_resolve_against_the_file() {
        let c = Config::parse(GOOD, Path::new("/srv/env/environment.toml")).unwrap();
        assert_eq!(c.license_file, Path::new("/srv/env/license.lic"));
        assert_eq!(c.backup_dir, Path::new("/srv/env/backups"));
        assert_eq!(c.state_dir(), Path::new("/srv/env/.license-manager"));
        assert_eq!(c.usage, Some(Usage::new(UsageSource::Command(vec!["platform-usage".into(), "--json".into()]))));
        assert_eq!(Config::parse(&c.to_toml(), Path::new("/srv/env/environment.toml")).unwrap(), c, "round trip");
    }

    #[test]
    fn mistakes_are_named() {
        let p = Path::new("/e/environment.toml");
        let err = Config::parse(&GOOD.replace("production", "prod"), p).unwrap_err().to_string();
        assert!(err.contains("/e/environment.toml") && err.contains("prod"), "{err}");
        let err = Config::parse(&format!("{GOOD}\n"), p).map(|_| ()).err();
        assert!(err.is_none());
        let err = Config::parse(&GOOD.replace("backup_dir", "backup_folder"), p).unwrap_err().to_string();
        assert!(err.contains("backup_folder"), "{err}");
        let err =
            Config::parse(&GOOD.replace("vendor_keys = []", "vendor_keys = [\"xyz\"]"), p).unwrap_err().to_string();
        assert!(err.contains("vendor_keys"), "{err}");
        let err = Config::parse(&format!("portal_url = \"http://127.0.0.1@portal.attacker.example:8080\"\n{GOOD}"), p)
            .unwrap_err()
            .to_string();
        assert!(err.contains("user name"), "{err}");
    }
}

/// Under Wine too: a Windows server keeps its system-wide configuration and state
/// under `%ProgramData%\License Manager`, after the user's own `%APPDATA%` one.
#[cfg(all(test, windows))]
mod windows_tests {
    #[test]
    fn on_windows_the_system_configuration_is_under_program_data() {
        let data = std::path::PathBuf::from(std::env::var_os("ProgramData").expect("Windows sets ProgramData"));
        let all = super::candidates(None);
        assert_eq!(all.last().unwrap(), &data.join("License Manager").join(super::FILE_NAME));
        assert!(super::is_system_wide(all.last().unwrap()));
        assert_eq!(super::system_state_dir(), data.join("License Manager").join("state"));
        let appdata = std::path::PathBuf::from(std::env::var_os("APPDATA").expect("Windows sets APPDATA"));
        assert_eq!(all[0], appdata.join("license-manager").join(super::FILE_NAME), "the user's own comes first");
    }
}

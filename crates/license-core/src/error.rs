//! The one error type of the core. Every message says what is wrong and what to
//! do about it; `code()` is a stable identifier for programs (CLI `--json`, IPC).

use crate::kind::DocumentKind;
use serde::{Serialize, Serializer};
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    #[error(
        "the {what} is {size} bytes, over the {limit}-byte limit, so it is not one that was issued: choose the file you were sent"
    )]
    TooLarge { what: String, size: u64, limit: u64 },

    #[error(
        "the file is not UTF-8 text: choose the {kind} file itself, not an archive or a document that contains it"
    )]
    NotText { kind: DocumentKind },

    #[error("the file starts with a byte-order mark: save it as UTF-8 without BOM, or use the original file")]
    ByteOrderMark,

    #[error("{reason}: a {kind} file is one -----BEGIN {label}----- block; use the file exactly as it was issued", label = kind.label())]
    BadArmor { kind: DocumentKind, reason: String },

    #[error("this is not a {kind} file: a {kind} file is a -----BEGIN {label}----- block, and this text has none; choose the {kind} file itself", label = kind.label())]
    NotADocument { kind: DocumentKind },

    #[error("this is a {found} file, not a {expected} file: choose the {expected} file")]
    WrongKind { expected: DocumentKind, found: String, known: Option<DocumentKind> },

    #[error("the file holds more than one {kind} block: keep exactly one, as issued")]
    MultipleBlocks { kind: DocumentKind },

    #[error("the {part} is not valid {encoding}: the file was damaged in transfer; copy it again as a file, not by retyping")]
    BadEncoding { part: &'static str, encoding: &'static str },

    #[error("the envelope is malformed ({reason}): the file was altered or not produced by a License Manager tool")]
    BadEnvelope { reason: String },

    #[error("signature algorithm '{alg}' is not supported: only ed25519 is; ask the issuer for a v1 file")]
    UnsupportedAlgorithm { alg: String },

    #[error("the file is signed with key '{kid}', which is not a trusted {role} key: add the {role}'s public key to the configuration, or ask for a file signed with a trusted key")]
    UnknownKey { kid: String, role: &'static str },

    #[error("the signature does not match the contents of this {kind} file: it was altered after signing, or signed as another kind of document; use the original file")]
    BadSignature { kind: DocumentKind },

    #[error("the {kind} contents are invalid ({reason}): ask the issuer for a new file")]
    BadPayload { kind: DocumentKind, reason: String },

    #[error("the {kind} has format {found}; this version reads format 1: update License Manager")]
    UnsupportedFormat { kind: DocumentKind, found: u64 },

    #[error("'{input}' is not a valid activation code: {reason}; copy it from the subscription confirmation")]
    InvalidActivationCode { input: String, reason: String, length: Option<SymbolCount> },

    #[error("'{input}' is not a valid serial number: {reason}; copy it from the Overview page or `licensectl serial`")]
    InvalidSerialNumber { input: String, reason: String, length: Option<SymbolCount> },

    #[error("the serial number cannot be computed from {origin}: no usable fact ({notes}); run `licensectl serial --explain` and, on a virtual machine, give it a platform UUID or /etc/machine-id, or set facts_file in the configuration to a facts file (key=value lines)", notes = notes.join("; "))]
    NoSerialFacts { origin: String, notes: Vec<String> },

    #[error("the facts file {origin} is invalid: {reason}")]
    BadFacts { origin: String, reason: String },

    #[error("invalid key: {reason}")]
    BadKey { reason: String },

    #[error("the configuration {path} is invalid: {reason}")]
    BadConfig { path: PathBuf, reason: String },

    #[error("'{input}' is not an environment type: use development, quality, production or lifetime")]
    InvalidEnvironmentType { input: String },

    #[error("the {setting} setting is not valid: {reason}")]
    InvalidSetting { setting: Setting, problem: SettingProblem, reason: String },

    #[error(
        "no configuration found (looked in {searched}): create one with `licensectl init` or open the demo environment"
    )]
    NoConfig { searched: String },

    #[error("could not {action} {path}: {source}")]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error("{path} is a link to {target}, which does not exist: create that folder, or set the path to a folder that exists", target = target.display())]
    DanglingLink { path: PathBuf, target: PathBuf },

    #[error("{path} is not safe to keep this environment's key and records in: {reason}")]
    NotPrivate { path: PathBuf, reason: String },

    #[error("{path} is not a regular file (it is a folder, link, device or pipe): replace it with the file itself")]
    NotAFile { path: PathBuf },

    #[error("consumption could not be read from {origin}: {reason}; fix the [usage] source in the configuration")]
    UsageUnavailable { origin: String, reason: String },

    #[error("the transfer file cannot be used: {reason}. Nothing was changed; use the file exactly as License Manager wrote it, or export it again")]
    BadTransfer { reason: String, damage: TransferDamage },

    #[error("'{name}' is not a transfer file: a transfer file is named <anything>.transfer.zip; choose the file License Manager wrote, or a name that ends in .transfer.zip")]
    NotATransferFile { name: String },

    #[error("the transfer file would hold {members} members for {}, counting the license and the receipt each request and audit gets back{}, over its limit of 1,000 members and 64 MiB, so nothing was written or sent: put the remaining environments into a second transfer file (one file carries 38 environments with 12 audits each)", crate::text::count(*environments, "environment"), megabytes.map(|m| format!(" ({m} MiB)")).unwrap_or_default())]
    TransferFull { members: usize, megabytes: Option<u64>, environments: usize },

    #[error("the system clock is not behind any time this environment saw, so there is nothing to accept: `licensectl clock` shows the state")]
    NothingToAccept,

    #[error("there is not enough free space in {path} for the new license ({needed} bytes needed, {free} free): free some space there, then install again. Nothing was changed")]
    NoSpace { path: PathBuf, needed: u64, free: u64 },

    #[error("no license is installed: install one first")]
    NothingInstalled,

    #[error(
        "{path} does not hold a license ({reason}), so it was not backed up: a backup only ever holds a license file"
    )]
    NotALicense { path: PathBuf, reason: String },

    #[error("no backup with id '{id}': run `licensectl backups` to see the ids")]
    NoSuchBackup { id: String },

    #[error("the license was refused: {failed}. Nothing was changed")]
    Refused { failed: String },

    #[error("the renewal was not staged: {reason}. Nothing was changed")]
    StageRefused { reason: String },

    #[error("{what} Not confirmed, so nothing was changed: such a change needs a yes outside the app's page (the confirmation dialog, or the licensectl command that names it)")]
    NotConfirmed { what: String },

    #[error("the staged renewal {path} does not verify ({reason}), so it will not be installed: remove it (`licensectl staged remove`, or Remove on the Overview) and stage the renewal again from the file you were sent")]
    StagedDamaged { path: PathBuf, reason: String },

    #[error("the portal's answer was refused: {reason}. The installed license is unchanged; check the portal URL and that the portal is the vendor's, then run the renewal again")]
    RenewalRefused { reason: String },

    #[error("no renewal for {serial} at the portal yet: {reason}")]
    NoRenewalYet { serial: String, reason: String },

    #[error("when the license of {name} ({serial}) expires is not known here: the portal lists no license issued for it, and the transfer file holds no export of it. Export it from the environment into this file (licensectl transfer export), then prepare the renewals again")]
    ExpiryUnknown { name: String, serial: String },

    #[error("{} must be from {} to {} ({given} given): give a whole number in that range", .range.quantity, .range.min, .range.max, given = .range.given)]
    OutOfRange { range: Range },

    #[error("another renewal of this environment is running (it holds {path}): nothing was changed; let it finish, it does the same work")]
    RenewalRunning { path: PathBuf },

    #[error("confirmation needed: {warnings}. Nothing was changed; confirm to go ahead")]
    NeedsConfirmation { warnings: String },

    #[error("after writing, the installed license did not read back as the new file; the previous license was restored from backup {backup}")]
    ReadBackFailed { backup: String },

    #[error("another install, restore or upload is running and held the environment's lock ({path}) for 30 seconds: wait for it to finish, then try again")]
    Busy { path: PathBuf },

    #[error("the portal at {url} is unreachable ({reason}): check the portal URL, proxy and network; on an air-gapped machine save the file and upload it from a connected one")]
    PortalUnreachable { url: String, reason: String },

    #[error("the portal refused the request ({status} {kind}): {detail}")]
    PortalRefused { status: u16, kind: String, detail: String },

    #[error("the portal answered something unexpected ({reason}): check that the portal URL points at a License Manager portal")]
    PortalProtocol { reason: String },

    #[error("the portal rejected audit {audit_id} of {serial} and signed no receipt for it ({reasons}): register this serial in the subscription (Request a license → Register, or `licensectl portal register`), then generate a new audit", reasons = reasons.join("; "))]
    AuditNotRegistered { audit_id: uuid::Uuid, serial: String, reasons: Vec<String> },

    #[error("'{input}' cannot be the portal URL: {reason}")]
    BadPortalUrl { input: String, reason: String },

    #[error("this is not a portal token: {reason}; copy the token again from the portal")]
    BadToken { reason: String },

    #[error("{from} is set, but it is not bound to the portal {url}, so it is not sent there: set LICENSE_MANAGER_PORTAL={url} (or portal_url in the configuration) to use it with this portal")]
    TokenNotBound { from: &'static str, url: String },

    #[error("no portal token is stored for {url}: store one in Settings or with `licensectl portal login`")]
    NoToken { url: String },

    #[error("the OS keyring could not be used ({reason}): on Linux make sure a Secret Service (GNOME Keyring, KWallet) is running and unlocked; on a headless server pass the token in LICENSE_MANAGER_TOKEN")]
    Keyring { reason: String },

    #[error("the operation stopped unexpectedly: {reason}; nothing it had not finished was recorded, so trying again is safe")]
    Interrupted { reason: String },

    #[error("the release does not verify: {reason}. Do not install it; get the release again from the vendor")]
    BadRelease { reason: String },
}

/// One exhaustive `match` over [`Error`]: the special arms first, then each variant
/// whose code has its own name, written once. A new variant without a code does not
/// compile.
macro_rules! codes_by_variant {
    ($value:expr; $($pat:pat => $code:expr),+; $($same:ident),+ $(,)?) => {
        match $value {
            $($pat => $code,)+
            $(Error::$same { .. } => ErrorCode::$same,)+
        }
    };
}

impl Error {
    pub fn io(action: &'static str, path: &Path, source: std::io::Error) -> Self {
        Error::Io { action, path: path.to_path_buf(), source }
    }

    /// A file that was there a moment ago is gone (another writer moved it).
    pub fn is_gone(&self) -> bool {
        matches!(self, Error::Io { source, .. } if source.kind() == std::io::ErrorKind::NotFound)
    }

    /// A stable, machine-readable identifier of the error's class. Portal refusals
    /// are told apart by what the administrator can do next.
    pub fn code(&self) -> ErrorCode {
        codes_by_variant!(self;
            // Which kind it is, when it is one of ours: the UI names the page that takes it.
            Error::WrongKind { known: Some(DocumentKind::License), .. } => ErrorCode::IsALicense,
            Error::WrongKind { known: Some(DocumentKind::Audit), .. } => ErrorCode::IsAnAudit,
            Error::WrongKind { known: Some(DocumentKind::Request), .. } => ErrorCode::IsARequest,
            Error::WrongKind { known: Some(DocumentKind::Receipt), .. } => ErrorCode::IsAReceipt,
            Error::PortalRefused { status, kind, .. } => match (*status, kind.as_str()) {
                (401, _) => ErrorCode::PortalUnauthorized,
                (403, _) => ErrorCode::PortalForbidden,
                (404, _) => ErrorCode::PortalNotFound,
                (409, "no-free-slot") => ErrorCode::PortalNoFreeSlot,
                (409, "reason-required") => ErrorCode::PortalReasonRequired,
                (409, _) => ErrorCode::PortalConflict,
                (429, _) => ErrorCode::PortalRateLimited,
                _ => ErrorCode::PortalRefused,
            },
            Error::Interrupted { .. } => ErrorCode::Internal;
            // Every other variant has the code of its own name.
            TooLarge, NotText, ByteOrderMark, BadArmor, NotADocument, WrongKind, MultipleBlocks,
            BadEncoding, BadEnvelope, UnsupportedAlgorithm, UnknownKey, BadSignature, BadPayload,
            UnsupportedFormat, InvalidActivationCode, InvalidSerialNumber, NoSerialFacts, BadFacts, BadKey,
            BadConfig, InvalidEnvironmentType, InvalidSetting, NoConfig, Io, NotAFile, NotPrivate,
            DanglingLink, UsageUnavailable, BadTransfer, NotATransferFile, TransferFull, NothingToAccept,
            NoSpace, NothingInstalled, NotALicense, NoSuchBackup, Refused, StageRefused, NotConfirmed, StagedDamaged, RenewalRefused, NoRenewalYet, ExpiryUnknown, OutOfRange, RenewalRunning, NeedsConfirmation,
            ReadBackFailed, Busy, PortalUnreachable, PortalProtocol, AuditNotRegistered, BadPortalUrl,
            BadToken, TokenNotBound, NoToken, Keyring, BadRelease
        )
    }
}

/// Declares [`ErrorCode`] with each variant's wire name written once.
macro_rules! error_codes {
    ($($variant:ident = $code:literal),* $(,)?) => {
        /// Every error code that crosses the app's IPC and `licensectl --json`: the
        /// UI and scripts branch on these, never on message text. The last four are
        /// the desktop app's own.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
        #[cfg_attr(feature = "ts", derive(ts_rs::TS))]
        pub enum ErrorCode {
            $(#[serde(rename = $code)] $variant),*
        }

        impl ErrorCode {
            pub fn as_str(self) -> &'static str {
                match self { $(ErrorCode::$variant => $code),* }
            }
        }
    };
}

error_codes! {
    TooLarge = "too_large",
    NotText = "not_text",
    ByteOrderMark = "byte_order_mark",
    BadArmor = "bad_armor",
    NotADocument = "not_a_document",
    WrongKind = "wrong_kind",
    IsALicense = "is_a_license",
    IsAnAudit = "is_an_audit",
    IsARequest = "is_a_request",
    IsAReceipt = "is_a_receipt",
    MultipleBlocks = "multiple_blocks",
    BadEncoding = "bad_encoding",
    BadEnvelope = "bad_envelope",
    UnsupportedAlgorithm = "unsupported_algorithm",
    UnknownKey = "unknown_key",
    BadSignature = "bad_signature",
    BadPayload = "bad_payload",
    UnsupportedFormat = "unsupported_format",
    InvalidActivationCode = "invalid_activation_code",
    InvalidSerialNumber = "invalid_serial_number",
    NoSerialFacts = "no_serial_facts",
    BadFacts = "bad_facts",
    BadKey = "bad_key",
    BadConfig = "bad_config",
    InvalidEnvironmentType = "invalid_environment_type",
    InvalidSetting = "invalid_setting",
    NoConfig = "no_config",
    Io = "io",
    NotAFile = "not_a_file",
    NotPrivate = "not_private",
    DanglingLink = "dangling_link",
    UsageUnavailable = "usage_unavailable",
    BadTransfer = "bad_transfer",
    NotATransferFile = "not_a_transfer_file",
    TransferFull = "transfer_full",
    NothingToAccept = "nothing_to_accept",
    NoSpace = "no_space",
    NothingInstalled = "nothing_installed",
    NotALicense = "not_a_license",
    NoSuchBackup = "no_such_backup",
    Refused = "refused",
    StageRefused = "stage_refused",
    NotConfirmed = "not_confirmed",
    StagedDamaged = "staged_damaged",
    RenewalRefused = "renewal_refused",
    NoRenewalYet = "no_renewal_yet",
    ExpiryUnknown = "expiry_unknown",
    OutOfRange = "out_of_range",
    RenewalRunning = "renewal_running",
    NeedsConfirmation = "needs_confirmation",
    ReadBackFailed = "read_back_failed",
    Busy = "busy",
    PortalUnreachable = "portal_unreachable",
    PortalRefused = "portal_refused",
    PortalUnauthorized = "portal_unauthorized",
    PortalForbidden = "portal_forbidden",
    PortalNotFound = "portal_not_found",
    PortalNoFreeSlot = "portal_no_free_slot",
    PortalReasonRequired = "portal_reason_required",
    PortalConflict = "portal_conflict",
    PortalRateLimited = "portal_rate_limited",
    PortalProtocol = "portal_protocol",
    AuditNotRegistered = "audit_not_registered",
    BadPortalUrl = "bad_portal_url",
    BadToken = "bad_token",
    TokenNotBound = "token_not_bound",
    NoToken = "no_token",
    Keyring = "keyring",
    BadRelease = "bad_release",
    NoEnvironment = "no_environment",
    NoCandidate = "no_candidate",
    Cancelled = "cancelled",
    Invalid = "invalid",
    Internal = "internal",
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl PartialEq<&str> for ErrorCode {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

/// A setting of a configuration, named as the Settings pages name their fields
/// (`data-field`), so the UI can say which one is wrong next to it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum Setting {
    Name,
    EnvironmentType,
    LicenseFile,
    BackupDir,
    StateDir,
    FactsFile,
    CaBundle,
    VendorKeys,
    Proxy,
    PortalUrl,
    ActivationCode,
}

impl std::fmt::Display for Setting {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Setting::Name => "name",
            Setting::EnvironmentType => "environment type",
            Setting::LicenseFile => "license file",
            Setting::BackupDir => "backup folder",
            Setting::StateDir => "state folder",
            Setting::FactsFile => "facts file",
            Setting::CaBundle => "CA bundle",
            Setting::VendorKeys => "vendor keys",
            Setting::Proxy => "proxy",
            Setting::PortalUrl => "portal URL",
            Setting::ActivationCode => "activation code",
        })
    }
}

/// What is wrong with a setting, for words next to its field.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum SettingProblem {
    Empty,
    NotSet,
    /// A path with `..` in it.
    HasParentDir,
    /// A folder where a file is named.
    IsAFolder,
    /// The folder it goes in does not exist.
    NoSuchFolder,
    /// The file it names does not exist.
    NoSuchFile,
    /// It does not parse (a key, a proxy URL, a portal URL).
    Unreadable,
}

/// A code of the wrong length: how many symbols were given, how many it needs
/// (separators not counted).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct SymbolCount {
    pub given: usize,
    pub needed: usize,
}

/// A number outside what it may be: which number, the limits and what was given,
/// so the UI says the limit at the field.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Range {
    pub quantity: Quantity,
    pub min: i64,
    pub max: i64,
    pub given: i64,
}

/// The numbers an administrator gives that have limits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum Quantity {
    /// "Prepare renewals": environments whose license expires within this many days.
    RenewalDays,
}

impl std::fmt::Display for Quantity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Quantity::RenewalDays => "the days within which a license expires",
        })
    }
}

impl Range {
    /// `given` checked against `limits`.
    pub fn check(quantity: Quantity, limits: std::ops::RangeInclusive<i64>, given: i64) -> Result<i64, Error> {
        if limits.contains(&given) {
            return Ok(given);
        }
        Err(Error::OutOfRange { range: Range { quantity, min: *limits.start(), max: *limits.end(), given } })
    }
}

/// What is wrong with a transfer file that cannot be used, for a headline of its own.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum TransferDamage {
    /// It is no ZIP archive at all.
    NotZip,
    /// A ZIP archive cut short: its directory at the end is missing.
    Truncated,
    /// An archive License Manager never writes: split, ZIP64, a name twice.
    Malformed,
    /// A member does not unpack, or fails its checksum.
    Checksum,
    /// A member the format does not allow: another name, a link, an escaping path.
    UnknownMember,
    /// A paper inside fails its own checks: its signature, its contents, or the
    /// folder and name it sits under.
    BadMember,
    /// It unpacks to more than the limit.
    TooLarge,
    /// `transfer.json` is missing, invalid, or disagrees with the members.
    BadIndex,
}

/// An error as it crosses IPC and `--json`: its code and its message, and the typed
/// facts the UI words itself (the message stays behind Details).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ErrorView {
    pub code: ErrorCode,
    pub message: String,
    /// The setting that is wrong.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub setting: Option<Setting>,
    /// What is wrong with it, when the setting is known.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub problem: Option<SettingProblem>,
    /// A code of the wrong length.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub length: Option<SymbolCount>,
    /// What is wrong with a transfer file.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub damage: Option<TransferDamage>,
    /// A number outside its limits.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub range: Option<Range>,
}

impl ErrorView {
    /// A view with no facts beyond its code and message.
    pub fn plain(code: ErrorCode, message: String) -> Self {
        ErrorView { code, message, setting: None, problem: None, length: None, damage: None, range: None }
    }
}

impl From<&Error> for ErrorView {
    fn from(e: &Error) -> Self {
        let mut v = ErrorView::plain(e.code(), e.to_string());
        match e {
            Error::InvalidSetting { setting, problem, .. } => (v.setting, v.problem) = (Some(*setting), Some(*problem)),
            Error::BadPortalUrl { .. } => v.setting = Some(Setting::PortalUrl),
            Error::InvalidEnvironmentType { .. } => v.setting = Some(Setting::EnvironmentType),
            Error::InvalidActivationCode { length, .. } => {
                (v.setting, v.length) = (Some(Setting::ActivationCode), *length)
            }
            Error::InvalidSerialNumber { length, .. } => v.length = *length,
            Error::BadTransfer { damage, .. } => v.damage = Some(*damage),
            Error::OutOfRange { range } => v.range = Some(*range),
            _ => {}
        }
        v
    }
}

/// Across IPC and in `--json` output an error is an [`ErrorView`].
impl Serialize for Error {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        ErrorView::from(self).serialize(s)
    }
}

#[cfg(feature = "ts")]
ts_as!([] Error => ErrorView);

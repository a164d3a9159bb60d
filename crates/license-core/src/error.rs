//! The one error type of the core. Every message says what is wrong and what to
//! do about it; `code()` is a stable identifier for programs (CLI `--json`, IPC).

use crate::document::DocumentKind;
use serde::ser::SerializeStruct;
use serde::{Serialize, Serializer};
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    #[error("{what} is {size} bytes, over the {limit}-byte limit: this is not a {what}; choose the file you were sent")]
    TooLarge { what: String, size: u64, limit: u64 },

    #[error("the file is not UTF-8 text: choose the {kind} file itself, not an archive or a document that contains it")]
    NotText { kind: DocumentKind },

    #[error("the file starts with a byte-order mark: save it as UTF-8 without BOM, or use the original file")]
    ByteOrderMark,

    #[error("{reason}: a {kind} file is one -----BEGIN {label}----- block; use the file exactly as it was issued", label = kind.label())]
    BadArmor { kind: DocumentKind, reason: String },

    #[error("this is a {found} file, not a {expected} file: choose the {expected} file")]
    WrongKind { expected: DocumentKind, found: String },

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
    InvalidActivationCode { input: String, reason: String },

    #[error("'{input}' is not a valid serial number: {reason}; copy it from the Overview page or `licensectl serial`")]
    InvalidSerialNumber { input: String, reason: String },

    #[error("the serial number cannot be computed from {origin}: no usable fact ({notes}); run `licensectl serial --explain` and, on a virtual machine, give it a platform UUID or /etc/machine-id, or set facts_file in the configuration to a facts file (key=value lines)", notes = notes.join("; "))]
    NoSerialFacts { origin: String, notes: Vec<String> },

    #[error("the facts file {origin} is invalid: {reason}")]
    BadFacts { origin: String, reason: String },

    #[error("invalid key: {reason}")]
    BadKey { reason: String },

    #[error("the configuration {path} is invalid: {reason}")]
    BadConfig { path: PathBuf, reason: String },

    #[error("no configuration found (looked in {searched}): create one with `licensectl init` or open the demo environment")]
    NoConfig { searched: String },

    #[error("could not {action} {path}: {source}")]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error("{path} is not a regular file (it is a folder, link, device or pipe): replace it with the file itself")]
    NotAFile { path: PathBuf },

    #[error("consumption could not be read from {origin}: {reason}; fix the [usage] source in the configuration")]
    UsageUnavailable { origin: String, reason: String },

    #[error("no license is installed: install one first")]
    NothingInstalled,

    #[error("no backup with id '{id}': run `licensectl backups` to see the ids")]
    NoSuchBackup { id: String },

    #[error("the license was refused: {failed}. Nothing was changed")]
    Refused { failed: String },

    #[error("confirmation needed: {warnings}. Nothing was changed; confirm to go ahead")]
    NeedsConfirmation { warnings: String },

    #[error("after writing, the installed license did not read back as the new file; the previous license was restored from backup {backup}")]
    ReadBackFailed { backup: String },

    #[error("another install or restore is running (lock {path}): wait for it to finish")]
    Busy { path: PathBuf },

    #[error("the portal at {url} is unreachable ({reason}): check the portal URL, proxy and network; on an air-gapped machine save the file and upload it from a connected one")]
    PortalUnreachable { url: String, reason: String },

    #[error("the portal refused the request ({status} {kind}): {detail}")]
    PortalRefused { status: u16, kind: String, detail: String },

    #[error("the portal answered something unexpected ({reason}): check that the portal URL points at a License Manager portal")]
    PortalProtocol { reason: String },

    #[error("'{input}' cannot be the portal URL: {reason}")]
    BadPortalUrl { input: String, reason: String },

    #[error("this is not a portal token: {reason}; copy the token again from the portal")]
    BadToken { reason: String },

    #[error("no portal token is stored for {url}: store one in Settings or with `licensectl portal login`")]
    NoToken { url: String },

    #[error("the OS keyring could not be used ({reason}): on Linux make sure a Secret Service (GNOME Keyring, KWallet) is running and unlocked; on a headless server pass the token in LICENSE_MANAGER_TOKEN")]
    Keyring { reason: String },
}

impl Error {
    pub fn io(action: &'static str, path: &Path, source: std::io::Error) -> Self {
        Error::Io { action, path: path.to_path_buf(), source }
    }

    /// A stable, machine-readable identifier of the error's class.
    pub fn code(&self) -> &'static str {
        match self {
            Error::TooLarge { .. } => "too_large",
            Error::NotText { .. } => "not_text",
            Error::ByteOrderMark => "byte_order_mark",
            Error::BadArmor { .. } => "bad_armor",
            Error::WrongKind { .. } => "wrong_kind",
            Error::MultipleBlocks { .. } => "multiple_blocks",
            Error::BadEncoding { .. } => "bad_encoding",
            Error::BadEnvelope { .. } => "bad_envelope",
            Error::UnsupportedAlgorithm { .. } => "unsupported_algorithm",
            Error::UnknownKey { .. } => "unknown_key",
            Error::BadSignature { .. } => "bad_signature",
            Error::BadPayload { .. } => "bad_payload",
            Error::UnsupportedFormat { .. } => "unsupported_format",
            Error::InvalidActivationCode { .. } => "invalid_activation_code",
            Error::InvalidSerialNumber { .. } => "invalid_serial_number",
            Error::NoSerialFacts { .. } => "no_serial_facts",
            Error::BadFacts { .. } => "bad_facts",
            Error::BadKey { .. } => "bad_key",
            Error::BadConfig { .. } => "bad_config",
            Error::NoConfig { .. } => "no_config",
            Error::Io { .. } => "io",
            Error::NotAFile { .. } => "not_a_file",
            Error::UsageUnavailable { .. } => "usage_unavailable",
            Error::NothingInstalled => "nothing_installed",
            Error::NoSuchBackup { .. } => "no_such_backup",
            Error::Refused { .. } => "refused",
            Error::NeedsConfirmation { .. } => "needs_confirmation",
            Error::ReadBackFailed { .. } => "read_back_failed",
            Error::Busy { .. } => "busy",
            Error::PortalUnreachable { .. } => "portal_unreachable",
            Error::PortalRefused { .. } => "portal_refused",
            Error::PortalProtocol { .. } => "portal_protocol",
            Error::BadPortalUrl { .. } => "bad_portal_url",
            Error::BadToken { .. } => "bad_token",
            Error::NoToken { .. } => "no_token",
            Error::Keyring { .. } => "keyring",
        }
    }
}

/// Across IPC and in `--json` output an error is `{code, message}`.
impl Serialize for Error {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut st = s.serialize_struct("Error", 2)?;
        st.serialize_field("code", self.code())?;
        st.serialize_field("message", &self.to_string())?;
        st.end()
    }
}

//! License Manager core: everything the desktop app and `licensectl` share, with no
//! GUI dependency. See ARCHITECTURE.md for the map.

/// Implements `ts_rs::TS` for a type that crosses IPC in another type's shape:
/// `ts_as!([generics] Type => Shape)`, e.g. a code that serialises as its text
/// (`=> String`) or an error that serialises as an `ErrorView`.
#[cfg(feature = "ts")]
#[macro_export]
macro_rules! ts_as {
    ([$($g:tt)*] $t:ty => $shape:ty) => {
        impl<$($g)*> ts_rs::TS for $t {
            type WithoutGenerics = Self;
            type OptionInnerType = Self;
            fn name(cfg: &ts_rs::Config) -> String {
                <$shape as ts_rs::TS>::name(cfg)
            }
            fn inline(cfg: &ts_rs::Config) -> String {
                <$shape as ts_rs::TS>::inline(cfg)
            }
        }
    };
}

pub mod activation;
mod armor;
pub mod check;
pub mod crockford;
pub mod document;
pub mod error;
pub mod fs;
pub mod keys;
pub mod kind;
pub mod payload;
pub mod run;
pub mod serial;
mod strict_json;
pub mod timestamp;

pub use activation::ActivationCode;
pub use check::{check_license, Expectations, Report};
pub use error::{Error, ErrorCode, ErrorView, Setting, SettingProblem, SymbolCount, TransferDamage};
pub use keys::{KeyPair, KeyRing, PublicKey};
pub use kind::DocumentKind;
pub use payload::{Audit, EnvironmentType, License, Payload, Request, SelfSigned};
pub use serial::SerialNumber;

pub const MAX_FILE_BYTES: u64 = armor::MAX_FILE_BYTES;

/// Lower-case hex SHA-256: backup names, idempotency keys, token hashes.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex_lower(&sha2::Sha256::digest(bytes))
}

/// Untrusted text (a name from a transfer file or the portal, a member name) as it
/// may be printed: without control characters or bidirectional overrides, which in
/// a terminal or table could rewrite what the administrator sees, and at most 120
/// characters.
pub fn printable(text: &str) -> String {
    let hidden = |c: char| {
        c.is_control() || matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
    };
    text.chars().filter(|&c| !hidden(c)).take(120).collect()
}

/// "1 audit", "2 audits": a count with its noun (the plural adds an s; nouns here
/// are regular), for every sentence the CLI and the core write.
pub fn count(n: usize, noun: &str) -> String {
    format!("{n} {noun}{}", if n == 1 { "" } else { "s" })
}

/// Bytes as lower-case hex, the form every digest, key id and MAC is written in.
pub(crate) fn hex_lower(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
pub mod demo;
pub mod environment;
mod zip_index;

pub use environment::{Environment, InstallOptions, Step};
pub mod portal;
pub mod portal_url;
pub use portal_url::PortalUrl;
pub mod qr;
pub mod release;
pub mod secrets;
pub mod transfer;
pub mod workstation;

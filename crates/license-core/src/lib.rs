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

#[cfg(windows)]
pub mod acl;
pub mod activation;
mod armor;
pub mod check;
pub mod crockford;
mod digest;
pub mod document;
pub mod error;
pub mod fs;
pub mod keys;
pub mod kind;
pub mod passing_lock;
pub mod payload;
pub mod run;
pub mod serial;
mod strict_json;
mod text;
pub mod timestamp;
#[cfg(windows)]
mod winpath;

pub use activation::ActivationCode;
pub use check::{check_license, Expectations, Report};
pub use error::{Error, ErrorCode, ErrorView, Setting, SettingProblem, SymbolCount, TransferDamage};
pub use keys::{KeyPair, KeyRing, PublicKey};
pub use kind::DocumentKind;
pub use payload::{Audit, EnvironmentType, License, Payload, Request, SelfSigned};
pub use serial::SerialNumber;

pub use digest::sha256_hex;
pub use kind::MAX_FILE_BYTES;
pub use text::{count, printable};

pub mod demo;
pub mod environment;
mod zip_index;

pub use environment::{Environment, InstallOptions, Step};
pub mod portal;
pub mod portal_url;
pub use portal_url::PortalUrl;
pub mod qr;
pub mod release;
pub mod rotation;
pub mod sddl;
pub mod secrets;
pub mod system_path;
pub mod transfer;
pub mod trust;
pub mod workstation;

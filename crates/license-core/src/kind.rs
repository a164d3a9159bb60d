//! The four kinds of signed document, with their armor labels and signature
//! domains. It imports nothing from the crate: the error type names kinds, and
//! everything else sits above both.

use serde::{Deserialize, Serialize};
use std::fmt;

/// The most any document file may hold (1 MiB): a bigger one is refused before it
/// is parsed, and no reader takes more.
pub const MAX_FILE_BYTES: u64 = 1024 * 1024;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DocumentKind {
    License,
    Audit,
    Request,
    /// The portal's signed proof of an upload (spec v1.1), signed with the vendor key.
    Receipt,
}

impl DocumentKind {
    pub const ALL: [DocumentKind; 4] =
        [DocumentKind::License, DocumentKind::Audit, DocumentKind::Request, DocumentKind::Receipt];

    /// The armor label: `-----BEGIN <label>-----`.
    pub fn label(self) -> &'static str {
        match self {
            DocumentKind::License => "LICENSE FILE",
            DocumentKind::Audit => "LICENSE AUDIT",
            DocumentKind::Request => "LICENSE REQUEST",
            DocumentKind::Receipt => "LICENSE RECEIPT",
        }
    }

    /// The signature domain: the signed bytes are `<domain>/<payload>`.
    pub fn domain(self) -> &'static str {
        match self {
            DocumentKind::License => "license",
            DocumentKind::Audit => "audit",
            DocumentKind::Request => "request",
            DocumentKind::Receipt => "receipt",
        }
    }

    pub fn from_label(label: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.label() == label)
    }
}

impl fmt::Display for DocumentKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            DocumentKind::License => "license",
            DocumentKind::Audit => "license audit",
            DocumentKind::Request => "license request",
            DocumentKind::Receipt => "upload receipt",
        })
    }
}

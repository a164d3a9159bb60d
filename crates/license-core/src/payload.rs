//! The three payloads (`shared/spec/formats.md`): license, audit, license request.
//! Unknown members are ignored; duplicates and a format other than 1 are errors.

use crate::activation::ActivationCode;
use crate::document::{seal, Envelope};
use crate::error::Error;
use crate::keys::{KeyPair, KeyRing, PublicKey};
use crate::kind::DocumentKind;
use crate::serial::SerialNumber;
use crate::timestamp::{self, Timestamp};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;
use uuid::Uuid;

#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EnvironmentType {
    Development,
    Quality,
    Production,
    Lifetime,
}

impl EnvironmentType {
    pub const ALL: [EnvironmentType; 4] = [Self::Development, Self::Quality, Self::Production, Self::Lifetime];

    /// Where it comes when renewals are imported: Development first, then Quality,
    /// Production and LifeTime, so a surprise shows where it costs least.
    pub fn import_rank(self) -> usize {
        Self::ALL.iter().position(|t| *t == self).expect("every type is in ALL")
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Development => "development",
            Self::Quality => "quality",
            Self::Production => "production",
            Self::Lifetime => "lifetime",
        }
    }

    /// The vendor's own name for the type, as administrators know it.
    pub fn label(self) -> &'static str {
        match self {
            Self::Development => "Development",
            Self::Quality => "Quality Assurance",
            Self::Production => "Production",
            Self::Lifetime => "LifeTime",
        }
    }
}

impl fmt::Display for EnvironmentType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for EnvironmentType {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        Self::ALL
            .into_iter()
            .find(|t| t.as_str() == s.trim().to_ascii_lowercase())
            .ok_or_else(|| Error::InvalidEnvironmentType { input: s.chars().take(64).collect() })
    }
}

#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entitlements {
    pub named_users: u64,
    pub application_objects: u64,
    pub environments: u64,
    pub support_level: String,
    pub features: Vec<String>,
}

#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct License {
    pub format: u64,
    pub license_id: Uuid,
    pub activation_code: ActivationCode,
    pub serial_number: SerialNumber,
    pub environment_type: EnvironmentType,
    pub customer: String,
    #[serde(with = "timestamp")]
    #[cfg_attr(feature = "ts", ts(type = "string"))]
    pub issued_at: Timestamp,
    #[serde(with = "timestamp")]
    #[cfg_attr(feature = "ts", ts(type = "string"))]
    pub not_before: Timestamp,
    #[serde(with = "timestamp::option")]
    #[cfg_attr(feature = "ts", ts(type = "string | null"))]
    pub expires_at: Option<Timestamp>,
    pub entitlements: Entitlements,
}

#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Consumption {
    pub named_users: u64,
    pub application_objects: u64,
    pub servers: u64,
}

#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Audit {
    pub format: u64,
    pub audit_id: Uuid,
    pub activation_code: ActivationCode,
    pub serial_number: SerialNumber,
    pub environment_type: EnvironmentType,
    pub license_id: Uuid,
    #[serde(with = "timestamp")]
    #[cfg_attr(feature = "ts", ts(type = "string"))]
    pub generated_at: Timestamp,
    #[serde(with = "timestamp")]
    #[cfg_attr(feature = "ts", ts(type = "string"))]
    pub period_start: Timestamp,
    #[serde(with = "timestamp")]
    #[cfg_attr(feature = "ts", ts(type = "string"))]
    pub period_end: Timestamp,
    pub consumption: Consumption,
    pub environment_key: String,
}

#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Request {
    pub format: u64,
    pub request_id: Uuid,
    pub activation_code: ActivationCode,
    pub serial_number: SerialNumber,
    pub environment_type: EnvironmentType,
    pub hostname: String,
    #[serde(with = "timestamp")]
    #[cfg_attr(feature = "ts", ts(type = "string"))]
    pub requested_at: Timestamp,
    pub environment_key: String,
}

/// What the three payloads share: a kind, format 1, and their own sanity rules.
/// The portal's receipt for one uploaded audit (`shared/spec/formats.md`, "Upload
/// receipt"): signed with the vendor key, so an environment that trusts the vendor
/// can check it offline.
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Receipt {
    pub format: u64,
    pub upload_id: Uuid,
    pub audit_id: Uuid,
    pub activation_code: ActivationCode,
    pub serial_number: SerialNumber,
    /// Hex SHA-256 of the audit's signed bytes ([`crate::document::signed_sha256`]):
    /// the receipt proves the upload of this content, not just of an audit id.
    /// Ours, beyond spec v1.1 (ARCHITECTURE.md, "What a receipt proves").
    pub audit_sha256: String,
    pub status: UploadStatus,
    pub reasons: Vec<String>,
    #[serde(with = "timestamp")]
    #[cfg_attr(feature = "ts", ts(type = "string"))]
    pub received_at: Timestamp,
}

impl Payload for Receipt {
    const KIND: DocumentKind = DocumentKind::Receipt;
    fn format(&self) -> u64 {
        self.format
    }
    fn validate(&self) -> Result<(), String> {
        if self.audit_sha256.len() != 64 || !self.audit_sha256.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
            return Err("audit_sha256 is not 64 lower-case hex characters".into());
        }
        match (self.status, self.reasons.is_empty()) {
            (UploadStatus::Verified, false) => Err("a verified receipt lists reasons".into()),
            (UploadStatus::Rejected, true) => Err("a rejected receipt gives no reason".into()),
            _ => Ok(()),
        }
    }
}

impl Receipt {
    /// Whether this receipt answers exactly `audit`, whose signed bytes have the
    /// digest `audit_sha256`: its content, id, serial and subscription. `Err` names
    /// the first thing that differs. A receipt that does not answer an audit proves
    /// nothing about it and is never applied to it.
    pub fn answers(&self, audit: &Audit, audit_sha256: &str) -> Result<(), Mismatch> {
        if self.audit_id != audit.audit_id {
            Err(Mismatch::OtherAudit)
        } else if self.serial_number != audit.serial_number {
            Err(Mismatch::OtherSerial)
        } else if self.activation_code != audit.activation_code {
            Err(Mismatch::OtherSubscription)
        } else if self.audit_sha256 != audit_sha256 {
            Err(Mismatch::OtherContent)
        } else {
            Ok(())
        }
    }
}

#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
/// Why a receipt does not answer an audit: the first thing that differs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Mismatch {
    OtherAudit,
    OtherSerial,
    OtherSubscription,
    /// The portal received other bytes under this audit's id.
    OtherContent,
}

/// The CLI's and the log's words; the UI words each variant itself.
impl fmt::Display for Mismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Mismatch::OtherAudit => "it names another audit",
            Mismatch::OtherSerial => "it names another serial number",
            Mismatch::OtherSubscription => "it names another subscription (activation code)",
            Mismatch::OtherContent => "the portal received other content under this audit's id",
        })
    }
}

/// Parses and verifies a receipt against the trusted vendor keys.
pub fn open_receipt(file: &[u8], vendor_keys: &KeyRing) -> Result<Receipt, Error> {
    let env = Envelope::parse(DocumentKind::Receipt, file)?;
    env.verify(vendor_keys, "vendor")?;
    Receipt::from_json(env.payload())
}

pub trait Payload: Serialize + DeserializeOwned {
    const KIND: DocumentKind;
    fn format(&self) -> u64;
    fn validate(&self) -> Result<(), String> {
        Ok(())
    }

    /// Parses payload JSON bytes with the spec's strict rules.
    fn from_json(bytes: &[u8]) -> Result<Self, Error> {
        let bad = |reason: String| Error::BadPayload { kind: Self::KIND, reason };
        crate::strict_json::check(bytes).map_err(bad)?;
        // Read `format` first, so a v2 file says "update" rather than "missing field".
        #[derive(Deserialize)]
        struct Format {
            format: Option<serde_json::Value>,
        }
        let f: Format = serde_json::from_slice(bytes).map_err(|e| bad(e.to_string()))?;
        match f.format.as_ref().and_then(|v| v.as_u64()) {
            Some(1) => {}
            Some(n) => return Err(Error::UnsupportedFormat { kind: Self::KIND, found: n }),
            None => return Err(bad("member \"format\" is missing or not an integer".into())),
        }
        let p: Self = serde_json::from_slice(bytes).map_err(|e| bad(e.to_string()))?;
        p.validate().map_err(bad)?;
        Ok(p)
    }

    fn to_json(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("payload serialises")
    }

    fn seal(&self, key: &KeyPair) -> String {
        seal(Self::KIND, &self.to_json(), key)
    }
}

impl Payload for License {
    const KIND: DocumentKind = DocumentKind::License;
    fn format(&self) -> u64 {
        self.format
    }
    fn validate(&self) -> Result<(), String> {
        if self.customer.trim().is_empty() {
            return Err("customer is empty".into());
        }
        if let Some(exp) = self.expires_at {
            if exp <= self.not_before {
                return Err("expires_at is not after not_before".into());
            }
        }
        Ok(())
    }
}

/// Audits and requests carry the environment's public key; their envelope's `kid`
/// must be that key's id. (Whether the key is the one pinned for the serial is the
/// portal's question.)
pub trait SelfSigned: Payload {
    fn environment_key(&self) -> &str;
    fn serial_number(&self) -> &SerialNumber;

    /// Parses and verifies a self-signed document; returns it with its key.
    fn open(file: &[u8]) -> Result<(Self, PublicKey), Error> {
        let env = Envelope::parse(Self::KIND, file)?;
        // The key is inside the payload, so it is read before the signature is
        // checked, and trusted only once the signature verifies under it.
        let p = Self::from_json(env.payload())?;
        let key = PublicKey::from_base64url(p.environment_key())?;
        env.verify_with(&key)?;
        Ok((p, key))
    }
}

impl Payload for Audit {
    const KIND: DocumentKind = DocumentKind::Audit;
    fn format(&self) -> u64 {
        self.format
    }
    fn validate(&self) -> Result<(), String> {
        if self.period_end < self.period_start {
            return Err("period_end is before period_start".into());
        }
        Ok(())
    }
}

impl SelfSigned for Audit {
    fn environment_key(&self) -> &str {
        &self.environment_key
    }
    fn serial_number(&self) -> &SerialNumber {
        &self.serial_number
    }
}

impl Payload for Request {
    const KIND: DocumentKind = DocumentKind::Request;
    fn format(&self) -> u64 {
        self.format
    }
}

impl SelfSigned for Request {
    fn environment_key(&self) -> &str {
        &self.environment_key
    }
    fn serial_number(&self) -> &SerialNumber {
        &self.serial_number
    }
}

#[cfg(any(test, feature = "test-support"))]
impl License {
    /// A production license for `serial`, valid 2026–2027: tests change what they need.
    pub fn sample(serial: &SerialNumber) -> License {
        License {
            format: 1,
            license_id: Uuid::new_v4(),
            activation_code: ActivationCode::from_payload("ABCDEFGHJKMNPQRSTVWXYZ01").unwrap(),
            serial_number: serial.clone(),
            environment_type: EnvironmentType::Production,
            customer: "Example Corp".into(),
            issued_at: timestamp::parse("2026-01-01T00:00:00Z").unwrap(),
            not_before: timestamp::parse("2026-01-01T00:00:00Z").unwrap(),
            expires_at: Some(timestamp::parse("2027-01-01T00:00:00Z").unwrap()),
            entitlements: Entitlements {
                named_users: 100,
                application_objects: 500,
                environments: 3,
                support_level: "standard".into(),
                features: vec!["sso".into()],
            },
        }
    }
}

/// Parses and verifies a license file against the trusted vendor keys.
pub fn open_license(file: &[u8], vendor_keys: &KeyRing) -> Result<License, Error> {
    let env = Envelope::parse(DocumentKind::License, file)?;
    env.verify(vendor_keys, "vendor")?;
    License::from_json(env.payload())
}

#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
/// The portal's verdict on an uploaded audit; the same type on the server, the
/// client and (generated) in the UI.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum UploadStatus {
    Verified,
    Rejected,
}

impl UploadStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            UploadStatus::Verified => "verified",
            UploadStatus::Rejected => "rejected",
        }
    }
}

impl std::fmt::Display for UploadStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub fn sample_license(serial: &SerialNumber) -> License {
        License::sample(serial)
    }

    fn serial() -> SerialNumber {
        crate::serial::serial_from_facts_text("machine_id=test\n")
    }

    #[test]
    fn license_round_trips_and_ignores_unknown_members() {
        let l = sample_license(&serial());
        let mut v: serde_json::Value = serde_json::from_slice(&l.to_json()).unwrap();
        v["future_member"] = "x".into();
        assert_eq!(License::from_json(&serde_json::to_vec(&v).unwrap()).unwrap(), l);
    }

    #[test]
    fn payload_faults_are_specific() {
        let l = sample_license(&serial());
        let mut v: serde_json::Value = serde_json::from_slice(&l.to_json()).unwrap();
        v["format"] = 2.into();
        let err = License::from_json(&serde_json::to_vec(&v).unwrap()).unwrap_err();
        assert_eq!(err.code(), "unsupported_format");
        v["format"] = 1.into();
        v["environment_type"] = "staging".into();
        assert!(License::from_json(&serde_json::to_vec(&v).unwrap()).unwrap_err().to_string().contains("staging"));
        v["environment_type"] = "production".into();
        v.as_object_mut().unwrap().remove("expires_at");
        assert!(License::from_json(&serde_json::to_vec(&v).unwrap()).unwrap_err().to_string().contains("expires_at"));
        v["expires_at"] = serde_json::Value::Null;
        assert!(License::from_json(&serde_json::to_vec(&v).unwrap()).unwrap().expires_at.is_none());
        let text = String::from_utf8(l.to_json()).unwrap().replacen("{", "{\"customer\":\"Evil\",", 1);
        assert!(License::from_json(text.as_bytes()).unwrap_err().to_string().contains("more than once"));
    }

    #[test]
    fn self_signed_audit_verifies_under_its_own_key_only() {
        let k = KeyPair::generate();
        let a = Audit {
            format: 1,
            audit_id: Uuid::new_v4(),
            activation_code: ActivationCode::from_payload("ABCDEFGHJKMNPQRSTVWXYZ01").unwrap(),
            serial_number: serial(),
            environment_type: EnvironmentType::Production,
            license_id: Uuid::new_v4(),
            generated_at: timestamp::parse("2026-11-01T00:00:00Z").unwrap(),
            period_start: timestamp::parse("2026-10-01T00:00:00Z").unwrap(),
            period_end: timestamp::parse("2026-10-31T00:00:00Z").unwrap(),
            consumption: Consumption { named_users: 5, application_objects: 7, servers: 1 },
            environment_key: k.public().to_base64url(),
        };
        let file = a.seal(&k);
        let (back, key) = Audit::open(file.as_bytes()).unwrap();
        assert_eq!(back, a);
        assert_eq!(key, k.public());
        // Someone else's key in the payload, signed by them: a different kid; a
        // payload naming key A but signed by B fails.
        let mut forged = a.clone();
        forged.environment_key = KeyPair::generate().public().to_base64url();
        let err = Audit::open(forged.seal(&k).as_bytes()).unwrap_err();
        assert_eq!(err.code(), "unknown_key");
    }
}

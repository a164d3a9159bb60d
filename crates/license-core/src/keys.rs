//! Ed25519 keys: key ids, trusted key rings, and key files.
//!
//! Public keys travel as base64url (no padding) of the raw 32 bytes, the same
//! encoding as `environment_key` in the spec. Private keys are PKCS#8 PEM files
//! (`-----BEGIN PRIVATE KEY-----`), readable by openssl and other tools.

use crate::error::Error;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use ed25519_dalek::pkcs8::{DecodePrivateKey, EncodePrivateKey};
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use sha2::{Digest, Sha256};
use std::fmt;
use std::path::Path;

/// `kid`: the first 16 hex characters of SHA-256 of the raw public key.
pub fn kid_of(raw: &[u8; 32]) -> String {
    crate::digest::hex_lower(&Sha256::digest(raw)[..8])
}

#[derive(Clone, PartialEq, Eq)]
pub struct PublicKey {
    key: VerifyingKey,
    kid: String,
}

impl PublicKey {
    /// Rejects keys that are not valid curve points and small-order (weak) keys.
    pub fn from_bytes(raw: &[u8; 32]) -> Result<Self, Error> {
        let key = VerifyingKey::from_bytes(raw)
            .map_err(|_| Error::BadKey { reason: "not a valid Ed25519 public key".into() })?;
        if key.is_weak() {
            return Err(Error::BadKey { reason: "a small-order Ed25519 key, which can never be trusted".into() });
        }
        Ok(Self { key, kid: kid_of(raw) })
    }

    pub fn from_base64url(text: &str) -> Result<Self, Error> {
        let raw = URL_SAFE_NO_PAD
            .decode(text.trim())
            .map_err(|_| Error::BadKey { reason: format!("'{}' is not base64url without padding", text.trim()) })?;
        let raw: [u8; 32] = raw.try_into().map_err(|v: Vec<u8>| Error::BadKey {
            reason: format!("an Ed25519 public key is 32 bytes, not {}", v.len()),
        })?;
        Self::from_bytes(&raw)
    }

    pub fn to_base64url(&self) -> String {
        URL_SAFE_NO_PAD.encode(self.key.as_bytes())
    }

    /// The key as PEM SubjectPublicKeyInfo, the form `openssl pkeyutl -pubin` reads.
    pub fn to_spki_pem(&self) -> String {
        use ed25519_dalek::pkcs8::EncodePublicKey;
        self.key.to_public_key_pem(Default::default()).expect("SPKI encoding of a valid key")
    }

    /// A PEM SubjectPublicKeyInfo key, or our base64url form.
    pub fn parse_any(text: &str) -> Result<Self, Error> {
        use ed25519_dalek::pkcs8::DecodePublicKey;
        if text.trim_start().starts_with("-----BEGIN PUBLIC KEY-----") {
            let key = VerifyingKey::from_public_key_pem(text.trim())
                .map_err(|_| Error::BadKey { reason: "not a PEM Ed25519 public key".into() })?;
            return Self::from_bytes(key.as_bytes());
        }
        Self::from_base64url(text)
    }

    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// Strict RFC 8032 verification: rejects non-canonical S and small-order R.
    pub fn verify_strict(&self, message: &[u8], sig: &Signature) -> bool {
        self.key.verify_strict(message, sig).is_ok()
    }
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicKey({})", self.kid)
    }
}

/// Keys trusted for one role (the vendor's license-signing keys).
#[derive(Clone, Debug, Default)]
pub struct KeyRing(Vec<PublicKey>);

impl KeyRing {
    pub fn new(keys: Vec<PublicKey>) -> Self {
        Self(keys)
    }
    pub fn parse<S: AsRef<str>>(encoded: &[S]) -> Result<Self, Error> {
        encoded.iter().map(|s| PublicKey::from_base64url(s.as_ref())).collect::<Result<Vec<_>, _>>().map(Self)
    }
    pub fn find(&self, kid: &str) -> Option<&PublicKey> {
        self.0.iter().find(|k| k.kid == kid)
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    pub fn kids(&self) -> Vec<&str> {
        self.0.iter().map(|k| k.kid()).collect()
    }
}

/// A private signing key. Never logged: Debug shows the kid only.
pub struct KeyPair(SigningKey);

impl KeyPair {
    pub fn generate() -> Self {
        Self(SigningKey::generate(&mut rand_core::OsRng))
    }

    pub fn public(&self) -> PublicKey {
        PublicKey::from_bytes(self.0.verifying_key().as_bytes()).expect("a generated key is valid")
    }

    pub fn sign(&self, message: &[u8]) -> Signature {
        self.0.sign(message)
    }

    pub fn to_pem(&self) -> String {
        self.0.to_pkcs8_pem(Default::default()).expect("PKCS#8 encoding of a valid key").to_string()
    }

    pub fn from_pem(pem: &str) -> Result<Self, Error> {
        SigningKey::from_pkcs8_pem(pem)
            .map(Self)
            .map_err(|_| Error::BadKey { reason: "not a PKCS#8 PEM Ed25519 private key".into() })
    }

    pub fn read(path: &Path) -> Result<Self, Error> {
        let pem = std::fs::read_to_string(path).map_err(|e| Error::io("read the private key", path, e))?;
        Self::from_pem(&pem).map_err(|_| Error::BadKey {
            reason: format!("{} is not a PKCS#8 PEM Ed25519 private key", path.display()),
        })
    }
}

impl fmt::Debug for KeyPair {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KeyPair({})", self.public().kid())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kid_is_sha256_prefix() {
        let raw = [0x11u8; 32];
        let hex: String = Sha256::digest(raw)[..8].iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(kid_of(&raw), hex);
        assert_eq!(kid_of(&raw).len(), 16);
    }

    #[test]
    fn pem_and_base64url_round_trip() {
        let kp = KeyPair::generate();
        let again = KeyPair::from_pem(&kp.to_pem()).unwrap();
        assert_eq!(again.public(), kp.public());
        assert_eq!(PublicKey::from_base64url(&kp.public().to_base64url()).unwrap(), kp.public());
    }

    #[test]
    fn weak_and_malformed_keys_are_refused() {
        // The identity point (small order).
        let mut identity = [0u8; 32];
        identity[0] = 1;
        assert!(PublicKey::from_bytes(&identity).unwrap_err().to_string().contains("small-order"));
        assert!(PublicKey::from_base64url("abc").is_err());
        assert!(PublicKey::from_base64url("not base64!").is_err());
    }
}

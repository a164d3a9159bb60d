//! The signed-document envelope shared by licenses, audits, license requests and receipts
//! (`shared/spec/formats.md`, "Signed documents").
//!
//! Stages are separate so that a report can say which one failed:
//! [`Envelope::parse`] (armor and envelope), [`Envelope::verify`] (key and signature),
//! then the payload type's own parser.

use crate::armor;
use crate::error::Error;
use crate::keys::{KeyPair, KeyRing, PublicKey};
use crate::kind::DocumentKind;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use ed25519_dalek::Signature;
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct EnvelopeJson {
    alg: String,
    kid: String,
    payload: String,
    sig: String,
}

/// A parsed envelope whose signature has not been checked yet.
#[derive(Clone, Debug)]
pub struct Envelope {
    pub kind: DocumentKind,
    pub kid: String,
    payload_text: String,
    payload: Vec<u8>,
    sig: Signature,
}

fn signed_message(kind: DocumentKind, payload_text: &str) -> Vec<u8> {
    let mut m = Vec::with_capacity(kind.domain().len() + 1 + payload_text.len());
    m.extend_from_slice(kind.domain().as_bytes());
    m.push(b'/');
    m.extend_from_slice(payload_text.as_bytes());
    m
}

impl Envelope {
    pub fn parse(kind: DocumentKind, file: &[u8]) -> Result<Self, Error> {
        let json = armor::decode(kind, file)?;
        let bad = |reason: String| Error::BadEnvelope { reason };
        crate::strict_json::check(&json).map_err(bad)?;
        let env: EnvelopeJson = serde_json::from_slice(&json).map_err(|e| bad(e.to_string()))?;
        if env.alg != "ed25519" {
            return Err(Error::UnsupportedAlgorithm { alg: env.alg.chars().take(40).collect() });
        }
        if env.kid.len() != 16 || !env.kid.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) {
            return Err(bad("kid is not 16 lower-case hex characters".into()));
        }
        let payload = URL_SAFE_NO_PAD
            .decode(&env.payload)
            .map_err(|_| Error::BadEncoding { part: "payload", encoding: "base64url without padding" })?;
        let sig = URL_SAFE_NO_PAD
            .decode(&env.sig)
            .map_err(|_| Error::BadEncoding { part: "signature", encoding: "base64url without padding" })?;
        let sig: [u8; 64] =
            sig.try_into().map_err(|v: Vec<u8>| bad(format!("the signature is {} bytes, not 64", v.len())))?;
        Ok(Self { kind, kid: env.kid, payload_text: env.payload, payload, sig: Signature::from_bytes(&sig) })
    }

    /// Verifies against the key named by `kid` in `ring`.
    pub fn verify(&self, ring: &KeyRing, role: &'static str) -> Result<(), Error> {
        let key = ring.find(&self.kid).ok_or_else(|| Error::UnknownKey { kid: self.kid.clone(), role })?;
        self.verify_with(key)
    }

    /// Verifies against one key, which must be the one `kid` names.
    pub fn verify_with(&self, key: &PublicKey) -> Result<(), Error> {
        if key.kid() != self.kid {
            return Err(Error::UnknownKey { kid: self.kid.clone(), role: "environment" });
        }
        if key.verify_strict(&signed_message(self.kind, &self.payload_text), &self.sig) {
            Ok(())
        } else {
            Err(Error::BadSignature { kind: self.kind })
        }
    }

    /// The payload JSON bytes (not yet trusted unless verified).
    pub fn payload(&self) -> &[u8] {
        &self.payload
    }

    /// Hex SHA-256 of the bytes the signature covers (`<domain>/<payload>`): what a
    /// receipt's `audit_sha256` names. The armor's line breaks and blank lines are
    /// not part of it, so a file re-wrapped in transit keeps its digest, while any
    /// change to what was signed changes it.
    pub fn signed_sha256(&self) -> String {
        crate::digest::sha256_hex(&signed_message(self.kind, &self.payload_text))
    }
}

/// [`Envelope::signed_sha256`] of a document file (parsed, not verified).
pub fn signed_sha256(kind: DocumentKind, file: &[u8]) -> Result<String, Error> {
    Ok(Envelope::parse(kind, file)?.signed_sha256())
}

/// Signs `payload` JSON bytes as a document of `kind` and returns the armored file.
pub fn seal(kind: DocumentKind, payload: &[u8], key: &KeyPair) -> String {
    let payload_text = URL_SAFE_NO_PAD.encode(payload);
    let sig = key.sign(&signed_message(kind, &payload_text));
    let env = EnvelopeJson {
        alg: "ed25519".into(),
        kid: key.public().kid().to_string(),
        payload: payload_text,
        sig: URL_SAFE_NO_PAD.encode(sig.to_bytes()),
    };
    armor::encode(kind, &serde_json::to_vec(&env).expect("envelope serialises"))
}

/// Test and tooling helper: re-wraps an envelope JSON object as a document file,
/// so hostile inputs can be built from parts.
pub fn armor_envelope_json(kind: DocumentKind, json: &[u8]) -> String {
    armor::encode(kind, json)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ring(k: &KeyPair) -> KeyRing {
        KeyRing::new(vec![k.public()])
    }

    fn envelope_json(file: &str, kind: DocumentKind) -> serde_json::Value {
        serde_json::from_slice(&armor::decode(kind, file.as_bytes()).unwrap()).unwrap()
    }

    #[test]
    fn sealed_document_verifies() {
        let k = KeyPair::generate();
        let file = seal(DocumentKind::License, br#"{"format":1}"#, &k);
        let env = Envelope::parse(DocumentKind::License, file.as_bytes()).unwrap();
        env.verify(&ring(&k), "vendor").unwrap();
        assert_eq!(env.payload(), br#"{"format":1}"#);
        let j = envelope_json(&file, DocumentKind::License);
        assert_eq!(j["kid"], k.public().kid());
        assert_eq!(j.as_object().unwrap().keys().cloned().collect::<Vec<_>>(), ["alg", "kid", "payload", "sig"]);
    }

    #[test]
    fn signature_from_another_domain_does_not_verify() {
        let k = KeyPair::generate();
        // Signed as an audit, then re-armored as a license.
        let audit = seal(DocumentKind::Audit, br#"{"format":1}"#, &k);
        let json = armor::decode(DocumentKind::Audit, audit.as_bytes()).unwrap();
        let as_license = armor_envelope_json(DocumentKind::License, &json);
        let env = Envelope::parse(DocumentKind::License, as_license.as_bytes()).unwrap();
        let err = env.verify(&ring(&k), "vendor").unwrap_err();
        assert_eq!(err.code(), "bad_signature");
        assert!(err.to_string().contains("another kind of document"));
    }

    #[test]
    fn tampered_payload_fails_signature() {
        let k = KeyPair::generate();
        let file = seal(DocumentKind::License, br#"{"format":1,"named_users":10}"#, &k);
        let mut j = envelope_json(&file, DocumentKind::License);
        let forged = URL_SAFE_NO_PAD.encode(br#"{"format":1,"named_users":99}"#);
        j["payload"] = forged.into();
        let file = armor_envelope_json(DocumentKind::License, &serde_json::to_vec(&j).unwrap());
        let env = Envelope::parse(DocumentKind::License, file.as_bytes()).unwrap();
        assert_eq!(env.verify(&ring(&k), "vendor").unwrap_err().code(), "bad_signature");
    }

    #[test]
    fn unknown_kid_and_alg_and_members() {
        let k = KeyPair::generate();
        let other = KeyPair::generate();
        let file = seal(DocumentKind::License, b"{}", &k);
        let env = Envelope::parse(DocumentKind::License, file.as_bytes()).unwrap();
        let err = env.verify(&ring(&other), "vendor").unwrap_err();
        assert_eq!(err.code(), "unknown_key");
        assert!(err.to_string().contains(k.public().kid()));

        let mut j = envelope_json(&file, DocumentKind::License);
        j["alg"] = "rsa".into();
        let f = armor_envelope_json(DocumentKind::License, &serde_json::to_vec(&j).unwrap());
        assert_eq!(Envelope::parse(DocumentKind::License, f.as_bytes()).unwrap_err().code(), "unsupported_algorithm");

        let mut j = envelope_json(&file, DocumentKind::License);
        j["extra"] = 1.into();
        let f = armor_envelope_json(DocumentKind::License, &serde_json::to_vec(&j).unwrap());
        assert_eq!(Envelope::parse(DocumentKind::License, f.as_bytes()).unwrap_err().code(), "bad_envelope");

        let raw = String::from_utf8(armor::decode(DocumentKind::License, file.as_bytes()).unwrap()).unwrap();
        let dup = raw.replacen("{", "{\"alg\":\"ed25519\",", 1);
        let f = armor_envelope_json(DocumentKind::License, dup.as_bytes());
        let err = Envelope::parse(DocumentKind::License, f.as_bytes()).unwrap_err();
        assert_eq!(err.code(), "bad_envelope");
        assert!(err.to_string().contains("more than once"), "{err}");
    }

    #[test]
    fn non_canonical_signature_is_rejected() {
        let k = KeyPair::generate();
        let file = seal(DocumentKind::License, b"{}", &k);
        let mut j = envelope_json(&file, DocumentKind::License);
        let mut sig = URL_SAFE_NO_PAD.decode(j["sig"].as_str().unwrap()).unwrap();
        // S + L (the group order) is the same point but non-canonical: strict rejects.
        const L: [u8; 32] = [
            0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14, 0, 0, 0, 0,
            0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
        ];
        let mut carry = 0u16;
        for i in 0..32 {
            let v = sig[32 + i] as u16 + L[i] as u16 + carry;
            sig[32 + i] = v as u8;
            carry = v >> 8;
        }
        j["sig"] = URL_SAFE_NO_PAD.encode(&sig).into();
        let f = armor_envelope_json(DocumentKind::License, &serde_json::to_vec(&j).unwrap());
        let env = Envelope::parse(DocumentKind::License, f.as_bytes()).unwrap();
        assert_eq!(env.verify(&ring(&k), "vendor").unwrap_err().code(), "bad_signature");
    }
}

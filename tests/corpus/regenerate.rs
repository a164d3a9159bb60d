//! Rewrites the corpus's files with a new vendor key: run by hand when the format
//! changes (`scripts/regenerate-corpus`), then review the diff. It asserts nothing;
//! `tests/corpus.rs` checks the files against `cases.json`.
// One arm per corpus file: the table reads best whole (clippy.toml).
#![allow(clippy::too_many_lines)]

#[path = "cases.rs"]
mod cases;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use cases::{cases, corpus_dir};
use license_core::{ActivationCode, EnvironmentType, KeyPair, License, Payload};
use serde_json::{json, Value};

fn main() {
    let dir = corpus_dir();
    let vendor = KeyPair::generate();
    let facts = "platform_uuid=5e1f3c0a-7b2d-4c1e-9f00-3a6b8d2e4c71\n";
    let serial = license_core::serial::HostFacts::parse(facts, "corpus").unwrap().serial_number().unwrap();
    let other_serial = license_core::serial::serial_from_facts_text("machine_id=elsewhere\n");
    std::fs::write(dir.join("facts.txt"), facts).unwrap();
    std::fs::write(
        dir.join("environment.toml"),
        format!(
            "name = \"Corpus\"\ntype = \"production\"\nlicense_file = \"installed.lic\"\nbackup_dir = \"backups\"\nfacts_file = \"facts.txt\"\nvendor_keys = [\"{}\"]\n",
            vendor.public().to_base64url()
        ),
    )
    .unwrap();
    let ts = |s: &str| license_core::timestamp::parse(s).unwrap();
    let base = License {
        activation_code: ActivationCode::from_payload("CORPVSTESTCQDE0123456789").unwrap(),
        customer: "Corpus Corp".into(),
        expires_at: Some(ts("2099-01-01T00:00:00Z")),
        ..License::sample(&serial)
    };
    std::fs::write(dir.join("installed.lic"), base.seal(&vendor)).unwrap();
    let variant = |f: &dyn Fn(&mut License)| {
        let mut l = base.clone();
        l.license_id = uuid::Uuid::new_v4();
        l.issued_at = ts("2026-06-01T00:00:00Z");
        f(&mut l);
        l
    };
    let valid = variant(&|_| {}).seal(&vendor);
    let payload_json = |f: &dyn Fn(&mut Value)| {
        let mut v: Value = serde_json::from_slice(&variant(&|_| {}).to_json()).unwrap();
        f(&mut v);
        serde_json::to_vec(&v).unwrap()
    };
    let signed = |payload: &[u8]| {
        armor("LICENSE FILE", &serde_json::to_vec(&sign_raw(&vendor, "license", payload)).unwrap()).into_bytes()
    };
    let env_key = KeyPair::generate();
    let audit_file =
        armor("LICENSE AUDIT", &serde_json::to_vec(&sign_raw(&env_key, "audit", b"{\"format\":1}")).unwrap());
    let request_file =
        armor("LICENSE REQUEST", &serde_json::to_vec(&sign_raw(&env_key, "request", b"{\"format\":1}")).unwrap());
    let body_lines: Vec<String> = valid.lines().filter(|l| !l.starts_with("-----")).map(str::to_string).collect();

    let s = |t: String| t.into_bytes();
    // What each file is made of; what is expected of it is in cases.json.
    let make = |name: &str| -> Vec<u8> {
        match name {
            "valid.lic" => s(valid.clone()),
            "valid-crlf.lic" => s(valid.replace('\n', "\r\n")),
            "valid-surrounding-blank-lines.lic" => s(format!("\n\n  \n{valid}\n\n")),
            "valid-unknown-member.lic" => signed(&payload_json(&|v| v["future_member"] = json!({"x": 1}))),
            "valid-perpetual.lic" => variant(&|l| l.expires_at = None).seal(&vendor).into_bytes(),
            "truncated-no-end.lic" => s(valid.lines().take(4).collect::<Vec<_>>().join("\n")),
            "truncated-mid-line.lic" => s(format!(
                "-----BEGIN LICENSE FILE-----\n{}\n{}\n-----END LICENSE FILE-----\n",
                &body_lines[0][..40],
                body_lines[1]
            )),
            "bad-base64-char.lic" => s(valid.replacen(&body_lines[1][..4], "!!!!", 1)),
            "bad-base64-padding.lic" => {
                s(valid.replace("=\n-----END", "\n-----END").replace("==\n-----END", "\n-----END"))
            }
            "no-armor.lic" => serde_json::to_vec(&envelope_of(&valid)).unwrap(),
            "wrong-label.lic" => s(valid.replace("LICENSE FILE", "CERTIFICATE")),
            "audit-file.lic" => s(audit_file.clone()),
            "request-file.lic" => s(request_file.clone()),
            "two-blocks.lic" => s(format!("{valid}{valid}")),
            "text-before.lic" => s(format!("Here is your license:\n{valid}")),
            "text-after.lic" => s(format!("{valid}Regards,\nThe vendor\n")),
            "mismatched-end.lic" => s(valid.replace("-----END LICENSE FILE-----", "-----END LICENSE AUDIT-----")),
            "empty.lic" => Vec::new(),
            "whitespace-only.lic" => s(" \n\t\n\r\n".into()),
            "huge.lic" => Vec::new(),
            "binary.lic" => (0..=255u8).cycle().take(4096).collect(),
            "bom.lic" => [b"\xEF\xBB\xBF".to_vec(), valid.clone().into_bytes()].concat(),
            "utf16.lic" => [vec![0xFF, 0xFE], valid.encode_utf16().flat_map(|u| u.to_le_bytes()).collect()].concat(),
            "one-line.lic" => s(valid.replace('\n', "")),
            "rewrapped-76.lic" => {
                let joined = body_lines.concat();
                let lines: Vec<&str> = joined.as_bytes().chunks(76).map(|c| std::str::from_utf8(c).unwrap()).collect();
                s(format!("-----BEGIN LICENSE FILE-----\n{}\n-----END LICENSE FILE-----\n", lines.join("\n")))
            }
            "envelope-not-json.lic" => s(armor("LICENSE FILE", b"not json at all")),
            "envelope-array.lic" => s(armor("LICENSE FILE", b"[1,2,3]")),
            "envelope-extra-member.lic" => s(with_envelope(&valid, |e| e["x"] = json!(1))),
            "envelope-missing-sig.lic" => s(with_envelope(&valid, |e| drop(e.as_object_mut().unwrap().remove("sig")))),
            "envelope-duplicate-member.lic" => {
                let e = envelope_of(&valid);
                let text = format!(
                    "{{\"alg\":\"ed25519\",\"alg\":\"ed25519\",\"kid\":{},\"payload\":{},\"sig\":{}}}",
                    e["kid"], e["payload"], e["sig"]
                );
                s(armor("LICENSE FILE", text.as_bytes()))
            }
            "alg-rsa.lic" => s(with_envelope(&valid, |e| e["alg"] = json!("RS256"))),
            "alg-none.lic" => s(with_envelope(&valid, |e| e["alg"] = json!("none"))),
            "kid-uppercase.lic" => {
                s(with_envelope(&valid, |e| e["kid"] = json!(e["kid"].as_str().unwrap().to_uppercase())))
            }
            "payload-bad-base64url.lic" => s(with_envelope(&valid, |e| e["payload"] = json!("***"))),
            "payload-padded.lic" => {
                s(with_envelope(&valid, |e| e["payload"] = json!(format!("{}=", e["payload"].as_str().unwrap()))))
            }
            "sig-short.lic" => s(with_envelope(&valid, |e| e["sig"] = json!(URL_SAFE_NO_PAD.encode([7u8; 32])))),
            "unknown-kid.lic" => variant(&|_| {}).seal(&KeyPair::generate()).into_bytes(),
            "tampered-payload.lic" => s(with_envelope(&valid, |e| {
                let p = URL_SAFE_NO_PAD.decode(e["payload"].as_str().unwrap()).unwrap();
                let t = String::from_utf8(p).unwrap().replace("\"named_users\":100", "\"named_users\":900");
                e["payload"] = json!(URL_SAFE_NO_PAD.encode(t));
            })),
            "signed-as-audit.lic" => s(armor(
                "LICENSE FILE",
                &serde_json::to_vec(&sign_raw(&vendor, "audit", &variant(&|_| {}).to_json())).unwrap(),
            )),
            "non-canonical-s.lic" => s(with_envelope(&valid, |e| {
                let mut sig = URL_SAFE_NO_PAD.decode(e["sig"].as_str().unwrap()).unwrap();
                const L: [u8; 32] = [
                    0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14, 0,
                    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
                ];
                let mut carry = 0u16;
                for i in 0..32 {
                    let v = sig[32 + i] as u16 + L[i] as u16 + carry;
                    sig[32 + i] = v as u8;
                    carry = v >> 8;
                }
                e["sig"] = json!(URL_SAFE_NO_PAD.encode(&sig));
            })),
            "payload-duplicate-member.lic" => signed(&{
                let t = String::from_utf8(variant(&|_| {}).to_json()).unwrap();
                t.replacen('{', "{\"customer\":\"Mallory\",", 1).into_bytes()
            }),
            "payload-nested-duplicate.lic" => signed(&{
                let t = String::from_utf8(variant(&|_| {}).to_json()).unwrap();
                t.replacen("\"entitlements\":{", "\"entitlements\":{\"named_users\":1,", 1).into_bytes()
            }),
            "payload-array.lic" => signed(b"[1,2,3]"),
            "format-2.lic" => signed(&payload_json(&|v| v["format"] = json!(2))),
            "missing-expires.lic" => signed(&payload_json(&|v| drop(v.as_object_mut().unwrap().remove("expires_at")))),
            "offset-timestamp.lic" => signed(&payload_json(&|v| v["issued_at"] = json!("2026-06-01T02:00:00+02:00"))),
            "bad-activation-code.lic" => {
                signed(&payload_json(&|v| v["activation_code"] = json!("CORPV-STEST-CQDE0-12345-6789Z")))
            }
            "bad-serial.lic" => signed(&payload_json(&|v| v["serial_number"] = json!("AAAAA-AAAAA-AAAAA-AAAAA"))),
            "unknown-environment-type.lic" => signed(&payload_json(&|v| v["environment_type"] = json!("staging"))),
            "expires-before-start.lic" => signed(&payload_json(&|v| v["expires_at"] = json!("2025-01-01T00:00:00Z"))),
            "empty-customer.lic" => signed(&payload_json(&|v| v["customer"] = json!("  "))),
            "negative-users.lic" => signed(&payload_json(&|v| v["entitlements"]["named_users"] = json!(-5))),
            "expired.lic" => variant(&|l| {
                l.not_before = ts("2000-01-01T00:00:00Z");
                l.expires_at = Some(ts("2001-01-01T00:00:00Z"));
            })
            .seal(&vendor)
            .into_bytes(),
            "not-yet-valid.lic" => variant(&|l| {
                l.not_before = ts("2098-01-01T00:00:00Z");
            })
            .seal(&vendor)
            .into_bytes(),
            "wrong-serial.lic" => variant(&|l| l.serial_number = other_serial.clone()).seal(&vendor).into_bytes(),
            "wrong-type.lic" => {
                variant(&|l| l.environment_type = EnvironmentType::Development).seal(&vendor).into_bytes()
            }
            "other-activation-code.lic" => {
                variant(&|l| l.activation_code = ActivationCode::from_payload("0THERSVBSCR1PT10N0000000").unwrap())
                    .seal(&vendor)
                    .into_bytes()
            }
            "downgrade.lic" => variant(&|l| l.issued_at = ts("2025-06-01T00:00:00Z")).seal(&vendor).into_bytes(),
            other => panic!("cases.json names {other}, which regenerate does not know how to make"),
        }
    };
    for case in cases() {
        if case.file != "huge.lic" {
            std::fs::write(dir.join(&case.file), make(&case.file)).unwrap();
        }
    }
}

fn armor(kind: &str, bytes: &[u8]) -> String {
    let b64 = STANDARD.encode(bytes);
    let lines: Vec<&str> = b64.as_bytes().chunks(64).map(|c| std::str::from_utf8(c).unwrap()).collect();
    format!("-----BEGIN {kind}-----\n{}\n-----END {kind}-----\n", lines.join("\n"))
}

fn envelope_of(file: &str) -> Value {
    let body: String = file.lines().filter(|l| !l.starts_with("-----")).collect();
    serde_json::from_slice(&STANDARD.decode(body).unwrap()).unwrap()
}

fn sign_raw(key: &KeyPair, domain: &str, payload: &[u8]) -> Value {
    let p = URL_SAFE_NO_PAD.encode(payload);
    let sig = key.sign(format!("{domain}/{p}").as_bytes());
    json!({"alg": "ed25519", "kid": key.public().kid(), "payload": p, "sig": URL_SAFE_NO_PAD.encode(sig.to_bytes())})
}

fn with_envelope(file: &str, f: impl FnOnce(&mut Value)) -> String {
    let mut e = envelope_of(file);
    f(&mut e);
    armor("LICENSE FILE", &serde_json::to_vec(&e).unwrap())
}

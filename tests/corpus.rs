//! The hostile-input corpus (tests/corpus/): odd and malicious files, each with the
//! exact expected outcome and error class, run through both `licensectl verify` and
//! the app's command layer (the same function the install wizard calls).
//!
//! Regenerate the files (new vendor key, same cases) with
//! `cargo test --test corpus -- --ignored regenerate`.

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use license_core::{ActivationCode, EnvironmentType, KeyPair, License, Payload};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};

#[derive(Serialize, Deserialize, Debug, Clone)]
struct Case {
    file: String,
    /// installable | confirm | refused | error
    outcome: String,
    /// The check that failed or warned (refused/confirm).
    check: Option<String>,
    /// The error class (`Error::code`) for refusals from parsing, and for errors.
    code: Option<String>,
    why: String,
}

fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus")
}

fn cases() -> Vec<Case> {
    serde_json::from_slice(&std::fs::read(corpus_dir().join("cases.json")).unwrap()).unwrap()
}

/// A private copy of the corpus environment (checks write the clock file).
fn environment() -> (tempfile::TempDir, PathBuf) {
    let d = tempfile::tempdir().unwrap();
    for f in ["environment.toml", "facts.txt", "installed.lic"] {
        std::fs::copy(corpus_dir().join(f), d.path().join(f)).unwrap();
    }
    let cfg = d.path().join("environment.toml");
    (d, cfg)
}

/// Inputs too big to commit are made at test time.
fn materialise(case: &Case, dir: &Path) -> PathBuf {
    if case.file == "huge.lic" {
        let p = dir.join("huge.lic");
        let mut text = String::from("-----BEGIN LICENSE FILE-----\n");
        while text.len() <= license_core::MAX_FILE_BYTES as usize {
            text.push_str(&"A".repeat(64));
            text.push('\n');
        }
        text.push_str("-----END LICENSE FILE-----\n");
        std::fs::write(&p, text).unwrap();
        return p;
    }
    corpus_dir().join(&case.file)
}

/// (outcome, check, code) from a report: the first failing check, else the first warning.
fn classify(report: &Value) -> (String, Option<String>, Option<String>) {
    let checks = report["checks"].as_array().unwrap();
    let pick = |status: &str| checks.iter().find(|c| c["status"] == status);
    if let Some(c) = pick("fail") {
        return ("refused".into(), c["id"].as_str().map(str::to_string), c["code"].as_str().map(str::to_string));
    }
    if let Some(c) = pick("warn") {
        return ("confirm".into(), c["id"].as_str().map(str::to_string), None);
    }
    assert_eq!(report["installable"], true);
    ("installable".into(), None, None)
}

fn expected(c: &Case) -> (String, Option<String>, Option<String>) {
    (c.outcome.clone(), c.check.clone(), c.code.clone())
}

#[test]
fn corpus_has_at_least_forty_cases_and_every_file() {
    let cases = cases();
    assert!(cases.len() >= 40, "{} cases", cases.len());
    for c in &cases {
        assert!(c.file == "huge.lic" || corpus_dir().join(&c.file).is_file(), "missing {}", c.file);
    }
}

#[test]
fn corpus_through_the_cli() {
    let (dir, cfg) = environment();
    let bin = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("target")
        .join(if cfg!(debug_assertions) { "debug" } else { "release" })
        .join("licensectl");
    assert!(bin.is_file(), "build licensectl first (cargo build -p licensectl)");
    let mut failures = Vec::new();
    for case in cases() {
        let file = materialise(&case, dir.path());
        let out = std::process::Command::new(&bin)
            .args(["--config", cfg.to_str().unwrap(), "--json", "verify", file.to_str().unwrap()])
            .output()
            .unwrap();
        let v: Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|_| panic!("{}: no JSON: {}", case.file, String::from_utf8_lossy(&out.stderr)));
        let got = match v.get("error") {
            Some(e) => ("error".to_string(), None, e["code"].as_str().map(str::to_string)),
            None => classify(&v["report"]),
        };
        let exit_ok = match got.0.as_str() {
            "installable" | "confirm" => out.status.code() == Some(0),
            "refused" => out.status.code() == Some(1),
            _ => out.status.code() == Some(2),
        };
        if got != expected(&case) || !exit_ok {
            failures.push(format!(
                "{}: expected {:?}, got {:?} (exit {:?})",
                case.file,
                expected(&case),
                got,
                out.status.code()
            ));
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

#[test]
fn corpus_through_the_command_layer() {
    let (dir, cfg) = environment();
    let state = license_manager::state::AppState::default();
    state.open(&cfg).unwrap();
    let mut failures = Vec::new();
    for case in cases() {
        let file = materialise(&case, dir.path());
        let got = match license_manager::commands::install::from_path(&state, &file) {
            Ok(view) => classify(&serde_json::to_value(&view.report).unwrap()),
            Err(e) => ("error".into(), None, serde_json::to_value(&e).unwrap()["code"].as_str().map(str::to_string)),
        };
        if got != expected(&case) {
            failures.push(format!("{}: expected {:?}, got {:?}", case.file, expected(&case), got));
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

// ---- generator -------------------------------------------------------------

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

#[test]
#[ignore = "rewrites tests/corpus; run by hand when the format changes"]
fn regenerate() {
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

    let mut files: Vec<(&str, Vec<u8>, &str, Option<&str>, Option<&str>, &str)> = Vec::new();
    let mut add = |name: &'static str,
                   bytes: Vec<u8>,
                   outcome: &'static str,
                   check: Option<&'static str>,
                   code: Option<&'static str>,
                   why: &'static str| {
        files.push((name, bytes, outcome, check, code, why));
    };
    let s = |t: String| t.into_bytes();
    add("valid.lic", s(valid.clone()), "installable", None, None, "a good license");
    add("valid-crlf.lic", s(valid.replace('\n', "\r\n")), "installable", None, None, "CRLF line endings are accepted");
    add(
        "valid-surrounding-blank-lines.lic",
        s(format!("\n\n  \n{valid}\n\n")),
        "installable",
        None,
        None,
        "blank lines around the block are ignored",
    );
    add(
        "valid-unknown-member.lic",
        signed(&payload_json(&|v| v["future_member"] = json!({"x": 1}))),
        "installable",
        None,
        None,
        "unknown payload members are ignored",
    );
    add(
        "valid-perpetual.lic",
        variant(&|l| l.expires_at = None).seal(&vendor).into_bytes(),
        "installable",
        None,
        None,
        "expires_at null is perpetual",
    );
    add(
        "truncated-no-end.lic",
        s(valid.lines().take(4).collect::<Vec<_>>().join("\n")),
        "refused",
        Some("format"),
        Some("bad_armor"),
        "no END line",
    );
    add(
        "truncated-mid-line.lic",
        s(format!(
            "-----BEGIN LICENSE FILE-----\n{}\n{}\n-----END LICENSE FILE-----\n",
            &body_lines[0][..40],
            body_lines[1]
        )),
        "refused",
        Some("format"),
        Some("bad_armor"),
        "a line cut short",
    );
    add(
        "bad-base64-char.lic",
        s(valid.replacen(&body_lines[1][..4], "!!!!", 1)),
        "refused",
        Some("format"),
        Some("bad_encoding"),
        "a character outside base64",
    );
    add(
        "bad-base64-padding.lic",
        s(valid.replace("=\n-----END", "\n-----END").replace("==\n-----END", "\n-----END")),
        "refused",
        Some("format"),
        Some("bad_encoding"),
        "padding removed",
    );
    add(
        "no-armor.lic",
        serde_json::to_vec(&envelope_of(&valid)).unwrap(),
        "refused",
        Some("format"),
        Some("bad_armor"),
        "bare envelope JSON",
    );
    add(
        "wrong-label.lic",
        s(valid.replace("LICENSE FILE", "CERTIFICATE")),
        "refused",
        Some("format"),
        Some("wrong_kind"),
        "another PEM label",
    );
    add("audit-file.lic", s(audit_file), "refused", Some("format"), Some("wrong_kind"), "an audit, not a license");
    add("request-file.lic", s(request_file), "refused", Some("format"), Some("wrong_kind"), "a request, not a license");
    add(
        "two-blocks.lic",
        s(format!("{valid}{valid}")),
        "refused",
        Some("format"),
        Some("multiple_blocks"),
        "two blocks",
    );
    add(
        "text-before.lic",
        s(format!("Here is your license:\n{valid}")),
        "refused",
        Some("format"),
        Some("bad_armor"),
        "mail text before the block",
    );
    add(
        "text-after.lic",
        s(format!("{valid}Regards,\nThe vendor\n")),
        "refused",
        Some("format"),
        Some("bad_armor"),
        "mail text after the block",
    );
    add(
        "mismatched-end.lic",
        s(valid.replace("-----END LICENSE FILE-----", "-----END LICENSE AUDIT-----")),
        "refused",
        Some("format"),
        Some("bad_armor"),
        "END does not match BEGIN",
    );
    add("empty.lic", Vec::new(), "refused", Some("format"), Some("bad_armor"), "an empty file");
    add(
        "whitespace-only.lic",
        s(" \n\t\n\r\n".into()),
        "refused",
        Some("format"),
        Some("bad_armor"),
        "only whitespace",
    );
    add(
        "huge.lic",
        Vec::new(),
        "error",
        None,
        Some("too_large"),
        "over 1 MiB: refused before reading (made at test time)",
    );
    add(
        "binary.lic",
        (0..=255u8).cycle().take(4096).collect(),
        "refused",
        Some("format"),
        Some("not_text"),
        "binary data",
    );
    add(
        "bom.lic",
        [b"\xEF\xBB\xBF".to_vec(), valid.clone().into_bytes()].concat(),
        "refused",
        Some("format"),
        Some("byte_order_mark"),
        "UTF-8 byte-order mark",
    );
    add(
        "utf16.lic",
        [vec![0xFF, 0xFE], valid.encode_utf16().flat_map(|u| u.to_le_bytes()).collect()].concat(),
        "refused",
        Some("format"),
        Some("not_text"),
        "saved as UTF-16",
    );
    add("one-line.lic", s(valid.replace('\n', "")), "refused", Some("format"), Some("bad_armor"), "line breaks lost");
    add(
        "rewrapped-76.lic",
        {
            let joined = body_lines.concat();
            let lines: Vec<&str> = joined.as_bytes().chunks(76).map(|c| std::str::from_utf8(c).unwrap()).collect();
            s(format!("-----BEGIN LICENSE FILE-----\n{}\n-----END LICENSE FILE-----\n", lines.join("\n")))
        },
        "refused",
        Some("format"),
        Some("bad_armor"),
        "re-wrapped at 76 columns",
    );
    add(
        "envelope-not-json.lic",
        s(armor("LICENSE FILE", b"not json at all")),
        "refused",
        Some("format"),
        Some("bad_envelope"),
        "the envelope is not JSON",
    );
    add(
        "envelope-array.lic",
        s(armor("LICENSE FILE", b"[1,2,3]")),
        "refused",
        Some("format"),
        Some("bad_envelope"),
        "the envelope is not an object",
    );
    add(
        "envelope-extra-member.lic",
        s(with_envelope(&valid, |e| e["x"] = json!(1))),
        "refused",
        Some("format"),
        Some("bad_envelope"),
        "a fifth envelope member",
    );
    add(
        "envelope-missing-sig.lic",
        s(with_envelope(&valid, |e| drop(e.as_object_mut().unwrap().remove("sig")))),
        "refused",
        Some("format"),
        Some("bad_envelope"),
        "no signature member",
    );
    add(
        "envelope-duplicate-member.lic",
        {
            let e = envelope_of(&valid);
            let text = format!(
                "{{\"alg\":\"ed25519\",\"alg\":\"ed25519\",\"kid\":{},\"payload\":{},\"sig\":{}}}",
                e["kid"], e["payload"], e["sig"]
            );
            s(armor("LICENSE FILE", text.as_bytes()))
        },
        "refused",
        Some("format"),
        Some("bad_envelope"),
        "alg twice",
    );
    add(
        "alg-rsa.lic",
        s(with_envelope(&valid, |e| e["alg"] = json!("RS256"))),
        "refused",
        Some("format"),
        Some("unsupported_algorithm"),
        "another algorithm",
    );
    add(
        "alg-none.lic",
        s(with_envelope(&valid, |e| e["alg"] = json!("none"))),
        "refused",
        Some("format"),
        Some("unsupported_algorithm"),
        "alg none",
    );
    add(
        "kid-uppercase.lic",
        s(with_envelope(&valid, |e| e["kid"] = json!(e["kid"].as_str().unwrap().to_uppercase()))),
        "refused",
        Some("format"),
        Some("bad_envelope"),
        "kid not lower-case hex",
    );
    add(
        "payload-bad-base64url.lic",
        s(with_envelope(&valid, |e| e["payload"] = json!("***"))),
        "refused",
        Some("format"),
        Some("bad_encoding"),
        "payload not base64url",
    );
    add(
        "payload-padded.lic",
        s(with_envelope(&valid, |e| e["payload"] = json!(format!("{}=", e["payload"].as_str().unwrap())))),
        "refused",
        Some("format"),
        Some("bad_encoding"),
        "payload with padding",
    );
    add(
        "sig-short.lic",
        s(with_envelope(&valid, |e| e["sig"] = json!(URL_SAFE_NO_PAD.encode([7u8; 32])))),
        "refused",
        Some("format"),
        Some("bad_envelope"),
        "a 32-byte signature",
    );
    add(
        "unknown-kid.lic",
        variant(&|_| {}).seal(&KeyPair::generate()).into_bytes(),
        "refused",
        Some("signature"),
        Some("unknown_key"),
        "signed by an untrusted key",
    );
    add(
        "tampered-payload.lic",
        s(with_envelope(&valid, |e| {
            let p = URL_SAFE_NO_PAD.decode(e["payload"].as_str().unwrap()).unwrap();
            let t = String::from_utf8(p).unwrap().replace("\"named_users\":100", "\"named_users\":900");
            e["payload"] = json!(URL_SAFE_NO_PAD.encode(t));
        })),
        "refused",
        Some("signature"),
        Some("bad_signature"),
        "payload edited after signing",
    );
    add(
        "signed-as-audit.lic",
        s(armor(
            "LICENSE FILE",
            &serde_json::to_vec(&sign_raw(&vendor, "audit", &variant(&|_| {}).to_json())).unwrap(),
        )),
        "refused",
        Some("signature"),
        Some("bad_signature"),
        "signature from another document kind",
    );
    add(
        "non-canonical-s.lic",
        s(with_envelope(&valid, |e| {
            let mut sig = URL_SAFE_NO_PAD.decode(e["sig"].as_str().unwrap()).unwrap();
            const L: [u8; 32] = [
                0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14, 0, 0,
                0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
            ];
            let mut carry = 0u16;
            for i in 0..32 {
                let v = sig[32 + i] as u16 + L[i] as u16 + carry;
                sig[32 + i] = v as u8;
                carry = v >> 8;
            }
            e["sig"] = json!(URL_SAFE_NO_PAD.encode(&sig));
        })),
        "refused",
        Some("signature"),
        Some("bad_signature"),
        "S + L: malleated signature",
    );
    add(
        "payload-duplicate-member.lic",
        signed(&{
            let t = String::from_utf8(variant(&|_| {}).to_json()).unwrap();
            t.replacen('{', "{\"customer\":\"Mallory\",", 1).into_bytes()
        }),
        "refused",
        Some("contents"),
        Some("bad_payload"),
        "customer twice in the signed payload",
    );
    add(
        "payload-nested-duplicate.lic",
        signed(&{
            let t = String::from_utf8(variant(&|_| {}).to_json()).unwrap();
            t.replacen("\"entitlements\":{", "\"entitlements\":{\"named_users\":1,", 1).into_bytes()
        }),
        "refused",
        Some("contents"),
        Some("bad_payload"),
        "a duplicate inside entitlements",
    );
    add(
        "payload-array.lic",
        signed(b"[1,2,3]"),
        "refused",
        Some("contents"),
        Some("bad_payload"),
        "payload is not an object",
    );
    add(
        "format-2.lic",
        signed(&payload_json(&|v| v["format"] = json!(2))),
        "refused",
        Some("contents"),
        Some("unsupported_format"),
        "a future format",
    );
    add(
        "missing-expires.lic",
        signed(&payload_json(&|v| drop(v.as_object_mut().unwrap().remove("expires_at")))),
        "refused",
        Some("contents"),
        Some("bad_payload"),
        "expires_at missing",
    );
    add(
        "offset-timestamp.lic",
        signed(&payload_json(&|v| v["issued_at"] = json!("2026-06-01T02:00:00+02:00"))),
        "refused",
        Some("contents"),
        Some("bad_payload"),
        "a timestamp with an offset",
    );
    add(
        "bad-activation-code.lic",
        signed(&payload_json(&|v| v["activation_code"] = json!("CORPV-STEST-CQDE0-12345-6789Z"))),
        "refused",
        Some("contents"),
        Some("bad_payload"),
        "activation code check character wrong",
    );
    add(
        "bad-serial.lic",
        signed(&payload_json(&|v| v["serial_number"] = json!("AAAAA-AAAAA-AAAAA-AAAAA"))),
        "refused",
        Some("contents"),
        Some("bad_payload"),
        "serial check character wrong",
    );
    add(
        "unknown-environment-type.lic",
        signed(&payload_json(&|v| v["environment_type"] = json!("staging"))),
        "refused",
        Some("contents"),
        Some("bad_payload"),
        "not an environment type",
    );
    add(
        "expires-before-start.lic",
        signed(&payload_json(&|v| v["expires_at"] = json!("2025-01-01T00:00:00Z"))),
        "refused",
        Some("contents"),
        Some("bad_payload"),
        "expires before not_before",
    );
    add(
        "empty-customer.lic",
        signed(&payload_json(&|v| v["customer"] = json!("  "))),
        "refused",
        Some("contents"),
        Some("bad_payload"),
        "no customer",
    );
    add(
        "negative-users.lic",
        signed(&payload_json(&|v| v["entitlements"]["named_users"] = json!(-5))),
        "refused",
        Some("contents"),
        Some("bad_payload"),
        "a negative entitlement",
    );
    add(
        "expired.lic",
        variant(&|l| {
            l.not_before = ts("2000-01-01T00:00:00Z");
            l.expires_at = Some(ts("2001-01-01T00:00:00Z"));
        })
        .seal(&vendor)
        .into_bytes(),
        "refused",
        Some("dates"),
        None,
        "expired",
    );
    add(
        "not-yet-valid.lic",
        variant(&|l| {
            l.not_before = ts("2098-01-01T00:00:00Z");
        })
        .seal(&vendor)
        .into_bytes(),
        "refused",
        Some("dates"),
        None,
        "valid only from 2098",
    );
    add(
        "wrong-serial.lic",
        variant(&|l| l.serial_number = other_serial.clone()).seal(&vendor).into_bytes(),
        "refused",
        Some("serial_number"),
        None,
        "for another environment",
    );
    add(
        "wrong-type.lic",
        variant(&|l| l.environment_type = EnvironmentType::Development).seal(&vendor).into_bytes(),
        "refused",
        Some("environment_type"),
        None,
        "a development license on production",
    );
    add(
        "other-activation-code.lic",
        variant(&|l| l.activation_code = ActivationCode::from_payload("0THERSVBSCR1PT10N0000000").unwrap())
            .seal(&vendor)
            .into_bytes(),
        "confirm",
        Some("activation_code"),
        None,
        "moves to another subscription",
    );
    add(
        "downgrade.lic",
        variant(&|l| l.issued_at = ts("2025-06-01T00:00:00Z")).seal(&vendor).into_bytes(),
        "confirm",
        Some("downgrade"),
        None,
        "older than the installed license",
    );

    let mut cases = Vec::new();
    for (name, bytes, outcome, check, code, why) in files {
        if name != "huge.lic" {
            std::fs::write(dir.join(name), bytes).unwrap();
        }
        cases.push(Case {
            file: name.into(),
            outcome: outcome.into(),
            check: check.map(str::to_string),
            code: code.map(str::to_string),
            why: why.into(),
        });
    }
    std::fs::write(dir.join("cases.json"), serde_json::to_vec_pretty(&cases).unwrap()).unwrap();
}

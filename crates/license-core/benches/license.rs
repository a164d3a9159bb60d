//! What a license check costs, next to the floor: a raw ed25519-dalek strict
//! verification of the same bytes. `bench/run` prints the ratios.

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use criterion::{black_box, criterion_group, criterion_main, Criterion};
use ed25519_dalek::{Signature, VerifyingKey};
use license_core::check::{check_license, Expectations};
use license_core::document::Envelope;
use license_core::{DocumentKind, Environment};

fn bench(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let config = license_core::demo::create(dir.path()).unwrap();
    let env = Environment::open(&config).unwrap();
    let file_path = dir.path().join("samples/renewal.lic");
    let file = std::fs::read(&file_path).unwrap();
    let ring = env.vendor_keys().clone();
    let installed =
        license_core::payload::open_license(&std::fs::read(&env.config.license_file).unwrap(), &ring).unwrap();
    let exp = Expectations {
        serial_number: Some(env.serial().unwrap().serial_number),
        environment_type: Some(env.config.environment_type),
        installed: Some(installed),
        now: chrono::Utc::now(),
    };

    // The exact bytes the signature covers, for the raw baseline.
    let body: String = String::from_utf8(file.clone()).unwrap().lines().filter(|l| !l.starts_with("-----")).collect();
    let envelope: serde_json::Value = serde_json::from_slice(&STANDARD.decode(body).unwrap()).unwrap();
    let message = format!("license/{}", envelope["payload"].as_str().unwrap());
    let sig = Signature::from_slice(&URL_SAFE_NO_PAD.decode(envelope["sig"].as_str().unwrap()).unwrap()).unwrap();
    let key_bytes: [u8; 32] = URL_SAFE_NO_PAD.decode(&env.config.vendor_keys[0]).unwrap().try_into().unwrap();
    let key = VerifyingKey::from_bytes(&key_bytes).unwrap();

    let mut g = c.benchmark_group("license");
    g.bench_function("raw_ed25519_verify_strict", |b| {
        b.iter(|| key.verify_strict(black_box(message.as_bytes()), black_box(&sig)).unwrap())
    });
    g.bench_function("envelope_parse", |b| {
        b.iter(|| Envelope::parse(DocumentKind::License, black_box(&file)).unwrap())
    });
    let parsed = Envelope::parse(DocumentKind::License, &file).unwrap();
    g.bench_function("signature_verify", |b| b.iter(|| black_box(&parsed).verify(&ring, "vendor").unwrap()));
    g.bench_function("full_check", |b| {
        b.iter(|| {
            let bytes = std::fs::read(black_box(&file_path)).unwrap();
            let r = check_license(&bytes, &ring, &exp);
            assert!(r.installable && !r.differences.is_empty());
            r
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);

//! A large infrastructure, 200 environments × 12 audits, carried in as few transfer
//! files as the format allows (38 environments each: with the receipt each audit gets
//! back, a file holds 1,000 members), processed against the portal on loopback,
//! against uploading the same 2,400 audits back to back.

use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use license_core::payload::{Audit, Consumption, Payload};
use license_core::portal::{ClientOptions, PortalClient, Registration};
use license_core::serial::serial_from_facts_text;
use license_core::transfer::{Papers, Transfer, TransferEntry};
use license_core::{ActivationCode, EnvironmentType, KeyPair, SerialNumber};
use license_portal::fixture::TestPortal;
use license_portal::permission::Permission;
use std::path::Path;
use std::time::Duration;
use uuid::Uuid;

const ENVIRONMENTS: usize = 200;
const AUDITS: usize = 12;
/// Environments per file, as an administrator sizes them: with its license request,
/// each environment's 12 audits come back with 12 receipts and a license, and
/// `1 + 38 × 26 = 989` members fit in the 1,000 a file holds.
const PER_FILE: usize = 38;

/// A registered, licensed environment: what its audits are signed with and name.
struct Site {
    serial: SerialNumber,
    key: KeyPair,
    license_id: Uuid,
}

fn audits(code: &ActivationCode, s: &Site) -> Vec<(Uuid, Vec<u8>)> {
    let now = chrono::Utc::now();
    (0..AUDITS)
        .map(|_| {
            let a = Audit {
                format: 1,
                audit_id: Uuid::new_v4(),
                activation_code: code.clone(),
                serial_number: s.serial.clone(),
                environment_type: EnvironmentType::Production,
                license_id: s.license_id,
                generated_at: now,
                period_start: now - chrono::Duration::days(30),
                period_end: now,
                consumption: Consumption { named_users: 10, application_objects: 20, servers: 1 },
                environment_key: s.key.public().to_base64url(),
            };
            (a.audit_id, a.seal(&s.key).into_bytes())
        })
        .collect()
}

/// Transfer files of `PER_FILE` environments each, with fresh audits for every site.
fn transfer_files(dir: &Path, code: &ActivationCode, sites: &[Site]) -> (Vec<std::path::PathBuf>, Vec<Vec<u8>>) {
    let mut paths = Vec::new();
    let mut all = Vec::new();
    for (n, chunk) in sites.chunks(PER_FILE).enumerate() {
        let path = dir.join(format!("site-{n}.transfer.zip"));
        all.extend(transfer_file(&path, code, chunk));
        paths.push(path);
    }
    (paths, all)
}

/// A transfer file with fresh audits for every site.
fn transfer_file(path: &Path, code: &ActivationCode, sites: &[Site]) -> Vec<Vec<u8>> {
    let mut t = Transfer::default();
    let mut all = Vec::new();
    for (i, s) in sites.iter().enumerate() {
        let papers = Papers { audits: audits(code, s).into_iter().collect(), ..Papers::default() };
        all.extend(papers.audits.values().cloned());
        let entry = TransferEntry {
            serial_number: s.serial.clone(),
            environment_type: EnvironmentType::Production,
            name: format!("Environment {i}"),
            hostname: format!("host-{i}"),
            activation_code: Some(code.clone()),
            license_id: Some(s.license_id),
            expires_at: None,
            exported_at: chrono::Utc::now(),
        };
        t.put(entry, papers);
    }
    t.write(path).unwrap();
    all
}

/// Registers environment `i` in a slot and takes the license the portal issues it.
fn register_site(rt: &tokio::runtime::Runtime, client: &PortalClient, code: &ActivationCode, i: usize) -> Site {
    let key = KeyPair::generate();
    let serial = serial_from_facts_text(&format!("platform_uuid=bench-{i}\n"));
    let reg = Registration {
        serial_number: serial.clone(),
        environment_type: EnvironmentType::Production,
        name: format!("Environment {i}"),
        environment_key: Some(key.public().to_base64url()),
        reason: None,
    };
    rt.block_on(client.register(code, &reg)).unwrap();
    let text = rt.block_on(client.download_license(&serial)).unwrap();
    let env = license_core::document::Envelope::parse(license_core::DocumentKind::License, text.as_bytes()).unwrap();
    let license_id = license_core::License::from_json(env.payload()).unwrap().license_id;
    Site { serial, key, license_id }
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let portal = TestPortal::with_vendor(KeyPair::generate());
    let code = ActivationCode::from_payload("BENCHTRANSFERCQDE0123456").unwrap();
    portal.subscription(&code, vec![(EnvironmentType::Production, ENVIRONMENTS as u32)]);
    let client = PortalClient::new(
        &portal.url.parse().unwrap(),
        Some(portal.token(&code, &Permission::ALL)),
        ClientOptions::default(),
    )
    .unwrap();
    let sites: Vec<Site> = (0..ENVIRONMENTS).map(|i| register_site(&rt, &client, &code, i)).collect();
    let dir = tempfile::tempdir().unwrap();

    let mut g = c.benchmark_group("transfer");
    g.sample_size(10).measurement_time(Duration::from_secs(30));
    g.bench_function("process_200x12", |b| {
        b.iter_batched(
            || transfer_files(dir.path(), &code, &sites).0,
            |paths| {
                let mut items = 0;
                for path in &paths {
                    let r = rt
                        .block_on(license_core::workstation::process::process(
                            path,
                            &client,
                            &Default::default(),
                            &license_core::run::InPlace,
                            &|_, _, _| {},
                        ))
                        .unwrap();
                    assert_eq!(r.failed(), 0);
                    items += r.items.len();
                }
                assert_eq!((paths.len(), items), (ENVIRONMENTS.div_ceil(PER_FILE), ENVIRONMENTS * AUDITS));
            },
            BatchSize::PerIteration,
        )
    });
    g.bench_function("uploads_back_to_back_2400", |b| {
        b.iter_batched(
            || transfer_files(dir.path(), &code, &sites).1,
            |audits| {
                for a in audits {
                    rt.block_on(client.upload_audit(&a)).unwrap();
                }
            },
            BatchSize::PerIteration,
        )
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);

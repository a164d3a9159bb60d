//! `transfer import` of 60 receipts onto an empty upload history, and onto one of
//! 3,000 entries, in the same run: the cost should follow the receipts, not the
//! history (issue 32: 2.2 s against 10.8 s before the history was read and written
//! once per import). bench/run prints the ratio.

use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use license_core::environment::audits::LocalUpload;
use license_core::portal::{ClientOptions, PortalClient, Registration};
use license_core::{Environment, EnvironmentType, InstallOptions};
use license_portal::fixture::TestPortal;
use license_portal::permission::Permission;
use std::path::Path;

const RECEIPTS: usize = 60;
const HISTORY: usize = 3000;

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap().flatten() {
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), target).unwrap();
        }
    }
}

/// A registered, licensed demo environment with `RECEIPTS` audits exported to a
/// transfer file the portal has answered.
fn answered(rt: &tokio::runtime::Runtime, dir: &Path) -> (Environment, std::path::PathBuf, TestPortal) {
    let env = Environment::open(&license_core::demo::create(dir).unwrap()).unwrap();
    let code = env.installed_activation_code().unwrap();
    let portal = TestPortal::start(&dir.join("vendor.key"));
    portal.subscription(&code, vec![(EnvironmentType::Production, 1)]);
    let token = portal.token(&code, &Permission::ALL);
    let client = PortalClient::new(&portal.url.parse().unwrap(), Some(token), ClientOptions::default()).unwrap();
    let reg = Registration {
        serial_number: env.serial().unwrap().serial_number,
        environment_type: EnvironmentType::Production,
        name: "bench".into(),
        environment_key: Some(env.environment_key().unwrap()),
        reason: None,
    };
    rt.block_on(client.register(&code, &reg)).unwrap();
    let lic = rt.block_on(client.download_license(&reg.serial_number)).unwrap();
    env.install(lic.as_bytes(), InstallOptions { confirmed: true }, &mut |_| {}).unwrap();
    for _ in 0..RECEIPTS {
        env.generate_audit().unwrap();
    }
    let file = dir.join("site.transfer.zip");
    env.export_transfer(&file, false, None).unwrap();
    let blocking = license_core::run::InPlace;
    let report = rt
        .block_on(license_core::workstation::process::process(
            &file,
            &client,
            &Default::default(),
            &blocking,
            &|_, _, _| {},
        ))
        .unwrap();
    assert_eq!(report.failed(), 0);
    (env, file, portal)
}

/// `n` earlier uploads of this environment, as years of audits leave them.
fn history(env: &Environment, n: usize) -> Vec<LocalUpload> {
    let serial = env.serial().unwrap().serial_number;
    let now = chrono::Utc::now();
    (0..n as i64)
        .map(|i| LocalUpload {
            upload_id: uuid::Uuid::new_v4(),
            audit_id: Some(uuid::Uuid::new_v4()),
            serial_number: Some(serial.clone()),
            status: license_core::payload::UploadStatus::Verified,
            reasons: vec![],
            received_at: now - chrono::Duration::hours(10_000 - i),
            sha256: "0".repeat(64),
            audit_sha256: Some("0".repeat(64)),
            receipt: Some("x".repeat(900)),
            period_end: Some(now - chrono::Duration::hours(10_001 - i)),
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (env, file, _portal) = answered(&rt, dir.path());
    let state = env.config.state_dir();
    let pristine = dir.path().join("pristine-state");
    copy_dir(&state, &pristine);
    let long = serde_json::to_vec(&history(&env, HISTORY)).unwrap();

    let mut g = c.benchmark_group("import");
    g.sample_size(20);
    for (name, earlier) in [("onto_empty_history", None), ("onto_3000_entries", Some(&long))] {
        g.bench_function(format!("receipts_60_{name}"), |b| {
            b.iter_batched(
                || {
                    std::fs::remove_dir_all(&state).unwrap();
                    copy_dir(&pristine, &state);
                    if let Some(h) = earlier {
                        std::fs::write(state.join("upload-history.json"), h).unwrap();
                    }
                },
                |()| {
                    let plan = env.plan_import(&file).unwrap();
                    assert_eq!(env.apply_receipts(&plan).unwrap(), RECEIPTS);
                },
                BatchSize::PerIteration,
            )
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);

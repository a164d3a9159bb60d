//! The portal over real HTTP on loopback: an audit upload round trip (a fresh,
//! verified audit each time), and how long the client takes to report a portal
//! that refuses connections.

use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use license_core::portal::{ClientOptions, PortalClient, Registration};
use license_core::{Environment, EnvironmentType, InstallOptions};
use license_portal::fixture::TestPortal;
use license_portal::permission::Permission;
use std::time::Duration;

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let env = Environment::open(&license_core::demo::create(dir.path()).unwrap()).unwrap();
    let code = env.installed_activation_code().unwrap();
    let portal = TestPortal::start(&dir.path().join("vendor.key"));
    portal.subscription(&code, vec![(EnvironmentType::Production, 1)]);
    let token = portal.token(&code, &Permission::ALL);
    let url = portal.url.clone();
    let client = PortalClient::new(&url.parse().unwrap(), Some(token), ClientOptions::default()).unwrap();
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

    let mut g = c.benchmark_group("portal");
    g.bench_function("audit_upload_round_trip", |b| {
        b.iter_batched(
            || env.generate_audit().unwrap().text,
            |text| {
                let r = rt.block_on(client.upload_audit(text.as_bytes())).unwrap();
                assert_eq!(r.status, license_core::payload::UploadStatus::Verified, "{:?}", r.reasons);
            },
            BatchSize::SmallInput,
        )
    });

    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let dead = PortalClient::new(
        &format!("http://127.0.0.1:{port}").parse().unwrap(),
        Some("t".into()),
        ClientOptions::default(),
    )
    .unwrap();
    g.sample_size(10).measurement_time(Duration::from_secs(20));
    g.bench_function("unreachable_reported", |b| b.iter(|| assert!(rt.block_on(dead.health()).is_err())));
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);

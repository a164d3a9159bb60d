//! The portal over real HTTP on loopback: an audit upload round trip (a fresh,
//! verified audit each time), and how long the client takes to report a portal
//! that refuses connections.

use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use license_core::portal::{ClientOptions, PortalClient};
use std::time::Duration;

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (env, _portal, client) = license_portal::fixture::licensed_demo(&rt, dir.path());

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

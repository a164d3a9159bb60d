//! The portal as a service at scale, over real HTTP on loopback: a subscription of
//! 1,000 environments beside one of 10, an upload history of 20,000 read in pages,
//! and "Prepare renewals" with 0, 90 and 900 environments due. What each costs
//! should follow the work asked (one environment's history, the environments due),
//! not the size of everything stored (issue 32).

use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use license_core::portal::{ClientOptions, PortalClient};
use license_core::workstation::renewals;
use license_core::{ActivationCode, EnvironmentType, KeyPair};
use license_portal::fixture::TestPortal;
use license_portal::permission::Permission;

const LARGE: usize = 1000;
const SMALL: usize = 10;
const HISTORY: usize = 20_000;

fn subscription(portal: &TestPortal, code: &str, n: usize) -> (ActivationCode, PortalClient) {
    let code = ActivationCode::from_payload(code).unwrap();
    portal.subscription(&code, vec![(EnvironmentType::Production, n as u32)]);
    portal.seed_environments(&code, n);
    let token = portal.token(&code, &Permission::ALL);
    let client = PortalClient::new(&portal.url.parse().unwrap(), Some(token), ClientOptions::default()).unwrap();
    (code, client)
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let portal = TestPortal::with_vendor(KeyPair::generate());
    let (small, small_client) = subscription(&portal, "BENCHSCA1ESMA11000000000", SMALL);
    let (large, client) = subscription(&portal, "BENCHSCA1E1ARGE000000000", LARGE);
    let busy = rt.block_on(client.subscription(&large)).unwrap().slots[0].serial_number.clone().unwrap();
    portal.seed_uploads(&large, &busy, HISTORY - LARGE);

    let mut g = c.benchmark_group("scale");
    g.bench_function("subscription_10", |b| b.iter(|| rt.block_on(small_client.subscription(&small)).unwrap()));
    g.bench_function("subscription_1000", |b| b.iter(|| rt.block_on(client.subscription(&large)).unwrap()));
    g.bench_function("history_one_environment", |b| {
        b.iter(|| {
            assert_eq!(rt.block_on(client.audit_history(&large, Some(&busy))).unwrap().len(), HISTORY - LARGE + 1)
        })
    });
    g.sample_size(10);
    g.bench_function("history_20000_in_pages", |b| {
        b.iter(|| assert_eq!(rt.block_on(client.audit_history(&large, None)).unwrap().len(), HISTORY))
    });
    let dir = tempfile::tempdir().unwrap();
    for due in [0, 90, 900] {
        g.bench_function(format!("prepare_renewals_{due}_due"), |b| {
            b.iter_batched(
                || {
                    // Each run starts where the infrastructure was: the licenses issued
                    // by the last run are gone, and so are its file and record.
                    portal.execute("DELETE FROM licenses WHERE file IS NOT NULL", []);
                    let _ = std::fs::remove_file(dir.path().join("renewals.transfer.zip"));
                    let _ = std::fs::remove_file(dir.path().join("renewals.json"));
                },
                |()| {
                    let sub = rt.block_on(client.subscription(&large)).unwrap();
                    let out = rt
                        .block_on(renewals::prepare(
                            &client,
                            &sub,
                            &dir.path().join("renewals.transfer.zip"),
                            &dir.path().join("renewals.json"),
                            due as i64,
                            chrono::Utc::now(),
                        ))
                        .unwrap();
                    assert_eq!(out.iter().filter(|p| p.license.is_some()).count(), due);
                },
                BatchSize::PerIteration,
            )
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);

//! `transfer import` of 60 receipts onto an empty upload history, and onto one of
//! 3,000 entries, in the same run: the cost should follow the receipts, not the
//! history (issue 32: 2.2 s against 10.8 s before the history was read and written
//! once per import). bench/run prints the ratio.

use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use license_core::Environment;
use license_portal::fixture::TestPortal;
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
    let (env, portal, client) = license_portal::fixture::licensed_demo(rt, dir);
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

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (env, file, _portal) = answered(&rt, dir.path());
    let state = env.config.state_dir();
    let pristine = dir.path().join("pristine-state");
    copy_dir(&state, &pristine);
    let serial = env.serial().unwrap().serial_number;
    let long = serde_json::to_vec(&license_portal::fixture::earlier_uploads(&serial, HISTORY)).unwrap();

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

//! Any bytes through the whole license check: never a panic, and a report that
//! says installable only when every check passed.
#![no_main]
use libfuzzer_sys::fuzz_target;
use license_core::check::{check_license, Expectations, Status};
use license_core::KeyRing;
use std::sync::OnceLock;

fn ring() -> &'static KeyRing {
    static RING: OnceLock<KeyRing> = OnceLock::new();
    // Any trusted key will do: inputs cannot forge its signatures anyway.
    RING.get_or_init(|| KeyRing::new(vec![license_core::KeyPair::generate().public()]))
}

fuzz_target!(|data: &[u8]| {
    let exp = Expectations { now: chrono::Utc::now(), ..Default::default() };
    let r = check_license(data, ring(), &exp);
    assert_eq!(r.installable, r.license.is_some() && !r.checks.iter().any(|c| c.status == Status::Fail));
});

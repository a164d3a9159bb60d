//! Any bytes as an audit file: an error or a verified audit, never a panic.
#![no_main]
use libfuzzer_sys::fuzz_target;
use license_core::{Audit, SelfSigned};

fuzz_target!(|data: &[u8]| {
    if let Ok((audit, key)) = Audit::open(data) {
        assert_eq!(audit.environment_key, key.to_base64url());
    }
});

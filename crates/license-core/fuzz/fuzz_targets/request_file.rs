//! Any bytes as a license request file: an error or a verified request, never a panic.
#![no_main]
use libfuzzer_sys::fuzz_target;
use license_core::{Request, SelfSigned};

fuzz_target!(|data: &[u8]| {
    if let Ok((request, key)) = Request::open(data) {
        assert_eq!(request.environment_key, key.to_base64url());
    }
});

//! Activation codes, serial numbers and facts files: parsing never panics, and
//! whatever parses prints back to something that parses to the same value.
#![no_main]
use libfuzzer_sys::fuzz_target;
use license_core::serial::HostFacts;
use license_core::{ActivationCode, SerialNumber};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(code) = text.parse::<ActivationCode>() {
        assert_eq!(code.to_string().parse::<ActivationCode>().unwrap(), code);
    }
    if let Ok(serial) = text.parse::<SerialNumber>() {
        assert_eq!(serial.to_string().parse::<SerialNumber>().unwrap(), serial);
    }
    if let Ok(facts) = HostFacts::parse(text, "fuzz") {
        let _ = facts.explain("fuzz");
    }
});

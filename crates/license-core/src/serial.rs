//! The environment serial number: a hash of host facts (`shared/spec/formats.md`,
//! "Serial number"). Network addresses are never facts: NIC, VPN and container
//! changes must not change the serial.

use crate::crockford;
use crate::crockford::{CheckedCode, CodeKind};
use crate::error::Error;
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::path::Path;

const DOMAIN: &[u8] = b"serial-number/v1";
const SYMBOLS: usize = 19; // 95 bits

/// The environment: 19 symbols (95 bits of the facts' digest) plus a check symbol,
/// four groups of five.
pub type SerialNumber = CheckedCode<Serial>;

pub enum Serial {}

impl CodeKind for Serial {
    const LEN: usize = SYMBOLS + 1;
    const TYPE_NAME: &'static str = "SerialNumber";
    fn invalid(input: &str, reason: String, length: Option<crate::error::SymbolCount>) -> Error {
        Error::InvalidSerialNumber { input: input.chars().take(64).collect(), reason, length }
    }
    fn article_name() -> &'static str {
        "a serial number"
    }
}

/// Host facts, sorted by key. Only facts that survive [`HostFacts::usable`] feed the hash.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct HostFacts(pub BTreeMap<String, String>);

#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
/// Why a fact was used or left out; `licensectl serial --explain` prints these.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FactNote {
    pub key: String,
    pub value: Option<String>,
    pub used: bool,
    pub state: FactState,
    pub reason: String,
}

#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
/// What the spec's rules made of one fact.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FactState {
    Used,
    /// Empty, or a value firmware and hypervisors report when they know none.
    Placeholder,
    /// `machine_id` while a usable `platform_uuid` is present.
    Superseded,
    /// Not a serial-number fact in this version of the spec.
    Ignored,
}

#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
/// The serial number with the facts that produced it.
#[derive(Clone, Debug, Serialize)]
pub struct SerialExplanation {
    pub serial_number: SerialNumber,
    pub facts_text: String,
    pub notes: Vec<FactNote>,
    pub source: String,
}

const PLACEHOLDER_UUIDS: &[&str] = &[
    "00000000-0000-0000-0000-000000000000",
    "ffffffff-ffff-ffff-ffff-ffffffffffff",
    "03000200-0400-0500-0006-000700080009",
    "00020003-0004-0005-0006-000700080009",
    "12345678-1234-5678-90ab-cddeefaabbcc",
];

impl HostFacts {
    /// Parses a facts file: `key=value` lines; blank lines and `#` comments are skipped.
    pub fn parse(text: &str, origin: &str) -> Result<Self, Error> {
        let mut map = BTreeMap::new();
        for (n, raw) in text.lines().enumerate() {
            let line = raw.trim_end_matches('\r').trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let Some((k, v)) = line.split_once('=') else {
                return Err(Error::BadFacts {
                    origin: origin.into(),
                    reason: format!("line {} has no '=': write key=value", n + 1),
                });
            };
            let (k, v) = (k.trim(), v.trim());
            if k.is_empty() || v.contains('\n') {
                return Err(Error::BadFacts {
                    origin: origin.into(),
                    reason: format!("line {} has an empty key", n + 1),
                });
            }
            if map.insert(k.to_string(), v.to_string()).is_some() {
                return Err(Error::BadFacts { origin: origin.into(), reason: format!("key '{k}' appears twice") });
            }
        }
        Ok(Self(map))
    }

    pub fn read(path: &Path) -> Result<Self, Error> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io("read the facts file", path, e))?;
        Self::parse(&text, &path.display().to_string())
    }

    /// Applies the spec's rules: placeholders and empty values are left out, and
    /// `machine_id` counts only when there is no `platform_uuid`.
    pub fn usable(&self) -> (BTreeMap<String, String>, Vec<FactNote>) {
        let mut used = BTreeMap::new();
        let mut notes = Vec::new();
        let uuid_ok = self.0.get("platform_uuid").map(|v| usable_uuid(v).is_ok()).unwrap_or(false);
        for (k, v) in &self.0 {
            let verdict: Result<String, (FactState, String)> = match k.as_str() {
                "platform_uuid" => usable_uuid(v).map_err(|r| (FactState::Placeholder, r)),
                "machine_id" if uuid_ok => Err((FactState::Superseded, "not used: platform_uuid is present".into())),
                "machine_id" => usable_machine_id(v).map_err(|r| (FactState::Placeholder, r)),
                _ => Err((FactState::Ignored, "not a serial-number fact in v1".into())),
            };
            match verdict {
                Ok(value) => {
                    notes.push(FactNote {
                        key: k.clone(),
                        value: Some(value.clone()),
                        used: true,
                        state: FactState::Used,
                        reason: "used".into(),
                    });
                    used.insert(k.clone(), value);
                }
                Err((state, reason)) => {
                    notes.push(FactNote { key: k.clone(), value: Some(v.clone()), used: false, state, reason })
                }
            }
        }
        (used, notes)
    }

    pub fn explain(&self, source: &str) -> Result<SerialExplanation, Error> {
        let (used, notes) = self.usable();
        if used.is_empty() {
            return Err(Error::NoSerialFacts {
                origin: source.into(),
                notes: notes.iter().map(|n| format!("{}: {}", n.key, n.reason)).collect(),
            });
        }
        let facts_text: String = used.iter().map(|(k, v)| format!("{k}={v}\n")).collect();
        Ok(SerialExplanation {
            serial_number: serial_from_facts_text(&facts_text),
            facts_text,
            notes,
            source: source.into(),
        })
    }

    pub fn serial_number(&self) -> Result<SerialNumber, Error> {
        self.explain("facts").map(|e| e.serial_number)
    }
}

fn usable_uuid(v: &str) -> Result<String, String> {
    let v = v.trim().to_ascii_lowercase();
    if v.is_empty() {
        return Err("empty".into());
    }
    if PLACEHOLDER_UUIDS.contains(&v.as_str()) || v.chars().filter(|c| *c != '-').all(|c| c == '0' || c == 'f') {
        return Err("a known placeholder value".into());
    }
    Ok(v)
}

fn usable_machine_id(v: &str) -> Result<String, String> {
    let v = v.trim().to_string();
    if v.is_empty() || v == "uninitialized" || v.chars().all(|c| c == '0') {
        return Err("empty or a placeholder".into());
    }
    Ok(v)
}

/// `digest = SHA-256("serial-number/v1" || 0x00 || facts)`; the first 95 bits as 19
/// symbols, most significant first, plus the check symbol.
pub fn serial_from_facts_text(facts: &str) -> SerialNumber {
    let mut h = Sha256::new();
    h.update(DOMAIN);
    h.update([0u8]);
    h.update(facts.as_bytes());
    let digest = h.finalize();
    let bits = u128::from_be_bytes(digest[..16].try_into().expect("16 bytes")) >> (128 - 95);
    let payload: String =
        (0..SYMBOLS).map(|i| crockford::symbol(((bits >> (5 * (SYMBOLS - 1 - i))) & 31) as u32)).collect();
    SerialNumber::from_payload(&payload).expect("digest symbols are Crockford symbols")
}

/// Reads this host's facts from the operating system.
pub fn host_facts() -> HostFacts {
    let mut map = BTreeMap::new();
    for (k, v) in platform::read() {
        if let Some(v) = v {
            map.insert(k.to_string(), v.trim().to_string());
        }
    }
    HostFacts(map)
}

/// Where [`host_facts`] reads them, for explanations.
pub const HOST_SOURCE: &str = platform::SOURCE;

pub fn host_explanation() -> Result<SerialExplanation, Error> {
    host_facts().explain(HOST_SOURCE)
}

#[cfg(target_os = "linux")]
mod platform {
    pub const SOURCE: &str = "/sys/class/dmi/id/product_uuid, /etc/machine-id";
    pub fn read() -> Vec<(&'static str, Option<String>)> {
        // product_uuid is readable by root only on most distributions; an
        // unprivileged run falls back to machine-id, which the spec allows.
        vec![
            ("platform_uuid", std::fs::read_to_string("/sys/class/dmi/id/product_uuid").ok()),
            ("machine_id", std::fs::read_to_string("/etc/machine-id").ok()),
        ]
    }
}

#[cfg(target_os = "windows")]
mod platform {
    pub const SOURCE: &str = "Win32_ComputerSystemProduct.UUID, HKLM\\SOFTWARE\\Microsoft\\Cryptography\\MachineGuid";
    fn run(cmd: &str, args: &[&str]) -> Option<String> {
        let out = std::process::Command::new(cmd).args(args).output().ok()?;
        out.status.success().then(|| String::from_utf8_lossy(&out.stdout).to_string())
    }
    pub fn read() -> Vec<(&'static str, Option<String>)> {
        let uuid = run("powershell", &["-NoProfile", "-Command", "(Get-CimInstance Win32_ComputerSystemProduct).UUID"]);
        let guid = run("reg", &["query", r"HKLM\SOFTWARE\Microsoft\Cryptography", "/v", "MachineGuid"])
            .and_then(|o| o.split_whitespace().last().map(str::to_string));
        vec![("platform_uuid", uuid), ("machine_id", guid)]
    }
}

#[cfg(target_os = "macos")]
mod platform {
    pub const SOURCE: &str = "IOPlatformUUID (ioreg)";
    pub fn read() -> Vec<(&'static str, Option<String>)> {
        let out = std::process::Command::new("ioreg").args(["-rd1", "-c", "IOPlatformExpertDevice"]).output().ok();
        let uuid = out.and_then(|o| {
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .find(|l| l.contains("IOPlatformUUID"))
                .and_then(|l| l.split('"').nth(3).map(str::to_string))
        });
        vec![("platform_uuid", uuid)]
    }
}

#[cfg(not(any(target_os = "linux", target_os = "windows", target_os = "macos")))]
mod platform {
    pub const SOURCE: &str = "none on this platform";
    pub fn read() -> Vec<(&'static str, Option<String>)> {
        Vec::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(text: &str) -> HostFacts {
        HostFacts::parse(text, "test").unwrap()
    }

    #[test]
    fn serial_is_the_spec_hash_of_sorted_facts() {
        let f = facts("platform_uuid=4C4C4544-0042-3510-8052-B4C04F384E32\n");
        let e = f.explain("test").unwrap();
        assert_eq!(e.facts_text, "platform_uuid=4c4c4544-0042-3510-8052-b4c04f384e32\n");
        // Recompute independently: digest -> 95 bits -> 19 symbols + check.
        let mut h = Sha256::new();
        h.update(b"serial-number/v1\0platform_uuid=4c4c4544-0042-3510-8052-b4c04f384e32\n");
        let d = h.finalize();
        let mut bits = String::new();
        for byte in d.iter() {
            bits.push_str(&format!("{byte:08b}"));
        }
        let payload: String =
            (0..19).map(|i| crockford::symbol(u32::from_str_radix(&bits[i * 5..i * 5 + 5], 2).unwrap())).collect();
        assert_eq!(&e.serial_number.compact()[..19], payload);
        assert_eq!(e.serial_number.to_string().len(), 23);
        assert_eq!(e.serial_number.to_string().parse::<SerialNumber>().unwrap(), e.serial_number);
    }

    #[test]
    fn machine_id_only_counts_without_platform_uuid() {
        let both = facts("machine_id=abc123\nplatform_uuid=4c4c4544-0042-3510-8052-b4c04f384e32\n");
        let uuid_only = facts("platform_uuid=4c4c4544-0042-3510-8052-b4c04f384e32\n");
        assert_eq!(both.serial_number().unwrap(), uuid_only.serial_number().unwrap());
        let placeholder = facts("platform_uuid=03000200-0400-0500-0006-000700080009\nmachine_id=abc123\n");
        let machine = facts("machine_id=abc123\n");
        assert_eq!(placeholder.serial_number().unwrap(), machine.serial_number().unwrap());
    }

    #[test]
    fn network_style_facts_do_not_change_the_serial() {
        let a = facts("machine_id=abc123\n");
        let b = facts("machine_id=abc123\nmac_address=00:11:22:33:44:55\n");
        assert_eq!(a.serial_number().unwrap(), b.serial_number().unwrap());
    }

    #[test]
    fn no_usable_fact_is_a_clear_error() {
        let err =
            facts("platform_uuid=00000000-0000-0000-0000-000000000000\n").serial_number().unwrap_err().to_string();
        assert!(err.contains("placeholder"), "{err}");
        assert!(err.contains("facts file"), "{err}");
    }

    #[test]
    fn facts_file_errors_name_the_line() {
        let err = HostFacts::parse("platform_uuid\n", "f.txt").unwrap_err().to_string();
        assert!(err.contains("line 1"), "{err}");
        let err = HostFacts::parse("a=1\na=2\n", "f.txt").unwrap_err().to_string();
        assert!(err.contains("twice"), "{err}");
        // CRLF facts files read the same.
        assert_eq!(
            HostFacts::parse("machine_id=x\r\n", "f").unwrap(),
            HostFacts::parse("machine_id=x\n", "f").unwrap()
        );
    }

    #[test]
    fn serial_parse_rejects_mistypes() {
        let s = facts("machine_id=abc\n").serial_number().unwrap();
        let mut t = s.compact().to_string();
        let c = if t.starts_with('A') { "B" } else { "A" };
        t.replace_range(0..1, c);
        assert!(t.parse::<SerialNumber>().unwrap_err().to_string().contains("check character"));
    }
}

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
    // Windows writes MachineGuid with hyphens: an all-zero one is a placeholder too.
    if v.is_empty() || v == "uninitialized" || v.chars().filter(|c| *c != '-').all(|c| c == '0') {
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

/// The system UUID from raw SMBIOS data as Windows' `GetSystemFirmwareTable('RSMB')`
/// returns it (an 8-byte header: calling method, major, minor, DMI revision, length;
/// then the structure table). The UUID is structure type 1's 16 bytes at offset 8;
/// from SMBIOS 2.6 its first three fields are little-endian, as Windows and Linux
/// (`product_uuid`) both print it. `None` when there is no type-1 structure.
pub fn smbios_uuid(raw: &[u8]) -> Option<String> {
    let (major, minor) = (*raw.get(1)?, *raw.get(2)?);
    let len = u32::from_le_bytes(raw.get(4..8)?.try_into().ok()?) as usize;
    let table = raw.get(8..8usize.checked_add(len)?)?;
    let mut at = 0;
    while at + 4 <= table.len() {
        let (kind, size) = (table[at], table[at + 1] as usize);
        if size < 4 {
            return None;
        }
        if kind == 1 && size >= 0x18 {
            let u = table.get(at + 8..at + 24)?;
            let le = (major, minor) >= (2, 6);
            let (a, b, c) = if le {
                (
                    u32::from_le_bytes(u[0..4].try_into().ok()?),
                    u16::from_le_bytes(u[4..6].try_into().ok()?),
                    u16::from_le_bytes(u[6..8].try_into().ok()?),
                )
            } else {
                (
                    u32::from_be_bytes(u[0..4].try_into().ok()?),
                    u16::from_be_bytes(u[4..6].try_into().ok()?),
                    u16::from_be_bytes(u[6..8].try_into().ok()?),
                )
            };
            let rest: String = u[8..].iter().map(|b| format!("{b:02x}")).collect();
            return Some(format!("{a:08x}-{b:04x}-{c:04x}-{}-{}", &rest[..4], &rest[4..]));
        }
        if kind == 127 {
            return None;
        }
        // The formatted area, then its strings, ended by two NULs.
        let mut end = at + size;
        while end + 1 < table.len() && !(table[end] == 0 && table[end + 1] == 0) {
            end += 1;
        }
        at = end + 2;
    }
    None
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
    //! Read natively, with no child process: the SMBIOS system UUID from the
    //! firmware table (what `Win32_ComputerSystemProduct.UUID` shows) and
    //! MachineGuid from the registry's 64-bit view (a 32-bit view would read
    //! another key under WOW64).
    use crate::winpath::wide_text;
    use windows_sys::Win32::System::Registry::{
        RegGetValueW, HKEY_LOCAL_MACHINE, RRF_RT_REG_SZ, RRF_SUBKEY_WOW6464KEY,
    };
    use windows_sys::Win32::System::SystemInformation::{GetSystemFirmwareTable, RSMB};

    pub const SOURCE: &str =
        "SMBIOS system UUID (firmware table RSMB), HKLM\\SOFTWARE\\Microsoft\\Cryptography\\MachineGuid";

    fn machine_guid() -> Option<String> {
        let (key, value) = (wide_text(r"SOFTWARE\Microsoft\Cryptography"), wide_text("MachineGuid"));
        let mut buf = [0u16; 128];
        let mut bytes = (buf.len() * 2) as u32;
        // SAFETY: the strings are NUL-terminated; `buf` holds `bytes` bytes.
        let rc = unsafe {
            RegGetValueW(
                HKEY_LOCAL_MACHINE,
                key.as_ptr(),
                value.as_ptr(),
                RRF_RT_REG_SZ | RRF_SUBKEY_WOW6464KEY,
                std::ptr::null_mut(),
                buf.as_mut_ptr().cast(),
                &mut bytes,
            )
        };
        if rc != 0 {
            return None;
        }
        let len = (bytes as usize / 2).min(buf.len());
        let text = String::from_utf16_lossy(&buf[..len]);
        Some(text.trim_end_matches('\0').to_string())
    }

    fn smbios() -> Option<Vec<u8>> {
        // SAFETY: a null buffer of size 0 asks for the size; then the buffer holds it.
        let size = unsafe { GetSystemFirmwareTable(RSMB, 0, std::ptr::null_mut(), 0) };
        if size == 0 {
            return None;
        }
        let mut buf = vec![0u8; size as usize];
        let got = unsafe { GetSystemFirmwareTable(RSMB, 0, buf.as_mut_ptr(), size) };
        (got == size).then_some(buf)
    }

    pub fn read() -> Vec<(&'static str, Option<String>)> {
        let uuid = smbios().and_then(|raw| super::smbios_uuid(&raw));
        vec![("platform_uuid", uuid), ("machine_id", machine_guid())]
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

    /// Raw SMBIOS data as Windows returns it: a BIOS structure (type 0, one
    /// string), then the system structure (type 1) with its UUID, then the end.
    fn smbios(major: u8, minor: u8, uuid: [u8; 16]) -> Vec<u8> {
        let mut table = vec![0u8, 0x18, 0, 0];
        table.extend([0u8; 0x14]);
        table.extend(b"Vendor\0\0");
        let mut system = vec![1u8, 0x1b, 1, 0, 1, 2, 3, 4];
        system.extend(uuid);
        system.extend([6u8, 0, 0]);
        table.extend(system);
        table.extend(b"Maker\0Model\0\0");
        table.extend([127u8, 4, 2, 0, 0, 0]);
        let mut raw = vec![0u8, major, minor, 0];
        raw.extend((table.len() as u32).to_le_bytes());
        raw.extend(table);
        raw
    }

    #[test]
    fn the_smbios_system_uuid_is_read_as_windows_and_linux_print_it() {
        let bytes = [0x44, 0x45, 0x4c, 0x4c, 0x42, 0x00, 0x10, 0x35, 0x80, 0x52, 0xb4, 0xc0, 0x4f, 0x38, 0x4e, 0x32];
        assert_eq!(smbios_uuid(&smbios(3, 4, bytes)).as_deref(), Some("4c4c4544-0042-3510-8052-b4c04f384e32"));
        assert_eq!(smbios_uuid(&smbios(2, 4, bytes)).as_deref(), Some("44454c4c-4200-1035-8052-b4c04f384e32"));
        // Placeholders are read as they are; the facts' own rule refuses them.
        let zero = smbios_uuid(&smbios(3, 0, [0; 16])).unwrap();
        assert!(usable_uuid(&zero).is_err());
        assert_eq!(smbios_uuid(&[0, 3, 0, 0, 200, 0, 0, 0, 1]), None, "a table past the end is refused");
        assert_eq!(smbios_uuid(&[]), None);
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

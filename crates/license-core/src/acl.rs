//! Windows: who may open the files the core keeps. The license, its backups, the
//! state folder (keys, clock record, outbox, history) and the configuration may be
//! read and written only by Administrators and SYSTEM: a DACL that inherits nothing
//! from the folder above. A file that is replaced keeps the DACL it had (as a Unix
//! file keeps its mode), so the platform's own grants on its license survive.
//!
//! Everything here speaks SDDL, the system's own text form of a security
//! descriptor, so what is set and what is read back can be compared as text.

use crate::winpath::{wide, wide_text};
use std::io;
use std::path::Path;
use windows_sys::Win32::Foundation::LocalFree;
use windows_sys::Win32::Security::Authorization::{
    ConvertSecurityDescriptorToStringSecurityDescriptorW, ConvertStringSecurityDescriptorToSecurityDescriptorW,
    SDDL_REVISION_1,
};
use windows_sys::Win32::Security::{
    GetFileSecurityW, SetFileSecurityW, DACL_SECURITY_INFORMATION, PROTECTED_DACL_SECURITY_INFORMATION,
    PSECURITY_DESCRIPTOR,
};

/// A folder: full control for SYSTEM and Administrators, inherited by what is
/// created in it; nothing from above (`P`).
pub const PRIVATE_FOLDER: &str = "D:P(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)";
/// A file: full control for SYSTEM and Administrators only.
pub const PRIVATE_FILE: &str = "D:P(A;;FA;;;SY)(A;;FA;;;BA)";

/// Sets the DACL of `path` from SDDL.
pub fn set_dacl(path: &Path, sddl: &str) -> io::Result<()> {
    let text = wide_text(sddl);
    let mut sd: PSECURITY_DESCRIPTOR = std::ptr::null_mut();
    // SAFETY: `text` is NUL-terminated; the descriptor the call allocates is freed
    // with LocalFree below, after SetFileSecurityW has read it.
    unsafe {
        if ConvertStringSecurityDescriptorToSecurityDescriptorW(
            text.as_ptr(),
            SDDL_REVISION_1,
            &mut sd,
            std::ptr::null_mut(),
        ) == 0
        {
            return Err(io::Error::last_os_error());
        }
        // A DACL that inherits nothing says so (`D:P`); one that inherits keeps doing so.
        let protect = if sddl.starts_with("D:P") { PROTECTED_DACL_SECURITY_INFORMATION } else { 0 };
        let set = SetFileSecurityW(wide(path).as_ptr(), DACL_SECURITY_INFORMATION | protect, sd);
        let e = io::Error::last_os_error();
        LocalFree(sd);
        if set == 0 {
            return Err(e);
        }
    }
    Ok(())
}

/// The DACL of `path` as SDDL (`D:…`).
pub fn dacl(path: &Path) -> io::Result<String> {
    let name = wide(path);
    let mut needed = 0u32;
    // SAFETY: the first call only asks for the size; the buffer of that size
    // outlives the second; the string the conversion allocates is freed with
    // LocalFree after it is copied.
    unsafe {
        GetFileSecurityW(name.as_ptr(), DACL_SECURITY_INFORMATION, std::ptr::null_mut(), 0, &mut needed);
        if needed == 0 {
            return Err(io::Error::last_os_error());
        }
        let mut buf = vec![0u8; needed as usize];
        if GetFileSecurityW(name.as_ptr(), DACL_SECURITY_INFORMATION, buf.as_mut_ptr().cast(), needed, &mut needed) == 0
        {
            return Err(io::Error::last_os_error());
        }
        let mut text: *mut u16 = std::ptr::null_mut();
        let mut len = 0u32;
        if ConvertSecurityDescriptorToStringSecurityDescriptorW(
            buf.as_mut_ptr().cast(),
            SDDL_REVISION_1,
            DACL_SECURITY_INFORMATION,
            &mut text,
            &mut len,
        ) == 0
        {
            return Err(io::Error::last_os_error());
        }
        let sddl = String::from_utf16_lossy(std::slice::from_raw_parts(text, len as usize));
        LocalFree(text.cast());
        Ok(sddl.trim_end_matches('\0').to_string())
    }
}

/// Trustees that stand for users other than the administrators: any grant of
/// change to them makes a folder unsafe for keys and records.
const OTHERS: &[&str] = &["WD", "AU", "BU", "IU", "BG", "AN", "NU", "S-1-1-0", "S-1-5-11", "S-1-5-32-545"];

/// Rights (in SDDL) that let a trustee change, replace or delete what a folder holds.
fn may_change(rights: &str) -> bool {
    if let Some(hex) = rights.strip_prefix("0x").or_else(|| rights.strip_prefix("0X")) {
        // FILE_WRITE_DATA|FILE_APPEND_DATA|DELETE|WRITE_DAC|WRITE_OWNER|GENERIC_WRITE|GENERIC_ALL
        const CHANGE: u32 = 0x2 | 0x4 | 0x1_0000 | 0x4_0000 | 0x8_0000 | 0x4000_0000 | 0x1000_0000;
        return u32::from_str_radix(hex, 16).is_ok_and(|m| m & CHANGE != 0);
    }
    rights.as_bytes().chunks(2).any(|r| matches!(r, b"FA" | b"FW" | b"GA" | b"GW" | b"WD" | b"WO" | b"SD" | b"DC"))
}

/// The allow entries of `sddl` for users other than the administrators, as
/// `(trustee, rights)`.
fn grants_to_others(sddl: &str) -> impl Iterator<Item = (String, String)> + '_ {
    sddl.split('(').skip(1).filter_map(|ace| ace.split(')').next()).filter_map(|ace| {
        let f: Vec<&str> = ace.split(';').collect();
        let (kind, rights, trustee) = (*f.first()?, *f.get(2)?, *f.get(5)?);
        (kind == "A" && OTHERS.contains(&trustee)).then(|| (trustee.to_string(), rights.to_string()))
    })
}

/// The first allow entry of `sddl` that lets someone other than the
/// administrators change things, as `(trustee, rights)`.
pub fn others_may_change(sddl: &str) -> Option<(String, String)> {
    grants_to_others(sddl).find(|(_, rights)| may_change(rights))
}

/// The first allow entry of `sddl` that gives someone other than the
/// administrators any access at all: what the Windows tests read back.
#[cfg(test)]
pub fn others_may_open(sddl: &str) -> Option<(String, String)> {
    grants_to_others(sddl).next()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The SDDL reading that `check_owned` relies on, on any Windows.
    #[test]
    fn grants_of_change_to_others_are_found() {
        assert_eq!(others_may_change(PRIVATE_FOLDER), None);
        assert_eq!(others_may_change("D:P(A;OICI;FA;;;SY)(A;OICI;FR;;;BU)"), None, "reading is not changing");
        assert_eq!(
            others_may_change("D:(A;OICI;FA;;;SY)(A;OICI;0x1301bf;;;WD)"),
            Some(("WD".into(), "0x1301bf".into()))
        );
        assert_eq!(others_may_change("D:(A;;FRFW;;;BU)"), Some(("BU".into(), "FRFW".into())));
        assert_eq!(others_may_change("D:(D;;FA;;;WD)(A;;FA;;;BA)"), None, "a deny entry grants nothing");
        assert_eq!(others_may_open(PRIVATE_FILE), None);
        assert_eq!(others_may_open("D:P(A;OICI;FA;;;SY)(A;OICI;FR;;;BU)"), Some(("BU".into(), "FR".into())));
    }
}

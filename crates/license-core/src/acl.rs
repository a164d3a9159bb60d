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
    GetFileSecurityW, SetFileSecurityW, DACL_SECURITY_INFORMATION, OBJECT_SECURITY_INFORMATION,
    OWNER_SECURITY_INFORMATION, PROTECTED_DACL_SECURITY_INFORMATION, PSECURITY_DESCRIPTOR,
};

/// A folder: full control for SYSTEM and Administrators, inherited by what is
/// created in it; nothing from above (`P`).
pub const PRIVATE_FOLDER: &str = "D:P(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)";
/// A file: full control for SYSTEM and Administrators only.
pub const PRIVATE_FILE: &str = "D:P(A;;FA;;;SY)(A;;FA;;;BA)";

/// Sets the DACL of `path` from SDDL.
pub fn set_dacl(path: &Path, sddl: &str) -> io::Result<()> {
    // A DACL that inherits nothing says so (`D:P`); one that inherits keeps doing so.
    let protect = if sddl.starts_with("D:P") { PROTECTED_DACL_SECURITY_INFORMATION } else { 0 };
    apply(path, sddl, DACL_SECURITY_INFORMATION | protect)
}

/// Sets the parts `what` of `path`'s security descriptor from SDDL.
fn apply(path: &Path, sddl: &str, what: OBJECT_SECURITY_INFORMATION) -> io::Result<()> {
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
        let set = SetFileSecurityW(wide(path).as_ptr(), what, sd);
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
    descriptor(path, DACL_SECURITY_INFORMATION)
}

/// The parts `what` of `path`'s security descriptor, as SDDL.
fn descriptor(path: &Path, what: OBJECT_SECURITY_INFORMATION) -> io::Result<String> {
    let name = wide(path);
    let mut needed = 0u32;
    // SAFETY: the first call only asks for the size; the buffer of that size
    // outlives the second; the string the conversion allocates is freed with
    // LocalFree after it is copied.
    unsafe {
        GetFileSecurityW(name.as_ptr(), what, std::ptr::null_mut(), 0, &mut needed);
        if needed == 0 {
            return Err(io::Error::last_os_error());
        }
        let mut buf = vec![0u8; needed as usize];
        if GetFileSecurityW(name.as_ptr(), what, buf.as_mut_ptr().cast(), needed, &mut needed) == 0 {
            return Err(io::Error::last_os_error());
        }
        let mut text: *mut u16 = std::ptr::null_mut();
        let mut len = 0u32;
        if ConvertSecurityDescriptorToStringSecurityDescriptorW(
            buf.as_mut_ptr().cast(),
            SDDL_REVISION_1,
            what,
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

/// The allow entries of `sddl` for users other than the administrators, as
/// `(trustee, rights)`.
fn grants_to_others(sddl: &str) -> impl Iterator<Item = (String, String)> + '_ {
    crate::sddl::allowed(sddl)
        .filter(|(trustee, _)| OTHERS.contains(trustee))
        .map(|(trustee, rights)| (trustee.to_string(), rights.to_string()))
}

/// The first allow entry of `sddl` that lets someone other than the
/// administrators change things, as `(trustee, rights)`.
pub fn others_may_change(sddl: &str) -> Option<(String, String)> {
    grants_to_others(sddl).find(|(_, rights)| crate::sddl::may_change(rights))
}

/// The first allow entry of `sddl` that gives someone other than the
/// administrators any access at all: what the Windows tests read back.
#[cfg(test)]
pub fn others_may_open(sddl: &str) -> Option<(String, String)> {
    grants_to_others(sddl).next()
}

/// The owner and DACL of `path` as SDDL (`O:…D:…`).
pub fn owner_and_dacl(path: &Path) -> io::Result<String> {
    descriptor(path, OWNER_SECURITY_INFORMATION | DACL_SECURITY_INFORMATION)
}

/// Creates `dir` if needed and gives it `sddl`'s owner and protected DACL (run by
/// the installers, elevated, for `%ProgramData%\License Manager`).
pub fn make_machine_folder(dir: &Path, sddl: &str) -> io::Result<()> {
    std::fs::create_dir_all(dir)?;
    apply(dir, sddl, OWNER_SECURITY_INFORMATION | DACL_SECURITY_INFORMATION | PROTECTED_DACL_SECURITY_INFORMATION)
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

/// The folder the installers make, read back through the system's own API: owned
/// by Administrators, with no grant of change to anyone else. Wine keeps a DACL
/// only as Unix mode bits and every file is its user's, so under Wine what can be
/// proven is that nobody but SYSTEM, the administrators and that user may change
/// it; the owner rule is proven by the SDDL tests (`sddl.rs`) on every host.
#[cfg(test)]
mod machine_folder_tests {
    #[test]
    fn the_machine_folder_reads_back_as_the_administrators() {
        let d = tempfile::tempdir().unwrap();
        let dir = d.path().join("License Manager");
        super::make_machine_folder(&dir, crate::sddl::MACHINE_FOLDER).unwrap();
        let sddl = super::owner_and_dacl(&dir).unwrap();
        if std::env::var_os("WINEPREFIX").is_none() {
            assert_eq!(crate::sddl::machine_wide_problem(&sddl), None, "{sddl}");
            return;
        }
        let owner = crate::sddl::owner(&sddl).unwrap_or_default();
        let others = crate::sddl::allowed(&sddl)
            .filter(|(who, rights)| !["SY", "BA", owner].contains(who) && crate::sddl::may_change(rights))
            .count();
        assert_eq!(others, 0, "under Wine: {sddl}");
    }
}

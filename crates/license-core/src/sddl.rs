//! Decisions over SDDL, the system's text form of a Windows security descriptor:
//! who owns a folder and who may change what it holds. Plain text, so the rules are
//! tested on every host; `acl` reads and writes the descriptors on Windows.

/// The trustees that administer a machine: SYSTEM and the Administrators group, by
/// their SDDL aliases and their SIDs.
const ADMINISTRATORS: &[&str] = &["SY", "BA", "S-1-5-18", "S-1-5-32-544"];

/// The owner of `sddl` (`O:BA…`), if it names one.
pub fn owner(sddl: &str) -> Option<&str> {
    let rest = sddl.strip_prefix("O:")?;
    let end = ["G:", "D:", "S:"].iter().filter_map(|t| rest.find(t)).min().unwrap_or(rest.len());
    Some(&rest[..end])
}

/// Rights (in SDDL) that let a trustee change, replace or delete what a folder holds.
pub fn may_change(rights: &str) -> bool {
    if let Some(hex) = rights.strip_prefix("0x").or_else(|| rights.strip_prefix("0X")) {
        // FILE_WRITE_DATA/ADD_FILE | FILE_APPEND_DATA/ADD_SUBDIRECTORY | FILE_WRITE_EA |
        // FILE_DELETE_CHILD | FILE_WRITE_ATTRIBUTES | DELETE | WRITE_DAC | WRITE_OWNER |
        // GENERIC_ALL | GENERIC_WRITE
        const CHANGE: u32 =
            0x2 | 0x4 | 0x10 | 0x40 | 0x100 | 0x1_0000 | 0x4_0000 | 0x8_0000 | 0x1000_0000 | 0x4000_0000;
        return u32::from_str_radix(hex, 16).is_ok_and(|m| m & CHANGE != 0);
    }
    rights
        .as_bytes()
        .chunks(2)
        .any(|r| matches!(r, b"FA" | b"FW" | b"GA" | b"GW" | b"WD" | b"WO" | b"SD" | b"DC" | b"CC" | b"WP"))
}

/// The allow entries of `sddl`'s DACL, as `(trustee, rights)`.
pub fn allowed(sddl: &str) -> impl Iterator<Item = (&str, &str)> {
    let dacl = sddl.find("D:").map_or("", |at| &sddl[at..]);
    let dacl = dacl.find("S:").map_or(dacl, |end| &dacl[..end]);
    dacl.split('(').skip(1).filter_map(|ace| ace.split(')').next()).filter_map(|ace| {
        let f: Vec<&str> = ace.split(';').collect();
        let (kind, rights, trustee) = (*f.first()?, *f.get(2)?, *f.get(5)?);
        matches!(kind, "A" | "OA").then_some((trustee, rights))
    })
}

/// Why a machine-wide folder or file (the configuration a scheduled task runs as
/// SYSTEM, its state) is not safe, if it is not: it must be owned by
/// Administrators or SYSTEM, and nobody else may change it. `None`: safe.
pub fn machine_wide_problem(sddl: &str) -> Option<String> {
    match owner(sddl) {
        Some(o) if ADMINISTRATORS.contains(&o) => {}
        Some(o) => return Some(format!("it is owned by {o}, not by Administrators or SYSTEM")),
        None => return Some("its owner could not be read".into()),
    }
    allowed(sddl)
        .find(|(trustee, rights)| !ADMINISTRATORS.contains(trustee) && may_change(rights))
        .map(|(trustee, rights)| format!("its ACL lets {trustee} change it ({rights})"))
}

/// The protected DACL the installers give `%ProgramData%\License Manager`: full
/// control for SYSTEM and Administrators, read and list for Users, inherited by
/// what is created in it, nothing from the folder above.
pub const MACHINE_FOLDER: &str = "O:BAD:P(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)(A;OICI;0x1200a9;;;BU)";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_machine_wide_folder_is_the_administrators_alone() {
        assert_eq!(machine_wide_problem(MACHINE_FOLDER), None, "users may read it");
        assert_eq!(machine_wide_problem("O:SYD:P(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)"), None);
        // ProgramData's own default: users may add files and folders.
        let program_data =
            "O:SYG:SYD:P(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)(A;OICI;0x1200a9;;;BU)(A;CI;0x116;;;BU)(A;OICIIO;GA;;;CO)";
        assert_eq!(machine_wide_problem(program_data).as_deref(), Some("its ACL lets BU change it (0x116)"));
        let planted = "O:S-1-5-21-1-2-3-1001D:P(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)";
        assert_eq!(
            machine_wide_problem(planted).as_deref(),
            Some("it is owned by S-1-5-21-1-2-3-1001, not by Administrators or SYSTEM"),
            "a standard user's file"
        );
        let one_user = "O:BAD:(A;;FA;;;BA)(A;;FRFW;;;S-1-5-21-1-2-3-1001)";
        assert!(machine_wide_problem(one_user).unwrap().contains("S-1-5-21-1-2-3-1001"), "anyone else, by SID too");
        assert_eq!(machine_wide_problem("D:(A;;FA;;;BA)").as_deref(), Some("its owner could not be read"));
        assert_eq!(machine_wide_problem("O:BAD:(D;;FA;;;WD)(A;;FA;;;BA)"), None, "a deny entry grants nothing");
        assert_eq!(owner("O:BAG:SYD:"), Some("BA"));
    }
}

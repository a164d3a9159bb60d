//! Windows: a path as the wide, NUL-terminated string the Win32 calls take, in
//! its verbatim form (`\\?\C:\…`, `\\?\UNC\server\share\…`) when it is absolute,
//! so a path longer than MAX_PATH (260) works in our own calls as it does in
//! std's. Drive letters and UNC paths are both absolute.

use std::os::windows::ffi::OsStrExt;
use std::path::Path;

/// Text as a NUL-terminated wide string (a registry name, SDDL, a credential name).
pub fn wide_text(text: &str) -> Vec<u16> {
    text.encode_utf16().chain(std::iter::once(0)).collect()
}

/// `path` as our Win32 calls take it: verbatim when absolute (see above).
pub fn wide(path: &Path) -> Vec<u16> {
    let units: Vec<u16> = path.as_os_str().encode_wide().collect();
    let verbatim: Vec<u16> = r"\\?\".encode_utf16().collect();
    let mut out = if !path.is_absolute() || units.starts_with(&verbatim) {
        units
    } else {
        // A verbatim path is taken as written: separators must be backslashes. The
        // path's own units are kept (no lossy text in between).
        let slash = |c: u16| if c == u16::from(b'/') { u16::from(b'\\') } else { c };
        let unc = units.len() >= 2 && units[..2].iter().all(|&c| slash(c) == u16::from(b'\\'));
        let (prefix, rest) = if unc { (r"\\?\UNC\", &units[2..]) } else { (r"\\?\", &units[..]) };
        prefix.encode_utf16().chain(rest.iter().map(|&c| slash(c))).collect()
    };
    out.push(0);
    out
}

#[cfg(test)]
mod tests {
    use super::wide;
    use std::path::Path;

    fn text(p: &str) -> String {
        let w = wide(Path::new(p));
        String::from_utf16(&w[..w.len() - 1]).unwrap()
    }

    #[test]
    fn absolute_paths_become_verbatim() {
        assert_eq!(text(r"C:\ProgramData\License Manager\state"), r"\\?\C:\ProgramData\License Manager\state");
        assert_eq!(text("D:/Platform/license.lic"), r"\\?\D:\Platform\license.lic");
        assert_eq!(text(r"\\fileserver\platform\license.lic"), r"\\?\UNC\fileserver\platform\license.lic");
        assert_eq!(text(r"\\?\C:\already"), r"\\?\C:\already");
        assert_eq!(text(r"state\lock"), r"state\lock", "a relative path stays as it is");
    }
}

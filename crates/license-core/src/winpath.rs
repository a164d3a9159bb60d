//! Windows: a path as the wide, NUL-terminated string the Win32 calls take, in
//! its verbatim form (`\\?\C:\…`, `\\?\UNC\server\share\…`) when it is absolute,
//! so a path longer than MAX_PATH (260) works in our own calls as it does in
//! std's. Drive letters and UNC paths are both absolute.

use std::os::windows::ffi::OsStrExt;
use std::path::Path;

pub fn wide(path: &Path) -> Vec<u16> {
    let text = path.as_os_str().to_string_lossy();
    let mut out: Vec<u16> = if !path.is_absolute() || text.starts_with(r"\\?\") {
        path.as_os_str().encode_wide().collect()
    } else {
        // A verbatim path is taken as written: separators must be backslashes.
        let plain = text.replace('/', "\\");
        match plain.strip_prefix(r"\\") {
            Some(unc) => format!(r"\\?\UNC\{unc}"),
            None => format!(r"\\?\{plain}"),
        }
        .encode_utf16()
        .collect()
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

//! The Windows system PATH, as the installers change it: one folder added or
//! removed, matched as a whole entry, never written from a failed or cut-short read.
//!
//! NSIS reads a registry value into a string of at most 1,024 characters: a longer
//! PATH read as empty, and an installer then wrote `PATH=<install folder>` alone,
//! losing the server's whole PATH. So both installers call `licensectl system-path`,
//! which reads the value whole through the registry API and writes it back only
//! when the read succeeded. The list logic here is plain text, tested on any host;
//! the registry part is Windows-only and tested under Wine.

/// `path` with `dir` as its last entry, exactly once; other entries keep their
/// order, and empty ones (`;;`, a trailing `;`) go.
pub fn with_entry(path: &str, dir: &str) -> String {
    let mut entries: Vec<&str> = entries(path).filter(|e| !same(e, dir)).collect();
    entries.push(dir);
    entries.join(";")
}

/// `path` without any entry that is `dir`. An entry that only starts like it
/// (`…\License Manager Tools` for `…\License Manager`) stays.
pub fn without_entry(path: &str, dir: &str) -> String {
    entries(path).filter(|e| !same(e, dir)).collect::<Vec<_>>().join(";")
}

fn entries(path: &str) -> impl Iterator<Item = &str> {
    path.split(';').filter(|e| !e.trim().is_empty())
}

/// One folder, as Windows compares them: case-insensitive, with or without a
/// trailing backslash or surrounding quotes.
fn same(entry: &str, dir: &str) -> bool {
    let norm = |s: &str| s.trim().trim_matches('"').trim_end_matches(['\\', '/']).to_lowercase();
    norm(entry) == norm(dir)
}

/// The system PATH in the registry (`HKLM\…\Session Manager\Environment`, value
/// `Path`, `REG_EXPAND_SZ`, unexpanded), read and written whole.
#[cfg(windows)]
pub mod registry {
    use crate::winpath::wide_text;
    use windows_sys::Win32::Foundation::ERROR_SUCCESS;
    use windows_sys::Win32::System::Registry::{
        RegGetValueW, RegSetKeyValueW, HKEY_LOCAL_MACHINE, REG_EXPAND_SZ, RRF_NOEXPAND, RRF_RT_REG_EXPAND_SZ,
        RRF_RT_REG_SZ,
    };

    const KEY: &str = r"SYSTEM\CurrentControlSet\Control\Session Manager\Environment";
    const VALUE: &str = "Path";

    /// The PATH value, unexpanded; an error when it cannot be read whole.
    pub fn read() -> std::io::Result<String> {
        let (key, value) = (wide_text(KEY), wide_text(VALUE));
        // One call: a null buffer asks for the size, a buffer of `*bytes` takes the value.
        let get = |buf: *mut u16, bytes: &mut u32| {
            let flags = RRF_RT_REG_SZ | RRF_RT_REG_EXPAND_SZ | RRF_NOEXPAND;
            // SAFETY: the names are NUL-terminated; `buf` is null or holds `*bytes` bytes.
            let e = unsafe {
                RegGetValueW(
                    HKEY_LOCAL_MACHINE,
                    key.as_ptr(),
                    value.as_ptr(),
                    flags,
                    std::ptr::null_mut(),
                    buf.cast(),
                    bytes,
                )
            };
            if e == ERROR_SUCCESS {
                Ok(())
            } else {
                Err(std::io::Error::from_raw_os_error(e as i32))
            }
        };
        let mut bytes = 0u32;
        get(std::ptr::null_mut(), &mut bytes)?;
        let mut buf = vec![0u16; (bytes as usize).div_ceil(2) + 1];
        let mut size = (buf.len() * 2) as u32;
        get(buf.as_mut_ptr(), &mut size)?;
        let len = buf.iter().position(|&c| c == 0).unwrap_or(buf.len());
        String::from_utf16(&buf[..len]).map_err(|_| std::io::Error::other("the PATH is not valid UTF-16"))
    }

    /// Writes the PATH value as `REG_EXPAND_SZ`, then tells running programs.
    pub fn write(path: &str) -> std::io::Result<()> {
        let (key, value, data) = (wide_text(KEY), wide_text(VALUE), wide_text(path));
        let size = u32::try_from(data.len() * 2).map_err(|_| std::io::Error::other("the PATH is too long"))?;
        // SAFETY: every buffer is NUL-terminated and `size` is `data`'s length in bytes.
        let e = unsafe {
            RegSetKeyValueW(HKEY_LOCAL_MACHINE, key.as_ptr(), value.as_ptr(), REG_EXPAND_SZ, data.as_ptr().cast(), size)
        };
        if e != ERROR_SUCCESS {
            return Err(std::io::Error::from_raw_os_error(e as i32));
        }
        broadcast();
        Ok(())
    }

    /// WM_SETTINGCHANGE "Environment", as setx does: new programs see the PATH.
    fn broadcast() {
        use windows_sys::Win32::UI::WindowsAndMessaging::{
            SendMessageTimeoutW, HWND_BROADCAST, SMTO_ABORTIFHUNG, WM_SETTINGCHANGE,
        };
        let what = wide_text("Environment");
        let mut result = 0usize;
        // SAFETY: `what` is NUL-terminated and outlives the call, which waits at most 2 s.
        unsafe {
            SendMessageTimeoutW(
                HWND_BROADCAST,
                WM_SETTINGCHANGE,
                0,
                what.as_ptr() as isize,
                SMTO_ABORTIFHUNG,
                2000,
                &mut result,
            )
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DIR: &str = r"C:\Program Files\License Manager";

    #[test]
    fn an_entry_is_added_once_and_removed_whole() {
        let long: String = (0..800).map(|i| format!(r"C:\Tools\t{i:04}")).collect::<Vec<_>>().join(";");
        assert!(long.len() > 9000);
        let added = with_entry(&long, DIR);
        assert_eq!(added, format!("{long};{DIR}"), "kept whole, the folder last");
        assert_eq!(
            with_entry(&added, &format!("{}\\", DIR.to_uppercase())),
            format!("{long};{}\\", DIR.to_uppercase())
        );
        assert_eq!(without_entry(&added, DIR), long, "removing gives back what was there");
        let tools = format!(r"{DIR} Tools");
        let path = format!(r"C:\Windows;{tools};{DIR}\;;");
        assert_eq!(without_entry(&path, DIR), format!(r"C:\Windows;{tools}"), "a longer name is another folder");
        assert_eq!(with_entry("", DIR), DIR);
        assert_eq!(without_entry(DIR, DIR), "");
    }
}

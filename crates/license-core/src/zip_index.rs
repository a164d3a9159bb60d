//! The ZIP archive's own index, read before any ZIP library sees the file: the end
//! record's member count and central-directory size, and every member name.
//!
//! Why by hand: the `zip` crate keeps members in a map by name, so an archive with
//! the same name 5,001 times reads as one member (and the last one wins), and it
//! allocates for every central-directory entry the end record claims before anything
//! can refuse a million of them. This reads only fixed-size fields, bounds every
//! count before it loops, and allocates nothing in proportion to the claims.

/// The end-of-central-directory record: 22 bytes plus a comment of at most 64 KiB.
const EOCD_SIG: u32 = 0x0605_4b50;
const EOCD_LEN: usize = 22;
const CDH_SIG: u32 = 0x0201_4b50;
const CDH_LEN: usize = 46;

/// Why an archive's index is refused, in words for the caller to wrap, and whether
/// the archive looks cut short (its end, or the index the end points to, is
/// missing) rather than built in a way a transfer file never is.
#[derive(Debug, PartialEq, Eq)]
pub struct IndexError {
    pub cut_short: bool,
    pub reason: String,
}

fn cut_short(reason: impl Into<String>) -> IndexError {
    IndexError { cut_short: true, reason: reason.into() }
}

fn not_ours(reason: impl Into<String>) -> IndexError {
    IndexError { cut_short: false, reason: reason.into() }
}

/// What the index says, once it is known to be sound.
#[derive(Debug, PartialEq, Eq)]
pub struct ZipIndex {
    pub names: Vec<Vec<u8>>,
}

fn u16_at(b: &[u8], at: usize) -> usize {
    u16::from_le_bytes([b[at], b[at + 1]]) as usize
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

/// Reads the index of `bytes`, refusing more than `max_members` members, a central
/// directory larger than `max_members × max_entry` bytes, ZIP64 and split archives
/// (a transfer file never needs either), and any name that appears twice.
pub fn read(bytes: &[u8], max_members: usize, max_entry: usize) -> Result<ZipIndex, IndexError> {
    let eocd =
        find_eocd(bytes).ok_or_else(|| cut_short("it is not a ZIP archive, or it is truncated (no end record)"))?;
    let e = &bytes[eocd..];
    let (disk, cd_disk) = (u16_at(e, 4), u16_at(e, 6));
    let (on_disk, total) = (u16_at(e, 8), u16_at(e, 10));
    let (cd_size, cd_offset) = (u32_at(e, 12), u32_at(e, 16));
    if disk != 0 || cd_disk != 0 || on_disk != total {
        return Err(not_ours("it is a split (multi-part) ZIP archive; a transfer file is one file"));
    }
    if total == 0xFFFF || cd_size == u32::MAX || cd_offset == u32::MAX {
        return Err(not_ours("it uses ZIP64, which a transfer file never needs (at most 64 MiB)"));
    }
    if total > max_members {
        return Err(not_ours(format!("it has {total} members; at most {max_members} are allowed")));
    }
    let (cd_size, cd_offset) = (cd_size as usize, cd_offset as usize);
    if cd_size > max_members * max_entry {
        return Err(not_ours(format!("its index is {cd_size} bytes, larger than {max_members} members need")));
    }
    if cd_offset.checked_add(cd_size).is_none_or(|end| end > eocd) {
        return Err(cut_short("its index points outside the file: it is damaged or truncated"));
    }
    let cd = &bytes[cd_offset..cd_offset + cd_size];
    let mut names: Vec<Vec<u8>> = Vec::with_capacity(total);
    let mut at = 0;
    for i in 0..total {
        if at + CDH_LEN > cd.len() || u32_at(cd, at) != CDH_SIG {
            return Err(cut_short(format!("its index ends before member {} of the {total} it declares", i + 1)));
        }
        let name_len = u16_at(cd, at + 28);
        let rest = name_len + u16_at(cd, at + 30) + u16_at(cd, at + 32);
        let end = at + CDH_LEN + rest;
        if end > cd.len() {
            return Err(cut_short(format!("its index ends inside member {}", i + 1)));
        }
        let name = cd[at + CDH_LEN..at + CDH_LEN + name_len].to_vec();
        if names.contains(&name) {
            let shown: String = String::from_utf8_lossy(&name).chars().filter(|c| !c.is_control()).take(120).collect();
            return Err(not_ours(format!("member '{shown}' appears twice")));
        }
        names.push(name);
        at = end;
    }
    if at != cd.len() {
        return Err(not_ours(format!("its index holds more than the {total} members its end record declares")));
    }
    Ok(ZipIndex { names })
}

/// The end record: searched backwards over the last 22 + 65,535 bytes; the one
/// whose comment ends exactly at the end of the file.
fn find_eocd(bytes: &[u8]) -> Option<usize> {
    let lowest = bytes.len().saturating_sub(EOCD_LEN + 0xFFFF);
    (lowest..=bytes.len().checked_sub(EOCD_LEN)?)
        .rev()
        .find(|&i| u32_at(bytes, i) == EOCD_SIG && i + EOCD_LEN + u16_at(bytes, i + 20) == bytes.len())
}

/// Tests: renames a member in place (same length, in both of its headers), as a
/// hostile tool would to make a name appear twice, which ZIP writers refuse to do.
#[cfg(test)]
pub(crate) fn renamed(bytes: &[u8], from: &str, to: &str) -> Vec<u8> {
    assert_eq!(from.len(), to.len());
    let mut out = bytes.to_vec();
    let mut i = 0;
    while let Some(p) = out[i..].windows(from.len()).position(|w| w == from.as_bytes()) {
        out[i + p..i + p + from.len()].copy_from_slice(to.as_bytes());
        i += p + from.len();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Cursor, Write};

    fn archive(names: &[&str]) -> Vec<u8> {
        let mut z = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let o = zip::write::SimpleFileOptions::default();
        for n in names {
            z.start_file(*n, o).unwrap();
            z.write_all(b"x").unwrap();
        }
        z.finish().unwrap().into_inner()
    }

    #[test]
    fn names_are_read_in_order() {
        let idx = read(&archive(&["a", "b/c"]), 10, 512).unwrap();
        assert_eq!(idx.names, vec![b"a".to_vec(), b"b/c".to_vec()]);
    }

    #[test]
    fn a_name_twice_is_refused_although_the_zip_crate_folds_it() {
        let bytes = renamed(&archive(&["transfer.json", "transfer.jsoX"]), "transfer.jsoX", "transfer.json");
        // The library sees one member named so: the reason for reading the index here.
        assert_eq!(zip::ZipArchive::new(Cursor::new(bytes.clone())).unwrap().len(), 1);
        assert!(read(&bytes, 10, 512).unwrap_err().reason.contains("'transfer.json' appears twice"));
    }

    #[test]
    fn counts_sizes_and_offsets_from_the_end_record_are_bounded_first() {
        let bytes = archive(&["a", "b"]);
        let eocd = find_eocd(&bytes).unwrap();
        let patch = |at: usize, v: &[u8]| {
            let mut b = bytes.clone();
            b[eocd + at..eocd + at + v.len()].copy_from_slice(v);
            b
        };
        assert!(read(&bytes, 1, 512).unwrap_err().reason.contains("at most 1 are allowed"));
        assert!(read(&patch(8, &[0xFF, 0xFF, 0xFF, 0xFF]), 10, 512).unwrap_err().reason.contains("ZIP64"));
        assert!(read(&patch(12, &0x00FF_FFFFu32.to_le_bytes()), 10, 512).unwrap_err().reason.contains("larger than"));
        assert!(read(&patch(16, &0x00FF_FFFFu32.to_le_bytes()), 10, 512)
            .unwrap_err()
            .reason
            .contains("outside the file"));
        assert!(read(&patch(8, &[3, 0, 3, 0]), 10, 512).unwrap_err().reason.contains("ends before member 3"));
        assert!(read(&patch(8, &[1, 0, 1, 0]), 10, 512).unwrap_err().reason.contains("more than the 1 members"));
        assert!(read(&patch(4, &[1, 0]), 10, 512).unwrap_err().reason.contains("split"));
        assert!(read(&bytes[..bytes.len() - 1], 10, 512).unwrap_err().reason.contains("no end record"));
        assert!(read(b"", 10, 512).unwrap_err().reason.contains("no end record"));
        // Cut short, or built as a transfer file never is: each says which.
        assert!(read(&bytes[..bytes.len() - 1], 10, 512).unwrap_err().cut_short);
        assert!(read(&patch(8, &[3, 0, 3, 0]), 10, 512).unwrap_err().cut_short);
        assert!(!read(&patch(4, &[1, 0]), 10, 512).unwrap_err().cut_short, "split");
        assert!(!read(&bytes, 1, 512).unwrap_err().cut_short, "too many members");
    }
}

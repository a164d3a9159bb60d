//! Histories that rotate instead of hitting a cap. When a history holds more than
//! its limit, its oldest entries move to a file of their own in `history/` beside
//! it, named `<history>.<time of the newest moved entry>.json`, and only then is the
//! live file cut. A rotated file is written once and never over another file.
//!
//! Why: a history is evidence for an auditor; dropping its oldest entries, or
//! setting a grown file aside as damaged, loses it. The live file stays small, so
//! each write costs the same however long the history is.
//!
//! Invariants:
//! - Nothing is lost between the two writes: a kill after the rotated file is
//!   written and before the live one is cut leaves entries in both, and a reader
//!   of the whole history takes each entry once.
//! - A damaged rotated file is set aside in the state folder's quarantine (the one
//!   `check` lists) like any record; the other parts are still read.

use crate::error::Error;
use crate::fs;
use crate::timestamp::Timestamp;
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::path::{Path, PathBuf};

/// The folder rotated parts go to, beside the live history.
pub const FOLDER: &str = "history";
/// The read cap of one rotated part (the live files have their own).
const PART_BYTES: u64 = 16 * crate::kind::MAX_FILE_BYTES;

/// When a history rotates: above `above` entries, all but the newest `keep` move.
#[derive(Clone, Copy)]
pub struct Limit {
    pub above: usize,
    pub keep: usize,
}

/// Moves the oldest entries of `all` (oldest first) to a rotated file when it holds
/// more than `limit.above`; `all` keeps the newest `limit.keep`. `at` gives an
/// entry's time. The caller holds the history's lock and writes `all` next.
pub fn rotate<T: Serialize>(
    live: &Path,
    all: &mut Vec<T>,
    limit: Limit,
    at: impl Fn(&T) -> Timestamp,
) -> Result<(), Error> {
    if all.len() <= limit.above {
        return Ok(());
    }
    let cut = all.len() - limit.keep.min(all.len());
    let newest = all[..cut].iter().map(&at).max().expect("at least one entry moves");
    let dir = folder(live);
    fs::ensure_dir(&dir)?;
    let (stem, time) = (stem(live), newest.format("%Y%m%dT%H%M%SZ"));
    let part = fs::unused_path(&dir, usize::MAX, |suffix| format!("{stem}.{time}{suffix}.json"))
        .expect("an unbounded search ends");
    fs::replace(&part, &serde_json::to_vec_pretty(&all[..cut]).expect("json"), "rotate-history")?;
    tracing::info!(history = %live.display(), part = %part.display(), entries = cut, "the history's oldest entries were moved to a file of their own");
    all.drain(..cut);
    Ok(())
}

/// Every rotated part of the history at `live`, oldest part first.
pub fn rotated<T: DeserializeOwned>(live: &Path, what: &str) -> Vec<T> {
    let quarantine = live.parent().unwrap_or(Path::new(".")).join(fs::QUARANTINE);
    parts(live).iter().flat_map(|p| fs::read_record_in::<Vec<T>>(p, PART_BYTES, what, &quarantine)).collect()
}

/// The rotated parts' paths, oldest first (their names end with their newest time).
pub fn parts(live: &Path) -> Vec<PathBuf> {
    let prefix = format!("{}.", stem(live));
    let Ok(entries) = std::fs::read_dir(folder(live)) else { return Vec::new() };
    let mut out: Vec<PathBuf> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with(&prefix) && n.ends_with(".json"))
        })
        .collect();
    out.sort();
    out
}

fn folder(live: &Path) -> PathBuf {
    live.parent().unwrap_or(Path::new(".")).join(FOLDER)
}

fn stem(live: &Path) -> String {
    live.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, TimeZone, Utc};

    fn at(n: &i64) -> Timestamp {
        Utc.timestamp_opt(1_800_000_000, 0).unwrap() + Duration::days(*n)
    }

    /// Three rotations of a history that grows by 150 each time: the live file keeps
    /// the newest 100, the parts hold the rest, and together they are every entry,
    /// in order, each once.
    #[test]
    fn a_growing_history_rotates_and_loses_nothing() {
        let d = tempfile::tempdir().unwrap();
        let live = d.path().join("upload-history.json");
        let limit = Limit { above: 200, keep: 100 };
        let mut all: Vec<i64> = Vec::new();
        for round in 0..3 {
            all.extend(round * 150..(round + 1) * 150);
            rotate(&live, &mut all, limit, at).unwrap();
            assert!(all.len() <= 200);
        }
        assert_eq!(all, (350..450).collect::<Vec<_>>(), "the live file keeps the newest");
        let moved: Vec<i64> = rotated(&live, "test history");
        assert_eq!(moved, (0..350).collect::<Vec<_>>(), "the parts hold the rest, oldest first");
        assert_eq!(parts(&live).len(), 2);
        assert!(parts(&d.path().join("renewals.json")).is_empty(), "another history's parts are its own");
    }

    /// A damaged part is set aside where `check` looks, and the others still read.
    #[test]
    fn a_damaged_part_is_set_aside_and_the_rest_still_reads() {
        let d = tempfile::tempdir().unwrap();
        let live = d.path().join("upload-history.json");
        let mut all: Vec<i64> = (0..30).collect();
        rotate(&live, &mut all, Limit { above: 20, keep: 10 }, at).unwrap();
        let mut more: Vec<i64> = (100..130).collect();
        rotate(&live, &mut more, Limit { above: 20, keep: 10 }, at).unwrap();
        std::fs::write(&parts(&live)[0], b"[1, 2, {").unwrap();
        assert_eq!(rotated::<i64>(&live, "test history"), (100..120).collect::<Vec<_>>());
        assert_eq!(fs::quarantined(d.path()).len(), 1, "set aside in the state folder's quarantine");
    }

    /// A part is never written over: two rotations whose newest entry has the same
    /// time get two files.
    #[test]
    fn a_part_is_never_written_over() {
        let d = tempfile::tempdir().unwrap();
        let live = d.path().join("renewals.json");
        let limit = Limit { above: 2, keep: 1 };
        for _ in 0..2 {
            let mut all = vec![5i64, 5, 5];
            rotate(&live, &mut all, limit, at).unwrap();
        }
        assert_eq!(parts(&live).len(), 2);
        assert_eq!(rotated::<i64>(&live, "test history"), vec![5, 5, 5, 5]);
    }
}

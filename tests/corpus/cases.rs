//! The corpus's table of cases (`cases.json`), shared by the corpus test and the
//! script that regenerates the files.

use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

#[derive(Serialize, Deserialize, Debug, Clone)]
pub struct Case {
    pub file: String,
    /// installable | confirm | refused | error
    pub outcome: String,
    /// The check that failed or warned (refused/confirm).
    pub check: Option<String>,
    /// The error class (`Error::code`) for refusals from parsing, and for errors.
    pub code: Option<String>,
    pub why: String,
}

pub fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus")
}

pub fn cases() -> Vec<Case> {
    serde_json::from_slice(&std::fs::read(corpus_dir().join("cases.json")).unwrap()).unwrap()
}

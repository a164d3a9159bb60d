//! Fault injection for tests (`license-portal serve --faults`): scripted failures
//! for the next requests, so clients can be proven to retry without losing or
//! double-counting anything. `POST /_faults` with a JSON list appends to the script.
//! Faults apply to POST requests, in order.

use serde::Deserialize;
use std::collections::VecDeque;
use std::sync::Mutex;

#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Fault {
    /// Answer with this status (and Retry-After seconds) without doing anything.
    Status { status: u16, retry_after: Option<u64> },
    /// Wait before handling the request.
    Delay { ms: u64 },
    /// Drop the connection before doing anything.
    DropBeforeCommit,
    /// Do the work and commit it, then drop the connection before the answer.
    DropAfterCommit,
    /// Panic while holding the database lock (the portal must survive it).
    PanicHoldingDb,
}

#[derive(Default)]
pub struct Faults(Mutex<VecDeque<Fault>>);

impl Faults {
    pub fn push(&self, f: Vec<Fault>) {
        self.0.lock().expect("faults lock").extend(f);
    }
    pub fn next(&self) -> Option<Fault> {
        self.0.lock().expect("faults lock").pop_front()
    }
    pub fn pending(&self) -> usize {
        self.0.lock().expect("faults lock").len()
    }
}

//! Fault injection for tests (`license-portal serve --faults`): scripted failures
//! for the next requests, so clients can be proven to retry without losing or
//! double-counting anything. `POST /_faults` with a JSON list appends to the script
//! for POST requests, `POST /_faults/get` to the one for GET requests (a license
//! download that is slow or fails); each script applies in order.

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

/// Which requests a script applies to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Applies {
    Post,
    Get,
}

#[derive(Default)]
pub struct Faults {
    posts: Mutex<VecDeque<Fault>>,
    gets: Mutex<VecDeque<Fault>>,
}

impl Faults {
    fn script(&self, to: Applies) -> std::sync::MutexGuard<'_, VecDeque<Fault>> {
        match to {
            Applies::Post => &self.posts,
            Applies::Get => &self.gets,
        }
        .lock()
        .expect("faults lock")
    }
    pub fn push(&self, to: Applies, f: Vec<Fault>) {
        self.script(to).extend(f);
    }
    pub fn next(&self, to: Applies) -> Option<Fault> {
        self.script(to).pop_front()
    }
    pub fn pending(&self) -> usize {
        self.script(Applies::Post).len() + self.script(Applies::Get).len()
    }
}

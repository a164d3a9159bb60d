//! Where the core's blocking steps run. Every portal flow is split into blocking
//! steps (read, verify, fsync, under a lock) and the async send between them, so
//! that no file or signature work runs on an async runtime's threads. The caller
//! says where the blocking steps go: the app onto its blocking pool, `licensectl`
//! (a current-thread runtime with nothing else on it) right where they are.

use crate::error::Error;
use std::future::Future;

pub trait Blocking: Sync {
    /// Runs `step` where blocking is allowed.
    fn run<T, F>(&self, step: F) -> impl Future<Output = Result<T, Error>> + Send
    where
        T: Send + 'static,
        F: FnOnce() -> Result<T, Error> + Send + 'static;
}

/// Runs each step where it is called: for a program whose runtime has nothing else
/// to do while it waits (`licensectl`, tests, benchmarks).
pub struct InPlace;

impl Blocking for InPlace {
    fn run<T, F>(&self, step: F) -> impl Future<Output = Result<T, Error>> + Send
    where
        T: Send + 'static,
        F: FnOnce() -> Result<T, Error> + Send + 'static,
    {
        std::future::ready(step())
    }
}

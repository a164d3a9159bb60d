//! What the app holds between commands: the open environment and the license file
//! the administrator chose. The chosen file's bytes live here, in Rust; the webview
//! never reads files and never sends a path to read.

use crate::error::{CommandError, CommandResult};
use license_core::Environment;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

pub struct Candidate {
    pub name: String,
    pub bytes: Vec<u8>,
}

#[derive(Default)]
pub struct AppState {
    env: Mutex<Option<Arc<Environment>>>,
    env_error: Mutex<Option<String>>,
    pub candidate: Mutex<Option<Candidate>>,
    /// Where "Open the demo environment" creates it.
    pub demo_dir: Mutex<Option<PathBuf>>,
    pub role: Mutex<Role>,
    /// The transfer file the workstation opened.
    pub transfer_file: Mutex<Option<PathBuf>>,
    /// What importing the transfer file this environment opened would do.
    pub import_plan: Mutex<Option<license_core::environment::transfer_here::ImportPlan>>,
    /// Wakes the portal calls under way when the administrator presses "Cancel".
    pub cancel: tokio::sync::Notify,
    /// The last install or restore, for "Save report…".
    pub last_install: Mutex<Option<license_core::environment::report::InstallRecord>>,
}

/// Which machine this is: the environment's own, or a connected workstation that
/// looks after every environment of the subscription.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    #[default]
    Environment,
    Workstation,
}

impl AppState {
    pub fn env(&self) -> CommandResult<Arc<Environment>> {
        match &*self.env.lock().expect("state lock") {
            Some(e) => Ok(e.clone()),
            None => Err(CommandError::NoEnvironment(
                self.env_error
                    .lock()
                    .expect("state lock")
                    .clone()
                    .unwrap_or_else(|| "open an environment first".into()),
            )),
        }
    }

    pub fn open(&self, config: &std::path::Path) -> CommandResult<Arc<Environment>> {
        let env = Arc::new(Environment::open(config)?);
        // A staged renewal whose start time has come is installed as the app opens
        // the environment (a backup first); one that cannot be stays, and says why.
        match env.activate_staged(&mut |_| {}) {
            Ok(Some(a)) => tracing::info!(activation = ?a, "staged renewal looked at"),
            Ok(None) => {}
            Err(e) => tracing::warn!(error = %e, "the staged renewal could not be looked at"),
        }
        *self.env.lock().expect("state lock") = Some(env.clone());
        *self.env_error.lock().expect("state lock") = None;
        *self.candidate.lock().expect("state lock") = None;
        Ok(env)
    }

    pub fn has_environment(&self) -> bool {
        self.env.lock().expect("state lock").is_some()
    }

    pub fn set_error(&self, e: String) {
        *self.env_error.lock().expect("state lock") = Some(e);
    }
}

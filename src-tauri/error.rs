//! The error every command returns. It crosses IPC as `{code, message}`; the
//! message says what is wrong and what to do, and the UI shows it in place.

use serde::ser::SerializeStruct;
use serde::{Serialize, Serializer};

#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    #[error(transparent)]
    Core(#[from] license_core::Error),
    #[error("no environment is open: {0}")]
    NoEnvironment(String),
    #[error("no license file is chosen: choose a file, drop one on the window, or paste its text")]
    NoCandidate,
    #[error("{0}")]
    Invalid(String),
    #[error("the operation stopped unexpectedly: {0}")]
    Internal(String),
}

impl CommandError {
    fn code(&self) -> &'static str {
        match self {
            CommandError::Core(e) => e.code(),
            CommandError::NoEnvironment(_) => "no_environment",
            CommandError::NoCandidate => "no_candidate",
            CommandError::Invalid(_) => "invalid",
            CommandError::Internal(_) => "internal",
        }
    }
}

impl Serialize for CommandError {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut st = s.serialize_struct("CommandError", 2)?;
        st.serialize_field("code", self.code())?;
        st.serialize_field("message", &self.to_string())?;
        st.end()
    }
}

pub type CommandResult<T> = Result<T, CommandError>;

//! The error every command returns. It crosses IPC as `{code, message}`; the
//! message says what is wrong and what to do, and the UI shows it in place.

use license_core::{ErrorCode, ErrorView};
use serde::{Serialize, Serializer};

#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    #[error(transparent)]
    Core(#[from] license_core::Error),
    #[error("no environment is open: {0}")]
    NoEnvironment(String),
    #[error("no license file is chosen: choose a file, drop one on the window, or paste its text")]
    NoCandidate,
    #[error("cancelled: nothing more was sent to the portal; what it had already received, it keeps, and trying again is safe")]
    Cancelled,
    #[error("{0}")]
    Invalid(String),
    #[error("the operation stopped unexpectedly: {0}")]
    Internal(String),
}

impl CommandError {
    pub fn code(&self) -> ErrorCode {
        match self {
            CommandError::Core(e) => e.code(),
            CommandError::NoEnvironment(_) => ErrorCode::NoEnvironment,
            CommandError::NoCandidate => ErrorCode::NoCandidate,
            CommandError::Cancelled => ErrorCode::Cancelled,
            CommandError::Invalid(_) => ErrorCode::Invalid,
            CommandError::Internal(_) => ErrorCode::Internal,
        }
    }
}

impl From<&CommandError> for ErrorView {
    fn from(e: &CommandError) -> Self {
        match e {
            // The core's own view keeps its typed facts (the setting, the damage).
            CommandError::Core(core) => ErrorView::from(core),
            other => ErrorView::plain(other.code(), other.to_string()),
        }
    }
}

/// Crosses IPC as an [`ErrorView`]: a typed code the UI branches on, and the message.
impl Serialize for CommandError {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        ErrorView::from(self).serialize(s)
    }
}

license_core::ts_as!([] CommandError => ErrorView);

pub type CommandResult<T> = Result<T, CommandError>;

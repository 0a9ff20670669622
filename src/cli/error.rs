//! How a command fails: bad usage or input (exit code 2), a runtime
//! failure (1), or work another process is doing now (75, as sysexits'
//! EX_TEMPFAIL: try again later), with a one-line message.

use crate::db::DbError;
use crate::report::ReportError;

/// A failed command: its message and exit code.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error("{0}")]
    BadInput(String),
    #[error("{0}")]
    Runtime(String),
    #[error("{0}")]
    Busy(String),
}

impl CliError {
    pub fn exit_code(&self) -> i32 {
        match self {
            CliError::BadInput(_) => 2,
            CliError::Runtime(_) => 1,
            CliError::Busy(_) => 75,
        }
    }
}

impl From<DbError> for CliError {
    fn from(e: DbError) -> CliError {
        match e {
            DbError::UnsupportedUrl(_) => CliError::BadInput(e.to_string()),
            other => CliError::Runtime(other.to_string()),
        }
    }
}

impl From<ReportError> for CliError {
    fn from(e: ReportError) -> CliError {
        match e {
            ReportError::BadInput(m) => CliError::BadInput(m),
            ReportError::Db(d) => d.into(),
        }
    }
}

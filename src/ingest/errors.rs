//! What can be wrong with an input file. Every message names the file and,
//! where there is one, the line and column; nothing is imported.

use serde::Serialize;

use crate::db::DbError;

/// How many bad rows an error lists (all of them are counted).
pub const MAX_REPORTED_PROBLEMS: usize = 20;

/// One bad value: spreadsheet line (the header is line 1), column, value
/// as written, and why it was refused.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RowProblem {
    pub line: u64,
    pub column: String,
    pub value: String,
    pub reason: String,
}

impl std::fmt::Display for RowProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut value: String = self.value.chars().take(60).collect();
        if self.value.chars().count() > 60 {
            value.push('…');
        }
        write!(
            f,
            "line {}, column {}: '{}' {}",
            self.line, self.column, value, self.reason
        )
    }
}

/// The bad rows of one file: the first `MAX_REPORTED_PROBLEMS` problems
/// are kept, every bad row is counted, and `finish` refuses the file if
/// there was any.
#[derive(Debug)]
pub struct Problems {
    file: String,
    listed: Vec<RowProblem>,
    bad_rows: u64,
}

impl Problems {
    pub fn new(file: &str) -> Problems {
        Problems {
            file: file.to_string(),
            listed: Vec::new(),
            bad_rows: 0,
        }
    }

    /// One bad row and what is wrong with it.
    pub fn bad_row(&mut self, problems: impl IntoIterator<Item = RowProblem>) {
        self.bad_rows += 1;
        let room = MAX_REPORTED_PROBLEMS.saturating_sub(self.listed.len());
        self.listed.extend(problems.into_iter().take(room));
    }

    /// `BadRows` naming every problem kept, if any row was bad.
    pub fn finish(self) -> Result<(), ImportError> {
        if self.bad_rows == 0 {
            return Ok(());
        }
        Err(ImportError::BadRows {
            file: self.file,
            problems: self.listed,
            count: self.bad_rows,
        })
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("{file}: cannot read the file: {message}")]
    Io { file: String, message: String },
    #[error("{file}: the file is empty")]
    Empty { file: String },
    #[error("{file}: the file has a header but no rows")]
    NoRows { file: String },
    #[error(
        "{file}: line {line}: invalid UTF-8 at byte {offset}; export or save the file as UTF-8"
    )]
    Encoding {
        file: String,
        line: u64,
        offset: u64,
    },
    #[error("{file}: the gzip data is truncated or corrupt ({message})")]
    Gzip { file: String, message: String },
    #[error("{file}: missing required column{} {}{hint}", if missing.len() > 1 { "s" } else { "" }, missing.join(", "))]
    MissingColumns {
        file: String,
        missing: Vec<String>,
        hint: String,
    },
    #[error("{file}: column {column} is {found}, expected {expected}")]
    ColumnType {
        file: String,
        column: String,
        found: String,
        expected: String,
    },
    #[error("{file}: {count} row{} with errors, nothing imported; {}{}", if *count > 1 { "s" } else { "" }, problems.first().map(|p| p.to_string()).unwrap_or_default(), if *count > 1 { " (see all below)" } else { "" })]
    BadRows {
        file: String,
        problems: Vec<RowProblem>,
        count: u64,
    },
    #[error("{file}: {message}")]
    Format { file: String, message: String },
    #[error("{file}: refused: {message}")]
    Expands { file: String, message: String },
    #[error("{file}: {source}")]
    Db {
        file: String,
        #[source]
        source: DbError,
    },
}

impl ImportError {
    /// The file the error names.
    pub fn file(&self) -> &str {
        match self {
            ImportError::Io { file, .. }
            | ImportError::Empty { file }
            | ImportError::NoRows { file }
            | ImportError::Encoding { file, .. }
            | ImportError::Gzip { file, .. }
            | ImportError::MissingColumns { file, .. }
            | ImportError::ColumnType { file, .. }
            | ImportError::BadRows { file, .. }
            | ImportError::Format { file, .. }
            | ImportError::Expands { file, .. }
            | ImportError::Db { file, .. } => file,
        }
    }

    /// The input is larger than this service takes (HTTP 413).
    pub fn is_too_large(&self) -> bool {
        matches!(self, ImportError::Expands { .. })
    }

    /// Whether the input is at fault (exit code 2) rather than the system.
    pub fn is_bad_input(&self) -> bool {
        !matches!(self, ImportError::Io { .. } | ImportError::Db { .. })
    }

    /// Every listed problem, one line each (for the CLI and the upload page).
    pub fn details(&self) -> Vec<String> {
        match self {
            ImportError::BadRows {
                file,
                problems,
                count,
            } => {
                let mut out: Vec<String> =
                    problems.iter().map(|p| format!("{file}: {p}")).collect();
                if *count as usize > problems.len() {
                    out.push(format!(
                        "{file}: … and {} more row(s) with errors",
                        *count as usize - problems.len()
                    ));
                }
                out
            }
            other => vec![other.to_string()],
        }
    }
}

//! A prepared file as a lazy polars table whose columns are all text, so
//! that every value is validated by our own rules (and a bad one can be
//! named by line and column) rather than by a type guess.

use std::collections::BTreeMap;

use polars::prelude::*;

use super::errors::ImportError;
use super::file::{Format, Prepared};

/// Name of the row-number column added for error reports (0-based data row).
pub const ROW: &str = "__row";

/// A scanned file: its lazy frame (text columns), and its columns as
/// written, with the type each had in the file (always text for CSV).
pub struct Table {
    pub frame: LazyFrame,
    pub columns: BTreeMap<String, DataType>,
    pub format: Format,
}

impl Table {
    pub fn has(&self, column: &str) -> bool {
        self.columns.contains_key(column)
    }

    /// The first of `names` the file has.
    pub fn first_of<'a>(&self, names: &[&'a str]) -> Option<&'a str> {
        names.iter().copied().find(|n| self.has(n))
    }
}

pub fn polars_error(file: &str, error: PolarsError) -> ImportError {
    let message = error.to_string();
    let message = without_paths(message.lines().next().unwrap_or("unreadable"));
    ImportError::Format {
        file: file.to_string(),
        message: format!("cannot read the file as a table: {message}"),
    }
}

/// A reader's message without the server's file paths in it (an upload
/// is read from a temporary file whose path means nothing to the user and
/// should not be shown to them).
fn without_paths(message: &str) -> String {
    static PATH: std::sync::OnceLock<Option<regex::Regex>> = std::sync::OnceLock::new();
    match PATH.get_or_init(|| regex::Regex::new(r#"(^|[\s'"(\[=:])/[^\s'")\]]+"#).ok()) {
        Some(re) => re.replace_all(message, "${1}(the file)").into_owned(),
        None => message.to_string(),
    }
}

/// Scans `prepared` lazily. `with_row` adds the row-number column.
pub fn scan(file: &str, prepared: &Prepared, with_row: bool) -> Result<Table, ImportError> {
    let path = PlRefPath::try_from_path(&prepared.path).map_err(|e| polars_error(file, e))?;
    let row_index = with_row.then(|| RowIndex {
        name: ROW.into(),
        offset: 0,
    });
    let mut frame = match prepared.format {
        Format::Csv => LazyCsvReader::new(path)
            .with_has_header(true)
            .with_infer_schema_length(Some(0))
            .with_null_values(Some(NullValues::AllColumns(vec!["NULL".into(), "".into()])))
            .with_missing_is_null(true)
            .with_row_index(row_index)
            .with_raise_if_empty(true)
            .finish()
            .map_err(|e| polars_error(file, e))?,
        Format::Parquet => {
            let args = ScanArgsParquet {
                row_index,
                ..Default::default()
            };
            LazyFrame::scan_parquet(path, args).map_err(|e| polars_error(file, e))?
        }
    };
    let schema = frame.collect_schema().map_err(|e| polars_error(file, e))?;
    let columns: BTreeMap<String, DataType> = schema
        .iter()
        .filter(|(name, _)| name.as_str() != ROW)
        .map(|(name, dtype)| (name.to_string(), dtype.clone()))
        .collect();
    if columns.is_empty() {
        return Err(ImportError::Empty {
            file: file.to_string(),
        });
    }
    Ok(Table {
        frame,
        columns,
        format: prepared.format,
    })
}

/// What a column must hold, for checking typed (Parquet) files.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Expect {
    Text,
    Number,
    Timestamp,
}

impl Expect {
    fn accepts(self, dtype: &DataType) -> bool {
        match self {
            Expect::Text => matches!(dtype, DataType::String | DataType::Null),
            Expect::Number => {
                dtype.is_primitive_numeric()
                    || matches!(
                        dtype,
                        DataType::Decimal(_, _) | DataType::String | DataType::Null
                    )
            }
            Expect::Timestamp => matches!(
                dtype,
                DataType::Datetime(_, _) | DataType::Date | DataType::String | DataType::Null
            ),
        }
    }

    fn describe(self) -> &'static str {
        match self {
            Expect::Text => "text",
            Expect::Number => "a number",
            Expect::Timestamp => "a timestamp",
        }
    }
}

/// Checks `column`'s type in the file, and returns it as a text
/// expression (numbers and timestamps of typed files written as text).
pub fn text(table: &Table, file: &str, column: &str, expect: Expect) -> Result<Expr, ImportError> {
    let dtype = table
        .columns
        .get(column)
        .ok_or_else(|| ImportError::MissingColumns {
            file: file.to_string(),
            missing: vec![column.to_string()],
            hint: String::new(),
        })?;
    if !expect.accepts(dtype) {
        return Err(ImportError::ColumnType {
            file: file.to_string(),
            column: column.to_string(),
            found: dtype.to_string(),
            expected: expect.describe().to_string(),
        });
    }
    Ok(match dtype {
        DataType::String => col(column),
        DataType::Datetime(_, _) => col(column)
            .dt()
            .to_string("%Y-%m-%dT%H:%M:%S%.f")
            .cast(DataType::String),
        _ => col(column).cast(DataType::String),
    })
}

/// Like [`text`], or a null text when the file lacks the (optional) column.
pub fn optional_text(
    table: &Table,
    file: &str,
    column: &str,
    expect: Expect,
) -> Result<Expr, ImportError> {
    if table.has(column) {
        text(table, file, column, expect)
    } else {
        Ok(lit(NULL).cast(DataType::String))
    }
}

/// Errors for every required column the file lacks, all named at once.
pub fn require(
    table: &Table,
    file: &str,
    required: &[&[&str]],
    hint: &str,
) -> Result<(), ImportError> {
    let missing: Vec<String> = required
        .iter()
        .filter(|alternatives| !alternatives.iter().any(|c| table.has(c)))
        .map(|alternatives| alternatives.join(" or "))
        .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(ImportError::MissingColumns {
            file: file.to_string(),
            missing,
            hint: hint.to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reader_messages_lose_server_paths() {
        assert_eq!(
            without_paths("failed to open '/tmp/finops-upload-Ab12': no such file"),
            "failed to open '(the file)': no such file"
        );
        assert_eq!(without_paths("/var/tmp/x.csv: bad"), "(the file) bad");
        assert_eq!(
            without_paths("date 2024/01/02 is odd"),
            "date 2024/01/02 is odd"
        );
    }
}

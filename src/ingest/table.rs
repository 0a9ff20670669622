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
    /// Column names in the order the file has them.
    pub names: Vec<String>,
    pub format: Format,
    /// The text columns read through [`text`] so far (for
    /// [`check_cell_sizes`]).
    used: std::cell::RefCell<std::collections::BTreeSet<String>>,
}

impl Table {
    /// Positions (in the file) of the columns `names`.
    pub fn positions(&self, names: &std::collections::BTreeSet<String>) -> Vec<usize> {
        self.names
            .iter()
            .enumerate()
            .filter(|(_, name)| names.contains(name.as_str()))
            .map(|(i, _)| i)
            .collect()
    }

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

/// A column of whole numbers (nulls as 0).
pub fn column_u64(file: &str, df: &DataFrame, name: &str) -> Result<Vec<u64>, ImportError> {
    let c = df
        .column(name)
        .and_then(|c| c.cast(&DataType::UInt64))
        .map_err(|e| polars_error(file, e))?;
    let ca = c.u64().map_err(|e| polars_error(file, e))?;
    Ok(ca.iter().map(|v| v.unwrap_or(0)).collect())
}

/// Longest text a cell may hold. Real cells (tags JSON included) hold at
/// most a few KiB. A Parquet file can store one huge value once, in a
/// column's dictionary, and repeat it on every row for almost nothing;
/// every row would then carry it through the import.
pub const MAX_CELL_BYTES: u32 = 64 * 1024;

/// Refuses a Parquet table with a text value longer than
/// [`MAX_CELL_BYTES`] in a text column the import reads (through [`text`]),
/// naming the first such row, before the import reads any further. A CSV
/// cannot do this cheaply: its size is its text, and compressed it meets
/// the decompression limits.
pub fn check_cell_sizes(
    file: &str,
    table: &Table,
    numbered: &dyn Fn() -> Result<Table, ImportError>,
) -> Result<(), ImportError> {
    let columns: Vec<(String, Expr)> = table
        .used
        .borrow()
        .iter()
        .map(|c| (c.clone(), col(c.as_str())))
        .collect();
    if table.format != Format::Parquet || columns.is_empty() {
        return Ok(());
    }
    let too_long = |e: &Expr| e.clone().str().len_bytes().gt(lit(MAX_CELL_BYTES));
    let counts: Vec<Expr> = columns
        .iter()
        .enumerate()
        .map(|(i, (_, e))| {
            too_long(e)
                .cast(DataType::UInt64)
                .sum()
                .alias(format!("__long{i}"))
        })
        .collect();
    let df = table
        .frame
        .clone()
        .select(counts)
        .collect()
        .map_err(|e| polars_error(file, e))?;
    for (i, (name, expr)) in columns.iter().enumerate() {
        let count = column_u64(file, &df, &format!("__long{i}"))?
            .first()
            .copied()
            .unwrap_or(0);
        if count == 0 {
            continue;
        }
        let first = numbered()?
            .frame
            .select([col(ROW), expr.clone().str().len_bytes().alias("__len")])
            .filter(col("__len").gt(lit(MAX_CELL_BYTES)))
            .limit(1)
            .collect()
            .map_err(|e| polars_error(file, e))?;
        let row = column_u64(file, &first, ROW)?.first().copied().unwrap_or(0);
        let bytes = column_u64(file, &first, "__len")?
            .first()
            .copied()
            .unwrap_or(0);
        return Err(ImportError::BadRows {
            file: file.to_string(),
            problems: vec![super::errors::RowProblem {
                line: row + 2,
                column: name.clone(),
                value: format!("{bytes} bytes of text"),
                reason: format!(
                    "is longer than the {} KiB a cell may hold",
                    MAX_CELL_BYTES / 1024
                ),
            }],
            count,
        });
    }
    Ok(())
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
    let names: Vec<String> = schema
        .iter_names()
        .filter(|name| name.as_str() != ROW)
        .map(|name| name.to_string())
        .collect();
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
        names,
        format: prepared.format,
        used: Default::default(),
    })
}

/// What a column must hold, for checking typed (Parquet) files. A file
/// written by someone's own conversion (pandas, DuckDB, Spark) may type a
/// column differently from AWS's export: any type that holds the value
/// without losing information is read; a type that can lose it (a float
/// for an account id, a number of unknown unit for a timestamp) is refused,
/// naming the column.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Expect {
    /// Text; integers and booleans are written out as text.
    Text,
    /// An account id: text, or an integer (written with the leading zeros
    /// of AWS's 12-digit form).
    AccountId,
    Number,
    /// A timestamp or a date, or text holding one.
    Timestamp,
}

/// Digits of an AWS account id.
pub const ACCOUNT_ID_DIGITS: usize = 12;

fn is_integer(dtype: &DataType) -> bool {
    dtype.is_integer()
}

impl Expect {
    fn accepts(self, dtype: &DataType) -> bool {
        let text = matches!(dtype, DataType::String | DataType::Null | DataType::Binary);
        match self {
            Expect::Text => text || is_integer(dtype) || matches!(dtype, DataType::Boolean),
            Expect::AccountId => text || is_integer(dtype),
            Expect::Number => {
                text || dtype.is_primitive_numeric() || matches!(dtype, DataType::Decimal(_, _))
            }
            Expect::Timestamp => text || matches!(dtype, DataType::Datetime(_, _) | DataType::Date),
        }
    }

    fn describe(self) -> &'static str {
        match self {
            Expect::Text => "text (or a whole number)",
            Expect::AccountId => "text or a whole number (a float can lose an account id's digits)",
            Expect::Number => "a number",
            Expect::Timestamp => "a timestamp, a date or text",
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
        DataType::String => {
            table.used.borrow_mut().insert(column.to_string());
            col(column)
        }
        DataType::Binary => {
            table.used.borrow_mut().insert(column.to_string());
            // Text written without its UTF-8 annotation (Spark's default):
            // invalid UTF-8 reads as null and is then named as missing.
            col(column).cast(DataType::String)
        }
        // A timestamp with a time zone is stored as UTC: drop the zone
        // without moving the instant, then write it as UTC text.
        DataType::Datetime(unit, _) => col(column)
            .cast(DataType::Datetime(*unit, None))
            .dt()
            .to_string("%Y-%m-%dT%H:%M:%S%.f")
            .cast(DataType::String),
        d if expect == Expect::AccountId && is_integer(d) => {
            account_id_text(col(column).cast(DataType::Int64))
        }
        _ => col(column).cast(DataType::String),
    })
}

/// An integer account id as AWS writes it: 12 digits, leading zeros kept.
fn account_id_text(id: Expr) -> Expr {
    id.map(
        |c: Column| {
            let out: StringChunked = c
                .i64()?
                .iter()
                .map(|v| v.map(|v| format!("{v:0width$}", width = ACCOUNT_ID_DIGITS)))
                .collect();
            Ok(out.with_name(c.name().clone()).into_column())
        },
        |_, field| Ok(Field::new(field.name().clone(), DataType::String)),
    )
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
    fn a_parquet_cell_longer_than_the_limit_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("long.parquet");
        let long = "A".repeat(MAX_CELL_BYTES as usize + 1);
        let tags: Vec<&str> = (0..100)
            .map(|i| if i < 3 { "{}" } else { long.as_str() })
            .collect();
        let mut df = df!("Tags" => tags, "Other" => vec![long.as_str(); 100]).unwrap();
        ParquetWriter::new(std::fs::File::create(&path).unwrap())
            .finish(&mut df)
            .unwrap();
        let prepared =
            super::super::file::prepare(&super::super::file::Input::new(&path), &mut |_| {})
                .unwrap();
        let t = scan("long.parquet", &prepared, false).unwrap();
        let numbered = || scan("long.parquet", &prepared, true);
        // Columns the import does not read are not judged.
        assert!(check_cell_sizes("long.parquet", &t, &numbered).is_ok());
        let _ = text(&t, "long.parquet", "Tags", Expect::Text).unwrap();
        match check_cell_sizes("long.parquet", &t, &numbered) {
            Err(ImportError::BadRows {
                problems, count, ..
            }) => {
                assert_eq!(count, 97);
                assert_eq!(problems[0].line, 5);
                assert_eq!(problems[0].column, "Tags");
                assert!(problems[0].reason.contains("64 KiB"), "{}", problems[0]);
            }
            other => panic!("{:?}", other.err()),
        }
    }

    #[test]
    fn integer_account_ids_keep_aws_leading_zeros_and_floats_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ids.parquet");
        let mut df = df!(
            "payer" => [12_345_678_901_i64, 123_412_340_534],
            "float_payer" => [1.0f64, 2.0],
            "flag" => [true, false]
        )
        .unwrap();
        ParquetWriter::new(std::fs::File::create(&path).unwrap())
            .finish(&mut df)
            .unwrap();
        let prepared =
            super::super::file::prepare(&super::super::file::Input::new(&path), &mut |_| {})
                .unwrap();
        let t = scan("ids.parquet", &prepared, false).unwrap();
        let ids = text(&t, "ids.parquet", "payer", Expect::AccountId).unwrap();
        let flag = text(&t, "ids.parquet", "flag", Expect::Text).unwrap();
        let out = t
            .frame
            .clone()
            .select([ids.alias("id"), flag.alias("flag")])
            .collect()
            .unwrap();
        let got: Vec<Option<&str>> = out.column("id").unwrap().str().unwrap().iter().collect();
        assert_eq!(got, [Some("012345678901"), Some("123412340534")]);
        let flags: Vec<Option<&str>> = out.column("flag").unwrap().str().unwrap().iter().collect();
        assert_eq!(flags, [Some("true"), Some("false")]);
        match text(&t, "ids.parquet", "float_payer", Expect::AccountId) {
            Err(ImportError::ColumnType {
                column, expected, ..
            }) => {
                assert_eq!(column, "float_payer");
                assert!(expected.contains("float"), "{expected}");
            }
            other => panic!("{:?}", other.err()),
        }
    }

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

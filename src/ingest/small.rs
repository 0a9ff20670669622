//! Small exports (activity, utilisation) read whole into memory as text,
//! with per-cell validation that names the line and column of every
//! problem.

use chrono::{NaiveDate, NaiveDateTime};
use polars::prelude::*;

use super::errors::{ImportError, RowProblem};
use super::file::{Input, Prepared};
use super::table::{check_cell_sizes, polars_error, scan, text, Expect};

pub struct SmallTable {
    /// Column name as written → its values.
    columns: Vec<(String, Vec<Option<String>>)>,
    rows: usize,
    /// The file's SHA-256, for the import's run record.
    pub sha256: String,
}

/// A small file's rows as read, and the file's SHA-256.
pub struct ReadRows<T> {
    pub rows: Vec<T>,
    pub sha256: String,
}

impl SmallTable {
    /// Reads `path` (CSV, gzip'd CSV or Parquet). Each entry of `required`
    /// lists a column's accepted names; a missing one is an error.
    pub fn read(input: &Input, required: &[&[&str]]) -> Result<SmallTable, ImportError> {
        let prepared = super::file::prepare(input, &mut |_| {})?;
        SmallTable::from_prepared(&input.label, &prepared, required)
    }

    /// [`SmallTable::read`] of a file already opened and checked.
    pub fn from_prepared(
        label: &str,
        prepared: &Prepared,
        required: &[&[&str]],
    ) -> Result<SmallTable, ImportError> {
        if prepared.format == super::file::Format::Csv && prepared.lines == 0 {
            return Err(ImportError::NoRows {
                file: label.to_string(),
            });
        }
        let table = scan(label, prepared, false)?;
        let names: Vec<String> = table.columns.keys().cloned().collect();
        let missing: Vec<String> = required
            .iter()
            .filter(|alts| !alts.iter().any(|a| find(&names, a).is_some()))
            .map(|alts| alts.join(" or "))
            .collect();
        if !missing.is_empty() {
            return Err(ImportError::MissingColumns {
                file: label.to_string(),
                missing,
                hint: " (see the README for the format)".to_string(),
            });
        }
        let mut exprs: Vec<Expr> = Vec::with_capacity(names.len());
        for n in &names {
            exprs.push(match table.columns.get(n) {
                // Read through `text` so that its size is checked.
                Some(DataType::String) => text(&table, label, n, Expect::Text)?,
                _ => col(n.as_str()).cast(DataType::String),
            });
        }
        let numbered = || scan(label, prepared, true);
        check_cell_sizes(label, &table, &numbered)?;
        let df = table
            .frame
            .select(exprs)
            .collect()
            .map_err(|e| polars_error(label, e))?;
        let mut columns = Vec::with_capacity(names.len());
        for n in &names {
            let c = df.column(n).map_err(|e| polars_error(label, e))?;
            let values: Vec<Option<String>> = c
                .str()
                .map_err(|e| polars_error(label, e))?
                .iter()
                .map(|v| v.map(|s| s.trim().to_string()).filter(|s| !s.is_empty()))
                .collect();
            columns.push((n.clone(), values));
        }
        if df.height() == 0 {
            return Err(ImportError::NoRows {
                file: label.to_string(),
            });
        }
        Ok(SmallTable {
            columns,
            rows: df.height(),
            sha256: prepared.sha256.clone(),
        })
    }

    /// Whether the file has a column of this name (case-insensitive).
    pub fn has(&self, name: &str) -> bool {
        self.column(&[name]).is_some()
    }

    pub fn rows(&self) -> usize {
        self.rows
    }

    /// The column (first of `names`, case-insensitive) and its values.
    fn column(&self, names: &[&str]) -> Option<&(String, Vec<Option<String>>)> {
        names.iter().find_map(|n| {
            self.columns
                .iter()
                .find(|(c, _)| c.trim().eq_ignore_ascii_case(n))
        })
    }
}

fn find<'a>(names: &'a [String], name: &str) -> Option<&'a String> {
    names.iter().find(|c| c.trim().eq_ignore_ascii_case(name))
}

/// Reads the cells of one row, collecting problems.
pub struct Cells<'a> {
    table: &'a SmallTable,
    row: usize,
    problems: Vec<RowProblem>,
}

impl<'a> Cells<'a> {
    pub fn new(table: &'a SmallTable, row: usize) -> Cells<'a> {
        Cells {
            table,
            row,
            problems: Vec::new(),
        }
    }

    fn raw(&self, names: &[&str]) -> Option<(&'a str, Option<&'a str>)> {
        let (name, values) = self.table.column(names)?;
        Some((name.as_str(), values[self.row].as_deref()))
    }

    fn problem(&mut self, column: &str, value: &str, reason: &str) {
        self.problems.push(RowProblem {
            line: self.row as u64 + 2,
            column: column.to_string(),
            value: value.to_string(),
            reason: reason.to_string(),
        });
    }

    /// A required value, parsed by `f` (whose error is the reason).
    pub fn parse<T>(&mut self, names: &[&str], f: impl Fn(&str) -> Result<T, String>) -> Option<T> {
        let (column, value) = self.raw(names)?;
        match value {
            None => {
                self.problem(column, "", "is empty; a value is required");
                None
            }
            Some(v) => match f(v) {
                Ok(t) => Some(t),
                Err(reason) => {
                    self.problem(column, v, &reason);
                    None
                }
            },
        }
    }

    /// An optional value parsed by `f`; `None` when the column is absent
    /// or the cell empty.
    pub fn optional<T>(
        &mut self,
        names: &[&str],
        f: impl Fn(&str) -> Result<T, String>,
    ) -> Option<T> {
        let (column, value) = self.raw(names)?;
        let v = value?;
        match f(v) {
            Ok(t) => Some(t),
            Err(reason) => {
                self.problem(column, v, &reason);
                None
            }
        }
    }

    pub fn text(&mut self, names: &[&str]) -> Option<String> {
        self.parse(names, |v| Ok(v.to_string()))
    }

    pub fn date(&mut self, names: &[&str]) -> Option<NaiveDate> {
        self.parse(names, |v| {
            NaiveDate::parse_from_str(v, "%Y-%m-%d")
                .map_err(|_| "is not a date (expected YYYY-MM-DD)".to_string())
        })
    }

    pub fn timestamp(&mut self, names: &[&str]) -> Option<NaiveDateTime> {
        self.parse(names, |v| {
            super::billing::parse_timestamp(v)
                .and_then(|s| chrono::DateTime::from_timestamp(s, 0))
                .map(|t| t.naive_utc())
                .ok_or_else(|| {
                    "is not a date or timestamp (expected YYYY-MM-DDTHH:MM:SSZ)".to_string()
                })
        })
    }

    /// A required finite number ≥ `min`.
    pub fn number(&mut self, names: &[&str], min: f64) -> Option<f64> {
        self.parse(names, move |v| parse_number(v, min))
    }

    pub fn optional_number(&mut self, names: &[&str], min: f64) -> Option<f64> {
        self.optional(names, move |v| parse_number(v, min))
    }

    pub fn into_problems(self) -> Vec<RowProblem> {
        self.problems
    }
}

fn parse_number(v: &str, min: f64) -> Result<f64, String> {
    match v.parse::<f64>() {
        Ok(x) if x.is_finite() && x >= min => Ok(x),
        Ok(_) => Err(format!("is out of range (must be {min} or more)")),
        Err(_) => Err("is not a number".to_string()),
    }
}

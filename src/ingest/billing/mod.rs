//! The billing pipeline shared by FOCUS and CUR: a format maps its columns
//! to [`Fields`]; this module validates every row, aggregates to the
//! resource × day grain in one streaming polars pass, and, if any row is
//! bad, finds and explains the first few.
//!
//! Amounts are parsed to exact decimals (scale 12) and summed in fixed
//! point; they become micro-units only after the sum.
//!
//! `timestamps.rs` reads dates and times, `rounding.rs` turns exact sums
//! into micro-units that still add up, `aggregated.rs` holds the aggregated
//! rows and reads them back, `diagnosis.rs` explains bad rows, and this file
//! maps fields and runs the aggregation.

mod aggregated;
mod diagnosis;
mod rounding;
mod timestamps;

pub use aggregated::*;
use diagnosis::*;
pub use rounding::*;
pub use timestamps::*;

use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime};
use polars::prelude::*;

use super::errors::{ImportError, RowProblem, MAX_REPORTED_PROBLEMS};
use super::table::{column_u64, polars_error, Table, ROW};
use crate::money::{parse_scaled, Micros};

/// Decimal places amounts are read with (FOCUS allows more; the rest is
/// rounded half to even by polars, far below a micro-unit).
pub const AMOUNT_SCALE: usize = 12;

/// Region of charges without one (support, tax, marketplace, …).
pub const GLOBAL_REGION: &str = "global";

/// What each normalised field is, as expressions over a file's columns.
/// Text fields are text expressions; amounts are decimal expressions built
/// with [`amount`].
pub struct Fields {
    pub provider: Expr,
    pub billing_account: Expr,
    pub account: Expr,
    pub region: Expr,
    pub service: Expr,
    pub category: Expr,
    pub currency: Expr,
    pub resource: Expr,
    pub unit: Expr,
    /// What the line is for commitments ([`crate::usage_class`]): a text
    /// expression built with [`usage_class`].
    pub usage_class: Expr,
    /// The commitment discount (Savings Plan, reservation) that applied:
    /// its id, type and status (`Used` / `Unused`); text or null.
    pub commitment_id: Expr,
    pub commitment_type: Expr,
    pub commitment_status: Expr,
    /// When the commitment ends (CUR `savings_plan_end_time`,
    /// `reservation_end_time`), text or null.
    pub commitment_end: Expr,
    /// JSON object text, or null.
    pub tags: Expr,
    pub billing_start: Expr,
    /// Null where the format has no billing period end (then: a month).
    pub billing_end: Expr,
    pub charge_start: Expr,
    pub charge_end: Expr,
    pub billed: Expr,
    pub effective: Expr,
    pub list: Option<Expr>,
    /// Text.
    pub quantity: Expr,
    /// Every value that is validated, by source column.
    pub checks: Vec<Check>,
    /// Source columns of the charge period (start, end) and billing period
    /// start, for messages about periods.
    pub period_columns: [String; 3],
}

impl Fields {
    /// The file's columns these fields read.
    pub fn source_columns(&self) -> std::collections::BTreeSet<String> {
        let mut exprs = vec![
            &self.provider,
            &self.billing_account,
            &self.account,
            &self.region,
            &self.service,
            &self.category,
            &self.currency,
            &self.resource,
            &self.unit,
            &self.usage_class,
            &self.commitment_id,
            &self.commitment_type,
            &self.commitment_status,
            &self.commitment_end,
            &self.tags,
            &self.billing_start,
            &self.billing_end,
            &self.charge_start,
            &self.charge_end,
            &self.billed,
            &self.effective,
            &self.quantity,
        ];
        exprs.extend(self.list.iter());
        exprs.extend(self.checks.iter().map(|c| &c.value));
        exprs
            .into_iter()
            .flat_map(|expr| expr.into_iter())
            .filter_map(|node| match node {
                Expr::Column(name) => Some(name.to_string()),
                _ => None,
            })
            .collect()
    }
}

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum CheckKind {
    /// Present and a decimal number.
    Amount,
    /// A decimal number if present.
    OptionalAmount,
    /// Present and a date or timestamp.
    Timestamp,
    /// A date or timestamp if present.
    OptionalTimestamp,
    /// Present (not empty, not NULL).
    Required,
}

/// One validated source column: its name and text expression.
pub struct Check {
    pub column: String,
    pub value: Expr,
    pub kind: CheckKind,
    /// A normalised column that already holds the parsed value (so it is
    /// parsed once).
    parsed: Option<&'static str>,
}

/// Normalised columns the pipeline parses once: charge period start and
/// end, billing period start and (given) end, and the three amounts.
pub const CHARGE_START: &str = "__cs";

pub const CHARGE_END: &str = "__ce";

pub const BILLING_START: &str = "__bs";

pub const BILLING_END: &str = "__be_given";

pub const BILLED: &str = "__billed";

pub const EFFECTIVE: &str = "__effective";

pub const LIST: &str = "__list";

impl Check {
    pub fn new(column: &str, value: Expr, kind: CheckKind) -> Check {
        Check {
            column: column.to_string(),
            value,
            kind,
            parsed: None,
        }
    }

    /// The check reads the parsed value from the normalised column `name`.
    pub fn parsed_as(mut self, name: &'static str) -> Check {
        self.parsed = Some(name);
        self
    }

    fn fails(&self) -> Expr {
        let v = self.value.clone();
        let parsed = |f: fn(Expr) -> Expr| match self.parsed {
            Some(name) => col(name),
            None => f(self.value.clone()),
        };
        match self.kind {
            CheckKind::Amount => v.is_null().or(parsed(amount).is_null()),
            CheckKind::OptionalAmount => v.is_not_null().and(parsed(amount).is_null()),
            CheckKind::Timestamp => v.is_null().or(parsed(epoch_seconds).is_null()),
            CheckKind::OptionalTimestamp => v.is_not_null().and(parsed(epoch_seconds).is_null()),
            CheckKind::Required => v.is_null(),
        }
    }

    /// Why `value` fails this check, if it does (same rules as `fails`).
    fn problem(&self, value: Option<&str>) -> Option<String> {
        match (self.kind, value) {
            (CheckKind::Amount | CheckKind::Timestamp | CheckKind::Required, None) => {
                Some("is empty; a value is required".to_string())
            }
            (CheckKind::Amount | CheckKind::OptionalAmount, Some(v)) => {
                parse_scaled(v.trim(), AMOUNT_SCALE as u32)
                    .is_none()
                    .then(|| "is not a decimal number".to_string())
            }
            (CheckKind::Timestamp | CheckKind::OptionalTimestamp, Some(v)) => parse_timestamp(v)
                .is_none()
                .then(|| "is not a date (expected YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ)".to_string()),
            _ => None,
        }
    }
}

/// A text expression read as an exact decimal (null if it is not one).
pub fn amount(text: Expr) -> Expr {
    text.str()
        .strip_chars(lit(NULL))
        .cast(DataType::Decimal(38, AMOUNT_SCALE))
}

pub use crate::model::ResourceDay;

/// What one file held, aggregated.
/// Provider, billing account and billing period (`YYYY-MM`).
pub type ScopeKey = (String, String, String);

/// First and last day.
pub type DaySpan = (NaiveDate, NaiveDate);

/// Charge month, provider, region, currency: the grain totals tie out at.
type RoundingKey<'a> = (
    i32,
    &'a Option<String>,
    &'a Option<String>,
    &'a Option<String>,
);

const KEYS: [&str; 14] = [
    "__day",
    "__bs",
    "__billing_account",
    "__provider",
    "__account",
    "__region",
    "__service",
    "__category",
    "__currency",
    "__resource",
    "__tags",
    "__unit",
    "__class",
    "__commitment",
];

/// Parses each period and amount once, then flags rows with bad values.
fn normalised(frame: LazyFrame, fields: &Fields) -> LazyFrame {
    let mut bad = lit(false);
    for check in &fields.checks {
        bad = bad.or(check.fails());
    }
    frame
        .with_columns([
            epoch_seconds(fields.charge_start.clone()).alias(CHARGE_START),
            epoch_seconds(fields.charge_end.clone()).alias(CHARGE_END),
            epoch_seconds(fields.billing_start.clone()).alias(BILLING_START),
            epoch_seconds(fields.billing_end.clone()).alias(BILLING_END),
            fields.billed.clone().alias(BILLED),
            fields.effective.clone().alias(EFFECTIVE),
            fields
                .list
                .clone()
                .unwrap_or_else(|| lit(NULL).cast(DataType::Decimal(38, AMOUNT_SCALE)))
                .alias(LIST),
        ])
        .with_columns([
            when(col(BILLING_END).is_null())
                .then(next_month_start(col(BILLING_START)))
                .otherwise(col(BILLING_END))
                .alias("__be"),
            bad.alias("__bad_value"),
        ])
}

/// Rows whose charge period ends before it starts, or straddles a billing
/// period boundary. A charge wholly outside its billing period is a late
/// (or early) billed charge and is accepted.
fn period_problems() -> (Expr, Expr) {
    let (cs, ce, bs, be) = (col("__cs"), col("__ce"), col("__bs"), col("__be"));
    let reversed = ce.clone().lt(cs.clone());
    let crosses =
        (cs.clone().lt(bs.clone()).and(ce.clone().gt(bs))).or(cs.lt(be.clone()).and(ce.gt(be)));
    (reversed, crosses)
}

/// Validates and aggregates `table` with `fields`. On bad rows, returns
/// [`ImportError::BadRows`] naming the first few, found in `numbered`: the
/// same file scanned with row numbers (only read when there are bad rows).
pub fn aggregate(
    file: &str,
    table: &Table,
    numbered: &dyn Fn() -> Result<Table, ImportError>,
    fields: &Fields,
) -> Result<Aggregated, ImportError> {
    group(file, table, numbered, fields)?.finish(file)
}

/// Resource-day sums of one or more files, exact (before rounding to
/// micro-units): files of one delivery are grouped one by one (each named
/// in its own errors), merged, then rounded once.
pub struct Grouped {
    frame: DataFrame,
    pub rows_read: u64,
}

impl Grouped {
    /// The sums of several files as if they were one: a resource-day split
    /// across files is summed.
    pub fn merge(file: &str, parts: Vec<Grouped>) -> Result<Grouped, ImportError> {
        let mut parts = parts.into_iter();
        let Some(first) = parts.next() else {
            return Err(ImportError::NoRows {
                file: file.to_string(),
            });
        };
        let mut rows_read = first.rows_read;
        let mut frames = vec![first.frame];
        for part in parts {
            rows_read += part.rows_read;
            frames.push(part.frame);
        }
        Ok(Grouped {
            frame: merge_frames(file, frames)?,
            rows_read,
        })
    }

    /// Rounds the exact sums to micro-units that add up per month,
    /// provider, region and currency.
    pub fn finish(self, file: &str) -> Result<Aggregated, ImportError> {
        Grouped::rounded(self.frame, self.rows_read, file)
    }
}

/// Validates and sums `table` to the resource × day grain, exactly.
pub fn group(
    file: &str,
    table: &Table,
    numbered: &dyn Fn() -> Result<Table, ImportError>,
    fields: &Fields,
) -> Result<Grouped, ImportError> {
    let sums = sums(file, table.frame.clone(), fields, Engine::Streaming)?;
    checked(
        file,
        vec![sums.grouped],
        sums.rows,
        sums.bad,
        numbered,
        fields,
    )
}

/// Like [`group`] for a CSV file at `path` (the file `table` scanned):
/// read in blocks of whole records by [`super::csv_blocks`], each parsed
/// by polars' in-memory reader (only the columns `fields` read) and summed
/// while the next block is read, the sums merged as they grow.
pub fn group_csv_blocks(
    file: &str,
    table: &Table,
    path: &std::path::Path,
    numbered: &dyn Fn() -> Result<Table, ImportError>,
    fields: &Fields,
) -> Result<Grouped, ImportError> {
    let block = super::csv_blocks::BLOCK_BYTES;
    group_csv_in_blocks(file, table, path, numbered, fields, block)
}

fn group_csv_in_blocks(
    file: &str,
    table: &Table,
    path: &std::path::Path,
    numbered: &dyn Fn() -> Result<Table, ImportError>,
    fields: &Fields,
    block: usize,
) -> Result<Grouped, ImportError> {
    use super::csv_blocks::read_ahead;
    let io = |e: std::io::Error| ImportError::Io {
        file: file.to_string(),
        message: e.to_string(),
    };
    let schema: Schema = table
        .names
        .iter()
        .map(|name| Field::new(name.as_str().into(), DataType::String))
        .collect();
    let schema = Arc::new(schema);
    let projection = Arc::new(table.positions(&fields.source_columns()));
    let mut parts: Vec<DataFrame> = Vec::new();
    let (mut rows, mut bad, mut pending) = (0u64, 0u64, 0usize);
    for block in read_ahead(path, block).map_err(io)? {
        let frame = CsvReadOptions::default()
            .with_has_header(false)
            .with_schema(Some(schema.clone()))
            .with_projection(Some(projection.clone()))
            .with_rechunk(false)
            .map_parse_options(|o| {
                o.with_null_values(Some(NullValues::AllColumns(vec!["NULL".into(), "".into()])))
                    .with_missing_is_null(true)
            })
            .into_reader_with_file_handle(std::io::Cursor::new(block.map_err(io)?))
            .finish()
            .map_err(|e| polars_error(file, e))?;
        let mut part = sums(file, frame.lazy(), fields, Engine::InMemory)?;
        part.grouped = compact(file, part.grouped)?;
        rows += part.rows;
        bad += part.bad;
        pending += part.grouped.height();
        parts.push(part.grouped);
        // Keep the partial sums small: merged, a resource-day is one row.
        if pending > MERGE_ROWS && parts.len() > 1 {
            let merged = merge_frames(file, std::mem::take(&mut parts))?;
            pending = merged.height();
            parts.push(merged);
        }
    }
    checked(file, parts, rows, bad, numbered, fields)
}

/// `frame` with its text copied out of the buffers it shares with the
/// block it was summed from: a block's text (tens of MiB) is then freed
/// with the block, not held by the few thousand rows of its sums.
fn compact(file: &str, frame: DataFrame) -> Result<DataFrame, ImportError> {
    let height = frame.height();
    let columns = frame
        .columns()
        .iter()
        .map(|c| match c.dtype() {
            DataType::String => {
                let ca = c.str()?;
                let chunks = ca.downcast_iter().map(|a| a.clone().gc());
                Ok(StringChunked::from_chunk_iter(ca.name().clone(), chunks).into_column())
            }
            _ => Ok(c.clone()),
        })
        .collect::<PolarsResult<Vec<Column>>>()
        .map_err(|e| polars_error(file, e))?;
    DataFrame::new(height, columns).map_err(|e| polars_error(file, e))
}

/// Partial sums (rows) held before they are merged.
const MERGE_ROWS: usize = 500_000;

/// One frame's exact sums, its rows and its rows with bad values.
struct Sums {
    grouped: DataFrame,
    rows: u64,
    bad: u64,
}

fn sums(
    file: &str,
    frame: LazyFrame,
    fields: &Fields,
    engine: Engine,
) -> Result<Sums, ImportError> {
    let (reversed, crosses) = period_problems();
    let frame = normalised(frame, fields).with_columns([
        fields.billing_account.clone().alias("__billing_account"),
        fields.provider.clone().alias("__provider"),
        fields
            .account
            .clone()
            .fill_null(fields.billing_account.clone())
            .alias("__account"),
        fields
            .region
            .clone()
            .fill_null(lit(GLOBAL_REGION))
            .alias("__region"),
        fields
            .service
            .clone()
            .fill_null(lit("(none)"))
            .alias("__service"),
        fields.category.clone().alias("__category"),
        fields.currency.clone().alias("__currency"),
        fields
            .resource
            .clone()
            .fill_null(lit(""))
            .alias("__resource"),
        fields.tags.clone().fill_null(lit("")).alias("__tags"),
        fields.unit.clone().fill_null(lit("")).alias("__unit"),
        fields.usage_class.clone().alias("__class"),
        commitment_key(fields).alias("__commitment"),
        fields
            .quantity
            .clone()
            .cast(DataType::Float64)
            .alias("__qty"),
    ]);
    let frame = frame
        .with_column(
            col("__bad_value")
                .or(reversed.fill_null(lit(false)))
                .or(crosses.fill_null(lit(false)))
                .alias("__bad"),
        )
        .with_column(epoch_day(col("__cs")).alias("__day"));
    let keys: Vec<Expr> = KEYS.iter().map(|k| col(*k)).collect();
    let grouped = frame
        .group_by(keys)
        .agg([
            col("__billed").sum().alias("billed"),
            col("__effective").sum().alias("effective"),
            col("__list").sum().alias("list"),
            col("__list").count().alias("list_n"),
            col("__qty").sum().alias("qty"),
            col("__qty").count().alias("qty_n"),
            col("__bad").cast(DataType::UInt64).sum().alias("bad"),
            len().alias("n"),
        ])
        .collect_with_engine(engine)
        .map_err(|e| polars_error(file, e))?
        .unwrap_single();
    let rows = column_u64(file, &grouped, "n")?.iter().sum();
    let bad = column_u64(file, &grouped, "bad")?.iter().sum();
    Ok(Sums { grouped, rows, bad })
}

/// The merged sums of `parts`, or the file's bad rows explained.
fn checked(
    file: &str,
    parts: Vec<DataFrame>,
    rows_read: u64,
    bad: u64,
    numbered: &dyn Fn() -> Result<Table, ImportError>,
    fields: &Fields,
) -> Result<Grouped, ImportError> {
    if rows_read == 0 {
        return Err(ImportError::NoRows {
            file: file.to_string(),
        });
    }
    if bad > 0 {
        return Err(match numbered() {
            Ok(numbered) => explain_bad_rows(file, &numbered, fields, bad),
            Err(e) => e,
        });
    }
    Ok(Grouped {
        frame: merge_frames(file, parts)?,
        rows_read,
    })
}

/// Sums of several frames of sums, a resource-day once.
fn merge_frames(file: &str, frames: Vec<DataFrame>) -> Result<DataFrame, ImportError> {
    let mut frames = frames.into_iter();
    let Some(mut frame) = frames.next() else {
        return Err(ImportError::NoRows {
            file: file.to_string(),
        });
    };
    let mut more = false;
    for part in frames {
        frame.vstack_mut(&part).map_err(|e| polars_error(file, e))?;
        more = true;
    }
    if !more {
        return Ok(frame);
    }
    let keys: Vec<Expr> = KEYS.iter().map(|k| col(*k)).collect();
    frame
        .lazy()
        .group_by(keys)
        .agg([
            col("billed").sum(),
            col("effective").sum(),
            col("list").sum(),
            col("list_n").sum(),
            col("qty").sum(),
            col("qty_n").sum(),
            col("bad").sum(),
            col("n").sum(),
        ])
        .collect()
        .map_err(|e| polars_error(file, e))
}

impl Grouped {
    fn rounded(grouped: DataFrame, rows_read: u64, file: &str) -> Result<Aggregated, ImportError> {
        // Rows in the order of their keys, so that the rounding below
        // (whose ties go to the earlier row) depends on the data only, not
        // on the order the files or the group-by produced them in.
        let grouped = grouped
            .sort(KEYS.to_vec(), SortMultipleOptions::default())
            .map_err(|e| polars_error(file, e))?;
        // Rounding groups: charge month × provider × region × currency, the
        // grain totals are checked at.
        let days = day_numbers(file, &grouped)?;
        let (provider, region, currency) = (
            texts(file, &grouped, "__provider")?,
            texts(file, &grouped, "__region")?,
            texts(file, &grouped, "__currency")?,
        );
        let mut group_ids: std::collections::HashMap<RoundingKey, usize> = Default::default();
        let groups: Vec<usize> = (0..grouped.height())
            .map(|i| {
                let month = days[i].map(|d| {
                    let date = epoch_date(d);
                    date.year() * 12 + date.month() as i32
                });
                let next = group_ids.len();
                *group_ids
                    .entry((month.unwrap_or(0), &provider[i], &region[i], &currency[i]))
                    .or_insert(next)
            })
            .collect();
        let exact = |name: &str| -> Result<Vec<i128>, ImportError> {
            Ok(decimals(file, &grouped, name)?
                .into_iter()
                .map(|v| v.unwrap_or(0))
                .collect())
        };
        let billed = round_preserving_totals(&exact("billed")?, &groups);
        let effective = round_preserving_totals(&exact("effective")?, &groups);
        let list_n = column_u64(file, &grouped, "list_n")?;
        let list = round_preserving_totals(&exact("list")?, &groups)
            .into_iter()
            .zip(list_n)
            .map(|(v, n)| (n > 0).then_some(v))
            .collect();
        drop(group_ids);
        Ok(Aggregated {
            frame: grouped,
            rows_read,
            billed,
            effective,
            list,
        })
    }
}

/// What each line says about itself, as text expressions (a literal null
/// where the format has no such column), for [`usage_class`].
pub struct LineFactColumns {
    pub usage_type: Expr,
    pub service: Expr,
    pub unit: Expr,
    pub description: Expr,
    pub resource_type: Expr,
    pub pricing_category: Expr,
}

/// Separates a line's usage class from its instance type in one group
/// key.
pub const CLASS_SEPARATOR: char = '\u{1f}';

/// The usage class of each line ([`crate::usage_class::classify`]) as its
/// stored text, and for instance hours the instance type after
/// [`CLASS_SEPARATOR`].
pub fn usage_class(columns: LineFactColumns) -> Expr {
    use crate::usage_class::{classify, instance_type, LineFacts};
    let inputs = [
        columns.service,
        columns.unit,
        columns.description,
        columns.resource_type,
        columns.pricing_category,
    ];
    columns.usage_type.map_many(
        |cols: &mut [Column]| {
            let height = cols.iter().map(|c| c.len()).max().unwrap_or(0);
            let mut strs = Vec::with_capacity(cols.len());
            for c in cols.iter() {
                strs.push(c.cast(&DataType::String)?.str()?.clone());
            }
            // Literals are one value for every row.
            let at = |k: usize, row: usize| {
                let ca = &strs[k];
                let i = if ca.len() == 1 { 0 } else { row };
                ca.get(i).unwrap_or("")
            };
            let out: StringChunked = (0..height)
                .map(|row| {
                    let facts = LineFacts {
                        usage_type: at(0, row),
                        service: at(1, row),
                        unit: at(2, row),
                        description: at(3, row),
                        resource_type: at(4, row),
                        pricing_category: at(5, row),
                    };
                    let class = classify(&facts);
                    Some(match instance_type(&facts, class) {
                        Some(t) => format!("{}{CLASS_SEPARATOR}{t}", class.as_str()),
                        None => class.as_str().to_string(),
                    })
                })
                .collect();
            Ok(out.with_name("__class".into()).into_column())
        },
        &inputs,
        |_, _| Ok(Field::new("__class".into(), DataType::String)),
    )
}

/// Builds a JSON object text from tag columns (key, text expression);
/// null when a row has none of them.
pub fn tags_from_columns(columns: Vec<(String, Expr)>) -> Expr {
    if columns.is_empty() {
        return lit(NULL).cast(DataType::String);
    }
    let keys: Vec<String> = columns.iter().map(|(k, _)| k.clone()).collect();
    let mut exprs: Vec<Expr> = columns.into_iter().map(|(_, e)| e).collect();
    let first = exprs.remove(0);
    first.map_many(
        move |cols: &mut [Column]| {
            let height = cols.first().map(|c| c.len()).unwrap_or(0);
            let mut strs = Vec::with_capacity(cols.len());
            for c in cols.iter() {
                strs.push(c.str()?.clone());
            }
            let out: StringChunked = (0..height)
                .map(|row| {
                    let mut map = serde_json::Map::new();
                    for (k, s) in keys.iter().zip(&strs) {
                        if let Some(v) = s.get(row) {
                            map.insert(k.clone(), serde_json::Value::String(v.to_string()));
                        }
                    }
                    (!map.is_empty()).then(|| serde_json::Value::Object(map).to_string())
                })
                .collect();
            Ok(out.with_name("__tags".into()).into_column())
        },
        &exprs,
        |_, _| Ok(Field::new("__tags".into(), DataType::String)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounding_keeps_each_group_total_exact() {
        // Three rows of 0.0000004 (4e-7): each rounds to 0 micro-units, the
        // total 1.2e-6 rounds to 1.
        let v = [400_000_i128, 400_000, 400_000, 2_500_000];
        let r = round_preserving_totals(&v, &[0, 0, 0, 1]);
        assert_eq!(r[..3].iter().sum::<i64>(), 1);
        assert_eq!(r[3], 3);
        let neg = round_preserving_totals(&[-400_000, -400_000, -400_000], &[0, 0, 0]);
        assert_eq!(neg.iter().sum::<i64>(), -1);
    }

    /// The rows of a FOCUS CSV summed through the block reader (blocks of
    /// `block` bytes) and through polars' streaming scan.
    fn both_ways(path: &std::path::Path, block: usize) -> (Vec<ResourceDay>, Vec<ResourceDay>) {
        use super::super::{file, focus, table};
        let prepared = file::prepare(&file::Input::new(path), &mut |_| {}).unwrap();
        let table = table::scan("f.csv", &prepared, false).unwrap();
        let fields = focus::fields("f.csv", &table).unwrap();
        let numbered = || table::scan("f.csv", &prepared, true);
        let rows = |g: Grouped| {
            let a = g.finish("f.csv").unwrap();
            a.rows("f.csv", 0, a.len()).unwrap()
        };
        let blocks = group_csv_in_blocks("f.csv", &table, path, &numbered, &fields, block);
        let streamed = group("f.csv", &table, &numbered, &fields);
        (rows(blocks.unwrap()), rows(streamed.unwrap()))
    }

    #[test]
    fn csv_read_in_small_blocks_sums_like_one_scan() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f.csv");
        let mut text = String::from(
            "BilledCost,EffectiveCost,BillingAccountId,BillingCurrency,BillingPeriodStart,\
             ChargeCategory,ChargePeriodStart,ChargePeriodEnd,ProviderName,RegionId,ResourceId,\
             Tags,ChargeDescription,Unused\n",
        );
        for i in 0..500 {
            let hour = i % 48;
            text.push_str(&format!(
                "0.{i:06}1,0.{i:06},123456789012,USD,2026-03-01,Usage,\
                 2026-03-{:02}T{:02}:00:00Z,2026-03-{:02}T{:02}:59:59Z,AWS,eu-west-1,r-{},\
                 \"{{\"\"platform\"\": \"\"{}\"\"}}\",\"line {i}\nwith, a comma\",x\n",
                1 + hour / 24,
                hour % 24,
                1 + hour / 24,
                hour % 24,
                i % 7,
                ["PC", "iOS"][i % 2],
            ));
        }
        std::fs::write(&path, text).unwrap();
        for block in [64, 1000, 1 << 20] {
            let (blocks, streamed) = both_ways(&path, block);
            assert_eq!(blocks.len(), streamed.len(), "block {block}");
            assert!(blocks.len() > 7, "{}", blocks.len());
            for (a, b) in blocks.iter().zip(&streamed) {
                assert_eq!(
                    (a.day, &a.resource, &a.tags, a.billed, a.effective),
                    (b.day, &b.resource, &b.tags, b.billed, b.effective),
                    "block {block}"
                );
            }
        }
    }

    #[test]
    fn parses_the_timestamp_forms_of_billing_exports() {
        let t = |s| parse_timestamp(s);
        assert_eq!(t("2024-09-01"), Some(1_725_148_800));
        assert_eq!(t("2024-09-01 00:00:00"), Some(1_725_148_800));
        assert_eq!(t("2024-09-01T00:00:00Z"), Some(1_725_148_800));
        assert_eq!(t("2024-09-01T00:00:00.000Z"), Some(1_725_148_800));
        assert_eq!(t("2024-09-01T02:00:00+02:00"), Some(1_725_148_800));
        assert_eq!(t("2024-09-01T00:00Z"), Some(1_725_148_800));
        assert_eq!(t("2024-13-01"), None);
        assert_eq!(t("yesterday"), None);
        assert_eq!(t("1969-12-31"), None);
    }
}

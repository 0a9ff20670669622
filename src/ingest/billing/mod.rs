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
        let mut frame = first.frame;
        let mut more = false;
        for part in parts {
            rows_read += part.rows_read;
            frame
                .vstack_mut(&part.frame)
                .map_err(|e| polars_error(file, e))?;
            more = true;
        }
        if !more {
            return Ok(Grouped { frame, rows_read });
        }
        let keys: Vec<Expr> = KEYS.iter().map(|k| col(*k)).collect();
        let frame = frame
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
            .map_err(|e| polars_error(file, e))?;
        Ok(Grouped { frame, rows_read })
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
    let (reversed, crosses) = period_problems();
    let frame = normalised(table.frame.clone(), fields).with_columns([
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
        .collect_with_engine(Engine::Streaming)
        .map_err(|e| polars_error(file, e))?
        .unwrap_single();

    let n = column_u64(file, &grouped, "n")?;
    let bad = column_u64(file, &grouped, "bad")?;
    let rows_read: u64 = n.iter().sum();
    let bad_count: u64 = bad.iter().sum();
    if rows_read == 0 {
        return Err(ImportError::NoRows {
            file: file.to_string(),
        });
    }
    if bad_count > 0 {
        return Err(match numbered() {
            Ok(numbered) => explain_bad_rows(file, &numbered, fields, bad_count),
            Err(e) => e,
        });
    }
    Ok(Grouped {
        frame: grouped,
        rows_read,
    })
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

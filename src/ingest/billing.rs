//! The billing pipeline shared by FOCUS and CUR: a format maps its columns
//! to [`Fields`]; this module validates every row, aggregates to the
//! resource × day grain in one streaming polars pass, and, if any row is
//! bad, finds and explains the first few.
//!
//! Amounts are parsed to exact decimals (scale 12) and summed in fixed
//! point; they become micro-units only after the sum.

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
    /// The commitment discount (Savings Plan, reservation) that applied:
    /// its id, type and status (`Used` / `Unused`); text or null.
    pub commitment_id: Expr,
    pub commitment_type: Expr,
    pub commitment_status: Expr,
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

/// Seconds since 1970-01-01 UTC of a date or timestamp text (null if it
/// is not one). Accepts `2024-09-01`, `2024-09-01 00:00:00`,
/// `2024-09-01T00:00:00.000Z` and RFC 3339 offsets.
pub fn epoch_seconds(text: Expr) -> Expr {
    text.map(
        |c: Column| {
            // Billing exports repeat the same timestamps (periods, hours):
            // remember the last one.
            let mut last: Option<(&str, Option<i64>)> = None;
            let out: Int64Chunked = c
                .str()?
                .iter()
                .map(|v| {
                    let v = v?;
                    match last {
                        Some((text, parsed)) if text == v => parsed,
                        _ => {
                            let parsed = parse_timestamp(v);
                            last = Some((v, parsed));
                            parsed
                        }
                    }
                })
                .collect();
            Ok(out.with_name(c.name().clone()).into_column())
        },
        |_, field| Ok(Field::new(field.name().clone(), DataType::Int64)),
    )
}

/// Date (UTC) of seconds since the epoch.
fn epoch_day(seconds: Expr) -> Expr {
    seconds
        .map(
            |c: Column| {
                let out: Int32Chunked = c
                    .i64()?
                    .iter()
                    .map(|v| v.map(|s| s.div_euclid(86_400) as i32))
                    .collect();
                Ok(out.with_name(c.name().clone()).into_column())
            },
            |_, field| Ok(Field::new(field.name().clone(), DataType::Int32)),
        )
        .cast(DataType::Date)
}

/// Start of the month after the one `seconds` falls in.
fn next_month_start(seconds: Expr) -> Expr {
    seconds.map(
        |c: Column| {
            let mut last: Option<(i64, Option<i64>)> = None;
            let out: Int64Chunked = c
                .i64()?
                .iter()
                .map(|v| {
                    let v = v?;
                    if let Some((seen, next)) = last {
                        if seen == v {
                            return next;
                        }
                    }
                    let next = Some(v)
                        .and_then(|s| DateTime::from_timestamp(s, 0))
                        .and_then(|t| {
                            let (y, m) = if t.month() == 12 {
                                (t.year() + 1, 1)
                            } else {
                                (t.year(), t.month() + 1)
                            };
                            NaiveDate::from_ymd_opt(y, m, 1)
                        })
                        .and_then(|d| d.and_hms_opt(0, 0, 0))
                        .map(|t| t.and_utc().timestamp());
                    last = Some((v, next));
                    next
                })
                .collect();
            Ok(out.with_name(c.name().clone()).into_column())
        },
        |_, field| Ok(Field::new(field.name().clone(), DataType::Int64)),
    )
}

/// Parses the date and timestamp forms billing exports use.
pub fn parse_timestamp(text: &str) -> Option<i64> {
    let seconds = fast_timestamp(text.as_bytes()).or_else(|| slow_timestamp(text))?;
    // 1970 to 9999: anything else is a typo, not a bill.
    (0..253_402_300_800).contains(&seconds).then_some(seconds)
}

fn digits(b: &[u8]) -> Option<u32> {
    b.iter().try_fold(0u32, |acc, c| {
        c.is_ascii_digit().then(|| acc * 10 + u32::from(c - b'0'))
    })
}

/// `YYYY-MM-DD`, `YYYY-MM-DD[T ]HH:MM:SS[.fff][Z|+00:00]`: the forms of
/// nearly every export, without allocation. Anything else goes to chrono.
fn fast_timestamp(b: &[u8]) -> Option<i64> {
    if b.len() < 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let date = NaiveDate::from_ymd_opt(
        digits(&b[..4])? as i32,
        digits(&b[5..7])?,
        digits(&b[8..10])?,
    )?;
    let days = i64::from((date - NaiveDate::from_ymd_opt(1970, 1, 1)?).num_days() as i32);
    if b.len() == 10 {
        return Some(days * 86_400);
    }
    if b.len() < 19 || !(b[10] == b'T' || b[10] == b' ') || b[13] != b':' || b[16] != b':' {
        return None;
    }
    let (h, m, sec) = (
        digits(&b[11..13])?,
        digits(&b[14..16])?,
        digits(&b[17..19])?,
    );
    if h > 23 || m > 59 || sec > 59 {
        return None;
    }
    let mut rest = &b[19..];
    if let Some(frac) = rest.strip_prefix(b".") {
        let n = frac.iter().take_while(|c| c.is_ascii_digit()).count();
        if n == 0 {
            return None;
        }
        rest = &frac[n..];
    }
    match rest {
        b"" | b"Z" | b"z" | b"+00:00" | b"+0000" | b"+00" | b"-00:00" => {}
        _ => return None,
    }
    Some(days * 86_400 + i64::from(h * 3600 + m * 60 + sec))
}

fn slow_timestamp(text: &str) -> Option<i64> {
    let t = text.trim();
    let seconds = if t.len() == 10 {
        NaiveDate::parse_from_str(t, "%Y-%m-%d")
            .ok()?
            .and_hms_opt(0, 0, 0)?
            .and_utc()
            .timestamp()
    } else if let Ok(dt) = DateTime::parse_from_rfc3339(t) {
        dt.timestamp()
    } else {
        let naive = NaiveDateTime::parse_from_str(t, "%Y-%m-%d %H:%M:%S%.f")
            .or_else(|_| NaiveDateTime::parse_from_str(t, "%Y-%m-%dT%H:%M:%S%.f"))
            .or_else(|_| NaiveDateTime::parse_from_str(t, "%Y-%m-%dT%H:%M:%S%.fZ"))
            .or_else(|_| NaiveDateTime::parse_from_str(t, "%Y-%m-%dT%H:%MZ"))
            .ok()?;
        naive.and_utc().timestamp()
    };
    Some(seconds)
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

pub struct Aggregated {
    /// One row per resource-day group (converted in slices by `rows`).
    frame: DataFrame,
    pub rows_read: u64,
    /// Amounts in micro-units, rounded so that each month × provider ×
    /// region × currency total is the exact total rounded (see
    /// [`round_preserving_totals`]).
    billed: Vec<i64>,
    effective: Vec<i64>,
    list: Vec<Option<i64>>,
}

impl Aggregated {
    /// Number of resource-day rows.
    pub fn len(&self) -> usize {
        self.frame.height()
    }

    pub fn is_empty(&self) -> bool {
        self.frame.height() == 0
    }

    /// Resource-day rows `start..end` (memory for a slice at a time).
    pub fn rows(
        &self,
        file: &str,
        start: usize,
        end: usize,
    ) -> Result<Vec<ResourceDay>, ImportError> {
        let end = end.min(self.len());
        let slice = self.frame.slice(start as i64, end.saturating_sub(start));
        let mut rows = to_resource_days(file, &slice)?;
        for (k, row) in rows.iter_mut().enumerate() {
            row.billed = Micros(self.billed[start + k]);
            row.effective = Micros(self.effective[start + k]);
            row.list = self.list[start + k].map(Micros);
        }
        Ok(rows)
    }

    /// The distinct (provider, billing account, billing period) scopes and
    /// the first and last day.
    pub fn scopes(&self, file: &str) -> Result<(Vec<ScopeKey>, Option<DaySpan>), ImportError> {
        let df = &self.frame;
        let provider = texts(file, df, "__provider")?;
        let account = texts(file, df, "__billing_account")?;
        let bs = df.column("__bs").map_err(|e| polars_error(file, e))?;
        let bs: Vec<Option<i64>> = bs
            .i64()
            .map_err(|e| polars_error(file, e))?
            .iter()
            .collect();
        let mut set: std::collections::BTreeSet<ScopeKey> = Default::default();
        let mut seen: std::collections::HashSet<(Option<&str>, Option<&str>, Option<i64>)> =
            Default::default();
        for i in 0..df.height() {
            if seen.insert((provider[i].as_deref(), account[i].as_deref(), bs[i])) {
                set.insert((
                    provider[i].clone().unwrap_or_default(),
                    account[i].clone().unwrap_or_default(),
                    period_label(bs[i]),
                ));
            }
        }
        let days = day_numbers(file, df)?;
        let span = days
            .iter()
            .flatten()
            .min()
            .zip(days.iter().flatten().max())
            .map(|(a, b)| (epoch_date(*a), epoch_date(*b)));
        Ok((set.into_iter().collect(), span))
    }
}

fn epoch_date(days: i32) -> NaiveDate {
    NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or_default()
        + chrono::Duration::days(i64::from(days))
}

fn period_label(billing_start: Option<i64>) -> String {
    billing_start
        .and_then(|s| DateTime::from_timestamp(s, 0))
        .map(|t| t.format("%Y-%m").to_string())
        .unwrap_or_default()
}

fn day_numbers(file: &str, df: &DataFrame) -> Result<Vec<Option<i32>>, ImportError> {
    let c = df
        .column("__day")
        .and_then(|c| c.cast(&DataType::Int32))
        .map_err(|e| polars_error(file, e))?;
    Ok(c.i32().map_err(|e| polars_error(file, e))?.iter().collect())
}

/// Rounds exact amounts (10^-12 units) to micro-units so that, within each
/// group, the rounded amounts add up to the group's exact total rounded
/// (largest remainder). Rounding each row on its own could move a total
/// of many rows by a cent.
pub fn round_preserving_totals(values: &[i128], groups: &[usize]) -> Vec<i64> {
    const UNIT: i128 = 1_000_000; // 1e-12 → 1e-6
    let round = |v: i128| -> i128 {
        let half = UNIT / 2;
        if v >= 0 {
            (v + half) / UNIT
        } else {
            (v - half) / UNIT
        }
    };
    let mut out: Vec<i128> = values.iter().map(|v| round(*v)).collect();
    let mut by_group: std::collections::HashMap<usize, Vec<usize>> = Default::default();
    for (i, g) in groups.iter().enumerate() {
        by_group.entry(*g).or_default().push(i);
    }
    for members in by_group.values() {
        let exact: i128 = members.iter().map(|i| values[*i]).sum();
        let target = round(exact);
        let mut diff = target - members.iter().map(|i| out[*i]).sum::<i128>();
        if diff == 0 {
            continue;
        }
        // Remainder of each row after its own rounding, in 1e-12 units.
        let mut order: Vec<(i128, usize)> = members
            .iter()
            .map(|i| (values[*i] - out[*i] * UNIT, *i))
            .collect();
        if diff > 0 {
            order.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
        } else {
            order.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.cmp(&b.1)));
        }
        for (_, i) in order.iter().cycle() {
            if diff == 0 {
                break;
            }
            let step = diff.signum();
            out[*i] += step;
            diff -= step;
        }
    }
    out.into_iter()
        .map(|v| v.clamp(i64::MIN as i128, i64::MAX as i128) as i64)
        .collect()
}

const KEYS: [&str; 13] = [
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

fn texts(file: &str, df: &DataFrame, name: &str) -> Result<Vec<Option<String>>, ImportError> {
    let c = df.column(name).map_err(|e| polars_error(file, e))?;
    let c = c
        .cast(&DataType::String)
        .map_err(|e| polars_error(file, e))?;
    let ca = c.str().map_err(|e| polars_error(file, e))?;
    Ok(ca.iter().map(|v| v.map(str::to_string)).collect())
}

fn decimals(file: &str, df: &DataFrame, name: &str) -> Result<Vec<Option<i128>>, ImportError> {
    let c = df.column(name).map_err(|e| polars_error(file, e))?;
    let ca = c.decimal().map_err(|e| polars_error(file, e))?;
    let scale = ca.scale();
    let values: Vec<Option<i128>> = ca.physical().iter().collect();
    if scale == AMOUNT_SCALE {
        return Ok(values);
    }
    // Sums keep the input scale; convert defensively if polars changes it.
    let factor = 10_i128.pow(AMOUNT_SCALE.abs_diff(scale) as u32);
    Ok(values
        .into_iter()
        .map(|v| {
            v.map(|v| {
                if scale < AMOUNT_SCALE {
                    v * factor
                } else {
                    v / factor
                }
            })
        })
        .collect())
}

fn floats(file: &str, df: &DataFrame, name: &str) -> Result<Vec<Option<f64>>, ImportError> {
    let c = df.column(name).map_err(|e| polars_error(file, e))?;
    let ca = c.f64().map_err(|e| polars_error(file, e))?;
    Ok(ca.iter().collect())
}

fn to_resource_days(file: &str, df: &DataFrame) -> Result<Vec<ResourceDay>, ImportError> {
    let days = day_numbers(file, df)?;
    let bs_col = df.column("__bs").map_err(|e| polars_error(file, e))?;
    let billing_starts: Vec<Option<i64>> = bs_col
        .i64()
        .map_err(|e| polars_error(file, e))?
        .iter()
        .collect();
    let text = |name| texts(file, df, name);
    let (billing_account, provider, account, region) = (
        text("__billing_account")?,
        text("__provider")?,
        text("__account")?,
        text("__region")?,
    );
    let (service, category, currency, resource, tags, unit) = (
        text("__service")?,
        text("__category")?,
        text("__currency")?,
        text("__resource")?,
        text("__tags")?,
        text("__unit")?,
    );
    let commitments = text("__commitment")?;
    let qty = floats(file, df, "qty")?;
    let qty_n = column_u64(file, df, "qty_n")?;
    let s = |v: &Option<String>| v.clone().unwrap_or_default();
    let mut out = Vec::with_capacity(df.height());
    for i in 0..df.height() {
        let day = epoch_date(days[i].unwrap_or(0));
        let billing_period = period_label(billing_starts[i]);
        let unit_text = s(&unit[i]);
        out.push(ResourceDay {
            day,
            billing_period,
            billing_account: s(&billing_account[i]),
            provider: s(&provider[i]),
            account_id: s(&account[i]),
            region: s(&region[i]),
            service: s(&service[i]),
            charge_category: s(&category[i]),
            currency: s(&currency[i]).to_ascii_uppercase(),
            resource: s(&resource[i]),
            tags: s(&tags[i]),
            commitment_id: commitment_part(&commitments[i], 0),
            commitment_type: commitment_part(&commitments[i], 1),
            commitment_status: commitment_part(&commitments[i], 2),
            // Set by `Aggregated::rows` (rounded with their group).
            billed: Micros::ZERO,
            effective: Micros::ZERO,
            list: None,
            usage_quantity: if qty_n[i] > 0 { qty[i] } else { None },
            usage_unit: (!unit_text.is_empty()).then_some(unit_text),
        });
    }
    Ok(out)
}

/// Separates the commitment's id, type and status in one group key (one
/// key groups faster than three, and most rows have none: empty).
const COMMITMENT_SEPARATOR: char = '\u{1f}';

fn commitment_key(fields: &Fields) -> Expr {
    fields.commitment_id.clone().map_many(
        |cols: &mut [Column]| {
            // Inputs may be literals (one value for every row).
            let height = cols.iter().map(|c| c.len()).max().unwrap_or(0);
            let (id, kind, status) = (cols[0].str()?, cols[1].str()?, cols[2].str()?);
            let at = |ca: &StringChunked, i: usize| -> Option<String> {
                let i = if ca.len() == 1 { 0 } else { i };
                if i < ca.len() {
                    ca.get(i).map(str::to_string)
                } else {
                    None
                }
            };
            let out: StringChunked = (0..height)
                .map(|i| {
                    let parts = [at(id, i), at(kind, i), at(status, i)];
                    if parts.iter().all(Option::is_none) {
                        Some(String::new())
                    } else {
                        Some(
                            parts
                                .map(|p| p.unwrap_or_default())
                                .join(&COMMITMENT_SEPARATOR.to_string()),
                        )
                    }
                })
                .collect();
            Ok(out.with_name("__commitment".into()).into_column())
        },
        &[
            fields.commitment_type.clone(),
            fields.commitment_status.clone(),
        ],
        |_, _| Ok(Field::new("__commitment".into(), DataType::String)),
    )
}

fn commitment_part(key: &Option<String>, index: usize) -> String {
    key.as_deref()
        .and_then(|k| k.split(COMMITMENT_SEPARATOR).nth(index))
        .unwrap_or("")
        .to_string()
}

/// Finds the first bad rows and says what is wrong with each.
fn explain_bad_rows(file: &str, table: &Table, fields: &Fields, count: u64) -> ImportError {
    match find_bad_rows(file, table, fields) {
        Ok(problems) if !problems.is_empty() => ImportError::BadRows {
            file: file.to_string(),
            problems,
            count,
        },
        Ok(_) => ImportError::Format {
            file: file.to_string(),
            message: format!("{count} row(s) have values that cannot be read"),
        },
        Err(e) => e,
    }
}

fn find_bad_rows(
    file: &str,
    table: &Table,
    fields: &Fields,
) -> Result<Vec<RowProblem>, ImportError> {
    let (reversed, crosses) = period_problems();
    let mut selected = vec![
        col(ROW),
        reversed.fill_null(lit(false)).alias("__reversed"),
        crosses.fill_null(lit(false)).alias("__crosses"),
        col("__cs"),
        col("__ce"),
        col("__bs"),
        col("__be"),
    ];
    for (i, check) in fields.checks.iter().enumerate() {
        selected.push(check.value.clone().alias(format!("__chk{i}")));
    }
    let frame = normalised(table.frame.clone(), fields);
    let (reversed, crosses) = period_problems();
    let df = frame
        .filter(
            col("__bad_value")
                .or(reversed.fill_null(lit(false)))
                .or(crosses.fill_null(lit(false))),
        )
        .select(selected)
        .limit(MAX_REPORTED_PROBLEMS as IdxSize)
        .collect_with_engine(Engine::Streaming)
        .map_err(|e| polars_error(file, e))?
        .unwrap_single();
    let rows = column_u64(file, &df, ROW)?;
    let reversed = df
        .column("__reversed")
        .and_then(|c| c.bool().cloned())
        .map_err(|e| polars_error(file, e))?;
    let crosses = df
        .column("__crosses")
        .and_then(|c| c.bool().cloned())
        .map_err(|e| polars_error(file, e))?;
    let mut values = Vec::with_capacity(fields.checks.len());
    for i in 0..fields.checks.len() {
        values.push(texts(file, &df, &format!("__chk{i}"))?);
    }
    let [start_col, end_col, billing_col] = &fields.period_columns;
    let period_text = |name: &str, i: usize| -> Option<String> {
        fields
            .checks
            .iter()
            .position(|c| c.column == name)
            .and_then(|k| values[k][i].clone())
    };
    let mut problems = Vec::new();
    for (i, row) in rows.iter().enumerate() {
        // Line 1 is the header; data row 0 is on line 2 (quoted newlines
        // inside a row would shift this, which billing exports avoid).
        let line = row + 2;
        let before = problems.len();
        for (k, check) in fields.checks.iter().enumerate() {
            let value = values[k][i].as_deref();
            if let Some(reason) = check.problem(value) {
                problems.push(RowProblem {
                    line,
                    column: check.column.clone(),
                    value: value.unwrap_or("").to_string(),
                    reason,
                });
            }
        }
        if problems.len() == before && reversed.get(i) == Some(true) {
            problems.push(RowProblem {
                line,
                column: end_col.clone(),
                value: period_text(end_col, i).unwrap_or_default(),
                reason: format!(
                    "is before {start_col} {}",
                    period_text(start_col, i).unwrap_or_default()
                ),
            });
        } else if problems.len() == before && crosses.get(i) == Some(true) {
            problems.push(RowProblem {
                line,
                column: start_col.clone(),
                value: format!(
                    "{} – {}",
                    period_text(start_col, i).unwrap_or_default(),
                    period_text(end_col, i).unwrap_or_default()
                ),
                reason: format!(
                    "the charge period crosses the boundary of its billing period ({billing_col} {}); split the charge at the boundary",
                    period_text(billing_col, i).unwrap_or_default()
                ),
            });
        } else if problems.len() == before {
            problems.push(RowProblem {
                line,
                column: String::new(),
                value: String::new(),
                reason: "has a value that cannot be read".to_string(),
            });
        }
        if problems.len() >= MAX_REPORTED_PROBLEMS {
            problems.truncate(MAX_REPORTED_PROBLEMS);
            break;
        }
    }
    Ok(problems)
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

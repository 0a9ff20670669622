//! Dates and times as billing files write them, read fast (the common ISO forms by hand, the rest through chrono), and as polars expressions.

use super::*;

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
pub(super) fn epoch_day(seconds: Expr) -> Expr {
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
pub(super) fn next_month_start(seconds: Expr) -> Expr {
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

pub(super) fn digits(b: &[u8]) -> Option<u32> {
    b.iter().try_fold(0u32, |acc, c| {
        c.is_ascii_digit().then(|| acc * 10 + u32::from(c - b'0'))
    })
}

/// `YYYY-MM-DD`, `YYYY-MM-DD[T ]HH:MM:SS[.fff][Z|+00:00]`: the forms of
/// nearly every export, without allocation. Anything else goes to chrono.
pub(super) fn fast_timestamp(b: &[u8]) -> Option<i64> {
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

pub(super) fn slow_timestamp(text: &str) -> Option<i64> {
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

pub(super) fn epoch_date(days: i32) -> NaiveDate {
    NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or_default()
        + chrono::Duration::days(i64::from(days))
}

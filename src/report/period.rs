//! Calendar months and date ranges as reports use them.

use std::fmt;
use std::str::FromStr;

use chrono::{Datelike, Months, NaiveDate};

/// A calendar month, written `YYYY-MM`.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Month {
    first: NaiveDate,
}

impl Month {
    pub fn of(day: NaiveDate) -> Month {
        Month {
            first: day.with_day(1).unwrap_or(day),
        }
    }

    pub fn first_day(self) -> NaiveDate {
        self.first
    }

    pub fn last_day(self) -> NaiveDate {
        self.next().first.pred_opt().unwrap_or(self.first)
    }

    pub fn prev(self) -> Month {
        Month::of(
            self.first
                .checked_sub_months(Months::new(1))
                .unwrap_or(self.first),
        )
    }

    pub fn next(self) -> Month {
        Month::of(
            self.first
                .checked_add_months(Months::new(1))
                .unwrap_or(self.first),
        )
    }

    pub fn days(self) -> i64 {
        (self.last_day() - self.first).num_days() + 1
    }

    /// "October 2026".
    pub fn long_name(self) -> String {
        self.first.format("%B %Y").to_string()
    }
}

impl fmt::Display for Month {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}", self.first.year(), self.first.month())
    }
}

impl FromStr for Month {
    type Err = String;

    /// Strict `YYYY-MM`.
    fn from_str(text: &str) -> Result<Month, String> {
        let t = text.trim();
        let bad = || format!("'{t}' is not a month: expected YYYY-MM, such as 2026-10");
        let (y, m) = t.split_once('-').ok_or_else(bad)?;
        if y.len() != 4 || m.len() != 2 {
            return Err(bad());
        }
        let year: i32 = y.parse().map_err(|_| bad())?;
        let month: u32 = m.parse().map_err(|_| bad())?;
        NaiveDate::from_ymd_opt(year, month, 1)
            .map(|first| Month { first })
            .ok_or_else(bad)
    }
}

/// Strict `YYYY-MM-DD`.
pub fn parse_date(text: &str) -> Result<NaiveDate, String> {
    let t = text.trim();
    if t.len() != 10 {
        return Err(format!(
            "'{t}' is not a date: expected YYYY-MM-DD, such as 2026-10-31"
        ));
    }
    NaiveDate::parse_from_str(t, "%Y-%m-%d")
        .map_err(|_| format!("'{t}' is not a date: expected YYYY-MM-DD, such as 2026-10-31"))
}

/// The range of the same length ending the day before `from`.
pub fn previous_range(from: NaiveDate, to: NaiveDate) -> (NaiveDate, NaiveDate) {
    // Whole months compare with the previous whole months.
    if from.day() == 1 && to.succ_opt().map(|d| d.day() == 1).unwrap_or(false) {
        let months = (to.year() - from.year()) * 12 + to.month() as i32 - from.month() as i32 + 1;
        let prev_from = from
            .checked_sub_months(Months::new(months as u32))
            .unwrap_or(from);
        return (prev_from, from.pred_opt().unwrap_or(from));
    }
    let days = (to - from).num_days() + 1;
    let prev_to = from.pred_opt().unwrap_or(from);
    (prev_to - chrono::Duration::days(days - 1), prev_to)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        parse_date(s).unwrap()
    }

    #[test]
    fn parses_months_strictly() {
        let m: Month = "2026-02".parse().unwrap();
        assert_eq!(m.first_day(), d("2026-02-01"));
        assert_eq!(m.last_day(), d("2026-02-28"));
        assert_eq!(m.prev().to_string(), "2026-01");
        assert_eq!(
            "2025-12".parse::<Month>().unwrap().next().to_string(),
            "2026-01"
        );
        for bad in [
            "2026-13", "2026-1", "26-01", "2026/01", "", "2026-00", "abcd-ef",
        ] {
            assert!(bad.parse::<Month>().is_err(), "{bad}");
        }
    }

    #[test]
    fn parses_dates_strictly() {
        assert!(parse_date("2026-02-30").is_err());
        assert!(parse_date("2026-2-3").is_err());
        assert_eq!(parse_date(" 2026-02-03 ").unwrap(), d("2026-02-03"));
    }

    #[test]
    fn previous_range_of_whole_months_is_whole_months() {
        assert_eq!(
            previous_range(d("2026-03-01"), d("2026-03-31")),
            (d("2026-02-01"), d("2026-02-28"))
        );
        assert_eq!(
            previous_range(d("2026-01-01"), d("2026-03-31")),
            (d("2025-10-01"), d("2025-12-31"))
        );
        assert_eq!(
            previous_range(d("2026-03-10"), d("2026-03-16")),
            (d("2026-03-03"), d("2026-03-09"))
        );
    }
}

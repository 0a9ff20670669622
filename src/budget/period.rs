//! The periods a budget is entered for: a month (`2027-01`), a quarter
//! (`2027-Q1`) or a year (`2027`); a quarter or year is spread over its
//! months by their days.

use std::fmt;

use chrono::{Datelike, NaiveDate};

use crate::money::Micros;
use crate::report::period::Month;

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum BudgetPeriod {
    Month(Month),
    Quarter { year: i32, quarter: u32 },
    Year(i32),
}

impl BudgetPeriod {
    pub fn parse(text: &str) -> Result<BudgetPeriod, String> {
        let t = text.trim();
        let bad = || {
            format!("'{t}' is not a budget period: expected a month (2027-01), a quarter (2027-Q1) or a year (2027)")
        };
        let year = |y: &str| -> Result<i32, String> {
            if y.len() != 4 {
                return Err(bad());
            }
            let v: i32 = y.parse().map_err(|_| bad())?;
            if (2000..=2100).contains(&v) {
                Ok(v)
            } else {
                Err(bad())
            }
        };
        if t.len() == 4 {
            return Ok(BudgetPeriod::Year(year(t)?));
        }
        if let Some((y, q)) = t.split_once(['-', ' ']) {
            if let Some(n) = q.strip_prefix(['Q', 'q']) {
                let quarter: u32 = n.parse().map_err(|_| bad())?;
                if !(1..=4).contains(&quarter) {
                    return Err(bad());
                }
                return Ok(BudgetPeriod::Quarter {
                    year: year(y)?,
                    quarter,
                });
            }
        }
        t.parse::<Month>()
            .map(BudgetPeriod::Month)
            .map_err(|_| bad())
    }

    /// The months of the period, in order.
    pub fn months(&self) -> Vec<Month> {
        let first = |y: i32, m: u32| NaiveDate::from_ymd_opt(y, m, 1).map(Month::of);
        let (start, n) = match *self {
            BudgetPeriod::Month(m) => return vec![m],
            BudgetPeriod::Quarter { year, quarter } => (first(year, 3 * quarter - 2), 3),
            BudgetPeriod::Year(year) => (first(year, 1), 12),
        };
        let Some(mut m) = start else {
            return Vec::new();
        };
        let mut out = Vec::with_capacity(n);
        for _ in 0..n {
            out.push(m);
            m = m.next();
        }
        out
    }

    /// `amount` spread over the months by their days, in whole cents, the
    /// last month taking the rounding so the months sum to it exactly.
    pub fn spread(&self, amount: Micros) -> Vec<(Month, Micros)> {
        let months = self.months();
        let total_days: i64 = months.iter().map(|m| m.days()).sum();
        if total_days == 0 {
            return Vec::new();
        }
        let cents = amount.0 / 10_000;
        let extra = amount.0 % 10_000;
        let mut out = Vec::with_capacity(months.len());
        let mut given = 0_i64;
        for (i, m) in months.iter().enumerate() {
            let share = if i + 1 == months.len() {
                cents - given
            } else {
                (i128::from(cents) * i128::from(m.days()) / i128::from(total_days)) as i64
            };
            given += share;
            let micros = share * 10_000 + if i + 1 == months.len() { extra } else { 0 };
            out.push((*m, Micros(micros)));
        }
        out
    }
}

/// The quarter a day falls in: its first and last day.
pub fn quarter_of(day: NaiveDate) -> (NaiveDate, NaiveDate) {
    let q = (day.month() - 1) / 3;
    let first = NaiveDate::from_ymd_opt(day.year(), 3 * q + 1, 1).unwrap_or(day);
    let last = Month::of(first).next().next().last_day();
    (first, last)
}

impl fmt::Display for BudgetPeriod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BudgetPeriod::Month(m) => write!(f, "{m}"),
            BudgetPeriod::Quarter { year, quarter } => write!(f, "{year}-Q{quarter}"),
            BudgetPeriod::Year(y) => write!(f, "{y}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods_parse_strictly() {
        assert_eq!(
            BudgetPeriod::parse("2027-Q1").unwrap().to_string(),
            "2027-Q1"
        );
        assert_eq!(BudgetPeriod::parse("2027").unwrap().months().len(), 12);
        assert_eq!(
            BudgetPeriod::parse("2027-02").unwrap().months()[0].to_string(),
            "2027-02"
        );
        for bad in ["2027-Q5", "27", "2027-13", "Q1", "", "2027-Qx", "1999"] {
            let e = BudgetPeriod::parse(bad).unwrap_err();
            assert!(e.contains("budget period"), "{bad}: {e}");
        }
    }

    #[test]
    fn a_quarter_spreads_by_days_and_sums_to_the_cent() {
        let q = BudgetPeriod::parse("2027-Q1").unwrap();
        let amount = Micros::parse("900000.01").unwrap();
        let parts = q.spread(amount);
        let months: Vec<String> = parts.iter().map(|(m, _)| m.to_string()).collect();
        assert_eq!(months, ["2027-01", "2027-02", "2027-03"]);
        let sum: i64 = parts.iter().map(|(_, a)| a.0).sum();
        assert_eq!(sum, amount.0);
        // January has 31 of the quarter's 90 days.
        assert_eq!(parts[0].1, Micros::parse("310000").unwrap());
        assert_eq!(parts[1].1, Micros::parse("280000").unwrap());
        assert!(parts.iter().all(|(_, a)| a.0 % 10_000 == 0));
        let year = BudgetPeriod::Year(2028).spread(Micros::from_units(1_000_000));
        assert_eq!(
            year.iter().map(|(_, a)| a.0).sum::<i64>(),
            1_000_000_000_000
        );
    }

    #[test]
    fn quarters_of_days() {
        let d = |m, day| NaiveDate::from_ymd_opt(2026, m, day).unwrap();
        assert_eq!(quarter_of(d(11, 15)), (d(10, 1), d(12, 31)));
        assert_eq!(quarter_of(d(1, 1)), (d(1, 1), d(3, 31)));
    }
}

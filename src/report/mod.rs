//! Reports: the sums, comparisons and charts the pages, the API and the
//! CSV export are built from. Plain functions over a connection, so tests
//! call them directly.

pub mod catalog;
pub mod chart;
pub mod drivers;
pub mod explorer;
pub mod export;
pub mod month;
pub mod overview;
pub mod period;
pub mod unallocated;

use std::ops::AddAssign;

use serde::Serialize;

use crate::db::DbError;
use crate::money::Micros;

pub use catalog::Catalog;

#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// The request asked for something that cannot be answered; the text
    /// says which parameter and why.
    #[error("{0}")]
    BadInput(String),
    #[error(transparent)]
    Db(#[from] DbError),
}

/// Which cost a chart or ranking uses.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Metric {
    /// What the invoice says (purchases when paid).
    Billed,
    /// Amortised: commitment purchases spread over the usage they cover.
    Effective,
}

impl Metric {
    pub fn parse(text: &str) -> Option<Metric> {
        match text.trim().to_ascii_lowercase().as_str() {
            "billed" => Some(Metric::Billed),
            "effective" | "amortised" | "amortized" => Some(Metric::Effective),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Metric::Billed => "billed",
            Metric::Effective => "effective",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Metric::Billed => "Billed cost",
            Metric::Effective => "Effective (amortised) cost",
        }
    }
}

/// Billed and effective cost together.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Amounts {
    pub billed: Micros,
    pub effective: Micros,
}

impl Amounts {
    pub fn get(&self, metric: Metric) -> Micros {
        match metric {
            Metric::Billed => self.billed,
            Metric::Effective => self.effective,
        }
    }
}

impl AddAssign for Amounts {
    fn add_assign(&mut self, rhs: Amounts) {
        self.billed += rhs.billed;
        self.effective += rhs.effective;
    }
}

/// A change between two periods.
#[derive(Copy, Clone, Debug, PartialEq, Serialize)]
pub struct Change {
    pub delta: Micros,
    /// Percent of the previous value; `None` when there was nothing before
    /// or the amount changed sign (a credit that became a charge), where a
    /// percentage would mean nothing.
    pub percent: Option<f64>,
    /// The amount went from below zero to above it or back.
    #[serde(skip)]
    pub crossed_zero: bool,
}

impl Change {
    /// Amounts that round to zero cents count as zero: a change from
    /// −$0.000005 to −$0.000021 is no change, not −320 %.
    pub fn between(current: Micros, previous: Micros) -> Change {
        let delta = current - previous;
        let (now, before) = (current.round_to_cents(), previous.round_to_cents());
        let crossed_zero = now != 0 && before != 0 && (now > 0) != (before > 0);
        let percent = if before == 0 || delta.round_to_cents() == 0 || crossed_zero {
            None
        } else {
            Some(delta.0 as f64 * 100.0 / previous.0.abs() as f64)
        };
        Change {
            delta,
            percent,
            crossed_zero,
        }
    }

    /// The change of the amount per day, for periods of different length
    /// (a 30-day month against a 31-day one).
    pub fn per_day(current: Micros, days: i64, previous: Micros, previous_days: i64) -> Change {
        Change::between(
            Micros(current.0 / days.max(1)),
            Micros(previous.0 / previous_days.max(1)),
        )
    }

    /// `+12.3 %`, `−4.0 %`, `new`, or `n/a` across a change of sign.
    pub fn percent_text(&self) -> String {
        match self.percent {
            Some(p) => signed_percent_text(p),
            None if self.delta.round_to_cents() == 0 => "–".to_string(),
            None if self.crossed_zero => "n/a".to_string(),
            None => "new".to_string(),
        }
    }

    /// `up`, `down` or `flat`, for styling.
    pub fn direction(&self) -> &'static str {
        let cents = self.delta.round_to_cents();
        if cents > 0 {
            "up"
        } else if cents < 0 {
            "down"
        } else {
            "flat"
        }
    }
}

/// A signed change in percent: `+12.3 %`, `−4.0 %`, `0.0 %` when it
/// rounds to nothing.
pub fn signed_percent_text(p: f64) -> String {
    if p.abs() < 0.05 {
        "0.0 %".to_string()
    } else {
        format!("{}{:.1} %", if p > 0.0 { "+" } else { "−" }, p.abs())
    }
}

/// Formats a share as `12.3 %`.
pub fn percent_text(value: Option<f64>) -> String {
    match value {
        // No "-0.0 %" for a share that rounds to nothing.
        Some(v) if v.abs() < 0.05 => "0.0 %".to_string(),
        Some(v) => format!("{v:.1} %"),
        None => "–".to_string(),
    }
}

#[cfg(test)]
mod change_tests {
    use super::*;

    #[test]
    fn amounts_that_round_to_zero_cents_are_no_change() {
        // November's unallocated · global: −0.000021 against −0.000005.
        let c = Change::between(Micros(-21), Micros(-5));
        assert_eq!(c.percent_text(), "–");
        assert_eq!(c.direction(), "flat");
        assert_eq!(crate::web::views::signed_money(c.delta, "USD"), "$0.00");
        // A real change keeps its percent and sign.
        let c = Change::between(Micros(1_100_000), Micros(1_000_000));
        assert_eq!(c.percent_text(), "+10.0 %");
        assert_eq!(c.direction(), "up");
        // From (almost) nothing: new.
        assert_eq!(
            Change::between(Micros(5_000_000), Micros(3)).percent_text(),
            "new"
        );
        // A credit of $4,073.44 that became a charge of $15,000: no
        // percentage (it would read −468 %).
        let c = Change::between(Micros(15_000_000_000), Micros(-4_073_440_000));
        assert_eq!((c.percent, c.percent_text().as_str()), (None, "n/a"));
        assert_eq!(c.direction(), "up");
        // Still below zero, smaller: a plain percentage.
        let c = Change::between(Micros(-2_000_000), Micros(-4_000_000));
        assert_eq!(c.percent_text(), "+50.0 %");
    }
}

//! Reports: the sums, comparisons and charts the pages, the API and the
//! CSV export are built from. Plain functions over a connection, so tests
//! call them directly.

pub mod catalog;
pub mod chart;
pub mod explorer;
pub mod export;
pub mod month;
pub mod overview;
pub mod period;

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
    /// Percent of the previous value; `None` when there was nothing before.
    pub percent: Option<f64>,
}

impl Change {
    pub fn between(current: Micros, previous: Micros) -> Change {
        let delta = current - previous;
        let percent = if previous.is_zero() {
            None
        } else {
            Some(delta.0 as f64 * 100.0 / previous.0.abs() as f64)
        };
        Change { delta, percent }
    }

    /// `+12.3 %`, `−4.0 %`, `new`.
    pub fn percent_text(&self) -> String {
        match self.percent {
            Some(p) if p.abs() < 0.05 => "0.0 %".to_string(),
            Some(p) => format!("{}{:.1} %", if p > 0.0 { "+" } else { "−" }, p.abs()),
            None if self.delta.is_zero() => "–".to_string(),
            None => "new".to_string(),
        }
    }

    /// `up`, `down` or `flat`, for styling.
    pub fn direction(&self) -> &'static str {
        if self.delta.0 > 0 {
            "up"
        } else if self.delta.0 < 0 {
            "down"
        } else {
            "flat"
        }
    }
}

/// Formats a share as `12.3 %`.
pub fn percent_text(value: Option<f64>) -> String {
    match value {
        Some(v) => format!("{v:.1} %"),
        None => "–".to_string(),
    }
}

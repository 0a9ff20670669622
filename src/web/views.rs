//! Pieces every page shares: the layout data and value formatting.

use chrono::NaiveDate;

use crate::money::Micros;
use crate::report::{Catalog, Change};

/// Data the base layout shows on every page.
#[derive(Clone, Debug)]
pub struct Layout {
    pub title: String,
    /// `overview`, `month`, `costs` or empty.
    pub active: &'static str,
    /// "Data from … to … · USD · SQLite" or similar.
    pub data_note: String,
    pub asset_version: &'static str,
}

impl Layout {
    pub fn new(title: &str, active: &'static str, catalog: &Catalog, database: &str) -> Layout {
        let data_note = match (catalog.first_day, catalog.last_day) {
            (Some(first), Some(last)) => format!(
                "Data {} to {} · {} · {}",
                short_date(first),
                short_date(last),
                catalog.currencies.join(", "),
                database
            ),
            _ => format!("No data yet · {database}"),
        };
        Layout {
            title: title.to_string(),
            active,
            data_note,
            asset_version: super::assets::VERSION,
        }
    }

    /// For error pages, which may have no database.
    pub fn plain(title: &str) -> Layout {
        Layout {
            title: title.to_string(),
            active: "",
            data_note: String::new(),
            asset_version: super::assets::VERSION,
        }
    }
}

pub fn money(m: Micros, currency: &str) -> String {
    m.display(currency)
}

/// "+$1,234.00" / "−$56.00".
pub fn signed_money(m: Micros, currency: &str) -> String {
    if m.0 > 0 {
        format!("+{}", m.display(currency))
    } else if m.0 < 0 {
        format!("−{}", m.abs().display(currency))
    } else {
        m.display(currency)
    }
}

/// A change as shown in tables.
#[derive(Clone, Debug)]
pub struct ChangeView {
    pub amount: String,
    pub percent: String,
    /// `up`, `down`, `flat` (CSS class).
    pub direction: &'static str,
}

impl ChangeView {
    pub fn of(change: &Change, currency: &str) -> ChangeView {
        ChangeView {
            amount: signed_money(change.delta, currency),
            percent: change.percent_text(),
            direction: change.direction(),
        }
    }
}

pub fn short_date(d: NaiveDate) -> String {
    d.format("%-d %b %Y").to_string()
}

/// "1 Oct – 31 Oct 2026" style range.
pub fn range_text(from: NaiveDate, to: NaiveDate) -> String {
    if from == to {
        short_date(from)
    } else {
        format!("{} – {}", short_date(from), short_date(to))
    }
}

pub fn thousands(n: f64) -> String {
    let whole = n.round() as i64;
    let digits = whole.abs().to_string();
    let mut out = String::new();
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    if whole < 0 {
        format!("-{out}")
    } else {
        out
    }
}

/// Builds a query string from pairs (values percent-encoded).
pub fn query_string(pairs: &[(&str, String)]) -> String {
    let mut ser = form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        if !v.is_empty() {
            ser.append_pair(k, v);
        }
    }
    ser.finish()
}

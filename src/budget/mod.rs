//! Budgets a finance team sets: what a budget covers (`BudgetSpec`), the
//! periods it can be entered for (`period`: a month, or a quarter or year
//! spread over its months), the CSV import (`import`), and how each one
//! stands: actual, forecast to the end of the month and quarter, and the
//! day the forecast crosses it (`status`).

pub mod import;
pub mod period;
pub mod status;

use crate::db::budgets::{BudgetKey, NewBudget, ALL};
use crate::money::Micros;

pub use period::BudgetPeriod;

#[derive(Debug, thiserror::Error)]
pub enum BudgetError {
    #[error("{0}")]
    Invalid(String),
    #[error("{file}: line {line}, column {column}: {message}")]
    Row {
        file: String,
        line: usize,
        column: String,
        message: String,
    },
    #[error("{file}: {message}")]
    File { file: String, message: String },
    #[error(transparent)]
    Db(#[from] crate::db::DbError),
    #[error(transparent)]
    Report(#[from] crate::report::ReportError),
}

impl From<diesel::result::Error> for BudgetError {
    fn from(e: diesel::result::Error) -> BudgetError {
        BudgetError::Db(e.into())
    }
}

/// Which cost a budget is measured on.
#[derive(Copy, Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Basis {
    /// Amortised: commitments spread over their term (what finance plans).
    Effective,
    /// As invoiced.
    Billed,
}

impl Basis {
    pub fn as_str(self) -> &'static str {
        match self {
            Basis::Effective => "effective",
            Basis::Billed => "billed",
        }
    }

    pub fn parse(text: &str) -> Result<Basis, String> {
        match text.trim().to_ascii_lowercase().as_str() {
            "" | "effective" | "amortised" | "amortized" => Ok(Basis::Effective),
            "billed" | "invoiced" => Ok(Basis::Billed),
            other => Err(format!(
                "'{other}' is not a basis: expected effective or billed"
            )),
        }
    }
}

/// What a budget covers: `all` or one platform, region and service, and
/// optionally one tag value (`team=matchmaking`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Scope {
    pub platform: String,
    pub region: String,
    pub service: String,
    /// `key=value`, or '' for no tag.
    pub tag: String,
}

impl Scope {
    pub fn total() -> Scope {
        Scope {
            platform: ALL.to_string(),
            region: ALL.to_string(),
            service: ALL.to_string(),
            tag: String::new(),
        }
    }

    /// The same scope narrowed to a tag value: `key=value` (both printable,
    /// the key non-empty); empty text is no tag.
    pub fn with_tag(self, tag: &str) -> Result<Scope, String> {
        let tag = tag.trim();
        if tag.is_empty() {
            return Ok(self);
        }
        let Some((key, value)) = tag.split_once('=') else {
            return Err(format!(
                "tag '{tag}': write it as key=value (team=matchmaking)"
            ));
        };
        let (key, value) = (key.trim(), value.trim());
        if key.is_empty()
            || tag.len() > 256
            || tag.chars().any(char::is_control)
            || key.contains('"')
            || value.contains('"')
        {
            return Err(format!(
                "tag '{tag}': a key and a value of printable text without quotes, at most 256 characters"
            ));
        }
        Ok(Scope {
            tag: format!("{key}={value}"),
            ..self
        })
    }

    /// Checks and normalises entered values: a platform by its known names
    /// (or `unallocated`), regions and services as printable text; empty
    /// means `all`.
    pub fn parse(platform: &str, region: &str, service: &str) -> Result<Scope, String> {
        let one = |name: &str, v: &str| -> Result<String, String> {
            let v = v.trim();
            if v.is_empty() || v.eq_ignore_ascii_case(ALL) {
                Ok(ALL.to_string())
            } else {
                crate::dims::validate_dimension_value(name, v)
            }
        };
        let platform = match platform.trim() {
            p if p.is_empty() || p.eq_ignore_ascii_case(ALL) => ALL.to_string(),
            p => crate::dims::parse_platform_filter(p).map_err(|e| e.to_string())?,
        };
        Ok(Scope {
            platform,
            region: one("region", region)?,
            service: one("service", service)?,
            tag: String::new(),
        })
    }

    pub fn is_total(&self) -> bool {
        self.platform == ALL && self.region == ALL && self.service == ALL && self.tag.is_empty()
    }

    /// "PC · us-east-1", "tag team=core", "all spend".
    pub fn label(&self) -> String {
        crate::dims::budget_scope_label(&self.platform, &self.region, &self.service, &self.tag)
    }
}

/// A budget as entered: an amount for a period, a scope, a basis.
#[derive(Clone, Debug, PartialEq)]
pub struct BudgetSpec {
    pub period: BudgetPeriod,
    pub amount: Micros,
    pub currency: String,
    pub scope: Scope,
    pub basis: Basis,
    pub note: String,
}

impl BudgetSpec {
    /// The monthly rows it stores: a quarter or year spread over its
    /// months by their days, to the cent, the months summing to the
    /// amount exactly.
    pub fn rows(&self) -> Vec<NewBudget> {
        self.period
            .spread(self.amount)
            .into_iter()
            .map(|(month, amount)| NewBudget {
                month: month.to_string(),
                platform: self.scope.platform.clone(),
                region: self.scope.region.clone(),
                service: self.scope.service.clone(),
                tag: self.scope.tag.clone(),
                basis: self.basis.as_str().to_string(),
                amount_micros: amount.0,
                currency: self.currency.clone(),
                note: self.note.clone(),
            })
            .collect()
    }
}

/// The key of a stored row.
pub fn key_of(row: &NewBudget) -> BudgetKey {
    BudgetKey {
        month: row.month.clone(),
        platform: row.platform.clone(),
        region: row.region.clone(),
        service: row.service.clone(),
        tag: row.tag.clone(),
        basis: row.basis.clone(),
        currency: row.currency.clone(),
    }
}

/// Checks an entered amount: a plain decimal, positive, at most cents.
pub fn parse_amount(text: &str) -> Result<Micros, String> {
    let mut t = text.trim().replace(['_', ' '], "");
    // Thousands written with commas (2,800,000.50); a comma anywhere else
    // (a decimal comma) stays and is refused below.
    let whole = t.split('.').next().unwrap_or("");
    let groups: Vec<&str> = whole.split(',').collect();
    if groups.len() > 1
        && (1..=3).contains(&groups[0].len())
        && groups[1..].iter().all(|g| g.len() == 3)
        && groups.iter().all(|g| g.chars().all(|c| c.is_ascii_digit()))
    {
        t = t.replace(',', "");
    }
    let m = Micros::parse(&t).map_err(|_| {
        format!(
            "'{}' is not an amount: expected a decimal such as 950000, 950,000 or 12500.50",
            text.trim()
        )
    })?;
    if m.0 <= 0 {
        return Err(format!(
            "'{}': a budget must be more than zero",
            text.trim()
        ));
    }
    if m.0 % 10_000 != 0 {
        return Err(format!("'{}': a budget is set to the cent", text.trim()));
    }
    Ok(m)
}

/// Stores budgets (each month's row replacing the same key's) and records
/// the change as a run, in one transaction.
pub fn save(
    conn: &mut crate::db::DbConnection,
    specs: &[BudgetSpec],
    what: &str,
) -> Result<usize, BudgetError> {
    use diesel::Connection;
    let rows: Vec<NewBudget> = specs.iter().flat_map(BudgetSpec::rows).collect();
    conn.transaction::<_, BudgetError, _>(|conn| {
        for row in &rows {
            crate::db::budgets::set_budget(conn, row)?;
        }
        crate::runs::record_change(
            conn,
            crate::runs::Source::Budgets,
            what,
            rows.len(),
            crate::clock::now(),
            format!(
                "{} monthly budget{} set",
                rows.len(),
                if rows.len() == 1 { "" } else { "s" }
            ),
        )?;
        Ok(rows.len())
    })
}

/// Removes the budgets of `spec`'s months and scope; returns how many.
pub fn remove(
    conn: &mut crate::db::DbConnection,
    period: &BudgetPeriod,
    scope: &Scope,
    basis: Basis,
    currency: &str,
    what: &str,
) -> Result<usize, BudgetError> {
    use diesel::Connection;
    conn.transaction::<_, BudgetError, _>(|conn| {
        let mut n = 0;
        for month in period.months() {
            n += crate::db::budgets::remove_budget(
                conn,
                &BudgetKey {
                    month: month.to_string(),
                    platform: scope.platform.clone(),
                    region: scope.region.clone(),
                    service: scope.service.clone(),
                    tag: scope.tag.clone(),
                    basis: basis.as_str().to_string(),
                    currency: currency.to_string(),
                },
            )?;
        }
        if n > 0 {
            crate::runs::record_change(
                conn,
                crate::runs::Source::Budgets,
                what,
                0,
                crate::clock::now(),
                format!(
                    "{n} monthly budget{} removed",
                    if n == 1 { "" } else { "s" }
                ),
            )?;
        }
        Ok(n)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_are_positive_and_to_the_cent() {
        assert_eq!(parse_amount("950000").unwrap(), Micros::from_units(950_000));
        assert_eq!(parse_amount("1_250.50").unwrap().0, 1_250_500_000);
        assert!(parse_amount("0").is_err());
        assert!(parse_amount("-5").is_err());
        assert!(parse_amount("12.345").unwrap_err().contains("cent"));
        // Thousands separators are read; a decimal comma is refused.
        assert_eq!(
            parse_amount("2,800,000").unwrap(),
            Micros::from_units(2_800_000)
        );
        assert_eq!(parse_amount("1,000.50").unwrap().0, 1_000_500_000);
        assert!(parse_amount("1,00").is_err());
        assert!(parse_amount("12,5").is_err());
    }

    #[test]
    fn scopes_normalise_platform_names_and_empty_values() {
        let s = Scope::parse("playstation", "", "ALL").unwrap();
        assert_eq!(s.platform, "PlayStation");
        assert_eq!(s.region, "all");
        assert_eq!(s.service, "all");
        assert!(Scope::parse("Dreamcast", "", "").is_err());
        assert!(Scope::parse("", "", "").unwrap().is_total());
        assert_eq!(
            Scope::parse("PC", "us-east-1", "").unwrap().label(),
            "PC · us-east-1"
        );
    }
}

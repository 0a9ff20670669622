//! What data there is: currencies, dimension values and the date range.
//! Pages use it for defaults and filter choices.

use chrono::NaiveDate;

use crate::db::costs::{self, Dim};
use crate::db::{DbConnection, DbError};
use crate::dims;
use crate::report::period::Month;

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Catalog {
    /// Most used first.
    pub currencies: Vec<String>,
    pub platforms: Vec<String>,
    pub regions: Vec<String>,
    pub services: Vec<String>,
    pub first_day: Option<NaiveDate>,
    pub last_day: Option<NaiveDate>,
}

impl Catalog {
    pub fn load(conn: &mut DbConnection) -> Result<Catalog, DbError> {
        let range = costs::date_range(conn)?;
        let values = |conn: &mut DbConnection, column: &str| -> Result<Vec<String>, DbError> {
            Ok(costs::distinct_values(conn, column)?
                .into_iter()
                .map(|(v, _)| v)
                .collect())
        };
        let currencies = values(conn, "currency")?;
        let mut platforms = values(conn, Dim::Platform.column())?;
        platforms.sort_by_key(|p| dims::platform_order(p));
        let mut regions = values(conn, Dim::Region.column())?;
        regions.sort();
        let mut services = values(conn, Dim::Service.column())?;
        services.sort();
        Ok(Catalog {
            currencies,
            platforms,
            regions,
            services,
            first_day: range.map(|r| r.0),
            last_day: range.map(|r| r.1),
        })
    }

    pub fn is_empty(&self) -> bool {
        self.last_day.is_none()
    }

    /// Why `month` has no costs to show, when it lies wholly outside the
    /// imported days: after the last day ("no data yet"), before the
    /// first, or nothing imported at all. `None` when the month overlaps
    /// the data (a gap inside the range still shows as zeros).
    pub fn month_without_data(&self, month: Month) -> Option<String> {
        match (self.first_day, self.last_day) {
            (Some(first), Some(last)) => {
                if month.first_day() > last {
                    Some(format!(
                        "no data yet for {month}: imported costs run from {first} to {last}"
                    ))
                } else if month.last_day() < first {
                    Some(format!(
                        "no data for {month}: imported costs start on {first} (and run to {last})"
                    ))
                } else {
                    None
                }
            }
            _ => Some(format!(
                "no data for {month}: no costs have been imported yet"
            )),
        }
    }

    /// The currency reports use unless asked otherwise (the reporting
    /// currency, `crate::currency`).
    pub fn default_currency(&self) -> String {
        crate::currency::most_used(self.currencies.iter().map(|c| (c.clone(), 0)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn catalog(first: &str, last: &str) -> Catalog {
        Catalog {
            first_day: Some(first.parse().unwrap()),
            last_day: Some(last.parse().unwrap()),
            ..Catalog::default()
        }
    }

    #[test]
    fn months_outside_the_data_say_why_they_are_empty() {
        let c = catalog("2024-12-01", "2026-11-30");
        let m = |s: &str| s.parse::<Month>().unwrap();
        assert_eq!(c.month_without_data(m("2026-11")), None);
        assert_eq!(c.month_without_data(m("2024-12")), None);
        let after = c.month_without_data(m("2026-12")).unwrap();
        assert!(after.starts_with("no data yet for 2026-12"), "{after}");
        assert!(after.contains("2024-12-01 to 2026-11-30"), "{after}");
        let before = c.month_without_data(m("2024-11")).unwrap();
        assert!(before.contains("start on 2024-12-01"), "{before}");
        // A partial last month is still a month with data.
        let partial = catalog("2024-12-01", "2026-11-03");
        assert_eq!(partial.month_without_data(m("2026-11")), None);
        assert!(Catalog::default()
            .month_without_data(m("2026-11"))
            .is_some());
    }
}

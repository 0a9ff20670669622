//! What data there is: currencies, dimension values and the date range.
//! Pages use it for defaults and filter choices.

use chrono::NaiveDate;

use crate::db::costs::{self, Dim};
use crate::db::{DbConnection, DbError};
use crate::dims;

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

    /// The currency reports use unless asked otherwise (the reporting
    /// currency, `crate::currency`).
    pub fn default_currency(&self) -> String {
        crate::currency::most_used(self.currencies.iter().map(|c| (c.clone(), 0)))
    }
}

//! Hand-written SQL for the reports, with the few expressions that differ
//! between SQLite and PostgreSQL (date buckets, placeholders) in one place.

use chrono::NaiveDate;
use diesel::query_builder::BoxedSqlQuery;
use diesel::query_builder::SqlQuery;
use diesel::sql_types::{BigInt, Date, Double, Text};
use diesel::{QueryResult, QueryableByName, RunQueryDsl};

use super::{DbConnection, MultiBackend};

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

/// Date bucket sizes for time series.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Granularity {
    Day,
    Week,
    Month,
}

impl Granularity {
    pub fn as_str(self) -> &'static str {
        match self {
            Granularity::Day => "day",
            Granularity::Week => "week",
            Granularity::Month => "month",
        }
    }

    pub fn parse(text: &str) -> Option<Granularity> {
        match text.trim().to_ascii_lowercase().as_str() {
            "day" | "daily" => Some(Granularity::Day),
            "week" | "weekly" => Some(Granularity::Week),
            "month" | "monthly" => Some(Granularity::Month),
            _ => None,
        }
    }
}

impl Dialect {
    /// The bind placeholder for the n-th (1-based) parameter.
    fn placeholder(self, n: usize) -> String {
        match self {
            Dialect::Sqlite => "?".to_string(),
            Dialect::Postgres => format!("${n}"),
        }
    }

    /// `YYYY-MM-DD` text of the first day of the bucket that `column` (a
    /// DATE) falls in. Weeks start on Monday (ISO 8601).
    pub fn date_bucket(self, column: &str, granularity: Granularity) -> String {
        match (self, granularity) {
            (Dialect::Sqlite, Granularity::Day) => column.to_string(),
            (Dialect::Sqlite, Granularity::Week) => format!(
                "date({column}, '-' || ((CAST(strftime('%w', {column}) AS INTEGER) + 6) % 7) || ' days')"
            ),
            (Dialect::Sqlite, Granularity::Month) => format!("substr({column}, 1, 7) || '-01'"),
            (Dialect::Postgres, Granularity::Day) => format!("to_char({column}, 'YYYY-MM-DD')"),
            (Dialect::Postgres, Granularity::Week) => {
                format!("to_char(date_trunc('week', {column}), 'YYYY-MM-DD')")
            }
            (Dialect::Postgres, Granularity::Month) => {
                format!("to_char(date_trunc('month', {column}), 'YYYY-MM-DD')")
            }
        }
    }

    /// `YYYY-MM-DD` text of a DATE column.
    pub fn date_text(self, column: &str) -> String {
        self.date_bucket(column, Granularity::Day)
    }
}

/// A bound parameter.
#[derive(Clone, Debug)]
pub enum SqlValue {
    Text(String),
    Date(NaiveDate),
    BigInt(i64),
    Double(f64),
}

/// SQL text plus its bound parameters, numbered for the backend.
#[derive(Clone, Debug)]
pub struct Sql {
    dialect: Dialect,
    text: String,
    binds: Vec<SqlValue>,
}

impl Sql {
    pub fn new(dialect: Dialect) -> Sql {
        Sql {
            dialect,
            text: String::new(),
            binds: Vec::new(),
        }
    }

    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    pub fn push(&mut self, text: &str) -> &mut Sql {
        self.text.push_str(text);
        self
    }

    pub fn bind(&mut self, value: SqlValue) -> &mut Sql {
        self.binds.push(value);
        let placeholder = self.dialect.placeholder(self.binds.len());
        self.text.push_str(&placeholder);
        self
    }

    pub fn bind_text(&mut self, value: &str) -> &mut Sql {
        self.bind(SqlValue::Text(value.to_string()))
    }

    pub fn bind_date(&mut self, value: NaiveDate) -> &mut Sql {
        self.bind(SqlValue::Date(value))
    }

    /// ` AND column IN (?, ?, …)`; nothing when `values` is empty.
    pub fn and_in(&mut self, column: &str, values: &[String]) -> &mut Sql {
        if values.is_empty() {
            return self;
        }
        self.push(" AND ").push(column).push(" IN (");
        for (i, v) in values.iter().enumerate() {
            if i > 0 {
                self.push(", ");
            }
            self.bind_text(v);
        }
        self.push(")")
    }

    pub fn text(&self) -> &str {
        &self.text
    }

    fn into_query(self) -> BoxedSqlQuery<'static, MultiBackend, SqlQuery> {
        let mut query = diesel::sql_query(self.text).into_boxed::<MultiBackend>();
        for value in self.binds {
            query = match value {
                SqlValue::Text(v) => query.bind::<Text, _>(v),
                SqlValue::Date(v) => query.bind::<Date, _>(v),
                SqlValue::BigInt(v) => query.bind::<BigInt, _>(v),
                SqlValue::Double(v) => query.bind::<Double, _>(v),
            };
        }
        query
    }

    pub fn load<T>(self, conn: &mut DbConnection) -> QueryResult<Vec<T>>
    where
        T: QueryableByName<MultiBackend> + 'static,
    {
        self.into_query().load::<T>(conn)
    }

    pub fn execute(self, conn: &mut DbConnection) -> QueryResult<usize> {
        self.into_query().execute(conn)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_placeholders_per_backend() {
        let mut pg = Sql::new(Dialect::Postgres);
        pg.push("SELECT 1 WHERE a = ")
            .bind_text("x")
            .and_in("b", &["p".into(), "q".into()]);
        assert_eq!(pg.text(), "SELECT 1 WHERE a = $1 AND b IN ($2, $3)");
        let mut lite = Sql::new(Dialect::Sqlite);
        lite.push("SELECT 1 WHERE a = ")
            .bind_text("x")
            .and_in("b", &[]);
        assert_eq!(lite.text(), "SELECT 1 WHERE a = ?");
    }
}

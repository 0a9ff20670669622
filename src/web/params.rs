//! Query-string parameters: parsed strictly, so a typo or a bad value gets
//! a 400 that names the parameter, never a 500 or a silently wrong answer.

use chrono::{Duration, NaiveDate};

use crate::db::costs::{CostFilter, Dim};
use crate::db::sql::Granularity;
use crate::dims;
use crate::report::period::{parse_date, Month};
use crate::report::{Catalog, Metric};

/// Most values one parameter may repeat.
const MAX_VALUES: usize = 200;

/// What the data of an API route comes as (`format=json|csv`, any case,
/// spaces around it ignored). Parsed once per request by the guard, which
/// decides on it (CSV is an export); the handler and the audit read that
/// same value with [`OutputFormat::of_request`].
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum OutputFormat {
    Json,
    Csv,
}

impl OutputFormat {
    pub fn of(query: &str) -> Result<OutputFormat, String> {
        match Params::parse(query).one("format")? {
            None => Ok(OutputFormat::Json),
            Some(v) if v.eq_ignore_ascii_case("json") => Ok(OutputFormat::Json),
            Some(v) if v.eq_ignore_ascii_case("csv") => Ok(OutputFormat::Csv),
            Some(other) => Err(format!("parameter 'format': '{other}' is not json or csv")),
        }
    }

    /// The format the guard parsed for this request.
    pub fn of_request(req: &actix_web::HttpRequest) -> Result<OutputFormat, String> {
        use actix_web::HttpMessage;
        let parsed = req.extensions().get::<OutputFormat>().copied();
        match parsed {
            Some(f) => Ok(f),
            None => OutputFormat::of(req.query_string()),
        }
    }
}

#[derive(Clone, Debug, Default)]
pub struct Params {
    pairs: Vec<(String, String)>,
}

/// `base` then `extra` as one list of parameter names, for an address
/// that takes another's parameters and a few of its own. `N` must be the
/// sum of their lengths (checked when compiled).
pub const fn joined<const N: usize>(
    base: &[&'static str],
    extra: &[&'static str],
) -> [&'static str; N] {
    assert!(
        base.len() + extra.len() == N,
        "joined: N must be the sum of the lengths"
    );
    let mut out = [""; N];
    let mut i = 0;
    while i < base.len() {
        out[i] = base[i];
        i += 1;
    }
    let mut j = 0;
    while j < extra.len() {
        out[i + j] = extra[j];
        j += 1;
    }
    out
}

impl Params {
    pub fn parse(query: &str) -> Params {
        Params {
            pairs: form_urlencoded::parse(query.as_bytes())
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        }
    }

    /// Control characters (NUL included) never reach a query or a page.
    fn check_printable(&self, name: &str) -> Result<(), String> {
        let bad = self
            .pairs
            .iter()
            .any(|(k, v)| k == name && v.chars().any(char::is_control));
        if bad {
            Err(format!("parameter '{name}' contains a control character"))
        } else {
            Ok(())
        }
    }

    /// Refuses parameters the endpoint does not know.
    pub fn allow_only(&self, known: &[&str]) -> Result<(), String> {
        for (k, _) in &self.pairs {
            if !known.contains(&k.as_str()) {
                return Err(format!(
                    "unknown parameter '{k}' (this address takes: {})",
                    known.join(", ")
                ));
            }
        }
        Ok(())
    }

    /// The single value of `name`, `None` if absent or empty.
    pub fn one(&self, name: &str) -> Result<Option<&str>, String> {
        self.check_printable(name)?;
        let mut values = self
            .pairs
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.trim())
            .filter(|v| !v.is_empty());
        let first = values.next();
        if values.next().is_some() {
            return Err(format!("parameter '{name}' is given more than once"));
        }
        Ok(first)
    }

    /// Every value of `name`, repeated (`a=1&a=2`) or comma-separated.
    pub fn many(&self, name: &str) -> Result<Vec<String>, String> {
        self.check_printable(name)?;
        let values: Vec<String> = self
            .pairs
            .iter()
            .filter(|(k, _)| k == name)
            .flat_map(|(_, v)| v.split(','))
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_string)
            .collect();
        if values.len() > MAX_VALUES {
            return Err(format!(
                "parameter '{name}' has more than {MAX_VALUES} values"
            ));
        }
        Ok(values)
    }

    pub fn date(&self, name: &str) -> Result<Option<NaiveDate>, String> {
        self.one(name)?
            .map(|v| parse_date(v).map_err(|e| format!("parameter '{name}': {e}")))
            .transpose()
    }

    pub fn month(&self, name: &str) -> Result<Option<Month>, String> {
        self.one(name)?
            .map(|v| {
                v.parse::<Month>()
                    .map_err(|e| format!("parameter '{name}': {e}"))
            })
            .transpose()
    }

    pub fn platforms(&self) -> Result<Vec<String>, String> {
        let mut out = Vec::new();
        for v in self.many("platform")? {
            let p = dims::parse_platform_filter(&v)
                .map_err(|e| format!("parameter 'platform': {e}"))?;
            if !out.contains(&p) {
                out.push(p);
            }
        }
        Ok(out)
    }

    pub fn dimension_values(&self, name: &str) -> Result<Vec<String>, String> {
        let mut out = Vec::new();
        for v in self.many(name)? {
            let v = dims::validate_dimension_value(name, &v)?;
            if !out.contains(&v) {
                out.push(v);
            }
        }
        Ok(out)
    }

    pub fn metric(&self) -> Result<Metric, String> {
        match self.one("metric")? {
            None => Ok(Metric::Effective),
            Some(v) => Metric::parse(v).ok_or_else(|| {
                format!("parameter 'metric': '{v}' is not a cost metric (billed or effective)")
            }),
        }
    }

    pub fn granularity(&self, default: Granularity) -> Result<Granularity, String> {
        match self.one("granularity")? {
            None => Ok(default),
            Some(v) => Granularity::parse(v).ok_or_else(|| {
                format!("parameter 'granularity': '{v}' is not one of day, week, month")
            }),
        }
    }

    pub fn group_by(&self, default: &[Dim]) -> Result<Vec<Dim>, String> {
        let values = self.many("group_by")?;
        if values.is_empty() {
            return Ok(default.to_vec());
        }
        let mut out = Vec::new();
        for v in values {
            if v.eq_ignore_ascii_case("none") {
                continue;
            }
            let d = Dim::parse(&v).ok_or_else(|| {
                format!(
                    "parameter 'group_by': '{v}' is not a dimension (platform, region, service, provider, account, charge_category)"
                )
            })?;
            if out.contains(&d) {
                return Err(format!("parameter 'group_by': '{v}' is given twice"));
            }
            out.push(d);
        }
        Ok(out)
    }

    /// The currency to report in: the one asked for (it must exist) or the
    /// most used one.
    pub fn currency(&self, catalog: &Catalog) -> Result<String, String> {
        match self.one("currency")? {
            None => Ok(catalog.default_currency()),
            Some(v) => {
                let v = v.to_ascii_uppercase();
                if catalog.currencies.is_empty() || catalog.currencies.contains(&v) {
                    Ok(v)
                } else {
                    Err(format!(
                        "parameter 'currency': no costs in '{v}' (available: {})",
                        catalog.currencies.join(", ")
                    ))
                }
            }
        }
    }

    /// `from` and `to` (inclusive), defaulting to `default`; checked.
    pub fn range(&self, default: (NaiveDate, NaiveDate)) -> Result<(NaiveDate, NaiveDate), String> {
        let from = self.date("from")?;
        let to = self.date("to")?;
        let (from, to) = match (from, to) {
            (Some(f), Some(t)) => (f, t),
            (Some(f), None) => (f, default.1.max(f)),
            (None, Some(t)) => (default.0.min(t), t),
            (None, None) => default,
        };
        if to < from {
            return Err(format!("parameter 'to' ({to}) is before 'from' ({from})"));
        }
        if (to - from).num_days() > 366 * 10 {
            return Err(format!("the range {from} to {to} is longer than ten years"));
        }
        Ok((from, to))
    }

    /// The platform, region and service filters plus range and currency.
    pub fn cost_filter(
        &self,
        catalog: &Catalog,
        default: (NaiveDate, NaiveDate),
    ) -> Result<CostFilter, String> {
        let (from, to) = self.range(default)?;
        Ok(CostFilter {
            from,
            to,
            currency: self.currency(catalog)?,
            platforms: self.platforms()?,
            regions: self.dimension_values("region")?,
            services: self.dimension_values("service")?,
            charge_categories: Vec::new(),
        })
    }
}

/// The last complete month of data (or the month of the last day, when the
/// data covers a whole month), for default periods.
pub fn default_month(catalog: &Catalog, today: NaiveDate) -> Month {
    match catalog.last_day {
        Some(last) => {
            let m = Month::of(last);
            if last == m.last_day() {
                m
            } else {
                m.prev()
            }
        }
        None => Month::of(today).prev(),
    }
}

/// A default range of whole periods ending at the last complete one:
/// 30 days, 13 weeks (Monday to Sunday) or 12 months.
pub fn default_whole_periods(
    catalog: &Catalog,
    today: NaiveDate,
    granularity: Granularity,
) -> (NaiveDate, NaiveDate) {
    use chrono::Datelike;
    let last = catalog.last_day.unwrap_or(today);
    match granularity {
        Granularity::Day => default_recent(catalog, today, 30),
        Granularity::Week => {
            let sunday =
                last - Duration::days(i64::from((last.weekday().num_days_from_monday() + 1) % 7));
            (sunday - Duration::days(13 * 7 - 1), sunday)
        }
        Granularity::Month => {
            let end = default_month(catalog, today);
            let mut start = end;
            for _ in 0..11 {
                start = start.prev();
            }
            (start.first_day(), end.last_day())
        }
    }
}

/// The last `days` days of data.
pub fn default_recent(catalog: &Catalog, today: NaiveDate, days: i64) -> (NaiveDate, NaiveDate) {
    let last = catalog.last_day.unwrap_or(today);
    (last - Duration::days(days - 1), last)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        parse_date(s).unwrap()
    }

    #[test]
    fn the_format_is_read_one_way_however_it_is_spelled() {
        for q in [
            "format=csv",
            "format=CSV",
            "format=csv%20",
            "format=+csv",
            "format=csv+",
            "for%6Dat=csv",
            "from=2026-01-01&format=%63sv",
        ] {
            assert_eq!(OutputFormat::of(q), Ok(OutputFormat::Csv), "{q}");
        }
        for q in ["", "format=json", "format=", "format=%20"] {
            assert_eq!(OutputFormat::of(q), Ok(OutputFormat::Json), "{q}");
        }
        for q in ["format=xml", "format=csv&format=json", "format=c%00sv"] {
            assert!(OutputFormat::of(q).is_err(), "{q}");
        }
    }

    #[test]
    fn reads_repeated_and_comma_separated_values() {
        let p = Params::parse("platform=PC&platform=xbox,ps5&region=us-east-1");
        assert_eq!(p.platforms().unwrap(), vec!["PC", "Xbox", "PlayStation"]);
        assert_eq!(p.dimension_values("region").unwrap(), vec!["us-east-1"]);
    }

    #[test]
    fn explains_bad_values() {
        let p = Params::parse("platform=Dreamcast");
        assert!(p
            .platforms()
            .unwrap_err()
            .contains("unknown platform 'Dreamcast'"));
        let p = Params::parse("from=2026-02-10&to=2026-02-01");
        assert_eq!(
            p.range((d("2026-01-01"), d("2026-01-31"))).unwrap_err(),
            "parameter 'to' (2026-02-01) is before 'from' (2026-02-10)"
        );
        let p = Params::parse("month=2026-13");
        assert!(p
            .month("month")
            .unwrap_err()
            .starts_with("parameter 'month': '2026-13' is not a month"));
        let p = Params::parse("granularity=hourly");
        assert!(p.granularity(Granularity::Day).is_err());
        let p = Params::parse("colour=red");
        assert!(p
            .allow_only(&["from"])
            .unwrap_err()
            .contains("unknown parameter 'colour'"));
        let p = Params::parse("from=2026-01-01&from=2026-01-02");
        assert!(p.date("from").unwrap_err().contains("more than once"));
    }

    #[test]
    fn defaults_to_the_last_complete_month() {
        let mut c = Catalog {
            last_day: Some(d("2026-11-23")),
            ..Catalog::default()
        };
        assert_eq!(default_month(&c, d("2026-11-24")).to_string(), "2026-10");
        c.last_day = Some(d("2026-10-31"));
        assert_eq!(default_month(&c, d("2026-11-24")).to_string(), "2026-10");
    }
}

//! The SQL finops sends to Athena: the CUR 2.0 table summed to the grain
//! finops stores (resource × day, per line item type, account, region,
//! service, tags, commitment …), in the Trino dialect kept to what DuckDB
//! also runs, so that the same text is tested on a real engine.
//!
//! Every column the CUR import reads is kept: amounts are summed (as
//! `DECIMAL(38, 12)`, exact), the usage start becomes its day (the group)
//! with the earliest start and the latest end of the day's lines, and
//! every other column the import reads is a group key. Effective cost,
//! the usage class and the rest are worked out by the CUR import from the
//! answer, as from a file: summing per line item type first gives the same
//! amortised cost, because each type's definition is a sum of its lines'
//! amounts. `resource_tags` (a map) is grouped and answered as JSON text.

use chrono::NaiveDate;

/// Amount columns besides the amortisation inputs
/// ([`crate::ingest::cur::AMORTISATION`]), summed exactly.
const AMOUNTS: &[&str] = &["line_item_unblended_cost", "pricing_public_on_demand_cost"];

/// The usage quantity, summed as a floating-point number (as the import
/// sums it).
const QUANTITY: &str = "line_item_usage_amount";
const USAGE_START: &str = "line_item_usage_start_date";
const USAGE_END: &str = "line_item_usage_end_date";
const BILLING_START: &str = "bill_billing_period_start_date";
const TAGS: &str = "resource_tags";
/// The partition column of Data Exports' Athena tables.
const PARTITION: &str = "billing_period";

/// Columns the import reads that are group keys.
const KEYS: &[&str] = &[
    "bill_payer_account_id",
    "bill_billing_period_start_date",
    "bill_billing_period_end_date",
    "line_item_usage_account_id",
    "line_item_line_item_type",
    "line_item_currency_code",
    "line_item_product_code",
    "line_item_usage_type",
    "line_item_line_item_description",
    "line_item_resource_id",
    "line_item_availability_zone",
    "product_product_name",
    "product_servicecode",
    "product_region_code",
    "product_region",
    "pricing_unit",
    "reservation_reservation_arn",
    "reservation_end_time",
    "savings_plan_savings_plan_arn",
    "savings_plan_end_time",
];

/// Columns a CUR table must have for the import.
pub const REQUIRED: &[&str] = crate::ingest::cur::REQUIRED;

/// A SQL identifier, quoted (Trino and DuckDB both take double quotes).
fn ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// The table's column named `wanted` in any spelling the import accepts.
fn find<'a>(columns: &'a [String], wanted: &str) -> Option<&'a str> {
    let canonical = crate::ingest::cur::canonical(wanted);
    columns
        .iter()
        .find(|c| c.as_str() == wanted || crate::ingest::cur::canonical(c) == canonical)
        .map(String::as_str)
}

/// The query over `table` (`database.table`, already validated) with
/// `columns`, for billing periods starting in `[from, to)`. Errors name
/// the required columns the table lacks.
pub fn build(
    table: &str,
    columns: &[String],
    from: NaiveDate,
    to: NaiveDate,
) -> Result<String, String> {
    let missing: Vec<&str> = REQUIRED
        .iter()
        .copied()
        .filter(|c| find(columns, c).is_none())
        .collect();
    if !missing.is_empty() {
        return Err(format!(
            "{table} lacks column(s) {} (is it a CUR 2.0 table?)",
            missing.join(", ")
        ));
    }
    let mut select = Vec::new();
    let mut group = Vec::new();
    for wanted in KEYS {
        if let Some(c) = find(columns, wanted) {
            select.push(ident(c));
            group.push(ident(c));
        }
    }
    if let Some(c) = find(columns, TAGS) {
        select.push(format!("CAST({} AS JSON) AS {}", ident(c), ident(c)));
        group.push(ident(c));
    }
    let start = ident(find(columns, USAGE_START).unwrap_or(USAGE_START));
    let end = ident(find(columns, USAGE_END).unwrap_or(USAGE_END));
    group.push(format!("CAST({start} AS DATE)"));
    select.push(format!("MIN({start}) AS {start}"));
    select.push(format!("MAX({end}) AS {end}"));
    for wanted in AMOUNTS
        .iter()
        .chain(crate::ingest::cur::AMORTISATION.iter())
    {
        if let Some(c) = find(columns, wanted) {
            select.push(format!(
                "SUM(CAST({} AS DECIMAL(38, 12))) AS {}",
                ident(c),
                ident(c)
            ));
        }
    }
    if let Some(c) = find(columns, QUANTITY) {
        select.push(format!("SUM({}) AS {}", ident(c), ident(c)));
    }
    let billing = ident(find(columns, BILLING_START).unwrap_or(BILLING_START));
    // Data Exports' Athena tables are partitioned by billing period
    // (`billing_period`, 'YYYY-MM'): filtering on it makes Athena read only
    // the periods asked.
    let partition = columns
        .iter()
        .find(|c| c.eq_ignore_ascii_case(PARTITION))
        .map(|c| {
            format!(
                " AND {p} >= '{}' AND {p} < '{}'",
                from.format("%Y-%m"),
                to.format("%Y-%m"),
                p = ident(c)
            )
        })
        .unwrap_or_default();
    Ok(format!(
        "SELECT {}\nFROM {table}\nWHERE {billing} >= TIMESTAMP '{from} 00:00:00' AND {billing} < TIMESTAMP '{to} 00:00:00'{partition}\nGROUP BY {}",
        select.join(",\n       "),
        group.join(", ")
    ))
}

/// `database.table` as finops puts it in the query: each part a plain
/// name (letters, digits, `_`), as Athena names tables.
pub fn table_name(database: &str, table: &str) -> Result<String, String> {
    let plain = |s: &str| {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    };
    if !plain(database) || !plain(table) {
        return Err(format!(
            "--database {database:?} and --table {table:?} must be plain names (letters, digits, _ and -)"
        ));
    }
    Ok(format!("{}.{}", ident(database), ident(table)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cols(names: &[&str]) -> Vec<String> {
        names.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn sums_amounts_groups_keys_and_days_and_names_what_is_missing() {
        let columns = cols(&[
            "bill_payer_account_id",
            "bill_billing_period_start_date",
            "line_item_usage_account_id",
            "line_item_line_item_type",
            "line_item_usage_start_date",
            "line_item_usage_end_date",
            "line_item_unblended_cost",
            "line_item_currency_code",
            "resource_tags",
            "savings_plan_savings_plan_a_r_n",
            "identity_line_item_id",
        ]);
        let from = NaiveDate::from_ymd_opt(2026, 10, 1).unwrap();
        let to = NaiveDate::from_ymd_opt(2026, 12, 1).unwrap();
        let q = build("\"cur\".\"data\"", &columns, from, to).unwrap();
        assert!(
            q.contains("SUM(CAST(\"line_item_unblended_cost\" AS DECIMAL(38, 12)))"),
            "{q}"
        );
        assert!(
            q.contains("CAST(\"resource_tags\" AS JSON) AS \"resource_tags\""),
            "{q}"
        );
        assert!(q.contains("\"savings_plan_savings_plan_a_r_n\""), "{q}");
        assert!(
            q.contains("CAST(\"line_item_usage_start_date\" AS DATE)"),
            "{q}"
        );
        assert!(
            q.contains("TIMESTAMP '2026-10-01 00:00:00'")
                && q.contains("TIMESTAMP '2026-12-01 00:00:00'")
        );
        assert!(
            !q.contains("identity_line_item_id"),
            "only what the import reads"
        );
        let e = build("t", &cols(&["line_item_unblended_cost"]), from, to).unwrap_err();
        assert!(
            e.contains("line_item_usage_start_date") && e.contains("bill_payer_account_id"),
            "{e}"
        );
        assert!(table_name("cur", "data; DROP TABLE x").is_err());
        assert_eq!(
            table_name("cur_db", "cur-2").unwrap(),
            "\"cur_db\".\"cur-2\""
        );
    }
}

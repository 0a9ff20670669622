//! AWS Cost and Usage Reports: CUR 2.0 (`line_item_unblended_cost`) and
//! legacy CUR (`lineItem/UnblendedCost`) column names, with amortisation
//! as AWS defines it.
//!
//! Billed cost is `line_item_unblended_cost` for every line: it sums to the
//! invoice (Savings Plan negation lines cancel the on-demand cost of
//! covered usage; fees are billed when charged).
//!
//! Effective cost is Cost Explorer's amortised cost, by line item type:
//!
//! | line item type | effective cost |
//! |---|---|
//! | SavingsPlanCoveredUsage | savings_plan_savings_plan_effective_cost |
//! | SavingsPlanNegation, SavingsPlanUpfrontFee | 0 (spread over covered usage) |
//! | SavingsPlanRecurringFee | total_commitment_to_date − used_commitment (the unused part) |
//! | DiscountedUsage | reservation_effective_cost |
//! | RIFee | reservation_unused_amortized_upfront_fee_for_billing_period + reservation_unused_recurring_fee |
//! | Fee for a reservation (upfront payment) | 0 (amortised into DiscountedUsage and RIFee) |
//! | anything else (Usage, Tax, Credit, Refund, Fee, …) | unblended cost |

use polars::prelude::*;

use super::billing::{
    amount, tags_from_columns, Check, CheckKind, Fields, BILLED, BILLING_END, BILLING_START,
    CHARGE_END, CHARGE_START,
};
use super::billing::{usage_class, LineFactColumns};
use super::errors::ImportError;
use super::table::{optional_text, text, Expect, Table};

/// CUR 2.0 name of a legacy CUR column: `lineItem/UnblendedCost` →
/// `line_item_unblended_cost`, `reservation/ReservationARN` →
/// `reservation_reservation_arn`. CUR 2.0 names are returned unchanged.
pub fn cur2_name(name: &str) -> String {
    match name.split_once('/') {
        Some((category, column)) => format!("{}_{}", snake(category), snake(column)),
        None => name.to_string(),
    }
}

/// A column name in one spelling: CUR 2.0 names, with Data Exports'
/// `_a_r_n` written `_arn`.
pub fn canonical(name: &str) -> String {
    cur2_name(name).replace("_a_r_n", "_arn")
}

/// `UnblendedCost` → `unblended_cost`; runs of capitals are one word
/// (`ReservationARN` → `reservation_arn`, `RIFee` → `ri_fee`).
fn snake(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len() + 4);
    for (i, &c) in chars.iter().enumerate() {
        if c.is_ascii_uppercase() {
            let prev = i.checked_sub(1).map(|p| chars[p]);
            let next = chars.get(i + 1);
            let boundary = match prev {
                None => false,
                Some(p) if p.is_ascii_lowercase() || p.is_ascii_digit() => true,
                Some(p) if p.is_ascii_uppercase() => next.is_some_and(|n| n.is_ascii_lowercase()),
                _ => false,
            };
            if boundary && !out.ends_with('_') {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        } else if c == ':' || c == '-' || c == ' ' {
            out.push('_');
        } else {
            out.push(c);
        }
    }
    out
}

/// Whether a file's columns look like a CUR (for format detection).
pub fn looks_like(table: &Table) -> bool {
    table.has("lineItem/UnblendedCost") || table.has("line_item_unblended_cost")
}

/// Finds a column by its CUR 2.0 name in either naming.
struct Names<'a> {
    table: &'a Table,
    file: &'a str,
}

impl Names<'_> {
    /// The file's column for a CUR 2.0 name: the same name, its legacy
    /// form, or AWS Data Exports' spelling of ARNs
    /// (`savings_plan_savings_plan_a_r_n`, `reservation_reservation_a_r_n`).
    fn source(&self, cur2: &str) -> Option<String> {
        let wanted = canonical(cur2);
        self.table
            .columns
            .keys()
            .find(|c| c.as_str() == cur2 || canonical(c) == wanted)
            .cloned()
    }

    fn text(&self, cur2: &str, expect: Expect) -> Result<Expr, ImportError> {
        match self.source(cur2) {
            Some(c) => text(self.table, self.file, &c, expect),
            None => optional_text(self.table, self.file, cur2, expect),
        }
    }

    fn label(&self, cur2: &str) -> String {
        self.source(cur2).unwrap_or_else(|| cur2.to_string())
    }
}

/// The amounts amortised cost is made of (absent columns read as zero).
pub const AMORTISATION: [&str; 6] = [
    "savings_plan_savings_plan_effective_cost",
    "savings_plan_total_commitment_to_date",
    "savings_plan_used_commitment",
    "reservation_effective_cost",
    "reservation_unused_amortized_upfront_fee_for_billing_period",
    "reservation_unused_recurring_fee",
];

/// Columns a CUR must have.
pub const REQUIRED: &[&str] = &[
    "line_item_unblended_cost",
    "line_item_usage_start_date",
    "line_item_usage_end_date",
    "line_item_line_item_type",
    "bill_billing_period_start_date",
    "bill_payer_account_id",
    "line_item_currency_code",
];

pub fn fields(file: &str, table: &Table) -> Result<Fields, ImportError> {
    let names = Names { table, file };
    let legacy = table.columns.keys().any(|c| c.contains('/'));
    let missing: Vec<String> = REQUIRED
        .iter()
        .filter(|c| names.source(c).is_none())
        .map(|c| {
            if legacy {
                legacy_name(c)
            } else {
                c.to_string()
            }
        })
        .collect();
    if !missing.is_empty() {
        let hint = if table.has("BilledCost") {
            " (this looks like a FOCUS file: use `finops ingest focus`)"
        } else {
            " (is this an AWS Cost and Usage Report?)"
        };
        return Err(ImportError::MissingColumns {
            file: file.to_string(),
            missing,
            hint: hint.to_string(),
        });
    }

    let n = |c: &str| names.text(c, Expect::Number);
    let t = |c: &str| names.text(c, Expect::Text);
    let ts = |c: &str| names.text(c, Expect::Timestamp);

    let unblended = n("line_item_unblended_cost")?;
    let line_type = t("line_item_line_item_type")?;
    let charge_start = ts("line_item_usage_start_date")?;
    let charge_end = ts("line_item_usage_end_date")?;
    let billing_start = ts("bill_billing_period_start_date")?;
    let billing_end = ts("bill_billing_period_end_date")?;
    let payer = names.text("bill_payer_account_id", Expect::AccountId)?;
    let currency = t("line_item_currency_code")?;
    let quantity = n("line_item_usage_amount")?;
    let list = names
        .source("pricing_public_on_demand_cost")
        .map(|_| n("pricing_public_on_demand_cost"))
        .transpose()?;

    // Amortisation inputs; absent columns read as zero.
    let amortisation = AMORTISATION;
    let mut checks = vec![
        Check::new(
            &names.label("line_item_unblended_cost"),
            unblended.clone(),
            CheckKind::Amount,
        )
        .parsed_as(BILLED),
        Check::new(
            &names.label("line_item_usage_start_date"),
            charge_start.clone(),
            CheckKind::Timestamp,
        )
        .parsed_as(CHARGE_START),
        Check::new(
            &names.label("line_item_usage_end_date"),
            charge_end.clone(),
            CheckKind::Timestamp,
        )
        .parsed_as(CHARGE_END),
        Check::new(
            &names.label("bill_billing_period_start_date"),
            billing_start.clone(),
            CheckKind::Timestamp,
        )
        .parsed_as(BILLING_START),
        Check::new(
            &names.label("bill_billing_period_end_date"),
            billing_end.clone(),
            CheckKind::OptionalTimestamp,
        )
        .parsed_as(BILLING_END),
        Check::new(
            &names.label("line_item_line_item_type"),
            line_type.clone(),
            CheckKind::Required,
        ),
        Check::new(
            &names.label("bill_payer_account_id"),
            payer.clone(),
            CheckKind::Required,
        ),
        Check::new(
            &names.label("line_item_currency_code"),
            currency.clone(),
            CheckKind::Required,
        ),
        Check::new(
            &names.label("line_item_usage_amount"),
            quantity.clone(),
            CheckKind::OptionalAmount,
        ),
    ];
    if let Some(list) = &list {
        checks.push(Check::new(
            &names.label("pricing_public_on_demand_cost"),
            list.clone(),
            CheckKind::OptionalAmount,
        ));
    }
    let mut dec = std::collections::HashMap::new();
    for c in amortisation {
        let e = n(c)?;
        if names.source(c).is_some() {
            checks.push(Check::new(
                &names.label(c),
                e.clone(),
                CheckKind::OptionalAmount,
            ));
        }
        dec.insert(
            c,
            amount(e).fill_null(lit(0).cast(DataType::Decimal(38, super::billing::AMOUNT_SCALE))),
        );
    }
    let zero = || lit(0).cast(DataType::Decimal(38, super::billing::AMOUNT_SCALE));
    let d = |c: &str| dec.get(c).cloned().unwrap_or_else(zero);
    let billed = amount(unblended);
    let reservation_arn = t("reservation_reservation_arn")?.is_not_null();
    let ty = line_type.clone();
    let effective = when(ty.clone().eq(lit("SavingsPlanCoveredUsage")))
        .then(d("savings_plan_savings_plan_effective_cost"))
        .when(
            ty.clone()
                .eq(lit("SavingsPlanNegation"))
                .or(ty.clone().eq(lit("SavingsPlanUpfrontFee"))),
        )
        .then(zero())
        .when(ty.clone().eq(lit("SavingsPlanRecurringFee")))
        .then(d("savings_plan_total_commitment_to_date") - d("savings_plan_used_commitment"))
        .when(ty.clone().eq(lit("DiscountedUsage")))
        .then(d("reservation_effective_cost"))
        .when(ty.clone().eq(lit("RIFee")))
        .then(
            d("reservation_unused_amortized_upfront_fee_for_billing_period")
                + d("reservation_unused_recurring_fee"),
        )
        .when(ty.clone().eq(lit("Fee")).and(reservation_arn))
        .then(zero())
        .otherwise(billed.clone());

    let one_of = |values: &[&str]| {
        let list = lit(Series::new("types".into(), values)).implode(true);
        ty.clone().is_in(list, false)
    };
    let category = when(one_of(&[
        "Usage",
        "DiscountedUsage",
        "SavingsPlanCoveredUsage",
        "SavingsPlanNegation",
    ]))
    .then(lit("Usage"))
    .when(ty.clone().eq(lit("Tax")))
    .then(lit("Tax"))
    .when(one_of(&["Credit", "Refund"]))
    .then(lit("Credit"))
    .when(one_of(&[
        "Fee",
        "RIFee",
        "SavingsPlanRecurringFee",
        "SavingsPlanUpfrontFee",
    ]))
    .then(lit("Purchase"))
    .otherwise(lit("Adjustment"));

    let region = t("product_region_code")?
        .fill_null(t("product_region")?)
        .fill_null(
            t("line_item_availability_zone")?
                .str()
                .strip_chars_end(lit("abcdefghijklmnopqrstuvwxyz")),
        );
    let service = t("product_product_name")?
        .fill_null(t("line_item_product_code")?)
        .fill_null(t("product_servicecode")?);
    let resource = t("line_item_resource_id")?;
    let unit = t("pricing_unit")?;
    let usage_class = usage_class(LineFactColumns {
        usage_type: t("line_item_usage_type")?,
        service: service.clone(),
        unit: unit.clone(),
        description: t("line_item_line_item_description")?,
        resource_type: lit(NULL).cast(DataType::String),
        pricing_category: lit(NULL).cast(DataType::String),
    });

    Ok(Fields {
        provider: lit("AWS"),
        billing_account: payer.clone(),
        account: names
            .text("line_item_usage_account_id", Expect::AccountId)?
            .fill_null(payer),
        region,
        service,
        category,
        currency,
        resource,
        unit,
        usage_class,
        commitment_id: t("savings_plan_savings_plan_arn")?
            .fill_null(t("reservation_reservation_arn")?),
        commitment_type: when(t("savings_plan_savings_plan_arn")?.is_not_null())
            .then(lit("Savings Plan"))
            .when(t("reservation_reservation_arn")?.is_not_null())
            .then(lit("Reserved Instance"))
            .otherwise(lit(NULL).cast(DataType::String)),
        commitment_status: when(one_of(&["SavingsPlanCoveredUsage", "DiscountedUsage"]))
            .then(lit("Used"))
            .when(one_of(&["SavingsPlanRecurringFee", "RIFee"]))
            .then(lit("Unused"))
            .otherwise(lit(NULL).cast(DataType::String)),
        commitment_end: t("savings_plan_end_time")?.fill_null(t("reservation_end_time")?),
        tags: tags(file, table)?,
        billing_start,
        billing_end,
        charge_start,
        charge_end,
        billed,
        effective,
        list: list.map(amount),
        quantity: quantity.str().strip_chars(lit(NULL)),
        checks,
        period_columns: [
            names.label("line_item_usage_start_date"),
            names.label("line_item_usage_end_date"),
            names.label("bill_billing_period_start_date"),
        ],
    })
}

/// Legacy CUR name of a required CUR 2.0 column (for messages).
fn legacy_name(cur2: &str) -> String {
    match cur2 {
        "line_item_unblended_cost" => "lineItem/UnblendedCost",
        "line_item_usage_start_date" => "lineItem/UsageStartDate",
        "line_item_usage_end_date" => "lineItem/UsageEndDate",
        "line_item_line_item_type" => "lineItem/LineItemType",
        "bill_billing_period_start_date" => "bill/BillingPeriodStartDate",
        "bill_payer_account_id" => "bill/PayerAccountId",
        "line_item_currency_code" => "lineItem/CurrencyCode",
        other => other,
    }
    .to_string()
}

/// Tags: legacy `resourceTags/user:platform` columns (key `platform`), or
/// CUR 2.0's `resource_tags`, a map in Parquet and JSON text in CSV (keys
/// `user_platform`, read as `platform`).
fn tags(file: &str, table: &Table) -> Result<Expr, ImportError> {
    if let Some(dtype) = table.columns.get("resource_tags") {
        let is_map = match dtype {
            DataType::List(inner) if matches!(**inner, DataType::Struct(_)) => true,
            DataType::String | DataType::Null => false,
            other => {
                return Err(ImportError::ColumnType {
                    file: file.to_string(),
                    column: "resource_tags".to_string(),
                    found: other.to_string(),
                    expected: "a map of tag keys to values, or JSON text".to_string(),
                })
            }
        };
        return Ok(cur2_tags(col("resource_tags"), is_map));
    }
    let mut columns = Vec::new();
    for name in table.columns.keys() {
        if let Some(key) = name.strip_prefix("resourceTags/") {
            let key = key
                .strip_prefix("user:")
                .or_else(|| key.strip_prefix("aws:"))
                .unwrap_or(key);
            columns.push((key.to_string(), text(table, file, name, Expect::Text)?));
        }
    }
    Ok(tags_from_columns(columns))
}

/// `user_platform` → `platform` (CUR 2.0 prefixes user tags with `user_`
/// and AWS tags with `aws_`).
fn tag_key(key: &str) -> String {
    key.strip_prefix("user_")
        .or_else(|| key.strip_prefix("aws_"))
        .unwrap_or(key)
        .to_string()
}

fn json_of(pairs: impl Iterator<Item = (String, String)>) -> Option<String> {
    let map: serde_json::Map<String, serde_json::Value> = pairs
        .map(|(k, v)| (tag_key(&k), serde_json::Value::String(v)))
        .collect();
    (!map.is_empty()).then(|| serde_json::Value::Object(map).to_string())
}

/// CUR 2.0 `resource_tags` as a JSON object text with finops' key names.
fn cur2_tags(value: Expr, is_map: bool) -> Expr {
    value.map(
        move |c: Column| {
            let out: StringChunked = if is_map {
                c.list()?
                    .amortized_iter()
                    .map(|entries| {
                        let entries = entries?;
                        let fields = entries.as_ref().struct_().ok()?.fields_as_series();
                        let (keys, values) =
                            (fields.first()?.str().ok()?, fields.get(1)?.str().ok()?);
                        json_of(
                            keys.iter()
                                .zip(values.iter())
                                .filter_map(|(k, v)| Some((k?.to_string(), v?.to_string()))),
                        )
                    })
                    .collect()
            } else {
                c.str()?
                    .iter()
                    .map(|text| {
                        let text = text?;
                        let parsed = super::allocate::parse_tags(text);
                        json_of(parsed.into_iter())
                    })
                    .collect()
            };
            Ok(out.with_name(c.name().clone()).into_column())
        },
        |_, field| Ok(Field::new(field.name().clone(), DataType::String)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn legacy_names_become_cur2_names() {
        assert_eq!(
            cur2_name("lineItem/UnblendedCost"),
            "line_item_unblended_cost"
        );
        assert_eq!(cur2_name("bill/PayerAccountId"), "bill_payer_account_id");
        assert_eq!(
            cur2_name("reservation/ReservationARN"),
            "reservation_reservation_arn"
        );
        assert_eq!(
            cur2_name("savingsPlan/SavingsPlanEffectiveCost"),
            "savings_plan_savings_plan_effective_cost"
        );
        assert_eq!(
            cur2_name("reservation/UnusedAmortizedUpfrontFeeForBillingPeriod"),
            "reservation_unused_amortized_upfront_fee_for_billing_period"
        );
        assert_eq!(cur2_name("product/regionCode"), "product_region_code");
        assert_eq!(
            cur2_name("lineItem/LineItemType"),
            "line_item_line_item_type"
        );
        assert_eq!(
            cur2_name("pricing/publicOnDemandCost"),
            "pricing_public_on_demand_cost"
        );
        assert_eq!(
            cur2_name("line_item_unblended_cost"),
            "line_item_unblended_cost"
        );
    }

    #[test]
    fn data_exports_arn_columns_match_the_legacy_and_plain_spellings() {
        for (a, b) in [
            (
                "savings_plan_savings_plan_a_r_n",
                "savingsPlan/SavingsPlanARN",
            ),
            (
                "reservation_reservation_a_r_n",
                "reservation/ReservationARN",
            ),
            (
                "reservation_reservation_a_r_n",
                "reservation_reservation_arn",
            ),
        ] {
            assert_eq!(canonical(a), canonical(b));
        }
        assert_ne!(
            canonical("savings_plan_savings_plan_rate"),
            canonical("savings_plan_savings_plan_a_r_n")
        );
    }
}

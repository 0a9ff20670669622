//! FOCUS 1.0–1.2 (FinOps Open Cost and Usage Specification) exports, from
//! any provider: the columns finops reads and how they map.
//!
//! | finops | FOCUS |
//! |---|---|
//! | provider | ProviderName (1.0–1.2), or ServiceProviderName (1.3) |
//! | billing account, account | BillingAccountId, SubAccountId |
//! | region | RegionId (empty: `global`) |
//! | service | ServiceName |
//! | charge category | ChargeCategory |
//! | currency | BillingCurrency |
//! | billed, effective, list cost | BilledCost, EffectiveCost, ListCost |
//! | day | date of ChargePeriodStart (UTC) |
//! | billing period | month of BillingPeriodStart |
//! | usage | ConsumedQuantity, ConsumedUnit |
//! | resource | ResourceId, else ResourceName, else CommitmentDiscountId |
//! | tags | Tags (a JSON object) |

use polars::prelude::*;

use super::billing::{
    amount, Check, CheckKind, Fields, BILLED, BILLING_END, BILLING_START, CHARGE_END, CHARGE_START,
    EFFECTIVE, LIST,
};
use super::billing::{usage_class, LineFactColumns};
use super::errors::ImportError;
use super::table::{optional_text, require, text, Expect, Table};

const PROVIDER: &[&str] = &["ProviderName", "ServiceProviderName"];

const REQUIRED: &[&[&str]] = &[
    &["BilledCost"],
    &["EffectiveCost"],
    &["BillingAccountId"],
    &["BillingCurrency"],
    &["BillingPeriodStart"],
    &["ChargeCategory"],
    &["ChargePeriodStart"],
    &["ChargePeriodEnd"],
    PROVIDER,
];

/// Whether a file's columns look like FOCUS (for format detection).
pub fn looks_like(table: &Table) -> bool {
    table.has("BilledCost") && table.has("ChargePeriodStart")
}

pub fn fields(file: &str, table: &Table) -> Result<Fields, ImportError> {
    require(
        table,
        file,
        REQUIRED,
        if table.has("lineItem/UnblendedCost") || table.has("line_item_unblended_cost") {
            " (this looks like an AWS CUR file: use `finops ingest cur`)"
        } else {
            " (is this a FOCUS 1.x export?)"
        },
    )?;
    let t = |c: &str, e: Expect| text(table, file, c, e);
    let o = |c: &str, e: Expect| optional_text(table, file, c, e);
    let provider_col = table.first_of(PROVIDER).unwrap_or(PROVIDER[0]);

    let billed = t("BilledCost", Expect::Number)?;
    let effective = t("EffectiveCost", Expect::Number)?;
    let list = table
        .has("ListCost")
        .then(|| t("ListCost", Expect::Number))
        .transpose()?;
    let quantity = o("ConsumedQuantity", Expect::Number)?;
    let charge_start = t("ChargePeriodStart", Expect::Timestamp)?;
    let charge_end = t("ChargePeriodEnd", Expect::Timestamp)?;
    let billing_start = t("BillingPeriodStart", Expect::Timestamp)?;
    let billing_end = o("BillingPeriodEnd", Expect::Timestamp)?;
    let provider = t(provider_col, Expect::Text)?;
    let billing_account = t("BillingAccountId", Expect::AccountId)?;
    let currency = t("BillingCurrency", Expect::Text)?;
    let category = t("ChargeCategory", Expect::Text)?;

    let mut checks = vec![
        Check::new("BilledCost", billed.clone(), CheckKind::Amount).parsed_as(BILLED),
        Check::new("EffectiveCost", effective.clone(), CheckKind::Amount).parsed_as(EFFECTIVE),
        Check::new(
            "ChargePeriodStart",
            charge_start.clone(),
            CheckKind::Timestamp,
        )
        .parsed_as(CHARGE_START),
        Check::new("ChargePeriodEnd", charge_end.clone(), CheckKind::Timestamp)
            .parsed_as(CHARGE_END),
        Check::new(
            "BillingPeriodStart",
            billing_start.clone(),
            CheckKind::Timestamp,
        )
        .parsed_as(BILLING_START),
        Check::new(
            "BillingPeriodEnd",
            billing_end.clone(),
            CheckKind::OptionalTimestamp,
        )
        .parsed_as(BILLING_END),
        Check::new(provider_col, provider.clone(), CheckKind::Required),
        Check::new(
            "BillingAccountId",
            billing_account.clone(),
            CheckKind::Required,
        ),
        Check::new("BillingCurrency", currency.clone(), CheckKind::Required),
        Check::new("ChargeCategory", category.clone(), CheckKind::Required),
    ];
    if let Some(list) = &list {
        checks
            .push(Check::new("ListCost", list.clone(), CheckKind::OptionalAmount).parsed_as(LIST));
    }
    checks.push(Check::new(
        "ConsumedQuantity",
        quantity.clone(),
        CheckKind::OptionalAmount,
    ));

    let resource = o("ResourceId", Expect::Text)?
        .fill_null(o("ResourceName", Expect::Text)?)
        .fill_null(o("CommitmentDiscountId", Expect::Text)?);

    let service = o("ServiceName", Expect::Text)?;
    let unit = o("ConsumedUnit", Expect::Text)?;
    // AWS's FOCUS export adds its own usage type; without it the
    // description, unit and resource type tell what a line is.
    let usage_class = usage_class(LineFactColumns {
        usage_type: o("x_UsageType", Expect::Text)?,
        service: service.clone(),
        unit: unit.clone().fill_null(o("PricingUnit", Expect::Text)?),
        description: o("ChargeDescription", Expect::Text)?,
        resource_type: o("ResourceType", Expect::Text)?,
        pricing_category: o("PricingCategory", Expect::Text)?,
    });

    Ok(Fields {
        provider,
        billing_account,
        account: o("SubAccountId", Expect::AccountId)?,
        region: o("RegionId", Expect::Text)?,
        service,
        category,
        currency,
        resource,
        unit,
        usage_class,
        commitment_id: o("CommitmentDiscountId", Expect::Text)?,
        commitment_type: o("CommitmentDiscountType", Expect::Text)?,
        commitment_status: o("CommitmentDiscountStatus", Expect::Text)?,
        // FOCUS 1.x carries no commitment dates.
        commitment_end: lit(NULL).cast(DataType::String),
        tags: o("Tags", Expect::Text)?,
        billing_start,
        billing_end,
        charge_start,
        charge_end,
        billed: amount(billed),
        effective: amount(effective),
        list: list.map(amount),
        quantity: quantity.str().strip_chars(lit(NULL)),
        checks,
        period_columns: [
            "ChargePeriodStart".to_string(),
            "ChargePeriodEnd".to_string(),
            "BillingPeriodStart".to_string(),
        ],
    })
}

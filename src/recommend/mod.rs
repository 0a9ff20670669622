//! Recommendations: rightsizing and reserved commitments (Savings Plans,
//! Reserved Instances) sized from the forecast and the marketing
//! calendar rather than from a lookback.
//!
//! `fleet` rightsizes every instance from the stored utilisation;
//! `purchase` sizes commitments over the forecast of their whole term;
//! both return [`Recommendation`]s, which the page, the CLI, the JSON API
//! and the CSV download show.

pub mod aws;
pub mod commitment;
pub mod fleet;
pub mod held;
pub mod output;
pub mod purchase;
pub mod rightsizing;
pub mod run;
pub mod usage;

use crate::money::Micros;

/// What a recommendation asks for.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Rightsize,
    Terminate,
    ComputeSavingsPlan,
    Ec2InstanceSavingsPlan,
    ReservedInstances,
}

impl Kind {
    pub const ALL: [Kind; 5] = [
        Kind::Rightsize,
        Kind::Terminate,
        Kind::ComputeSavingsPlan,
        Kind::Ec2InstanceSavingsPlan,
        Kind::ReservedInstances,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Rightsize => "rightsize",
            Kind::Terminate => "terminate",
            Kind::ComputeSavingsPlan => "compute_savings_plan",
            Kind::Ec2InstanceSavingsPlan => "ec2_instance_savings_plan",
            Kind::ReservedInstances => "reserved_instances",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Kind::Rightsize => "Rightsize",
            Kind::Terminate => "Terminate idle",
            Kind::ComputeSavingsPlan => "Compute Savings Plan",
            Kind::Ec2InstanceSavingsPlan => "EC2 Instance Savings Plan",
            Kind::ReservedInstances => "Reserved Instances",
        }
    }

    pub fn parse(text: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.as_str() == text.trim())
    }

    pub fn is_commitment(self) -> bool {
        matches!(
            self,
            Kind::ComputeSavingsPlan | Kind::Ec2InstanceSavingsPlan | Kind::ReservedInstances
        )
    }
}

/// Whether a recommendation can be acted on now.
#[derive(Copy, Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Actionable,
    /// A scheduled event needs the capacity; said which.
    Held,
    /// Too little data to recommend anything; said so.
    TooLittleData,
    /// The type is not in the catalog.
    Unpriced,
    /// A commitment that would not save anything.
    NothingToBuy,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Actionable => "actionable",
            Status::Held => "held",
            Status::TooLittleData => "too_little_data",
            Status::Unpriced => "unpriced",
            Status::NothingToBuy => "nothing_to_buy",
        }
    }
}

/// What a recommendation applies to.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Scope {
    /// A platform, `shared` (backend services) or `all`.
    pub platform: String,
    /// A region or `all`.
    pub region: String,
    pub instance_type: Option<String>,
    pub family: Option<String>,
    /// The instances or fleets, for rightsizing.
    pub resources: Vec<String>,
}

/// One recommendation, as the page, CLI, JSON and CSV show it. Money is
/// fixed-point; shares are fractions.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Recommendation {
    /// Stable within a data version; links the list to the detail view.
    pub id: String,
    pub kind: Kind,
    pub status: Status,
    pub scope: Scope,
    pub current: String,
    pub recommended: String,
    pub monthly_savings: Micros,
    pub currency: String,
    /// Commitments: share of the commitment used, expected.
    pub expected_utilisation: Option<f64>,
    /// Commitments: share of eligible usage covered, expected.
    pub expected_coverage: Option<f64>,
    /// Commitments: what is paid per hour (upfront amortised).
    pub hourly_commitment: Option<Micros>,
    /// Commitments: what is paid at purchase (all or part of the term's
    /// commitment, by the payment option).
    pub upfront: Option<Micros>,
    /// Commitments: committed rate ÷ on-demand rate of the option.
    pub rate_ratio: Option<f64>,
    pub term_years: Option<i32>,
    pub payment: Option<String>,
    /// Commitments: monthly savings in the worst and best tenth of the
    /// forecast's outcomes.
    pub p10_monthly_savings: Option<Micros>,
    pub p90_monthly_savings: Option<Micros>,
    /// Commitments: the month of the term (1 = first) by whose end the
    /// savings have paid back what was paid, expected.
    pub break_even_month: Option<u32>,
    pub risk: String,
    pub reason: String,
    /// The reason in a few words, for lists (the reason in full is on the
    /// detail view); empty: the reason is short already.
    pub why: String,
    /// AWS Cost Explorer's recommendation for the same scope, if pulled.
    pub aws: Option<String>,
    /// Where its prices came from: the bill's on-demand rates, an
    /// imported catalog or price list, or the built-in derived catalog.
    pub price_source: String,
    /// Commitments: how the same advice did on the user's own past months
    /// (see `purchase::history`), when it was replayed.
    pub history: Option<String>,
}

impl Recommendation {
    /// A recommendation of `kind` for `scope` with nothing decided yet:
    /// actionable, no savings, every commitment figure absent. The engines
    /// fill in what they found.
    pub fn new(id: String, kind: Kind, scope: Scope, currency: &str) -> Recommendation {
        Recommendation {
            id,
            kind,
            status: Status::Actionable,
            scope,
            current: String::new(),
            recommended: String::new(),
            monthly_savings: Micros::ZERO,
            currency: currency.to_string(),
            expected_utilisation: None,
            expected_coverage: None,
            hourly_commitment: None,
            upfront: None,
            rate_ratio: None,
            term_years: None,
            payment: None,
            p10_monthly_savings: None,
            p90_monthly_savings: None,
            break_even_month: None,
            risk: String::new(),
            reason: String::new(),
            why: String::new(),
            aws: None,
            price_source: String::new(),
            history: None,
        }
    }
}

/// An estimate in whole cents: recommendations show, export and add up
/// amounts to the cent, so a total is the sum of what is shown.
pub fn to_cents(units: f64) -> Micros {
    Micros(Micros::from_units_f64(units).round_to_cents() * 10_000)
}

/// The price catalog in use: the last one imported (`finops catalog
/// import`, `import-aws`), or the built-in one, with the on-demand rates
/// the bill shows and the rates the commitments held pay on it (a user's
/// own rates first).
pub fn price_catalog(
    conn: &mut crate::db::DbConnection,
) -> Result<crate::pricing::PriceCatalog, crate::db::DbError> {
    let catalog = crate::db::instance_catalog::stored_or_built_in(conn)?;
    let billed = usage::billed_on_demand_rates(conn)?;
    let ratios = usage::billed_commitment_ratios(conn)?;
    Ok(catalog
        .with_billed_on_demand(&billed)
        .0
        .with_billed_commitment_rates(&ratios))
}

//! Recommendations as CSV (the page's download and the CLI) and as a
//! text table (the CLI), plus the totals a reader needs: what the
//! actionable ones save, without adding up alternatives.

use super::{Kind, Recommendation, Status};
use crate::money::Micros;
use crate::report::export::text_cell;

pub const CSV_HEADER: [&str; 22] = [
    "id",
    "kind",
    "status",
    "platform",
    "region",
    "instance_type",
    "family",
    "resources",
    "current",
    "recommended",
    "currency",
    "monthly_savings",
    "p10_monthly_savings",
    "p90_monthly_savings",
    "hourly_commitment",
    "upfront",
    "term_years",
    "payment",
    "expected_utilisation",
    "expected_coverage",
    "break_even_month",
    "reason",
];

fn opt_money(m: Option<Micros>) -> String {
    m.map(|m| m.to_decimal(2)).unwrap_or_default()
}

fn opt_share(x: Option<f64>) -> String {
    x.map(|x| format!("{x:.4}")).unwrap_or_default()
}

/// RFC 4180 CSV, one row per recommendation, money to the cent. The
/// `reason` column also carries the risk and AWS's view.
pub fn csv(recs: &[Recommendation]) -> String {
    let mut out = CSV_HEADER.join(",");
    out.push_str("\r\n");
    for r in recs {
        let mut reason = r.reason.clone();
        if !r.risk.is_empty() {
            reason.push_str(&format!("; risk: {}", r.risk));
        }
        if let Some(aws) = &r.aws {
            reason.push_str(&format!("; AWS: {aws}"));
        }
        let cells = [
            text_cell(&r.id),
            r.kind.as_str().to_string(),
            r.status.as_str().to_string(),
            text_cell(&r.scope.platform),
            text_cell(&r.scope.region),
            text_cell(r.scope.instance_type.as_deref().unwrap_or("")),
            text_cell(r.scope.family.as_deref().unwrap_or("")),
            r.scope.resources.len().to_string(),
            text_cell(&r.current),
            text_cell(&r.recommended),
            text_cell(&r.currency),
            r.monthly_savings.to_decimal(2),
            opt_money(r.p10_monthly_savings),
            opt_money(r.p90_monthly_savings),
            opt_money(r.hourly_commitment),
            opt_money(r.upfront),
            r.term_years.map(|t| t.to_string()).unwrap_or_default(),
            text_cell(r.payment.as_deref().unwrap_or("")),
            opt_share(r.expected_utilisation),
            opt_share(r.expected_coverage),
            r.break_even_month
                .map(|m| m.to_string())
                .unwrap_or_default(),
            text_cell(&reason),
        ];
        out.push_str(&cells.join(","));
        out.push_str("\r\n");
    }
    out
}

/// Savings of the actionable recommendations, by what they are, in one
/// currency (`crate::currency`: amounts in different currencies are
/// never added).
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize)]
pub struct Totals {
    pub currency: String,
    /// Actionable recommendations in other currencies, left out.
    pub other_currencies: usize,
    pub rightsizing: Micros,
    /// The Compute Savings Plan's.
    pub compute_plan: Micros,
    /// The best of EC2 Instance SP and RIs, per family and region, summed.
    pub per_family_plan: Micros,
    /// Rightsizing plus the better of the two commitment plans (they are
    /// alternatives for the same usage, never added).
    pub combined: Micros,
    /// Paid at purchase for the better commitment plan.
    pub upfront: Micros,
}

/// The commitments to buy: the Compute Savings Plan, or per family and
/// region the better of EC2 Instance SP and RIs, whichever plan saves more
/// (they are alternatives for the same usage). Actionable, in `currency`.
pub struct PurchasePlan<'a> {
    /// The chosen plan's recommendations.
    pub chosen: Vec<&'a Recommendation>,
    /// The Compute Savings Plan is the one chosen.
    pub compute_chosen: bool,
    pub compute_plan: Micros,
    pub per_family_plan: Micros,
}

impl PurchasePlan<'_> {
    pub fn upfront(&self) -> Micros {
        self.chosen.iter().filter_map(|r| r.upfront).sum()
    }

    pub fn monthly_savings(&self) -> Micros {
        self.chosen.iter().map(|r| r.monthly_savings).sum()
    }
}

pub fn purchase_plan<'a>(recs: &'a [Recommendation], currency: &str) -> PurchasePlan<'a> {
    let actionable = |r: &&Recommendation| r.status == Status::Actionable && r.currency == currency;
    let compute: Vec<&Recommendation> = recs
        .iter()
        .filter(actionable)
        .filter(|r| r.kind == Kind::ComputeSavingsPlan)
        .collect();
    let compute_plan: Micros = compute.iter().map(|r| r.monthly_savings).sum();
    // Per family and region: the better of the two offers.
    let mut best: std::collections::BTreeMap<(String, String), &Recommendation> =
        Default::default();
    for r in recs.iter().filter(actionable).filter(|r| {
        matches!(
            r.kind,
            Kind::Ec2InstanceSavingsPlan | Kind::ReservedInstances
        )
    }) {
        let key = (
            r.scope.region.clone(),
            r.scope.family.clone().unwrap_or_default(),
        );
        let better = best
            .get(&key)
            .is_none_or(|b| r.monthly_savings > b.monthly_savings);
        if better && r.monthly_savings > Micros::ZERO {
            best.insert(key, r);
        }
    }
    let per_family: Vec<&Recommendation> = best.into_values().collect();
    let per_family_plan: Micros = per_family.iter().map(|r| r.monthly_savings).sum();
    let compute_chosen = compute_plan >= per_family_plan;
    PurchasePlan {
        chosen: if compute_chosen { compute } else { per_family },
        compute_chosen,
        compute_plan,
        per_family_plan,
    }
}

pub fn totals(recs: &[Recommendation], currency: &str) -> Totals {
    let other_currencies = recs
        .iter()
        .filter(|r| r.status == Status::Actionable && r.currency != currency)
        .count();
    let actionable = |r: &&Recommendation| r.status == Status::Actionable && r.currency == currency;
    let rightsizing: Micros = recs
        .iter()
        .filter(actionable)
        .filter(|r| matches!(r.kind, Kind::Rightsize | Kind::Terminate))
        .map(|r| r.monthly_savings)
        .sum();
    let plan = purchase_plan(recs, currency);
    Totals {
        currency: currency.to_string(),
        other_currencies,
        rightsizing,
        compute_plan: plan.compute_plan,
        per_family_plan: plan.per_family_plan,
        combined: rightsizing + plan.compute_plan.max(plan.per_family_plan),
        upfront: plan.upfront(),
    }
}

/// A fixed-width text table for the terminal.
pub fn table(recs: &[Recommendation]) -> String {
    let mut rows: Vec<[String; 7]> = vec![[
        "kind".into(),
        "scope".into(),
        "current".into(),
        "recommended".into(),
        "saves/month".into(),
        "status".into(),
        "reason".into(),
    ]];
    for r in recs {
        let scope = [
            Some(r.scope.platform.as_str()).filter(|p| *p != "all"),
            Some(r.scope.region.as_str()).filter(|p| *p != "all"),
            r.scope.family.as_deref().filter(|_| r.kind.is_commitment()),
        ]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ");
        rows.push([
            r.kind.as_str().to_string(),
            if scope.is_empty() {
                "all".into()
            } else {
                scope
            },
            r.current.clone(),
            r.recommended.clone(),
            r.monthly_savings.display(&r.currency),
            r.status.as_str().to_string(),
            r.reason.clone(),
        ]);
    }
    let widths: Vec<usize> = (0..6)
        .map(|c| {
            rows.iter()
                .map(|r| r[c].chars().count())
                .max()
                .unwrap_or(0)
                .min(48)
        })
        .collect();
    let mut out = String::new();
    for row in rows {
        for (c, cell) in row.iter().enumerate() {
            if c < 6 {
                let cell: String = cell.chars().take(48).collect();
                out.push_str(&format!("{cell:<w$}  ", w = widths[c]));
            } else {
                out.push_str(cell);
            }
        }
        out.push('\n');
    }
    out
}

//! AWS Cost Explorer's recommendations, as pulled, set beside finops'
//! own for the same scope.

use super::purchase::Plan;
use super::{Kind, Recommendation};
use crate::db::aws_advice::Advice;
use crate::money::Micros;
use crate::pull::aws_advice::{ReservationAdvice, RightsizingAdvice, SavingsPlanAdvice};

pub const SAVINGS_PLANS: &str = "savings_plans";
pub const RESERVED_INSTANCES: &str = "reserved_instances";
pub const RIGHTSIZING: &str = "rightsizing";

/// The parameters of a pull as stored: `COMPUTE_SP ONE_YEAR NO_UPFRONT
/// 30d` (plan type absent for Reserved Instances).
pub fn parameters(
    plan_type: Option<&str>,
    three_years: bool,
    upfront: &str,
    lookback_days: u32,
) -> String {
    let term = if three_years {
        "THREE_YEARS"
    } else {
        "ONE_YEAR"
    };
    let payment = match upfront {
        "all" => "ALL_UPFRONT",
        "partial" => "PARTIAL_UPFRONT",
        _ => "NO_UPFRONT",
    };
    match plan_type {
        Some(p) => format!("{p} {term} {payment} {lookback_days}d"),
        None => format!("{term} {payment} {lookback_days}d"),
    }
}

pub fn from_savings_plans(
    advice: &[SavingsPlanAdvice],
    parameters: &str,
    at: chrono::NaiveDateTime,
) -> Vec<Advice> {
    advice
        .iter()
        .map(|a| Advice {
            kind: SAVINGS_PLANS.to_string(),
            parameters: parameters.to_string(),
            scope: a
                .instance_family
                .clone()
                .or_else(|| a.account_id.clone())
                .unwrap_or_else(|| "all".to_string()),
            region: a.region.clone().unwrap_or_default(),
            current: String::new(),
            recommended: format!(
                "{} /h, {} {}",
                a.hourly_commitment.display(&a.currency),
                a.term.replace('_', " ").to_lowercase(),
                a.payment_option.replace('_', " ").to_lowercase()
            ),
            hourly_commitment_micros: Some(a.hourly_commitment.0),
            monthly_savings_micros: a.estimated_monthly_savings.0,
            expected_utilisation: Some(a.estimated_average_utilization / 100.0),
            currency: a.currency.clone(),
            pulled_at: at,
        })
        .collect()
}

pub fn from_reservations(
    advice: &[ReservationAdvice],
    parameters: &str,
    at: chrono::NaiveDateTime,
) -> Vec<Advice> {
    advice
        .iter()
        .map(|a| Advice {
            kind: RESERVED_INSTANCES.to_string(),
            parameters: parameters.to_string(),
            scope: a.family.clone().unwrap_or_default(),
            region: a.region.clone().unwrap_or_default(),
            current: String::new(),
            recommended: format!(
                "{} × {}",
                a.instances,
                a.instance_type.clone().unwrap_or_default()
            ),
            hourly_commitment_micros: None,
            monthly_savings_micros: a.estimated_monthly_savings.0,
            expected_utilisation: Some(a.average_utilization / 100.0),
            currency: a.currency.clone(),
            pulled_at: at,
        })
        .collect()
}

pub fn from_rightsizing(advice: &[RightsizingAdvice], at: chrono::NaiveDateTime) -> Vec<Advice> {
    advice
        .iter()
        .map(|a| Advice {
            kind: RIGHTSIZING.to_string(),
            parameters: String::new(),
            scope: a.resource_id.clone().unwrap_or_default(),
            region: a.region.clone().unwrap_or_default(),
            current: a.instance_type.clone().unwrap_or_default(),
            recommended: match &a.target_type {
                Some(t) => format!("{} to {t}", a.action.to_lowercase()),
                None => a.action.to_lowercase(),
            },
            hourly_commitment_micros: None,
            monthly_savings_micros: a.estimated_monthly_savings.0,
            expected_utilisation: None,
            currency: a.currency.clone(),
            pulled_at: at,
        })
        .collect()
}

fn describe(a: &Advice) -> String {
    let lookback = a
        .parameters
        .rsplit(' ')
        .next()
        .filter(|p| p.ends_with('d'))
        .map(|p| format!(", {}-day lookback", p.trim_end_matches('d')))
        .unwrap_or_default();
    format!(
        "{}{lookback}: saves {} a month{}",
        a.recommended,
        Micros(a.monthly_savings_micros).display(&a.currency),
        a.expected_utilisation
            .map(|u| format!(", {:.0} % utilisation", u * 100.0))
            .unwrap_or_default()
    )
}

/// AWS's recommendation for a commitment plan's scope, if pulled.
pub fn side_by_side(advice: &[Advice], plan: &Plan) -> Option<String> {
    let scope = &plan.usage.scope;
    let found: Vec<&Advice> = match plan.usage.kind {
        Kind::ComputeSavingsPlan => advice
            .iter()
            .filter(|a| a.kind == SAVINGS_PLANS && a.parameters.starts_with("COMPUTE_SP"))
            .collect(),
        Kind::Ec2InstanceSavingsPlan => advice
            .iter()
            .filter(|a| {
                a.kind == SAVINGS_PLANS
                    && a.parameters.starts_with("EC2_INSTANCE_SP")
                    && Some(&a.scope) == scope.family.as_ref()
                    && a.region == scope.region
            })
            .collect(),
        Kind::ReservedInstances => advice
            .iter()
            .filter(|a| {
                a.kind == RESERVED_INSTANCES
                    && Some(&a.scope) == scope.family.as_ref()
                    && a.region == scope.region
            })
            .collect(),
        _ => Vec::new(),
    };
    if found.is_empty() {
        return None;
    }
    Some(
        found
            .iter()
            .map(|a| describe(a))
            .collect::<Vec<_>>()
            .join("; "),
    )
}

/// AWS's rightsizing advice for the instances of a recommendation.
pub fn rightsizing_for(advice: &[Advice], rec: &Recommendation) -> Option<String> {
    let found: Vec<&Advice> = advice
        .iter()
        .filter(|a| a.kind == RIGHTSIZING && rec.scope.resources.contains(&a.scope))
        .collect();
    if found.is_empty() {
        return None;
    }
    let savings: i64 = found.iter().map(|a| a.monthly_savings_micros).sum();
    let mut targets: Vec<&str> = found.iter().map(|a| a.recommended.as_str()).collect();
    targets.sort_unstable();
    targets.dedup();
    Some(format!(
        "{} of {}: {}; saves {} a month",
        found.len(),
        rec.scope.resources.len(),
        targets.join(", "),
        Micros(savings).display(&found[0].currency)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::recommend::Scope;

    fn at() -> chrono::NaiveDateTime {
        chrono::NaiveDate::from_ymd_opt(2026, 11, 24)
            .unwrap()
            .and_time(chrono::NaiveTime::MIN)
    }

    fn rec(resources: &[&str]) -> Recommendation {
        Recommendation::new(
            "r".into(),
            Kind::Rightsize,
            Scope {
                platform: "shared".into(),
                region: "eu-west-1".into(),
                instance_type: Some("m6i.8xlarge".into()),
                family: Some("m6i".into()),
                resources: resources.iter().map(|r| r.to_string()).collect(),
            },
            "USD",
        )
    }

    #[test]
    fn aws_rightsizing_is_matched_by_instance_id() {
        let advice = from_rightsizing(
            &[
                RightsizingAdvice {
                    account_id: None,
                    resource_id: Some("i-1".into()),
                    instance_name: None,
                    instance_type: Some("m6i.8xlarge".into()),
                    region: Some("eu-west-1".into()),
                    action: "Modify".into(),
                    target_type: Some("m6i.4xlarge".into()),
                    current_monthly_cost: Micros(1_267_000_000),
                    estimated_monthly_savings: Micros(633_500_000),
                    currency: "USD".into(),
                },
                RightsizingAdvice {
                    account_id: None,
                    resource_id: Some("i-9".into()),
                    instance_name: None,
                    instance_type: Some("t3.xlarge".into()),
                    region: Some("eu-west-1".into()),
                    action: "Terminate".into(),
                    target_type: None,
                    current_monthly_cost: Micros(137_000_000),
                    estimated_monthly_savings: Micros(137_000_000),
                    currency: "USD".into(),
                },
            ],
            at(),
        );
        let text = rightsizing_for(&advice, &rec(&["i-1", "i-2"])).expect("matched");
        assert_eq!(text, "1 of 2: modify to m6i.4xlarge; saves $633.50 a month");
        assert!(rightsizing_for(&advice, &rec(&["i-5"])).is_none());
    }

    #[test]
    fn pull_parameters_name_the_request() {
        assert_eq!(
            parameters(Some("COMPUTE_SP"), false, "no", 30),
            "COMPUTE_SP ONE_YEAR NO_UPFRONT 30d"
        );
        assert_eq!(
            parameters(None, true, "all", 60),
            "THREE_YEARS ALL_UPFRONT 60d"
        );
    }
}

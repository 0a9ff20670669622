//! AWS's own, backward-looking recommendations (Cost Explorer
//! GetSavingsPlansPurchaseRecommendation, GetReservationPurchaseRecommendation
//! for EC2 Reserved Instances and GetRightsizingRecommendation), pulled through
//! aws-sdk-costexplorer to show beside finops' forecast-based ones.

use aws_sdk_costexplorer::types::{
    LookbackPeriodInDays, PaymentOption, SupportedSavingsPlansType, TermInYears,
};

use super::cost_explorer::{client, PullError, PullOptions};
use crate::db::{DbConnection, DbError};
use crate::money::Micros;

/// Stores AWS's advice of one kind (replacing what was stored for the same
/// parameters) and records the run in the same transaction, so pages built
/// on the old advice are not served from a cache afterwards.
pub fn store(
    conn: &mut DbConnection,
    kind: &str,
    parameters: &str,
    rows: &[crate::db::aws_advice::Advice],
    started_at: chrono::NaiveDateTime,
) -> Result<i64, DbError> {
    use diesel::Connection;
    conn.transaction(|conn| {
        let stored = crate::db::aws_advice::replace(conn, kind, parameters, rows)?;
        crate::runs::record_change(
            conn,
            crate::runs::Source::AwsAdvice,
            kind,
            stored,
            started_at,
            parameters.to_string(),
        )
    })
}

/// What a recommendation is for.
#[derive(Clone, Debug, PartialEq)]
pub struct AdviceRequest {
    /// Compute or EC2 Instance Savings Plans.
    pub compute: bool,
    pub three_years: bool,
    /// `no`, `partial` or `all` upfront.
    pub upfront: &'static str,
    /// 7, 30 or 60 days.
    pub lookback_days: u32,
}

/// One recommended purchase as AWS states it (amounts in its currency).
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct SavingsPlanAdvice {
    pub plan_type: String,
    pub term: String,
    pub payment_option: String,
    pub lookback_days: u32,
    pub account_id: Option<String>,
    /// Region and family, for EC2 Instance Savings Plans.
    pub region: Option<String>,
    pub instance_family: Option<String>,
    pub hourly_commitment: Micros,
    pub upfront_cost: Micros,
    pub estimated_monthly_savings: Micros,
    pub estimated_savings_percentage: f64,
    pub estimated_average_utilization: f64,
    pub currency: String,
}

fn number(field: &str, value: Option<&str>) -> Result<f64, PullError> {
    match value {
        None | Some("") => Ok(0.0),
        Some(v) => v
            .trim()
            .parse::<f64>()
            .map_err(|_| PullError::Answer(format!("{field} is '{v}', not a number"))),
    }
}

/// One recommended EC2 Reserved Instance purchase as AWS states it.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct ReservationAdvice {
    pub term: String,
    pub payment_option: String,
    pub lookback_days: u32,
    pub account_id: Option<String>,
    pub instance_type: Option<String>,
    pub region: Option<String>,
    pub family: Option<String>,
    pub instances: f64,
    pub average_utilization: f64,
    pub break_even_months: f64,
    pub upfront_cost: Micros,
    pub recurring_monthly_cost: Micros,
    pub estimated_monthly_savings: Micros,
    pub currency: String,
}

fn lookback_of(days: u32) -> Result<LookbackPeriodInDays, PullError> {
    match days {
        7 => Ok(LookbackPeriodInDays::SevenDays),
        30 => Ok(LookbackPeriodInDays::ThirtyDays),
        60 => Ok(LookbackPeriodInDays::SixtyDays),
        other => Err(PullError::Answer(format!(
            "a lookback of {other} days: AWS offers 7, 30 or 60"
        ))),
    }
}

fn payment_of(upfront: &str) -> Result<PaymentOption, PullError> {
    match upfront {
        "no" => Ok(PaymentOption::NoUpfront),
        "partial" => Ok(PaymentOption::PartialUpfront),
        "all" => Ok(PaymentOption::AllUpfront),
        other => Err(PullError::Answer(format!(
            "payment option '{other}': use no, partial or all (upfront)"
        ))),
    }
}

fn term_of(three_years: bool) -> TermInYears {
    if three_years {
        TermInYears::ThreeYears
    } else {
        TermInYears::OneYear
    }
}

/// Counts a successful request of `operation` in the metrics.
fn counted<T>(operation: &'static str) -> impl FnOnce(T) -> T {
    move |answer| {
        crate::metrics::cost_explorer_request(operation, false);
        answer
    }
}

/// Counts a failed request of `operation` in the metrics.
fn failed<E>(operation: &'static str) -> impl FnOnce(E) -> E {
    move |error| {
        crate::metrics::cost_explorer_request(operation, true);
        error
    }
}

/// Asks Cost Explorer for its EC2 Reserved Instance purchase
/// recommendation (`compute` in the request is ignored).
pub async fn reserved_instances(
    opts: &PullOptions,
    request: &AdviceRequest,
) -> Result<Vec<ReservationAdvice>, PullError> {
    let lookback = lookback_of(request.lookback_days)?;
    let payment = payment_of(request.upfront)?;
    let term = term_of(request.three_years);
    let output = client(opts)
        .await
        .get_reservation_purchase_recommendation()
        .service("Amazon Elastic Compute Cloud - Compute")
        .term_in_years(term.clone())
        .payment_option(payment.clone())
        .lookback_period_in_days(lookback)
        .send()
        .await
        .map(counted("GetReservationPurchaseRecommendation"))
        .map_err(failed("GetReservationPurchaseRecommendation"))
        .map_err(|e| PullError::Request {
            request: 1,
            message: aws_sdk_costexplorer::error::DisplayErrorContext(&e).to_string(),
        })?;
    let mut out = Vec::new();
    for rec in output.recommendations() {
        for d in rec.recommendation_details() {
            let ec2 = d.instance_details().and_then(|i| i.ec2_instance_details());
            out.push(ReservationAdvice {
                term: term.as_str().to_string(),
                payment_option: payment.as_str().to_string(),
                lookback_days: request.lookback_days,
                account_id: d.account_id().map(str::to_string),
                instance_type: ec2.and_then(|e| e.instance_type()).map(str::to_string),
                region: ec2.and_then(|e| e.region()).map(str::to_string),
                family: ec2.and_then(|e| e.family()).map(str::to_string),
                instances: number(
                    "RecommendedNumberOfInstancesToPurchase",
                    d.recommended_number_of_instances_to_purchase(),
                )?,
                average_utilization: number("AverageUtilization", d.average_utilization())?,
                break_even_months: number(
                    "EstimatedBreakEvenInMonths",
                    d.estimated_break_even_in_months(),
                )?,
                upfront_cost: money("UpfrontCost", d.upfront_cost())?,
                recurring_monthly_cost: money(
                    "RecurringStandardMonthlyCost",
                    d.recurring_standard_monthly_cost(),
                )?,
                estimated_monthly_savings: money(
                    "EstimatedMonthlySavingsAmount",
                    d.estimated_monthly_savings_amount(),
                )?,
                currency: d.currency_code().unwrap_or("USD").to_string(),
            });
        }
    }
    Ok(out)
}

/// An amount as AWS writes it (a decimal string), exactly; absent is 0.
fn money(field: &str, value: Option<&str>) -> Result<Micros, PullError> {
    match value {
        None | Some("") => Ok(Micros(0)),
        Some(v) => Micros::parse(v.trim())
            .map_err(|_| PullError::Answer(format!("{field} is '{v}', not an amount"))),
    }
}

/// Asks Cost Explorer for its Savings Plans purchase recommendation.
pub async fn savings_plans(
    opts: &PullOptions,
    request: &AdviceRequest,
) -> Result<Vec<SavingsPlanAdvice>, PullError> {
    let lookback = lookback_of(request.lookback_days)?;
    let payment = payment_of(request.upfront)?;
    let plan_type = if request.compute {
        SupportedSavingsPlansType::ComputeSp
    } else {
        SupportedSavingsPlansType::Ec2InstanceSp
    };
    let term = term_of(request.three_years);
    let output = client(opts)
        .await
        .get_savings_plans_purchase_recommendation()
        .savings_plans_type(plan_type.clone())
        .term_in_years(term.clone())
        .payment_option(payment.clone())
        .lookback_period_in_days(lookback)
        .send()
        .await
        .map(counted("GetSavingsPlansPurchaseRecommendation"))
        .map_err(failed("GetSavingsPlansPurchaseRecommendation"))
        .map_err(|e| PullError::Request {
            request: 1,
            message: aws_sdk_costexplorer::error::DisplayErrorContext(&e).to_string(),
        })?;
    let Some(rec) = output.savings_plans_purchase_recommendation() else {
        return Ok(Vec::new());
    };
    rec.savings_plans_purchase_recommendation_details()
        .iter()
        .map(|d| {
            Ok(SavingsPlanAdvice {
                plan_type: plan_type.as_str().to_string(),
                term: term.as_str().to_string(),
                payment_option: payment.as_str().to_string(),
                lookback_days: request.lookback_days,
                account_id: d.account_id().map(str::to_string),
                region: d
                    .savings_plans_details()
                    .and_then(|s| s.region())
                    .map(str::to_string),
                instance_family: d
                    .savings_plans_details()
                    .and_then(|s| s.instance_family())
                    .map(str::to_string),
                hourly_commitment: money(
                    "HourlyCommitmentToPurchase",
                    d.hourly_commitment_to_purchase(),
                )?,
                upfront_cost: money("UpfrontCost", d.upfront_cost())?,
                estimated_monthly_savings: money(
                    "EstimatedMonthlySavingsAmount",
                    d.estimated_monthly_savings_amount(),
                )?,
                estimated_savings_percentage: number(
                    "EstimatedSavingsPercentage",
                    d.estimated_savings_percentage(),
                )?,
                estimated_average_utilization: number(
                    "EstimatedAverageUtilization",
                    d.estimated_average_utilization(),
                )?,
                currency: d.currency_code().unwrap_or("USD").to_string(),
            })
        })
        .collect()
}

/// One EC2 rightsizing recommendation as AWS states it.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct RightsizingAdvice {
    pub account_id: Option<String>,
    pub resource_id: Option<String>,
    pub instance_name: Option<String>,
    pub instance_type: Option<String>,
    pub region: Option<String>,
    /// `Modify` or `Terminate`.
    pub action: String,
    /// The default target type, for `Modify`.
    pub target_type: Option<String>,
    pub current_monthly_cost: Micros,
    pub estimated_monthly_savings: Micros,
    pub currency: String,
}

/// Asks Cost Explorer for its EC2 rightsizing recommendations (every
/// page), within the family or across families.
pub async fn rightsizing(
    opts: &PullOptions,
    across_families: bool,
) -> Result<(Vec<RightsizingAdvice>, usize), PullError> {
    use aws_sdk_costexplorer::types::{
        RecommendationTarget, RightsizingRecommendationConfiguration,
    };
    let configuration = RightsizingRecommendationConfiguration::builder()
        .recommendation_target(if across_families {
            RecommendationTarget::CrossInstanceFamily
        } else {
            RecommendationTarget::SameInstanceFamily
        })
        .benefits_considered(true)
        .build()
        .map_err(|e| PullError::Answer(e.to_string()))?;
    let client = client(opts).await;
    let mut out = Vec::new();
    let mut token: Option<String> = None;
    let mut requests = 0;
    loop {
        requests += 1;
        let output = client
            .get_rightsizing_recommendation()
            .service("AmazonEC2")
            .configuration(configuration.clone())
            .set_next_page_token(token.clone())
            .send()
            .await
            .map(counted("GetRightsizingRecommendation"))
            .map_err(failed("GetRightsizingRecommendation"))
            .map_err(|e| PullError::Request {
                request: requests,
                message: aws_sdk_costexplorer::error::DisplayErrorContext(&e).to_string(),
            })?;
        for r in output.rightsizing_recommendations() {
            let current = r.current_instance();
            let ec2 = current
                .and_then(|c| c.resource_details())
                .and_then(|d| d.ec2_resource_details());
            let action = r
                .rightsizing_type()
                .map(|t| t.as_str().to_string())
                .unwrap_or_default();
            let target = r.modify_recommendation_detail().and_then(|m| {
                let targets = m.target_instances();
                targets
                    .iter()
                    .find(|t| t.default_target_instance())
                    .or(targets.first())
            });
            let savings = match (action.as_str(), target) {
                ("Terminate", _) => r
                    .terminate_recommendation_detail()
                    .and_then(|t| t.estimated_monthly_savings()),
                (_, Some(t)) => t.estimated_monthly_savings(),
                _ => None,
            };
            out.push(RightsizingAdvice {
                account_id: r.account_id().map(str::to_string),
                resource_id: current.and_then(|c| c.resource_id()).map(str::to_string),
                instance_name: current
                    .and_then(|c| c.instance_name())
                    .filter(|n| !n.is_empty())
                    .map(str::to_string),
                instance_type: ec2.and_then(|e| e.instance_type()).map(str::to_string),
                region: ec2.and_then(|e| e.region()).map(str::to_string),
                target_type: target
                    .and_then(|t| t.resource_details())
                    .and_then(|d| d.ec2_resource_details())
                    .and_then(|e| e.instance_type())
                    .map(str::to_string),
                current_monthly_cost: money("MonthlyCost", current.and_then(|c| c.monthly_cost()))?,
                estimated_monthly_savings: money("EstimatedMonthlySavings", savings)?,
                currency: current
                    .and_then(|c| c.currency_code())
                    .unwrap_or("USD")
                    .to_string(),
                action,
            });
        }
        token = output
            .next_page_token()
            .filter(|t| !t.is_empty())
            .map(str::to_string);
        if token.is_none() {
            break;
        }
    }
    Ok((out, requests))
}

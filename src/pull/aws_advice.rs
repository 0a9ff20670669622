//! AWS's own, backward-looking purchase recommendations (Cost Explorer
//! GetSavingsPlansPurchaseRecommendation and, for EC2 Reserved Instances,
//! GetReservationPurchaseRecommendation), pulled through
//! aws-sdk-costexplorer to show beside finops' forecast-based ones.

use aws_sdk_costexplorer::types::{
    LookbackPeriodInDays, PaymentOption, SupportedSavingsPlansType, TermInYears,
};

use super::cost_explorer::{client, PullError, PullOptions};

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
    pub hourly_commitment: f64,
    pub upfront_cost: f64,
    pub estimated_monthly_savings: f64,
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
    pub upfront_cost: f64,
    pub recurring_monthly_cost: f64,
    pub estimated_monthly_savings: f64,
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
                upfront_cost: number("UpfrontCost", d.upfront_cost())?,
                recurring_monthly_cost: number(
                    "RecurringStandardMonthlyCost",
                    d.recurring_standard_monthly_cost(),
                )?,
                estimated_monthly_savings: number(
                    "EstimatedMonthlySavingsAmount",
                    d.estimated_monthly_savings_amount(),
                )?,
                currency: d.currency_code().unwrap_or("USD").to_string(),
            });
        }
    }
    Ok(out)
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
                hourly_commitment: number(
                    "HourlyCommitmentToPurchase",
                    d.hourly_commitment_to_purchase(),
                )?,
                upfront_cost: number("UpfrontCost", d.upfront_cost())?,
                estimated_monthly_savings: number(
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

//! AWS's own, backward-looking Savings Plans purchase recommendation
//! (Cost Explorer GetSavingsPlansPurchaseRecommendation), pulled through
//! aws-sdk-costexplorer to show beside finops' forecast-based one.

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

/// Asks Cost Explorer for its Savings Plans purchase recommendation.
pub async fn savings_plans(
    opts: &PullOptions,
    request: &AdviceRequest,
) -> Result<Vec<SavingsPlanAdvice>, PullError> {
    let lookback = match request.lookback_days {
        7 => LookbackPeriodInDays::SevenDays,
        30 => LookbackPeriodInDays::ThirtyDays,
        60 => LookbackPeriodInDays::SixtyDays,
        other => {
            return Err(PullError::Answer(format!(
                "a lookback of {other} days: AWS offers 7, 30 or 60"
            )))
        }
    };
    let payment = match request.upfront {
        "no" => PaymentOption::NoUpfront,
        "partial" => PaymentOption::PartialUpfront,
        "all" => PaymentOption::AllUpfront,
        other => {
            return Err(PullError::Answer(format!(
                "payment option '{other}': use no, partial or all (upfront)"
            )))
        }
    };
    let plan_type = if request.compute {
        SupportedSavingsPlansType::ComputeSp
    } else {
        SupportedSavingsPlansType::Ec2InstanceSp
    };
    let term = if request.three_years {
        TermInYears::ThreeYears
    } else {
        TermInYears::OneYear
    };
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

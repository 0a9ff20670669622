//! A plan as a recommendation people read, and what-ifs on it.

use super::*;

pub(super) fn money(x: f64, currency: &str) -> String {
    Micros::from_units_f64(x).display(currency)
}

/// The plan as a recommendation (its best option).
pub fn to_recommendation(plan: &Plan, aws: Option<String>) -> Recommendation {
    let u = &plan.usage;
    let currency = &plan.currency;
    let id = format!(
        "commitment:{}:{}:{}",
        u.kind.as_str(),
        u.scope.region,
        u.scope.family.clone().unwrap_or_else(|| "all".to_string())
    );
    let mut rec = Recommendation::new(id, u.kind, u.scope.clone(), currency);
    rec.status = Status::NothingToBuy;
    rec.recommended = "nothing to buy".to_string();
    rec.aws = aws;
    let held_now = plan.existing.first().copied().unwrap_or(0.0);
    let mean_now = u.forecast.first().map(|p| p.mean / 24.0).unwrap_or(0.0);
    rec.current = format!(
        "{} /h on demand forecast, {} /h already covered",
        money(mean_now, currency),
        money(held_now, currency)
    );
    if let Some(problem) = &u.problem {
        rec.status = Status::TooLittleData;
        rec.recommended = "no recommendation".to_string();
        rec.reason = format!("the usage could not be forecast: {problem}");
        rec.risk = "unknown".to_string();
        return rec;
    }
    let Some(best) = plan.best.map(|i| &plan.options[i]) else {
        rec.reason = "the forecast usage left after the commitments held would not pay for a new one in any option".to_string();
        rec.risk = "none".to_string();
        return rec;
    };
    rec.status = Status::Actionable;
    let commit = crate::recommend::to_cents(best.outcome.commitment);
    rec.hourly_commitment = Some(commit);
    rec.upfront = Some(crate::recommend::to_cents(best.upfront));
    rec.rate_ratio = Some(best.rate_ratio);
    rec.term_years = Some(best.term_years);
    rec.payment = Some(best.payment.label().to_string());
    rec.recommended = match best.instances {
        Some(n) => format!(
            "{n} × {} RI, {} year{}, {}",
            u.main_type.clone().unwrap_or_default(),
            best.term_years,
            if best.term_years > 1 { "s" } else { "" },
            best.payment.label()
        ),
        None => format!(
            "{} /h, {} year{}, {}",
            commit.display(currency),
            best.term_years,
            if best.term_years > 1 { "s" } else { "" },
            best.payment.label()
        ),
    };
    rec.monthly_savings = crate::recommend::to_cents(best.monthly_savings);
    rec.p10_monthly_savings = Some(crate::recommend::to_cents(best.p10_monthly_savings));
    rec.p90_monthly_savings = Some(crate::recommend::to_cents(best.p90_monthly_savings));
    rec.expected_utilisation = Some(best.outcome.expected_utilisation);
    rec.expected_coverage = Some(best.outcome.expected_coverage);
    rec.break_even_month = best.break_even_month;
    let queued = if best.starts_in_days > 0 {
        let day = start_day(plan, best);
        rec.recommended.push_str(&format!(", from {day}"));
        format!("buy for {day}, when the commitments held run out (a queued purchase: buying now would pay twice for the overlap); ")
    } else {
        String::new()
    };
    rec.reason = if best.sized_on_sustained {
        format!(
            "{queued}covers up to {} /h of on-demand usage, the level the last 30 days exceeded {:.0} % of the time: the forecast's backtest did not beat seasonal naive clearly enough to size a {}-year commitment on it",
            money(best.outcome.commitment / best.rate_ratio, currency),
            best.rate_ratio * 100.0,
            best.term_years
        )
    } else {
        format!(
            "{queued}covers up to {} /h of on-demand usage, the level the forecast exceeds {:.0} % of the term's hours (the rate ÷ on demand); sized on the {}-year forecast, not a lookback",
            money(best.outcome.commitment / best.rate_ratio, currency),
            best.rate_ratio * 100.0,
            best.term_years
        )
    };
    if plan.usage.rightsized.abs() >= 0.005 {
        rec.reason.push_str(&format!(
            "; sized on the usage after the recommended rightsizing ({} /h of on-demand spend {})",
            money(plan.usage.rightsized.abs(), currency),
            if plan.usage.rightsized > 0.0 {
                "less"
            } else {
                "more, resized into this family"
            }
        ));
    }
    let mut why = Vec::new();
    if best.starts_in_days > 0 {
        why.push(format!("from {}, as held ones end", start_day(plan, best)));
    }
    why.push(if best.sized_on_sustained {
        "the last 30 days' level (forecast not trusted)".to_string()
    } else {
        format!("the {}-year forecast's optimum", best.term_years)
    });
    if plan.usage.rightsized.abs() >= 0.005 {
        why.push("after rightsizing".to_string());
    }
    rec.why = why.join("; ");
    rec.risk = if best.p10_monthly_savings < 0.0 {
        format!(
            "loses {} a month in the worst tenth of outcomes",
            money(-best.p10_monthly_savings, currency)
        )
    } else {
        format!(
            "saves at least {} a month in 9 of 10 outcomes; {:.0} % expected utilisation",
            money(best.p10_monthly_savings, currency),
            best.outcome.expected_utilisation * 100.0
        )
    };
    rec
}

/// What-if: the outcome of a commitment the user types, for an option of
/// the plan (its term, payment and start).
pub fn what_if(plan: &Plan, option: &OptionOutcome, commitment: f64) -> OptionOutcome {
    let days = (option.term_years as i64 * 365) as usize;
    let spd = plan.usage.steps_per_day;
    let net = net_window(
        &plan.usage.paths,
        &plan.existing,
        option.starts_in_days,
        days,
        spd,
    );
    let months = days as f64 / DAYS_PER_MONTH;
    let outcome = outcome_on(&net, commitment.max(0.0), option.rate_ratio, spd);
    let steps = net.first().map(Vec::len).unwrap_or(0);
    let mean_path: Vec<f64> = (0..steps)
        .map(|i| net.iter().map(|p| p[i]).sum::<f64>() / net.len().max(1) as f64)
        .collect();
    OptionOutcome {
        instances: None,
        monthly_savings: outcome.expected_savings / months,
        p10_monthly_savings: outcome.p10_savings / months,
        p90_monthly_savings: outcome.p90_savings / months,
        break_even_month: break_even_month(
            &mean_path,
            commitment,
            option.rate_ratio,
            option.payment.upfront_share(),
            spd,
        ),
        upfront: commitment * 24.0 * days as f64 * option.payment.upfront_share(),
        outcome,
        sized_on_sustained: false,
        ..option.clone()
    }
}

/// The day an option's purchase starts.
pub fn start_day(plan: &Plan, option: &OptionOutcome) -> NaiveDate {
    plan.start + chrono::Duration::days(option.starts_in_days as i64)
}

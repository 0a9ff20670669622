//! Evaluating the rules over the stored data: each rule says which
//! episodes are happening now (a budget past its threshold this month, an
//! anomaly, a commitment about to end, …); an episode becomes an alert the
//! first time it is seen and never again.

use chrono::{Duration, NaiveDate, NaiveDateTime};

use super::rule::Kind;
use super::AlertError;
use crate::db::alerts::{self, NewAlert, Rule};
use crate::db::anomalies::{self, Anomaly};
use crate::db::budgets::ALL;
use crate::db::costs::{date_range, sum_costs, CostFilter, Dim};
use crate::db::{commitments, ingest_runs, DbConnection};
use crate::money::Micros;
use crate::report::period::Month;

/// An episode a rule sees: the key that makes it one alert, and what the
/// alert says.
#[derive(Clone, Debug, PartialEq)]
pub struct Firing {
    pub episode: String,
    pub title: String,
    pub body: String,
    /// A path in the service (`/budgets?month=2026-12`).
    pub link: String,
}

/// What an evaluation did.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Evaluation {
    pub rules: usize,
    /// Episodes seen (new or raised before).
    pub firing: usize,
    /// Ids of the alerts raised now.
    pub raised: Vec<i64>,
}

/// Days back from the last day of data an anomaly may have ended and still
/// be alerted on (older ones are history, not news).
pub const ANOMALY_RECENT_DAYS: i64 = 14;

/// Evaluates every rule at `now` (the day `today`) and raises the new
/// episodes, each with a pending delivery per channel of its rule.
pub fn evaluate(
    conn: &mut DbConnection,
    today: NaiveDate,
    now: NaiveDateTime,
) -> Result<Evaluation, AlertError> {
    let rules = alerts::rules(conn)?;
    let mut out = Evaluation {
        rules: rules.len(),
        ..Evaluation::default()
    };
    if rules.is_empty() {
        return Ok(out);
    }
    let mut data = Data::load(conn)?;
    for rule in &rules {
        let Some(kind) = Kind::of(rule) else {
            tracing::warn!(rule = %rule.name, kind = %rule.kind, "alert rule of an unknown kind skipped");
            continue;
        };
        let firings = firings(conn, rule, &kind, &mut data, today)?;
        out.firing += firings.len();
        for f in firings {
            let alert = NewAlert {
                rule_id: rule.id,
                rule_name: rule.name.clone(),
                kind: rule.kind.clone(),
                episode: f.episode,
                title: f.title,
                body: f.body,
                link: f.link,
                raised_at: now,
            };
            if let Some(id) = alerts::raise(conn, &alert, &rule.channel_names())? {
                tracing::info!(alert = id, rule = %rule.name, title = %alert.title, "alert raised");
                out.raised.push(id);
            }
        }
    }
    Ok(out)
}

/// What several rules read once.
struct Data {
    last_day: Option<NaiveDate>,
    currency: String,
    /// The budgets of the latest month and how they stand, forecast once
    /// for every budget rule.
    budgets: Option<Vec<crate::budget::status::BudgetStatus>>,
}

impl Data {
    fn load(conn: &mut DbConnection) -> Result<Data, AlertError> {
        Ok(Data {
            last_day: date_range(conn)?.map(|r| r.1),
            currency: crate::currency::reporting(conn)?,
            budgets: None,
        })
    }

    fn budgets(
        &mut self,
        conn: &mut DbConnection,
        month: Month,
    ) -> Result<&[crate::budget::status::BudgetStatus], AlertError> {
        if self.budgets.is_none() {
            self.budgets = Some(crate::budget::status::month_status(
                conn,
                month,
                &self.currency,
            )?);
        }
        Ok(self.budgets.as_deref().unwrap_or_default())
    }
}

fn firings(
    conn: &mut DbConnection,
    rule: &Rule,
    kind: &Kind,
    data: &mut Data,
    today: NaiveDate,
) -> Result<Vec<Firing>, AlertError> {
    match kind {
        Kind::Budget { forecast, percent } => match data.last_day {
            Some(last) => Ok(budget_firings(
                data.budgets(conn, Month::of(last))?,
                Month::of(last),
                *forecast,
                *percent,
            )),
            None => Ok(Vec::new()),
        },
        Kind::Anomaly { min_impact } => match data.last_day {
            Some(last) => {
                let found =
                    anomalies::between(conn, last - Duration::days(ANOMALY_RECENT_DAYS), last)?;
                Ok(anomaly_firings(&found, *min_impact))
            }
            None => Ok(Vec::new()),
        },
        Kind::CommitmentExpiry { days } => {
            let mut out = Vec::new();
            for c in commitments::all(conn)? {
                let left = (c.end_date - today).num_days();
                if (0..=*days).contains(&left) {
                    let hourly = Micros(c.hourly_commitment_micros);
                    out.push(Firing {
                        episode: format!("{}:{}", c.commitment_id, c.end_date),
                        title: format!(
                            "Commitment {} ends on {} ({} days)",
                            c.commitment_id, c.end_date, left
                        ),
                        body: format!(
                            "{} {}{}, {}/hour ({} a month), {}-year {}, from {} to {}.\nWhat it covers moves to on-demand rates when it ends unless it is renewed: see Recommendations.",
                            commitment_kind(&c.kind),
                            if c.instance_type.is_empty() { String::new() } else { format!("{} × {} ", c.instance_count, c.instance_type) },
                            if c.region.is_empty() { "any region".to_string() } else { c.region.clone() },
                            hourly.display(&data.currency),
                            Micros(hourly.0.saturating_mul(730)).display(&data.currency),
                            c.term_years,
                            c.payment,
                            c.start_date,
                            c.end_date
                        ),
                        link: "/recommendations".to_string(),
                    });
                }
            }
            Ok(out)
        }
        Kind::Unallocated { percent } => match data.last_day {
            Some(last) => unallocated_firing(conn, Month::of(last), last, &data.currency, *percent),
            None => Ok(Vec::new()),
        },
        Kind::RunFailed => {
            let runs = ingest_runs::failed_since(conn, rule.created_at)?;
            Ok(runs
                .into_iter()
                .map(|r| {
                    let what = if r.file_name.is_empty() {
                        r.source.clone()
                    } else {
                        format!("{} {}", r.source, r.file_name)
                    };
                    Firing {
                        episode: format!("run:{}", r.id),
                        title: format!("{} failed: {what}", run_word(&r.source)),
                        body: format!(
                            "Run {} at {} UTC failed; nothing it read was stored.\n{}",
                            r.id,
                            r.started_at.format("%Y-%m-%d %H:%M"),
                            r.message.lines().take(6).collect::<Vec<_>>().join("\n")
                        ),
                        link: "/sources".to_string(),
                    }
                })
                .collect())
        }
    }
}

fn run_word(source: &str) -> &'static str {
    match source {
        "cost-explorer" | "aws-advice" => "Pull",
        _ => "Import",
    }
}

fn commitment_kind(kind: &str) -> &'static str {
    match kind {
        "compute_sp" => "Compute Savings Plan",
        "ec2_instance_sp" => "EC2 Instance Savings Plan",
        _ => "Reserved Instance",
    }
}

fn budget_firings(
    statuses: &[crate::budget::status::BudgetStatus],
    month: Month,
    forecast: bool,
    percent: f64,
) -> Vec<Firing> {
    let mut out = Vec::new();
    for s in statuses {
        let b = &s.budget;
        let used = if forecast {
            s.forecast_used()
        } else {
            s.used()
        };
        let Some(used) = used else { continue };
        if used + 1e-9 < percent {
            continue;
        }
        let what = if forecast { "forecast" } else { "actual" };
        let crossing = match (s.crosses_on, s.crossed) {
            (Some(d), true) => format!("Spend passed the budget on {d}."),
            (Some(d), false) => format!("The forecast crosses the budget on {d}."),
            (None, _) => "The forecast stays under the budget this month.".to_string(),
        };
        out.push(Firing {
            episode: format!(
                "{}:{}/{}/{}:{}:{}",
                b.month, b.platform, b.region, b.service, b.basis, b.currency
            ),
            title: format!(
                "Budget {}: {what} at {:.0} % of {} in {}",
                s.label,
                used,
                b.amount().display(&b.currency),
                month.long_name()
            ),
            body: format!(
                "Budget ({} cost): {}\nActual through {}: {} ({})\nForecast to the month's end: {} ({}{})\n{crossing}",
                b.basis,
                b.amount().display(&b.currency),
                s.data_through.map_or("-".to_string(), |d| d.to_string()),
                s.actual.display(&b.currency),
                s.used().map_or("-".to_string(), |u| format!("{u:.1} %")),
                s.forecast_month.display(&b.currency),
                s.forecast_used().map_or("-".to_string(), |u| format!("{u:.1} %")),
                if s.method == "forecast" {
                    String::new()
                } else {
                    format!(", {}", s.method)
                },
            ),
            link: format!("/budgets?month={month}"),
        });
    }
    out
}

/// The anomalies worth an alert: impact at least `min_impact`, not marked
/// a false alarm or planned; where the same rise shows at several levels
/// (a service, its platform, the total) only the most specific one.
pub fn anomaly_firings(found: &[Anomaly], min_impact: Micros) -> Vec<Firing> {
    let mut candidates: Vec<&Anomaly> = found
        .iter()
        .filter(|a| a.feedback != "no" && a.feedback != "planned")
        .filter(|a| a.impact() >= min_impact && a.impact_micros > 0)
        .collect();
    let specificity = |a: &Anomaly| {
        [&a.platform, &a.region, &a.service]
            .iter()
            .filter(|v| v.as_str() != ALL)
            .count()
    };
    candidates.sort_by_key(|a| {
        (
            std::cmp::Reverse(specificity(a)),
            std::cmp::Reverse(a.impact_micros),
        )
    });
    let mut kept: Vec<&Anomaly> = Vec::new();
    for a in candidates {
        let within = |k: &&Anomaly| {
            let covers = |coarse: &str, fine: &str| coarse == ALL || coarse == fine;
            covers(&a.platform, &k.platform)
                && covers(&a.region, &k.region)
                && covers(&a.service, &k.service)
                && a.currency == k.currency
                && a.start_day <= k.end_day
                && a.end_day >= k.start_day
        };
        if !kept.iter().any(within) {
            kept.push(a);
        }
    }
    kept.into_iter()
        .map(|a| {
            let days = if a.start_day == a.end_day {
                format!("on {}", a.start_day)
            } else {
                format!("from {} to {}", a.start_day, a.end_day)
            };
            let mut body = format!(
                "Actual {} against {} expected {days}: {} more.\n{}",
                Micros(a.actual_micros).display(&a.currency),
                Micros(a.expected_micros).display(&a.currency),
                a.impact().display(&a.currency),
                a.why
            );
            if !a.event.is_empty() {
                body.push_str(&format!(
                    "\nDuring {}, beyond what it was expected to add.",
                    a.event
                ));
            }
            let lines = a.explanation_lines();
            if !lines.is_empty() {
                body.push_str("\nWhat rose:");
                for l in lines.iter().take(6) {
                    body.push_str(&format!("\n- {l}"));
                }
            }
            Firing {
                episode: format!(
                    "{}/{}/{}:{}:{}",
                    a.platform, a.region, a.service, a.currency, a.start_day
                ),
                title: format!(
                    "Cost anomaly: {} +{} {days}",
                    a.scope_label(),
                    a.impact().display(&a.currency)
                ),
                body,
                link: format!("/anomalies?from={}", a.start_day),
            }
        })
        .collect()
}

fn unallocated_firing(
    conn: &mut DbConnection,
    month: Month,
    last: NaiveDate,
    currency: &str,
    percent: f64,
) -> Result<Vec<Firing>, AlertError> {
    let filter = CostFilter::new(month.first_day(), last, currency);
    let sums = sum_costs(conn, &filter, None, &[Dim::Platform])?;
    let total: Micros = sums.iter().map(|s| s.effective).sum();
    let unallocated: Micros = sums
        .iter()
        .filter(|s| s.keys.first().map(String::as_str) == Some(crate::dims::UNALLOCATED))
        .map(|s| s.effective)
        .sum();
    let Some(share) = unallocated.percent_of(total) else {
        return Ok(Vec::new());
    };
    if share <= percent {
        return Ok(Vec::new());
    }
    Ok(vec![Firing {
        episode: month.to_string(),
        title: format!(
            "Unallocated cost is {share:.1} % of {} so far",
            month.long_name()
        ),
        body: format!(
            "{} of {} (effective cost, {} to {}) has no platform. Tag the resources or add an allocation rule.",
            unallocated.display(currency),
            total.display(currency),
            month.first_day(),
            last
        ),
        link: "/rules".to_string(),
    }])
}

//! What commitments to buy: for a Compute Savings Plan over all eligible
//! compute, and for EC2 Instance Savings Plans and Reserved Instances per
//! instance family and region, every term and payment option sized over
//! the forecast of the whole term (not a lookback), net of what is already
//! held until it expires.
//!
//! The daily forecast's mean and intervals become equally likely sample
//! paths (each a quantile of the forecast, held through the term, so a
//! launch that under-delivers does so all year). Within a day usage is
//! taken as level: the commitment is sized on daily average hours.
//! Beyond the first year the forecast's first year repeats (seasonality
//! kept, no trend extrapolated for three years).
//!
//! `paths.rs` turns a forecast into sample paths, `evaluate.rs` prices a
//! commitment on them, `ladder.rs` spreads a purchase over months,
//! `rates.rs` reads the rates a scope can buy at, `present.rs` makes a plan
//! a recommendation, `history.rs` replays a plan on the user's own past
//! months, and this file sizes the plans.

mod evaluate;
pub mod history;
mod ladder;
mod paths;
mod present;
mod rates;

pub use evaluate::*;
pub use ladder::*;
pub use paths::*;
pub use present::*;
pub use rates::*;

use chrono::NaiveDate;

use super::commitment::{self, Outcome, UsageForecast};
use super::usage::{Daily, FamilyUsage};
use super::{Kind, Recommendation, Scope, Status};
use crate::calendar::CalendarEvent;
use crate::db::commitments::Commitment;
use crate::forecast::model::ModelOptions;
use crate::forecast::Point;
use crate::money::Micros;
use crate::pricing::{Offer, Payment, PriceCatalog};

/// Days per month for monthly figures (365.25 / 12).
pub const DAYS_PER_MONTH: f64 = 30.4375;

/// Days of forecast made; longer terms repeat it.
pub const FORECAST_DAYS: i64 = 365;

/// Quantiles of the forecast that make the sample paths.
pub const PATH_QUANTILES: [f64; 9] = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9];

/// Rate ratios of an offer: (term years, payment, committed ÷ on demand).
pub type Rates = Vec<(i32, Payment, f64)>;

/// A scope's usage history and forecast, in on-demand spend per hour.
#[derive(Clone, Debug, PartialEq)]
pub struct ScopeUsage {
    pub kind: Kind,
    pub scope: Scope,
    /// The instance type RIs are counted in, for family scopes.
    pub main_type: Option<String>,
    pub history: Daily,
    /// Forecast mean per day (per hour), from the day after the history.
    pub forecast: Vec<Point>,
    /// Sample paths over `FORECAST_DAYS`, `steps_per_day` values a day
    /// (spend per hour): 1 (the day's average hour) or 24 (each hour, by
    /// the within-day profile of hourly utilisation).
    pub paths: Vec<Vec<f64>>,
    pub steps_per_day: usize,
    pub problem: Option<String>,
    /// The last 30 days' usage, spend per hour (`steps_per_day` values a
    /// day, like the paths): what usage has sustained.
    pub recent: Vec<f64>,
    /// The forecast's held-out backtest beat seasonal naive clearly
    /// ([`commitment::forecast_trusted`]): commitments are sized on it;
    /// otherwise on what recent usage sustained.
    pub trusted: bool,
    /// On-demand spend per hour the recommended rightsizing removes from
    /// this scope (negative: adds, a resize into this family): commitments
    /// are sized on the usage after it.
    pub rightsized: f64,
}

/// One option (term × payment) of an offer for a scope.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct OptionOutcome {
    pub offer: Offer,
    pub term_years: i32,
    pub payment: Payment,
    /// Committed rate ÷ on-demand rate.
    pub rate_ratio: f64,
    /// Reserved Instances: how many of the main type.
    pub instances: Option<u32>,
    /// Expected over the term (term totals; commitment per hour).
    pub outcome: Outcome,
    pub monthly_savings: f64,
    pub p10_monthly_savings: f64,
    pub p90_monthly_savings: f64,
    pub break_even_month: Option<u32>,
    pub upfront: f64,
    /// Days from the plan's first day to the purchase: 0 = now; later
    /// when the commitments held cover the usage until they expire (a
    /// queued purchase).
    pub starts_in_days: usize,
    /// The forecast is not trusted: the commitment is the one the last 30
    /// days sustained, not the forecast's optimum.
    pub sized_on_sustained: bool,
}

/// A scope's plan: every option, the best one, and a ladder of it.
#[derive(Clone, Debug, PartialEq)]
pub struct Plan {
    pub usage: ScopeUsage,
    pub currency: String,
    /// On-demand spend per hour already covered, per day of the term.
    pub existing: Vec<f64>,
    pub options: Vec<OptionOutcome>,
    /// Index into `options` of the one recommended.
    pub best: Option<usize>,
    pub ladder: Vec<Tranche>,
    pub start: NaiveDate,
}

/// One purchase of a ladder: in month `month` (0 = now).
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Tranche {
    pub month: u32,
    pub commitment: f64,
    pub expected_savings: f64,
}

#[derive(Clone, Debug, PartialEq)]
pub struct PurchaseOptions {
    pub terms: Vec<i32>,
    pub payments: Vec<Payment>,
    /// Purchases a ladder splits the best option into, a month apart.
    pub ladder_steps: u32,
    /// Family scopes under this on-demand spend per hour are skipped.
    pub min_hourly: f64,
}

impl Default for PurchaseOptions {
    fn default() -> PurchaseOptions {
        PurchaseOptions {
            terms: vec![1, 3],
            payments: Payment::ALL.to_vec(),
            ladder_steps: 3,
            min_hourly: 1.0,
        }
    }
}

/// Builds the plan of a scope: every option, net of commitments held.
pub fn plan(
    usage: ScopeUsage,
    currency: &str,
    options: &PurchaseOptions,
    offers: &[(Offer, Rates)],
    existing_for: &dyn Fn(usize) -> Vec<f64>,
    ri_unit: Option<f64>,
) -> Plan {
    let start = usage
        .forecast
        .first()
        .map(|p| p.date)
        .unwrap_or(NaiveDate::MIN);
    let mut all = Vec::new();
    // What is held, over the longest window any option looks at.
    let existing = existing_for(4 * 365 + 400);
    let starts: Vec<usize> = std::iter::once(0).chain(held_expiry(&existing)).collect();
    // What a new commitment can cover: usage net of what is held and of
    // what the recommended rightsizing removes.
    let removed: Vec<f64> = existing.iter().map(|e| e + usage.rightsized).collect();
    // (term days, start day) → (net paths, their values sorted).
    type Net = (Vec<Vec<f64>>, Vec<f64>);
    let mut windows: std::collections::HashMap<(usize, usize), Net> = Default::default();
    if usage.problem.is_none() {
        for (offer, rates) in offers {
            for &(term, payment, ratio) in rates {
                if !options.terms.contains(&term) || !options.payments.contains(&payment) {
                    continue;
                }
                let days = (term as i64 * 365) as usize;
                let unit = if *offer == Offer::Reserved {
                    ri_unit
                } else {
                    None
                };
                for &from in &starts {
                    let spd = usage.steps_per_day;
                    // The usage net of what is held depends on the term and
                    // start only: made and sorted once for every payment.
                    let (net, sorted) = windows.entry((days, from)).or_insert_with(|| {
                        let net = net_window(&usage.paths, &removed, from, days, spd);
                        let sorted =
                            commitment::pooled_sorted(&UsageForecast { paths: net.clone() });
                        (net, sorted)
                    });
                    // An untrusted forecast does not size the commitment:
                    // the last 30 days do (net of what is held).
                    let sustained = (!usage.trusted)
                        .then(|| {
                            let held = removed.get(from).copied().unwrap_or(0.0);
                            let recent: Vec<f64> =
                                usage.recent.iter().map(|u| (u - held).max(0.0)).collect();
                            commitment::sustained_commitment(&recent, ratio)
                        })
                        .flatten();
                    let mut o = option_outcome(
                        Window {
                            paths: net,
                            sorted,
                            spd,
                            sustained,
                        },
                        *offer,
                        term,
                        payment,
                        ratio,
                        unit,
                    );
                    o.starts_in_days = from;
                    all.push(o);
                }
            }
        }
    }
    let best = all
        .iter()
        .enumerate()
        .filter(|(_, o)| o.outcome.commitment > 0.0 && o.outcome.expected_savings > 0.0)
        .max_by(|a, b| a.1.monthly_savings.total_cmp(&b.1.monthly_savings))
        .map(|(i, _)| i);
    let ladder = match best {
        Some(i) => {
            let o = &all[i];
            let days = (o.term_years as i64 * 365) as usize;
            let spd = usage.steps_per_day;
            let net = net_window(&usage.paths, &removed, o.starts_in_days, days + 400, spd);
            ladder(
                &net,
                o.rate_ratio,
                o.outcome.commitment,
                options.ladder_steps,
                days,
                spd,
            )
        }
        None => Vec::new(),
    };
    Plan {
        usage,
        currency: currency.to_string(),
        existing,
        options: all,
        best,
        ladder,
        start,
    }
}

/// Every scope's plan: the Compute Savings Plan over all eligible
/// compute, and per family and region the EC2 Instance Savings Plan and
/// the Reserved Instances.
pub struct Inputs {
    pub eligible: Daily,
    pub currency: String,
    pub families: Vec<FamilyUsage>,
    pub held: Vec<Commitment>,
    pub events: Vec<CalendarEvent>,
    /// Within-day profile of usage (24 factors), from hourly utilisation.
    pub profile: Option<Vec<f64>>,
    /// What the recommended rightsizing removes, on-demand spend per hour.
    pub rightsized: Rightsized,
}

/// On-demand spend per hour the recommended rightsizing takes away: from
/// all eligible compute, and per (region, family) (a resize into another
/// family adds to that one: negative).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Rightsized {
    pub total: f64,
    pub by_family: std::collections::BTreeMap<(String, String), f64>,
}

pub fn all_plans(inputs: &Inputs, catalog: &PriceCatalog, options: &PurchaseOptions) -> Vec<Plan> {
    let compute = compute_rates(catalog, &inputs.families);
    let held = &inputs.held;
    let mut plans = Vec::new();

    // Compute Savings Plan: all eligible compute, net of everything held.
    let all_scope = Scope {
        platform: "all".to_string(),
        region: "all".to_string(),
        instance_type: None,
        family: None,
        resources: Vec::new(),
    };
    let mut u = forecast_scope(
        Kind::ComputeSavingsPlan,
        all_scope,
        None,
        inputs.eligible.clone(),
        &inputs.events,
        inputs.profile.as_deref(),
    );
    u.rightsized = inputs.rightsized.total;
    let start = u.forecast.first().map(|p| p.date).unwrap_or(NaiveDate::MIN);
    let cover = |days: usize| {
        existing_cover(
            held,
            |_| true,
            |c| held_ratio(c, &compute, catalog),
            start,
            days,
        )
    };
    plans.push(plan(
        u,
        &inputs.currency,
        options,
        &[(Offer::ComputeSp, compute.clone())],
        &cover,
        None,
    ));

    // Per family and region: its share of any Compute SP held, plus the
    // commitments scoped to it.
    // Spend per hour over the last four weeks of data; a family that
    // stopped running (replaced by a newer generation) has none.
    let last = inputs
        .families
        .iter()
        .filter_map(|f| f.daily.last().map(|(d, _)| *d))
        .max()
        .unwrap_or(NaiveDate::MIN);
    let since = last
        .checked_sub_signed(chrono::Duration::days(27))
        .unwrap_or(last);
    let recent = |d: &Daily| {
        d.iter()
            .filter(|(day, _)| *day >= since)
            .map(|(_, v)| v)
            .sum::<f64>()
            / 28.0
            / 24.0
    };
    // A Compute Savings Plan held covers the whole pool (Fargate, Lambda
    // and types no family plan prices included): a family gets its share
    // of the pool's usage, never more than that.
    let family_recent: f64 = inputs.families.iter().map(|f| recent(&f.daily)).sum();
    let total_recent = recent(&inputs.eligible).max(family_recent);
    let scopes: Vec<&FamilyUsage> = inputs
        .families
        .iter()
        .filter(|f| recent(&f.daily) >= options.min_hourly)
        .collect();
    let forecasts: Vec<ScopeUsage> = std::thread::scope(|s| {
        let handles: Vec<_> = scopes
            .chunks(scopes.len().div_ceil(2).max(1))
            .map(|chunk| {
                s.spawn(|| {
                    chunk
                        .iter()
                        .map(|f| {
                            forecast_scope(
                                Kind::Ec2InstanceSavingsPlan,
                                Scope {
                                    platform: "all".to_string(),
                                    region: f.region.clone(),
                                    instance_type: Some(f.main_type.clone()),
                                    family: Some(f.family.clone()),
                                    resources: Vec::new(),
                                },
                                Some(f.main_type.clone()),
                                f.daily.clone(),
                                &inputs.events,
                                inputs.profile.as_deref(),
                            )
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_default())
            .collect()
    });
    for (f, u) in scopes.iter().zip(forecasts) {
        let share = if total_recent > 0.0 {
            recent(&f.daily) / total_recent
        } else {
            0.0
        };
        let fstart = u.forecast.first().map(|p| p.date).unwrap_or(NaiveDate::MIN);
        let region = f.region.clone();
        let family = f.family.clone();
        let compute = &compute;
        let cover = move |days: usize| {
            let scoped = existing_cover(
                held,
                |c| c.kind != Offer::ComputeSp.as_str() && c.region == region && c.family == family,
                |c| held_ratio(c, compute, catalog),
                fstart,
                days,
            );
            let spread = existing_cover(
                held,
                |c| c.kind == Offer::ComputeSp.as_str(),
                |c| held_ratio(c, compute, catalog),
                fstart,
                days,
            );
            scoped
                .iter()
                .zip(spread)
                .map(|(a, b)| a + b * share)
                .collect::<Vec<f64>>()
        };
        let unit = catalog
            .prices("ec2", &f.main_type, &f.region)
            .map(|p| p.on_demand.as_units_f64());
        let rightsized = inputs
            .rightsized
            .by_family
            .get(&(f.region.clone(), f.family.clone()))
            .copied()
            .unwrap_or(0.0);
        for offer in [Offer::Ec2InstanceSp, Offer::Reserved] {
            let mut scoped = u.clone();
            scoped.rightsized = rightsized;
            scoped.kind = if offer == Offer::Reserved {
                Kind::ReservedInstances
            } else {
                Kind::Ec2InstanceSavingsPlan
            };
            let rates = rates_for(catalog, &f.main_type, &f.region, offer);
            plans.push(plan(
                scoped,
                &inputs.currency,
                options,
                &[(offer, rates)],
                &cover,
                unit,
            ));
        }
    }
    plans
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_normal_quantile_matches_known_values() {
        assert!((normal_quantile(0.5)).abs() < 1e-9);
        assert!((normal_quantile(0.9) - 1.281_551_6).abs() < 1e-6);
        assert!((normal_quantile(0.975) - 1.959_964).abs() < 1e-5);
        assert!((normal_quantile(0.01) + 2.326_348).abs() < 1e-5);
    }

    #[test]
    fn break_even_comes_first_month_without_upfront_and_later_with_it() {
        // Level usage of 10/h, commitment 6/h at ratio 0.6: covers all.
        let path = vec![10.0; 365];
        assert_eq!(break_even_month(&path, 6.0, 0.6, 0.0, 1), Some(1));
        // All upfront: paid 6 × 24 × 365 on day one; saves 4/h, so
        // it pays back once covered usage (10/h) exceeds the whole
        // payment: after 0.6 of the year, month 8.
        assert_eq!(break_even_month(&path, 6.0, 0.6, 1.0, 1), Some(8));
        // The same at hourly steps.
        let hourly = vec![10.0; 365 * 24];
        assert_eq!(break_even_month(&hourly, 6.0, 0.6, 1.0, 24), Some(8));
        // Usage that collapses never pays back an all-upfront purchase.
        let mut falling = vec![10.0; 30];
        falling.extend(vec![0.0; 335]);
        assert_eq!(break_even_month(&falling, 6.0, 0.6, 1.0, 1), None);
    }

    #[test]
    fn a_ladder_buys_less_later_when_usage_decays() {
        // A launch: 100/h decaying to 20/h over the year.
        let path: Vec<f64> = (0..800)
            .map(|d| 20.0 + 80.0 * (-(d as f64) / 60.0).exp())
            .collect();
        let paths = vec![path];
        let lump = commitment::optimal_commitment(
            &UsageForecast {
                paths: vec![paths[0][..365].to_vec()],
            },
            0.6,
        );
        let steps = ladder(&paths, 0.6, lump, 3, 365, 1);
        assert_eq!(steps.len(), 3);
        let total: f64 = steps.iter().map(|t| t.commitment).sum();
        assert!(total <= lump + 1e-9, "{total} > {lump}");
        assert!(steps[2].commitment <= steps[0].commitment + 1e-9);
    }

    #[test]
    fn a_purchase_waits_for_the_commitments_held_to_run_out() {
        // 100/h of usage, all of it covered for the first 50 days.
        let mut held = vec![100.0; 50];
        held.extend(vec![0.0; 2000]);
        assert_eq!(held_expiry(&held), Some(50));
        assert_eq!(held_expiry(&[0.0; 10]), None);
        let point = |i: i64| Point {
            date: NaiveDate::from_ymd_opt(2026, 1, 1).unwrap() + chrono::Duration::days(i),
            mean: 2400.0,
            lower80: 2300.0,
            upper80: 2500.0,
            lower95: 2200.0,
            upper95: 2600.0,
        };
        let points: Vec<Point> = (0..365).map(point).collect();
        let usage = ScopeUsage {
            kind: Kind::ComputeSavingsPlan,
            scope: Scope {
                platform: "all".into(),
                region: "all".into(),
                instance_type: None,
                family: None,
                resources: Vec::new(),
            },
            main_type: None,
            history: Vec::new(),
            paths: paths_from(&points),
            steps_per_day: 1,
            forecast: points,
            problem: None,
            recent: Vec::new(),
            trusted: true,
            rightsized: 0.0,
        };
        let held_for = move |days: usize| {
            let mut v = held.clone();
            v.resize(days, 0.0);
            v
        };
        let p = plan(
            usage,
            "USD",
            &PurchaseOptions {
                terms: vec![1],
                payments: vec![Payment::NoUpfront],
                ..PurchaseOptions::default()
            },
            &[(Offer::ComputeSp, vec![(1, Payment::NoUpfront, 0.7)])],
            &held_for,
            None,
        );
        assert_eq!(p.options.len(), 2, "now and at expiry");
        let best = &p.options[p.best.expect("a purchase")];
        assert_eq!(best.starts_in_days, 50);
        assert!(best.monthly_savings > p.options[0].monthly_savings);
        // Starting at expiry, the commitment is fully used.
        assert!(best.outcome.expected_utilisation > 0.95);
        let rec = to_recommendation(&p, None);
        assert!(
            rec.reason.starts_with("buy for 2026-02-20"),
            "{}",
            rec.reason
        );
    }

    #[test]
    fn held_commitments_cover_their_days_only() {
        let d = |m, day| NaiveDate::from_ymd_opt(2026, m, day).unwrap();
        let held = vec![Commitment {
            commitment_id: "sp-1".into(),
            kind: "compute_sp".into(),
            region: String::new(),
            family: String::new(),
            instance_type: String::new(),
            instance_count: 0,
            hourly_commitment_micros: 7_200_000,
            term_years: 1,
            payment: "no".into(),
            start_date: d(1, 1),
            end_date: d(1, 10),
            source: "test".into(),
        }];
        let cover = existing_cover(&held, |_| true, |_| 0.72, d(1, 5), 10);
        assert!((cover[0] - 10.0).abs() < 1e-9);
        assert!((cover[5] - 10.0).abs() < 1e-9);
        assert_eq!(cover[6], 0.0);
    }
}

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

/// The quantile `q` of a forecast day, reading the 80 % interval as a
/// normal one (on each side of the mean).
pub fn point_quantile(p: &Point, q: f64) -> f64 {
    // z of q for the normal, by a rational approximation good to 1e-3.
    let z = normal_quantile(q);
    let z80 = 1.281_551_565_5;
    let v = if z >= 0.0 {
        p.mean + (p.upper80 - p.mean) * z / z80
    } else {
        p.mean + (p.mean - p.lower80) * z / z80
    };
    v.max(0.0)
}

/// Inverse of the standard normal CDF (Acklam's approximation).
pub fn normal_quantile(q: f64) -> f64 {
    let q = q.clamp(1e-9, 1.0 - 1e-9);
    let a = [
        -3.969_683_028_665_376e1,
        2.209_460_984_245_205e2,
        -2.759_285_104_469_687e2,
        1.383_577_518_672_69e2,
        -3.066_479_806_614_716e1,
        2.506_628_277_459_239,
    ];
    let b = [
        -5.447_609_879_822_406e1,
        1.615_858_368_580_409e2,
        -1.556_989_798_598_866e2,
        6.680_131_188_771_972e1,
        -1.328_068_155_288_572e1,
    ];
    let c = [
        -7.784_894_002_430_293e-3,
        -3.223_964_580_411_365e-1,
        -2.400_758_277_161_838,
        -2.549_732_539_343_734,
        4.374_664_141_464_968,
        2.938_163_982_698_783,
    ];
    let d = [
        7.784_695_709_041_462e-3,
        3.224_671_290_700_398e-1,
        2.445_134_137_142_996,
        3.754_408_661_907_416,
    ];
    let low = 0.02425;
    if q < low {
        let r = (-2.0 * q.ln()).sqrt();
        (((((c[0] * r + c[1]) * r + c[2]) * r + c[3]) * r + c[4]) * r + c[5])
            / ((((d[0] * r + d[1]) * r + d[2]) * r + d[3]) * r + 1.0)
    } else if q > 1.0 - low {
        -normal_quantile(1.0 - q)
    } else {
        let r = q - 0.5;
        let s = r * r;
        (((((a[0] * s + a[1]) * s + a[2]) * s + a[3]) * s + a[4]) * s + a[5]) * r
            / (((((b[0] * s + b[1]) * s + b[2]) * s + b[3]) * s + b[4]) * s + 1.0)
    }
}

/// Sample paths (per hour) from a daily forecast of daily spend.
pub fn paths_from(points: &[Point]) -> Vec<Vec<f64>> {
    PATH_QUANTILES
        .iter()
        .map(|&q| points.iter().map(|p| point_quantile(p, q) / 24.0).collect())
        .collect()
}

/// Day-level paths spread over the hours of each day by a within-day
/// profile (24 factors averaging 1).
pub fn with_profile(paths: &[Vec<f64>], profile: &[f64]) -> Vec<Vec<f64>> {
    paths
        .iter()
        .map(|p| {
            p.iter()
                .flat_map(|v| profile.iter().map(move |f| v * f))
                .collect()
        })
        .collect()
}

/// `days` days of a path, the forecast repeating after its end.
fn extend(path: &[f64], days: usize) -> Vec<f64> {
    if path.is_empty() {
        return vec![0.0; days];
    }
    (0..days).map(|i| path[i % path.len()]).collect()
}

/// Forecasts a scope's daily spend for `FORECAST_DAYS`.
pub fn forecast_scope(
    kind: Kind,
    scope: Scope,
    main_type: Option<String>,
    history: Daily,
    events: &[CalendarEvent],
    profile: Option<&[f64]>,
) -> ScopeUsage {
    let applicable: Vec<CalendarEvent> = events
        .iter()
        .filter(|e| {
            scope.region == "all" || e.regions.is_empty() || e.regions.contains(&scope.region)
        })
        .cloned()
        .collect();
    let (forecast, problem) = match crate::forecast::forecast(
        &history,
        &applicable,
        FORECAST_DAYS,
        &ModelOptions::default(),
    ) {
        Ok(f) => (f.points, None),
        Err(e) => (Vec::new(), Some(e.to_string())),
    };
    let daily = paths_from(&forecast);
    let (paths, steps_per_day) = match profile {
        Some(f) if f.len() == 24 => (with_profile(&daily, f), 24),
        _ => (daily, 1),
    };
    ScopeUsage {
        kind,
        scope,
        main_type,
        history,
        forecast,
        paths,
        steps_per_day,
        problem,
    }
}

/// On-demand spend per hour covered by commitments already held, per day
/// from `start`, for commitments `applies` selects. A Savings Plan's
/// commitment covers commitment ÷ `ratio` of on-demand spend.
pub fn existing_cover(
    held: &[Commitment],
    applies: impl Fn(&Commitment) -> bool,
    ratio: impl Fn(&Commitment) -> f64,
    start: NaiveDate,
    days: usize,
) -> Vec<f64> {
    let mut cover = vec![0.0; days];
    for c in held.iter().filter(|c| applies(c)) {
        let r = ratio(c);
        if r <= 0.0 {
            continue;
        }
        let per_hour = Micros(c.hourly_commitment_micros).as_units_f64() / r;
        for (i, v) in cover.iter_mut().enumerate() {
            let day = start + chrono::Duration::days(i as i64);
            if day >= c.start_date && day <= c.end_date {
                *v += per_hour;
            }
        }
    }
    cover
}

/// Break-even month of a commitment on a usage path (`spd` values a
/// day): the first month by whose end the on-demand spend it covered is
/// at least what was paid.
pub fn break_even_month(
    path: &[f64],
    commitment: f64,
    ratio: f64,
    upfront_share: f64,
    spd: usize,
) -> Option<u32> {
    let spd = spd.max(1);
    let hours = 24.0 / spd as f64;
    let covered = commitment / ratio;
    let term_cost = commitment * hours * path.len() as f64;
    let mut paid = upfront_share * term_cost;
    let mut avoided = 0.0;
    let per_month = DAYS_PER_MONTH * spd as f64;
    let months = (path.len() as f64 / per_month).ceil() as u32;
    let mut step = 0usize;
    for m in 1..=months {
        let until = ((m as f64 * per_month).round() as usize).min(path.len());
        while step < until {
            avoided += path[step].max(0.0).min(covered) * hours;
            paid += (1.0 - upfront_share) * commitment * hours;
            step += 1;
        }
        if avoided >= paid - 1e-9 && commitment > 0.0 {
            return Some(m);
        }
    }
    None
}

/// Outcomes of `commitment` (per hour) on paths of `spd` values a day:
/// term totals.
pub fn outcome_on(paths: &[Vec<f64>], commitment: f64, ratio: f64, spd: usize) -> Outcome {
    let f = UsageForecast {
        paths: paths.to_vec(),
    };
    let mut o = commitment::evaluate(&f, commitment, ratio);
    // Each value stands for 24 / spd hours.
    let hours = 24.0 / spd.max(1) as f64;
    o.expected_savings *= hours;
    o.p10_savings *= hours;
    o.p90_savings *= hours;
    o
}

/// Usage net of what is held over one option's window: its paths (`spd`
/// values a day) and all their values, ascending.
struct Window<'a> {
    paths: &'a [Vec<f64>],
    sorted: &'a [f64],
    spd: usize,
}

fn option_outcome(
    window: Window<'_>,
    offer: Offer,
    term: i32,
    payment: Payment,
    ratio: f64,
    ri_unit: Option<f64>,
) -> OptionOutcome {
    let Window { paths, sorted, spd } = window;
    let steps = paths.first().map(Vec::len).unwrap_or(0);
    let days = steps / spd.max(1);
    let months = days as f64 / DAYS_PER_MONTH;
    let mut commitment = commitment::optimal_from_sorted(sorted, ratio);
    let mut instances = None;
    if let Some(unit) = ri_unit.filter(|u| *u > 0.0) {
        // Whole instances: the better of the two counts around the optimum.
        let exact = commitment / ratio / unit;
        let best = [exact.floor(), exact.ceil()]
            .into_iter()
            .map(|n| {
                let c = n * unit * ratio;
                (n, outcome_on(paths, c, ratio, spd).expected_savings)
            })
            .max_by(|a, b| a.1.total_cmp(&b.1))
            .map(|(n, _)| n)
            .unwrap_or(0.0);
        instances = Some(best as u32);
        commitment = best * unit * ratio;
    }
    let outcome = outcome_on(paths, commitment, ratio, spd);
    let mean_path: Vec<f64> = (0..steps)
        .map(|i| paths.iter().map(|p| p[i]).sum::<f64>() / paths.len().max(1) as f64)
        .collect();
    OptionOutcome {
        offer,
        term_years: term,
        payment,
        rate_ratio: ratio,
        instances,
        monthly_savings: outcome.expected_savings / months.max(1.0),
        p10_monthly_savings: outcome.p10_savings / months.max(1.0),
        p90_monthly_savings: outcome.p90_savings / months.max(1.0),
        break_even_month: break_even_month(
            &mean_path,
            commitment,
            ratio,
            payment.upfront_share(),
            spd,
        ),
        upfront: commitment * 24.0 * days as f64 * payment.upfront_share(),
        outcome,
        starts_in_days: 0,
    }
}

/// Net paths over `days` days from day `from` (`spd` values a day): usage
/// minus what is already covered (`held`, per day from the plan's first).
fn net_window(
    paths: &[Vec<f64>],
    held: &[f64],
    from: usize,
    days: usize,
    spd: usize,
) -> Vec<Vec<f64>> {
    let spd = spd.max(1);
    paths
        .iter()
        .map(|p| {
            extend(p, (from + days) * spd)[from * spd..]
                .iter()
                .enumerate()
                .map(|(i, u)| (u - held.get(from + i / spd).copied().unwrap_or(0.0)).max(0.0))
                .collect()
        })
        .collect()
}

/// The day the bulk of the commitments held runs out (their cover falls
/// below half of today's), if within a year: a purchase queued for that
/// day wastes nothing on the overlap.
pub fn held_expiry(held: &[f64]) -> Option<usize> {
    let today = *held.first()?;
    if today <= 0.0 {
        return None;
    }
    held.iter()
        .position(|c| *c < 0.5 * today)
        .filter(|d| *d > 0 && *d <= 365)
}

/// A ladder of the best option: `steps` purchases a month apart, each at
/// most its share of the lump sum, and no more than the usage from its
/// month on still supports once earlier purchases cover their part.
pub fn ladder(
    paths: &[Vec<f64>],
    ratio: f64,
    total: f64,
    steps: u32,
    term_days: usize,
    spd: usize,
) -> Vec<Tranche> {
    let spd = spd.max(1);
    let steps = steps.max(1);
    let share = total / steps as f64;
    let mut bought = 0.0;
    let mut out = Vec::new();
    for k in 0..steps {
        let from = (k as f64 * DAYS_PER_MONTH).round() as usize * spd;
        let window: Vec<Vec<f64>> = paths
            .iter()
            .map(|p| {
                extend(p, from + term_days * spd)[from..]
                    .iter()
                    .map(|u| (u - bought / ratio).max(0.0))
                    .collect()
            })
            .collect();
        let f = UsageForecast {
            paths: window.clone(),
        };
        let c = commitment::optimal_commitment(&f, ratio).min(share);
        let expected = outcome_on(&window, c, ratio, spd).expected_savings;
        bought += c;
        out.push(Tranche {
            month: k,
            commitment: c,
            expected_savings: expected,
        });
    }
    out
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
                        let net = net_window(&usage.paths, &existing, from, days, spd);
                        let sorted =
                            commitment::pooled_sorted(&UsageForecast { paths: net.clone() });
                        (net, sorted)
                    });
                    let mut o = option_outcome(
                        Window {
                            paths: net,
                            sorted,
                            spd,
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
            let net = net_window(&usage.paths, &existing, o.starts_in_days, days + 400, spd);
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

/// The catalog's rate ratio of an offer, term and payment for a type in a
/// region, for every option the catalog has.
pub fn rates_for(catalog: &PriceCatalog, instance_type: &str, region: &str, offer: Offer) -> Rates {
    let mut out = Vec::new();
    for term in [1, 3] {
        for payment in Payment::ALL {
            if let Some(r) = catalog.rate_ratio(instance_type, region, offer, term, payment) {
                out.push((term, payment, r));
            }
        }
    }
    out
}

/// Compute Savings Plan rate ratios: weighted by where and on what the
/// fleet runs (instance-hours × on-demand price).
pub fn compute_rates(catalog: &PriceCatalog, families: &[FamilyUsage]) -> Rates {
    let mut out = Vec::new();
    for term in [1, 3] {
        for payment in Payment::ALL {
            let (mut num, mut den) = (0.0, 0.0);
            for f in families {
                let w: f64 = f.daily.iter().rev().take(28).map(|(_, v)| v).sum();
                if let Some(r) =
                    catalog.rate_ratio(&f.main_type, &f.region, Offer::ComputeSp, term, payment)
                {
                    num += w * r;
                    den += w;
                }
            }
            if den <= 0.0 {
                // No priced fleet: the catalog's median rate.
                let mut all: Vec<f64> = catalog
                    .prices
                    .iter()
                    .filter(|((s, _, _), _)| s == "ec2")
                    .filter_map(|(_, p)| {
                        p.commitments
                            .get(&(Offer::ComputeSp, term, payment))
                            .map(|c| c.0 as f64 / p.on_demand.0 as f64)
                    })
                    .collect();
                all.sort_by(|a, b| a.total_cmp(b));
                if let Some(m) = all.get(all.len() / 2) {
                    num = *m;
                    den = 1.0;
                }
            }
            if den > 0.0 {
                out.push((term, payment, num / den));
            }
        }
    }
    out
}

fn money(x: f64, currency: &str) -> String {
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
    let commit = super::to_cents(best.outcome.commitment);
    rec.hourly_commitment = Some(commit);
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
    rec.monthly_savings = super::to_cents(best.monthly_savings);
    rec.p10_monthly_savings = Some(super::to_cents(best.p10_monthly_savings));
    rec.p90_monthly_savings = Some(super::to_cents(best.p90_monthly_savings));
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
    rec.reason = format!(
        "{queued}covers up to {} /h of on-demand usage, the level the forecast exceeds {:.0} % of the term's hours (the rate ÷ on demand); sized on the {}-year forecast, not a lookback",
        money(best.outcome.commitment / best.rate_ratio, currency),
        best.rate_ratio * 100.0,
        best.term_years
    );
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
        ..option.clone()
    }
}

/// The day an option's purchase starts.
pub fn start_day(plan: &Plan, option: &OptionOutcome) -> NaiveDate {
    plan.start + chrono::Duration::days(option.starts_in_days as i64)
}

/// Rate of a held commitment relative to on demand, from the catalog's
/// typical rates for its offer, term and payment.
pub fn held_ratio(c: &Commitment, compute: &[(i32, Payment, f64)], catalog: &PriceCatalog) -> f64 {
    let payment = Payment::parse(&c.payment).unwrap_or(Payment::NoUpfront);
    match Offer::parse(&c.kind) {
        Some(Offer::ComputeSp) | None => compute
            .iter()
            .find(|(t, p, _)| *t == c.term_years && *p == payment)
            .map(|(_, _, r)| *r)
            .unwrap_or(0.72),
        Some(offer) => {
            let itype = if c.instance_type.is_empty() {
                catalog
                    .types
                    .values()
                    .find(|t| t.family == c.family)
                    .map(|t| t.instance_type.clone())
                    .unwrap_or_default()
            } else {
                c.instance_type.clone()
            };
            catalog
                .rate_ratio(&itype, &c.region, offer, c.term_years, payment)
                .unwrap_or(0.6)
        }
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
    let u = forecast_scope(
        Kind::ComputeSavingsPlan,
        all_scope,
        None,
        inputs.eligible.clone(),
        &inputs.events,
        inputs.profile.as_deref(),
    );
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
    let total_recent: f64 = inputs.families.iter().map(|f| recent(&f.daily)).sum();
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
        for offer in [Offer::Ec2InstanceSp, Offer::Reserved] {
            let mut scoped = u.clone();
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

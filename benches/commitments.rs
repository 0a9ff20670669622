//! Simulation benchmark, not a test: what a one-year Compute Savings Plan
//! bought on a given day realises over the following year when sized by
//!  (a) finops: the forecast of the term against the marketing calendar,
//!  (b) AWS-style: the last 30 days of usage, as if they repeated,
//!  (c) hindsight: the best commitment for the usage that then happened.
//! Realised savings = on-demand spend avoided − commitment paid, over the
//! actual usage of the year. Reported as a share of (c), the named
//! baseline, and (a) against (b).
//!
//! Two data sets: the demo's eligible EC2 compute (from its bill), bought
//! on several days of its last two years, and a generated game whose
//! launches spike usage threefold and decay over weeks, bought three weeks
//! after a launch.
//!
//! Run: `cargo bench --profile dev --bench commitments` (uses the test
//! build cache; timings are not the point).

use chrono::{Duration, NaiveDate};

use finops::calendar::CalendarEvent;

#[path = "support/bill_shapes.rs"]
mod bill_shapes;
use bill_shapes::shapes;
use finops::forecast::model::ModelOptions;
use finops::recommend::commitment::{
    evaluate, optimal_commitment, savings, sized_commitment, UsageForecast,
};
use finops::recommend::purchase::paths_from;

/// Compute Savings Plan, 1 year, no upfront: committed rate ÷ on demand
/// (the built-in catalog's ratio).
const RATIO: f64 = 0.72;

struct Outcome {
    finops: f64,
    lookback: f64,
    hindsight: f64,
}

/// Daily on-demand spend → per-hour level of each day.
fn hourly(daily: &[(NaiveDate, f64)]) -> Vec<f64> {
    daily.iter().map(|(_, v)| v / 24.0).collect()
}

/// Savings over a year of days, each standing for 24 hours.
fn realised(actual: &[f64], commitment: f64) -> f64 {
    24.0 * savings(actual, commitment, RATIO)
}

fn simulate(
    series: &[(NaiveDate, f64)],
    events: &[CalendarEvent],
    buy: NaiveDate,
) -> Option<Outcome> {
    purchase(series, events, buy).map(|s| s.outcome)
}

fn demo() -> (Vec<(NaiveDate, f64)>, Vec<CalendarEvent>) {
    let opts = finops::demo::DemoOptions {
        seed: 42,
        months: 36,
        end: NaiveDate::from_ymd_opt(2026, 10, 31).expect("date"),
    };
    let data = finops::demo::generate(&opts).expect("demo");
    let mut by_day: std::collections::BTreeMap<NaiveDate, i64> = Default::default();
    for c in &data.costs {
        if c.charge_category == "Usage" && c.service.starts_with("Amazon Elastic Compute Cloud") {
            *by_day.entry(c.day).or_insert(0) += c.list_micros.unwrap_or(c.effective_micros);
        }
    }
    (
        by_day
            .into_iter()
            .map(|(d, m)| (d, m as f64 / 1e6))
            .collect(),
        data.events,
    )
}

/// A game with a launch every 26 weeks: usage triples at launch and
/// decays to a slowly growing base over about five weeks; weekends are
/// busier; noise ±5 %.
fn launches() -> (Vec<(NaiveDate, f64)>, Vec<CalendarEvent>, Vec<NaiveDate>) {
    let start = NaiveDate::from_ymd_opt(2023, 1, 2).expect("date");
    let days = 4 * 365;
    let launch_days: Vec<NaiveDate> = (0..8)
        .map(|k| start + Duration::days(90 + 182 * k))
        .collect();
    let mut seed: u64 = 7;
    let mut noise = || {
        seed = seed
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        0.95 + 0.1 * ((seed >> 11) as f64 / (1u64 << 53) as f64)
    };
    let series = (0..days)
        .map(|i| {
            let d = start + Duration::days(i);
            let base = 4800.0 * (1.0 + 0.10 * i as f64 / 365.0);
            let weekly = if i % 7 >= 5 { 1.15 } else { 1.0 };
            let spike: f64 = launch_days
                .iter()
                .filter(|l| **l <= d)
                .map(|l| 2.0 * (-((d - *l).num_days() as f64) / 12.0).exp())
                .sum();
            (d, base * weekly * (1.0 + spike) * noise())
        })
        .collect();
    let events = launch_days
        .iter()
        .enumerate()
        .map(|(k, l)| bill_shapes::launch_event(k, *l, 34))
        .collect();
    (series, events, launch_days)
}

fn report(name: &str, rows: &[(NaiveDate, Outcome)]) -> (f64, f64, f64) {
    println!("\n{name}");
    println!(
        "{:<12} {:>14} {:>14} {:>14} {:>9} {:>9}",
        "bought on", "finops", "30-day AWS", "hindsight", "finops %", "AWS %"
    );
    let (mut a, mut b, mut c) = (0.0, 0.0, 0.0);
    for (day, o) in rows {
        println!(
            "{:<12} {:>14.0} {:>14.0} {:>14.0} {:>8.1}% {:>8.1}%",
            day.to_string(),
            o.finops,
            o.lookback,
            o.hindsight,
            100.0 * o.finops / o.hindsight,
            100.0 * o.lookback / o.hindsight
        );
        a += o.finops;
        b += o.lookback;
        c += o.hindsight;
    }
    println!(
        "{:<12} {:>14.0} {:>14.0} {:>14.0} {:>8.1}% {:>8.1}%",
        "total",
        a,
        b,
        c,
        100.0 * a / c,
        100.0 * b / c
    );
    (a, b, c)
}

/// Stated against realised for one purchase.
struct Scored {
    outcome: Outcome,
    stated_utilisation: f64,
    realised_utilisation: f64,
    below_p10: bool,
}

/// One purchase on `buy`, scored on the year that followed.
fn purchase(
    series: &[(NaiveDate, f64)],
    events: &[CalendarEvent],
    buy: NaiveDate,
) -> Option<Scored> {
    let history: Vec<(NaiveDate, f64)> = series.iter().filter(|(d, _)| *d < buy).cloned().collect();
    let actual: Vec<(NaiveDate, f64)> = series
        .iter()
        .filter(|(d, _)| *d >= buy && *d < buy + Duration::days(365))
        .cloned()
        .collect();
    if actual.len() < 365 || history.len() < 60 {
        return None;
    }
    let actual = hourly(&actual);
    // (a) finops: the term's forecast, as sample paths, trusted or not.
    let f = finops::forecast::forecast(&history, events, 365, &ModelOptions::default()).ok()?;
    let paths = UsageForecast {
        paths: paths_from(&f.points),
    };
    let ours = sized_commitment(&paths, &history, f.backtest.as_ref(), RATIO);
    let stated = evaluate(&paths, ours, RATIO);
    let covered = ours / RATIO;
    let used: f64 = actual.iter().map(|u| u.min(covered)).sum();
    // (b) AWS-style: the last 30 days, as if they repeated.
    let last30 = UsageForecast {
        paths: vec![hourly(&history[history.len() - 30..])],
    };
    let aws = optimal_commitment(&last30, RATIO);
    // (c) hindsight.
    let best = optimal_commitment(
        &UsageForecast {
            paths: vec![actual.clone()],
        },
        RATIO,
    );
    Some(Scored {
        outcome: Outcome {
            finops: realised(&actual, ours),
            lookback: realised(&actual, aws),
            hindsight: realised(&actual, best),
        },
        stated_utilisation: stated.expected_utilisation,
        realised_utilisation: if covered > 0.0 {
            used / (covered * actual.len() as f64)
        } else {
            0.0
        },
        below_p10: savings(&actual, ours, RATIO) < stated.p10_savings,
    })
}

fn shapes_report() {
    println!("\nGenerated bills: 15 months of eligible compute, bought on the next day, scored on the hidden year (3 seeds each)");
    println!(
        "{:<28} {:>10} {:>10} {:>10} {:>10} {:>9}",
        "shape", "finops %", "lookback %", "stated U", "realised U", "<P10"
    );
    let names: Vec<&str> = shapes(1).iter().map(|s| s.name).collect();
    for name in names {
        let (mut a, mut b, mut c, mut su, mut ru, mut misses, mut n) =
            (0.0, 0.0, 0.0, 0.0, 0.0, 0, 0);
        for seed in 1..=3 {
            let all = shapes(seed);
            let Some(shape) = all.iter().find(|s| s.name == name) else {
                continue;
            };
            let Some(s) = purchase(&shape.series, &shape.events, shape.buy) else {
                continue;
            };
            a += s.outcome.finops;
            b += s.outcome.lookback;
            c += s.outcome.hindsight;
            su += s.stated_utilisation;
            ru += s.realised_utilisation;
            misses += usize::from(s.below_p10);
            n += 1;
        }
        let n_f = f64::from(n.max(1));
        println!(
            "{:<28} {:>9.1}% {:>9.1}% {:>9.1}% {:>9.1}% {:>6}/{}",
            name,
            100.0 * a / c,
            100.0 * b / c,
            100.0 * su / n_f,
            100.0 * ru / n_f,
            misses,
            n
        );
    }
}

fn main() {
    println!("Realised savings over one year of a 1-year Compute Savings Plan, no upfront (rate ratio {RATIO}), in USD");
    let (series, events) = demo();
    let last = series.last().map(|(d, _)| *d).expect("demo data");
    let mut rows = Vec::new();
    for k in 0..6 {
        let buy = last - Duration::days(365 + 61 * k);
        if let Some(o) = simulate(&series, &events, buy) {
            rows.push((buy, o));
        }
    }
    let demo_totals = report("Demo data (eligible EC2 compute from the bill)", &rows);

    let (series, events, launch_days) = launches();
    let mut rows = Vec::new();
    for l in &launch_days {
        let buy = *l + Duration::days(21);
        if let Some(o) = simulate(&series, &events, buy) {
            rows.push((buy, o));
        }
    }
    let launch_totals = report(
        "Launch spike then decay (bought three weeks after a launch)",
        &rows,
    );
    println!(
        "\nfinops ÷ hindsight: demo {:.3}, launch {:.3}; finops ÷ 30-day lookback: demo {:.3}, launch {:.3}",
        demo_totals.0 / demo_totals.2,
        launch_totals.0 / launch_totals.2,
        demo_totals.0 / demo_totals.1,
        launch_totals.0 / launch_totals.1
    );
    shapes_report();
}

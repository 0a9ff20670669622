//! Usage shapes of generated bills, shared by the commitment benchmarks:
//! daily eligible on-demand compute spend over 15 months of history and
//! the hidden year after it, for flat, steady growth, launch-heavy (with
//! and without the calendar) and declining games, from a seed.

use chrono::{Duration, NaiveDate};

use finops::calendar::{CalendarEvent, EventKind};

/// A generated bill's daily eligible on-demand spend: 15 months of
/// history then the hidden year it is scored on.
pub struct Shape {
    pub name: &'static str,
    pub series: Vec<(NaiveDate, f64)>,
    pub events: Vec<CalendarEvent>,
    pub buy: NaiveDate,
}

pub const HISTORY_DAYS: i64 = 456;

/// A launch event of `days` days from `day`, named by its number.
pub fn launch_event(k: usize, day: NaiveDate, days: i64) -> CalendarEvent {
    CalendarEvent {
        id: None,
        name: format!("Season {} launch", k + 1),
        kind: EventKind::Launch,
        start: day,
        end: day + Duration::days(days),
        platforms: Vec::new(),
        regions: Vec::new(),
        expected_uplift: None,
        ramp_days: None,
        notes: String::new(),
        source: "bench".to_string(),
    }
}

/// Flat, steady growth, launch-heavy (with and without the calendar) and
/// declining usage, each from `seed`'s noise and sizes.
pub fn shapes(seed: u64) -> Vec<Shape> {
    let start = NaiveDate::from_ymd_opt(2025, 1, 6).expect("date");
    let days = HISTORY_DAYS + 365;
    let buy = start + Duration::days(HISTORY_DAYS);
    let mut rng = finops::rng::Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0xC0FFEE);
    let size = 500.0 + 400.0 * rng.unit();
    let noise: Vec<f64> = (0..days).map(|_| 1.0 + 0.04 * rng.normal()).collect();
    let launch_days: Vec<i64> = [70, 200, 330, 480, 610, 740]
        .iter()
        .map(|d| d + rng.range(-10, 10))
        .collect();
    let spike = 1.2 + 1.2 * rng.unit();
    let make = |level: &dyn Fn(i64) -> f64| -> Vec<(NaiveDate, f64)> {
        (0..days)
            .map(|i| {
                let weekly = if i % 7 >= 5 { 1.08 } else { 0.97 };
                let d = start + Duration::days(i);
                (d, 24.0 * level(i) * weekly * noise[i as usize])
            })
            .collect()
    };
    let t = |i: i64| i as f64 / 365.0;
    let launches = |i: i64| -> f64 {
        launch_days
            .iter()
            .filter(|l| **l <= i)
            .map(|l| spike * (-((i - *l) as f64) / 14.0).exp())
            .sum()
    };
    let calendar: Vec<CalendarEvent> = launch_days
        .iter()
        .enumerate()
        .map(|(k, l)| launch_event(k, start + Duration::days(*l), 30))
        .collect();
    let heavy = make(&|i| size * (1.0 + 0.10 * t(i)) * (1.0 + launches(i)));
    vec![
        Shape {
            name: "flat",
            series: make(&|_| size),
            events: Vec::new(),
            buy,
        },
        Shape {
            name: "steady growth",
            series: make(&|i| size * (1.0 + 0.30 * t(i))),
            events: Vec::new(),
            buy,
        },
        Shape {
            name: "launch-heavy",
            series: heavy.clone(),
            events: calendar,
            buy,
        },
        Shape {
            name: "launch-heavy, no calendar",
            series: heavy,
            events: Vec::new(),
            buy,
        },
        Shape {
            name: "declining",
            series: make(&|i| size * (1.0 - 0.30 * t(i)).max(0.3)),
            events: Vec::new(),
            buy,
        },
    ]
}

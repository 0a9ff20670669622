//! Forecasts of series (cost, peak concurrent players, capacity, or a
//! file a user brings; daily, weekly or monthly) that know the marketing
//! calendar, with prediction intervals and measured accuracy.
//!
//! Four candidates forecast each series (`select`): a regression on
//! log(1 + y) with a piecewise-linear trend, weekly and yearly Fourier
//! terms and per-kind event effects learned from past events (`model`);
//! damped-trend exponential smoothing (`ets`); seasonal naive; and the
//! average of the first two. The one with the least error on backtest
//! windows that do not overlap is used, so a series gets the simple
//! baseline when nothing beats it on its own history. Intervals are
//! conformal (the centred backtest errors' quantiles per horizon), and
//! every accuracy figure shown is measured on windows that chose nothing
//! and calibrated nothing. Bands of totals (a month, the next 30 days)
//! come from sample paths (`paths`), not sums of daily quantiles.

pub mod accuracy;
pub mod capacity;
pub mod compare;
pub mod ets;
pub mod frequency;
pub mod hierarchy;
pub mod linalg;
pub mod model;
pub mod paths;
pub mod run;
pub mod scenario;
pub mod select;
pub mod series;

use chrono::NaiveDate;

pub use accuracy::Accuracy;
pub use frequency::Frequency;
use model::ModelOptions;
pub use select::Method;

use crate::calendar::CalendarEvent;

/// One forecast day: the mean and the 80 % and 95 % intervals.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Point {
    pub date: NaiveDate,
    pub mean: f64,
    pub lower80: f64,
    pub upper80: f64,
    pub lower95: f64,
    pub upper95: f64,
}

/// A series' forecast and how accurate the method was on its history.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct SeriesForecast {
    pub points: Vec<Point>,
    pub backtest: Option<Accuracy>,
    /// Event kinds whose effect was learned from this history.
    pub learned_kinds: Vec<String>,
    /// The candidate the forecast uses (`None`: not a model's forecast,
    /// such as a new region's share in a scenario).
    pub method: Option<Method>,
    pub frequency: Frequency,
    /// How much one step's error says about the next (for the bands of
    /// totals).
    pub rho: f64,
}

impl SeriesForecast {
    /// Points that no model made (a fallback, a scenario's new region).
    pub fn plain(points: Vec<Point>) -> SeriesForecast {
        SeriesForecast {
            points,
            backtest: None,
            learned_kinds: Vec::new(),
            method: None,
            frequency: Frequency::Day,
            rho: 0.5,
        }
    }

    /// The same forecast with other points (reconciled, scaled).
    pub fn with_points(&self, points: Vec<Point>) -> SeriesForecast {
        SeriesForecast {
            points,
            ..self.clone()
        }
    }

    pub(crate) fn from_parts(
        points: Vec<Point>,
        assessment: Option<select::Assessment>,
        method: Method,
        frequency: Frequency,
        rho: f64,
        learned_kinds: Vec<String>,
    ) -> SeriesForecast {
        SeriesForecast {
            points,
            backtest: assessment.map(|a| Accuracy::new(method, a, frequency)),
            learned_kinds,
            method: Some(method),
            frequency,
            rho,
        }
    }

    /// The total of the first `steps` points and its bands (from sample
    /// paths: quantiles do not add).
    pub fn total(&self, steps: usize) -> paths::Band {
        paths::total_band(&self.points, self.rho, steps)
    }

    /// The highest mean of the first `steps` points.
    pub fn peak(&self, steps: usize) -> f64 {
        self.points
            .iter()
            .take(steps)
            .map(|p| p.mean)
            .fold(0.0, f64::max)
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ForecastError {
    #[error("the series has {0} days of history; a forecast needs at least 28")]
    TooShort(usize),
    #[error("the series has {have} {step}s of history; a forecast needs at least {need}")]
    TooFew {
        have: usize,
        need: usize,
        step: &'static str,
    },
    #[error("the model could not be fitted to this series")]
    Singular,
}

/// Fewest values a series needs for a forecast.
pub fn min_points(freq: Frequency) -> usize {
    match freq {
        Frequency::Day => 28,
        Frequency::Week => 16,
        Frequency::Month => 12,
    }
}

/// Days without data after which earlier history is ignored: a stray old
/// import (a test file, a month billed long ago) must not bend the trend.
pub const MAX_GAP_DAYS: i64 = 28;

/// A level shift of at least this factor between the four weeks before a
/// day and the four weeks after it starts a new regime for the
/// regression (a platform's launch from a soft launch, a region winding
/// down), which then fits from there; smoothing and seasonal naive keep
/// the whole history and follow the shift themselves.
pub const REGIME_SHIFT: f64 = 4.0;

fn median_of(values: impl Iterator<Item = f64>) -> f64 {
    let mut v: Vec<f64> = values.filter(|x| x.is_finite()).collect();
    if v.is_empty() {
        return 0.0;
    }
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

/// The history after its last gap longer than `MAX_GAP_DAYS` (for daily
/// series; three missing steps for weekly and monthly ones).
pub fn after_last_gap(history: &[(NaiveDate, f64)]) -> &[(NaiveDate, f64)] {
    after_last_gap_of(history, Frequency::Day)
}

fn after_last_gap_of(history: &[(NaiveDate, f64)], freq: Frequency) -> &[(NaiveDate, f64)] {
    let too_long = |a: NaiveDate, b: NaiveDate| match freq {
        Frequency::Day => (b - a).num_days() > MAX_GAP_DAYS,
        _ => freq.steps_between(a, b) > 3,
    };
    let start = history
        .windows(2)
        .rposition(|w| too_long(w[0].0, w[1].0))
        .map(|i| i + 1)
        .unwrap_or(0);
    &history[start..]
}

/// The history the regression is fitted to: from its last regime shift
/// (`REGIME_SHIFT`) on, judged on the model's scale: a ratio of medians
/// for a log model; a linear model keeps its whole history.
pub fn regime(history: &[(NaiveDate, f64)], log: bool) -> &[(NaiveDate, f64)] {
    const W: usize = 28;
    if !log || history.len() < 2 * W {
        return history;
    }
    let ratio = |t: usize| {
        let before = median_of(history[t - W..t].iter().map(|p| p.1));
        let after = median_of(history[t..t + W].iter().map(|p| p.1));
        if before > 0.0 && after > 0.0 {
            (after / before).max(before / after)
        } else {
            1.0
        }
    };
    // The latest shift, at the day it is sharpest.
    let mut best: Option<(usize, f64)> = None;
    for t in (W..=history.len() - W).rev() {
        let r = ratio(t);
        match best {
            None if r >= REGIME_SHIFT => best = Some((t, r)),
            Some((_, b)) if r >= REGIME_SHIFT && r > b => best = Some((t, r)),
            Some(_) if r < REGIME_SHIFT => break,
            _ => {}
        }
    }
    match best {
        Some((t, _)) => &history[t..],
        None => history,
    }
}

/// Forecasts `horizon` days after the last day of a daily `history` (from
/// its last gap of more than four weeks on).
pub fn forecast(
    history: &[(NaiveDate, f64)],
    events: &[CalendarEvent],
    horizon: i64,
    options: &ModelOptions,
) -> Result<SeriesForecast, ForecastError> {
    forecast_steps(history, events, horizon, Frequency::Day, options)
}

/// Forecasts `horizon` steps of a series of frequency `freq` (sorted,
/// distinct dates).
pub fn forecast_steps(
    history: &[(NaiveDate, f64)],
    events: &[CalendarEvent],
    horizon: i64,
    freq: Frequency,
    options: &ModelOptions,
) -> Result<SeriesForecast, ForecastError> {
    let history = after_last_gap_of(history, freq);
    let need = min_points(freq);
    if history.len() < need {
        return Err(match freq {
            Frequency::Day => ForecastError::TooShort(history.len()),
            _ => ForecastError::TooFew {
                have: history.len(),
                need,
                step: freq.as_str(),
            },
        });
    }
    select::forecast(history, events, horizon.max(0) as usize, freq, options)
        .ok_or(ForecastError::Singular)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calendar::EventKind;

    fn event(
        name: &str,
        kind: EventKind,
        start: NaiveDate,
        days: i64,
        uplift: Option<f64>,
    ) -> CalendarEvent {
        CalendarEvent {
            id: None,
            name: name.into(),
            kind,
            start,
            end: start + chrono::Duration::days(days - 1),
            platforms: vec![],
            regions: vec![],
            expected_uplift: uplift,
            ramp_days: Some(2),
            notes: String::new(),
            source: "test".into(),
        }
    }

    /// Two years of a weekly pattern with growth and +60 % during every
    /// launch (every 91 days).
    fn series() -> (Vec<(NaiveDate, f64)>, Vec<CalendarEvent>) {
        let start = NaiveDate::from_ymd_opt(2024, 1, 1).unwrap();
        let mut events = Vec::new();
        let mut day = start + chrono::Duration::days(40);
        let mut i = 0;
        while day < start + chrono::Duration::days(900) {
            events.push(event(
                &format!("Launch {i}"),
                EventKind::Launch,
                day,
                14,
                None,
            ));
            day += chrono::Duration::days(91);
            i += 1;
        }
        let history: Vec<(NaiveDate, f64)> = (0..730)
            .map(|t| {
                let d = start + chrono::Duration::days(t);
                let weekly = 1.0 + 0.2 * ((t % 7) as f64 / 6.0);
                let growth = 1000.0 * (1.0 + 0.0005 * t as f64);
                let lift = if events.iter().any(|e| d >= e.start && d <= e.end) {
                    1.6
                } else {
                    1.0
                };
                let noise = 1.0 + 0.03 * (((t * 7919) % 13) as f64 / 13.0 - 0.5);
                (d, growth * weekly * lift * noise)
            })
            .collect();
        (history, events)
    }

    #[test]
    fn learns_launches_and_puts_the_next_one_in_the_forecast() {
        let (history, events) = series();
        let f = forecast(&history, &events, 120, &ModelOptions::default()).unwrap();
        assert_eq!(f.learned_kinds, vec!["launch"]);
        let next = events
            .iter()
            .find(|e| e.start > history.last().unwrap().0)
            .unwrap();
        let during: Vec<f64> = f
            .points
            .iter()
            .filter(|p| p.date >= next.start && p.date <= next.end)
            .map(|p| p.mean)
            .collect();
        let before: Vec<f64> = f
            .points
            .iter()
            .filter(|p| {
                p.date < next.start - chrono::Duration::days(3)
                    && p.date >= next.start - chrono::Duration::days(17)
            })
            .map(|p| p.mean)
            .collect();
        let ratio = (during.iter().sum::<f64>() / during.len() as f64)
            / (before.iter().sum::<f64>() / before.len() as f64);
        assert!(
            (1.4..1.8).contains(&ratio),
            "launch uplift seen in the forecast: {ratio}"
        );
        let acc = f.backtest.unwrap();
        assert!(acc.mase < acc.baseline_mase, "{acc:?}");
        for p in &f.points {
            assert!(
                p.lower95 <= p.lower80
                    && p.lower80 <= p.mean
                    && p.mean <= p.upper80
                    && p.upper80 <= p.upper95,
                "{p:?}"
            );
        }
    }

    #[test]
    fn an_unseen_kind_uses_the_calendars_expected_uplift() {
        let (history, mut events) = series();
        let last = history.last().unwrap().0;
        events.push(event(
            "First maintenance",
            EventKind::Maintenance,
            last + chrono::Duration::days(30),
            3,
            Some(-0.5),
        ));
        let f = forecast(&history, &events, 60, &ModelOptions::default()).unwrap();
        let at = |d: i64| {
            f.points
                .iter()
                .find(|p| p.date == last + chrono::Duration::days(d))
                .unwrap()
                .mean
        };
        // Same weekday one week earlier, no event: about twice as high.
        let ratio = at(31) / at(24);
        assert!((0.4..0.6).contains(&ratio), "{ratio}");
    }

    #[test]
    fn history_before_a_long_gap_is_ignored() {
        let (mut history, events) = series();
        let clean = forecast(&history, &events, 30, &ModelOptions::default()).unwrap();
        // A stray tiny value a year before the series begins.
        history.insert(0, (history[0].0 - chrono::Duration::days(365), 0.2));
        let f = forecast(&history, &events, 30, &ModelOptions::default()).unwrap();
        assert_eq!(f.points, clean.points);
    }

    #[test]
    fn history_before_a_regime_shift_is_ignored() {
        let d = NaiveDate::from_ymd_opt(2025, 1, 1).unwrap();
        // A soft launch at 1,000 players, then 10,000 from day 100.
        let h: Vec<(NaiveDate, f64)> = (0..300)
            .map(|i| {
                let level = if i < 100 { 1000.0 } else { 10_000.0 };
                (
                    d + chrono::Duration::days(i),
                    level * (1.0 + 0.1 * ((i % 7) as f64 / 7.0)),
                )
            })
            .collect();
        let recent = regime(&h, true);
        let cut = (recent[0].0 - d).num_days();
        assert!((99..=102).contains(&cut), "cut at day {cut}");
        // A linear model keeps its whole history.
        assert_eq!(regime(&h, false).len(), 300);
        // A doubling (a big launch) is not a new regime.
        let h: Vec<(NaiveDate, f64)> = h
            .iter()
            .enumerate()
            .map(|(i, p)| (p.0, if i < 100 { p.1 * 5.0 } else { p.1 }))
            .collect();
        assert_eq!(regime(&h, true).len(), 300);
    }

    #[test]
    fn too_short_a_history_is_said_plainly() {
        let d = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
        let h: Vec<(NaiveDate, f64)> = (0..10)
            .map(|i| (d + chrono::Duration::days(i), 1.0))
            .collect();
        assert_eq!(
            forecast(&h, &[], 30, &ModelOptions::default()).unwrap_err(),
            ForecastError::TooShort(10)
        );
    }
}

//! Forecasts of daily series (cost, peak concurrent players, capacity) that
//! know the marketing calendar, with prediction intervals and measured
//! accuracy.
//!
//! Method: a regression on log(1 + y) with a piecewise-linear trend
//! (changepoints shrunk towards a straight line), weekly and yearly Fourier
//! terms, and per-kind event effects learned from past events (ramp
//! before, level and launch spike during, tail after); kinds never seen
//! use the calendar's expected uplift. Fitted by ridge regression in
//! milliseconds, with nothing to download. Intervals are the empirical
//! quantiles of rolling-origin backtest errors per horizon bucket, so
//! their coverage is what was measured. Why this over Prophet-style
//! sampling or ARIMA: the event effects are the point for a game, they
//! need explicit features, and a linear model with them fits every series
//! of a planning page in well under a second.

pub mod accuracy;
pub mod capacity;
pub mod compare;
pub mod hierarchy;
pub mod linalg;
pub mod model;
pub mod run;
pub mod scenario;
pub mod series;

use chrono::NaiveDate;

pub use accuracy::Accuracy;
use model::ModelOptions;

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
}

impl SeriesForecast {
    /// The first `days` days summed: mean and the sums of the 80 % bounds.
    pub fn total(&self, days: usize) -> (f64, f64, f64) {
        self.points.iter().take(days).fold((0.0, 0.0, 0.0), |a, p| {
            (a.0 + p.mean, a.1 + p.lower80, a.2 + p.upper80)
        })
    }

    /// The highest daily mean of the first `days` days.
    pub fn peak(&self, days: usize) -> f64 {
        self.points
            .iter()
            .take(days)
            .map(|p| p.mean)
            .fold(0.0, f64::max)
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ForecastError {
    #[error("the series has {0} days of history; a forecast needs at least 28")]
    TooShort(usize),
    #[error("the model could not be fitted to this series")]
    Singular,
}

/// Rolling origins per backtest (a quarter of the horizon apart).
pub const ORIGINS: usize = 20;

/// Backtest horizon for a requested horizon and history length.
fn backtest_horizon(horizon: i64, history_days: usize) -> i64 {
    horizon.clamp(7, 90).min((history_days as i64 / 4).max(7))
}

/// Days without data after which earlier history is ignored: a stray old
/// import (a test file, a month billed long ago) must not bend the trend.
pub const MAX_GAP_DAYS: i64 = 28;

/// A level shift of at least this factor between the four weeks before a
/// day and the four weeks after it starts a new regime (a platform's
/// launch from a soft launch, a region winding down): the model starts
/// there.
pub const REGIME_SHIFT: f64 = 4.0;

fn median_of(values: impl Iterator<Item = f64>) -> f64 {
    let mut v: Vec<f64> = values.filter(|x| x.is_finite()).collect();
    if v.is_empty() {
        return 0.0;
    }
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

/// The history after its last gap longer than `MAX_GAP_DAYS`.
pub fn after_last_gap(history: &[(NaiveDate, f64)]) -> &[(NaiveDate, f64)] {
    let start = history
        .windows(2)
        .rposition(|w| (w[1].0 - w[0].0).num_days() > MAX_GAP_DAYS)
        .map(|i| i + 1)
        .unwrap_or(0);
    &history[start..]
}

/// The history a model is fitted to: after its last gap longer than
/// `MAX_GAP_DAYS` and after its last regime shift (`REGIME_SHIFT`).
pub fn recent_history(history: &[(NaiveDate, f64)]) -> &[(NaiveDate, f64)] {
    let history = after_last_gap(history);
    const W: usize = 28;
    if history.len() < 2 * W {
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

/// Forecasts `horizon` days after the last day of `history` (from its last
/// gap of more than four weeks on).
pub fn forecast(
    history: &[(NaiveDate, f64)],
    events: &[CalendarEvent],
    horizon: i64,
    options: &ModelOptions,
) -> Result<SeriesForecast, ForecastError> {
    let history = recent_history(history);
    if history.len() < 28 {
        return Err(ForecastError::TooShort(history.len()));
    }
    let fitted = model::fit(history, events, options).ok_or(ForecastError::Singular)?;
    let bt = accuracy::backtest(
        history,
        events,
        options,
        backtest_horizon(horizon, history.len()),
        ORIGINS,
    );
    let pool = bt.as_ref().map(|(_, p)| p.clone()).unwrap_or_default();
    let last = history[history.len() - 1].0;
    let points = (1..=horizon.max(0))
        .map(|h| {
            let date = last + chrono::Duration::days(h);
            let z = fitted.predict_scaled_with(date, events, &options.uplift_factors);
            let (l80, u80) = pool.interval(h, 0.8, &fitted.residuals);
            let (l95, u95) = pool.interval(h, 0.95, &fitted.residuals);
            Point {
                date,
                mean: fitted.from_scale(z),
                lower80: fitted.from_scale(z + l80),
                upper80: fitted.from_scale(z + u80),
                lower95: fitted.from_scale(z + l95),
                upper95: fitted.from_scale(z + u95),
            }
        })
        .collect();
    Ok(SeriesForecast {
        points,
        backtest: bt.map(|(a, _)| a),
        learned_kinds: fitted
            .learned_kinds()
            .iter()
            .map(|k| k.as_str().to_string())
            .collect(),
    })
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
        let recent = recent_history(&h);
        let cut = (recent[0].0 - d).num_days();
        assert!((99..=102).contains(&cut), "cut at day {cut}");
        // A doubling (a big launch) is not a new regime.
        let h: Vec<(NaiveDate, f64)> = h
            .iter()
            .enumerate()
            .map(|(i, p)| (p.0, if i < 100 { p.1 * 5.0 } else { p.1 }))
            .collect();
        assert_eq!(recent_history(&h).len(), 300);
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

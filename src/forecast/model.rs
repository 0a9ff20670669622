//! The forecasting model: a regression on the log scale with a piecewise
//! linear trend (changepoints, shrunk towards a straight line), weekly and
//! yearly Fourier seasonality, and event effects per calendar kind.
//!
//! Each event kind seen in the history gets four learned features: a ramp
//! before the start, a level during the event, a decaying launch spike
//! during it, and a decaying tail after it. A kind never seen in the
//! history uses the calendar's expected uplift instead. Fitting is ridge
//! regression (`linalg::ridge`), a few milliseconds per series.

use std::collections::BTreeSet;

use chrono::NaiveDate;

use super::frequency::Frequency;
use super::linalg::ridge;
use crate::calendar::{CalendarEvent, EventKind};

/// Days an event's effect lingers after it ends.
pub const AFTER_DAYS: i64 = 10;

#[derive(Clone, Debug, PartialEq)]
pub struct ModelOptions {
    /// Model log(1 + y): effects multiply (demand, cost).
    pub log: bool,
    /// Ridge penalty on trend changes (larger: straighter trend).
    pub changepoint_penalty: f64,
    /// Scenario factors on the extra demand of named events (1.5: half as
    /// much again); applied to forecasts, not to the fit or backtests.
    pub uplift_factors: Vec<(String, f64)>,
    /// Fit with Huber's robust weights (`robust_ridge`) rather than plain
    /// least squares.
    pub robust: bool,
}

impl Default for ModelOptions {
    fn default() -> ModelOptions {
        ModelOptions {
            log: true,
            changepoint_penalty: 2.0,
            uplift_factors: Vec::new(),
            robust: true,
        }
    }
}

/// A fitted model, ready to predict any day.
#[derive(Clone, Debug)]
pub struct Fitted {
    start: NaiveDate,
    changepoints: Vec<f64>,
    weekly_order: usize,
    yearly_order: usize,
    learned_kinds: Vec<EventKind>,
    beta: Vec<f64>,
    log: bool,
    /// In-sample residuals on the model's scale.
    pub residuals: Vec<f64>,
}

fn years(start: NaiveDate, day: NaiveDate) -> f64 {
    (day - start).num_days() as f64 / 365.25
}

/// The four event features of one kind on `day`.
fn event_features(day: NaiveDate, kind: EventKind, events: &[CalendarEvent]) -> [f64; 4] {
    let mut f = [0.0_f64; 4];
    for e in events.iter().filter(|e| e.kind == kind) {
        let ramp = i64::from(e.ramp_days.unwrap_or(0));
        if day >= e.start && day <= e.end {
            f[1] = 1.0;
            let since = (day - e.start).num_days() as f64;
            f[2] = f[2].max((-since / 4.0).exp());
        } else if day < e.start && ramp > 0 && (e.start - day).num_days() <= ramp {
            let before = (e.start - day).num_days() as f64;
            f[0] = f[0].max(1.0 - before / (ramp as f64 + 1.0));
        } else if day > e.end && (day - e.end).num_days() <= AFTER_DAYS {
            let after = (day - e.end).num_days() as f64;
            f[3] = f[3].max((-after / 3.0).exp());
        }
    }
    f
}

/// Uplift on the log scale from events of kinds the model has not
/// learned, from the calendar's expected uplift (ramped in).
fn offset(day: NaiveDate, learned: &[EventKind], events: &[CalendarEvent]) -> f64 {
    let mut best: f64 = 0.0;
    for e in events.iter().filter(|e| !learned.contains(&e.kind)) {
        let Some(uplift) = e.expected_uplift else {
            continue;
        };
        let lift = (1.0 + uplift).max(0.05).ln();
        let ramp = i64::from(e.ramp_days.unwrap_or(0));
        let weight = if day >= e.start && day <= e.end {
            1.0
        } else if day < e.start && ramp > 0 && (e.start - day).num_days() <= ramp {
            1.0 - (e.start - day).num_days() as f64 / (ramp as f64 + 1.0)
        } else {
            0.0
        };
        if (weight * lift).abs() > best.abs() {
            best = weight * lift;
        }
    }
    best
}

impl Fitted {
    fn row(&self, day: NaiveDate, events: &[CalendarEvent]) -> Vec<f64> {
        let t = years(self.start, day);
        let mut row = Vec::with_capacity(self.beta.len());
        row.push(1.0);
        row.push(t);
        for c in &self.changepoints {
            row.push((t - c).max(0.0));
        }
        let d = (day - NaiveDate::from_ymd_opt(2000, 1, 3).unwrap_or(day)).num_days() as f64;
        for k in 1..=self.weekly_order {
            let x = 2.0 * std::f64::consts::PI * k as f64 * d / 7.0;
            row.push(x.sin());
            row.push(x.cos());
        }
        for k in 1..=self.yearly_order {
            let x = 2.0 * std::f64::consts::PI * k as f64 * d / 365.25;
            row.push(x.sin());
            row.push(x.cos());
        }
        for kind in &self.learned_kinds {
            row.extend_from_slice(&event_features(day, *kind, events));
        }
        row
    }

    /// A value on the model's scale.
    pub fn to_scale(&self, y: f64) -> f64 {
        if self.log {
            y.max(0.0).ln_1p()
        } else {
            y
        }
    }

    /// Back from the model's scale to values.
    pub fn from_scale(&self, z: f64) -> f64 {
        if self.log {
            z.exp_m1().max(0.0)
        } else {
            z
        }
    }

    /// The prediction for `day` on the model's scale.
    pub fn predict_scaled(&self, day: NaiveDate, events: &[CalendarEvent]) -> f64 {
        let row = self.row(day, events);
        let z: f64 = row.iter().zip(&self.beta).map(|(x, b)| x * b).sum();
        z + offset(day, &self.learned_kinds, events)
    }

    /// The prediction on the model's scale with each named event's extra
    /// demand multiplied by its factor (events it does not touch on `day`
    /// change nothing).
    pub fn predict_scaled_with(
        &self,
        day: NaiveDate,
        events: &[CalendarEvent],
        factors: &[(String, f64)],
    ) -> f64 {
        let mut z = self.predict_scaled(day, events);
        for (name, factor) in factors {
            let near = |e: &CalendarEvent| {
                &e.name == name
                    && day >= e.start - chrono::Duration::days(i64::from(e.ramp_days.unwrap_or(0)))
                    && day <= e.end + chrono::Duration::days(AFTER_DAYS)
            };
            if !events.iter().any(near) {
                continue;
            }
            let without: Vec<CalendarEvent> = events.iter().filter(|e| !near(e)).cloned().collect();
            let y_with = self.from_scale(z);
            let y_without = self.from_scale(self.predict_scaled(day, &without));
            z = self.to_scale((y_without + factor * (y_with - y_without)).max(0.0));
        }
        z
    }

    pub fn predict(&self, day: NaiveDate, events: &[CalendarEvent]) -> f64 {
        self.from_scale(self.predict_scaled(day, events))
    }

    /// Event kinds whose effect was learned from the history.
    pub fn learned_kinds(&self) -> &[EventKind] {
        &self.learned_kinds
    }
}

/// Fits the model to a daily history (consecutive days; gaps are allowed
/// but not filled). `None` with fewer than 28 days.
pub fn fit(
    history: &[(NaiveDate, f64)],
    events: &[CalendarEvent],
    options: &ModelOptions,
) -> Option<Fitted> {
    fit_at(history, events, options, Frequency::Day)
}

/// Fits the model to the history after its last regime shift (on the
/// model's scale, `super::regime`), for a series of frequency `freq`.
pub fn fit_on(
    history: &[(NaiveDate, f64)],
    events: &[CalendarEvent],
    options: &ModelOptions,
    freq: Frequency,
) -> Option<Fitted> {
    fit_at(super::regime(history, options.log), events, options, freq)
}

/// Fits the model to a series of frequency `freq`: weekly terms only for
/// daily series. `None` with fewer values than `super::min_points`.
fn fit_at(
    history: &[(NaiveDate, f64)],
    events: &[CalendarEvent],
    options: &ModelOptions,
    freq: Frequency,
) -> Option<Fitted> {
    if history.len() < super::min_points(freq) {
        return None;
    }
    let start = history[0].0;
    let end = history[history.len() - 1].0;
    let span_days = (end - start).num_days() + 1;
    let span_years = span_days as f64 / 365.25;
    let n_changepoints = ((span_days / 45) as usize).min(25);
    let changepoints: Vec<f64> = (1..=n_changepoints)
        .map(|k| span_years * 0.85 * k as f64 / (n_changepoints + 1) as f64)
        .collect();
    // Yearly terms need a year; fewer of them for coarser steps (a
    // monthly series has twelve values a year).
    let yearly_order = match (span_days >= 700, span_days >= 365, freq) {
        (true, _, Frequency::Day) => 10,
        (false, true, Frequency::Day) => 5,
        (true, _, Frequency::Week) => 6,
        (false, true, Frequency::Week) => 3,
        (true, _, Frequency::Month) => 4,
        (false, true, Frequency::Month) => 2,
        _ => 0,
    };
    let learned: BTreeSet<EventKind> = events
        .iter()
        .filter(|e| e.start <= end && e.end >= start)
        .map(|e| e.kind)
        .collect();
    let mut fitted = Fitted {
        start,
        changepoints,
        weekly_order: if freq == Frequency::Day { 3 } else { 0 },
        yearly_order,
        learned_kinds: learned.into_iter().collect(),
        beta: Vec::new(),
        log: options.log,
        residuals: Vec::new(),
    };
    let rows: Vec<Vec<f64>> = history
        .iter()
        .map(|(d, _)| fitted.row(*d, events))
        .collect();
    let y: Vec<f64> = history.iter().map(|(_, v)| fitted.to_scale(*v)).collect();
    let p = rows[0].len();
    let mut penalty = vec![0.01; p];
    penalty[0] = 1e-6;
    penalty[1] = 1e-3;
    for k in 0..fitted.changepoints.len() {
        penalty[2 + k] = options.changepoint_penalty;
    }
    let events_from =
        2 + fitted.changepoints.len() + 2 * (fitted.weekly_order + fitted.yearly_order);
    for pen in penalty.iter_mut().skip(events_from) {
        *pen = 0.1;
    }
    // Scale the penalties with the number of observations.
    let scale = history.len() as f64 / 365.0;
    for pen in penalty.iter_mut() {
        *pen *= scale.max(0.1);
    }
    fitted.beta = if options.robust {
        robust_ridge(&rows, &y, &penalty)?
    } else {
        ridge(&rows, &y, &penalty)?
    };
    fitted.residuals = residuals(&rows, &y, &fitted.beta);
    Some(fitted)
}

fn residuals(rows: &[Vec<f64>], y: &[f64], beta: &[f64]) -> Vec<f64> {
    rows.iter()
        .zip(y)
        .map(|(r, yi)| yi - r.iter().zip(beta).map(|(x, b)| x * b).sum::<f64>())
        .collect()
}

/// Huber's cut-off, in robust standard deviations of the residuals.
const HUBER_K: f64 = 2.5;

/// Reweighting rounds (each one more ridge solve).
const ROBUST_ROUNDS: usize = 4;

/// Ridge regression made robust to outliers (a corrupted stretch, a
/// partial day) by iterated reweighting with Huber's weights: a value
/// more than `HUBER_K` robust standard deviations from the fit counts
/// with weight k·s/|r|, so one bad stretch cannot pull the seasonality
/// or the trend towards it. Values the calendar explains are not
/// outliers: their events' features fit them.
fn robust_ridge(rows: &[Vec<f64>], y: &[f64], penalty: &[f64]) -> Option<Vec<f64>> {
    let mut beta = ridge(rows, y, penalty)?;
    for _ in 0..ROBUST_ROUNDS {
        let r = residuals(rows, y, &beta);
        let mut abs: Vec<f64> = r.iter().map(|x| x.abs()).collect();
        abs.sort_by(|a, b| a.total_cmp(b));
        let s = 1.4826 * abs[abs.len() / 2];
        if s <= 0.0 || !s.is_finite() {
            break;
        }
        let weights: Vec<f64> = r
            .iter()
            .map(|x| {
                let a = x.abs();
                if a <= HUBER_K * s {
                    1.0
                } else {
                    HUBER_K * s / a
                }
            })
            .collect();
        if weights.iter().all(|w| *w == 1.0) {
            break;
        }
        let weighted_rows: Vec<Vec<f64>> = rows
            .iter()
            .zip(&weights)
            .map(|(row, w)| row.iter().map(|x| x * w.sqrt()).collect())
            .collect();
        let weighted_y: Vec<f64> = y.iter().zip(&weights).map(|(v, w)| v * w.sqrt()).collect();
        beta = ridge(&weighted_rows, &weighted_y, penalty)?;
    }
    Some(beta)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Three years of a yearly and weekly pattern.
    fn clean() -> Vec<(NaiveDate, f64)> {
        let d = NaiveDate::from_ymd_opt(2022, 1, 3).unwrap();
        (0..1095)
            .map(|t| {
                let yearly = 1.0 + 0.3 * (2.0 * std::f64::consts::PI * t as f64 / 365.25).sin();
                let weekly = 1.0 + 0.1 * ((t % 7) as f64 / 6.0);
                (d + chrono::Duration::days(t), 1000.0 * yearly * weekly)
            })
            .collect()
    }

    #[test]
    fn a_corrupted_stretch_does_not_move_the_season() {
        let good = clean();
        // Two months of the second year read a fifth of the truth (a
        // broken export), then the data is right again.
        let mut bad = good.clone();
        for p in bad.iter_mut().skip(420).take(60) {
            p.1 *= 0.2;
        }
        let robust = ModelOptions::default();
        let plain = ModelOptions {
            robust: false,
            ..ModelOptions::default()
        };
        let last = good.last().unwrap().0;
        // The largest change the bad stretch makes to the same season a
        // year on.
        let shift = |options: &ModelOptions| {
            let a = fit(&good, &[], options).unwrap();
            let b = fit(&bad, &[], options).unwrap();
            (40..100)
                .map(|k| {
                    let day = last + chrono::Duration::days(k);
                    (b.predict(day, &[]) / a.predict(day, &[]) - 1.0).abs()
                })
                .fold(0.0, f64::max)
        };
        let (with, without) = (shift(&robust), shift(&plain));
        eprintln!("season moved by {with:.3} (robust) against {without:.3} (plain)");
        assert!(with < 0.35 * without, "{with} against {without}");
    }
}

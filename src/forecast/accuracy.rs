//! Accuracy figures shown next to every forecast: how the method that
//! `select` chose did on backtest windows it did not see, against the
//! seasonal-naive baseline on the same windows.

use super::frequency::Frequency;
use super::select::{Assessment, Method};

/// Accuracy figures shown next to every forecast, all held out (see
/// `select`).
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Accuracy {
    /// The method the forecast uses.
    pub method: Method,
    pub mase: f64,
    pub wape: f64,
    /// Share of actual values inside the 80 % and 95 % bands.
    pub coverage80: f64,
    pub coverage95: f64,
    /// MASE of the seasonal-naive baseline on the same windows.
    pub baseline_mase: f64,
    /// Every candidate's MASE over the windows.
    pub candidates: Vec<CandidateScore>,
    /// Backtest windows (they do not overlap).
    pub origins: usize,
    /// Steps each window reaches ahead, and the step.
    pub horizon: usize,
    pub step: Frequency,
    /// The method is not the one with the least backtest error: choosing
    /// that way did worse than seasonal naive on windows it had not seen,
    /// so the series got the combined mean or seasonal naive.
    pub fell_back: bool,
}

#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct CandidateScore {
    pub method: Method,
    pub mase: f64,
}

impl Accuracy {
    pub fn new(method: Method, a: Assessment, step: Frequency) -> Accuracy {
        Accuracy {
            method,
            mase: a.mase,
            wape: a.wape,
            coverage80: a.coverage80,
            coverage95: a.coverage95,
            baseline_mase: a.baseline_mase,
            candidates: a
                .candidates
                .into_iter()
                .map(|(method, mase)| CandidateScore { method, mase })
                .collect(),
            origins: a.origins,
            fell_back: a.fell_back,
            horizon: a.horizon,
            step,
        }
    }

    /// Worse than the baseline: flagged on every page that shows it.
    pub fn worse_than_baseline(&self) -> bool {
        self.mase > self.baseline_mase
    }

    /// Not better than seasonal naive as the figures are shown (two
    /// decimals): equal is no achievement, and pages warn about it.
    pub fn no_better_than_baseline(&self) -> bool {
        (self.mase * 100.0).round() >= (self.baseline_mase * 100.0).round()
    }

    /// The bands held more or fewer actuals than they claim (by over five
    /// points).
    pub fn coverage_off(&self) -> bool {
        (self.coverage80 - 0.8).abs() > 0.05 || (self.coverage95 - 0.95).abs() > 0.05
    }

    /// "90 days", "26 weeks", "12 months".
    pub fn reach_text(&self) -> String {
        format!("{} {}s", self.horizon, self.step.as_str())
    }
}

/// Linear-interpolated quantile; 0 for no data.
pub fn quantile(values: &[f64], q: f64) -> f64 {
    let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
    if v.is_empty() {
        return 0.0;
    }
    v.sort_by(|a, b| a.total_cmp(b));
    let pos = q.clamp(0.0, 1.0) * (v.len() - 1) as f64;
    let lo = pos.floor() as usize;
    let hi = pos.ceil() as usize;
    v[lo] + (v[hi] - v[lo]) * (pos - lo as f64)
}

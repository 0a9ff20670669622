//! Measured accuracy: rolling-origin backtests of the model and of the
//! seasonal-naive baseline (the same weekday last week), MASE, WAPE, and
//! the empirical coverage of the 80 % and 95 % intervals.
//!
//! Intervals come from the backtest errors themselves (on the model's
//! scale, per horizon bucket): for coverage, each origin's intervals use
//! only the other origins' errors, so the coverage is measured, not
//! assumed.

use chrono::NaiveDate;

use super::model::{fit, Fitted, ModelOptions};
use crate::calendar::CalendarEvent;

/// Horizon buckets (days ahead, inclusive upper bounds) intervals are
/// estimated per.
pub const BUCKETS: [i64; 4] = [7, 30, 90, i64::MAX];

fn bucket(h: i64) -> usize {
    BUCKETS
        .iter()
        .position(|b| h <= *b)
        .unwrap_or(BUCKETS.len() - 1)
}

/// Errors on the model's scale, by horizon bucket.
#[derive(Clone, Debug, Default)]
pub struct ErrorPool {
    pub errors: [Vec<f64>; 4],
}

impl ErrorPool {
    fn add(&mut self, h: i64, e: f64) {
        self.errors[bucket(h)].push(e);
    }

    /// The pools' errors together, each bucket sorted (so quantiles need
    /// no sorting: a backtest asks for thousands).
    fn merged(pools: &[&ErrorPool]) -> ErrorPool {
        let mut out = ErrorPool::default();
        for p in pools {
            for (b, errs) in p.errors.iter().enumerate() {
                out.errors[b].extend(errs.iter().copied().filter(|x| x.is_finite()));
            }
        }
        for bucket in out.errors.iter_mut() {
            bucket.sort_by(|a, b| a.total_cmp(b));
        }
        out
    }

    /// The (lower, upper) error quantiles for a central `level` interval at
    /// horizon `h`, falling back to nearer buckets with too few errors.
    pub fn interval(&self, h: i64, level: f64, fallback: &[f64]) -> (f64, f64) {
        let mut b = bucket(h);
        loop {
            if self.errors[b].len() >= 10 || b == 0 {
                break;
            }
            b -= 1;
        }
        let errs: &[f64] = if self.errors[b].len() >= 10 {
            &self.errors[b]
        } else {
            fallback
        };
        let alpha = (1.0 - level) / 2.0;
        (quantile(errs, alpha), quantile(errs, 1.0 - alpha))
    }
}

/// Linear-interpolated quantile; 0 for no data.
pub fn quantile(values: &[f64], q: f64) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    if values.is_sorted_by(|a, b| a <= b) {
        return quantile_of_sorted(values, q);
    }
    let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
    if v.is_empty() {
        return 0.0;
    }
    v.sort_by(|a, b| a.total_cmp(b));
    quantile_of_sorted(&v, q)
}

/// `quantile` of finite values already in ascending order.
fn quantile_of_sorted(v: &[f64], q: f64) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    let pos = q.clamp(0.0, 1.0) * (v.len() - 1) as f64;
    let lo = pos.floor() as usize;
    let hi = pos.ceil() as usize;
    v[lo] + (v[hi] - v[lo]) * (pos - lo as f64)
}

/// Accuracy figures shown next to every forecast.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Accuracy {
    pub mase: f64,
    pub wape: f64,
    pub coverage80: f64,
    pub coverage95: f64,
    /// MASE of the seasonal-naive baseline on the same splits.
    pub baseline_mase: f64,
    pub origins: usize,
    pub horizon_days: i64,
}

impl Accuracy {
    /// Worse than the baseline: flagged on every page that shows it.
    pub fn worse_than_baseline(&self) -> bool {
        self.mase > self.baseline_mase
    }

    /// The bands held more or fewer actuals than they claim (by over five
    /// points).
    pub fn coverage_off(&self) -> bool {
        (self.coverage80 - 0.8).abs() > 0.05 || (self.coverage95 - 0.95).abs() > 0.05
    }
}

struct OriginResult {
    pool: ErrorPool,
    /// (horizon, actual, model scaled prediction, model mean, naive)
    points: Vec<(i64, f64, f64, f64, f64)>,
    fitted: Fitted,
}

/// Rolling-origin backtest: `origins` forecasts of `horizon` days, the
/// last ending on the last day of history. `None` when the history is
/// too short for one origin with 56 days of training.
pub fn backtest(
    history: &[(NaiveDate, f64)],
    events: &[CalendarEvent],
    options: &ModelOptions,
    horizon: i64,
    origins: usize,
) -> Option<(Accuracy, ErrorPool)> {
    let n = history.len();
    let h = horizon.max(1) as usize;
    let step = (h / 8).max(7);
    let mut results: Vec<OriginResult> = Vec::new();
    for k in 0..origins {
        let Some(cut) = n.checked_sub(h + k * step) else {
            break;
        };
        if cut < 56 {
            break;
        }
        let train = &history[..cut];
        let test = &history[cut..(cut + h).min(n)];
        let Some(fitted) = fit(train, events, options) else {
            continue;
        };
        let mut pool = ErrorPool::default();
        let mut points = Vec::with_capacity(test.len());
        for (day, actual) in test {
            let ahead = (*day - train[cut - 1].0).num_days();
            let z = fitted.predict_scaled(*day, events);
            let mean = fitted.from_scale(z);
            // Seasonal naive: the same weekday in the last training week.
            let back = ((ahead + 6) / 7) * 7;
            let naive_day = *day - chrono::Duration::days(back);
            let naive = train
                .iter()
                .rev()
                .find(|(d, _)| *d == naive_day)
                .map(|(_, v)| *v)
                .unwrap_or(train[cut - 1].1);
            pool.add(ahead, scaled(&fitted, *actual) - z);
            points.push((ahead, *actual, z, mean, naive));
        }
        results.push(OriginResult {
            pool,
            points,
            fitted,
        });
    }
    if results.is_empty() {
        return None;
    }
    // MASE scale: the in-sample mean absolute weekly difference.
    let diffs: Vec<f64> = history
        .windows(8)
        .map(|w| (w[7].1 - w[0].1).abs())
        .collect();
    let scale = diffs.iter().sum::<f64>() / diffs.len().max(1) as f64;
    let scale = if scale > 0.0 { scale } else { 1.0 };
    let (mut abs_err, mut abs_naive, mut abs_actual, mut count) = (0.0, 0.0, 0.0, 0usize);
    let (mut in80, mut in95) = (0usize, 0usize);
    for (i, r) in results.iter().enumerate() {
        let others: Vec<&ErrorPool> = results
            .iter()
            .enumerate()
            .filter(|(j, _)| *j != i)
            .map(|(_, o)| &o.pool)
            .collect();
        let pool = if others.is_empty() {
            r.pool.clone()
        } else {
            ErrorPool::merged(&others)
        };
        let fallback = &r.fitted.residuals;
        for (ahead, actual, z, mean, naive) in &r.points {
            abs_err += (actual - mean).abs();
            abs_naive += (actual - naive).abs();
            abs_actual += actual.abs();
            count += 1;
            let a = scaled(&r.fitted, *actual);
            let (l80, u80) = pool.interval(*ahead, 0.8, fallback);
            let (l95, u95) = pool.interval(*ahead, 0.95, fallback);
            if a >= z + l80 && a <= z + u80 {
                in80 += 1;
            }
            if a >= z + l95 && a <= z + u95 {
                in95 += 1;
            }
        }
    }
    let c = count.max(1) as f64;
    let all: Vec<&ErrorPool> = results.iter().map(|r| &r.pool).collect();
    Some((
        Accuracy {
            mase: abs_err / c / scale,
            wape: if abs_actual > 0.0 {
                abs_err / abs_actual
            } else {
                0.0
            },
            coverage80: in80 as f64 / c,
            coverage95: in95 as f64 / c,
            baseline_mase: abs_naive / c / scale,
            origins: results.len(),
            horizon_days: horizon,
        },
        ErrorPool::merged(&all),
    ))
}

fn scaled(fitted: &Fitted, y: f64) -> f64 {
    fitted.to_scale(y)
}

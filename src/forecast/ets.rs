//! Damped-trend exponential smoothing with additive seasonality (Holt–
//! Winters, ETS(A,Ad,A) in the usual taxonomy) on the model's scale, and
//! the seasonal-naive baseline. Both forecast a regular series of values
//! (one per step of its frequency); the caller maps dates.
//!
//! Smoothing adapts its level to a shift within a few steps and damps its
//! trend, so a short recovery is never extrapolated for long: the trend
//! adds at most `b·φ/(1−φ)` however far ahead. Parameters are chosen by
//! the one-step-ahead squared error over a small grid and a refinement of
//! the level's weight, a few milliseconds for years of days.

/// Fitted smoothing state, ready to forecast.
#[derive(Clone, Debug, PartialEq)]
pub struct Smoothing {
    pub alpha: f64,
    pub beta: f64,
    pub gamma: f64,
    pub phi: f64,
    level: f64,
    trend: f64,
    /// Seasonal terms, indexed by step modulo the period.
    season: Vec<f64>,
    /// The step index after the last observation.
    next: usize,
}

#[derive(Copy, Clone, Debug)]
struct Params {
    alpha: f64,
    beta: f64,
    gamma: f64,
    phi: f64,
}

/// Runs the filter over `y`; the state after it and the sum of squared
/// one-step errors after the first season.
fn filter(y: &[f64], period: usize, p: Params) -> (Smoothing, f64) {
    let m = period.max(1);
    let seasonal = m > 1 && y.len() >= 2 * m;
    let first = &y[..m.min(y.len())];
    let level0 = first.iter().sum::<f64>() / first.len().max(1) as f64;
    let trend0 = if y.len() >= 2 * m {
        let second = &y[m..2 * m];
        (second.iter().sum::<f64>() / m as f64 - level0) / m as f64
    } else {
        0.0
    };
    let mut season = vec![0.0; m];
    if seasonal {
        for (i, v) in first.iter().enumerate() {
            season[i] = v - level0;
        }
    }
    let (mut level, mut trend) = (level0, trend0);
    let gamma = if seasonal { p.gamma } else { 0.0 };
    let mut sse = 0.0;
    for (t, &v) in y.iter().enumerate() {
        let s = season[t % m];
        let fit = level + p.phi * trend + s;
        let e = v - fit;
        if t >= m {
            sse += e * e;
        }
        level = level + p.phi * trend + p.alpha * e;
        trend = p.phi * trend + p.beta * e;
        season[t % m] = s + gamma * e;
    }
    (
        Smoothing {
            alpha: p.alpha,
            beta: p.beta,
            gamma,
            phi: p.phi,
            level,
            trend,
            season,
            next: y.len(),
        },
        sse,
    )
}

/// Fits the smoothing model to `y` with seasonal period `period` (1: no
/// seasonality; seasonality needs two full periods). `None` for fewer than
/// three values or a value that is not finite.
pub fn fit(y: &[f64], period: usize) -> Option<Smoothing> {
    if y.len() < 3 || y.iter().any(|v| !v.is_finite()) {
        return None;
    }
    let consider = |best: &mut Option<(f64, Params)>, p: Params| {
        let (_, sse) = filter(y, period, p);
        if sse.is_finite() && best.is_none_or(|(b, _)| sse < b) {
            *best = Some((sse, p));
        }
    };
    let mut best: Option<(f64, Params)> = None;
    for &alpha in &[0.05, 0.15, 0.3, 0.5, 0.8] {
        for &beta in &[0.0, 0.02, 0.1] {
            if beta > alpha {
                continue;
            }
            for &gamma in &[0.0, 0.05, 0.2] {
                if gamma > 1.0 - alpha {
                    continue;
                }
                for &phi in &[0.9, 0.98] {
                    let p = Params {
                        alpha,
                        beta,
                        gamma,
                        phi,
                    };
                    consider(&mut best, p);
                }
            }
        }
    }
    // Refine the level's weight around the best point of the grid.
    let (_, p) = best?;
    for f in [0.6, 0.8, 1.25, 1.6] {
        let alpha = (p.alpha * f).clamp(0.01, 0.99);
        if p.beta <= alpha && p.gamma <= 1.0 - alpha {
            consider(&mut best, Params { alpha, ..p });
        }
    }
    let (_, p) = best?;
    Some(filter(y, period, p).0)
}

impl Smoothing {
    /// The next `h` values.
    pub fn forecast(&self, h: usize) -> Vec<f64> {
        let m = self.season.len().max(1);
        let mut damp = 0.0;
        let mut phi_k = 1.0;
        (1..=h)
            .map(|k| {
                phi_k *= self.phi;
                damp += phi_k;
                self.level + damp * self.trend + self.season[(self.next + k - 1) % m]
            })
            .collect()
    }
}

/// Seasonal naive: each of the next `h` values is the last observed value
/// one or more whole periods earlier (`period` 1: the last value).
pub fn seasonal_naive(y: &[f64], period: usize, h: usize) -> Vec<f64> {
    let m = period.max(1);
    let n = y.len();
    if n == 0 {
        return vec![0.0; h];
    }
    (1..=h)
        .map(|k| {
            let back = k.div_ceil(m) * m;
            if back <= n {
                y[n + k - 1 - back]
            } else {
                y[n - 1]
            }
        })
        .collect()
}

/// How many past seasons `seasonal_median` looks at.
pub const MEDIAN_SEASONS: usize = 8;

/// `h` steps of the median of the last `MEDIAN_SEASONS` values at the
/// same position in the season (`m` = 1: of the last values): the
/// forecast with the least absolute error when a series is mostly one
/// level with spikes, or zeros with a few counts, which a mean or the
/// last season copies.
pub fn seasonal_median(y: &[f64], m: usize, h: usize) -> Vec<f64> {
    let m = m.max(1);
    let n = y.len();
    if n == 0 {
        return vec![0.0; h];
    }
    (1..=h)
        .map(|k| {
            // The latest value at this position in the season, then
            // every m-th before it.
            let back = k.div_ceil(m) * m;
            let mut vals: Vec<f64> = (0..MEDIAN_SEASONS)
                .filter_map(|j| (n + k).checked_sub(1 + back + j * m))
                .filter(|i| *i < n)
                .map(|i| y[i])
                .collect();
            if vals.is_empty() {
                return y[n - 1];
            }
            vals.sort_by(|a, b| a.total_cmp(b));
            let mid = vals.len() / 2;
            if vals.len() % 2 == 1 {
                vals[mid]
            } else {
                (vals[mid - 1] + vals[mid]) / 2.0
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_level_shift_is_followed_not_undone() {
        // A weekly pattern; the level drops by half for the last 30 days.
        let y: Vec<f64> = (0..400)
            .map(|t| {
                let level = if t < 370 { 100.0 } else { 50.0 };
                level + 10.0 * ((t % 7) as f64 - 3.0)
            })
            .collect();
        let s = fit(&y, 7).unwrap();
        let f = s.forecast(60);
        let mean = f.iter().sum::<f64>() / f.len() as f64;
        assert!(
            (40.0..60.0).contains(&mean),
            "mean {mean} after the drop to 50"
        );
        // The weekly shape is kept.
        assert!(f[0] != f[1]);
    }

    #[test]
    fn a_short_recovery_is_damped_not_extrapolated() {
        // Flat at 10 for a year, then a steep 20-day climb to 30.
        let mut y = vec![10.0; 365];
        y.extend((1..=20).map(|k| 10.0 + k as f64));
        let s = fit(&y, 1).unwrap();
        let f = s.forecast(365);
        let last = f[f.len() - 1];
        assert!(last < 30.0 + 60.0, "a year ahead: {last}");
        assert!(f.iter().all(|v| v.is_finite()));
    }

    #[test]
    fn seasonal_naive_repeats_the_last_period() {
        let y = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0];
        assert_eq!(seasonal_naive(&y, 3, 5), vec![6.0, 7.0, 8.0, 6.0, 7.0]);
        assert_eq!(seasonal_naive(&y, 1, 2), vec![8.0, 8.0]);
        assert_eq!(seasonal_naive(&y[..2], 7, 2), vec![2.0, 2.0]);
    }

    #[test]
    fn seasonal_median_takes_the_middle_of_the_same_positions() {
        // Position 0 of a season of 2: 1, 9, 3 (a spike); position 1: 0s.
        let y = [1.0, 0.0, 9.0, 0.0, 3.0, 0.0];
        assert_eq!(seasonal_median(&y, 2, 4), vec![3.0, 0.0, 3.0, 0.0]);
        // Fewer seasons than MEDIAN_SEASONS: what there is.
        assert_eq!(seasonal_median(&y[..1], 2, 2), vec![1.0, 1.0]);
        assert_eq!(seasonal_median(&[5.0, 1.0, 2.0], 1, 1), vec![2.0]);
    }
}

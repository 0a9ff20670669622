//! Bands for totals over several days (a month, the next 30 days) from
//! sample paths. Quantiles do not add: the sum of each day's 80 % upper
//! bound is far above the 80 % upper bound of the sum, because days do not
//! all miss on the same side. A path draws every day from its own band
//! (the points' quantiles) with errors correlated from one day to the next
//! as the backtests measured (`rho`), and the total's band is read off
//! the totals of the paths.

use chrono::NaiveDate;

use super::Point;
use crate::rng::Rng;

/// Paths drawn for a band.
pub const PATHS: usize = 1000;

/// A total and its bands.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Band {
    pub mean: f64,
    pub lower80: f64,
    pub upper80: f64,
    pub lower95: f64,
    pub upper95: f64,
}

/// The standard normal distribution function.
fn phi(x: f64) -> f64 {
    0.5 * (1.0 + erf(x / std::f64::consts::SQRT_2))
}

/// The error function (Abramowitz–Stegun 7.1.26; error below 1.5e-7).
fn erf(x: f64) -> f64 {
    let t = 1.0 / (1.0 + 0.327_591_1 * x.abs());
    let poly = t
        * (0.254_829_592
            + t * (-0.284_496_736
                + t * (1.421_413_741 + t * (-1.453_152_027 + t * 1.061_405_429))));
    let y = 1.0 - poly * (-x * x).exp();
    if x >= 0.0 {
        y
    } else {
        -y
    }
}

/// A point's value at probability `u`: linear between its quantiles
/// (2.5, 10, 50, 90, 97.5 %), and on beyond the outer ones at the slope of
/// the outer segment.
fn value_at(p: &Point, u: f64) -> f64 {
    let knots = [
        (0.025, p.lower95),
        (0.10, p.lower80),
        (0.50, p.mean),
        (0.90, p.upper80),
        (0.975, p.upper95),
    ];
    let i = knots
        .windows(2)
        .position(|w| u <= w[1].0)
        .unwrap_or(knots.len() - 2);
    let (a, b) = (knots[i], knots[i + 1]);
    let slope = if b.0 > a.0 {
        (b.1 - a.1) / (b.0 - a.0)
    } else {
        0.0
    };
    let v = a.1 + slope * (u - a.0);
    // Never below zero when the band itself is not.
    if p.lower95 >= 0.0 {
        v.max(0.0)
    } else {
        v
    }
}

fn quantile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let pos = q.clamp(0.0, 1.0) * (sorted.len() - 1) as f64;
    let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
    sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo as f64)
}

/// The total (or, with `peak`, the highest value) of `points` in each
/// group of consecutive points that `group` maps to the same key, with
/// its bands from sample paths. `rho` is the correlation of one day's
/// error with the next (0: independent days, 1: one draw for all).
pub fn group_bands<K: PartialEq + Clone>(
    points: &[Point],
    rho: f64,
    peak: bool,
    group: impl Fn(NaiveDate) -> K,
) -> Vec<(K, Band)> {
    let mut keys: Vec<(K, usize, usize)> = Vec::new();
    for (i, p) in points.iter().enumerate() {
        let k = group(p.date);
        match keys.last_mut() {
            Some((last, _, end)) if *last == k => *end = i + 1,
            _ => keys.push((k, i, i + 1)),
        }
    }
    let rho = if rho.is_finite() {
        rho.clamp(0.0, 0.99)
    } else {
        0.0
    };
    let innovation = (1.0 - rho * rho).sqrt();
    let mut totals: Vec<Vec<f64>> = vec![Vec::with_capacity(PATHS); keys.len()];
    let mut rng = Rng(0x5EED_F1A5_u64 ^ points.len() as u64);
    for _ in 0..PATHS {
        let mut x = rng.normal();
        let mut g = 0;
        let mut acc = if peak { f64::MIN } else { 0.0 };
        for (i, p) in points.iter().enumerate() {
            if i > 0 {
                x = rho * x + innovation * rng.normal();
            }
            let v = value_at(p, phi(x));
            acc = if peak { acc.max(v) } else { acc + v };
            if i + 1 == keys[g].2 {
                totals[g].push(acc);
                acc = if peak { f64::MIN } else { 0.0 };
                g += 1;
            }
        }
    }
    keys.into_iter()
        .zip(totals)
        .map(|((k, start, end), mut t)| {
            t.sort_by(|a, b| a.total_cmp(b));
            let slice = &points[start..end];
            let mean = if peak {
                slice.iter().map(|p| p.mean).fold(f64::MIN, f64::max)
            } else {
                slice.iter().map(|p| p.mean).sum()
            };
            let band = Band {
                mean,
                lower80: quantile(&t, 0.10).min(mean),
                upper80: quantile(&t, 0.90).max(mean),
                lower95: quantile(&t, 0.025).min(mean),
                upper95: quantile(&t, 0.975).max(mean),
            };
            (k, band)
        })
        .collect()
}

/// The band of the total of the first `n` points.
pub fn total_band(points: &[Point], rho: f64, n: usize) -> Band {
    let n = n.min(points.len());
    group_bands(&points[..n], rho, false, |_| ())
        .into_iter()
        .next()
        .map(|(_, b)| b)
        .unwrap_or(Band {
            mean: 0.0,
            lower80: 0.0,
            upper80: 0.0,
            lower95: 0.0,
            upper95: 0.0,
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn points(n: i64) -> Vec<Point> {
        let d = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
        (0..n)
            .map(|i| Point {
                date: d + chrono::Duration::days(i),
                mean: 100.0,
                lower80: 80.0,
                upper80: 120.0,
                lower95: 70.0,
                upper95: 130.0,
            })
            .collect()
    }

    #[test]
    fn a_total_band_is_narrower_than_the_sum_of_daily_bands() {
        let p = points(30);
        let independent = total_band(&p, 0.0, 30);
        assert!((independent.mean - 3000.0).abs() < 1e-9);
        // Independent days: the total's 80 % band is about √30 times one
        // day's, far inside 30 times.
        let half = independent.upper80 - independent.mean;
        assert!((100.0..140.0).contains(&half), "{half}");
        // Fully correlated days: the sum of the daily bands.
        let together = total_band(&p, 0.99, 30);
        let half = together.upper80 - together.mean;
        assert!(half > 400.0, "{half}");
        assert!(together.upper80 <= 30.0 * 120.0 + 1e-6);
    }

    #[test]
    fn months_are_grouped_and_the_same_input_gives_the_same_bands() {
        let p = points(59);
        let by_month = |d: NaiveDate| chrono::Datelike::month(&d);
        let a = group_bands(&p, 0.5, false, by_month);
        assert_eq!(a.len(), 2);
        assert_eq!(a[0].0, 1);
        assert!((a[0].1.mean - 3100.0).abs() < 1e-9);
        assert!((a[1].1.mean - 2800.0).abs() < 1e-9);
        assert_eq!(a, group_bands(&p, 0.5, false, by_month));
        let peaks = group_bands(&p, 0.5, true, by_month);
        assert!((peaks[0].1.mean - 100.0).abs() < 1e-9);
        assert!(peaks[0].1.upper95 <= 130.0 * 1.2);
    }

    #[test]
    fn the_normal_distribution_function_is_right() {
        assert!((phi(0.0) - 0.5).abs() < 1e-9);
        assert!((phi(1.281_551_6) - 0.9).abs() < 1e-6);
        assert!((phi(-1.959_964) - 0.025).abs() < 1e-6);
    }
}

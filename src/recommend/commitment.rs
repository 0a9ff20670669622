//! Sizing a commitment (a Savings Plan's hourly commitment, or Reserved
//! Instances' equivalent) from the forecast of the whole term, not from a
//! lookback.
//!
//! Usage is hourly on-demand-equivalent spend, `u`. A commitment of `c`
//! per hour at `r` = committed rate ÷ on-demand rate covers on-demand
//! usage up to `x = c / r`, and is paid whether used or not, so an hour
//! saves `min(u, x) − c`. Over the term the expected saving is concave in
//! `x` and its slope is `P(u > x) − r`: the best commitment covers usage
//! up to the level that hourly usage exceeds with probability `r`, taken
//! over the forecast distribution of every hour of the term (all sample
//! paths pooled). Existing commitments cover their part of usage first.

/// Equally likely hourly usage paths over the term (on-demand spend per
/// hour), as the forecast samples them; one path is a point forecast.
#[derive(Clone, Debug, PartialEq)]
pub struct UsageForecast {
    pub paths: Vec<Vec<f64>>,
}

/// What a commitment does over the term, in expectation and at the
/// forecast's 10th and 90th percentile outcomes.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Outcome {
    /// Commitment per hour (committed rate).
    pub commitment: f64,
    /// Share of the commitment used, expected.
    pub expected_utilisation: f64,
    /// Share of on-demand-equivalent usage it covers, expected.
    pub expected_coverage: f64,
    /// Savings over the term against paying on demand, expected.
    pub expected_savings: f64,
    /// Savings over the term in the worst and best tenth of outcomes.
    pub p10_savings: f64,
    pub p90_savings: f64,
}

/// Savings over `usage` of covering up to `commitment / rate_ratio` per
/// hour at `commitment` per hour.
pub fn savings(usage: &[f64], commitment: f64, rate_ratio: f64) -> f64 {
    let covered = commitment / rate_ratio;
    usage.iter().map(|u| u.max(0.0).min(covered)).sum::<f64>() - commitment * usage.len() as f64
}

/// Usage left for a new commitment once `existing` on-demand spend per
/// hour is covered by commitments already bought.
pub fn net_of_existing(forecast: &UsageForecast, existing: f64) -> UsageForecast {
    UsageForecast {
        paths: forecast
            .paths
            .iter()
            .map(|p| p.iter().map(|u| (u - existing).max(0.0)).collect())
            .collect(),
    }
}

/// The commitment per hour that maximises expected savings over the
/// forecast, for a rate ratio in (0, 1); 0 when nothing is worth buying.
pub fn optimal_commitment(forecast: &UsageForecast, rate_ratio: f64) -> f64 {
    optimal_from_sorted(&pooled_sorted(forecast), rate_ratio)
}

/// Every hour of every path, ascending (negative usage as 0, non-finite
/// values left out): what the optimum is read from, once per forecast.
pub fn pooled_sorted(forecast: &UsageForecast) -> Vec<f64> {
    let mut all: Vec<f64> = forecast
        .paths
        .iter()
        .flatten()
        .map(|u| u.max(0.0))
        .filter(|u| u.is_finite())
        .collect();
    all.sort_unstable_by(|a, b| a.total_cmp(b));
    all
}

/// The optimum from the pooled hours, ascending.
pub fn optimal_from_sorted(all: &[f64], rate_ratio: f64) -> f64 {
    if !(rate_ratio > 0.0 && rate_ratio < 1.0) || all.is_empty() {
        return 0.0;
    }
    let n = all.len();
    // Savings rise with the covered level while more than r·n hours use
    // more than it: the best level is the j-th smallest hour, with j the
    // least index at which at most r·n hours lie above.
    let j = ((n as f64) * (1.0 - rate_ratio)).ceil() as usize;
    let covered = all[j.clamp(1, n) - 1];
    covered * rate_ratio
}

/// Days of recent usage that show what is sustained.
pub const SUSTAINED_DAYS: usize = 30;

/// How much better than seasonal naive a forecast's held-out backtest must
/// be (its MASE at most this share of the baseline's) before a commitment
/// may rest on it beyond what recent usage sustained.
pub const TRUST_RATIO: f64 = 0.9;

/// The last [`SUSTAINED_DAYS`] days of a daily spend history, as spend per
/// hour.
pub fn recent_hourly(history: &[(chrono::NaiveDate, f64)]) -> Vec<f64> {
    let from = history.len().saturating_sub(SUSTAINED_DAYS);
    history[from..].iter().map(|(_, v)| v / 24.0).collect()
}

/// Whether a forecast has earned a commitment sized on it: its
/// held-out backtest beat seasonal naive clearly and did not fall back to
/// a baseline. A calendar will always miss something; a spike the
/// forecast cannot explain shows in its backtest, and then the commitment
/// is what usage has sustained.
pub fn forecast_trusted(backtest: Option<&crate::forecast::accuracy::Accuracy>) -> bool {
    backtest.is_some_and(|b| {
        !b.fell_back
            && b.mase.is_finite()
            && b.baseline_mase.is_finite()
            && b.mase <= TRUST_RATIO * b.baseline_mase
    })
}

/// The commitment recent usage sustains: the one a 30-day lookback
/// would buy (the level those hours exceeded in a share `rate_ratio` of
/// them); `None` without recent usage.
pub fn sustained_commitment(recent: &[f64], rate_ratio: f64) -> Option<f64> {
    if recent.is_empty() {
        return None;
    }
    Some(optimal_commitment(
        &UsageForecast {
            paths: vec![recent.to_vec()],
        },
        rate_ratio,
    ))
}

/// The commitment to buy: the forecast's optimum when the forecast is
/// trusted, else what recent usage sustained (an untrusted forecast earns
/// neither a larger commitment nor a smaller one).
pub fn sized_commitment(
    forecast: &UsageForecast,
    history: &[(chrono::NaiveDate, f64)],
    backtest: Option<&crate::forecast::accuracy::Accuracy>,
    rate_ratio: f64,
) -> f64 {
    let optimal = optimal_commitment(forecast, rate_ratio);
    if forecast_trusted(backtest) {
        return optimal;
    }
    match sustained_commitment(&recent_hourly(history), rate_ratio) {
        Some(sustained) => sustained,
        None => optimal,
    }
}

/// The outcome of a commitment (per hour) over the forecast.
pub fn evaluate(forecast: &UsageForecast, commitment: f64, rate_ratio: f64) -> Outcome {
    let covered = commitment / rate_ratio;
    let mut per_path: Vec<f64> = Vec::with_capacity(forecast.paths.len());
    let (mut used, mut usage, mut hours) = (0.0, 0.0, 0usize);
    for path in &forecast.paths {
        per_path.push(savings(path, commitment, rate_ratio));
        for u in path {
            used += u.max(0.0).min(covered);
            usage += u.max(0.0);
        }
        hours += path.len();
    }
    let paths = per_path.len().max(1) as f64;
    per_path.sort_by(|a, b| a.total_cmp(b));
    Outcome {
        commitment,
        expected_utilisation: if covered > 0.0 && hours > 0 {
            used / (covered * hours as f64)
        } else {
            0.0
        },
        expected_coverage: if usage > 0.0 { used / usage } else { 0.0 },
        expected_savings: per_path.iter().sum::<f64>() / paths,
        p10_savings: crate::forecast::accuracy::quantile(&per_path, 0.1),
        p90_savings: crate::forecast::accuracy::quantile(&per_path, 0.9),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::rng::Rng;

    /// Hourly usage of a launch that spikes and decays, with a daily cycle
    /// and noise, in several sample paths.
    fn launch_paths(rng: &mut Rng, paths: usize, hours: usize) -> UsageForecast {
        let base = 50.0 + 200.0 * rng.unit();
        let spike = 1.0 + 4.0 * rng.unit();
        let decay = 100.0 + 900.0 * rng.unit();
        UsageForecast {
            paths: (0..paths)
                .map(|_| {
                    let level = 0.7 + 0.6 * rng.unit();
                    (0..hours)
                        .map(|h| {
                            let t = h as f64;
                            let daily = 1.0 + 0.3 * (2.0 * std::f64::consts::PI * t / 24.0).sin();
                            let launch = 1.0 + (spike - 1.0) * (-t / decay).exp();
                            base * level * daily * launch * (0.9 + 0.2 * rng.unit())
                        })
                        .collect()
                })
                .collect(),
        }
    }

    fn expected(forecast: &UsageForecast, c: f64, r: f64) -> f64 {
        forecast.paths.iter().map(|p| savings(p, c, r)).sum::<f64>() / forecast.paths.len() as f64
    }

    #[test]
    fn the_commitment_equals_a_brute_force_optimum_on_generated_usage() {
        let mut rng = Rng(7);
        for case in 0..120 {
            let hours = 24 * (7 + (rng.unit() * 60.0) as usize);
            let paths = 1 + (rng.unit() * 8.0) as usize;
            let forecast = launch_paths(&mut rng, paths, hours);
            let r = 0.4 + 0.5 * rng.unit();
            let best = optimal_commitment(&forecast, r);
            let top = forecast.paths.iter().flatten().cloned().fold(0.0, f64::max);
            // Every commitment from 0 to the highest hour's cost, finely.
            let brute = (0..=4000)
                .map(|k| top * r * k as f64 / 4000.0)
                .map(|c| expected(&forecast, c, r))
                .fold(f64::MIN, f64::max);
            let ours = expected(&forecast, best, r);
            assert!(
                ours >= brute - 1e-9 * brute.abs().max(1.0),
                "case {case}: ours {ours} < brute force {brute} (r {r})"
            );
        }
    }

    #[test]
    fn the_level_covered_is_exceeded_with_probability_r() {
        // Usage 0..99 once each: 30 % of hours above 69.
        let f = UsageForecast {
            paths: vec![(0..100).map(f64::from).collect()],
        };
        let c = optimal_commitment(&f, 0.3);
        // Anywhere from 69 to 70 saves the same (30 hours above either).
        assert!((69.0 - 1e-9..=70.0 + 1e-9).contains(&(c / 0.3)), "{c}");
        let o = evaluate(&f, c, 0.3);
        assert!(o.expected_utilisation > 0.5 && o.expected_utilisation <= 1.0);
        assert!(o.expected_savings > 0.0);
        assert!(o.p10_savings <= o.expected_savings && o.expected_savings <= o.p90_savings);
        // Flat usage: cover all of it.
        let flat = UsageForecast {
            paths: vec![vec![10.0; 500]],
        };
        assert!((optimal_commitment(&flat, 0.72) - 7.2).abs() < 1e-9);
        assert!((evaluate(&flat, 7.2, 0.72).expected_utilisation - 1.0).abs() < 1e-9);
        // No discount, nothing to buy.
        assert_eq!(optimal_commitment(&flat, 1.0), 0.0);
    }

    #[test]
    fn existing_commitments_cover_their_part_first() {
        let flat = UsageForecast {
            paths: vec![vec![10.0; 100]],
        };
        let net = net_of_existing(&flat, 6.0);
        assert!((optimal_commitment(&net, 0.5) - 2.0).abs() < 1e-9);
        let all_covered = net_of_existing(&flat, 12.0);
        assert_eq!(optimal_commitment(&all_covered, 0.5), 0.0);
    }

    #[test]
    fn an_untrusted_forecast_commits_what_the_last_30_days_sustained() {
        use crate::forecast::accuracy::Accuracy;
        use crate::forecast::frequency::Frequency;
        use crate::forecast::select::Method;
        let day = |i: i64| {
            chrono::NaiveDate::from_ymd_opt(2026, 1, 1).unwrap() + chrono::Duration::days(i)
        };
        // Sixty days at 100 /h, then thirty at 200 /h: an unexplained spike.
        let history: Vec<(chrono::NaiveDate, f64)> = (0..90)
            .map(|i| (day(i), if i < 60 { 2400.0 } else { 4800.0 }))
            .collect();
        // A forecast that the spike carries on and grows.
        let forecast = UsageForecast {
            paths: vec![vec![300.0; 365]],
        };
        let accuracy = |mase: f64, fell_back: bool| Accuracy {
            method: Method::Regression,
            mase,
            wape: 0.1,
            coverage80: 0.8,
            coverage95: 0.95,
            baseline_mase: 1.0,
            candidates: Vec::new(),
            origins: 4,
            horizon: 30,
            step: Frequency::Day,
            fell_back,
        };
        let r = 0.72;
        let sustained = sized_commitment(&forecast, &history, None, r);
        assert!((sustained - 200.0 * r).abs() < 1e-9, "{sustained}");
        let trusted = sized_commitment(&forecast, &history, Some(&accuracy(0.5, false)), r);
        assert!((trusted - 300.0 * r).abs() < 1e-9, "{trusted}");
        // Not clearly better than seasonal naive, or fell back: sustained.
        for (mase, fell_back) in [(0.95, false), (0.5, true), (f64::NAN, false)] {
            let c = sized_commitment(&forecast, &history, Some(&accuracy(mase, fell_back)), r);
            assert!((c - 200.0 * r).abs() < 1e-9, "{mase} {fell_back}: {c}");
        }
        // A forecast below recent usage is not trusted to shrink it either.
        let low = UsageForecast {
            paths: vec![vec![50.0; 365]],
        };
        assert!((sized_commitment(&low, &history, None, r) - 200.0 * r).abs() < 1e-9);
        assert_eq!(sized_commitment(&low, &[], None, r), 50.0 * r);
    }
}

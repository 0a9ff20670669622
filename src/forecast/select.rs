//! Which model a series gets, how sure it is, and how that was measured.
//!
//! Six candidates forecast every series:
//! - **regression**: the calendar-aware regression (`model`): trend,
//!   weekly and yearly seasonality, events learned per kind;
//! - **smoothing**: damped-trend exponential smoothing (`ets`), which
//!   follows a level shift within days and never extrapolates a short
//!   climb for long;
//! - **seasonal naive**: the same weekday last week (last year for weeks
//!   and months), the baseline every accuracy figure is compared with;
//! - **average**: the mean of regression and smoothing;
//! - **median**: per position in the season, the median of the last
//!   eight seasons (counts that are mostly zero, a level with spikes);
//! - **combined**: the mean of regression, smoothing and seasonal naive,
//!   which is never far from the baseline when the models miss.
//!
//! Smoothing and seasonal naive see the history with the regression's
//! event effects taken out, and get the calendar's future events put back
//! in, so a launch last week is not repeated and one next month is not
//! missed.
//!
//! The candidates are compared on backtests whose test windows do not
//! overlap (each origin's window ends where the next one's training
//! ends). The forecast uses the candidate with the least error over the
//! windows, recent windows weighing more (`RECENCY`). Every figure reported is held out: for each window, the
//! choice and the interval widths come from the *other* windows only, and
//! MASE, WAPE and the coverage of the 80 % and 95 % bands are measured on
//! it. Where choosing this way lost to seasonal naive over the held-out
//! windows, the series gets the combined candidate if it did at least as
//! well as seasonal naive on them, else seasonal naive, with the figures
//! of what it gets: what a user sees never did worse than the baseline
//! on the series' own history. Bands are conformal and centred on the forecast: per horizon
//! bucket, the finite-sample quantile of the absolute errors (a bias the
//! windows showed widens the band rather than shifting it), never
//! narrower further ahead, and beyond the backtests' reach growing with
//! the horizon as they grew within it: with its square root when errors
//! wander, in proportion when they grew like a missed trend.

use chrono::NaiveDate;

use super::ets;
use super::frequency::Frequency;
use super::model::{self, Fitted, ModelOptions};
use super::{Point, SeriesForecast};
use crate::calendar::CalendarEvent;

/// A forecasting method a series can get.
#[derive(Copy, Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    Regression,
    Smoothing,
    SeasonalNaive,
    Average,
    Combined,
    Median,
}

/// How many methods there are.
const METHODS: usize = 6;

impl Method {
    pub const ALL: [Method; METHODS] = [
        Method::Regression,
        Method::Smoothing,
        Method::SeasonalNaive,
        Method::Average,
        Method::Combined,
        Method::Median,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Method::Regression => "calendar regression",
            Method::Smoothing => "damped exponential smoothing",
            Method::SeasonalNaive => "seasonal naive",
            Method::Average => "average of regression and smoothing",
            Method::Combined => "average of regression, smoothing and seasonal naive",
            Method::Median => "seasonal median",
        }
    }

    fn index(self) -> usize {
        Method::ALL.iter().position(|m| *m == self).unwrap_or(0)
    }
}

/// Most backtest windows per series.
pub const MAX_ORIGINS: usize = 8;

/// The steps a backtest window covers for a requested horizon and a
/// history of `n` steps.
pub fn backtest_steps(freq: Frequency, horizon: i64, n: usize) -> usize {
    let (lo, hi) = match freq {
        Frequency::Day => (7, 90),
        Frequency::Week => (4, 26),
        Frequency::Month => (3, 12),
    };
    (horizon.clamp(lo, hi) as usize).min((n / 4).max(lo as usize))
}

/// Fewest steps a model is trained on in a backtest.
fn min_train(freq: Frequency) -> usize {
    match freq {
        Frequency::Day => 56,
        Frequency::Week => 52,
        Frequency::Month => 24,
    }
}

/// Horizon buckets (upper bounds in steps) the bands are measured per.
fn buckets(freq: Frequency) -> &'static [usize] {
    match freq {
        Frequency::Day => &[7, 14, 30, 60, 90],
        Frequency::Week => &[2, 4, 8, 13, 26],
        Frequency::Month => &[1, 3, 6, 12],
    }
}

fn bucket_of(freq: Frequency, step: usize) -> usize {
    let b = buckets(freq);
    b.iter().position(|u| step <= *u).unwrap_or(b.len() - 1)
}

/// The model's scale: log(1 + y) when effects multiply.
#[derive(Copy, Clone, Debug)]
struct Scale {
    log: bool,
}

impl Scale {
    fn to(self, y: f64) -> f64 {
        if self.log {
            y.max(0.0).ln_1p()
        } else {
            y
        }
    }

    fn from(self, z: f64) -> f64 {
        if self.log {
            z.exp_m1().max(0.0)
        } else {
            z
        }
    }
}

/// Every candidate's predictions (on the model's scale) for some dates.
struct Predictions {
    by_method: [Option<Vec<f64>>; METHODS],
    /// The regression fitted to the training data, when it could be.
    fitted: Option<Fitted>,
}

impl Predictions {
    fn of(&self, m: Method) -> Option<&Vec<f64>> {
        self.by_method[m.index()].as_ref()
    }
}

/// Values at every step from the first date to the last, missing steps
/// filled in a straight line between their neighbours.
fn regular(history: &[(NaiveDate, f64)], freq: Frequency) -> Vec<f64> {
    let mut out: Vec<f64> = Vec::with_capacity(history.len());
    for w in history.windows(2) {
        out.push(w[0].1);
        let gap = freq.steps_between(w[0].0, w[1].0);
        for k in 1..gap {
            let f = k as f64 / gap as f64;
            out.push(w[0].1 + f * (w[1].1 - w[0].1));
        }
    }
    if let Some(last) = history.last() {
        out.push(last.1);
    }
    out
}

/// The regression's event effect on `day` (model scale): its prediction
/// with the events less its prediction without them.
fn event_effect(
    fitted: &Fitted,
    day: NaiveDate,
    events: &[CalendarEvent],
    factors: &[(String, f64)],
) -> f64 {
    fitted.predict_scaled_with(day, events, factors) - fitted.predict_scaled(day, &[])
}

/// Trains every candidate on `train` (model scale) and predicts `dates`.
fn predict(
    train: &[(NaiveDate, f64)],
    dates: &[NaiveDate],
    events: &[CalendarEvent],
    freq: Frequency,
    options: &ModelOptions,
    factors: &[(String, f64)],
) -> Predictions {
    let scale = Scale { log: options.log };
    let Some(&(last, _)) = train.last() else {
        return Predictions {
            by_method: [None, None, None, None, None, None],
            fitted: None,
        };
    };
    let fitted = model::fit_on(train, events, options, freq);
    let regression = fitted.as_ref().map(|f| {
        dates
            .iter()
            .map(|d| f.predict_scaled_with(*d, events, factors))
            .collect::<Vec<f64>>()
    });
    // The history without its events, on the model's scale.
    let plain: Vec<(NaiveDate, f64)> = train
        .iter()
        .map(|(d, y)| {
            let effect = fitted
                .as_ref()
                .filter(|_| freq == Frequency::Day)
                .map(|f| event_effect(f, *d, events, &[]))
                .unwrap_or(0.0);
            (*d, scale.to(*y) - effect)
        })
        .collect();
    let z = regular(&plain, freq);
    let steps: Vec<usize> = dates
        .iter()
        .map(|d| freq.steps_between(last, *d).max(1) as usize)
        .collect();
    let reach = steps.iter().copied().max().unwrap_or(1);
    let future_effect = |i: usize| {
        fitted
            .as_ref()
            .filter(|_| freq == Frequency::Day)
            .map(|f| event_effect(f, dates[i], events, factors))
            .unwrap_or(0.0)
    };
    let season = freq.season();
    let smoothing = ets::fit(&z, if z.len() >= 2 * season { season } else { 1 }).map(|s| {
        let path = s.forecast(reach);
        steps
            .iter()
            .enumerate()
            .map(|(i, k)| path[k - 1] + future_effect(i))
            .collect::<Vec<f64>>()
    });
    let naive_path = ets::seasonal_naive(&z, season, reach);
    let naive: Vec<f64> = steps
        .iter()
        .enumerate()
        .map(|(i, k)| naive_path[k - 1] + future_effect(i))
        .collect();
    let median_path = ets::seasonal_median(&z, season, reach);
    let median: Vec<f64> = steps
        .iter()
        .enumerate()
        .map(|(i, k)| median_path[k - 1] + future_effect(i))
        .collect();
    let (average, combined) = match (&regression, &smoothing) {
        (Some(r), Some(s)) => (
            Some(r.iter().zip(s).map(|(a, b)| (a + b) / 2.0).collect()),
            Some(
                r.iter()
                    .zip(s)
                    .zip(&naive)
                    .map(|((a, b), c)| (a + b + c) / 3.0)
                    .collect(),
            ),
        ),
        _ => (None, None),
    };
    Predictions {
        by_method: [
            regression,
            smoothing,
            Some(naive),
            average,
            combined,
            Some(median),
        ],
        fitted,
    }
}

/// One backtest window: the actual values and every candidate's errors.
struct Window {
    /// (steps ahead, actual on the original scale, actual on the model scale)
    actual: Vec<(usize, f64, f64)>,
    /// Per method: predictions on the model scale (None: it could not fit).
    predicted: [Option<Vec<f64>>; METHODS],
    /// How much the window counts when choosing (`RECENCY` per window
    /// older than the latest).
    weight: f64,
    /// Trained on the latest regime (see `forecast`).
    current: bool,
}

impl Window {
    /// Absolute error on the original scale of a method, summed.
    fn abs_error(&self, m: Method, scale: Scale) -> Option<f64> {
        let p = self.predicted[m.index()].as_ref()?;
        Some(
            self.actual
                .iter()
                .zip(p)
                .map(|((_, y, _), z)| (y - scale.from(*z)).abs())
                .sum(),
        )
    }
}

/// A candidate replaces seasonal naive only when it has less total error
/// by at least this share and less error in at least half the windows:
/// a lead that one lucky window makes is noise, and the baseline is what
/// a forecast must never be worse than.
pub const MARGIN: f64 = 0.03;

/// Each backtest window one further back counts this much less than the
/// one after it when choosing: a series changes, and what won last
/// quarter says more than what won three years ago.
pub const RECENCY: f64 = 0.8;

/// The candidate with the least weighted error over `windows` among those
/// that beat seasonal naive clearly (`MARGIN`), else seasonal naive. Only
/// methods that fitted every window count.
fn choose<'a>(windows: impl Iterator<Item = &'a Window> + Clone, scale: Scale) -> Method {
    let errors = |m: Method| -> Option<Vec<(f64, f64)>> {
        windows
            .clone()
            .map(|w| w.abs_error(m, scale).map(|e| (e, w.weight)))
            .collect()
    };
    let Some(naive) = errors(Method::SeasonalNaive) else {
        return Method::SeasonalNaive;
    };
    let weighted = |e: &[(f64, f64)]| e.iter().map(|(e, w)| e * w).sum::<f64>();
    let naive_total = weighted(&naive);
    let all_weight: f64 = naive.iter().map(|(_, w)| w).sum();
    let mut best = (naive_total, Method::SeasonalNaive);
    for m in Method::ALL {
        let Some(e) = errors(m) else {
            continue;
        };
        let total = weighted(&e);
        let wins: f64 = e
            .iter()
            .zip(&naive)
            .filter(|((a, _), (b, _))| a < b)
            .map(|((_, w), _)| w)
            .sum();
        let clear = total < naive_total * (1.0 - MARGIN) && 2.0 * wins >= all_weight;
        if clear && total < best.0 {
            best = (total, m);
        }
    }
    best.1
}

/// Band half-widths on the model's scale per horizon bucket, at 80 % and
/// 95 %, from the absolute errors of a method in some windows.
#[derive(Clone, Debug, PartialEq)]
pub struct Widths {
    pub w80: Vec<f64>,
    pub w95: Vec<f64>,
    /// Steps the widths were measured to.
    pub reach: usize,
    /// How the 80 % width grew with the horizon over the measured
    /// buckets (width ∝ steps^growth), between 0.5 (errors that wander
    /// like a random walk) and 1 (a trend missed: errors that grow in
    /// proportion to the horizon); beyond the reach the bands keep it.
    pub growth: f64,
}

/// The exponent of width against horizon between the first and the last
/// measured bucket, clamped to [0.5, 1].
fn growth_exponent(freq: Frequency, measured: &[(usize, f64)]) -> f64 {
    let b = buckets(freq);
    let (Some(&(i, first)), Some(&(j, last))) = (measured.first(), measured.last()) else {
        return 0.5;
    };
    if j <= i || first <= 0.0 || last <= 0.0 {
        return 0.5;
    }
    // Each bucket stands at the middle of its steps.
    let mid = |k: usize| {
        let lo = if k == 0 { 1 } else { b[k - 1] + 1 };
        (lo + b[k]) as f64 / 2.0
    };
    let slope = (last / first).ln() / (mid(j) / mid(i)).ln();
    if slope.is_finite() {
        slope.clamp(0.5, 1.0)
    } else {
        0.5
    }
}

/// The finite-sample conformal quantile: the ⌈(n+1)·level⌉-th smallest
/// score (the largest when there are too few).
fn conformal(sorted: &[f64], level: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let n = sorted.len();
    let k = ((n as f64 + 1.0) * level).ceil() as usize;
    sorted[k.clamp(1, n) - 1]
}

/// From the windows trained on the latest regime when there are two or
/// more, else from all.
fn widths<'a>(
    windows: impl Iterator<Item = &'a Window>,
    m: Method,
    freq: Frequency,
) -> Option<Widths> {
    let windows: Vec<&Window> = windows.collect();
    let current = windows.iter().filter(|w| w.current).count();
    let windows = windows.into_iter().filter(|w| w.current || current < 2);
    let nb = buckets(freq).len();
    let mut errors: Vec<Vec<f64>> = vec![Vec::new(); nb];
    let mut reach = 0;
    for w in windows {
        let p = w.predicted[m.index()].as_ref()?;
        for ((step, _, a), z) in w.actual.iter().zip(p) {
            errors[bucket_of(freq, *step)].push(a - z);
            reach = reach.max(*step);
        }
    }
    let mut w80 = Vec::with_capacity(nb);
    let mut w95 = Vec::with_capacity(nb);
    let (mut last80, mut last95) = (0.0_f64, 0.0_f64);
    let mut measured = Vec::new();
    for (k, e) in errors.iter().enumerate() {
        if e.len() < 5 {
            // Too few to measure: as wide as the bucket before.
            w80.push(last80);
            w95.push(last95);
            continue;
        }
        // The band is centred on the forecast; its half-width is the
        // conformal quantile of the absolute errors, so a bias the
        // windows showed widens the band instead of shifting it.
        let mut scores: Vec<f64> = e.iter().map(|x| x.abs()).collect();
        scores.sort_by(|a, b| a.total_cmp(b));
        last80 = last80.max(conformal(&scores, 0.8));
        last95 = last95.max(conformal(&scores, 0.95)).max(last80);
        measured.push((k, last80));
        w80.push(last80);
        w95.push(last95);
    }
    if last95 == 0.0 && errors.iter().all(|e| e.len() < 5) {
        return None;
    }
    let growth = growth_exponent(freq, &measured);
    Some(Widths {
        w80,
        w95,
        reach,
        growth,
    })
}

impl Widths {
    /// The half-widths `step` steps ahead: measured up to the backtests'
    /// reach, then growing as they grew within it (`growth`).
    pub fn at(&self, freq: Frequency, step: usize) -> (f64, f64) {
        let b = bucket_of(freq, step.min(self.reach.max(1)));
        let grow = if step > self.reach && self.reach > 0 {
            (step as f64 / self.reach as f64).powf(self.growth)
        } else {
            1.0
        };
        (self.w80[b] * grow, self.w95[b] * grow)
    }
}

/// The lag-one correlation of a method's centred errors within windows
/// (how much a miss one day says about the next), for sample paths.
fn error_correlation<'a>(windows: impl Iterator<Item = &'a Window>, m: Method) -> f64 {
    let (mut num, mut den) = (0.0, 0.0);
    for w in windows {
        let Some(p) = w.predicted[m.index()].as_ref() else {
            continue;
        };
        let e: Vec<f64> = w.actual.iter().zip(p).map(|((_, _, a), z)| a - z).collect();
        if e.len() < 3 {
            continue;
        }
        let mean = e.iter().sum::<f64>() / e.len() as f64;
        for pair in e.windows(2) {
            num += (pair[0] - mean) * (pair[1] - mean);
        }
        den += e.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>();
    }
    if den > 0.0 {
        (num / den).clamp(0.0, 0.99)
    } else {
        0.5
    }
}

/// Accuracy of the whole procedure, held out window by window.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Assessment {
    pub mase: f64,
    pub wape: f64,
    pub coverage80: f64,
    pub coverage95: f64,
    pub baseline_mase: f64,
    /// MASE of each candidate over all windows.
    pub candidates: Vec<(Method, f64)>,
    pub origins: usize,
    pub horizon: usize,
    /// Choosing lost to seasonal naive held out, so the series got a
    /// fixed fallback (`Method::Combined` or seasonal naive).
    pub fell_back: bool,
}

/// `fixed`: the method every window uses; `None`: each window's choice
/// is made on the other windows, as the forecast's is on all of them.
fn assess(
    windows: &[Window],
    freq: Frequency,
    scale: Scale,
    mase_scale: f64,
    fixed: Option<Method>,
) -> Assessment {
    let (mut err, mut naive, mut actual, mut count) = (0.0, 0.0, 0.0, 0usize);
    let (mut in80, mut in95, mut judged) = (0usize, 0usize, 0usize);
    for (i, w) in windows.iter().enumerate() {
        let others = || {
            windows
                .iter()
                .enumerate()
                .filter(move |(j, _)| *j != i)
                .map(|(_, o)| o)
        };
        let m = fixed.unwrap_or_else(|| choose(others(), scale));
        let Some(p) = w.predicted[m.index()].as_ref() else {
            continue;
        };
        let band = widths(others(), m, freq);
        let naive_p = w.predicted[Method::SeasonalNaive.index()].as_ref();
        for (k, ((step, y, a), z)) in w.actual.iter().zip(p).enumerate() {
            err += (y - scale.from(*z)).abs();
            if let Some(n) = naive_p {
                naive += (y - scale.from(n[k])).abs();
            }
            actual += y.abs();
            count += 1;
            if let Some(b) = &band {
                let (w80, w95) = b.at(freq, *step);
                judged += 1;
                if (a - z).abs() <= w80 {
                    in80 += 1;
                }
                if (a - z).abs() <= w95 {
                    in95 += 1;
                }
            }
        }
    }
    let c = count.max(1) as f64;
    let total_points: usize = windows.iter().map(|w| w.actual.len()).sum();
    let candidates = Method::ALL
        .iter()
        .filter_map(|m| {
            let total: Option<f64> = windows.iter().map(|w| w.abs_error(*m, scale)).sum();
            total.map(|t| (*m, t / total_points.max(1) as f64 / mase_scale))
        })
        .collect();
    Assessment {
        mase: err / c / mase_scale,
        wape: if actual > 0.0 { err / actual } else { 0.0 },
        coverage80: in80 as f64 / judged.max(1) as f64,
        coverage95: in95 as f64 / judged.max(1) as f64,
        baseline_mase: naive / c / mase_scale,
        candidates,
        origins: windows.len(),
        fell_back: false,
        horizon: windows.iter().map(|w| w.actual.len()).max().unwrap_or(0),
    }
}

/// The mean absolute seasonal difference of a series (MASE's scale).
pub fn mase_scale(values: &[f64], season: usize) -> f64 {
    let m = season.max(1);
    if values.len() <= m {
        return 1.0;
    }
    let d: Vec<f64> = values.windows(m + 1).map(|w| (w[m] - w[0]).abs()).collect();
    let s = d.iter().sum::<f64>() / d.len() as f64;
    if s > 0.0 {
        s
    } else {
        1.0
    }
}

/// Forecasts `horizon` steps of a regular series (`freq`) after its last
/// date, with the candidate its backtests favour and held-out bands.
/// `None` when no candidate can be fitted.
pub fn forecast(
    history: &[(NaiveDate, f64)],
    events: &[CalendarEvent],
    horizon: usize,
    freq: Frequency,
    options: &ModelOptions,
) -> Option<SeriesForecast> {
    let scale = Scale { log: options.log };
    let n = history.len();
    let &(last, _) = history.last()?;
    let h = backtest_steps(freq, horizon as i64, n);
    // Windows that train on at least `min_train` steps of the latest
    // regime size the bands: one trained before a launch or a collapse
    // measures the jump, not today's uncertainty. All windows choose.
    let regime_start = n - super::regime(history, options.log).len();
    let mut windows = Vec::new();
    for k in 0..MAX_ORIGINS {
        let Some(cut) = n.checked_sub(h * (k + 1)) else {
            break;
        };
        if cut < min_train(freq) {
            break;
        }
        let train = &history[..cut];
        let test = &history[cut..cut + h];
        let dates: Vec<NaiveDate> = test.iter().map(|(d, _)| *d).collect();
        let p = predict(train, &dates, events, freq, options, &[]);
        let origin = train[cut - 1].0;
        windows.push(Window {
            actual: test
                .iter()
                .map(|(d, y)| {
                    (
                        freq.steps_between(origin, *d).max(1) as usize,
                        *y,
                        scale.to(*y),
                    )
                })
                .collect(),
            predicted: p.by_method,
            weight: RECENCY.powi(k as i32),
            current: cut >= regime_start + min_train(freq),
        });
    }
    let values: Vec<f64> = history.iter().map(|(_, y)| *y).collect();
    let mase_scale = mase_scale(&values, freq.season());
    let dates: Vec<NaiveDate> = (1..=horizon as i64).map(|k| freq.add(last, k)).collect();
    let full = predict(
        history,
        &dates,
        events,
        freq,
        options,
        &options.uplift_factors,
    );
    let measured = windows.len() >= 2;
    let mut assessment = measured.then(|| assess(&windows, freq, scale, mase_scale, None));
    let method = match &assessment {
        // Choosing lost to the baseline out of sample on this series: the
        // forecast is the mean of regression, smoothing and the baseline
        // where that did at least as well as the baseline, else the
        // baseline; either way with its own figures.
        Some(a) if a.mase > a.baseline_mase => {
            let fixed = |m: Method| assess(&windows, freq, scale, mase_scale, Some(m));
            let chosen = choose(windows.iter(), scale);
            let (m, mut a) = match full
                .of(Method::Combined)
                .filter(|_| chosen != Method::SeasonalNaive)
                .map(|_| fixed(Method::Combined))
                .filter(|c| c.mase <= c.baseline_mase)
            {
                Some(c) => (Method::Combined, c),
                None => (Method::SeasonalNaive, fixed(Method::SeasonalNaive)),
            };
            // Seasonal naive chosen on all the windows is no fallback.
            a.fell_back = chosen != Method::SeasonalNaive;
            assessment = Some(a);
            m
        }
        Some(_) => choose(windows.iter(), scale),
        None if full.of(Method::Regression).is_some() => Method::Regression,
        None => Method::Smoothing,
    };
    let z = full
        .of(method)
        .or_else(|| full.of(Method::SeasonalNaive))?
        .clone();
    let band = if measured {
        widths(windows.iter(), method, freq)
    } else {
        None
    };
    // Unmeasured: the regression's in-sample residuals, widening with the
    // horizon.
    let residual_sd = full
        .fitted
        .as_ref()
        .map(|f| {
            let r = &f.residuals;
            (r.iter().map(|x| x * x).sum::<f64>() / r.len().max(1) as f64).sqrt()
        })
        .unwrap_or(0.0);
    let rho = if measured {
        error_correlation(windows.iter(), method)
    } else {
        0.5
    };
    let points = dates
        .iter()
        .zip(&z)
        .enumerate()
        .map(|(i, (date, z))| {
            let step = i + 1;
            let (w80, w95) = match &band {
                Some(b) => b.at(freq, step),
                None => {
                    let grow = (1.0 + (step as f64 - 1.0) / freq.season() as f64).sqrt();
                    (1.2816 * residual_sd * grow, 1.96 * residual_sd * grow)
                }
            };
            Point {
                date: *date,
                mean: scale.from(*z),
                lower80: scale.from(z - w80),
                upper80: scale.from(z + w80),
                lower95: scale.from(z - w95),
                upper95: scale.from(z + w95),
            }
        })
        .collect();
    Some(SeriesForecast::from_parts(
        points,
        assessment,
        method,
        freq,
        rho,
        full.fitted
            .as_ref()
            .map(|f| {
                f.learned_kinds()
                    .iter()
                    .map(|k| k.as_str().to_string())
                    .collect()
            })
            .unwrap_or_default(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calendar::EventKind;

    fn days(n: i64, f: impl Fn(i64) -> f64) -> Vec<(NaiveDate, f64)> {
        let d = NaiveDate::from_ymd_opt(2023, 1, 2).unwrap();
        (0..n)
            .map(|t| (d + chrono::Duration::days(t), f(t)))
            .collect()
    }

    /// A noise term that repeats nothing (a hash of t).
    fn noise(t: i64) -> f64 {
        let x = (t as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 11;
        (x as f64 / (1u64 << 53) as f64) - 0.5
    }

    #[test]
    fn bands_beyond_the_backtests_grow_as_they_grew_within_them() {
        // Buckets of days stand at steps 4, 11, 22.5, 45.5 and 75.5.
        let mids = [4.0, 11.0, 22.5, 45.5, 75.5];
        let linear: Vec<(usize, f64)> =
            mids.iter().enumerate().map(|(k, m)| (k, m * 0.1)).collect();
        assert!((growth_exponent(Frequency::Day, &linear) - 1.0).abs() < 1e-9);
        // Level errors (noise that does not grow) keep the square root.
        let level: Vec<(usize, f64)> = (0..5).map(|k| (k, 3.0)).collect();
        assert_eq!(growth_exponent(Frequency::Day, &level), 0.5);
        let between: Vec<(usize, f64)> = mids
            .iter()
            .enumerate()
            .map(|(k, m)| (k, m.powf(0.75)))
            .collect();
        assert!((growth_exponent(Frequency::Day, &between) - 0.75).abs() < 1e-9);
        assert_eq!(growth_exponent(Frequency::Day, &[(2, 1.0)]), 0.5);
        let w = Widths {
            w80: vec![1.0; 5],
            w95: vec![2.0; 5],
            reach: 90,
            growth: 1.0,
        };
        assert_eq!(w.at(Frequency::Day, 360), (4.0, 8.0));
        assert_eq!(w.at(Frequency::Day, 60), (1.0, 2.0));
    }

    #[test]
    fn a_pure_weekly_pattern_gets_a_forecast_as_good_as_seasonal_naive() {
        let h = days(700, |t| 100.0 + 30.0 * ((t % 7) as f64) + 4.0 * noise(t));
        let f = forecast(&h, &[], 90, Frequency::Day, &ModelOptions::default()).unwrap();
        let a = f.backtest.unwrap();
        assert!(a.mase <= a.baseline_mase * 1.05, "{a:?}");
        assert_eq!(a.origins, 7, "(700 - 56) / 90 windows");
    }

    #[test]
    fn a_drop_in_the_last_weeks_is_followed() {
        let h = days(760, |t| {
            let level = if t < 700 { 1000.0 } else { 500.0 };
            level * (1.0 + 0.1 * ((t % 7) as f64 / 6.0)) * (1.0 + 0.02 * noise(t))
        });
        let f = forecast(&h, &[], 60, Frequency::Day, &ModelOptions::default()).unwrap();
        let mean = f.points.iter().map(|p| p.mean).sum::<f64>() / 60.0;
        assert!(
            (420.0..620.0).contains(&mean),
            "mean {mean} after the drop to 500 ({:?})",
            f.method
        );
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
    fn held_out_coverage_is_near_what_the_bands_claim_on_noise() {
        // A level with independent noise: a well-calibrated 80 % band
        // covers about 80 % of held-out values.
        let h = days(900, |t| 200.0 + 40.0 * noise(t) + 20.0 * noise(t * 31 + 7));
        let f = forecast(&h, &[], 90, Frequency::Day, &ModelOptions::default()).unwrap();
        let a = f.backtest.unwrap();
        assert!((0.65..=0.93).contains(&a.coverage80), "{a:?}");
        assert!((0.85..=1.0).contains(&a.coverage95), "{a:?}");
    }

    #[test]
    fn a_past_one_off_launch_does_not_come_back_as_a_season() {
        let launch = NaiveDate::from_ymd_opt(2024, 3, 4).unwrap();
        let event = CalendarEvent {
            id: None,
            name: "Big launch".into(),
            kind: EventKind::Launch,
            start: launch,
            end: launch + chrono::Duration::days(13),
            platforms: vec![],
            regions: vec![],
            expected_uplift: None,
            ramp_days: Some(2),
            notes: String::new(),
            source: "test".into(),
        };
        let h = days(760, |t| {
            let d = NaiveDate::from_ymd_opt(2023, 1, 2).unwrap() + chrono::Duration::days(t);
            let lift = if d >= event.start && d <= event.end {
                1.8
            } else {
                1.0
            };
            1000.0 * lift * (1.0 + 0.1 * ((t % 7) as f64 / 6.0)) * (1.0 + 0.03 * noise(t))
        });
        let last = h.last().unwrap().0;
        let f = forecast(&h, &[event], 365, Frequency::Day, &ModelOptions::default()).unwrap();
        let mean_in = |from: NaiveDate, to: NaiveDate| {
            let v: Vec<f64> = f
                .points
                .iter()
                .filter(|p| p.date >= from && p.date <= to)
                .map(|p| p.mean)
                .collect();
            v.iter().sum::<f64>() / v.len().max(1) as f64
        };
        let next_march = NaiveDate::from_ymd_opt(2025, 3, 4).unwrap();
        assert!(next_march > last);
        let during = mean_in(next_march, next_march + chrono::Duration::days(13));
        let before = mean_in(
            next_march - chrono::Duration::days(35),
            next_march - chrono::Duration::days(8),
        );
        assert!(
            during / before < 1.15,
            "{during} vs {before} ({:?})",
            f.method
        );
    }

    #[test]
    fn what_a_user_sees_never_did_worse_than_seasonal_naive() {
        // Random walks with a weekly pattern, level shifts and drift that
        // turns: series where a model that won the older windows can lose
        // the newer ones.
        let mut rng = crate::rng::Rng(7);
        let mut fell_back = 0;
        for case in 0..12 {
            let mut level = 500.0;
            let mut drift = 0.0;
            let mut values = Vec::new();
            for t in 0..500 {
                if t % 60 == 0 {
                    drift = rng.normal() * 3.0;
                }
                if t == 300 + 10 * case {
                    level *= 0.6;
                }
                level = f64::max(level + drift + rng.normal() * 8.0, 50.0);
                values.push(level * (1.0 + 0.15 * ((t % 7) as f64 - 3.0) / 3.0));
            }
            let h = days(500, |t| values[t as usize]);
            let f = forecast(&h, &[], 60, Frequency::Day, &ModelOptions::default()).unwrap();
            let a = f.backtest.expect("measured");
            assert!(a.mase <= a.baseline_mase, "case {case}: {a:?}");
            if matches!(f.method, Some(Method::Combined | Method::SeasonalNaive)) {
                fell_back += 1;
            }
        }
        eprintln!("{fell_back} of 12 fell back");
    }

    #[test]
    fn a_monthly_series_keeps_its_yearly_shape() {
        let d = NaiveDate::from_ymd_opt(2010, 1, 1).unwrap();
        let h: Vec<(NaiveDate, f64)> = (0..120)
            .map(|i| {
                let month = (i % 12) as f64;
                (
                    Frequency::Month.add(d, i),
                    100.0 + 2.0 * i as f64 + 40.0 * (month / 11.0) + 3.0 * noise(i),
                )
            })
            .collect();
        let f = forecast(&h, &[], 12, Frequency::Month, &ModelOptions::default()).unwrap();
        assert_eq!(f.points.len(), 12);
        assert_eq!(
            f.points[0].date,
            NaiveDate::from_ymd_opt(2020, 1, 1).unwrap()
        );
        // December above January, as every year.
        assert!(
            f.points[11].mean > f.points[0].mean + 20.0,
            "{:?}",
            f.points
        );
        let a = f.backtest.unwrap();
        assert!(a.mase <= a.baseline_mase * 1.05, "{a:?}");
    }
}

//! Forecasts for the whole platform × region hierarchy of a metric, made
//! coherent: every platform, region and the total equal the sum of their
//! platform × region parts on every day.
//!
//! Each series (the total, each platform, each region and each platform ×
//! region) is first forecast on its own, with its own events and backtest.
//! The means are then reconciled by weighted least squares (WLS): the
//! bottom-level forecasts that best agree with all the base forecasts,
//! each weighted by the inverse of its measured error variance (backtest
//! WAPE × recent level, squared), so an accurate total pulls noisy small
//! parts into line and not the other way round. Aggregates are then the
//! sums of the reconciled parts. Each series keeps its own interval
//! widths, scaled to the reconciled mean (the errors are multiplicative);
//! its backtest figures are those of its base forecast.

use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDate;

use super::model::ModelOptions;
use super::series::{events_for, BottomSeries, Metric, SeriesRequest};
use super::{after_last_gap, forecast, ForecastError, Point, SeriesForecast};
use crate::calendar::CalendarEvent;

/// One series of the hierarchy; `None` means all platforms or regions.
#[derive(Clone, Debug, PartialEq)]
pub struct NodeForecast {
    pub platform: Option<String>,
    pub region: Option<String>,
    /// The history the forecast was made from (zero-filled days included).
    pub history: Vec<(NaiveDate, f64)>,
    /// Reconciled points; backtest and learned kinds of the base model.
    pub forecast: SeriesForecast,
    /// Means before reconciliation, day by day.
    pub base_mean: Vec<f64>,
    /// Why this series has no model of its own (too little history): its
    /// base forecast is then its recent mean.
    pub problem: Option<String>,
}

impl NodeForecast {
    /// One platform in one region (a part, not a sum of parts).
    pub fn is_bottom(&self) -> bool {
        self.platform.is_some() && self.region.is_some()
    }
}

/// Every series of a metric, reconciled.
#[derive(Clone, Debug)]
pub struct Hierarchy {
    pub unit: String,
    pub nodes: Vec<NodeForecast>,
}

impl Hierarchy {
    pub fn find(&self, platform: Option<&str>, region: Option<&str>) -> Option<&NodeForecast> {
        self.nodes
            .iter()
            .find(|n| n.platform.as_deref() == platform && n.region.as_deref() == region)
    }

    /// The series one level down: platforms of the total (then regions),
    /// regions of a platform, platforms of a region.
    pub fn children(&self, platform: Option<&str>, region: Option<&str>) -> Vec<&NodeForecast> {
        self.nodes
            .iter()
            .filter(|n| match (platform, region) {
                (None, None) => n.region.is_none() && n.platform.is_some(),
                (Some(p), None) => n.platform.as_deref() == Some(p) && n.region.is_some(),
                (None, Some(r)) => n.region.as_deref() == Some(r) && n.platform.is_some(),
                (Some(_), Some(_)) => false,
            })
            .collect()
    }
}

impl Hierarchy {
    /// Moves `share` of `from`'s forecast (for `platforms`, or all) to the
    /// region `to` from `opens` on, then re-adds every aggregate: a region
    /// opening that takes players from another.
    pub fn move_share(
        &mut self,
        from: &str,
        to: &str,
        opens: NaiveDate,
        share: f64,
        platforms: &[String],
    ) {
        let moving: Vec<usize> = (0..self.nodes.len())
            .filter(|&i| {
                let n = &self.nodes[i];
                n.is_bottom()
                    && n.region.as_deref() == Some(from)
                    && (platforms.is_empty()
                        || n.platform.as_ref().is_some_and(|p| platforms.contains(p)))
            })
            .collect();
        for i in moving {
            let platform = self.nodes[i].platform.clone();
            let taken: Vec<Point> = self.nodes[i]
                .forecast
                .points
                .iter()
                .map(|p| {
                    let f = if p.date >= opens { share } else { 0.0 };
                    scaled(p, f)
                })
                .collect();
            for p in self.nodes[i].forecast.points.iter_mut() {
                if p.date >= opens {
                    *p = scaled(p, 1.0 - share);
                }
            }
            match self
                .nodes
                .iter_mut()
                .find(|n| n.platform == platform && n.region.as_deref() == Some(to))
            {
                Some(target) => {
                    for (p, t) in target.forecast.points.iter_mut().zip(&taken) {
                        p.mean += t.mean;
                        p.lower80 += t.lower80;
                        p.upper80 += t.upper80;
                        p.lower95 += t.lower95;
                        p.upper95 += t.upper95;
                    }
                }
                None => self.nodes.push(NodeForecast {
                    platform,
                    region: Some(to.to_string()),
                    history: Vec::new(),
                    base_mean: vec![0.0; taken.len()],
                    forecast: SeriesForecast::plain(taken),
                    problem: Some(format!("a new region: {:.0} % of {from}", share * 100.0)),
                }),
            }
        }
        if self.find(None, Some(to)).is_none() {
            let template = self.nodes[0].forecast.points.clone();
            self.nodes.push(NodeForecast {
                platform: None,
                region: Some(to.to_string()),
                history: Vec::new(),
                base_mean: vec![0.0; template.len()],
                forecast: SeriesForecast::plain(template.iter().map(|p| scaled(p, 0.0)).collect()),
                problem: Some(format!("a new region: {:.0} % of {from}", share * 100.0)),
            });
        }
        self.refresh_aggregates();
    }

    /// Sets every aggregate's mean to the sum of its parts, its interval
    /// scaled along (or, for a series with no mean before, the sum of the
    /// parts' bounds).
    fn refresh_aggregates(&mut self) {
        let bottoms: Vec<NodeForecast> = self
            .nodes
            .iter()
            .filter(|n| n.is_bottom())
            .cloned()
            .collect();
        for node in self.nodes.iter_mut().filter(|n| !n.is_bottom()) {
            let parts: Vec<&NodeForecast> = bottoms
                .iter()
                .filter(|b| {
                    node.platform
                        .as_ref()
                        .is_none_or(|p| b.platform.as_ref() == Some(p))
                        && node
                            .region
                            .as_ref()
                            .is_none_or(|r| b.region.as_ref() == Some(r))
                })
                .collect();
            for (t, p) in node.forecast.points.iter_mut().enumerate() {
                let sum = |f: fn(&Point) -> f64| -> f64 {
                    parts
                        .iter()
                        .filter_map(|b| b.forecast.points.get(t))
                        .map(f)
                        .sum()
                };
                let mean = sum(|x| x.mean);
                *p = if p.mean > 1e-9 {
                    rescale(p, mean)
                } else {
                    Point {
                        date: p.date,
                        mean,
                        lower80: sum(|x| x.lower80),
                        upper80: sum(|x| x.upper80),
                        lower95: sum(|x| x.lower95),
                        upper95: sum(|x| x.upper95),
                    }
                };
            }
        }
    }
}

fn scaled(p: &Point, f: f64) -> Point {
    Point {
        date: p.date,
        mean: p.mean * f,
        lower80: p.lower80 * f,
        upper80: p.upper80 * f,
        lower95: p.lower95 * f,
        upper95: p.upper95 * f,
    }
}

/// The bottom series on one calendar: each from its last gap of over four
/// weeks to the last day of any series, missing days as zero.
fn aligned(bottom: &BottomSeries) -> (BottomSeries, NaiveDate) {
    let last = bottom
        .values()
        .filter_map(|h| h.last().map(|p| p.0))
        .max()
        .unwrap_or(NaiveDate::MIN);
    let mut out = BTreeMap::new();
    for (key, history) in bottom {
        // Each series' model drops a regime shift of its own; the sums keep
        // every part's history.
        let recent = after_last_gap(history);
        let Some(first) = recent.first().map(|p| p.0) else {
            continue;
        };
        // A part that stopped more than four weeks ago is over: no forecast.
        if (last - recent[recent.len() - 1].0).num_days() > super::MAX_GAP_DAYS {
            continue;
        }
        let by_day: BTreeMap<NaiveDate, f64> = recent.iter().cloned().collect();
        let filled = first
            .iter_days()
            .take_while(|d| *d <= last)
            .map(|d| (d, by_day.get(&d).copied().unwrap_or(0.0)))
            .collect();
        out.insert(key.clone(), filled);
    }
    (out, last)
}

fn sum_series(parts: &[&Vec<(NaiveDate, f64)>]) -> Vec<(NaiveDate, f64)> {
    let mut sums: BTreeMap<NaiveDate, f64> = BTreeMap::new();
    for part in parts {
        for (d, v) in part.iter() {
            *sums.entry(*d).or_insert(0.0) += v;
        }
    }
    sums.into_iter().collect()
}

struct Base {
    forecast: SeriesForecast,
    problem: Option<String>,
}

/// A flat forecast at the recent mean, for a part too short to model.
fn flat(history: &[(NaiveDate, f64)], last: NaiveDate, horizon: i64) -> SeriesForecast {
    let recent: Vec<f64> = history.iter().rev().take(7).map(|p| p.1).collect();
    let mean = recent.iter().sum::<f64>() / recent.len().max(1) as f64;
    SeriesForecast::plain(
        (1..=horizon)
            .map(|h| Point {
                date: last + chrono::Duration::days(h),
                mean,
                lower80: mean * 0.5,
                upper80: mean * 1.5,
                lower95: 0.0,
                upper95: mean * 2.0,
            })
            .collect(),
    )
}

fn base_forecast(
    history: &[(NaiveDate, f64)],
    events: &[CalendarEvent],
    last: NaiveDate,
    horizon: i64,
    options: &ModelOptions,
) -> Base {
    match forecast(history, events, horizon, options) {
        Ok(f) => Base {
            forecast: f,
            problem: None,
        },
        Err(e) => Base {
            forecast: flat(history, last, horizon),
            problem: Some(format!("{e}; its recent mean is used")),
        },
    }
}

/// Runs `work` over `items` on every core.
fn parallel_map<T: Sync, R: Send>(items: &[T], work: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .clamp(1, 8);
    let chunk = items.len().div_ceil(threads).max(1);
    std::thread::scope(|scope| {
        let handles: Vec<_> = items
            .chunks(chunk)
            .map(|c| scope.spawn(|| c.iter().map(&work).collect::<Vec<R>>()))
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_default())
            .collect()
    })
}

/// Forecasts every series of the metric `horizon` days past the last day
/// of data, reconciled. Fails only when the total cannot be forecast.
pub fn forecast_hierarchy(
    metric: Metric,
    bottom: &BottomSeries,
    unit: &str,
    events: &[CalendarEvent],
    horizon: i64,
    options: &ModelOptions,
) -> Result<Hierarchy, ForecastError> {
    let (parts, last) = aligned(bottom);
    if parts.is_empty() {
        return Err(ForecastError::TooShort(0));
    }
    let keys: Vec<(String, String)> = parts.keys().cloned().collect();
    let platforms: BTreeSet<String> = keys.iter().map(|k| k.0.clone()).collect();
    let regions: BTreeSet<String> = keys.iter().map(|k| k.1.clone()).collect();

    // Nodes: total, platforms, regions, then the parts; each with the
    // indices of the parts it adds up.
    let mut nodes: Vec<(Option<String>, Option<String>, Vec<usize>)> =
        vec![(None, None, (0..keys.len()).collect())];
    for p in &platforms {
        let idx = (0..keys.len()).filter(|&i| &keys[i].0 == p).collect();
        nodes.push((Some(p.clone()), None, idx));
    }
    for r in &regions {
        let idx = (0..keys.len()).filter(|&i| &keys[i].1 == r).collect();
        nodes.push((None, Some(r.clone()), idx));
    }
    for (i, (p, r)) in keys.iter().enumerate() {
        nodes.push((Some(p.clone()), Some(r.clone()), vec![i]));
    }
    let histories: Vec<Vec<(NaiveDate, f64)>> = nodes
        .iter()
        .map(|(_, _, idx)| {
            let members: Vec<&Vec<(NaiveDate, f64)>> =
                idx.iter().map(|&i| &parts[&keys[i]]).collect();
            sum_series(&members)
        })
        .collect();
    let work: Vec<(usize, Vec<CalendarEvent>)> = nodes
        .iter()
        .enumerate()
        .map(|(i, (p, r, _))| {
            let req = SeriesRequest {
                metric,
                platform: p.clone(),
                region: r.clone(),
            };
            (i, events_for(events, &req))
        })
        .collect();
    let bases: Vec<Base> = parallel_map(&work, |(i, ev)| {
        base_forecast(&histories[*i], ev, last, horizon, options)
    });
    if let Some(problem) = &bases[0].problem {
        if bases[0].forecast.backtest.is_none() && histories[0].len() < 28 {
            return Err(ForecastError::TooShort(histories[0].len()));
        }
        tracing::warn!(%problem, "total series");
    }

    if bases.len() != nodes.len() {
        return Err(ForecastError::Singular);
    }
    // Weights: 1 / (relative error × level)², with the error floored at
    // 1e-4 of the largest level, scaled so the largest weight is 1
    // (the solution does not change; the arithmetic stays well inside
    // floating point for any currency or player count).
    let levels: Vec<f64> = histories
        .iter()
        .map(|h| {
            let recent: Vec<f64> = h.iter().rev().take(28).map(|p| p.1).collect();
            recent.iter().sum::<f64>() / recent.len().max(1) as f64
        })
        .collect();
    let floor = 1e-4 * levels.iter().cloned().fold(0.0, f64::max).max(1e-9);
    let raw: Vec<f64> = bases
        .iter()
        .zip(&levels)
        .map(|(b, level)| {
            let relative = match (&b.problem, &b.forecast.backtest) {
                (None, Some(a)) if a.wape.is_finite() => a.wape.max(0.02),
                (None, _) => 0.3,
                (Some(_), _) => 1.0,
            };
            let sigma = (relative * level).max(floor);
            1.0 / (sigma * sigma)
        })
        .collect();
    let top = raw
        .iter()
        .cloned()
        .fold(0.0, f64::max)
        .max(f64::MIN_POSITIVE);
    let weights: Vec<f64> = raw.iter().map(|w| w / top).collect();
    let n = keys.len();
    let mut normal = vec![0.0; n * n];
    for ((_, _, idx), w) in nodes.iter().zip(&weights) {
        for &j in idx {
            for &k in idx {
                normal[j * n + k] += w;
            }
        }
    }
    let days = horizon.max(0) as usize;
    // Reconciled parts, day by day.
    let mut reconciled: Vec<Vec<f64>> = Vec::with_capacity(days);
    for t in 0..days {
        let mut rhs = vec![0.0; n];
        for (((_, _, idx), w), b) in nodes.iter().zip(&weights).zip(&bases) {
            let y = b.forecast.points.get(t).map(|p| p.mean).unwrap_or(0.0);
            for &j in idx {
                rhs[j] += w * y;
            }
        }
        let mut a = normal.clone();
        let solved = super::linalg::solve_spd(&mut a, &mut rhs, n).unwrap_or_else(|| {
            // Cannot happen with every part also a node; fall back to the
            // parts' own forecasts (bottom-up).
            (0..n)
                .map(|j| {
                    bases[nodes.len() - n + j]
                        .forecast
                        .points
                        .get(t)
                        .map(|p| p.mean)
                        .unwrap_or(0.0)
                })
                .collect()
        });
        reconciled.push(solved.into_iter().map(|x| x.max(0.0)).collect());
    }

    let out = nodes
        .into_iter()
        .zip(bases)
        .zip(histories)
        .map(|(((platform, region, idx), base), history)| {
            let base_mean: Vec<f64> = base.forecast.points.iter().map(|p| p.mean).collect();
            let points = base
                .forecast
                .points
                .iter()
                .enumerate()
                .map(|(t, p)| {
                    let mean: f64 = idx.iter().map(|&j| reconciled[t][j]).sum();
                    rescale(p, mean)
                })
                .collect();
            NodeForecast {
                platform,
                region,
                history,
                forecast: base.forecast.with_points(points),
                base_mean,
                problem: base.problem,
            }
        })
        .collect();
    Ok(Hierarchy {
        unit: unit.to_string(),
        nodes: out,
    })
}

/// A point moved to a new mean, its interval scaled with it (or shifted
/// when the old mean was zero).
fn rescale(p: &Point, mean: f64) -> Point {
    let moved = |x: f64| {
        if p.mean > 1e-9 {
            x * mean / p.mean
        } else {
            (x + mean - p.mean).max(0.0)
        }
    };
    Point {
        date: p.date,
        mean,
        lower80: moved(p.lower80).min(mean),
        upper80: moved(p.upper80).max(mean),
        lower95: moved(p.lower95).min(moved(p.lower80).min(mean)),
        upper95: moved(p.upper95).max(moved(p.upper80).max(mean)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(i: i64) -> NaiveDate {
        NaiveDate::from_ymd_opt(2025, 1, 1).unwrap() + chrono::Duration::days(i)
    }

    /// Two platforms in two regions, different levels and weekly shapes;
    /// one part starts late.
    fn bottom() -> BottomSeries {
        let mut b = BottomSeries::new();
        for (p, r, level, from) in [
            ("PC", "eu-west-1", 1000.0, 0),
            ("PC", "us-east-1", 1800.0, 0),
            ("Switch", "eu-west-1", 90.0, 0),
            ("Switch", "us-east-1", 40.0, 200),
        ] {
            let h = (from..400)
                .map(|t| {
                    let weekly = 1.0 + 0.15 * ((t % 7) as f64 / 6.0);
                    let noise = 1.0 + 0.05 * (((t * 7919 + level as i64) % 17) as f64 / 17.0 - 0.5);
                    (day(t), level * (1.0 + 0.001 * t as f64) * weekly * noise)
                })
                .collect();
            b.insert((p.to_string(), r.to_string()), h);
        }
        b
    }

    #[test]
    fn every_level_is_the_sum_of_its_parts() {
        let h = forecast_hierarchy(
            Metric::Cost,
            &bottom(),
            "USD",
            &[],
            120,
            &ModelOptions::default(),
        )
        .unwrap();
        // 1 total + 2 platforms + 2 regions + 4 parts.
        assert_eq!(h.nodes.len(), 9);
        let total = h.find(None, None).unwrap();
        assert_eq!(total.forecast.points.len(), 120);
        for check in [
            (None, None),
            (Some("PC"), None),
            (Some("Switch"), None),
            (None, Some("eu-west-1")),
            (None, Some("us-east-1")),
        ] {
            let node = h.find(check.0, check.1).unwrap();
            let parts: Vec<&NodeForecast> = h
                .nodes
                .iter()
                .filter(|n| {
                    n.is_bottom()
                        && check.0.is_none_or(|p| n.platform.as_deref() == Some(p))
                        && check.1.is_none_or(|r| n.region.as_deref() == Some(r))
                })
                .collect();
            for (t, p) in node.forecast.points.iter().enumerate() {
                let sum: f64 = parts.iter().map(|n| n.forecast.points[t].mean).sum();
                assert!((p.mean - sum).abs() < 1e-6 * sum.max(1.0), "{check:?} {t}");
                assert!(p.lower95 <= p.lower80 && p.lower80 <= p.mean);
                assert!(p.mean <= p.upper80 && p.upper80 <= p.upper95);
            }
        }
        // Reconciling moves the total little: it was accurate already.
        let moved: f64 = total
            .forecast
            .points
            .iter()
            .zip(&total.base_mean)
            .map(|(p, b)| (p.mean - b).abs() / b)
            .fold(0.0, f64::max);
        assert!(moved < 0.05, "total moved by {moved}");
        // Children of the total are the platforms.
        let kids: Vec<_> = h
            .children(None, None)
            .iter()
            .map(|n| n.platform.clone().unwrap())
            .collect();
        assert_eq!(kids, vec!["PC", "Switch"]);
        assert_eq!(h.children(Some("PC"), None).len(), 2);
    }

    #[test]
    fn a_part_too_short_to_model_still_adds_up() {
        let mut b = bottom();
        b.insert(
            ("Xbox".to_string(), "eu-west-1".to_string()),
            (390..400).map(|t| (day(t), 25.0)).collect(),
        );
        let h = forecast_hierarchy(
            Metric::Ccu,
            &b,
            "players",
            &[],
            30,
            &ModelOptions::default(),
        )
        .unwrap();
        let xbox = h.find(Some("Xbox"), Some("eu-west-1")).unwrap();
        assert!(xbox.problem.as_deref().unwrap().contains("at least 28"));
        assert!(xbox.forecast.points.iter().all(|p| p.mean > 0.0));
        let total = h.find(None, None).unwrap();
        let bottom_sum: f64 = h
            .nodes
            .iter()
            .filter(|n| n.is_bottom())
            .map(|n| n.forecast.points[0].mean)
            .sum();
        assert!((total.forecast.points[0].mean - bottom_sum).abs() < 1e-6 * bottom_sum);
    }

    #[test]
    fn a_new_region_takes_its_share_and_the_totals_stay() {
        let mut h = forecast_hierarchy(
            Metric::Ccu,
            &bottom(),
            "players",
            &[],
            60,
            &ModelOptions::default(),
        )
        .unwrap();
        let before_total = h.find(None, None).unwrap().forecast.points.clone();
        let before_eu = h
            .find(None, Some("eu-west-1"))
            .unwrap()
            .forecast
            .points
            .clone();
        let opens = before_total[30].date;
        h.move_share("eu-west-1", "me-central-1", opens, 0.25, &[]);
        let me = h.find(None, Some("me-central-1")).unwrap();
        let eu = h.find(None, Some("eu-west-1")).unwrap();
        let total = h.find(None, None).unwrap();
        for t in 0..60 {
            assert!(
                (total.forecast.points[t].mean - before_total[t].mean).abs()
                    < 1e-6 * before_total[t].mean
            );
            let expected = if t >= 30 {
                0.25 * before_eu[t].mean
            } else {
                0.0
            };
            assert!(
                (me.forecast.points[t].mean - expected).abs() < 1e-6 * before_eu[t].mean,
                "{t}"
            );
            assert!(
                (eu.forecast.points[t].mean + me.forecast.points[t].mean - before_eu[t].mean).abs()
                    < 1e-6 * before_eu[t].mean
            );
        }
        assert!(h.find(Some("PC"), Some("me-central-1")).is_some());
    }
}

//! Sample paths from a forecast: its quantiles held through the term, shaped by the hour of day.

use super::*;

/// The quantile `q` of a forecast day, reading the 80 % interval as a
/// normal one (on each side of the mean).
pub fn point_quantile(p: &Point, q: f64) -> f64 {
    // z of q for the normal, by a rational approximation good to 1e-3.
    let z = normal_quantile(q);
    let z80 = 1.281_551_565_5;
    let v = if z >= 0.0 {
        p.mean + (p.upper80 - p.mean) * z / z80
    } else {
        p.mean + (p.mean - p.lower80) * z / z80
    };
    v.max(0.0)
}

/// Inverse of the standard normal CDF (Acklam's approximation).
pub fn normal_quantile(q: f64) -> f64 {
    let q = q.clamp(1e-9, 1.0 - 1e-9);
    let a = [
        -3.969_683_028_665_376e1,
        2.209_460_984_245_205e2,
        -2.759_285_104_469_687e2,
        1.383_577_518_672_69e2,
        -3.066_479_806_614_716e1,
        2.506_628_277_459_239,
    ];
    let b = [
        -5.447_609_879_822_406e1,
        1.615_858_368_580_409e2,
        -1.556_989_798_598_866e2,
        6.680_131_188_771_972e1,
        -1.328_068_155_288_572e1,
    ];
    let c = [
        -7.784_894_002_430_293e-3,
        -3.223_964_580_411_365e-1,
        -2.400_758_277_161_838,
        -2.549_732_539_343_734,
        4.374_664_141_464_968,
        2.938_163_982_698_783,
    ];
    let d = [
        7.784_695_709_041_462e-3,
        3.224_671_290_700_398e-1,
        2.445_134_137_142_996,
        3.754_408_661_907_416,
    ];
    let low = 0.02425;
    if q < low {
        let r = (-2.0 * q.ln()).sqrt();
        (((((c[0] * r + c[1]) * r + c[2]) * r + c[3]) * r + c[4]) * r + c[5])
            / ((((d[0] * r + d[1]) * r + d[2]) * r + d[3]) * r + 1.0)
    } else if q > 1.0 - low {
        -normal_quantile(1.0 - q)
    } else {
        let r = q - 0.5;
        let s = r * r;
        (((((a[0] * s + a[1]) * s + a[2]) * s + a[3]) * s + a[4]) * s + a[5]) * r
            / (((((b[0] * s + b[1]) * s + b[2]) * s + b[3]) * s + b[4]) * s + 1.0)
    }
}

/// Sample paths (per hour) from a daily forecast of daily spend.
pub fn paths_from(points: &[Point]) -> Vec<Vec<f64>> {
    PATH_QUANTILES
        .iter()
        .map(|&q| points.iter().map(|p| point_quantile(p, q) / 24.0).collect())
        .collect()
}

/// Day-level paths spread over the hours of each day by a within-day
/// profile (24 factors averaging 1).
pub fn with_profile(paths: &[Vec<f64>], profile: &[f64]) -> Vec<Vec<f64>> {
    paths
        .iter()
        .map(|p| {
            p.iter()
                .flat_map(|v| profile.iter().map(move |f| v * f))
                .collect()
        })
        .collect()
}

/// `days` days of a path, the forecast repeating after its end.
pub(super) fn extend(path: &[f64], days: usize) -> Vec<f64> {
    if path.is_empty() {
        return vec![0.0; days];
    }
    (0..days).map(|i| path[i % path.len()]).collect()
}

/// Forecasts a scope's daily spend for `FORECAST_DAYS`.
pub fn forecast_scope(
    kind: Kind,
    scope: Scope,
    main_type: Option<String>,
    history: Daily,
    events: &[CalendarEvent],
    profile: Option<&[f64]>,
) -> ScopeUsage {
    let applicable: Vec<CalendarEvent> = events
        .iter()
        .filter(|e| {
            scope.region == "all" || e.regions.is_empty() || e.regions.contains(&scope.region)
        })
        .cloned()
        .collect();
    let (forecast, problem, trusted) = match crate::forecast::forecast(
        &history,
        &applicable,
        FORECAST_DAYS,
        &ModelOptions::default(),
    ) {
        Ok(f) => {
            let trusted = crate::recommend::commitment::forecast_trusted(f.backtest.as_ref());
            (f.points, None, trusted)
        }
        Err(e) => (Vec::new(), Some(e.to_string()), false),
    };
    // The last 30 days, spread over the hours of each day like the paths.
    let recent_days = crate::recommend::commitment::recent_hourly(&history);
    let recent = match profile {
        Some(f) if f.len() == 24 => with_profile(&[recent_days], f).concat(),
        _ => recent_days,
    };
    let daily = paths_from(&forecast);
    let (paths, steps_per_day) = match profile {
        Some(f) if f.len() == 24 => (with_profile(&daily, f), 24),
        _ => (daily, 1),
    };
    ScopeUsage {
        kind,
        scope,
        main_type,
        history,
        forecast,
        paths,
        steps_per_day,
        problem,
        recent,
        trusted,
        rightsized: 0.0,
    }
}

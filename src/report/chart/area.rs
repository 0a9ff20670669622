//! Stacked areas: cost over time by series.

use super::*;

/// Stacked areas of the series over time (negative values drawn at zero;
/// credits show in the tables).
pub fn stacked_area(ts: &TimeSeries, y_label: &str, currency: &str, size: Size) -> Chart {
    let n = ts.periods.len();
    let legend: Vec<LegendItem> = ts
        .series
        .iter()
        .enumerate()
        .map(|(i, s)| LegendItem {
            label: dims::service_label(&s.key).to_string(),
            colour: hex(series_colour(&s.key, i)),
        })
        .collect();
    let description = describe(ts, currency);
    if n == 0 || ts.series.is_empty() {
        return Chart {
            svg: empty_svg("No cost data in this range"),
            legend,
            description,
        };
    }
    // Cumulative tops per layer, bottom layer first.
    let mut tops: Vec<Vec<f64>> = Vec::with_capacity(ts.series.len());
    let mut running = vec![0.0_f64; n];
    for s in &ts.series {
        for (r, v) in running.iter_mut().zip(&s.values) {
            *r += v.as_units_f64().max(0.0);
        }
        tops.push(running.clone());
    }
    let y_max = running.iter().cloned().fold(0.0, f64::max).max(1.0) * 1.08;
    let long_range = (ts.periods[n - 1] - ts.periods[0]).num_days() > 120;
    let periods = &ts.periods;
    let granularity = ts.granularity;
    let x_label = |x: &f64| {
        let i = x.round().max(0.0) as usize;
        periods
            .get(i)
            .map(|d| period_label(granularity, *d, long_range))
            .unwrap_or_default()
    };
    let axes = Axes {
        x_max: if n > 1 { (n - 1) as f64 } else { 1.0 },
        y_max,
        x_labels: n.clamp(2, 9),
        x_label: &x_label,
        x_mesh: true,
        y_label,
        currency,
    };
    let svg = draw_svg(size, &axes, |chart| {
        for (i, s) in ts.series.iter().enumerate().rev() {
            let (r, g, b) = series_colour(&s.key, i);
            let colour = RGBColor(r, g, b);
            let points: Vec<(f64, f64)> = tops[i]
                .iter()
                .enumerate()
                .map(|(x, y)| (x as f64, *y))
                .collect();
            chart
                .draw_series(
                    AreaSeries::new(points, 0.0, colour.mix(0.9))
                        .border_style(ShapeStyle::from(&WHITE).stroke_width(1)),
                )
                .map_err(|e| e.to_string())?;
        }
        Ok(())
    });
    Chart::new(svg, legend, description)
}

/// A sentence for screen readers: range, total and the largest series.
pub(super) fn describe(ts: &TimeSeries, currency: &str) -> String {
    let (Some(first), Some(last)) = (ts.periods.first(), ts.periods.last()) else {
        return "No data.".to_string();
    };
    let mut totals: Vec<(String, Micros)> = ts
        .series
        .iter()
        .map(|s| {
            (
                dims::service_label(&s.key).to_string(),
                s.values.iter().sum(),
            )
        })
        .collect();
    totals.sort_by_key(|t| std::cmp::Reverse(t.1));
    let top: Vec<String> = totals
        .iter()
        .take(3)
        .map(|(k, v)| format!("{k} {}", v.display(currency)))
        .collect();
    format!(
        "Cost per {} from {first} to {last}, stacked by series; largest: {}.",
        ts.granularity.as_str(),
        top.join(", ")
    )
}

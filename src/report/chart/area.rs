//! Stacked areas: cost over time by series.

use super::*;

/// Stacked areas of the series over time (negative values drawn at zero;
/// credits show in the tables).
pub fn stacked_area(ts: &TimeSeries, y_label: &str, currency: &str, size: Size) -> Chart {
    stacked_area_marking_partial(ts, &[], y_label, currency, size)
}

/// Stacked areas, with the periods the range only partly covers (a week
/// cut by the range's first or last day) greyed over and labelled
/// "partial", so a one-day week reads as such and not as a collapse.
pub fn stacked_area_marking_partial(
    ts: &TimeSeries,
    partial: &[bool],
    y_label: &str,
    currency: &str,
    size: Size,
) -> Chart {
    let n = ts.periods.len();
    let legend: Vec<LegendItem> = ts
        .series
        .iter()
        .enumerate()
        .map(|(i, s)| {
            LegendItem::square(dims::service_label(&s.key), hex(series_colour(&s.key, i)))
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
        // Dates carry their year: fewer of them on a half-width chart.
        x_labels: if long_range && granularity != Granularity::Month {
            0
        } else {
            n.clamp(2, if size == Size::Half { 6 } else { 9 })
        },
        x_label: &x_label,
        x_mesh: true,
        y_label,
        currency,
        // Room for the last date label, centred on the plot's edge.
        right_room: 52,
        ticks: if long_range && granularity != Granularity::Month {
            period_month_ticks(periods)
        } else {
            Vec::new()
        },
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
        let x_last = if n > 1 { (n - 1) as f64 } else { 1.0 };
        for (i, _) in partial.iter().enumerate().filter(|(_, p)| **p) {
            let (x0, x1) = ((i as f64 - 0.5).max(0.0), (i as f64 + 0.5).min(x_last));
            chart
                .draw_series(std::iter::once(Rectangle::new(
                    [(x0, 0.0), (x1, y_max)],
                    WHITE.mix(0.6).filled(),
                )))
                .map_err(|e| e.to_string())?;
            let anchor = if i == 0 {
                HPos::Left
            } else if i + 1 == n {
                HPos::Right
            } else {
                HPos::Center
            };
            chart
                .draw_series(std::iter::once(Text::new(
                    "partial",
                    (i as f64, y_max * 0.96),
                    ("sans-serif", 14)
                        .into_font()
                        .color(&RGBColor(91, 102, 117))
                        .pos(Pos::new(anchor, VPos::Top)),
                )))
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

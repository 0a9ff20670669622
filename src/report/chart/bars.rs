//! Grouped bars: this period against the last, by series.

use super::*;

/// One bar per category: label, colour, values.
pub type BarSeries = (String, (u8, u8, u8), Vec<Micros>);

/// A bar group per category: one bar per series, plus an optional target
/// marker per category (a budget).
pub struct Bars<'a> {
    pub categories: &'a [String],
    pub series: Vec<BarSeries>,
    pub targets: Option<(String, Vec<Option<Micros>>)>,
}

pub fn grouped_bars(bars: &Bars<'_>, y_label: &str, currency: &str, size: Size) -> Chart {
    let mut legend: Vec<LegendItem> = bars
        .series
        .iter()
        .map(|(label, colour, _)| LegendItem::square(label.clone(), hex(*colour)))
        .collect();
    if let Some((label, _)) = &bars.targets {
        legend.push(LegendItem::line(label.clone(), "#222222".to_string()));
    }
    let description = bars
        .categories
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let values: Vec<String> = bars
                .series
                .iter()
                .map(|(l, _, v)| {
                    format!(
                        "{l} {}",
                        v.get(i).copied().unwrap_or_default().display(currency)
                    )
                })
                .collect();
            format!("{c}: {}", values.join(", "))
        })
        .collect::<Vec<_>>()
        .join("; ");
    let n = bars.categories.len();
    if n == 0 {
        return Chart {
            svg: empty_svg("No cost data"),
            legend,
            description,
        };
    }
    let mut y_max = 1.0_f64;
    for (_, _, values) in &bars.series {
        for v in values {
            y_max = y_max.max(v.as_units_f64());
        }
    }
    if let Some((_, targets)) = &bars.targets {
        for t in targets.iter().flatten() {
            y_max = y_max.max(t.as_units_f64());
        }
    }
    let k = bars.series.len().max(1) as f64;
    // Category names sit under the middle of each group.
    let x_label = |x: &f64| {
        if (x - x.floor() - 0.5).abs() < 0.01 {
            bars.categories
                .get(x.floor() as usize)
                .cloned()
                .unwrap_or_default()
        } else {
            String::new()
        }
    };
    let axes = Axes {
        x_max: n as f64,
        y_max: y_max * 1.1,
        x_labels: n * 2 + 1,
        x_label: &x_label,
        x_mesh: false,
        y_label,
        currency,
        right_room: 36,
        ticks: Vec::new(),
    };
    let svg = draw_svg(size, &axes, |chart| {
        let bar_width = 0.8 / k;
        for (si, (_, (r, g, b), values)) in bars.series.iter().enumerate() {
            let colour = RGBColor(*r, *g, *b);
            chart
                .draw_series(values.iter().enumerate().map(|(ci, v)| {
                    let x0 = ci as f64 + 0.1 + si as f64 * bar_width;
                    Rectangle::new(
                        [
                            (x0 + 0.01, 0.0),
                            (x0 + bar_width - 0.01, v.as_units_f64().max(0.0)),
                        ],
                        colour.filled(),
                    )
                }))
                .map_err(|e| e.to_string())?;
        }
        if let Some((_, targets)) = &bars.targets {
            chart
                .draw_series(targets.iter().enumerate().filter_map(|(ci, t)| {
                    t.map(|t| {
                        let y = t.as_units_f64();
                        PathElement::new(
                            vec![(ci as f64 + 0.05, y), (ci as f64 + 0.95, y)],
                            ShapeStyle::from(&RGBColor(34, 34, 34)).stroke_width(3),
                        )
                    })
                }))
                .map_err(|e| e.to_string())?;
        }
        Ok(())
    });
    Chart::new(svg, legend, description)
}

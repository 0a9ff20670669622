//! Server-side charts: plotters drawing SVG, inlined in the pages. Legends
//! are returned separately and rendered as HTML so they stay readable on a
//! projector and in print.

use chrono::NaiveDate;
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;
use serde::Serialize;

use super::overview::TimeSeries;
use crate::db::sql::Granularity;
use crate::dims;
use crate::money::{compact_amount, Micros};

/// Tableau 10, for series that are not platforms.
const PALETTE: [(u8, u8, u8); 10] = [
    (78, 121, 167),
    (242, 142, 43),
    (225, 87, 89),
    (118, 183, 178),
    (89, 161, 79),
    (237, 201, 72),
    (176, 122, 161),
    (255, 157, 167),
    (156, 117, 95),
    (186, 176, 172),
];

/// One legend entry: the series name and its colour as `#rrggbb`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LegendItem {
    pub label: String,
    pub colour: String,
}

/// An SVG chart with its legend and a text alternative.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Chart {
    pub svg: String,
    pub legend: Vec<LegendItem>,
    pub description: String,
}

fn hex((r, g, b): (u8, u8, u8)) -> String {
    format!("#{r:02x}{g:02x}{b:02x}")
}

/// The colour of a series: a platform's own colour, grey for unallocated
/// and "Other", otherwise the palette in order.
pub fn series_colour(key: &str, index: usize) -> (u8, u8, u8) {
    let first = key.split(" · ").next().unwrap_or(key);
    if first.parse::<dims::Platform>().is_ok() || first == dims::UNALLOCATED {
        dims::platform_colour(first)
    } else if key.starts_with("Other") {
        (170, 170, 170)
    } else {
        PALETTE[index % PALETTE.len()]
    }
}

fn period_label(granularity: Granularity, d: NaiveDate, long_range: bool) -> String {
    match granularity {
        Granularity::Month => d.format("%b %Y").to_string(),
        _ if long_range => d.format("%b %Y").to_string(),
        _ => d.format("%d %b").to_string(),
    }
}

/// Canvas size: full page width, or half when two charts sit side by side
/// (drawn smaller so their text stays the same size on screen).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Size {
    Wide,
    Half,
}

impl Size {
    fn pixels(self) -> (u32, u32) {
        match self {
            Size::Wide => (960, 380),
            Size::Half => (620, 360),
        }
    }
}

const WIDTH: u32 = 960;
const LABEL_FONT: (&str, u32) = ("sans-serif", 15);

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
    Chart {
        svg,
        legend,
        description,
    }
}

/// The axes every chart shares: x is an index (periods or categories), y
/// is an amount of money.
struct Axes<'a> {
    x_max: f64,
    y_max: f64,
    x_labels: usize,
    x_label: &'a dyn Fn(&f64) -> String,
    x_mesh: bool,
    y_label: &'a str,
    currency: &'a str,
}

type Frame<'a, 'b> = ChartContext<'a, SVGBackend<'b>, Cartesian2d<RangedCoordf64, RangedCoordf64>>;

/// Draws the frame and axes, then `draw` the data, into an SVG string; a
/// drawing failure is logged and becomes a message in place of the chart.
fn draw_svg(
    size: Size,
    axes: &Axes<'_>,
    draw: impl FnOnce(&mut Frame<'_, '_>) -> Result<(), String>,
) -> String {
    let mut svg = String::new();
    let outcome = (|| -> Result<(), String> {
        let root = SVGBackend::with_string(&mut svg, size.pixels()).into_drawing_area();
        root.fill(&WHITE).map_err(|e| e.to_string())?;
        let mut chart = ChartBuilder::on(&root)
            .margin(12)
            .margin_right(36)
            .x_label_area_size(36)
            .y_label_area_size(84)
            .build_cartesian_2d(0.0..axes.x_max, 0.0..axes.y_max)
            .map_err(|e| e.to_string())?;
        let y_format = |v: &f64| compact_amount(*v, axes.currency);
        let mut mesh = chart.configure_mesh();
        if !axes.x_mesh {
            mesh.disable_x_mesh();
        }
        mesh.x_labels(axes.x_labels)
            .y_labels(6)
            .x_label_formatter(axes.x_label)
            .y_label_formatter(&y_format)
            .y_desc(axes.y_label)
            .label_style(LABEL_FONT)
            .axis_desc_style(LABEL_FONT)
            .max_light_lines(1)
            .light_line_style(RGBColor(245, 245, 245))
            .bold_line_style(RGBColor(225, 225, 225))
            .draw()
            .map_err(|e| e.to_string())?;
        draw(&mut chart)?;
        root.present().map_err(|e| e.to_string())?;
        Ok(())
    })();
    match outcome {
        Ok(()) => svg,
        Err(e) => {
            tracing::warn!(error = %e, "chart drawing failed");
            empty_svg("The chart could not be drawn")
        }
    }
}

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
        .map(|(label, colour, _)| LegendItem {
            label: label.clone(),
            colour: hex(*colour),
        })
        .collect();
    if let Some((label, _)) = &bars.targets {
        legend.push(LegendItem {
            label: label.clone(),
            colour: "#222222".to_string(),
        });
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
    Chart {
        svg,
        legend,
        description,
    }
}

fn empty_svg(message: &str) -> String {
    format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {WIDTH} 120\" width=\"{WIDTH}\" height=\"120\">\
         <text x=\"20\" y=\"60\" font-family=\"sans-serif\" font-size=\"16\" fill=\"#555\">{}</text></svg>",
        escape(message)
    )
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// A sentence for screen readers: range, total and the largest series.
fn describe(ts: &TimeSeries, currency: &str) -> String {
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

/// Colour of a calendar event kind's span on forecast charts.
pub fn event_colour(kind: crate::calendar::EventKind) -> (u8, u8, u8) {
    use crate::calendar::EventKind;
    match kind {
        EventKind::Launch => (213, 94, 0),
        EventKind::Sale => (0, 158, 115),
        EventKind::Season => (86, 180, 233),
        EventKind::PlatformEvent => (204, 121, 167),
        EventKind::Maintenance => (120, 120, 120),
    }
}

/// One legend entry per kind of the events shown.
fn event_legend(shown: &[&crate::calendar::CalendarEvent]) -> Vec<LegendItem> {
    let mut kinds: Vec<crate::calendar::EventKind> = shown.iter().map(|e| e.kind).collect();
    kinds.sort();
    kinds.dedup();
    kinds
        .iter()
        .map(|k| LegendItem {
            label: k.label().to_string(),
            colour: hex(event_colour(*k)),
        })
        .collect()
}

/// Shades each event's days across the plot, in its kind's colour.
fn shade_events(
    chart: &mut Frame<'_, '_>,
    shown: &[&crate::calendar::CalendarEvent],
    x: &dyn Fn(NaiveDate) -> f64,
    (first, last): (NaiveDate, NaiveDate),
    y_max: f64,
    alpha: f64,
) -> Result<(), String> {
    for e in shown {
        let (r, g, b) = event_colour(e.kind);
        let x0 = x(e.start.max(first)) - 0.5;
        let x1 = x(e.end.min(last)) + 0.5;
        chart
            .draw_series(std::iter::once(Rectangle::new(
                [(x0, 0.0), (x1, y_max)],
                RGBColor(r, g, b).mix(alpha).filled(),
            )))
            .map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// History, forecast mean and its 80 % and 95 % bands, with the calendar's
/// events shaded on the time axis. `unit` is a currency code or empty.
pub fn forecast_chart(
    history: &[(NaiveDate, f64)],
    points: &[crate::forecast::Point],
    events: &[crate::calendar::CalendarEvent],
    y_label: &str,
    unit: &str,
) -> Chart {
    let mut legend = vec![
        LegendItem {
            label: "History".to_string(),
            colour: "#333333".to_string(),
        },
        LegendItem {
            label: "Forecast".to_string(),
            colour: hex(PALETTE[0]),
        },
        LegendItem {
            label: "80 % interval".to_string(),
            colour: "#9db8d3".to_string(),
        },
        LegendItem {
            label: "95 % interval".to_string(),
            colour: "#d5e2ee".to_string(),
        },
    ];
    let (Some(first), Some(last)) = (
        history
            .first()
            .map(|h| h.0)
            .or(points.first().map(|p| p.date)),
        points
            .last()
            .map(|p| p.date)
            .or(history.last().map(|h| h.0)),
    ) else {
        return Chart {
            svg: empty_svg("No data to forecast"),
            legend,
            description: String::new(),
        };
    };
    let x = |d: NaiveDate| (d - first).num_days() as f64;
    let x_max = x(last).max(1.0);
    let mut y_max: f64 = 1.0;
    for (_, v) in history {
        y_max = y_max.max(*v);
    }
    for p in points {
        y_max = y_max.max(p.upper95).max(p.mean);
    }
    let y_max = y_max * 1.08;
    let shown: Vec<&crate::calendar::CalendarEvent> =
        events.iter().filter(|e| e.overlaps(first, last)).collect();
    legend.extend(event_legend(&shown));
    let x_label = |v: &f64| {
        let d = first + chrono::Duration::days(v.round() as i64);
        d.format("%b %Y").to_string()
    };
    let axes = Axes {
        x_max,
        y_max,
        x_labels: 9,
        x_label: &x_label,
        x_mesh: false,
        y_label,
        currency: unit,
    };
    let svg = draw_svg(Size::Wide, &axes, |chart| {
        shade_events(chart, &shown, &x, (first, last), y_max, 0.14)?;
        let band = |lower: &dyn Fn(&crate::forecast::Point) -> f64,
                    upper: &dyn Fn(&crate::forecast::Point) -> f64| {
            let mut poly: Vec<(f64, f64)> = points.iter().map(|p| (x(p.date), upper(p))).collect();
            poly.extend(points.iter().rev().map(|p| (x(p.date), lower(p))));
            poly
        };
        if !points.is_empty() {
            chart
                .draw_series(std::iter::once(Polygon::new(
                    band(&|p| p.lower95, &|p| p.upper95),
                    RGBColor(213, 226, 238).filled(),
                )))
                .map_err(|e| e.to_string())?;
            chart
                .draw_series(std::iter::once(Polygon::new(
                    band(&|p| p.lower80, &|p| p.upper80),
                    RGBColor(157, 184, 211).filled(),
                )))
                .map_err(|e| e.to_string())?;
        }
        chart
            .draw_series(LineSeries::new(
                history.iter().map(|(d, v)| (x(*d), *v)),
                ShapeStyle::from(&RGBColor(51, 51, 51)).stroke_width(1),
            ))
            .map_err(|e| e.to_string())?;
        let (r, g, b) = PALETTE[0];
        chart
            .draw_series(LineSeries::new(
                points.iter().map(|p| (x(p.date), p.mean)),
                ShapeStyle::from(&RGBColor(r, g, b)).stroke_width(2),
            ))
            .map_err(|e| e.to_string())?;
        Ok(())
    });
    let description = format!(
        "{} days of history to {}, forecast to {}; shaded spans are calendar events: {}",
        history.len(),
        history.last().map(|h| h.0.to_string()).unwrap_or_default(),
        last,
        shown
            .iter()
            .map(|e| format!("{} ({} to {})", e.name, e.start, e.end))
            .collect::<Vec<_>>()
            .join("; ")
    );
    Chart {
        svg,
        legend,
        description,
    }
}

/// One line of a line chart.
pub struct Line {
    pub label: String,
    pub points: Vec<(NaiveDate, f64)>,
}

/// Lines over time in palette colours, with an optional dashed horizontal
/// reference (a level every line is judged against) and shaded calendar
/// events.
pub fn line_chart(
    lines: &[Line],
    reference: Option<(f64, &str)>,
    events: &[crate::calendar::CalendarEvent],
    y_label: &str,
    unit: &str,
) -> Chart {
    let mut legend: Vec<LegendItem> = lines
        .iter()
        .enumerate()
        .map(|(i, l)| LegendItem {
            label: l.label.clone(),
            colour: hex(PALETTE[i % PALETTE.len()]),
        })
        .collect();
    if let Some((_, label)) = reference {
        legend.push(LegendItem {
            label: format!("{label} (dashed)"),
            colour: "#333333".to_string(),
        });
    }
    let all = lines.iter().flat_map(|l| l.points.iter());
    let (Some(first), Some(last)) = (
        all.clone().map(|p| p.0).min(),
        all.clone().map(|p| p.0).max(),
    ) else {
        return Chart {
            svg: empty_svg("Nothing to draw"),
            legend,
            description: String::new(),
        };
    };
    let x = |d: NaiveDate| (d - first).num_days() as f64;
    let x_max = x(last).max(1.0);
    let y_max = all
        .map(|p| p.1)
        .chain(reference.map(|r| r.0))
        .fold(1.0_f64, f64::max)
        * 1.08;
    let shown: Vec<&crate::calendar::CalendarEvent> =
        events.iter().filter(|e| e.overlaps(first, last)).collect();
    legend.extend(event_legend(&shown));
    let x_label = |v: &f64| {
        let d = first + chrono::Duration::days(v.round() as i64);
        if x_max > 200.0 {
            d.format("%b %Y").to_string()
        } else {
            d.format("%d %b").to_string()
        }
    };
    let axes = Axes {
        x_max,
        y_max,
        x_labels: 9,
        x_label: &x_label,
        x_mesh: false,
        y_label,
        currency: unit,
    };
    let svg = draw_svg(Size::Wide, &axes, |chart| {
        shade_events(chart, &shown, &x, (first, last), y_max, 0.12)?;
        if let Some((level, _)) = reference {
            let dashes: Vec<(f64, f64)> = (0..=(x_max as i64 / 4))
                .map(|k| (k as f64 * 4.0, level))
                .collect();
            for pair in dashes.chunks(2) {
                if let [a, b] = pair {
                    chart
                        .draw_series(LineSeries::new(
                            [(a.0, a.1), ((a.0 + 2.5).min(b.0), b.1)],
                            ShapeStyle::from(&RGBColor(51, 51, 51)).stroke_width(2),
                        ))
                        .map_err(|e| e.to_string())?;
                }
            }
        }
        for (i, l) in lines.iter().enumerate() {
            let (r, g, b) = PALETTE[i % PALETTE.len()];
            chart
                .draw_series(LineSeries::new(
                    l.points.iter().map(|(d, v)| (x(*d), *v)),
                    ShapeStyle::from(&RGBColor(r, g, b)).stroke_width(2),
                ))
                .map_err(|e| e.to_string())?;
        }
        Ok(())
    });
    let description = format!(
        "{} from {first} to {last}: {}",
        y_label,
        lines
            .iter()
            .map(|l| {
                let peak = l.points.iter().map(|p| p.1).fold(0.0, f64::max);
                format!("{} peaks at {}", l.label, compact_amount(peak, unit))
            })
            .collect::<Vec<_>>()
            .join("; ")
    );
    Chart {
        svg,
        legend,
        description,
    }
}

/// A duration curve: hourly usage sorted from the busiest hour down, as a
/// share of the term's hours, against the level a commitment covers. Where
/// the curve crosses the level, the share of hours above it is what the
/// commitment's rate ÷ on-demand rate should be at the optimum (marked).
pub fn duration_curve(
    values_desc: &[f64],
    levels: &[(String, f64)],
    optimum_share: Option<f64>,
    y_label: &str,
    unit: &str,
) -> Chart {
    let n = values_desc.len();
    let mut legend = vec![LegendItem {
        label: "Hourly usage, busiest first".to_string(),
        colour: hex(PALETTE[0]),
    }];
    for (i, (label, _)) in levels.iter().enumerate() {
        legend.push(LegendItem {
            label: label.clone(),
            colour: hex(PALETTE[(i + 1) % PALETTE.len()]),
        });
    }
    if n == 0 {
        return Chart {
            svg: empty_svg("Nothing to draw"),
            legend,
            description: String::new(),
        };
    }
    // At most 400 points: the curve is monotone, so sampling keeps it.
    let step = n.div_ceil(400).max(1);
    let points: Vec<(f64, f64)> = (0..n)
        .step_by(step)
        .chain(std::iter::once(n - 1))
        .map(|i| (100.0 * i as f64 / (n - 1).max(1) as f64, values_desc[i]))
        .collect();
    let y_max = values_desc[0]
        .max(levels.iter().map(|l| l.1).fold(0.0, f64::max))
        .max(1.0)
        * 1.08;
    let x_label = |v: &f64| format!("{v:.0} %");
    let axes = Axes {
        x_max: 100.0,
        y_max,
        x_labels: 11,
        x_label: &x_label,
        x_mesh: true,
        y_label,
        currency: unit,
    };
    let svg = draw_svg(Size::Wide, &axes, |chart| {
        if let Some(share) = optimum_share {
            let x = 100.0 * share;
            chart
                .draw_series(LineSeries::new(
                    [(x, 0.0), (x, y_max)],
                    ShapeStyle::from(&RGBColor(51, 51, 51)).stroke_width(1),
                ))
                .map_err(|e| e.to_string())?;
        }
        let (r, g, b) = PALETTE[0];
        chart
            .draw_series(LineSeries::new(
                points.iter().copied(),
                ShapeStyle::from(&RGBColor(r, g, b)).stroke_width(2),
            ))
            .map_err(|e| e.to_string())?;
        for (i, (_, level)) in levels.iter().enumerate() {
            let (r, g, b) = PALETTE[(i + 1) % PALETTE.len()];
            chart
                .draw_series(LineSeries::new(
                    [(0.0, *level), (100.0, *level)],
                    ShapeStyle::from(&RGBColor(r, g, b)).stroke_width(2),
                ))
                .map_err(|e| e.to_string())?;
        }
        Ok(())
    });
    if optimum_share.is_some() {
        legend.push(LegendItem {
            label: "Share of hours = rate ÷ on demand (the optimum's crossing)".to_string(),
            colour: "#333333".to_string(),
        });
    }
    let description = format!(
        "{y_label}, sorted: busiest hour {}, median {}, quietest {}; {}",
        compact_amount(values_desc[0], unit),
        compact_amount(values_desc[n / 2], unit),
        compact_amount(values_desc[n - 1], unit),
        levels
            .iter()
            .map(|(l, v)| format!("{l} at {}", compact_amount(*v, unit)))
            .collect::<Vec<_>>()
            .join("; ")
    );
    Chart {
        svg,
        legend,
        description,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::overview::SeriesValues;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn draws_an_svg_with_axes_and_currency_labels() {
        let ts = TimeSeries {
            granularity: Granularity::Month,
            periods: vec![d("2026-01-01"), d("2026-02-01"), d("2026-03-01")],
            series: vec![
                SeriesValues {
                    key: "PC".into(),
                    values: vec![
                        Micros::from_units(120_000),
                        Micros::from_units(150_000),
                        Micros::from_units(90_000),
                    ],
                },
                SeriesValues {
                    key: "Xbox".into(),
                    values: vec![
                        Micros::from_units(50_000),
                        Micros::from_units(60_000),
                        Micros::from_units(70_000),
                    ],
                },
            ],
        };
        let chart = stacked_area(&ts, "Effective cost (USD)", "USD", Size::Wide);
        assert!(chart.svg.starts_with("<svg"), "{}", &chart.svg[..80]);
        assert!(chart.svg.contains("Jan 2026"));
        assert!(chart.svg.contains("$"), "currency on the axis");
        assert!(chart.svg.contains("Effective cost (USD)"));
        assert_eq!(chart.legend.len(), 2);
        assert_eq!(chart.legend[0].colour, "#e69f00");
        assert!(
            chart.description.contains("PC $360,000.00"),
            "{}",
            chart.description
        );
    }

    #[test]
    fn a_duration_curve_marks_the_level_and_the_optimum() {
        let values: Vec<f64> = (0..1000).rev().map(f64::from).collect();
        let chart = duration_curve(
            &values,
            &[("Covered".to_string(), 600.0)],
            Some(0.4),
            "Spend per hour",
            "USD",
        );
        assert!(chart.svg.starts_with("<svg"));
        assert!(chart.svg.contains("40 %"), "share axis");
        assert_eq!(chart.legend.len(), 3);
        assert!(
            chart.description.contains("busiest hour $999"),
            "{}",
            chart.description
        );
        assert!(duration_curve(&[], &[], None, "x", "USD")
            .svg
            .contains("Nothing to draw"));
    }

    #[test]
    fn empty_series_say_so() {
        let ts = TimeSeries {
            granularity: Granularity::Day,
            periods: vec![],
            series: vec![],
        };
        assert!(stacked_area(&ts, "x", "USD", Size::Half)
            .svg
            .contains("No cost data"));
    }
}

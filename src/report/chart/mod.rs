//! Server-side charts: plotters drawing SVG, inlined in the pages. Legends
//! are returned separately and rendered as HTML so they stay readable on a
//! projector and in print.
//!
//! One file per kind of chart; this file holds what they share: colours,
//! sizes, axes, event bands and empty states.

mod area;
mod bars;
mod duration;
mod forecast;
mod lines;

pub use area::*;
pub use bars::*;
pub use duration::*;
pub use forecast::*;
pub use lines::*;

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

impl Chart {
    pub fn new(svg: String, legend: Vec<LegendItem>, description: String) -> Chart {
        Chart {
            svg,
            legend,
            description,
        }
    }
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

impl<'a> Axes<'a> {
    /// Axes with days since `first` along x, labelled by date (nine
    /// labels, no vertical mesh).
    fn over_days(
        x_max: f64,
        y_max: f64,
        x_label: &'a dyn Fn(&f64) -> String,
        y_label: &'a str,
        currency: &'a str,
    ) -> Axes<'a> {
        Axes {
            x_max,
            y_max,
            x_labels: 9,
            x_label,
            x_mesh: false,
            y_label,
            currency,
        }
    }
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

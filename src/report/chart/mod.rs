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
use plotters::style::text_anchor::{HPos, Pos, VPos};
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

/// Distinct, colour-blind-safe hues for lines told apart by colour
/// (Okabe and Ito's set, then darker extras), each also labelled at its end.
const LINE_PALETTE: [(u8, u8, u8); 10] = [
    (0, 114, 178),
    (213, 94, 0),
    (0, 158, 115),
    (204, 121, 167),
    (230, 159, 0),
    (86, 180, 233),
    (0, 0, 0),
    (117, 112, 179),
    (166, 118, 29),
    (153, 153, 153),
];

/// One legend entry: the series name, its colour as `#rrggbb`, and how
/// the chart draws it (`square` for areas and bars, `line`, `dashed`,
/// `band` for pale shading), so the key looks like what it explains.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LegendItem {
    pub label: String,
    pub colour: String,
    pub mark: &'static str,
}

impl LegendItem {
    pub fn square(label: impl Into<String>, colour: String) -> LegendItem {
        LegendItem {
            label: label.into(),
            colour,
            mark: "square",
        }
    }

    pub fn line(label: impl Into<String>, colour: String) -> LegendItem {
        LegendItem {
            mark: "line",
            ..LegendItem::square(label, colour)
        }
    }

    pub fn dashed(label: impl Into<String>, colour: String) -> LegendItem {
        LegendItem {
            mark: "dashed",
            ..LegendItem::square(label, colour)
        }
    }

    pub fn band(label: impl Into<String>, colour: String) -> LegendItem {
        LegendItem {
            mark: "band",
            ..LegendItem::square(label, colour)
        }
    }
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
        _ => d.format("%-d %b %Y").to_string(),
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
    /// Pixels right of the plot, for labels at the lines' ends.
    right_room: u32,
    /// Labels at these x positions instead of evenly spaced ones (month
    /// starts, so a label sits where its month begins).
    ticks: Vec<(f64, String)>,
}

impl<'a> Axes<'a> {
    /// Axes with days since `first` along x: over more than four months,
    /// labelled at month starts ("Jan 2027", at most ten), otherwise nine
    /// dates with their year; no vertical mesh.
    fn over_days(
        first: NaiveDate,
        x_max: f64,
        y_max: f64,
        x_label: &'a dyn Fn(&f64) -> String,
        y_label: &'a str,
        currency: &'a str,
    ) -> Axes<'a> {
        let long = x_max > 120.0;
        Axes {
            x_max,
            y_max,
            x_labels: if long { 0 } else { 9 },
            x_label,
            x_mesh: false,
            y_label,
            currency,
            right_room: 36,
            ticks: if long {
                month_starts(first, x_max)
            } else {
                Vec::new()
            },
        }
    }
}

/// At most ten of `ticks`, evenly picked.
fn thin(ticks: Vec<(f64, String)>) -> Vec<(f64, String)> {
    let step = ticks.len().div_ceil(10).max(1);
    ticks.into_iter().step_by(step).collect()
}

/// The first period of each month among `periods` (x is the index), for
/// charts of weeks or days over many months.
fn period_month_ticks(periods: &[NaiveDate]) -> Vec<(f64, String)> {
    use chrono::Datelike;
    let mut out = Vec::new();
    let mut last: Option<(i32, u32)> = None;
    for (i, d) in periods.iter().enumerate() {
        let key = (d.year(), d.month());
        if last != Some(key) {
            // A period starting late in the month labels the next one.
            if i > 0 || d.day() <= 7 {
                out.push((i as f64, d.format("%b %Y").to_string()));
            }
            last = Some(key);
        }
    }
    thin(out)
}

/// Month starts between `first` and `first + x_max` days, every `step`-th
/// so that at most ten are labelled: (days from `first`, label).
fn month_starts(first: NaiveDate, x_max: f64) -> Vec<(f64, String)> {
    use chrono::Datelike;
    let mut starts = Vec::new();
    let mut m = NaiveDate::from_ymd_opt(first.year(), first.month(), 1).unwrap_or(first);
    if m < first {
        m = m.checked_add_months(chrono::Months::new(1)).unwrap_or(m);
    }
    while (m - first).num_days() as f64 <= x_max {
        starts.push(((m - first).num_days() as f64, m.format("%b %Y").to_string()));
        match m.checked_add_months(chrono::Months::new(1)) {
            Some(next) => m = next,
            None => break,
        }
    }
    thin(starts)
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
            .margin_right(axes.right_room)
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
        if !axes.ticks.is_empty() {
            for (x, label) in axes.ticks.iter().cloned() {
                chart
                    .draw_series(std::iter::once(PathElement::new(
                        vec![(x, 0.0), (x, axes.y_max)],
                        RGBColor(235, 235, 235).stroke_width(1),
                    )))
                    .map_err(|e| e.to_string())?;
                chart
                    .draw_series(std::iter::once(
                        EmptyElement::at((x, 0.0))
                            + PathElement::new(vec![(0, 0), (0, 5)], BLACK.stroke_width(1))
                            + Text::new(
                                label,
                                (0, 8),
                                LABEL_FONT
                                    .into_font()
                                    .color(&BLACK)
                                    .pos(Pos::new(HPos::Center, VPos::Top)),
                            ),
                    ))
                    .map_err(|e| e.to_string())?;
            }
        }
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
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {WIDTH} 220\" width=\"{WIDTH}\" height=\"220\">\
         <rect x=\"2\" y=\"2\" width=\"{}\" height=\"216\" rx=\"8\" fill=\"#f4f6f9\" stroke=\"#d9dee5\" stroke-width=\"2\" stroke-dasharray=\"8 6\"/>\
         <text x=\"{}\" y=\"120\" text-anchor=\"middle\" font-family=\"sans-serif\" font-size=\"30\" fill=\"#5b6675\">{}</text></svg>",
        WIDTH - 4,
        WIDTH / 2,
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
        .map(|k| LegendItem::band(k.label(), hex(event_colour(*k))))
        .collect()
}

/// Headroom above the data for event names: the y axis is this much
/// taller than the data when events are shown.
pub(super) const EVENT_HEADROOM: f64 = 1.38;

/// Rows of event names at the top of the plot; later events that find no
/// free row are named in the legend and the events table only.
const EVENT_ROWS: usize = 4;

/// Shades each event's days across the plot in its kind's colour and
/// prints its name at the top of its band (names in up to three staggered
/// rows, so overlapping events stay readable on paper and on a projector).
fn shade_events(
    chart: &mut Frame<'_, '_>,
    shown: &[&crate::calendar::CalendarEvent],
    x: &dyn Fn(NaiveDate) -> f64,
    (first, last): (NaiveDate, NaiveDate),
    y_max: f64,
    alpha: f64,
    named_first_from: Option<NaiveDate>,
) -> Result<(), String> {
    let x_max = x(last).max(1.0);
    // The plot is about 830 of the 960 pixels; a label's character is
    // about 7 pixels at 13 px.
    let units_per_px = x_max / 830.0;
    let mut rows_end: Vec<Vec<(f64, f64)>> = vec![Vec::new(); EVENT_ROWS];
    let mut sorted: Vec<&&crate::calendar::CalendarEvent> = shown.iter().collect();
    sorted.sort_by_key(|e| e.start);
    for e in &sorted {
        let (r, g, b) = event_colour(e.kind);
        let x0 = x(e.start.max(first)) - 0.5;
        let x1 = x(e.end.min(last)) + 0.5;
        chart
            .draw_series(std::iter::once(Rectangle::new(
                [(x0, 0.0), (x1, y_max)],
                RGBColor(r, g, b).mix(alpha).filled(),
            )))
            .map_err(|e| e.to_string())?;
        chart
            .draw_series(std::iter::once(PathElement::new(
                vec![(x0, 0.0), (x0, y_max)],
                RGBColor(r, g, b).mix(0.6).stroke_width(1),
            )))
            .map_err(|e| e.to_string())?;
    }
    // Names go to the events ahead (from `named_first_from`) before the
    // past ones, so the launches a forecast plans for are never unnamed.
    // Then launches, sales and platform events before seasons and
    // maintenance: what moves demand most is named first.
    let weight = |k: crate::calendar::EventKind| {
        use crate::calendar::EventKind::*;
        match k {
            Launch => 0,
            Sale => 1,
            PlatformEvent => 2,
            Season => 3,
            Maintenance => 4,
        }
    };
    sorted.sort_by_key(|e| {
        (
            named_first_from.is_some_and(|d| e.end < d),
            weight(e.kind),
            e.start,
        )
    });
    for e in sorted {
        let (r, g, b) = event_colour(e.kind);
        let x0 = x(e.start.max(first)).max(0.0);
        let name: String = e.name.chars().take(36).collect();
        let width = (name.chars().count() as f64 * 7.0 + 8.0) * units_per_px;
        // A name that would run off the right edge ends there instead.
        let x0 = x0.min((x_max - width).max(0.0));
        // A free row: no earlier name overlaps this one's span.
        let Some(row) = rows_end
            .iter()
            .position(|taken| taken.iter().all(|(a, b)| x0 + width < *a || x0 > *b))
        else {
            continue;
        };
        rows_end[row].push((x0, x0 + width));
        // Dark enough to read: the kind's colour at 60 % brightness.
        let ink = RGBColor(
            (f64::from(r) * 0.6) as u8,
            (f64::from(g) * 0.6) as u8,
            (f64::from(b) * 0.6) as u8,
        );
        let y = y_max * (0.985 - 0.066 * row as f64);
        chart
            .draw_series(std::iter::once(Text::new(
                name,
                (x0 + 2.0 * units_per_px, y),
                ("sans-serif", 13).into_font().color(&ink),
            )))
            .map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// Longest name printed at a line's end (the legend has it whole).
pub(super) const LINE_LABEL_CHARS: usize = 26;

/// Names each line at its last point, in its colour, nudged apart so
/// close lines' labels do not overlap. Needs `right_room` on the axes.
/// Where a line ends, and what to call it there.
struct LineEnd {
    label: String,
    colour: (u8, u8, u8),
    x: f64,
    y: f64,
}

fn label_line_ends(chart: &mut Frame<'_, '_>, ends: &[LineEnd], y_max: f64) -> Result<(), String> {
    let mut order: Vec<&LineEnd> = ends.iter().collect();
    order.sort_by(|a, b| b.y.total_cmp(&a.y));
    // A label is about 19 px tall on a plot of about 300 px.
    let gap = y_max * 0.065;
    let (top, bottom) = (y_max * 0.98, gap * 0.5);
    // Each label as near its line's end as the others allow: push down
    // where two would overlap, then back up from the floor.
    let mut ys: Vec<f64> = order.iter().map(|e| e.y.clamp(bottom, top)).collect();
    for i in 1..ys.len() {
        ys[i] = ys[i].min(ys[i - 1] - gap);
    }
    if let Some(last) = ys.last_mut() {
        *last = last.max(bottom);
    }
    for i in (0..ys.len().saturating_sub(1)).rev() {
        ys[i] = ys[i].max(ys[i + 1] + gap);
    }
    for (end, y) in order.into_iter().zip(ys) {
        let (r, g, b) = end.colour;
        let text: String = end.label.chars().take(LINE_LABEL_CHARS).collect();
        chart
            .draw_series(std::iter::once(Text::new(
                text,
                (end.x, y),
                ("sans-serif", 15)
                    .into_font()
                    .color(&RGBColor(r, g, b))
                    .pos(Pos::new(HPos::Left, VPos::Center)),
            )))
            .map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// A date on a time axis, with its year (a plan read next spring must
/// not be mistaken for last year's): the month and year over more than
/// four months, else the day too.
fn day_label(d: NaiveDate, long_range: bool) -> String {
    if long_range {
        d.format("%b %Y").to_string()
    } else {
        d.format("%-d %b %Y").to_string()
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

//! Lines over time, with a reference line and events shaded.

use super::*;

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
        .map(|(i, l)| LegendItem::line(l.label.clone(), hex(LINE_PALETTE[i % LINE_PALETTE.len()])))
        .collect();
    if let Some((_, label)) = reference {
        legend.push(LegendItem::dashed(label.to_string(), "#333333".to_string()));
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
        .fold(1.0_f64, f64::max);
    let shown: Vec<&crate::calendar::CalendarEvent> =
        events.iter().filter(|e| e.overlaps(first, last)).collect();
    let y_max = y_max
        * if shown.is_empty() {
            1.08
        } else {
            EVENT_HEADROOM
        };
    legend.extend(event_legend(&shown));
    let x_label = |v: &f64| {
        let d = first + chrono::Duration::days(v.round() as i64);
        day_label(d, x_max > 120.0)
    };
    let mut axes = Axes::over_days(first, x_max, y_max, &x_label, y_label, unit);
    // Room right of the plot for each line's name at its end.
    let longest = lines
        .iter()
        .map(|l| l.label.chars().count().min(LINE_LABEL_CHARS))
        .max()
        .unwrap_or(0);
    axes.right_room = 36.max(16 + longest as u32 * 17 / 2);
    let svg = draw_svg(Size::Wide, &axes, |chart| {
        shade_events(chart, &shown, &x, (first, last), y_max, 0.12, None)?;
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
        let mut ends = Vec::new();
        for (i, l) in lines.iter().enumerate() {
            let colour = LINE_PALETTE[i % LINE_PALETTE.len()];
            let (r, g, b) = colour;
            chart
                .draw_series(LineSeries::new(
                    l.points.iter().map(|(d, v)| (x(*d), *v)),
                    ShapeStyle::from(&RGBColor(r, g, b)).stroke_width(3),
                ))
                .map_err(|e| e.to_string())?;
            if let Some((d, v)) = l.points.iter().max_by_key(|p| p.0) {
                ends.push(LineEnd {
                    label: l.label.clone(),
                    colour,
                    x: x(*d) + x_max * 0.006,
                    y: *v,
                });
            }
        }
        label_line_ends(chart, &ends, y_max)
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
    Chart::new(svg, legend, description)
}

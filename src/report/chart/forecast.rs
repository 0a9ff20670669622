//! A forecast: history, the mean, its 80 % and 95 % bands, events shaded.

use super::*;

/// History, forecast mean and its 80 % and 95 % bands, with the calendar's
/// events shaded on the time axis and, where budgets are set, the budget
/// per day (each month's budget over its days) as a dark red step line.
/// `unit` is a currency code or empty.
pub fn forecast_chart(
    history: &[(NaiveDate, f64)],
    points: &[crate::forecast::Point],
    events: &[crate::calendar::CalendarEvent],
    budget_per_day: &[(NaiveDate, f64)],
    y_label: &str,
    unit: &str,
) -> Chart {
    let mut legend = vec![
        LegendItem::line("History", "#333333".to_string()),
        LegendItem::line("Forecast", hex(PALETTE[0])),
        LegendItem::square("80 % interval", "#9db8d3".to_string()),
        LegendItem::square("95 % interval", "#d5e2ee".to_string()),
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
    for (_, v) in budget_per_day {
        y_max = y_max.max(*v);
    }
    let shown_any = events.iter().any(|e| e.overlaps(first, last));
    let y_max = y_max * if shown_any { EVENT_HEADROOM } else { 1.08 };
    if !budget_per_day.is_empty() {
        legend.push(LegendItem::line("Budget per day", "#b3261e".to_string()));
    }
    let shown: Vec<&crate::calendar::CalendarEvent> =
        events.iter().filter(|e| e.overlaps(first, last)).collect();
    legend.extend(event_legend(&shown));
    let x_label = |v: &f64| {
        let d = first + chrono::Duration::days(v.round() as i64);
        day_label(d, x_max > 120.0)
    };
    let axes = Axes::over_days(first, x_max, y_max, &x_label, y_label, unit);
    let svg = draw_svg(Size::Wide, &axes, |chart| {
        shade_events(
            chart,
            &shown,
            &x,
            (first, last),
            y_max,
            0.14,
            points.first().map(|p| p.date),
        )?;
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
        // The budget: a step per month, a thick dark red line over the bands.
        let budget_style = ShapeStyle::from(&RGBColor(179, 38, 30)).stroke_width(3);
        let mut steps: Vec<Vec<(f64, f64)>> = Vec::new();
        for (d, v) in budget_per_day {
            match steps.last_mut() {
                Some(s)
                    if s.last()
                        .is_some_and(|(x0, y0)| (*y0 - v).abs() < 1e-9 && x(*d) - *x0 <= 1.0) =>
                {
                    s.push((x(*d) + 1.0, *v));
                }
                _ => steps.push(vec![(x(*d), *v), (x(*d) + 1.0, *v)]),
            }
        }
        chart
            .draw_series(steps.into_iter().map(|s| PathElement::new(s, budget_style)))
            .map_err(|e| e.to_string())?;
        Ok(())
    });
    let description = format!(
        "{} days of history to {}, forecast to {}{}; shaded spans are calendar events: {}",
        history.len(),
        history.last().map(|h| h.0.to_string()).unwrap_or_default(),
        last,
        if budget_per_day.is_empty() {
            ""
        } else {
            "; the dark red steps are each month's budget per day"
        },
        shown
            .iter()
            .map(|e| format!("{} ({} to {})", e.name, e.start, e.end))
            .collect::<Vec<_>>()
            .join("; ")
    );
    Chart::new(svg, legend, description)
}

//! A duration curve: the hours of a term sorted by usage, against a covered level.

use super::*;

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
    let mut legend = vec![LegendItem::line(
        "Hourly usage, busiest first",
        hex(PALETTE[0]),
    )];
    for (i, (label, _)) in levels.iter().enumerate() {
        legend.push(LegendItem::line(
            label.clone(),
            hex(PALETTE[(i + 1) % PALETTE.len()]),
        ));
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
        right_room: 36,
        ticks: Vec::new(),
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
        legend.push(LegendItem::line(
            "Share of hours = rate ÷ on demand (the optimum's crossing)",
            "#333333".to_string(),
        ));
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
    Chart::new(svg, legend, description)
}

//! The detail view's charts: a commitment's usage forecast against its coverage, the term's duration curve, an instance's utilisation against the sizes.

use super::*;

pub(super) fn commitment_chart(plan: &Plan, events: &[crate::calendar::CalendarEvent]) -> Chart {
    let u = &plan.usage;
    let tail = u.history.len().saturating_sub(120);
    let mut lines = vec![Line {
        label: "Usage, on-demand per hour (history)".to_string(),
        points: u.history[tail..]
            .iter()
            .map(|(d, v)| (*d, v / 24.0))
            .collect(),
    }];
    let day = |i: usize| plan.start + chrono::Duration::days(i as i64);
    lines.push(Line {
        label: "Forecast (mean)".to_string(),
        points: u.forecast.iter().map(|p| (p.date, p.mean / 24.0)).collect(),
    });
    // Daily averages of the paths (hourly paths are averaged per day).
    let spd = u.steps_per_day.max(1);
    let daily = |p: &Vec<f64>| -> Vec<(NaiveDate, f64)> {
        p.chunks(spd)
            .enumerate()
            .map(|(i, c)| (day(i), c.iter().sum::<f64>() / c.len().max(1) as f64))
            .collect()
    };
    if let (Some(lo), Some(hi)) = (u.paths.first(), u.paths.last()) {
        lines.push(Line {
            label: "Forecast P10".to_string(),
            points: daily(lo),
        });
        lines.push(Line {
            label: "Forecast P90".to_string(),
            points: daily(hi),
        });
    }
    // The recommended commitment covers from its purchase day (later than
    // the plan's first day when it is queued behind what is held).
    let (new_cover, bought) = plan
        .best
        .map(|i| &plan.options[i])
        .map(|o| (o.outcome.commitment / o.rate_ratio, o.starts_in_days))
        .unwrap_or((0.0, 0));
    let n = u.forecast.len();
    let held = |i: usize| plan.existing.get(i).copied().unwrap_or(0.0);
    lines.push(Line {
        label: "Covered: held".to_string(),
        points: (0..n).map(|i| (day(i), held(i))).collect(),
    });
    if new_cover > 0.0 {
        lines.push(Line {
            label: format!("Covered: held + recommended (from {})", day(bought)),
            points: (bought..n).map(|i| (day(i), held(i) + new_cover)).collect(),
        });
    }
    let y_label = format!("On-demand-equivalent spend per hour ({})", plan.currency);
    line_chart(&lines, None, events, &y_label, &plan.currency)
}

/// The recommended option's usage over its term (net of what is held),
/// all paths pooled, busiest hour first, against the level it covers.
pub(super) fn duration_chart(plan: &Plan) -> Option<Chart> {
    let o = &plan.options[plan.best?];
    let days = (o.term_years as i64 * 365) as usize;
    let spd = plan.usage.steps_per_day.max(1);
    let mut values: Vec<f64> = plan
        .usage
        .paths
        .iter()
        .flat_map(|p| {
            (0..days * spd).map(move |i| {
                let step = o.starts_in_days * spd + i;
                let u = p.get(step % p.len().max(1)).copied().unwrap_or(0.0);
                let held = plan.existing.get(step / spd).copied().unwrap_or(0.0);
                (u - held).max(0.0)
            })
        })
        .collect();
    values.sort_unstable_by(|a, b| b.total_cmp(a));
    Some(crate::report::chart::duration_curve(
        &values,
        &[(
            "Covered by the recommended commitment".to_string(),
            o.outcome.commitment / o.rate_ratio,
        )],
        Some(o.rate_ratio),
        &format!("On-demand-equivalent spend per hour ({})", plan.currency),
        &plan.currency,
    ))
}

pub(super) fn rightsizing_chart(
    review: &Rightsizing,
    rec: &Recommendation,
    events: &[crate::calendar::CalendarEvent],
) -> Option<Chart> {
    let members: Vec<&crate::recommend::fleet::ResourceDecision> = review
        .decisions
        .iter()
        .filter(|d| rec.scope.resources.contains(&d.usage.resource_id))
        .collect();
    let current = members.first()?.current.clone()?;
    let mut peak: std::collections::BTreeMap<NaiveDate, f64> = Default::default();
    for d in &members {
        for (t, p) in &d.usage.periods {
            let e = peak.entry(t.date()).or_insert(0.0);
            *e = e.max(p.cpu_max);
        }
    }
    let first = *peak.keys().next()?;
    let last = review.as_of + chrono::Duration::days(review.options.event_window_days);
    let flat = |v: f64| -> Vec<(NaiveDate, f64)> {
        first
            .iter_days()
            .take_while(|d| *d <= last)
            .map(|d| (d, v))
            .collect()
    };
    let mut lines = vec![Line {
        label: "Peak CPU per day, % of the current type".to_string(),
        points: peak.into_iter().collect(),
    }];
    let target = match &members[0].decision {
        Decision::Resize { to, .. } => Some(to.clone()),
        Decision::Held { would_be, .. } => match would_be.as_ref() {
            Decision::Resize { to, .. } => Some(to.clone()),
            _ => None,
        },
        _ => None,
    };
    if let Some(to) = target {
        lines.push(Line {
            label: format!("{} capacity, % of the current type", to.name),
            points: flat(100.0 * to.vcpu / current.vcpu),
        });
    }
    lines.push(Line {
        label: "Peak + headroom".to_string(),
        points: flat(
            crate::recommend::rightsizing::needed(
                &current,
                &members
                    .iter()
                    .flat_map(|d| d.usage.periods.iter().map(|(_, p)| p.clone()))
                    .collect::<Vec<_>>(),
                &review.options.policy,
            )
            .0 / current.vcpu
                * 100.0,
        ),
    });
    Some(line_chart(
        &lines,
        Some((100.0, "Current type")),
        events,
        "CPU, % of the current type's vCPUs",
        "%",
    ))
}

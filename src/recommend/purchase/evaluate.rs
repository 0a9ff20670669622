//! What a commitment does on the sample paths: utilisation, coverage, savings, break-even, and what is already held.

use super::*;

/// On-demand spend per hour covered by commitments already held, per day
/// from `start`, for commitments `applies` selects. A Savings Plan's
/// commitment covers commitment ÷ `ratio` of on-demand spend.
pub fn existing_cover(
    held: &[Commitment],
    applies: impl Fn(&Commitment) -> bool,
    ratio: impl Fn(&Commitment) -> f64,
    start: NaiveDate,
    days: usize,
) -> Vec<f64> {
    let mut cover = vec![0.0; days];
    for c in held.iter().filter(|c| applies(c)) {
        let r = ratio(c);
        if r <= 0.0 {
            continue;
        }
        let per_hour = Micros(c.hourly_commitment_micros).as_units_f64() / r;
        for (i, v) in cover.iter_mut().enumerate() {
            let day = start + chrono::Duration::days(i as i64);
            if day >= c.start_date && day <= c.end_date {
                *v += per_hour;
            }
        }
    }
    cover
}

/// Break-even month of a commitment on a usage path (`spd` values a
/// day): the first month by whose end the on-demand spend it covered is
/// at least what was paid.
pub fn break_even_month(
    path: &[f64],
    commitment: f64,
    ratio: f64,
    upfront_share: f64,
    spd: usize,
) -> Option<u32> {
    let spd = spd.max(1);
    let hours = 24.0 / spd as f64;
    let covered = commitment / ratio;
    let term_cost = commitment * hours * path.len() as f64;
    let mut paid = upfront_share * term_cost;
    let mut avoided = 0.0;
    let per_month = DAYS_PER_MONTH * spd as f64;
    let months = (path.len() as f64 / per_month).ceil() as u32;
    let mut step = 0usize;
    for m in 1..=months {
        let until = ((m as f64 * per_month).round() as usize).min(path.len());
        while step < until {
            avoided += path[step].max(0.0).min(covered) * hours;
            paid += (1.0 - upfront_share) * commitment * hours;
            step += 1;
        }
        if avoided >= paid - 1e-9 && commitment > 0.0 {
            return Some(m);
        }
    }
    None
}

/// Outcomes of `commitment` (per hour) on paths of `spd` values a day:
/// term totals.
pub fn outcome_on(paths: &[Vec<f64>], commitment: f64, ratio: f64, spd: usize) -> Outcome {
    let f = UsageForecast {
        paths: paths.to_vec(),
    };
    let mut o = commitment::evaluate(&f, commitment, ratio);
    // Each value stands for 24 / spd hours.
    let hours = 24.0 / spd.max(1) as f64;
    o.expected_savings *= hours;
    o.p10_savings *= hours;
    o.p90_savings *= hours;
    o
}

/// Usage net of what is held over one option's window: its paths (`spd`
/// values a day) and all their values, ascending.
pub(super) struct Window<'a> {
    pub(super) paths: &'a [Vec<f64>],
    pub(super) sorted: &'a [f64],
    pub(super) spd: usize,
    /// The commitment recent usage sustained, when the forecast is not
    /// trusted to size one (see [`ScopeUsage::trusted`]).
    pub(super) sustained: Option<f64>,
}

pub(super) fn option_outcome(
    window: Window<'_>,
    offer: Offer,
    term: i32,
    payment: Payment,
    ratio: f64,
    ri_unit: Option<f64>,
) -> OptionOutcome {
    let Window {
        paths,
        sorted,
        spd,
        sustained,
    } = window;
    let steps = paths.first().map(Vec::len).unwrap_or(0);
    let days = steps / spd.max(1);
    let months = days as f64 / DAYS_PER_MONTH;
    let sized_on_sustained = sustained.is_some();
    let mut commitment =
        sustained.unwrap_or_else(|| commitment::optimal_from_sorted(sorted, ratio));
    let mut instances = None;
    if let Some(unit) = ri_unit.filter(|u| *u > 0.0) {
        // Whole instances: the better of the two counts around the optimum
        // (never more than recent usage sustained).
        let exact = commitment / ratio / unit;
        let counts = if sized_on_sustained {
            vec![exact.floor()]
        } else {
            vec![exact.floor(), exact.ceil()]
        };
        let best = counts
            .into_iter()
            .map(|n| {
                let c = n * unit * ratio;
                (n, outcome_on(paths, c, ratio, spd).expected_savings)
            })
            .max_by(|a, b| a.1.total_cmp(&b.1))
            .map(|(n, _)| n)
            .unwrap_or(0.0);
        instances = Some(best as u32);
        commitment = best * unit * ratio;
    }
    let outcome = outcome_on(paths, commitment, ratio, spd);
    let mean_path: Vec<f64> = (0..steps)
        .map(|i| paths.iter().map(|p| p[i]).sum::<f64>() / paths.len().max(1) as f64)
        .collect();
    OptionOutcome {
        offer,
        term_years: term,
        payment,
        rate_ratio: ratio,
        instances,
        monthly_savings: outcome.expected_savings / months.max(1.0),
        p10_monthly_savings: outcome.p10_savings / months.max(1.0),
        p90_monthly_savings: outcome.p90_savings / months.max(1.0),
        break_even_month: break_even_month(
            &mean_path,
            commitment,
            ratio,
            payment.upfront_share(),
            spd,
        ),
        upfront: commitment * 24.0 * days as f64 * payment.upfront_share(),
        outcome,
        starts_in_days: 0,
        sized_on_sustained,
    }
}

/// Net paths over `days` days from day `from` (`spd` values a day): usage
/// minus what is already covered (`held`, per day from the plan's first).
pub(super) fn net_window(
    paths: &[Vec<f64>],
    held: &[f64],
    from: usize,
    days: usize,
    spd: usize,
) -> Vec<Vec<f64>> {
    let spd = spd.max(1);
    paths
        .iter()
        .map(|p| {
            extend(p, (from + days) * spd)[from * spd..]
                .iter()
                .enumerate()
                .map(|(i, u)| (u - held.get(from + i / spd).copied().unwrap_or(0.0)).max(0.0))
                .collect()
        })
        .collect()
}

/// The day the bulk of the commitments held runs out (their cover falls
/// below half of today's), if within a year: a purchase queued for that
/// day wastes nothing on the overlap.
pub fn held_expiry(held: &[f64]) -> Option<usize> {
    let today = *held.first()?;
    if today <= 0.0 {
        return None;
    }
    held.iter()
        .position(|c| *c < 0.5 * today)
        .filter(|d| *d > 0 && *d <= 365)
}

/// Rate of a held commitment relative to on demand, from the catalog's
/// typical rates for its offer, term and payment.
pub fn held_ratio(c: &Commitment, compute: &[(i32, Payment, f64)], catalog: &PriceCatalog) -> f64 {
    let payment = Payment::parse(&c.payment).unwrap_or(Payment::NoUpfront);
    match Offer::parse(&c.kind) {
        Some(Offer::ComputeSp) | None => compute
            .iter()
            .find(|(t, p, _)| *t == c.term_years && *p == payment)
            .map(|(_, _, r)| *r)
            .unwrap_or(0.72),
        Some(offer) => {
            let itype = if c.instance_type.is_empty() {
                catalog
                    .types
                    .values()
                    .find(|t| t.family == c.family)
                    .map(|t| t.instance_type.clone())
                    .unwrap_or_default()
            } else {
                c.instance_type.clone()
            };
            catalog
                .rate_ratio(&itype, &c.region, offer, c.term_years, payment)
                .unwrap_or(0.6)
        }
    }
}

//! A purchase spread over months (a ladder), each tranche no more than its month's forecast supports.

use super::*;

/// A ladder of the best option: `steps` purchases a month apart, each at
/// most its share of the lump sum, and no more than the usage from its
/// month on still supports once earlier purchases cover their part.
pub fn ladder(
    paths: &[Vec<f64>],
    ratio: f64,
    total: f64,
    steps: u32,
    term_days: usize,
    spd: usize,
) -> Vec<Tranche> {
    let spd = spd.max(1);
    let steps = steps.max(1);
    let share = total / steps as f64;
    let mut bought = 0.0;
    let mut out = Vec::new();
    for k in 0..steps {
        let from = (k as f64 * DAYS_PER_MONTH).round() as usize * spd;
        let window: Vec<Vec<f64>> = paths
            .iter()
            .map(|p| {
                extend(p, from + term_days * spd)[from..]
                    .iter()
                    .map(|u| (u - bought / ratio).max(0.0))
                    .collect()
            })
            .collect();
        let f = UsageForecast {
            paths: window.clone(),
        };
        let c = commitment::optimal_commitment(&f, ratio).min(share);
        let expected = outcome_on(&window, c, ratio, spd).expected_savings;
        bought += c;
        out.push(Tranche {
            month: k,
            commitment: c,
            expected_savings: expected,
        });
    }
    out
}

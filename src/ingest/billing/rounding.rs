//! Exact sums to micro-units that still add up to the rounded total of their group.

/// Rounds exact amounts (10^-12 units) to micro-units so that, within each
/// group, the rounded amounts add up to the group's exact total rounded
/// (largest remainder). Rounding each row on its own could move a total
/// of many rows by a cent.
pub fn round_preserving_totals(values: &[i128], groups: &[usize]) -> Vec<i64> {
    const UNIT: i128 = 1_000_000; // 1e-12 → 1e-6
    let round = |v: i128| -> i128 {
        let half = UNIT / 2;
        if v >= 0 {
            (v + half) / UNIT
        } else {
            (v - half) / UNIT
        }
    };
    let mut out: Vec<i128> = values.iter().map(|v| round(*v)).collect();
    let mut by_group: std::collections::HashMap<usize, Vec<usize>> = Default::default();
    for (i, g) in groups.iter().enumerate() {
        by_group.entry(*g).or_default().push(i);
    }
    for members in by_group.values() {
        let exact: i128 = members.iter().map(|i| values[*i]).sum();
        let target = round(exact);
        let mut diff = target - members.iter().map(|i| out[*i]).sum::<i128>();
        if diff == 0 {
            continue;
        }
        // Remainder of each row after its own rounding, in 1e-12 units.
        let mut order: Vec<(i128, usize)> = members
            .iter()
            .map(|i| (values[*i] - out[*i] * UNIT, *i))
            .collect();
        if diff > 0 {
            order.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
        } else {
            order.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.cmp(&b.1)));
        }
        for (_, i) in order.iter().cycle() {
            if diff == 0 {
                break;
            }
            let step = diff.signum();
            out[*i] += step;
            diff -= step;
        }
    }
    out.into_iter()
        .map(|v| v.clamp(i64::MIN as i128, i64::MAX as i128) as i64)
        .collect()
}

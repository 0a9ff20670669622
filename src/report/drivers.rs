//! Why a month's cost changed: per day (months differ in length) and, for
//! each platform, how much came from more or fewer player-hours (volume),
//! how much from a dearer or cheaper player-hour (unit cost), and the
//! rest (unallocated cost, platforms without player activity).
//!
//! The split is the midpoint (Shapley) decomposition of cost = hours ×
//! cost per hour: volume = Δhours × mean rate, unit cost = Δrate × mean
//! hours. The two add up to the platform's change; they are kept in whole
//! cents (unit cost takes the rounding) and only the sub-cent remainder is
//! left in "the rest", so every row ties out to its change to the cent as
//! shown and a platform with player-hours shows nothing in the rest.

use chrono::NaiveDate;
use serde::Serialize;

use super::month::MonthReview;
use super::period::Month;
use super::Change;
use crate::db::activity;
use crate::db::DbConnection;
use crate::money::Micros;
use crate::report::ReportError;

/// One platform's change, split.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Split {
    pub platform: String,
    pub previous: Micros,
    pub current: Micros,
    pub previous_hours: f64,
    pub current_hours: f64,
    /// Change from the number of player-hours.
    pub volume: Micros,
    /// Change from the cost of a player-hour.
    pub unit_cost: Micros,
    /// What neither explains (no player-hours on one side, rounding).
    pub rest: Micros,
}

impl Split {
    pub fn change(&self) -> Micros {
        self.current - self.previous
    }

    /// Player-hours' change, in percent.
    pub fn hours_percent(&self) -> Option<f64> {
        (self.previous_hours > 0.0)
            .then(|| (self.current_hours / self.previous_hours - 1.0) * 100.0)
    }

    /// Cost per player-hour's change, in percent.
    pub fn unit_cost_percent(&self) -> Option<f64> {
        if self.previous_hours <= 0.0 || self.current_hours <= 0.0 || self.previous.is_zero() {
            return None;
        }
        let before = self.previous.0 as f64 / self.previous_hours;
        let now = self.current.0 as f64 / self.current_hours;
        Some((now / before - 1.0) * 100.0)
    }
}

/// Splits one platform's change between volume, unit cost and the rest.
pub fn split(
    platform: &str,
    previous: Micros,
    current: Micros,
    previous_hours: f64,
    current_hours: f64,
) -> Split {
    let delta = current - previous;
    let (volume, unit_cost) = if previous_hours > 0.0 && current_hours > 0.0 {
        let (r0, r1) = (
            previous.0 as f64 / previous_hours,
            current.0 as f64 / current_hours,
        );
        let volume = (current_hours - previous_hours) * (r0 + r1) / 2.0;
        // Whole cents: volume rounded, unit cost what then makes up the
        // change as shown (to the cent), so the rest is under half a cent
        // and shows as zero, and the row adds up as printed.
        let volume = Micros(((volume / 10_000.0).round() as i64) * 10_000);
        let shown_change = Micros(delta.round_to_cents() * 10_000);
        (volume, shown_change - volume)
    } else {
        (Micros::ZERO, Micros::ZERO)
    };
    Split {
        platform: platform.to_string(),
        previous,
        current,
        previous_hours,
        current_hours,
        volume,
        unit_cost,
        rest: delta - volume - unit_cost,
    }
}

/// The month's change explained.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Drivers {
    pub days: i64,
    pub previous_days: i64,
    /// Effective cost per day, this month and the compared one.
    pub per_day: Micros,
    pub previous_per_day: Micros,
    pub per_day_change: Change,
    /// Per platform (the review's order), then the total of every row.
    pub platforms: Vec<Split>,
    pub total: Split,
}

fn days_between(from: NaiveDate, to: NaiveDate) -> i64 {
    (to - from).num_days() + 1
}

/// Explains a month review's change of effective cost.
pub fn month_drivers(
    conn: &mut DbConnection,
    month: Month,
    review: &MonthReview,
) -> Result<Drivers, ReportError> {
    let from = month.first_day();
    let to = review.data_through.unwrap_or_else(|| month.last_day());
    let now = activity::sum_activity(conn, from, to, &[], &[], None)?;
    let before = activity::sum_activity(
        conn,
        review.previous_from,
        review.previous_to,
        &[],
        &[],
        None,
    )?;
    let hours = |list: &[activity::ActivitySum], platform: &str| {
        list.iter()
            .filter(|a| a.platform == platform)
            .map(|a| a.player_hours)
            .sum::<f64>()
    };
    let platforms: Vec<Split> = review
        .platforms
        .iter()
        .map(|p| {
            split(
                &p.platform,
                p.previous.effective,
                p.current.effective,
                hours(&before, &p.platform),
                hours(&now, &p.platform),
            )
        })
        .collect();
    let sum = |f: fn(&Split) -> Micros| platforms.iter().map(f).sum::<Micros>();
    let total = Split {
        platform: "Total".to_string(),
        previous: sum(|s| s.previous),
        current: sum(|s| s.current),
        previous_hours: platforms.iter().map(|s| s.previous_hours).sum(),
        current_hours: platforms.iter().map(|s| s.current_hours).sum(),
        volume: sum(|s| s.volume),
        unit_cost: sum(|s| s.unit_cost),
        rest: sum(|s| s.rest),
    };
    let days = days_between(from, to).max(1);
    let previous_days = days_between(review.previous_from, review.previous_to).max(1);
    let per_day_change = Change::per_day(
        review.total.effective,
        days,
        review.previous_total.effective,
        previous_days,
    );
    let per_day = Micros(review.total.effective.0 / days);
    let previous_per_day = Micros(review.previous_total.effective.0 / previous_days);
    Ok(Drivers {
        days,
        previous_days,
        per_day,
        previous_per_day,
        per_day_change,
        platforms,
        total,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_change_splits_into_volume_and_unit_cost_that_add_up() {
        // 1,000 hours at $2 → 1,100 hours at $2.10.
        let s = split(
            "PC",
            Micros::from_units(2_000),
            Micros::from_units(2_310),
            1_000.0,
            1_100.0,
        );
        assert_eq!(s.change(), Micros::from_units(310));
        assert_eq!(s.volume + s.unit_cost + s.rest, s.change());
        // Volume: 100 more hours at the mean rate $2.05 = $205.
        assert_eq!(s.volume, Micros::from_units(205));
        // Unit cost: $0.10 more per hour over the mean 1,050 hours = $105.
        assert_eq!(s.unit_cost, Micros::from_units(105));
        assert_eq!(s.rest, Micros::ZERO);
        // Sub-cent remainders land in the rest.
        let odd = split("PC", Micros(1_000_001), Micros(1_333_337), 3.0, 7.0);
        assert_eq!(odd.volume.0 % 10_000, 0);
        assert_eq!(odd.volume + odd.unit_cost + odd.rest, odd.change());
        assert_eq!(odd.rest.round_to_cents(), 0, "no stray cent in the rest");
        assert!((s.hours_percent().unwrap() - 10.0).abs() < 1e-9);
        assert!((s.unit_cost_percent().unwrap() - 5.0).abs() < 1e-9);
    }

    #[test]
    fn without_player_hours_the_change_is_the_rest() {
        let s = split(
            "unallocated",
            Micros::from_units(500),
            Micros::from_units(450),
            0.0,
            0.0,
        );
        assert_eq!((s.volume, s.unit_cost), (Micros::ZERO, Micros::ZERO));
        assert_eq!(s.rest, Micros::from_units(-50));
    }

    #[test]
    fn a_shorter_month_reads_per_day() {
        // $31,000 over 31 days against $29,000 over 30: −6.5 % in all,
        // −3.3 % per day.
        let (days, previous_days) = (30, 31);
        let c = Change::per_day(
            Micros::from_units(29_000),
            days,
            Micros::from_units(31_000),
            previous_days,
        );
        assert_eq!(c.percent_text(), "−3.3 %");
    }
}

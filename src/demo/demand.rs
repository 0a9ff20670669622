//! Player demand of the demo game: trend, weekly and yearly seasonality,
//! platform launches and the marketing calendar's events.

use chrono::{Datelike, NaiveDate};

use super::model::{self, REGIONS};
use super::noise::Noise;
use crate::calendar::{CalendarEvent, EventKind};
use crate::dims::Platform;

/// Demand of one platform in one region on one day.
#[derive(Copy, Clone, Debug, Default, PartialEq)]
pub struct Demand {
    pub peak_players: f64,
    pub player_hours: f64,
}

pub struct DemandModel<'a> {
    noise: Noise,
    events: &'a [CalendarEvent],
    /// The uplift each event really had (its plan ± execution).
    true_uplift: Vec<f64>,
}

/// Overall growth: knots of (date, level), linear in between.
const GROWTH: [((i32, u32, u32), f64); 7] = [
    ((2024, 6, 1), 0.93),
    ((2024, 11, 1), 1.00),
    ((2025, 5, 1), 1.13),
    ((2025, 10, 1), 1.10),
    ((2026, 5, 1), 1.33),
    ((2026, 11, 30), 1.41),
    ((2027, 12, 31), 1.52),
];

pub fn growth(day: NaiveDate) -> f64 {
    let knots: Vec<(NaiveDate, f64)> = GROWTH
        .iter()
        .filter_map(|&((y, m, d), v)| NaiveDate::from_ymd_opt(y, m, d).map(|date| (date, v)))
        .collect();
    let (first, last) = (knots[0], knots[knots.len() - 1]);
    if day <= first.0 {
        return first.1;
    }
    if day >= last.0 {
        return last.1;
    }
    for w in knots.windows(2) {
        let ((d0, v0), (d1, v1)) = (w[0], w[1]);
        if day >= d0 && day <= d1 {
            let t = (day - d0).num_days() as f64 / (d1 - d0).num_days().max(1) as f64;
            return v0 + t * (v1 - v0);
        }
    }
    last.1
}

/// Winter high, autumn low, a summer-holiday bump.
pub fn yearly(day: NaiveDate) -> f64 {
    let doy = day.ordinal() as f64;
    let winter = 0.07 * (2.0 * std::f64::consts::PI * (doy - 10.0) / 365.25).cos();
    let summer = 0.06 * (-((doy - 200.0) / 25.0).powi(2)).exp();
    1.0 + winter + summer
}

/// Evenings and weekends: Friday to Sunday are the busiest days.
pub fn weekly(day: NaiveDate) -> f64 {
    [0.93, 0.91, 0.92, 0.95, 1.04, 1.15, 1.12][day.weekday().num_days_from_monday() as usize]
}

/// Fraction of a platform's eventual demand present on `day`.
pub fn availability(p: Platform, day: NaiveDate) -> f64 {
    match model::platform_launch(p) {
        Some(l) if day < l.live => l.pre_launch_level,
        _ => 1.0,
    }
}

impl<'a> DemandModel<'a> {
    pub fn new(noise: Noise, events: &'a [CalendarEvent]) -> DemandModel<'a> {
        let true_uplift = events
            .iter()
            .map(|e| {
                let planned = e.expected_uplift.unwrap_or(0.0);
                planned * (0.8 + 0.4 * noise.uniform(&format!("uplift/{}", e.name), 0))
            })
            .collect();
        DemandModel {
            noise,
            events,
            true_uplift,
        }
    }

    /// Relative effect (0.3 = +30 %) of one event on `day`.
    fn event_effect(&self, i: usize, day: NaiveDate) -> f64 {
        let e = &self.events[i];
        let u = self.true_uplift[i];
        let ramp = i64::from(e.ramp_days.unwrap_or(0));
        let before = (e.start - day).num_days();
        if before > 0 {
            return if before <= ramp {
                u * 0.5 * (ramp - before + 1) as f64 / (ramp + 1) as f64
            } else {
                0.0
            };
        }
        let since_start = (day - e.start).num_days();
        let after_end = (day - e.end).num_days();
        if after_end <= 0 {
            let dur = e.duration_days().max(1) as f64;
            return match e.kind {
                EventKind::Launch | EventKind::PlatformEvent => {
                    u * (0.45 + 0.55 * (-(since_start as f64) / (dur / 2.5).max(1.0)).exp())
                }
                _ => u,
            };
        }
        if after_end > 60 {
            return 0.0;
        }
        let j = after_end as f64;
        match e.kind {
            EventKind::Launch => u * 0.45 * (-j / 12.0).exp(),
            EventKind::PlatformEvent => u * 0.3 * (-j / 10.0).exp(),
            EventKind::Sale => u * 0.3 * (-j / 2.0).exp(),
            EventKind::Season | EventKind::Maintenance => 0.0,
        }
    }

    /// Combined multiplicative effect of every event on (platform, region, day).
    pub fn event_factor(&self, p: Platform, region: &str, day: NaiveDate) -> f64 {
        let mut factor = 1.0;
        for (i, e) in self.events.iter().enumerate() {
            if e.applies_to(p.as_str(), region) {
                factor *= 1.0 + self.event_effect(i, day);
            }
        }
        factor.max(0.3)
    }

    /// Whether a launch for `p` (in any region) is in its patch-download
    /// window: from its ramp-up to two days after it starts.
    pub fn in_patch_window(&self, p: Platform, day: NaiveDate) -> bool {
        self.events.iter().any(|e| {
            let ramp = chrono::Duration::days(i64::from(e.ramp_days.unwrap_or(0)));
            e.kind == EventKind::Launch
                && (e.platforms.is_empty() || e.platforms.iter().any(|q| q == p.as_str()))
                && day >= e.start - ramp
                && day <= e.start + chrono::Duration::days(2)
        })
    }

    pub fn demand(&self, p: Platform, region_index: usize, day: NaiveDate) -> Demand {
        let avail = availability(p, day);
        if avail <= 0.0 {
            return Demand::default();
        }
        let (region, _) = REGIONS[region_index];
        let key = format!("{}/{}", p.as_str(), region);
        let day_n = day.num_days_from_ce() as i64;
        let week_n = day_n / 7;
        let base = model::BASE_PEAK_PLAYERS
            * model::platform_share(p)
            * model::region_share(p)[region_index];
        let peak = base
            * avail
            * growth(day)
            * yearly(day)
            * weekly(day)
            * self.event_factor(p, region, day)
            * self.noise.factor(&format!("week/{key}"), week_n, 0.025)
            * self.noise.factor(&format!("day/{key}"), day_n, 0.03);
        let weekend = day.weekday().num_days_from_monday() >= 5;
        let avg_to_peak = if weekend { 0.43 } else { 0.39 };
        let hours =
            peak * 24.0 * avg_to_peak * self.noise.factor(&format!("hours/{key}"), day_n, 0.02);
        Demand {
            peak_players: peak.round(),
            player_hours: (hours * 10.0).round() / 10.0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn weekends_are_busier_than_weekdays() {
        // 2026-11-21 is a Saturday, 2026-11-17 a Tuesday.
        assert!(weekly(d(2026, 11, 21)) > weekly(d(2026, 11, 17)));
    }

    #[test]
    fn growth_interpolates_between_knots() {
        assert_eq!(growth(d(2024, 11, 1)), 1.0);
        let mid = growth(d(2025, 2, 1));
        assert!(mid > 1.0 && mid < 1.13);
        assert_eq!(growth(d(2030, 1, 1)), 1.52);
    }

    #[test]
    fn a_launch_lifts_demand_and_decays() {
        let events = crate::calendar::parse_calendar(
            "t.toml",
            "[[event]]\nname='L'\nkind='launch'\nstart=2026-03-10\nend=2026-03-23\nexpected_uplift=0.5\n",
        )
        .unwrap();
        let m = DemandModel::new(Noise::new(1), &events);
        let before = m.event_factor(Platform::Pc, "us-east-1", d(2026, 3, 1));
        let first = m.event_factor(Platform::Pc, "us-east-1", d(2026, 3, 10));
        let last = m.event_factor(Platform::Pc, "us-east-1", d(2026, 3, 23));
        let later = m.event_factor(Platform::Pc, "us-east-1", d(2026, 4, 30));
        assert_eq!(before, 1.0);
        assert!(first > 1.35, "{first}");
        assert!(last > 1.0 && last < first);
        assert!(later < 1.05);
    }

    #[test]
    fn switch_has_no_players_before_release() {
        let m = DemandModel::new(Noise::new(1), &[]);
        assert_eq!(
            m.demand(Platform::Switch, 0, d(2025, 1, 1)).peak_players,
            0.0
        );
        assert!(m.demand(Platform::Switch, 0, d(2025, 12, 1)).peak_players > 0.0);
    }
}

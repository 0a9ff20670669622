//! How often a series has a value: every day, week or month. Stored series
//! are daily; a file a user brings may be any of the three. The frequency
//! sets the seasonal period the baseline and the smoothing model use, the
//! step between forecast dates and how far apart backtest origins are.

use chrono::{Datelike, Months, NaiveDate};

#[derive(Copy, Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Frequency {
    Day,
    Week,
    Month,
}

impl Frequency {
    pub fn as_str(self) -> &'static str {
        match self {
            Frequency::Day => "day",
            Frequency::Week => "week",
            Frequency::Month => "month",
        }
    }

    /// The seasonal period in steps: a week of days, a year of weeks or
    /// of months.
    pub fn season(self) -> usize {
        match self {
            Frequency::Day => 7,
            Frequency::Week => 52,
            Frequency::Month => 12,
        }
    }

    /// Steps in a year (for yearly seasonality).
    pub fn per_year(self) -> f64 {
        match self {
            Frequency::Day => 365.25,
            Frequency::Week => 365.25 / 7.0,
            Frequency::Month => 12.0,
        }
    }

    /// The date `steps` steps after `date`.
    pub fn add(self, date: NaiveDate, steps: i64) -> NaiveDate {
        match self {
            Frequency::Day => date + chrono::Duration::days(steps),
            Frequency::Week => date + chrono::Duration::days(7 * steps),
            Frequency::Month => {
                let months = Months::new(steps.unsigned_abs() as u32);
                let moved = if steps >= 0 {
                    date.checked_add_months(months)
                } else {
                    date.checked_sub_months(months)
                };
                moved.unwrap_or(date)
            }
        }
    }

    /// Whole steps from `a` to `b` (b after a).
    pub fn steps_between(self, a: NaiveDate, b: NaiveDate) -> i64 {
        match self {
            Frequency::Day => (b - a).num_days(),
            Frequency::Week => (b - a).num_days() / 7,
            Frequency::Month => {
                (b.year() as i64 * 12 + b.month0() as i64)
                    - (a.year() as i64 * 12 + a.month0() as i64)
            }
        }
    }

    /// Steps covering `days` days (at least one).
    pub fn steps_for_days(self, days: i64) -> i64 {
        match self {
            Frequency::Day => days,
            Frequency::Week => (days + 6) / 7,
            Frequency::Month => ((days as f64 / 30.44).round() as i64).max(1),
        }
        .max(1)
    }
}

/// Why the dates of a series do not make one frequency.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum FrequencyError {
    #[error("the dates are not in order: {later} comes before {earlier} (sort the rows by date)")]
    Unsorted {
        earlier: NaiveDate,
        later: NaiveDate,
    },
    #[error("{0} appears twice")]
    Duplicate(NaiveDate),
    #[error(
        "the dates are neither daily, weekly nor monthly: most are {0} days apart (use one row per day, per week or per month)"
    )]
    Irregular(i64),
}

/// The frequency of sorted, distinct dates: the most common step between
/// neighbours (one day, seven days, or one calendar month). Gaps (missing
/// periods) are allowed.
pub fn detect(dates: &[NaiveDate]) -> Result<Frequency, FrequencyError> {
    for w in dates.windows(2) {
        if w[1] == w[0] {
            return Err(FrequencyError::Duplicate(w[0]));
        }
        if w[1] < w[0] {
            return Err(FrequencyError::Unsorted {
                earlier: w[1],
                later: w[0],
            });
        }
    }
    if dates.len() < 2 {
        return Ok(Frequency::Day);
    }
    let (mut day, mut week, mut month, mut other) = (0usize, 0usize, 0usize, Vec::new());
    for w in dates.windows(2) {
        let d = (w[1] - w[0]).num_days();
        if d == 1 {
            day += 1;
        } else if d == 7 {
            week += 1;
        } else if (28..=31).contains(&d) && Frequency::Month.steps_between(w[0], w[1]) == 1 {
            month += 1;
        } else {
            other.push(d);
        }
    }
    let best = day.max(week).max(month);
    // The common step must be most of the steps; the rest are gaps.
    if best * 2 < dates.len() - 1 {
        other.sort_unstable();
        let typical = other.get(other.len() / 2).copied().unwrap_or(0);
        return Err(FrequencyError::Irregular(typical));
    }
    Ok(if best == day {
        Frequency::Day
    } else if best == week {
        Frequency::Week
    } else {
        Frequency::Month
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn days_weeks_and_months_are_told_apart() {
        let days: Vec<NaiveDate> = (0..40)
            .map(|i| d(2025, 1, 1) + chrono::Duration::days(i))
            .collect();
        assert_eq!(detect(&days), Ok(Frequency::Day));
        let weeks: Vec<NaiveDate> = (0..40)
            .map(|i| d(2025, 1, 6) + chrono::Duration::days(7 * i))
            .collect();
        assert_eq!(detect(&weeks), Ok(Frequency::Week));
        let months: Vec<NaiveDate> = (0..40)
            .map(|i| Frequency::Month.add(d(2020, 1, 1), i))
            .collect();
        assert_eq!(detect(&months), Ok(Frequency::Month));
        // Month ends are monthly too.
        let ends: Vec<NaiveDate> = (1..40)
            .map(|i| Frequency::Month.add(d(2020, 1, 1), i) - chrono::Duration::days(1))
            .collect();
        assert_eq!(detect(&ends), Ok(Frequency::Month));
    }

    #[test]
    fn gaps_are_allowed_but_disorder_and_irregular_steps_are_said() {
        let mut days: Vec<NaiveDate> = (0..40)
            .map(|i| d(2025, 1, 1) + chrono::Duration::days(i))
            .collect();
        days.remove(10);
        assert_eq!(detect(&days), Ok(Frequency::Day));
        days.swap(3, 4);
        assert!(matches!(
            detect(&days),
            Err(FrequencyError::Unsorted { .. })
        ));
        let odd: Vec<NaiveDate> = (0..40)
            .map(|i| d(2025, 1, 1) + chrono::Duration::days(3 * i))
            .collect();
        assert_eq!(detect(&odd), Err(FrequencyError::Irregular(3)));
        let twice = vec![d(2025, 1, 1), d(2025, 1, 2), d(2025, 1, 2)];
        assert_eq!(
            detect(&twice),
            Err(FrequencyError::Duplicate(d(2025, 1, 2)))
        );
    }

    #[test]
    fn steps_move_by_the_calendar() {
        assert_eq!(Frequency::Month.add(d(2025, 1, 31), 1), d(2025, 2, 28));
        assert_eq!(
            Frequency::Month.steps_between(d(2024, 11, 1), d(2025, 2, 1)),
            3
        );
        assert_eq!(Frequency::Week.steps_for_days(90), 13);
        assert_eq!(Frequency::Month.steps_for_days(180), 6);
    }
}

//! The detector, day by day over a daily cost series.
//!
//! For each day, from what came before only:
//! - **expected** spend is the recent level (the median of the last two
//!   weeks of normal days, each divided by its weekday's factor) times the
//!   day's weekday factor (from the last eight weeks);
//! - **spread** is the robust standard deviation (1.4826 × MAD) of the log
//!   ratio of normal days to their expectation;
//! - on a **planned event** (a calendar event that applies, from its ramp
//!   to ten days after its end) the expectation adds what the event is
//!   expected to add: its `expected_uplift` when the calendar gives one,
//!   else the largest rise past events of its kind brought in this series,
//!   else it doubles (an event never seen, without an estimate, is given
//!   room rather than an alarm);
//! - a day is **flagged** when its spend is above the expectation's upper
//!   bound at the chosen level *and* the excess is at least the impact
//!   floors (money and percent);
//! - a **slow leak** is flagged when the last seven days average above the
//!   level of four to eight weeks before by more than the percent floor
//!   (and by more than their noise), which a baseline that follows recent
//!   days would never see.
//!
//! Normal days are those neither flagged, nor inside a planned event, nor
//! marked planned; a day marked "no" (a false alarm) is normal. Flagged
//! days stay out of the baseline for two weeks at most: a level that has
//! held that long is the new normal unless someone confirmed it ("yes"),
//! and the leak check then waits until the month it compares with has
//! passed.
//! Flagged days one day apart make one episode.

use chrono::{Datelike, Duration, NaiveDate};

use crate::calendar::{CalendarEvent, EventKind};

/// Days of history before the first day checked.
pub const MIN_HISTORY: usize = 28;
/// Days the weekday factors and the spread are measured over.
const WINDOW: usize = 56;
/// Normal days the level is the median of.
const LEVEL_DAYS: usize = 14;
/// Days after an event's end its effect may linger.
const AFTER_EVENT_DAYS: i64 = 10;
/// Consecutive flagged days after which a level is the new normal.
const NEW_NORMAL_DAYS: usize = 14;
/// The rise allowed on an event of a kind never seen and not estimated.
const UNKNOWN_UPLIFT: f64 = 1.0;
/// The smallest spread used (3 %): a perfectly flat series still has
/// pennies of noise.
const MIN_SPREAD: f64 = 0.03;

#[derive(Copy, Clone, Debug, PartialEq)]
pub struct DetectOptions {
    /// One-sided level of the expectation's upper bound (0.995: a normal
    /// day exceeds it once in two hundred).
    pub level: f64,
    /// A flagged day's excess over its expectation, at least (money).
    pub min_impact: f64,
    /// … and at least this share of the expectation (0.2 = 20 %).
    pub min_percent: f64,
    /// Use the calendar (false: what calendar-blind tools do).
    pub calendar: bool,
}

impl Default for DetectOptions {
    fn default() -> DetectOptions {
        DetectOptions {
            level: 0.995,
            min_impact: 0.0,
            min_percent: 0.2,
            calendar: true,
        }
    }
}

/// What someone said about an anomaly, for the days it spans.
#[derive(Copy, Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Feedback {
    /// A real anomaly: its days never become the baseline.
    Yes,
    /// A false alarm: its days are normal.
    No,
    /// Planned activity the calendar missed: not an anomaly, not normal.
    Planned,
}

impl Feedback {
    pub fn as_str(self) -> &'static str {
        match self {
            Feedback::Yes => "yes",
            Feedback::No => "no",
            Feedback::Planned => "planned",
        }
    }

    pub fn parse(text: &str) -> Option<Feedback> {
        match text.trim().to_ascii_lowercase().as_str() {
            "yes" => Some(Feedback::Yes),
            "no" => Some(Feedback::No),
            "planned" => Some(Feedback::Planned),
            _ => None,
        }
    }
}

/// One day as the detector saw it.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct DayCheck {
    pub date: NaiveDate,
    pub actual: f64,
    /// Expected spend, with a planned event's expected addition.
    pub expected: f64,
    pub upper: f64,
    /// The planned event the expectation allowed for.
    pub event: Option<String>,
    pub flagged: bool,
    /// "spike" (above the day's bound) or "leak" (a week above the level
    /// of a month before); empty when not flagged.
    pub why: &'static str,
}

/// Flagged days in a row: one anomaly.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Episode {
    pub start: NaiveDate,
    pub end: NaiveDate,
    pub actual: f64,
    pub expected: f64,
    /// Actual less expected over the flagged days.
    pub impact: f64,
    /// The day with the largest excess.
    pub peak: NaiveDate,
    /// The planned event it happened in, if any.
    pub event: Option<String>,
    /// How it was first seen: "spike" or "leak".
    pub why: &'static str,
}

fn median(v: &mut [f64]) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    v.sort_by(|a, b| a.total_cmp(b));
    let n = v.len();
    Some(if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    })
}

/// The window of days an event's effect may show in.
fn event_window(e: &CalendarEvent) -> (NaiveDate, NaiveDate) {
    let ramp = i64::from(e.ramp_days.unwrap_or(0));
    (
        e.start - Duration::days(ramp),
        e.end + Duration::days(AFTER_EVENT_DAYS),
    )
}

fn inside(day: NaiveDate, (from, to): (NaiveDate, NaiveDate)) -> bool {
    day >= from && day <= to
}

/// Detects anomalies in `series` (one value per consecutive day).
/// `events` are the calendar's events that apply to the series;
/// `feedback` covers day ranges (inclusive) of earlier anomalies.
pub fn detect(
    series: &[(NaiveDate, f64)],
    events: &[CalendarEvent],
    feedback: &[(NaiveDate, NaiveDate, Feedback)],
    opts: &DetectOptions,
) -> (Vec<DayCheck>, Vec<Episode>) {
    let n = series.len();
    let z = crate::recommend::purchase::normal_quantile(opts.level.clamp(0.5, 0.9999));
    let events: Vec<&CalendarEvent> = if opts.calendar {
        events.iter().collect()
    } else {
        Vec::new()
    };
    let said = |day: NaiveDate| {
        feedback
            .iter()
            .find(|(from, to, _)| day >= *from && day <= *to)
            .map(|f| f.2)
    };
    let in_event = |day: NaiveDate| events.iter().any(|e| inside(day, event_window(e)));
    // Per day: flagged, and how many flagged days in a row it ends.
    let mut flagged = vec![false; n];
    let mut run = vec![0usize; n];
    let mut checks = Vec::with_capacity(n.saturating_sub(MIN_HISTORY));
    // Largest rise each event brought (per event), and per kind.
    let mut event_peak: Vec<f64> = vec![0.0; events.len()];
    let mut learned: Vec<(EventKind, f64)> = Vec::new();
    let mut closed = vec![false; events.len()];
    let normal = |j: usize, flagged: &[bool], run: &[usize]| -> bool {
        let day = series[j].0;
        match said(day) {
            Some(Feedback::No) => return true,
            Some(Feedback::Yes) | Some(Feedback::Planned) => return false,
            None => {}
        }
        if in_event(day) {
            return false;
        }
        // A flagged day is out of the baseline until its run has lasted
        // NEW_NORMAL_DAYS: then the level is the new normal.
        !flagged[j] || run_length_through(j, flagged, run) >= NEW_NORMAL_DAYS
    };
    // After a level is taken as the new normal, the leak check (which
    // compares with a month before) stays quiet until that month has
    // passed, or it would flag the accepted level again.
    let mut leak_quiet_until = 0usize;
    for i in MIN_HISTORY.min(n)..n {
        let (day, actual) = series[i];
        if i > 0 && run[i - 1] == NEW_NORMAL_DAYS {
            leak_quiet_until = i + WINDOW - LEVEL_DAYS;
        }
        // Close events whose window ended: what they added is learned.
        for (k, e) in events.iter().enumerate() {
            if !closed[k] && event_window(e).1 < day {
                closed[k] = true;
                if event_window(e).0 >= series[0].0 {
                    learned.push((e.kind, event_peak[k]));
                }
            }
        }
        let from = i.saturating_sub(WINDOW);
        let clean: Vec<usize> = (from..i).filter(|&j| normal(j, &flagged, &run)).collect();
        let Some(expect) = expectation(series, &clean, day) else {
            checks.push(DayCheck {
                date: day,
                actual,
                expected: actual,
                upper: actual,
                event: None,
                flagged: false,
                why: "",
            });
            continue;
        };
        // The planned event with the largest expected addition.
        let mut allowance = 0.0;
        let mut event_name = None;
        for (k, e) in events.iter().enumerate() {
            if !inside(day, event_window(e)) {
                continue;
            }
            if expect.base > 0.0 {
                event_peak[k] = event_peak[k].max(actual / expect.base - 1.0);
            }
            let seen = learned
                .iter()
                .filter(|(kind, _)| *kind == e.kind)
                .map(|(_, u)| *u)
                .fold(f64::NAN, f64::max);
            let uplift = e
                .expected_uplift
                .or(seen.is_finite().then_some(seen))
                .unwrap_or(UNKNOWN_UPLIFT)
                .max(0.0);
            if event_name.is_none() || uplift > allowance {
                allowance = uplift;
                event_name = Some(e.name.clone());
            }
        }
        let expected = expect.base * (1.0 + allowance);
        let upper = expected * (z * expect.spread).exp();
        let excess = actual - expected;
        let floors = |excess: f64, expected: f64| {
            excess >= opts.min_impact && expected > 0.0 && excess / expected >= opts.min_percent
        };
        let mut why = "";
        if actual > upper && floors(excess, expected) {
            why = "spike";
        } else if event_name.is_none() && i >= leak_quiet_until {
            // A slow leak: the last week against the level a month before.
            if let Some((ratio, old)) = week_over_month_before(series, &clean, i, &in_event) {
                let noise = z * expect.spread / 7f64.sqrt();
                if ratio - 1.0 > opts.min_percent.max(noise) && floors(actual - old, old) {
                    why = "leak";
                }
            }
        }
        let quiet = matches!(said(day), Some(Feedback::No) | Some(Feedback::Planned));
        let flag = !why.is_empty() && !quiet;
        flagged[i] = flag;
        run[i] = if flag && i > 0 {
            run[i - 1] + 1
        } else {
            usize::from(flag)
        };
        checks.push(DayCheck {
            date: day,
            actual,
            expected,
            upper,
            event: event_name,
            flagged: flag,
            why: if flag { why } else { "" },
        });
    }
    let episodes = episodes(&checks);
    (checks, episodes)
}

fn run_length_through(j: usize, flagged: &[bool], run: &[usize]) -> usize {
    // The whole run j belongs to (it may continue after j).
    let mut end = j;
    while end + 1 < flagged.len() && flagged[end + 1] {
        end += 1;
    }
    run[end].max(run[j])
}

/// A day's expectation without events: level × weekday factor, and the
/// spread of normal days around theirs.
struct Expectation {
    base: f64,
    spread: f64,
}

fn weekday_factors(series: &[(NaiveDate, f64)], clean: &[usize]) -> [f64; 7] {
    let mut all: Vec<f64> = clean.iter().map(|&j| series[j].1).collect();
    let overall = median(&mut all).unwrap_or(0.0);
    let mut f = [1.0; 7];
    if overall <= 0.0 {
        return f;
    }
    for (w, slot) in f.iter_mut().enumerate() {
        let mut v: Vec<f64> = clean
            .iter()
            .filter(|&&j| series[j].0.weekday().num_days_from_monday() as usize == w)
            .map(|&j| series[j].1)
            .collect();
        if v.len() >= 2 {
            if let Some(m) = median(&mut v) {
                *slot = (m / overall).max(0.05);
            }
        }
    }
    f
}

fn expectation(
    series: &[(NaiveDate, f64)],
    clean: &[usize],
    day: NaiveDate,
) -> Option<Expectation> {
    if clean.len() < LEVEL_DAYS {
        return None;
    }
    let factors = weekday_factors(series, clean);
    let factor = |d: NaiveDate| factors[d.weekday().num_days_from_monday() as usize];
    let mut recent: Vec<f64> = clean[clean.len() - LEVEL_DAYS..]
        .iter()
        .map(|&j| series[j].1 / factor(series[j].0))
        .collect();
    let level = median(&mut recent)?;
    let base = level * factor(day);
    let mut logs: Vec<f64> = clean
        .iter()
        .filter(|&&j| series[j].1 > 0.0 && level > 0.0)
        .map(|&j| (series[j].1 / (level * factor(series[j].0))).ln())
        .collect();
    let centre = median(&mut logs.clone()).unwrap_or(0.0);
    let mut dev: Vec<f64> = logs.iter_mut().map(|x| (*x - centre).abs()).collect();
    let spread = (1.4826 * median(&mut dev).unwrap_or(0.0)).max(MIN_SPREAD);
    Some(Expectation { base, spread })
}

/// The last seven days (through `i`, event days left out) as a ratio of
/// the level of normal days four to eight weeks before, and what that
/// level expects of day `i`.
fn week_over_month_before(
    series: &[(NaiveDate, f64)],
    clean: &[usize],
    i: usize,
    in_event: &dyn Fn(NaiveDate) -> bool,
) -> Option<(f64, f64)> {
    let before: Vec<usize> = clean
        .iter()
        .copied()
        .filter(|&j| j + 28 <= i && j + WINDOW > i)
        .collect();
    if before.len() < LEVEL_DAYS {
        return None;
    }
    let factors = weekday_factors(series, &before);
    let factor = |d: NaiveDate| factors[d.weekday().num_days_from_monday() as usize];
    let mut old: Vec<f64> = before
        .iter()
        .map(|&j| series[j].1 / factor(series[j].0))
        .collect();
    let level = median(&mut old)?;
    if level <= 0.0 {
        return None;
    }
    let week: Vec<f64> = (i.saturating_sub(6)..=i)
        .filter(|&j| !in_event(series[j].0))
        .map(|j| series[j].1 / factor(series[j].0))
        .collect();
    if week.len() < 5 {
        return None;
    }
    Some((
        week.iter().sum::<f64>() / week.len() as f64 / level,
        level * factor(series[i].0),
    ))
}

/// Flagged days at most one day apart, as episodes.
fn episodes(checks: &[DayCheck]) -> Vec<Episode> {
    let mut out: Vec<Episode> = Vec::new();
    let mut peak_excess = 0.0;
    for c in checks.iter().filter(|c| c.flagged) {
        let excess = c.actual - c.expected;
        match out.last_mut() {
            Some(e) if (c.date - e.end).num_days() <= 2 => {
                e.end = c.date;
                e.actual += c.actual;
                e.expected += c.expected;
                e.impact += excess;
                if excess > peak_excess {
                    peak_excess = excess;
                    e.peak = c.date;
                }
                if e.event.is_none() {
                    e.event = c.event.clone();
                }
            }
            _ => {
                peak_excess = excess;
                out.push(Episode {
                    start: c.date,
                    end: c.date,
                    actual: c.actual,
                    expected: c.expected,
                    impact: excess,
                    peak: c.date,
                    event: c.event.clone(),
                    why: c.why,
                });
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(i: i64) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 1, 5).unwrap() + Duration::days(i)
    }

    /// 1,000 a day on weekdays, 1,200 at weekends, ±2 % of noise.
    fn base(n: i64) -> Vec<(NaiveDate, f64)> {
        let mut rng = crate::rng::Rng(11);
        (0..n)
            .map(|i| {
                let w = if i % 7 >= 5 { 1200.0 } else { 1000.0 };
                (day(i), w * (1.0 + 0.02 * rng.normal()))
            })
            .collect()
    }

    fn launch(start: i64, days: i64, uplift: Option<f64>) -> CalendarEvent {
        CalendarEvent {
            id: None,
            name: format!("Launch on day {start}"),
            kind: EventKind::Launch,
            start: day(start),
            end: day(start + days - 1),
            platforms: Vec::new(),
            regions: Vec::new(),
            expected_uplift: uplift,
            ramp_days: None,
            notes: String::new(),
            source: "test".into(),
        }
    }

    #[test]
    fn a_quiet_series_raises_nothing_and_a_spike_raises_one_episode() {
        let mut s = base(120);
        let (_, none) = detect(&s, &[], &[], &DetectOptions::default());
        assert!(none.is_empty(), "{none:?}");
        s[80].1 *= 2.5;
        s[81].1 *= 2.0;
        let (_, found) = detect(&s, &[], &[], &DetectOptions::default());
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!((found[0].start, found[0].end), (day(80), day(81)));
        assert!(found[0].impact > 1_500.0, "{found:?}");
        assert_eq!(found[0].why, "spike");
    }

    #[test]
    fn a_planned_launch_alarms_only_beyond_what_it_was_expected_to_add() {
        let mut s = base(150);
        // +60 % for ten days, as the calendar said.
        for (_, v) in s.iter_mut().skip(90).take(10) {
            *v *= 1.6;
        }
        let cal = [launch(90, 10, Some(0.6))];
        let (_, aware) = detect(&s, &cal, &[], &DetectOptions::default());
        assert!(aware.is_empty(), "{aware:?}");
        let blind = DetectOptions {
            calendar: false,
            ..DetectOptions::default()
        };
        let (_, seen) = detect(&s, &cal, &[], &blind);
        assert!(!seen.is_empty(), "a calendar-blind detector alarms");
        // Three times what was planned: alarms, inside the event.
        for (_, v) in s.iter_mut().skip(95).take(2) {
            *v *= 3.0;
        }
        let (_, over) = detect(&s, &cal, &[], &DetectOptions::default());
        assert_eq!(over.len(), 1, "{over:?}");
        assert_eq!(over[0].event.as_deref(), Some("Launch on day 90"));
    }

    #[test]
    fn an_event_without_an_estimate_gets_what_its_kind_added_before() {
        let mut s = base(260);
        for (_, v) in s.iter_mut().skip(60).take(7) {
            *v *= 1.8;
        }
        for (_, v) in s.iter_mut().skip(200).take(7) {
            *v *= 1.8;
        }
        let cal = [launch(60, 7, None), launch(200, 7, None)];
        let (_, found) = detect(&s, &cal, &[], &DetectOptions::default());
        assert!(found.is_empty(), "{found:?}");
    }

    #[test]
    fn a_slow_leak_is_found_and_feedback_quietens_a_false_alarm() {
        let mut s = base(160);
        // +2 % a day from day 100, reaching +60 %.
        for (i, (_, v)) in s.iter_mut().enumerate().skip(100) {
            *v *= 1.0 + (0.02 * (i - 100) as f64).min(0.6);
        }
        let (_, found) = detect(&s, &[], &[], &DetectOptions::default());
        assert!(!found.is_empty(), "the leak is found");
        let first = found[0].start;
        assert!(first >= day(100) && first <= day(125), "{found:?}");
        // Marked planned: no alarm over those days.
        let said = [(day(100), day(159), Feedback::Planned)];
        let (_, quiet) = detect(&s, &[], &said, &DetectOptions::default());
        assert!(quiet.is_empty(), "{quiet:?}");
    }

    #[test]
    fn a_level_shift_becomes_the_new_normal_unless_confirmed() {
        let mut s = base(200);
        for (_, v) in s.iter_mut().skip(100) {
            *v *= 1.5;
        }
        let (_, found) = detect(&s, &[], &[], &DetectOptions::default());
        assert_eq!(found.len(), 1, "{found:?}");
        let days = (found[0].end - found[0].start).num_days() + 1;
        assert!((7..=40).contains(&days), "{found:?}");
        let said = [(day(100), day(110), Feedback::Yes)];
        let (_, kept) = detect(&s, &[], &said, &DetectOptions::default());
        let kept_days: i64 = kept.iter().map(|e| (e.end - e.start).num_days() + 1).sum();
        assert!(kept_days > days, "confirmed days stay out of the baseline");
    }
}

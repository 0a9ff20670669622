//! The forecaster on a real series with a real event calendar: daily
//! Wikipedia page views of Peyton Manning (log scale) with the playoff and
//! Super Bowl dates (`../shared/data/`).

use chrono::NaiveDate;
use finops::calendar::{CalendarEvent, EventKind};
use finops::forecast::{accuracy, model::ModelOptions};

use crate::ingest::shared_data;

/// A daily series and its event calendar.
type Series = (Vec<(NaiveDate, f64)>, Vec<CalendarEvent>);

fn read_series() -> Option<Series> {
    let series = shared_data("wp-log-peyton-manning.csv")?;
    let events = shared_data("peyton-manning-events.csv")?;
    let mut history = Vec::new();
    let mut reader = csv::Reader::from_path(series).unwrap();
    for r in reader.records() {
        let r = r.unwrap();
        let day = NaiveDate::parse_from_str(&r[0], "%Y-%m-%d").unwrap();
        history.push((day, r[1].parse::<f64>().unwrap()));
    }
    let mut calendar = Vec::new();
    let mut reader = csv::Reader::from_path(events).unwrap();
    for r in reader.records() {
        let r = r.unwrap();
        let day = NaiveDate::parse_from_str(&r[1], "%Y-%m-%d").unwrap();
        let before: i64 = r[2].parse::<i64>().unwrap().abs();
        let after: i64 = r[3].parse().unwrap();
        calendar.push(CalendarEvent {
            id: None,
            name: format!("{} {}", &r[0], &r[1]),
            // Two kinds, learned separately.
            kind: if &r[0] == "superbowl" {
                EventKind::Launch
            } else {
                EventKind::PlatformEvent
            },
            start: day,
            end: day + chrono::Duration::days(after),
            platforms: vec![],
            regions: vec![],
            expected_uplift: None,
            ramp_days: Some(before as u32),
            notes: String::new(),
            source: "peyton-manning-events.csv".into(),
        });
    }
    Some((history, calendar))
}

#[test]
fn beats_seasonal_naive_on_a_real_event_driven_series() {
    let Some((history, events)) = read_series() else {
        return;
    };
    assert_eq!(history.len(), 2905);
    // The series is already a logarithm: model it as it is.
    let options = ModelOptions {
        log: false,
        ..ModelOptions::default()
    };
    let (acc, _) = accuracy::backtest(&history, &events, &options, 90, 5).expect("backtest");
    eprintln!("peyton manning: {acc:?}");
    assert_eq!(acc.origins, 5);
    assert!(acc.mase < acc.baseline_mase, "{acc:?}");
    assert!((0.6..=0.97).contains(&acc.coverage80), "{acc:?}");
    assert!((0.8..=1.0).contains(&acc.coverage95), "{acc:?}");
}

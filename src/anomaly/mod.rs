//! Cost anomalies: days whose spend is outside what was expected, where
//! "expected" knows the marketing calendar, so a planned launch or sale
//! alarms only when it costs more than such an event was expected to add.
//!
//! `detect` holds the detector (a pure function over a daily series, its
//! calendar and the feedback given on earlier anomalies); `run` applies it
//! to the stored costs, explains and stores what it finds.

pub mod detect;
pub mod run;

pub use detect::{detect, DayCheck, DetectOptions, Episode, Feedback};

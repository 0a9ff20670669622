//! A metric's forecast from the database: every platform × region series
//! and their sums, reconciled, with the calendar (and a scenario, if one
//! is given) applied. Pages, the API, the CLI and the capacity plan all
//! call this.

use super::hierarchy::{forecast_hierarchy, Hierarchy};
use super::model::ModelOptions;
use super::scenario::{Scenario, ScenarioError};
use super::series::{self, Metric};
use super::ForecastError;
use crate::calendar::CalendarEvent;
use crate::db::{DbConnection, DbError};

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(transparent)]
    Db(#[from] DbError),
    #[error(transparent)]
    Scenario(#[from] ScenarioError),
    #[error("{metric}: {source}")]
    Forecast {
        metric: &'static str,
        source: ForecastError,
    },
}

/// A forecast and the calendar it was made with.
#[derive(Clone, Debug)]
pub struct MetricForecast {
    pub metric: Metric,
    pub hierarchy: Hierarchy,
    /// The calendar as used (the scenario's, when there is one).
    pub events: Vec<CalendarEvent>,
}

/// What a metric's forecasts are made from, loaded once and reused for
/// every scenario.
#[derive(Clone, Debug)]
pub struct Inputs {
    pub metric: Metric,
    pub bottom: series::BottomSeries,
    pub unit: String,
    pub calendar: Vec<CalendarEvent>,
}

pub fn load_inputs(conn: &mut DbConnection, metric: Metric) -> Result<Inputs, DbError> {
    let (bottom, unit) = series::load_bottom(conn, metric)?;
    Ok(Inputs {
        metric,
        bottom,
        unit,
        calendar: crate::db::calendar::all_events(conn)?,
    })
}

pub fn metric_forecast(
    conn: &mut DbConnection,
    metric: Metric,
    horizon: i64,
    scenario: Option<&Scenario>,
    log: bool,
) -> Result<MetricForecast, RunError> {
    let inputs = load_inputs(conn, metric)?;
    compute(&inputs, horizon, scenario, log)
}

/// The reconciled forecast of `inputs`, under a scenario or the plan of
/// record.
pub fn compute(
    inputs: &Inputs,
    horizon: i64,
    scenario: Option<&Scenario>,
    log: bool,
) -> Result<MetricForecast, RunError> {
    let metric = inputs.metric;
    let started = std::time::Instant::now();
    let (events, uplift_factors) = match scenario {
        Some(s) => {
            let applied = s.apply_to_events(&inputs.calendar)?;
            (applied.events, applied.uplift_factors)
        }
        None => (inputs.calendar.clone(), Vec::new()),
    };
    let options = ModelOptions {
        log,
        uplift_factors,
        ..ModelOptions::default()
    };
    let mut hierarchy = forecast_hierarchy(
        metric,
        &inputs.bottom,
        &inputs.unit,
        &events,
        horizon,
        &options,
    )
    .map_err(|source| RunError::Forecast {
        metric: metric.as_str(),
        source,
    })?;
    if let Some(s) = scenario {
        s.apply_to_forecast(&mut hierarchy)?;
    }
    crate::metrics::forecast(metric.as_str(), started.elapsed().as_secs_f64());
    Ok(MetricForecast {
        metric,
        hierarchy,
        events,
    })
}

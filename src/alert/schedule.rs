//! Alert rounds inside `serve`: soon after every change made through this
//! process (it wakes the loop), within a tick of a change made by another
//! process or a CLI job (the data version moved), and every
//! `alert_every_minutes` in any case (commitments near their end, retries
//! that are due). With several processes on one PostgreSQL, the advisory
//! lock in [`super::cycle`] lets one of them do each round.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::Notify;

use super::{cycle, AlertSettings, When};
use crate::db::DbPool;

/// How often the loop looks for changes and due retries.
pub const TICK: Duration = Duration::from_secs(30);

#[derive(Clone, Debug)]
pub struct AlertSchedule {
    pub settings: AlertSettings,
    /// A full evaluation at least this often; `None` evaluates only after
    /// changes.
    pub every: Option<Duration>,
    pub tick: Duration,
}

/// Runs rounds until the server stops.
pub async fn run(
    pool: DbPool,
    schedule: AlertSchedule,
    wakeup: Arc<Notify>,
    clock: crate::clock::SharedClock,
) {
    let mut last_full: Option<Instant> = None;
    loop {
        let tick = std::pin::pin!(actix_web::rt::time::sleep(schedule.tick));
        let woken = std::pin::pin!(wakeup.notified());
        if let futures_util::future::Either::Right(_) =
            futures_util::future::select(tick, woken).await
        {
            // Let a burst of edits finish before looking.
            actix_web::rt::time::sleep(Duration::from_millis(200)).await;
        }
        let when = match (schedule.every, last_full) {
            (Some(every), Some(at)) if at.elapsed() < every => When::Changed,
            (None, _) => When::Changed,
            _ => When::Always,
        };
        if when == When::Always {
            last_full = Some(Instant::now());
        }
        let pool = pool.clone();
        let settings = schedule.settings.clone();
        let (today, now) = (clock.today(), clock.now());
        let result = actix_web::rt::task::spawn_blocking(move || {
            let mut conn = pool.get().map_err(crate::db::DbError::from)?;
            cycle(&mut conn, &settings, when, today, now)
        })
        .await;
        match result {
            Ok(Ok(Some(r))) => {
                let quiet = r.anomalies_detected.is_none()
                    && r.evaluation.raised.is_empty()
                    && r.delivery == super::DeliveryReport::default();
                if !quiet {
                    tracing::info!("alert round: {}", r.summary());
                }
            }
            Ok(Ok(None)) => tracing::debug!("alert round left to another process"),
            Ok(Err(e)) => tracing::error!(error = %e, "alert round failed"),
            Err(e) => tracing::error!(error = %e, "alert round stopped"),
        }
    }
}

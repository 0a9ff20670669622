//! Pulling from Cost Explorer on a schedule inside `serve` (off unless
//! `pull_every_hours` is set). Each pull covers the default range (last
//! month, or from the first estimated day) up to today.

use std::time::Duration;

use super::cost_explorer::{self, PullOptions};
use crate::db::DbPool;

/// Settings of the scheduled pull.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Schedule {
    pub every: Duration,
    pub endpoint_url: Option<String>,
    pub tag_key: String,
    pub billing_account: String,
    /// Fixed credentials instead of the standard AWS chain (an emulator).
    pub static_credentials: Option<(String, String)>,
}

/// Runs one pull now: fetch, then store in the blocking pool. Returns a
/// one-line status for the log.
pub async fn pull_once(pool: &DbPool, schedule: &Schedule) -> String {
    let started_at = crate::clock::now();
    let today = crate::clock::today();
    let pool2 = pool.clone();
    let from = match actix_web::rt::task::spawn_blocking(move || {
        let mut conn = pool2.get().map_err(crate::db::DbError::from)?;
        super::default_from(&mut conn, today)
    })
    .await
    {
        Ok(Ok(from)) => from,
        Ok(Err(e)) => return format!("scheduled pull not started: {e}"),
        Err(e) => return format!("scheduled pull not started: {e}"),
    };
    let mut opts = PullOptions::new(from, today);
    opts.endpoint_url = schedule.endpoint_url.clone();
    opts.tag_key = schedule.tag_key.clone();
    opts.billing_account = schedule.billing_account.clone();
    opts.static_credentials = schedule.static_credentials.clone();
    let fetched = cost_explorer::fetch(&opts).await;
    let pool = pool.clone();
    let result = actix_web::rt::task::spawn_blocking(move || {
        let mut conn = pool.get().map_err(crate::db::DbError::from)?;
        match fetched {
            Ok(f) => super::store(&mut conn, &opts, &f, started_at),
            Err(e) => {
                super::record_failure(&mut conn, &opts, started_at, &e);
                Err(e)
            }
        }
    })
    .await;
    match result {
        Ok(Ok(s)) => format!(
            "scheduled pull: {} to {}, {} rows, {} requests",
            s.from, s.to, s.rows, s.requests
        ),
        Ok(Err(e)) => format!("scheduled pull failed: {e}"),
        Err(e) => format!("scheduled pull failed: {e}"),
    }
}

/// Pulls every `schedule.every`, first after one interval, until the
/// server stops.
pub async fn run(pool: DbPool, schedule: Schedule) {
    loop {
        actix_web::rt::time::sleep(schedule.every).await;
        let status = pull_once(&pool, &schedule).await;
        tracing::info!("{status}");
    }
}

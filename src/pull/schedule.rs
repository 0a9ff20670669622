//! Scheduled pulls inside `serve` (off unless `pull_every_hours` is set):
//! Cost Explorer, each `[[s3_export]]`, every `pull_every_hours`.
//!
//! Several `serve` processes and CLI cron jobs may share one database.
//! Every tick each process looks for jobs that are due; it runs one only
//! after claiming it ([`claim`]: the job's PostgreSQL advisory lock, held
//! while it runs, then a compare-and-swap on the job's last start), so one
//! process runs each job per interval, and a job is not started while
//! another process runs it. A job never run before is due at once.

use std::time::Duration;

use super::cost_explorer::{self, PullOptions};
use super::s3_export::{self, S3ExportOptions};
use crate::db::lock;
use crate::db::scheduled_jobs;
use crate::db::{DbConnection, DbError, DbPool};

/// Settings of the scheduled Cost Explorer pull.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Schedule {
    pub every: Duration,
    pub endpoint_url: Option<String>,
    pub tag_key: String,
    pub billing_account: String,
    /// Fixed credentials instead of the standard AWS chain (an emulator).
    pub static_credentials: Option<(String, String)>,
}

/// The scheduled job name of the Cost Explorer pull.
pub const COST_EXPLORER_JOB: &str = "cost-explorer";

/// The scheduled job name of an S3 export's pull.
pub fn s3_export_job(uri: &str) -> String {
    format!("s3-export {uri}")
}

/// This process, as `started_by` records it.
pub fn this_process() -> String {
    let host = std::env::var("HOSTNAME")
        .ok()
        .filter(|h| !h.is_empty())
        .or_else(|| {
            std::fs::read_to_string("/etc/hostname")
                .ok()
                .map(|h| h.trim().to_string())
        })
        .unwrap_or_else(|| "localhost".to_string());
    format!("{host} pid {}", std::process::id())
}

/// Whether the process that started `job` may still be running it: on
/// PostgreSQL the job's advisory lock says (see [`claim`]); on SQLite, a
/// job started by a process of this machine runs while that process
/// lives, one started elsewhere for at most [`scheduled_jobs::RUNNING_AT_MOST`].
pub fn still_running(job: &scheduled_jobs::Job, now: chrono::NaiveDateTime) -> bool {
    if !job.running() || now - job.last_started_at >= scheduled_jobs::RUNNING_AT_MOST {
        return false;
    }
    let me = this_process();
    let host = |by: &str| by.rsplit_once(" pid ").map(|(h, _)| h.to_string());
    match (host(&job.started_by), job.started_by.rsplit_once(" pid ")) {
        (Some(h), Some((_, pid))) if Some(&h) == host(&me).as_ref() => {
            std::path::Path::new("/proc").join(pid.trim()).exists()
        }
        _ => true,
    }
}

/// Claims `job` when it is due (last started `every` ago or more) and no
/// other process runs it; `every` zero claims it whenever nobody runs it
/// (a manual run). `true` when this process may run it; it must then call
/// [`finish`] on the same connection. On PostgreSQL the claim holds the
/// job's advisory lock until [`finish`] or until the process dies, so a
/// pull stopped by Ctrl-C or a crash never blocks the next one.
pub fn claim(
    conn: &mut DbConnection,
    job: &str,
    every: Duration,
    now: chrono::NaiveDateTime,
) -> Result<bool, DbError> {
    let every = chrono::Duration::from_std(every).unwrap_or(chrono::Duration::MAX);
    let key = lock::job_key(job);
    if !lock::try_hold(conn, key)? {
        return Ok(false);
    }
    let postgres = matches!(conn, DbConnection::Postgres(_));
    let claimed = (|| {
        if !postgres {
            if let Some(found) = scheduled_jobs::get(conn, job)? {
                if still_running(&found, now) {
                    return Ok(false);
                }
            }
        }
        scheduled_jobs::claim(conn, job, every, now, &this_process())
    })();
    if !matches!(claimed, Ok(true)) {
        lock::release(conn, key);
    }
    claimed
}

/// Records how a claimed run ended (logged if the record fails) and lets
/// the job go.
pub fn finish(
    conn: &mut DbConnection,
    job: &str,
    started_at: chrono::NaiveDateTime,
    result: &Result<String, String>,
) {
    let (status, message) = match result {
        Ok(m) => ("ok", m.as_str()),
        Err(m) => ("failed", m.as_str()),
    };
    if let Err(e) =
        scheduled_jobs::finish(conn, job, started_at, crate::clock::now(), status, message)
    {
        tracing::warn!(job, error = %e, "could not record the end of a scheduled job");
    }
    lock::release(conn, lock::job_key(job));
}

/// Runs one Cost Explorer pull now: fetch, then store in the blocking
/// pool. Returns a one-line status, or why it failed.
pub async fn pull_once(pool: &DbPool, schedule: &Schedule) -> Result<String, String> {
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
        Ok(Err(e)) => return Err(format!("scheduled pull not started: {e}")),
        Err(e) => return Err(format!("scheduled pull not started: {e}")),
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
        Ok(Ok(s)) => Ok(format!(
            "scheduled pull: {} to {}, {} rows, {} requests",
            s.from, s.to, s.rows, s.requests
        )),
        Ok(Err(e)) => Err(format!("scheduled pull failed: {e}")),
        Err(e) => Err(format!("scheduled pull failed: {e}")),
    }
}

/// A scheduled job.
#[derive(Clone, Debug)]
pub enum Job {
    CostExplorer(Schedule),
    S3Export(Box<S3ExportOptions>),
    /// CloudWatch utilisation of the billed instances, the last two days.
    Utilisation {
        endpoint_url: Option<String>,
    },
}

/// The scheduled job name of the CloudWatch utilisation pull.
pub const UTILISATION_JOB: &str = "cloudwatch-utilisation";

impl Job {
    pub fn name(&self) -> String {
        match self {
            Job::CostExplorer(_) => COST_EXPLORER_JOB.to_string(),
            Job::S3Export(o) => s3_export_job(&o.uri.to_string()),
            Job::Utilisation { .. } => UTILISATION_JOB.to_string(),
        }
    }

    /// Runs the job in this (blocking) thread.
    fn run(&self, pool: &DbPool) -> Result<String, String> {
        match self {
            Job::CostExplorer(schedule) => {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .map_err(|e| e.to_string())?;
                runtime.block_on(pull_once(pool, schedule))
            }
            Job::Utilisation { endpoint_url } => {
                let mut opts = super::cloudwatch::UtilisationPullOptions::last_days(
                    crate::clock::today() + chrono::Duration::days(1),
                    2,
                );
                opts.endpoint_url = endpoint_url.clone();
                let mut conn = pool.get().map_err(|e| e.to_string())?;
                match super::cloudwatch::pull(&mut conn, &opts, &mut |_, _| {}) {
                    Ok(s) => Ok(format!(
                        "CloudWatch: {} hourly row(s) for {} instance(s) in {} region(s); {} request(s)",
                        s.rows, s.instances, s.regions, s.requests
                    )),
                    Err(e @ super::cloudwatch::UtilisationPullError::NoInstances { .. }) => {
                        Ok(e.to_string())
                    }
                    Err(e) => Err(e.to_string()),
                }
            }
            Job::S3Export(opts) => {
                let mut conn = pool.get().map_err(|e| e.to_string())?;
                let summary =
                    s3_export::pull(&mut conn, opts, &mut |_| {}).map_err(|e| e.to_string())?;
                if summary.failed().is_empty() {
                    Ok(summary.line())
                } else {
                    Err(summary.line())
                }
            }
        }
    }
}

/// Claims each due job and runs it, one after the other, in this
/// (blocking) thread. Returns what ran and how it ended.
pub fn run_due(
    pool: &DbPool,
    jobs: &[Job],
    every: Duration,
) -> Vec<(String, Result<String, String>)> {
    let mut ran = Vec::new();
    for job in jobs {
        let name = job.name();
        let now = crate::clock::now();
        // This connection holds the job's lock while it runs.
        let mut held = match pool.get() {
            Ok(c) => c,
            Err(e) => {
                tracing::warn!(job = %name, error = %e, "could not claim a scheduled job");
                continue;
            }
        };
        match claim(&mut held, &name, every, now) {
            Ok(true) => {}
            Ok(false) => continue,
            Err(e) => {
                tracing::warn!(job = %name, error = %e, "could not claim a scheduled job");
                continue;
            }
        }
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| job.run(pool)))
            .unwrap_or_else(|_| Err("the pull stopped with an internal error".to_string()));
        finish(&mut held, &name, now, &result);
        ran.push((name, result));
    }
    ran
}

/// Looks for due jobs every `tick` until the server stops; each job runs
/// at most once per `every` across all processes on the database.
pub async fn run(pool: DbPool, jobs: Vec<Job>, every: Duration, tick: Duration) {
    let jobs = std::sync::Arc::new(jobs);
    loop {
        let (pool2, jobs2) = (pool.clone(), jobs.clone());
        let (tx, rx) = tokio::sync::oneshot::channel();
        // Its own thread: the jobs block, and start their own runtimes for
        // the AWS SDK.
        let spawned = std::thread::Builder::new()
            .name("finops-schedule".to_string())
            .spawn(move || {
                let _ = tx.send(run_due(&pool2, &jobs2, every));
            });
        match spawned {
            Ok(_) => match rx.await {
                Ok(ran) => {
                    for (name, result) in ran {
                        match result {
                            Ok(m) => tracing::info!(job = %name, "{m}"),
                            Err(m) => tracing::error!(job = %name, "{m}"),
                        }
                    }
                }
                Err(_) => tracing::error!("a scheduled job stopped without an answer"),
            },
            Err(e) => tracing::error!(error = %e, "could not start the scheduled jobs"),
        }
        actix_web::rt::time::sleep(tick).await;
    }
}

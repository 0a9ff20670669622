//! `GET /sources`: the Data sources page (every import and pull, newest
//! first, and an upload form); `POST /sources/upload`: a file uploaded by an
//! analyst, streamed to disk under a size limit, then imported by the same
//! code as `finops ingest`.

use std::io::Write;

use actix_multipart::Multipart;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use futures_util::StreamExt;

use crate::db::ingest_runs::{self, IngestRun};
use crate::db::DbConnection;
use crate::ingest::registry::{upload_importer, IMPORTERS};
use crate::ingest::Input;
use crate::report::Catalog;
use crate::web::errors::{HtmlError, WebError};
use crate::web::state::AppState;
use crate::web::views::{Layout, Viewer};
use crate::web::Payload;

/// Largest upload accepted, unless `upload_limit_mb` says otherwise.
pub const DEFAULT_UPLOAD_LIMIT: u64 = 1024 * 1024 * 1024;

struct RunView {
    id: i64,
    when: String,
    source: String,
    file: String,
    periods: String,
    rows: String,
    status: String,
    ok: bool,
    message: Vec<String>,
}

/// The outcome of an upload, shown above the list.
pub struct Outcome {
    pub ok: bool,
    pub title: String,
    pub lines: Vec<String>,
}

#[derive(Template)]
#[template(path = "sources.html")]
struct SourcesPage {
    layout: Layout,
    outcome: Option<Outcome>,
    runs: Vec<RunView>,
    limit_text: String,
    kinds: Vec<(&'static str, &'static str)>,
    pull_schedule: String,
    last_pull: Option<RunView>,
    jobs: Vec<JobView>,
    deliveries: Vec<DeliveryView>,
}

/// A scheduled job as the page shows it.
pub struct JobView {
    pub name: String,
    pub started: String,
    pub by: String,
    pub status: String,
    pub ok: bool,
    pub message: Vec<String>,
}

/// A billing period imported from an S3 export.
pub struct DeliveryView {
    /// Why the newest delivery of the period is not what is shown (its
    /// import failed after this one), if it is not.
    pub stale: Option<String>,
    pub export: String,
    pub period: String,
    pub delivery: String,
    pub files: i64,
    pub size: String,
    pub imported: String,
    pub run: i64,
}

fn job_view(job: &crate::db::scheduled_jobs::Job, now: chrono::NaiveDateTime) -> JobView {
    let running = crate::pull::schedule::still_running(job, now);
    let status = if running {
        "running".to_string()
    } else if job.running() {
        // Started, never finished, and its process is gone.
        "stopped before it finished".to_string()
    } else {
        job.last_status.clone()
    };
    JobView {
        name: job.name.clone(),
        started: job.last_started_at.format("%Y-%m-%d %H:%M UTC").to_string(),
        by: job.started_by.clone(),
        ok: job.last_status == "ok" || running,
        status,
        message: job
            .last_message
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(str::to_string)
            .collect(),
    }
}

fn delivery_view(d: &crate::db::export_deliveries::Imported, runs: &[IngestRun]) -> DeliveryView {
    // A later attempt at the same period that failed (runs are newest first).
    let label = format!("{} BILLING_PERIOD={} ", d.export_uri, d.billing_period);
    let stale = runs
        .iter()
        .find(|r| r.file_name.starts_with(&label) && r.started_at >= d.imported_at)
        .filter(|r| crate::runs::Status::of(&r.status) == crate::runs::Status::Failed)
        .map(|r| {
            format!(
                "A newer delivery could not be imported ({}, run #{}): {} The figures are still those of delivery {}; the next pull tries again.",
                r.started_at.format("%Y-%m-%d %H:%M UTC"),
                r.id,
                r.message.lines().next().unwrap_or("see Imports below").trim_end_matches('.'),
                if d.delivery_id.is_empty() { "imported before" } else { d.delivery_id.as_str() }
            )
        });
    DeliveryView {
        stale,
        export: d.export_uri.clone(),
        period: d.billing_period.clone(),
        delivery: d.delivery_id.clone(),
        files: d.files,
        size: match d.bytes.max(0) as u64 {
            b if b < 1024 * 1024 => format!("{:.0} KiB", (b as f64 / 1024.0).ceil()),
            b => limit_text(b),
        },
        imported: d.imported_at.format("%Y-%m-%d %H:%M UTC").to_string(),
        run: d.ingest_run_id,
    }
}

/// What the upload form offers: source name and what it is.
fn kinds() -> Vec<(&'static str, &'static str)> {
    IMPORTERS
        .iter()
        .filter(|i| i.upload)
        .map(|i| (i.source.as_str(), i.accepts))
        .collect()
}

fn view(run: &IngestRun) -> RunView {
    RunView {
        id: run.id,
        when: run.started_at.format("%Y-%m-%d %H:%M UTC").to_string(),
        source: run.source.clone(),
        file: run.file_name.clone(),
        periods: run.billing_period.replace(',', ", "),
        rows: if crate::runs::Status::of(&run.status) == crate::runs::Status::Ok {
            run.rows_read.to_string()
        } else if run.rows_rejected > 0 {
            format!("{} bad", run.rows_rejected)
        } else {
            String::new()
        },
        status: run.status.clone(),
        ok: crate::runs::Status::of(&run.status) == crate::runs::Status::Ok,
        message: run
            .message
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(str::to_string)
            .collect(),
    }
}

fn limit_text(limit: u64) -> String {
    if limit >= 1024 * 1024 * 1024 {
        format!("{:.0} GiB", limit as f64 / (1024.0 * 1024.0 * 1024.0))
    } else {
        format!("{:.0} MiB", limit as f64 / (1024.0 * 1024.0))
    }
}

/// Settings the page reports.
#[derive(Clone, Copy)]
pub struct PageSettings {
    pub upload_limit: u64,
    pub pull_every_hours: u32,
}

pub fn build(
    conn: &mut DbConnection,
    catalog: &Catalog,
    viewer: &Viewer,
    outcome: Option<Outcome>,
    settings: PageSettings,
) -> Result<Payload, WebError> {
    let limit = settings.upload_limit;
    let runs = ingest_runs::latest(conn, 200)?;
    let last_pull = ingest_runs::latest_of(conn, crate::pull::cost_explorer::SOURCE)?;
    let page = SourcesPage {
        layout: Layout::new("Data sources", "sources", catalog, viewer),
        outcome,
        runs: runs.iter().map(view).collect(),
        limit_text: limit_text(limit),
        kinds: kinds(),
        pull_schedule: match settings.pull_every_hours {
            0 => "Scheduled pulls are off (set pull_every_hours to turn them on).".to_string(),
            1 => "finops pulls every hour.".to_string(),
            n => format!("finops pulls every {n} hours."),
        },
        last_pull: last_pull.as_ref().map(view),
        jobs: crate::db::scheduled_jobs::all(conn)?
            .iter()
            .filter(|j| j.runs > 0)
            .map(|j| job_view(j, crate::clock::now()))
            .collect(),
        deliveries: crate::db::export_deliveries::all(conn)?
            .iter()
            .map(|d| delivery_view(d, &runs))
            .collect(),
    };
    page.render()
        .map(Payload::html)
        .map_err(|e| WebError::Internal(format!("template: {e}")))
}

pub async fn page(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, HtmlError> {
    if !req.query_string().is_empty() {
        return Err(HtmlError(WebError::BadRequest(
            "The Data sources page takes no parameters.".to_string(),
        )));
    }
    let viewer = super::viewer(&req, &state);
    let settings = PageSettings {
        upload_limit: state.upload_limit,
        pull_every_hours: state.pull_every_hours,
    };
    // Not cached: scheduled jobs change without a new run.
    super::render_uncached(req, state, &[], move |page| {
        build(page.conn, page.catalog, &viewer, None, settings)
    })
    .await
}

/// What came in with the upload form.
struct Upload {
    kind: Option<String>,
    file: Option<(String, tempfile::NamedTempFile, u64)>,
}

/// A short text field of the upload form (at most `max` bytes).
async fn small_field(
    field: &mut actix_multipart::Field,
    name: &str,
    max: usize,
) -> Result<String, WebError> {
    let mut text = Vec::new();
    while let Some(chunk) = field.next().await {
        let chunk =
            chunk.map_err(|e| WebError::BadRequest(format!("The upload broke off: {e}")))?;
        if text.len() + chunk.len() > max {
            return Err(WebError::BadRequest(format!(
                "The {name} field is too long."
            )));
        }
        text.extend_from_slice(&chunk);
    }
    Ok(String::from_utf8_lossy(&text).trim().to_string())
}

/// Reads the upload form. `csrf` is the session's token, which must come
/// before the file (`None` for API tokens, which need none).
async fn receive(
    mut form: Multipart,
    limit: u64,
    csrf: Option<String>,
) -> Result<Upload, WebError> {
    let mut upload = Upload {
        kind: None,
        file: None,
    };
    let refused = || {
        WebError::Forbidden(
            "The form's security token is missing or out of date (were you signed out?). Reload the page and send it again."
                .to_string(),
        )
    };
    let mut csrf_ok = csrf.is_none();
    while let Some(field) = form.next().await {
        let mut field = field
            .map_err(|e| WebError::BadRequest(format!("The upload was not a valid form: {e}")))?;
        let name = field.name().unwrap_or("").to_string();
        match name.as_str() {
            "csrf" => {
                let sent = small_field(&mut field, "csrf", 128).await?;
                csrf_ok = csrf_ok
                    || csrf
                        .as_deref()
                        .is_some_and(|expected| crate::auth::secret::same(&sent, expected));
                if !csrf_ok {
                    return Err(refused());
                }
            }
            "kind" => {
                upload.kind = Some(small_field(&mut field, "kind", 64).await?);
            }
            "file" => {
                if !csrf_ok {
                    return Err(refused());
                }
                let original = field
                    .content_disposition()
                    .and_then(|cd| cd.get_filename())
                    .map(sanitise_name)
                    .unwrap_or_else(|| "upload".to_string());
                let mut temp = tempfile::Builder::new()
                    .prefix("finops-upload-")
                    .tempfile()
                    .map_err(|e| WebError::Internal(format!("cannot store the upload: {e}")))?;
                let mut size: u64 = 0;
                while let Some(chunk) = field.next().await {
                    let chunk = chunk
                        .map_err(|e| WebError::BadRequest(format!("The upload broke off: {e}")))?;
                    size += chunk.len() as u64;
                    if size > limit {
                        return Err(WebError::TooLarge(format!(
                            "{original} is larger than the upload limit of {}; import it with `finops ingest` instead.",
                            limit_text(limit)
                        )));
                    }
                    temp.write_all(&chunk)
                        .map_err(|e| WebError::Internal(format!("cannot store the upload: {e}")))?;
                }
                temp.flush()
                    .map_err(|e| WebError::Internal(format!("cannot store the upload: {e}")))?;
                upload.file = Some((original, temp, size));
            }
            other => {
                return Err(WebError::BadRequest(format!(
                    "Unexpected form field '{}'.",
                    sanitise_name(other)
                )))
            }
        }
    }
    if !csrf_ok {
        return Err(refused());
    }
    Ok(upload)
}

/// A file name fit for messages: its last path part, printable, short.
fn sanitise_name(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or(name);
    let clean: String = base.chars().filter(|c| !c.is_control()).take(120).collect();
    if clean.is_empty() {
        "upload".to_string()
    } else {
        clean
    }
}

pub async fn upload(
    req: HttpRequest,
    state: web::Data<AppState>,
    form: Multipart,
) -> Result<HttpResponse, HtmlError> {
    crate::web::guard::same_origin(&req).map_err(HtmlError)?;
    let limit = state.upload_limit;
    let limits = state.decompress;
    let settings = PageSettings {
        upload_limit: limit,
        pull_every_hours: state.pull_every_hours,
    };
    let csrf = crate::web::guard::identity_of(&req).and_then(|i| i.csrf().map(str::to_string));
    let upload = receive(form, limit, csrf).await.map_err(HtmlError)?;
    let kind = upload.kind.unwrap_or_default();
    let Some(importer) = upload_importer(&kind) else {
        let offered: Vec<&str> = kinds().iter().map(|(k, _)| *k).collect();
        return Err(HtmlError(WebError::BadRequest(format!(
            "Choose what the file is (one of {}).",
            offered.join(", ")
        ))));
    };
    let Some((name, temp, size)) = upload.file else {
        return Err(HtmlError(WebError::BadRequest(
            "Choose a file to upload.".to_string(),
        )));
    };
    let viewer = super::viewer(&req, &state);
    let state = state.into_inner();
    let st = state.clone();
    let (status, payload) = web::block(move || -> Result<_, WebError> {
        let _acting = crate::audit::Actor::enter(&viewer.user);
        let mut conn = st.pool.get().map_err(crate::db::DbError::from)?;
        tracing::info!(file = %name, bytes = size, kind = %kind, "upload received");
        let input = Input::new(temp.path())
            .named(name.clone())
            .with_limits(limits);
        let result = (importer.import)(&mut conn, &input, &mut |_| {});
        drop(temp);
        st.cache.invalidate();
        let (status, outcome) = match result {
            Ok(imported) => (
                actix_web::http::StatusCode::OK,
                Outcome {
                    ok: true,
                    title: format!("Imported {name}"),
                    lines: imported.lines,
                },
            ),
            Err(e) => (
                if e.is_too_large() {
                    actix_web::http::StatusCode::PAYLOAD_TOO_LARGE
                } else if e.is_bad_input() {
                    actix_web::http::StatusCode::UNPROCESSABLE_ENTITY
                } else {
                    actix_web::http::StatusCode::INTERNAL_SERVER_ERROR
                },
                Outcome {
                    ok: false,
                    title: format!("{name} was not imported; nothing was stored"),
                    lines: e.details(),
                },
            ),
        };
        let version = ingest_runs::data_version(&mut conn)?;
        let catalog = st.catalog(&mut conn, version)?;
        Ok((
            status,
            build(&mut conn, &catalog, &viewer, Some(outcome), settings)?,
        ))
    })
    .await
    .map_err(|e| HtmlError(WebError::Internal(e.to_string())))?
    .map_err(HtmlError)?;
    Ok(HttpResponse::build(status)
        .content_type(payload.content_type)
        .body(payload.body))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> chrono::NaiveDateTime {
        chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M").unwrap()
    }

    #[test]
    fn a_period_whose_newer_delivery_failed_is_marked_not_current() {
        let imported = crate::db::export_deliveries::Imported {
            export_uri: "s3://b/exports/cur2".into(),
            billing_period: "2026-11".into(),
            manifest_key: "k".into(),
            manifest_etag: "\"a\"".into(),
            delivery_id: "e1".into(),
            files: 1,
            bytes: 2048,
            ingest_run_id: 7,
            imported_at: at("2026-12-01 10:00"),
        };
        let run = |id: i64, when: &str, status: &str, period: &str| IngestRun {
            id,
            source: "cur".into(),
            file_name: format!(
                "s3://b/exports/cur2 BILLING_PERIOD={period} (1 file(s), delivery e2)"
            ),
            file_hash: String::new(),
            billing_period: String::new(),
            rows_read: 0,
            rows_kept: 0,
            rows_rejected: 0,
            status: status.into(),
            message: "s3://b/x.csv.gz: the gzip data is truncated or corrupt (unexpected end)"
                .into(),
            started_at: at(when),
            finished_at: None,
        };
        let view = delivery_view(
            &imported,
            &[run(9, "2026-12-01 11:00", "failed", "2026-11")],
        );
        let why = view.stale.expect("not current");
        assert!(
            why.contains("run #9") && why.contains("truncated") && why.contains("delivery e1"),
            "{why}"
        );
        // A failure of another period, or before this import, says nothing.
        assert!(delivery_view(
            &imported,
            &[run(9, "2026-12-01 11:00", "failed", "2026-10")]
        )
        .stale
        .is_none());
        assert!(delivery_view(
            &imported,
            &[run(6, "2026-12-01 09:00", "failed", "2026-11")]
        )
        .stale
        .is_none());
        // A later success means it was imported again (the record moves on).
        assert!(
            delivery_view(&imported, &[run(9, "2026-12-01 11:00", "ok", "2026-11")])
                .stale
                .is_none()
        );
        assert_eq!(view.size, "2 KiB");
    }
}

//! After every import, `serve` builds the pages whose first view is slow
//! (Forecast of cost and of players, Capacity plan, Scenarios,
//! Recommendations) at their default settings in the background. What
//! they compute lands in the shared results ([`crate::web::shared`]), so
//! the first person to open them after an import gets them at once, as
//! does everyone after. Pages are built, not only their inputs, so the
//! results' keys are exactly those a request with the default settings
//! uses.

use std::time::Duration;

use super::Page;
use crate::web::errors::WebError;
use crate::web::params::Params;
use crate::web::state::AppState;
use crate::web::views::Viewer;
use crate::web::Payload;

/// How long the data version must stay put before warming starts (an
/// import of several files moves it several times).
pub const SETTLE: Duration = Duration::from_secs(3);

type Build = fn(Page) -> Result<Payload, WebError>;

/// The default views warmed: page, query and how the page is built.
const PAGES: [(&str, &str, Build); 5] = [
    ("forecast", "", super::forecast::build),
    ("forecast", "metric=ccu", super::forecast::build),
    ("capacity", "", super::capacity::build),
    ("scenarios", "", super::scenarios::build),
    ("recommendations", "", super::recommendations::list_page),
];

/// Builds every page in [`PAGES`] at the current data version; returns
/// the version warmed.
pub fn warm(state: &AppState) -> Result<Option<i64>, WebError> {
    let mut conn = state.pool.get().map_err(crate::db::DbError::from)?;
    let version = crate::db::ingest_runs::data_version(&mut conn)?;
    let catalog = state.catalog(&mut conn, version)?;
    let shared = state.results.at(version);
    let viewer = Viewer::new(&state.database_label, None);
    let all = std::time::Instant::now();
    for (name, query, build) in PAGES {
        let started = std::time::Instant::now();
        let params = Params::parse(query);
        let outcome = build(Page {
            conn: &mut conn,
            catalog: &catalog,
            params: &params,
            viewer: &viewer,
            shared: &shared,
        });
        match outcome {
            Ok(_) => tracing::debug!(
                page = name,
                query,
                seconds = started.elapsed().as_secs_f64(),
                "warmed"
            ),
            Err(e) => tracing::info!(page = name, query, error = %e, "could not warm"),
        }
    }
    tracing::info!(
        version,
        seconds = all.elapsed().as_secs_f64(),
        "warmed the pages"
    );
    Ok(version)
}

/// Warms the pages on a thread of its own whenever the data version moved
/// and then stayed put for [`SETTLE`].
pub fn spawn(state: AppState) {
    let spawned = std::thread::Builder::new()
        .name("warm-pages".to_string())
        .spawn(move || {
            let mut warmed: Option<Option<i64>> = None;
            let mut seen: Option<(Option<i64>, std::time::Instant)> = None;
            loop {
                std::thread::sleep(Duration::from_secs(1));
                let version = match state.pool.get() {
                    Ok(mut conn) => match crate::db::ingest_runs::data_version(&mut conn) {
                        Ok(v) => v,
                        Err(_) => continue,
                    },
                    Err(_) => continue,
                };
                if warmed == Some(version) {
                    continue;
                }
                match seen {
                    Some((v, since)) if v == version && since.elapsed() >= SETTLE => {
                        match warm(&state) {
                            Ok(v) => warmed = Some(v),
                            Err(e) => {
                                tracing::info!(error = %e, "could not warm the pages");
                                warmed = Some(version);
                            }
                        }
                    }
                    Some((v, _)) if v == version => {}
                    _ => seen = Some((version, std::time::Instant::now())),
                }
            }
        });
    if let Err(e) = spawned {
        tracing::warn!(error = %e, "could not start warming the pages");
    }
}

//! Liveness and readiness for load balancers and orchestrators.

use std::time::Duration;

use actix_web::{web, HttpResponse};

use super::state::AppState;
use crate::db;

/// The process is up.
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(r#"{"status":"ok"}"#)
}

/// The database answers; 503 otherwise.
pub async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    let pool = state.pool.clone();
    let result = web::block(move || db::ping(&pool, Duration::from_secs(2))).await;
    match result {
        Ok(Ok(())) => {
            HttpResponse::Ok().json(serde_json::json!({ "status": "ready", "database": "ok" }))
        }
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "readiness check failed");
            HttpResponse::ServiceUnavailable().json(serde_json::json!({
                "status": "unavailable",
                "database": e.to_string(),
            }))
        }
        Err(e) => HttpResponse::ServiceUnavailable().json(serde_json::json!({
            "status": "unavailable",
            "database": e.to_string(),
        })),
    }
}

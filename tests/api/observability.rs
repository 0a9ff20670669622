//! What operators see: request ids, `/metrics` in the Prometheus text
//! format (request latency by route, imports, forecasts), JSON logs.

use crate::helpers::{Backend, TestApp};

/// The value of a sample line `name{labels} value` whose name and labels
/// start with `prefix`.
fn sample(text: &str, prefix: &str) -> Option<f64> {
    text.lines()
        .find(|l| l.starts_with(prefix))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
}

#[tokio::test(flavor = "multi_thread")]
async fn requests_have_ids_and_metrics_count_routes_imports_and_forecasts() {
    let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
    app.load_demo(42, 2).await;

    // An id on every answer; a sane caller's id is kept, a bad one replaced.
    let r = app.get("/month?month=2026-10").await;
    assert_eq!(r.status(), 200);
    let id = r.headers()["x-request-id"].to_str().unwrap().to_string();
    assert!(!id.is_empty() && id.len() <= 64, "{id}");
    let r = app
        .client
        .get(format!("{}/healthz", app.address))
        .header("X-Request-Id", "trace-42.a_b")
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["x-request-id"], "trace-42.a_b");
    let r = app
        .client
        .get(format!("{}/healthz", app.address))
        .header("X-Request-Id", "not ok; <script>")
        .send()
        .await
        .unwrap();
    assert_ne!(r.headers()["x-request-id"], "not ok; <script>");

    // A forecast and a failed import, then the metrics.
    assert_eq!(
        app.get("/api/v1/forecast?metric=ccu&horizon=30")
            .await
            .status(),
        200
    );
    let (status, _) = app.get_text("/no-such-page").await;
    assert_eq!(status, 404);
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("activity.csv");
    std::fs::write(&bad, "day,platform,region,peak_concurrent_players,player_hours\n2026-10-01,Dreamcast,eu-west-1,5,10\n").unwrap();
    app.with_conn(move |conn| {
        assert!(finops::ingest::activity::import(conn, &finops::ingest::Input::new(&bad)).is_err());
    })
    .await;

    let r = app.get("/metrics").await;
    assert_eq!(r.status(), 200);
    assert!(r.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/plain; version=0.0.4"));
    let text = r.text().await.unwrap();
    assert!(text.contains("# TYPE finops_http_request_duration_seconds histogram"));
    let month = "finops_http_request_duration_seconds_count{route=\"/month\",method=\"GET\",status=\"2xx\"}";
    assert!(sample(&text, month).unwrap() >= 1.0, "{text}");
    let inf = "finops_http_request_duration_seconds_bucket{route=\"/month\",method=\"GET\",status=\"2xx\",le=\"+Inf\"}";
    assert_eq!(sample(&text, inf), sample(&text, month));
    assert!(sample(&text, "finops_http_request_duration_seconds_count{route=\"unmatched\",method=\"GET\",status=\"4xx\"}").unwrap() >= 1.0);
    // The demo load records its run; the refused file a failure.
    assert!(
        sample(&text, "finops_import_rows_total{source=\"demo\"}").unwrap() > 0.0,
        "{text}"
    );
    assert!(
        sample(
            &text,
            "finops_imports_total{source=\"activity\",status=\"failed\"}"
        )
        .unwrap()
            >= 1.0
    );
    assert!(sample(&text, "finops_forecast_runs_total{metric=\"ccu\"}").unwrap() >= 1.0);
    assert!(text.contains("finops_forecast_duration_seconds_bucket{metric=\"ccu\",le=\"0.5\"}"));

    // Turned off, it is not there.
    let off = TestApp::spawn_with(Backend::Sqlite, |s| s.metrics = false)
        .await
        .unwrap();
    assert_eq!(off.get("/metrics").await.status(), 404);
}

#[test]
fn logs_can_be_one_json_object_per_line() {
    // A new database: the demo logs the migrations it applied.
    let (_dir, url) = crate::helpers::scratch_sqlite("fresh.db");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_finops"))
        .args(["--database", &url, "demo", "--months", "1"])
        .env("FINOPS_LOG_FORMAT", "json")
        .env("FINOPS_LOG", "info")
        .output()
        .unwrap();
    crate::helpers::assert_ran(&out);
    let stderr = String::from_utf8_lossy(&out.stderr);
    // Log lines are JSON; the command's own summary is plain text.
    let lines: Vec<&str> = stderr.lines().filter(|l| l.starts_with('{')).collect();
    assert!(
        lines
            .iter()
            .any(|l| l.contains("applied database migrations")),
        "{stderr}"
    );
    for line in &lines {
        let v: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
        assert!(
            v["level"].is_string() && v["timestamp"].is_string(),
            "{line}"
        );
    }
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_finops"))
        .args(["--database", &url, "migrate"])
        .env("FINOPS_LOG_FORMAT", "yaml")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("FINOPS_LOG_FORMAT"));
}

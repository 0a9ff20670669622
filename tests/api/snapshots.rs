//! What the service answers on the demo, pinned byte for byte (CSV) and
//! value for value (JSON), so that code can move without the answers
//! changing: the monthly CSV, the recommendations CSV and every
//! `/api/v1/*` answer. Both backends must give the same answers; the
//! snapshots live in `tests/api/snapshots/` (review a change with
//! `cargo insta review`, or accept it with `INSTA_UPDATE=always`).

use serde_json::Value;

use crate::helpers::{apps, TestApp};

/// What each snapshot asks for.
const CSV: [(&str, &str); 2] = [
    ("monthly_csv", "/export/monthly.csv?month=2026-09"),
    ("recommendations_csv", "/recommendations.csv"),
];

const JSON: [(&str, &str); 7] = [
    (
        "api_costs",
        "/api/v1/costs?from=2026-08-01&to=2026-10-31&group_by=platform,region&granularity=month",
    ),
    (
        "api_costs_daily_service",
        "/api/v1/costs?from=2026-10-01&to=2026-10-07&group_by=service&granularity=day&platform=PC",
    ),
    (
        "api_overview",
        "/api/v1/overview?from=2026-10-01&to=2026-10-31",
    ),
    ("api_month", "/api/v1/month?month=2026-10"),
    (
        "api_month_platform",
        "/api/v1/month?month=2026-10&platform=PlayStation",
    ),
    ("api_forecast", "/api/v1/forecast?metric=cost&horizon=90"),
    ("api_recommendations", "/api/v1/recommendations"),
];

/// Floats to 6 significant digits, so a snapshot pins the answer and not
/// the last bit of a sum's order.
fn steady(value: Value) -> Value {
    match value {
        Value::Number(n) if n.is_f64() => {
            let x = n.as_f64().unwrap_or(0.0);
            let rounded: f64 = format!("{x:.5e}").parse().unwrap_or(x);
            serde_json::Number::from_f64(rounded)
                .map(Value::Number)
                .unwrap_or(Value::Null)
        }
        Value::Array(items) => Value::Array(items.into_iter().map(steady).collect()),
        Value::Object(map) => Value::Object(map.into_iter().map(|(k, v)| (k, steady(v))).collect()),
        other => other,
    }
}

async fn answers(app: &TestApp) -> Vec<(&'static str, String)> {
    let mut out = Vec::new();
    for (name, path) in CSV {
        let (status, body) = app.get_text(path).await;
        assert_eq!(status, 200, "{path}: {body}");
        out.push((name, body));
    }
    for (name, path) in JSON {
        let (status, json) = app.get_json(path).await;
        assert_eq!(status, 200, "{path}: {json}");
        let text = serde_json::to_string_pretty(&steady(json)).expect("JSON");
        out.push((name, text));
    }
    out
}

#[tokio::test]
async fn the_demo_answers_stay_what_they_were() {
    let mut first: Option<Vec<(&str, String)>> = None;
    for app in apps().await {
        app.load_demo(42, 6).await;
        let got = answers(&app).await;
        match &first {
            None => {
                for (name, body) in &got {
                    insta::assert_snapshot!(*name, body);
                }
                first = Some(got);
            }
            Some(sqlite) => {
                for ((name, a), (_, b)) in sqlite.iter().zip(&got) {
                    assert_eq!(a, b, "{name}: SQLite and {} differ", app.backend.name());
                }
            }
        }
    }
}

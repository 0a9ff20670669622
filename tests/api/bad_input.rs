//! Bad query parameters get a 400 that says what is wrong, never a 500.

use crate::helpers::apps;

const PAGE_CASES: [(&str, &str); 12] = [
    ("/?platform=Dreamcast", "unknown platform 'Dreamcast'"),
    (
        "/?from=2026-10-10&to=2026-10-01",
        "parameter 'to' (2026-10-01) is before 'from' (2026-10-10)",
    ),
    ("/?from=2026-02-30", "'2026-02-30' is not a date"),
    ("/?colour=red", "unknown parameter 'colour'"),
    (
        "/month?month=2026-13",
        "parameter 'month': '2026-13' is not a month",
    ),
    ("/month?month=October", "is not a month"),
    ("/month?month=2026-10&region=us-east-1", "needs 'platform'"),
    (
        "/costs?granularity=hourly",
        "'hourly' is not one of day, week, month",
    ),
    ("/costs?group_by=colour", "'colour' is not a dimension"),
    ("/costs?metric=list", "'list' is not a cost metric"),
    ("/export/monthly.csv", "parameter 'month' is required"),
    ("/export/monthly.csv?month=2026/10", "is not a month"),
];

const API_CASES: [(&str, &str); 6] = [
    (
        "/api/v1/costs?platform=Dreamcast",
        "unknown platform 'Dreamcast'",
    ),
    (
        "/api/v1/costs?from=2026-02-01&to=2026-01-01",
        "is before 'from'",
    ),
    ("/api/v1/costs?currency=XYZ", "no costs in 'XYZ'"),
    (
        "/api/v1/costs?from=2020-01-01&to=2026-01-01&granularity=day",
        "choose a coarser granularity",
    ),
    (
        "/api/v1/costs?group_by=platform,region,service",
        "at most 2",
    ),
    ("/api/v1/costs?format=xml", "not json or csv"),
];

#[tokio::test]
async fn bad_parameters_get_a_400_naming_the_problem() {
    for app in apps().await {
        app.load_demo(3, 1).await;
        let backend = app.backend.name();
        for (path, message) in PAGE_CASES {
            let (status, body) = app.get_text(path).await;
            assert_eq!(status, 400, "{backend} {path}: {body}");
            let text = body
                .replace("&#x27;", "'")
                .replace("&#39;", "'")
                .replace("&quot;", "\"");
            assert!(text.contains(message), "{backend} {path}: {body}");
        }
        for (path, message) in API_CASES {
            let (status, json) = app.get_json(path).await;
            assert_eq!(status, 400, "{backend} {path}: {json}");
            assert_eq!(json["error"]["code"], "bad_request");
            let text = json["error"]["message"].as_str().unwrap();
            assert!(text.contains(message), "{backend} {path}: {text}");
        }
    }
}

#[tokio::test]
async fn hostile_values_never_cause_a_server_error() {
    let long = "x".repeat(5000);
    let values = [
        "%00",
        "%27%20OR%201%3D1%20--",
        "%3Cscript%3Ealert(1)%3C%2Fscript%3E",
        "%E2%80%AE%F0%9F%98%80",
        "..%2F..%2Fetc%2Fpasswd",
        "-1",
        "99999999999999999999",
        "2026-10-01T00:00:00",
        long.as_str(),
        "%FF%FE",
    ];
    let params = [
        "from",
        "to",
        "month",
        "platform",
        "region",
        "service",
        "granularity",
        "group_by",
        "metric",
        "currency",
        "format",
    ];
    for app in apps().await {
        for path in [
            "/",
            "/month",
            "/costs",
            "/api/v1/costs",
            "/api/v1/overview",
            "/api/v1/month",
            "/export/monthly.csv",
        ] {
            for p in params {
                for v in values {
                    let url = format!("{path}?{p}={v}");
                    let status = app.get(&url).await.status().as_u16();
                    assert!(
                        status < 500,
                        "{} {url} answered {status}",
                        app.backend.name()
                    );
                }
            }
        }
        // Quoted values are shown escaped, never as markup.
        let (_, body) = app
            .get_text("/?platform=%3Cscript%3Ealert(1)%3C%2Fscript%3E")
            .await;
        assert!(!body.contains("<script>alert(1)</script>"));
    }
}

#[tokio::test]
async fn no_path_traversal_and_bodies_are_bounded() {
    for app in apps().await {
        for path in [
            "/static/../Cargo.toml",
            "/static/..%2F..%2FCargo.toml",
            "/static/%2e%2e%2fsrc%2fmain.rs",
            "/static/..%5c..%5cCargo.toml",
            "/static/finops.css%00.toml",
            "/static//etc/passwd",
        ] {
            let (status, body) = app.get_text(path).await;
            assert!(status == 404 || status == 400, "{path}: {status}");
            assert!(
                !body.contains("[package]") && !body.contains("fn main"),
                "{path}"
            );
        }
        // Form bodies over 256 KiB are refused before they are read whole.
        let big = format!("name={}", "x".repeat(300 * 1024));
        for path in ["/calendar", "/rules", "/login", "/logout"] {
            let r = app
                .client
                .post(format!("{}{path}", app.address))
                .header("content-type", "application/x-www-form-urlencoded")
                .body(big.clone())
                .send()
                .await
                .unwrap();
            assert_eq!(r.status().as_u16(), 413, "{path}");
        }
        let events = app
            .with_conn(|conn| finops::db::calendar::all_events(conn).unwrap().len())
            .await;
        assert_eq!(events, 0);
    }
}

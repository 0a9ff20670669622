//! Anomalies over imported data: an unplanned spike raises one with the
//! lines that explain it; a launch on the calendar and a commitment
//! purchase do not; feedback is kept across detections. Both backends.

use chrono::{Datelike, Duration, NaiveDate};

use crate::helpers::{assert_ran, finops_cli, postgres_available, Backend, TestDb};

const HEADER: &str = "BilledCost,EffectiveCost,BillingAccountId,BillingCurrency,BillingPeriodStart,ChargeCategory,ChargePeriodStart,ChargePeriodEnd,ProviderName,RegionId,ServiceName,SubAccountId,ResourceId,Tags\n";

fn day(i: i64) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 1, 5).unwrap() + Duration::days(i)
}

fn line(cost: f64, category: &str, d: NaiveDate, account: &str, resource: &str) -> String {
    let period = NaiveDate::from_ymd_opt(d.year(), d.month(), 1).unwrap();
    format!(
        "{cost:.2},{cost:.2},100,USD,{period},{category},{d}T00:00:00Z,{}T00:00:00Z,AWS,eu-west-1,Amazon EC2,{account},{resource},\"{{\"\"platform\"\": \"\"PC\"\"}}\"\n",
        d + Duration::days(1)
    )
}

/// 120 days of PC spend in eu-west-1: a planned launch (days 80–89,
/// +80 %, on the calendar), a commitment purchase on day 60, and an
/// unplanned spike on day 105 from one resource of account 300.
fn bill() -> String {
    let mut text = HEADER.to_string();
    for i in 0..120 {
        let d = day(i);
        let weekly = if i % 7 >= 5 { 1150.0 } else { 1000.0 };
        let mut v = weekly * (1.0 + 0.02 * ((i as f64) * 1.7).sin());
        if (80..90).contains(&i) {
            v *= 1.8;
        }
        text.push_str(&line(v, "Usage", d, "200", "fleet-pc"));
        if i == 60 {
            text.push_str(&line(25_000.0, "Purchase", d, "200", "sp-1"));
        }
        if i == 105 {
            text.push_str(&line(1_600.0, "Usage", d, "300", "i-runaway"));
        }
    }
    text
}

const CALENDAR: &str = r#"
[[event]]
name = "Season 4 launch"
kind = "launch"
start = 2026-03-26
end = 2026-04-04
expected_uplift = 0.8
"#;

#[test]
fn an_unplanned_spike_raises_an_explained_anomaly_and_a_planned_launch_does_not() {
    assert_eq!(day(80).to_string(), "2026-03-26");
    for backend in [Backend::Sqlite, Backend::Postgres] {
        if backend == Backend::Postgres && !postgres_available() {
            continue;
        }
        let db = TestDb::create(backend);
        let url = db.url();
        let dir = tempfile::tempdir().unwrap();
        let bill_path = dir.path().join("focus.csv");
        std::fs::write(&bill_path, bill()).unwrap();
        let cal = dir.path().join("launches.toml");
        std::fs::write(&cal, CALENDAR).unwrap();
        assert_ran(&finops_cli(
            url,
            &["ingest", "focus", bill_path.to_str().unwrap()],
            "",
        ));
        assert_ran(&finops_cli(
            url,
            &["ingest", "calendar", cal.to_str().unwrap()],
            "",
        ));

        let out = finops_cli(
            url,
            &["anomalies", "--from", "2026-02-15", "--format", "json"],
            "",
        );
        assert_ran(&out);
        let found: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
        assert!(!found.is_empty(), "the spike is found");
        let spike = day(105).to_string();
        for a in &found {
            assert_eq!(
                a["start"],
                spike.as_str(),
                "only the spike alarms: {found:#?}"
            );
            assert_eq!(a["end"], spike.as_str());
            assert_eq!(a["event"], "");
            let explanation = a["explanation"].to_string();
            assert!(explanation.contains("account 300"), "{explanation}");
        }
        // The total and the cell: the impact is about the runaway
        // resource's cost (1,600 less the noise band's share).
        let cell = found
            .iter()
            .find(|a| a["service"] == "Amazon EC2")
            .expect("the service's own anomaly");
        let impact: f64 = cell["impact"].as_str().unwrap().parse().unwrap();
        assert!((1_400.0..=1_700.0).contains(&impact), "{impact}");

        // Feedback is recorded and kept when detection runs again.
        let id = cell["id"].as_i64().unwrap().to_string();
        assert_ran(&finops_cli(
            url,
            &["anomalies", "feedback", &id, "planned"],
            "",
        ));
        let out = finops_cli(url, &["anomalies", "feedback", &id, "maybe"], "");
        assert_eq!(out.status.code(), Some(2));
        let out = finops_cli(url, &["anomalies", "feedback", "999999", "yes"], "");
        assert_eq!(out.status.code(), Some(2));
        let out = finops_cli(
            url,
            &["anomalies", "--from", "2026-02-15", "--format", "json"],
            "",
        );
        assert_ran(&out);
        let again: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
        let kept = again
            .iter()
            .find(|a| a["id"].as_i64().map(|v| v.to_string()).as_deref() == Some(id.as_str()))
            .expect("the reviewed anomaly is kept");
        assert_eq!(kept["feedback"], "planned");
        assert_eq!(
            again
                .iter()
                .filter(|a| a["service"] == "Amazon EC2")
                .count(),
            1,
            "not found twice: {again:#?}"
        );
    }
}

#[tokio::test]
async fn analysts_review_anomalies_on_the_page_and_viewers_read_them() {
    use finops::auth::Role;
    for app in crate::helpers::apps().await {
        app.load_demo(42, 4).await;
        let (status, html) = app.get_text("/anomalies").await;
        assert_eq!(status, 200);
        assert!(
            html.contains("Anomalies") && html.contains("Detect again"),
            "{html}"
        );
        let post = |path: &str, body: String| {
            app.client
                .post(format!("{}{}", app.address, path))
                .header("content-type", "application/x-www-form-urlencoded")
                .body(body)
                .send()
        };
        let r = post("/anomalies/detect", String::new()).await.unwrap();
        assert_eq!(r.status().as_u16(), 303);
        let stored = app
            .with_conn(|c| {
                finops::db::anomalies::between(
                    c,
                    NaiveDate::from_ymd_opt(2000, 1, 1).unwrap(),
                    NaiveDate::from_ymd_opt(2100, 1, 1).unwrap(),
                )
                .unwrap()
            })
            .await;
        let (_, html) = app
            .get_text("/anomalies?from=2026-01-01&to=2026-12-31")
            .await;
        if let Some(a) = stored.first() {
            assert!(html.contains(&format!("anomaly-{}", a.id)), "{html}");
            let r = post("/anomalies/feedback", format!("id={}&verdict=no", a.id))
                .await
                .unwrap();
            assert_eq!(r.status().as_u16(), 303);
            let kept = app
                .with_conn(|c| finops::db::anomalies::reviewed(c).unwrap())
                .await;
            assert_eq!(kept.len(), 1);
            assert_eq!(kept[0].feedback, "no");
        } else {
            assert!(html.contains("No anomalies"), "{html}");
        }
        let r = post("/anomalies/feedback", "id=999999&verdict=yes".into())
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 404);
        let r = post("/anomalies/feedback", "id=1&verdict=maybe".into())
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 400);
        // Viewers read and cannot judge or run detection.
        let viewer = app.client_as(Role::Viewer).await;
        let r = viewer
            .get(format!("{}/anomalies", app.address))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 200);
        let body = r.text().await.unwrap();
        assert!(!body.contains("Detect again"));
        let r = viewer
            .post(format!("{}/anomalies/detect", app.address))
            .header("content-type", "application/x-www-form-urlencoded")
            .body("")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 403);
    }
}

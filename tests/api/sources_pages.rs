//! The Data sources page (upload through the browser's form encoding) and
//! the Allocation rules page, on both backends.

use reqwest::multipart::{Form, Part};

use crate::helpers::{apps, Backend, TestApp};

const GOOD: &str = "BilledCost,EffectiveCost,BillingAccountId,BillingCurrency,BillingPeriodStart,ChargeCategory,ChargePeriodStart,ChargePeriodEnd,ProviderName,RegionId,ServiceName,SubAccountId,ResourceId,Tags\n\
10.50,10.50,100,USD,2026-03-01,Usage,2026-03-02T00:00:00Z,2026-03-02T01:00:00Z,AWS,eu-west-1,Amazon EC2,200,i-1,\"{\"\"platform\"\": \"\"PC\"\"}\"\n\
4.25,4.25,100,USD,2026-03-01,Usage,2026-03-02T00:00:00Z,2026-03-02T01:00:00Z,AWS,eu-west-1,Amazon S3,200,bucket-1,\n";

async fn billed_total(app: &TestApp) -> i64 {
    app.with_conn(|conn| crate::ingest::fingerprint(conn).1)
        .await
}

#[tokio::test]
async fn analysts_upload_files_and_see_every_import() {
    for app in apps().await {
        let (status, html) = app.get_text("/sources").await;
        assert_eq!(status, 200);
        assert!(html.contains("No pull yet"), "{html}");
        assert!(html.contains("Nothing imported yet"));

        let (status, html) = app
            .upload("focus", "march.csv", GOOD.as_bytes().to_vec())
            .await;
        assert_eq!(status, 200, "{html}");
        assert!(html.contains("Imported march.csv"), "{html}");
        assert!(html.contains("USD: billed 14.75"), "{html}");
        assert_eq!(billed_total(&app).await, 14_750_000);
        // The upload shows in the page's list and in the reports at once.
        let (_, html) = app.get_text("/sources").await;
        assert!(html.contains("march.csv") && html.contains("2026-03"));
        let (_, json) = app
            .get_json("/api/v1/costs?from=2026-03-01&to=2026-03-31&group_by=platform")
            .await;
        assert!(json.to_string().contains("PC"), "{json}");

        // A bad file: 422, the rows named, nothing stored.
        let bad = GOOD.replace("4.25,4.25", "4.25,abc");
        let (status, html) = app.upload("focus", "bad.csv", bad.into_bytes()).await;
        assert_eq!(status, 422, "{html}");
        assert!(
            html.contains("bad.csv was not imported; nothing was stored"),
            "{html}"
        );
        assert!(
            html.contains(
                "bad.csv: line 3, column EffectiveCost: &#39;abc&#39; is not a decimal number"
            ) || html
                .contains("bad.csv: line 3, column EffectiveCost: 'abc' is not a decimal number"),
            "{html}"
        );
        assert_eq!(billed_total(&app).await, 14_750_000);

        // No kind, no file, or a form from another site: refused.
        let form = Form::new().part(
            "file",
            Part::bytes(GOOD.as_bytes().to_vec()).file_name("x.csv"),
        );
        let r = app
            .client
            .post(format!("{}/sources/upload", app.address))
            .multipart(form)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 400);
        let form = Form::new().text("kind", "focus").part(
            "file",
            Part::bytes(GOOD.as_bytes().to_vec()).file_name("x.csv"),
        );
        let r = app
            .client
            .post(format!("{}/sources/upload", app.address))
            .header("Origin", "https://evil.example")
            .multipart(form)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 403);
        assert_eq!(billed_total(&app).await, 14_750_000);
    }
}

#[tokio::test]
async fn uploads_over_the_limit_are_refused() {
    let Some(app) = TestApp::spawn_with(Backend::Sqlite, |s| s.upload_limit_mb = 1).await else {
        return;
    };
    let big = vec![b'a'; 1024 * 1024 + 10];
    let (status, html) = app.upload("focus", "huge.csv", big).await;
    assert_eq!(status, 413, "{html}");
    assert!(
        html.contains("huge.csv is larger than the upload limit of 1 MiB"),
        "{html}"
    );
}

#[tokio::test]
async fn admins_edit_allocation_rules_and_they_reapply() {
    for app in apps().await {
        app.upload("focus", "march.csv", GOOD.as_bytes().to_vec())
            .await;
        let (status, html) = app.get_text("/rules?from=2026-03-01&to=2026-03-31").await;
        assert_eq!(status, 200);
        assert!(
            html.contains("value=\"game_platform\""),
            "seeded rules are listed"
        );
        // The untagged bucket is the largest unallocated resource.
        assert!(html.contains("bucket-1"), "{html}");

        // Keep the seeded tag rules and add an account rule at the end.
        let mut form: Vec<(String, String)> = Vec::new();
        for (i, (kind, pattern, platform)) in [
            ("tag", "platform", ""),
            ("tag", "Platform", ""),
            ("tag", "game_platform", ""),
            ("account", "200", "Switch"),
        ]
        .iter()
        .enumerate()
        {
            form.push((format!("r{i}_position"), (i + 1).to_string()));
            form.push((format!("r{i}_kind"), kind.to_string()));
            form.push((format!("r{i}_pattern"), pattern.to_string()));
            form.push((format!("r{i}_platform"), platform.to_string()));
            form.push((format!("r{i}_driver"), "player_hours".to_string()));
            form.push((format!("r{i}_note"), String::new()));
        }
        let body = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(&form)
            .finish();
        let post = |body: String| {
            app.client
                .post(format!("{}/rules", app.address))
                .header("content-type", "application/x-www-form-urlencoded")
                .body(body)
                .send()
        };
        let r = post(body).await.unwrap();
        assert_eq!(r.status().as_u16(), 303);
        assert_eq!(r.headers()["location"], "/rules?saved=4");
        let platforms = app
            .with_conn(|conn| {
                use diesel::prelude::*;
                use finops::db::schema::cost_daily::dsl as c;
                c::cost_daily
                    .select((c::platform, c::billed_micros))
                    .order(c::platform)
                    .load::<(String, i64)>(conn)
                    .unwrap()
            })
            .await;
        assert_eq!(
            platforms,
            vec![
                ("PC".to_string(), 10_500_000),
                ("Switch".to_string(), 4_250_000)
            ]
        );
        let (_, html) = app
            .get_text("/rules?saved=4&from=2026-03-01&to=2026-03-31")
            .await;
        assert!(html.contains("Saved 4 rule(s)"));
        assert!(
            html.contains("No imported cost in this period is unallocated"),
            "{html}"
        );

        // A bad rule: 422, said plainly, nothing changed.
        let body = "r0_position=1&r0_kind=resource&r0_pattern=%28%5B&r0_platform=PC&r0_driver=player_hours&r0_note=";
        let r = post(body.to_string()).await.unwrap();
        assert_eq!(r.status().as_u16(), 422);
        let html = r.text().await.unwrap();
        assert!(
            html.contains("Not saved") && html.contains("rule 1:"),
            "{html}"
        );
        let n = app
            .with_conn(|conn| finops::db::allocation_rules::list(conn).unwrap().len())
            .await;
        assert_eq!(n, 4);
        assert_eq!(billed_total(&app).await, 14_750_000);
    }
}

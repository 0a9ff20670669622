use crate::helpers::{apps, decimal_micros};

#[tokio::test]
async fn costs_api_groups_filters_and_answers_decimal_strings() {
    for app in apps().await {
        let backend = app.backend.name();
        app.load_demo(42, 3).await;
        let (status, json) = app
            .get_json(
                "/api/v1/costs?from=2026-08-01&to=2026-10-31&group_by=platform&granularity=month",
            )
            .await;
        assert_eq!(status, 200, "{backend}: {json}");
        assert_eq!(json["granularity"], "month");
        assert_eq!(json["group_by"], serde_json::json!(["platform"]));
        assert_eq!(json["currency"], "USD");
        let rows = json["rows"].as_array().unwrap();
        // Three months × six platforms + unallocated.
        assert_eq!(rows.len(), 21, "{backend}");
        for r in rows {
            let amount = r["effective_cost"].as_str().expect("amount is a string");
            assert!(
                amount.contains('.') && amount.split('.').nth(1).unwrap().len() == 6,
                "{amount}"
            );
            assert!(r["period"].as_str().unwrap().ends_with("-01"));
        }

        // A filter narrows the rows and the total.
        let (_, pc) = app
            .get_json("/api/v1/costs?from=2026-08-01&to=2026-10-31&group_by=platform,region&platform=PC&granularity=month")
            .await;
        let pc_rows = pc["rows"].as_array().unwrap();
        assert!(pc_rows.iter().all(|r| r["platform"] == "PC"));
        assert!(pc_rows.iter().any(|r| r["region"] == "us-east-1"));
        let total = |v: &serde_json::Value| {
            v["total"]["effective_cost"]
                .as_str()
                .unwrap()
                .parse::<f64>()
                .unwrap()
        };
        assert!(total(&pc) < total(&json) && total(&pc) > 0.0);

        // Weeks start on Monday; days are days.
        let (_, weekly) = app
            .get_json("/api/v1/costs?from=2026-10-05&to=2026-10-18&granularity=week&group_by=none")
            .await;
        let periods: Vec<&str> = weekly["rows"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["period"].as_str().unwrap())
            .collect();
        assert_eq!(periods, vec!["2026-10-05", "2026-10-12"], "{backend}");
        let (_, daily) = app
            .get_json("/api/v1/costs?from=2026-10-05&to=2026-10-18&granularity=day&group_by=none")
            .await;
        assert_eq!(daily["rows"].as_array().unwrap().len(), 14, "{backend}");

        // CSV of the same view.
        let (status, csv) = app
            .get_text("/api/v1/costs?from=2026-10-01&to=2026-10-31&group_by=service&format=csv")
            .await;
        assert_eq!(status, 200);
        assert!(
            csv.starts_with("period,service,billed_cost,effective_cost,currency\r\n"),
            "{csv}"
        );

        // Overview and month as JSON.
        let (status, overview) = app
            .get_json("/api/v1/overview?from=2026-10-01&to=2026-10-31")
            .await;
        assert_eq!(status, 200);
        let october: i64 = json["rows"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["period"] == "2026-10-01")
            .map(|r| decimal_micros(r["effective_cost"].as_str().unwrap()))
            .sum();
        assert_eq!(
            decimal_micros(overview["total"]["effective"].as_str().unwrap()),
            october,
            "{backend}"
        );
        let (status, month) = app.get_json("/api/v1/month?month=2026-10").await;
        assert_eq!(status, 200);
        assert_eq!(month["month"], "2026-10");
        assert_eq!(month["platforms"].as_array().unwrap().len(), 7);
    }
}

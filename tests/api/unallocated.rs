//! The Unallocated page and API: every source's unallocated cost for any
//! period, tying out to the Overview to the cent, line by line and
//! resource by resource, with the rule that would claim each.

use crate::helpers::{apps, decimal_micros, Backend, TestApp};

const FOCUS: &str = "BilledCost,EffectiveCost,BillingAccountId,BillingCurrency,BillingPeriodStart,ChargeCategory,ChargePeriodStart,ChargePeriodEnd,ProviderName,RegionId,ServiceName,SubAccountId,ResourceId,Tags\n\
10.50,10.50,100,USD,2026-03-01,Usage,2026-03-02T00:00:00Z,2026-03-02T01:00:00Z,AWS,eu-west-1,Amazon EC2,200,i-1,\"{\"\"platform\"\": \"\"PC\"\"}\"\n\
4.25,4.25,100,USD,2026-03-01,Usage,2026-03-02T00:00:00Z,2026-03-02T01:00:00Z,AWS,eu-west-1,Amazon S3,200,bucket-1,\n\
2.00,2.00,100,USD,2026-03-01,Usage,2026-03-02T00:00:00Z,2026-03-02T01:00:00Z,AWS,us-east-1,Amazon EC2,300,gs-xbox-01,\"{\"\"team\"\": \"\"netcode\"\"}\"\n\
1.25,1.25,100,USD,2026-03-01,Usage,2026-03-02T00:00:00Z,2026-03-02T01:00:00Z,AWS,us-east-1,Amazon EC2,300,i-9,\"{\"\"game:platform\"\": \"\"ps5\"\"}\"\n";

fn micros(v: &serde_json::Value) -> i64 {
    decimal_micros(v.as_str().unwrap_or_else(|| panic!("not an amount: {v}")))
}

/// The demo has no resource ids; its unallocated lines (untagged usage in
/// the shared account, the Savings Plan's fee, credits) are listed with a
/// rule, and their sum is the Overview's unallocated figure to the cent.
#[tokio::test]
async fn the_demo_lists_its_unallocated_lines_and_ties_out_to_the_overview() {
    for app in apps().await {
        app.load_demo(42, 3).await;
        let range = "from=2026-10-01&to=2026-10-31";
        let (status, report) = app.get_json(&format!("/api/v1/unallocated?{range}")).await;
        assert_eq!(status, 200, "{report}");
        let (_, overview) = app
            .get_json(&format!("/api/v1/overview?{range}&metric=effective"))
            .await;
        assert_eq!(
            micros(&report["effective"]),
            micros(&overview["unallocated"]["effective"]),
            "the page and the Overview agree"
        );
        assert!(micros(&report["effective"]) != 0);
        let lines = report["lines"].as_array().unwrap();
        assert!(!lines.is_empty());
        let listed: i64 = lines.iter().map(|l| micros(&l["effective"])).sum::<i64>()
            + micros(&report["more_effective"]);
        assert_eq!(listed, micros(&report["effective"]), "lines add up");
        // Every line says which rule would claim it, or why none would.
        for l in lines {
            assert!(!l["rule"]["why"].as_str().unwrap().is_empty(), "{l}");
        }
        assert!(
            lines.iter().any(|l| l["rule"]["kind"] == "account"),
            "{report}"
        );

        let (status, html) = app.get_text(&format!("/unallocated?{range}")).await;
        assert_eq!(status, 200);
        assert!(html.contains("id=\"unallocated-lines\""), "{html}");
        assert!(html.contains("Add this rule"), "admins get the link");
        assert!(html.contains("id=\"no-unallocated-resources\""));
        // The Overview's link leads here, for the same period.
        let (_, overview_html) = app.get_text(&format!("/?{range}")).await;
        assert!(
            overview_html.contains("href=\"/unallocated?from=2026-10-01&#38;to=2026-10-31\""),
            "{overview_html}"
        );
        // And the rules page no longer says nothing is unallocated.
        let (_, rules) = app.get_text(&format!("/rules?{range}")).await;
        assert!(!rules.contains("id=\"no-unallocated\""));
        assert!(rules.contains("id=\"unallocated-page-link\""));
    }
}

/// Resources from a FOCUS file: an untagged bucket in an account whose
/// other cost is PC's, an instance whose id names Xbox, and one whose tag
/// names PlayStation under a key no rule reads. Each gets the rule that
/// fits, and "Add this rule" fills a blank row on the rules page.
#[tokio::test]
async fn resources_get_the_rule_that_would_claim_them() {
    for app in apps().await {
        let (status, html) = app
            .upload("focus", "march.csv", FOCUS.as_bytes().to_vec())
            .await;
        assert_eq!(status, 200, "{html}");
        let (_, report) = app
            .get_json("/api/v1/unallocated?from=2026-03-01&to=2026-03-31")
            .await;
        let resources = report["resources"].as_array().unwrap();
        let rule_of = |id: &str| {
            resources
                .iter()
                .find(|r| r["resource"] == id)
                .unwrap_or_else(|| panic!("{id} is not listed: {report}"))["rule"]
                .clone()
        };
        let bucket = rule_of("bucket-1");
        assert_eq!(
            (
                bucket["kind"].as_str(),
                bucket["pattern"].as_str(),
                bucket["platform"].as_str()
            ),
            (Some("account"), Some("200"), Some("PC"))
        );
        let xbox = rule_of("gs-xbox-01");
        assert_eq!(
            (xbox["kind"].as_str(), xbox["platform"].as_str()),
            (Some("resource"), Some("Xbox"))
        );
        let tagged = rule_of("i-9");
        assert_eq!(
            (tagged["kind"].as_str(), tagged["pattern"].as_str()),
            (Some("tag"), Some("game:platform"))
        );
        assert_eq!(micros(&report["billed"]), 7_500_000);

        let (_, html) = app
            .get_text("/unallocated?from=2026-03-01&to=2026-03-31")
            .await;
        let link = "/rules?kind=account&#38;pattern=200&#38;platform=PC";
        assert!(html.contains(link), "{html}");
        let (status, rules) = app.get_text(&link.replace("&#38;", "&")).await;
        assert_eq!(status, 200);
        assert!(
            rules.contains("value=\"200\""),
            "the blank row holds the pattern"
        );
        let (status, _) = app.get_text("/rules?kind=nonsense&pattern=x").await;
        assert_eq!(status, 400);
    }
}

/// A viewer sees the rules as text, with no inputs to fill in and no
/// "Add this rule" links.
#[tokio::test]
async fn viewers_read_the_rules_without_inputs() {
    let Some(app) = TestApp::spawn(Backend::Sqlite).await else {
        return;
    };
    app.upload("focus", "march.csv", FOCUS.as_bytes().to_vec())
        .await;
    let viewer = app.client_as(finops::auth::Role::Viewer).await;
    let page = |path: &'static str| {
        let request = viewer.get(format!("{}{path}", app.address)).send();
        async move { request.await.unwrap().text().await.unwrap() }
    };
    let html = page("/rules").await;
    assert!(html.contains("id=\"rules\""), "{html}");
    assert!(!html.contains("<input type=\"text\""), "{html}");
    assert!(html.contains("id=\"read-only\""));
    let html = page("/unallocated?from=2026-03-01&to=2026-03-31").await;
    assert!(html.contains("bucket-1"));
    assert!(!html.contains("Add this rule"));
}

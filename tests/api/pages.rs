//! The pages render believable data, link to each other and work on an
//! empty database.

use crate::helpers::{apps, dollars_to_micros, element_text};

#[tokio::test]
async fn overview_month_review_and_explorer_render_on_both_backends() {
    for app in apps().await {
        let backend = app.backend.name();
        app.load_demo(42, 3).await;

        let (status, page) = app.get_text("/?from=2026-10-01&to=2026-10-31").await;
        assert_eq!(status, 200, "{backend}");
        for needle in [
            "<svg",
            "id=\"by-platform\"",
            "id=\"by-region\"",
            "id=\"movers\"",
            "id=\"unit-costs\"",
            "PlayStation",
            "us-east-1",
            "per 1,000 player-hours",
            "compared with 1 Sep 2026 – 30 Sep 2026",
        ] {
            assert!(page.contains(needle), "{backend}: overview lacks {needle}");
        }
        let total = dollars_to_micros(&element_text(&page, "total-effective").unwrap());
        assert!(
            total > 500_000_000_000,
            "{backend}: a believable month: {total}"
        );
        let share = element_text(&page, "unallocated-share").unwrap();
        assert!(share.ends_with('%'), "{share}");

        // The same period with one platform shows less.
        let (_, pc) = app
            .get_text("/?from=2026-10-01&to=2026-10-31&platform=PC")
            .await;
        let pc_total = dollars_to_micros(&element_text(&pc, "total-effective").unwrap());
        assert!(pc_total < total && pc_total > 0);

        let (status, month) = app.get_text("/month?month=2026-10").await;
        assert_eq!(status, 200);
        for needle in [
            "Month review: October 2026",
            "id=\"download-csv\" href=\"/export/monthly.csv?month=2026-10\"",
            "Budget",
            "id=\"month-table\"",
            "<svg",
        ] {
            assert!(
                month.contains(needle),
                "{backend}: month review lacks {needle}"
            );
        }
        // Drill-down to services.
        let (status, drill) = app
            .get_text("/month?month=2026-10&platform=PC&region=us-east-1")
            .await;
        assert_eq!(status, 200);
        assert!(drill.contains("Services: PC in us-east-1"), "{backend}");
        assert!(drill.contains("GameLift"));

        let (status, explorer) = app
            .get_text("/costs?from=2026-08-03&to=2026-10-25&granularity=week&group_by=region&platform=Xbox")
            .await;
        assert_eq!(status, 200);
        assert!(explorer.contains("id=\"explorer-table\""));
        assert!(
            explorer.contains("value=\"Xbox\" checked"),
            "{backend}: filters stay in the form"
        );
        assert!(
            explorer.contains("/api/v1/costs?from=2026-08-03"),
            "{backend}: JSON link of the view"
        );
    }
}

#[tokio::test]
async fn pages_explain_an_empty_database() {
    for app in apps().await {
        let (status, page) = app.get_text("/").await;
        assert_eq!(status, 200);
        assert!(page.contains("finops demo"), "{}", app.backend.name());
        let (status, month) = app.get_text("/month?month=2026-10").await;
        assert_eq!(status, 200);
        assert!(month.contains("No costs in October 2026"));
        let (status, _) = app.get_text("/costs").await;
        assert_eq!(status, 200);
    }
}

#[tokio::test]
async fn responses_carry_security_headers_and_static_files_are_served() {
    for app in apps().await {
        let r = app.get("/").await;
        let csp = r.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .to_string();
        assert!(
            csp.contains("frame-ancestors 'none'") && !csp.contains("unsafe-inline"),
            "{csp}"
        );
        assert_eq!(r.headers()["x-content-type-options"], "nosniff");
        let r = app.get("/static/finops.css").await;
        assert_eq!(r.status(), 200);
        assert!(r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/css"));
        assert_eq!(app.get("/static/../Cargo.toml").await.status(), 404);
        assert_eq!(app.get("/no/such/page").await.status(), 404);
    }
}

/// October (31 days) against September (30): the Month review says the
/// change per day too, and splits it by platform into volume, unit cost
/// and the rest, which add up to the change to the cent.
#[tokio::test]
async fn the_month_review_explains_the_change_per_day_and_by_driver() {
    for app in apps().await {
        app.load_demo(42, 3).await;
        let (status, html) = app.get_text("/month?month=2026-10").await;
        assert_eq!(status, 200);
        assert!(
            html.contains("(31 days against 30); per day"),
            "the tile says it"
        );
        let headline = element_text(&html, "why-headline").unwrap();
        assert!(headline.contains("per day"), "{headline}");
        assert!(html.contains("id=\"why-table\""));
        let change = dollars_to_micros(&element_text(&html, "why-change").unwrap());
        let parts = ["why-volume", "why-unit-cost", "why-rest"]
            .map(|id| dollars_to_micros(&element_text(&html, id).unwrap()));
        assert_eq!(
            parts.iter().sum::<i64>(),
            change,
            "{parts:?} add up to {change}"
        );
        // Volume and unit cost are both at work in a month of the demo.
        assert!(parts[0] != 0 && parts[1] != 0, "{parts:?}");
    }
}

/// Scenarios compare month by month and say where they differ from the
/// plan of record, in a table that fits the page.
#[tokio::test]
async fn scenarios_compare_month_by_month() {
    for app in apps().await {
        app.load_demo(42, 6).await;
        let (status, html) = app.get_text("/scenarios").await;
        assert_eq!(status, 200);
        assert!(html.contains("id=\"scenario-months\""), "{html}");
        assert!(html.contains("Differs from the plan of record in"));
        assert!(
            html.contains("class=\"stack differs\""),
            "some month differs"
        );
        assert!(html.contains("partial:"), "a horizon's cut month is marked");
        // The plan of record's 80 % interval is the Forecast page's own for
        // the same 180 days (from sample paths, not summed daily bounds).
        let (_, forecast) = app.get_text("/forecast").await;
        let at = forecast.find("id=\"tile-horizon\"").unwrap();
        let tile = &forecast[at..];
        let band = tile.split("80 %: ").nth(1).unwrap();
        let band = band[..band.find('<').unwrap()].trim().to_string();
        assert!(html.contains(&band), "{band} is not on Scenarios");
    }
}

/// Tables people sort carry `sortable`, and the script that sorts them is
/// served from the service itself (the CSP allows no other).
#[tokio::test]
async fn tables_that_people_sort_are_sortable() {
    for app in apps().await {
        app.load_demo(42, 3).await;
        let (_, overview) = app.get_text("/?from=2026-10-01&to=2026-10-31").await;
        for id in ["by-platform", "by-region", "movers", "unit-costs"] {
            assert!(
                overview.contains(&format!("sortable\" id=\"{id}\"")),
                "{id} sorts"
            );
        }
        let (_, month) = app.get_text("/month?month=2026-10").await;
        assert!(month.contains("sortable\" id=\"month-table\""));
        let (_, costs) = app.get_text("/costs").await;
        assert!(costs.contains("id=\"explorer-table\""));
        assert!(costs.contains("sortable"));
        let (status, js) = app.get_text("/static/sort.js").await;
        assert_eq!(status, 200);
        assert!(js.contains("aria-sort"));
    }
}

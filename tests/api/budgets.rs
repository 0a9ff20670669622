//! Budgets: `finops budget set|import|list|remove`, the Budgets page, and
//! the Month review showing a top-down total apart from the platform
//! budgets, on both backends.

use finops::auth::Role;

use crate::helpers::{
    apps, assert_ran, decimal_micros, element_text, finops_cli, postgres_available, Backend, TestDb,
};

fn list_json(url: &str, from: &str, to: &str) -> Vec<serde_json::Value> {
    let out = finops_cli(
        url,
        &[
            "budget", "list", "--from", from, "--to", to, "--format", "json",
        ],
        "",
    );
    assert_ran(&out);
    serde_json::from_slice::<serde_json::Value>(&out.stdout)
        .expect("json")
        .as_array()
        .expect("array")
        .clone()
}

#[test]
fn budgets_are_set_imported_listed_and_removed_from_the_cli() {
    for backend in [Backend::Sqlite, Backend::Postgres] {
        if backend == Backend::Postgres && !postgres_available() {
            continue;
        }
        let db = TestDb::create(backend);
        let url = db.url();
        let dir = tempfile::tempdir().unwrap();

        // A bad line stores nothing and names the file, line and column.
        let bad = dir.path().join("budgets.csv");
        std::fs::write(
            &bad,
            "period,amount,platform\n2027-Q1,2700000.01,\n2027-01,410000,Dreamcast\n",
        )
        .unwrap();
        let out = finops_cli(url, &["budget", "import", bad.to_str().unwrap()], "");
        assert_eq!(out.status.code(), Some(2));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("budgets.csv: line 3, column platform") && err.contains("Dreamcast"),
            "{err}"
        );
        assert!(list_json(url, "2027-01", "2027-03").is_empty());

        // A quarter spreads over its months by days, to the cent.
        let good = dir.path().join("plan.csv");
        std::fs::write(
            &good,
            "period,amount,platform,basis,note\n2027-Q1,2700000.01,,,FY27 v1\n2027-01,410000,PC,,\n2027-02,100000,PC,billed,\n",
        )
        .unwrap();
        for _ in 0..2 {
            assert_ran(&finops_cli(
                url,
                &["budget", "import", good.to_str().unwrap()],
                "",
            ));
        }
        let rows = list_json(url, "2027-01", "2027-03");
        assert_eq!(rows.len(), 5, "re-importing replaces: {rows:?}");
        let total: i64 = rows
            .iter()
            .filter(|r| r["platform"] == "all")
            .map(|r| decimal_micros(r["budget"].as_str().unwrap()))
            .sum();
        assert_eq!(total, 2_700_000_010_000);
        let jan_total = rows
            .iter()
            .find(|r| r["platform"] == "all" && r["month"] == "2027-01")
            .unwrap();
        assert_eq!(jan_total["budget"], "930000.00");
        assert_eq!(jan_total["note"], "FY27 v1");
        assert_eq!(jan_total["quarter_budget"], "2700000.01");
        assert!(rows
            .iter()
            .any(|r| r["platform"] == "PC" && r["basis"] == "billed" && r["month"] == "2027-02"));

        // Set replaces one; remove removes it; removing again is an error.
        assert_ran(&finops_cli(
            url,
            &["budget", "set", "2027-01", "500000", "--platform", "pc"],
            "",
        ));
        let rows = list_json(url, "2027-01", "2027-01");
        let pc: Vec<_> = rows.iter().filter(|r| r["platform"] == "PC").collect();
        assert_eq!(pc.len(), 1);
        assert_eq!(pc[0]["budget"], "500000.00");
        let out = finops_cli(
            url,
            &["budget", "remove", "2027-01", "--platform", "PC"],
            "",
        );
        assert_ran(&out);
        assert!(String::from_utf8_lossy(&out.stdout).contains("removed 1"));
        let out = finops_cli(
            url,
            &["budget", "remove", "2027-01", "--platform", "PC"],
            "",
        );
        assert_eq!(out.status.code(), Some(2));
        for bad_args in [
            vec!["budget", "set", "2027-Q5", "100"],
            vec!["budget", "set", "2027-01", "12.345"],
            vec!["budget", "set", "2027-01", "100", "--basis", "list"],
        ] {
            let out = finops_cli(url, &bad_args, "");
            assert_eq!(out.status.code(), Some(2), "{bad_args:?}");
        }

        // Every change is audited.
        let out = finops_cli(url, &["audit", "--action", "budget.change", "--json"], "");
        assert_ran(&out);
        let entries: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert!(entries.as_array().unwrap().len() >= 4, "{entries}");
    }
}

#[tokio::test]
async fn analysts_set_budgets_in_the_browser_and_viewers_read_them() {
    for app in apps().await {
        app.load_demo(42, 3).await;
        let (status, html) = app.get_text("/budgets?month=2026-10").await;
        assert_eq!(status, 200);
        assert!(html.contains("The total and its parts") && html.contains("budget-table"));
        let post = |path: &str, body: String| {
            app.client
                .post(format!("{}{}", app.address, path))
                .header("content-type", "application/x-www-form-urlencoded")
                .body(body)
                .send()
        };
        let r = post(
            "/budgets",
            "period=2027-Q1&amount=3000000&platform=&region=&service=&basis=effective&note=next+quarter".into(),
        )
        .await
        .unwrap();
        assert_eq!(r.status().as_u16(), 303);
        assert_eq!(
            r.headers()["location"].to_str().unwrap(),
            "/budgets?month=2027-01&saved=3"
        );
        let rows: Vec<_> = app
            .with_conn(|c| finops::db::budgets::budgets_between(c, "2027-01", "2027-03").unwrap())
            .await
            .into_iter()
            .filter(|b| b.is_total())
            .collect();
        assert_eq!(rows.len(), 3, "{rows:?}");
        assert_eq!(
            rows.iter().map(|b| b.amount_micros).sum::<i64>(),
            3_000_000_000_000
        );
        let (_, html) = app.get_text("/budgets?month=2027-02").await;
        assert!(
            html.contains("next quarter") && html.contains("$3,000,000.00"),
            "{html}"
        );

        // Refused with the field named, nothing stored.
        let r = post("/budgets", "period=2027-04&amount=abc".into())
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 422);
        assert!(r.text().await.unwrap().contains("Amount:"));
        let r = post(
            "/budgets",
            "period=2027-04&amount=10&platform=Dreamcast".into(),
        )
        .await
        .unwrap();
        assert_eq!(r.status().as_u16(), 422);

        // Viewers read and cannot change.
        let viewer = app.client_as(Role::Viewer).await;
        let r = viewer
            .get(format!("{}/budgets?month=2027-01", app.address))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 200);
        assert!(r
            .text()
            .await
            .unwrap()
            .contains("analysts and admins set them"));
        let r = viewer
            .post(format!("{}/budgets", app.address))
            .header("content-type", "application/x-www-form-urlencoded")
            .body("period=2027-04&amount=10")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 403);

        // Remove one month.
        let id = rows[0].id;
        let r = post("/budgets/delete", format!("id={id}")).await.unwrap();
        assert_eq!(r.status().as_u16(), 303);
        let r = post("/budgets/delete", format!("id={id}")).await.unwrap();
        assert_eq!(r.status().as_u16(), 404);
    }
}

#[tokio::test]
async fn a_total_within_budget_does_not_hide_an_overspent_platform() {
    for app in apps().await {
        app.load_demo(42, 3).await;
        let (_, month) = app.get_json("/api/v1/month?month=2026-10").await;
        let effective =
            |p: &serde_json::Value| decimal_micros(p["current"]["effective"].as_str().unwrap());
        let total = decimal_micros(month["total"]["effective"].as_str().unwrap());
        let pc = month["platforms"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["platform"] == "PC")
            .map(effective)
            .unwrap();
        // A generous total, PC at half of what it spent, Xbox unbudgeted.
        let pool = app.pool.clone();
        tokio::task::spawn_blocking(move || {
            let mut conn = pool.get().unwrap();
            let mut rows = finops::db::budgets::budgets_for_month(&mut conn, "2026-10").unwrap();
            rows.retain(|b| b.platform != "Xbox");
            let mut new: Vec<finops::db::budgets::NewBudget> = rows
                .iter()
                .map(|b| {
                    let amount = match b.platform.as_str() {
                        "all" => total * 2 / 1_000_000 * 1_000_000,
                        "PC" => pc / 2 / 1_000_000 * 1_000_000,
                        _ => b.amount_micros,
                    };
                    finops::db::budgets::NewBudget::platform(
                        "2026-10",
                        &b.platform,
                        finops::money::Micros(amount),
                        "USD",
                    )
                })
                .collect();
            new.sort_by(|a, b| a.platform.cmp(&b.platform));
            finops::db::budgets::replace_budgets(&mut conn, &new).unwrap();
        })
        .await
        .unwrap();
        app.cache.invalidate();
        let (status, html) = app.get_text("/month?month=2026-10").await;
        assert_eq!(status, 200);
        let tile = html
            .split("id=\"tile-budget\"")
            .nth(1)
            .and_then(|t| t.split("</div>").nth(2))
            .unwrap_or_default()
            .to_string();
        assert!(html.contains("over budget: PC"), "{tile}");
        assert!(html.contains("Total budget (top-down)"));
        assert!(html.contains("platform budgets sum to"));
        // The Total row's budget is the sum of the platform rows; the
        // top-down total is its own row.
        let (_, parts) = app.get_text("/budgets?month=2026-10").await;
        let sum = element_text(&parts, "parts-sum").unwrap();
        assert_eq!(element_text(&html, "month-platform-budgets").unwrap(), sum);
        assert_eq!(
            crate::helpers::dollars_to_micros(&element_text(&html, "month-total-budget").unwrap()),
            total * 2 / 1_000_000 * 1_000_000
        );
        let unbudgeted = element_text(&parts, "parts-unbudgeted").unwrap();
        assert!(
            unbudgeted.starts_with('$') && !unbudgeted.starts_with("$0.00"),
            "{unbudgeted}"
        );
        assert!(parts.contains("Xbox"), "Xbox has no budget: {parts}");
    }
}

/// A budget on a tag value counts the billing lines that carry it, to the
/// cent, and stays apart from the platform budgets and the total.
#[test]
fn a_budget_on_a_tag_value_counts_the_lines_carrying_it() {
    for backend in [Backend::Sqlite, Backend::Postgres] {
        if backend == Backend::Postgres && !postgres_available() {
            continue;
        }
        let db = TestDb::create(backend);
        let url = db.url();
        let dir = tempfile::tempdir().unwrap();
        let mut bill = String::from("BilledCost,EffectiveCost,BillingAccountId,BillingCurrency,BillingPeriodStart,ChargeCategory,ChargePeriodStart,ChargePeriodEnd,ProviderName,RegionId,ServiceName,SubAccountId,ResourceId,Tags\n");
        let start = chrono::NaiveDate::from_ymd_opt(2026, 3, 1).unwrap();
        for i in 0..40i64 {
            let d = start + chrono::Duration::days(i);
            let period = format!("{}", d.format("%Y-%m-01"));
            let next = d + chrono::Duration::days(1);
            let core = 100.37 + 0.01 * i as f64;
            for (cost, resource, tags) in [
                (
                    core,
                    "i-core",
                    r#""{""platform"": ""PC"", ""team"": ""core""}""#,
                ),
                (
                    55.55,
                    "i-edge",
                    r#""{""platform"": ""PC"", ""team"": ""core-edge""}""#,
                ),
                (10.0, "i-none", ""),
            ] {
                bill.push_str(&format!(
                    "{cost:.2},{cost:.2},100,USD,{period},Usage,{d}T00:00:00Z,{next}T00:00:00Z,AWS,eu-west-1,Amazon EC2,200,{resource},{tags}\n"
                ));
            }
        }
        let path = dir.path().join("focus.csv");
        std::fs::write(&path, bill).unwrap();
        assert_ran(&finops_cli(
            url,
            &["ingest", "focus", path.to_str().unwrap()],
            "",
        ));
        assert_ran(&finops_cli(
            url,
            &["budget", "set", "2026-03", "5000", "--tag", "team=core"],
            "",
        ));
        assert_ran(&finops_cli(url, &["budget", "set", "2026-03", "9000"], ""));
        let out = finops_cli(
            url,
            &["budget", "set", "2026-03", "10", "--tag", "core"],
            "",
        );
        assert_eq!(out.status.code(), Some(2));
        assert!(String::from_utf8_lossy(&out.stderr).contains("key=value"));

        let rows = list_json(url, "2026-03", "2026-03");
        assert_eq!(rows.len(), 2, "{rows:#?}");
        let tagged = rows.iter().find(|r| r["tag"] == "team=core").unwrap();
        // 31 March days of 100.37 + 0.01 × day: the "core-edge" lines and
        // the untagged ones are not counted.
        assert_eq!(tagged["actual"], "3116.12");
        assert_eq!(tagged["platform"], "all");
        let total = rows.iter().find(|r| r["tag"] == "").unwrap();
        assert_eq!(total["actual"], format!("{:.2}", 3116.12 + 31.0 * 65.55));
        // Removing it names the tag; the total stays.
        assert_ran(&finops_cli(
            url,
            &["budget", "remove", "2026-03", "--tag", "team=core"],
            "",
        ));
        assert_eq!(list_json(url, "2026-03", "2026-03").len(), 1);
    }
}

//! Recommendations end to end: the page, its CSV and JSON on demo data in
//! SQLite and PostgreSQL (totals tie out to the cent, prices to the
//! catalog), capacity held for an event, the catalog and commitments
//! imports, and the CLI.

use std::collections::BTreeMap;

use crate::helpers::{apps, demo_end, dollars_to_micros, element_text, Backend, TestApp, TestDb};

fn csv_rows(body: &[u8]) -> Vec<BTreeMap<String, String>> {
    crate::helpers::csv_records(body)
}

fn cents(text: &str) -> i64 {
    crate::helpers::decimal_micros(text)
}

#[tokio::test(flavor = "multi_thread")]
async fn recommendations_on_demo_data_tie_out_and_explain_themselves() {
    for app in apps().await {
        recommendations_on(&app).await;
    }
}

async fn recommendations_on(app: &TestApp) {
    let backend = app.backend.name();
    app.load_demo(42, 6).await;

    let (status, html) = app.get_text("/recommendations").await;
    assert_eq!(status, 200, "{backend}: {html}");
    let rightsizing_tile = element_text(&html, "tile-rightsizing").expect("rightsizing tile");
    let compute_tile = element_text(&html, "tile-compute-plan").expect("compute tile");
    let total_tile = element_text(&html, "tile-total").expect("total tile");
    assert!(
        dollars_to_micros(&rightsizing_tile) > 0,
        "{backend}: {rightsizing_tile}"
    );

    // The CSV of the same view ties out to the tiles to the cent.
    let (status, body) = app.get_bytes("/recommendations.csv").await;
    assert_eq!(status, 200);
    let rows = csv_rows(&body);
    assert!(!rows.is_empty());
    let rightsizing: i64 = rows
        .iter()
        .filter(|r| r["kind"] == "rightsize" || r["kind"] == "terminate")
        .map(|r| cents(&r["monthly_savings"]))
        .sum();
    assert_eq!(
        rightsizing,
        dollars_to_micros(&rightsizing_tile),
        "{backend}"
    );
    let compute: Vec<&BTreeMap<String, String>> = rows
        .iter()
        .filter(|r| r["kind"] == "compute_savings_plan")
        .collect();
    assert_eq!(compute.len(), 1, "{backend}: one Compute Savings Plan");
    assert_eq!(
        cents(&compute[0]["monthly_savings"]),
        dollars_to_micros(&compute_tile)
    );
    // Alternatives are not added: the total is rightsizing + the better plan.
    let mut per_family: BTreeMap<(String, String), i64> = BTreeMap::new();
    for r in rows
        .iter()
        .filter(|r| r["kind"] == "ec2_instance_savings_plan" || r["kind"] == "reserved_instances")
    {
        let e = per_family
            .entry((r["region"].clone(), r["family"].clone()))
            .or_insert(0);
        *e = (*e).max(cents(&r["monthly_savings"]));
    }
    let family_plan: i64 = per_family.values().sum();
    // A Compute Savings Plan held is shared out by each family's part of
    // the pool: the families' "already covered" adds up to no more than
    // the pool's, and none is covered beyond its own usage.
    let current = |r: &BTreeMap<String, String>| -> (i64, i64) {
        let text = &r["current"];
        let (forecast, covered) = text.split_once(" /h on demand forecast, ").expect(text);
        let covered = covered.trim_end_matches(" /h already covered");
        (dollars_to_micros(forecast), dollars_to_micros(covered))
    };
    let mut family_cover: BTreeMap<(String, String), i64> = BTreeMap::new();
    for r in rows
        .iter()
        .filter(|r| r["kind"] == "ec2_instance_savings_plan")
    {
        let (forecast, covered) = current(r);
        assert!(covered <= forecast + 10_000, "{backend}: {r:?}");
        family_cover.insert((r["region"].clone(), r["family"].clone()), covered);
    }
    let (_, pool_cover) = current(compute[0]);
    assert!(
        family_cover.values().sum::<i64>() <= pool_cover + 10_000 * family_cover.len() as i64,
        "{backend}: {family_cover:?} against {pool_cover}"
    );
    assert_eq!(
        dollars_to_micros(&total_tile),
        rightsizing + cents(&compute[0]["monthly_savings"]).max(family_plan),
        "{backend}"
    );
    // The upfront of the plan the total counts, in a tile and per row;
    // all upfront is the whole term's commitment paid at purchase.
    let mut family_upfront: BTreeMap<(String, String), (i64, i64)> = BTreeMap::new();
    for r in rows
        .iter()
        .filter(|r| r["kind"] == "ec2_instance_savings_plan" || r["kind"] == "reserved_instances")
    {
        let e = family_upfront
            .entry((r["region"].clone(), r["family"].clone()))
            .or_insert((0, 0));
        if cents(&r["monthly_savings"]) > e.0 {
            *e = (cents(&r["monthly_savings"]), cents(&r["upfront"]));
        }
    }
    let upfront_tile = element_text(&html, "tile-upfront").expect("upfront tile");
    let expected_upfront = if cents(&compute[0]["monthly_savings"]) >= family_plan {
        cents(&compute[0]["upfront"])
    } else {
        family_upfront.values().map(|v| v.1).sum()
    };
    assert_eq!(
        dollars_to_micros(&upfront_tile),
        expected_upfront,
        "{backend}"
    );
    for r in rows
        .iter()
        .filter(|r| r["status"] == "actionable" && !r["term_years"].is_empty())
    {
        let upfront = cents(&r["upfront"]);
        let hourly = cents(&r["hourly_commitment"]);
        let years: i64 = r["term_years"].parse().unwrap();
        let hours = 24 * 365 * years;
        let whole_term = hourly * hours;
        // The hourly commitment is shown to the cent: half a cent an hour
        // over the term, on top of 1 %.
        let shown = 5_000 * hours;
        match r["payment"].as_str() {
            "no upfront" => assert_eq!(upfront, 0, "{backend}: {r:?}"),
            "all upfront" => assert!(
                (upfront - whole_term).abs() <= whole_term / 100 + 10_000 + shown,
                "{backend}: {upfront} against {whole_term}: {r:?}"
            ),
            _ => assert!(upfront > 0 && upfront < whole_term, "{backend}: {r:?}"),
        }
    }
    assert!(html.contains("<th scope=\"col\" class=\"num\">Upfront</th>"));
    // The purchase plan: the better plan's purchases, with their upfront
    // and savings adding up to the tiles.
    let plan_upfront = element_text(&html, "plan-upfront").expect("purchase plan");
    assert_eq!(
        dollars_to_micros(&plan_upfront),
        expected_upfront,
        "{backend}"
    );
    let plan_savings = element_text(&html, "plan-savings").expect("plan savings");
    assert_eq!(
        dollars_to_micros(&plan_savings),
        cents(&compute[0]["monthly_savings"]).max(family_plan),
        "{backend}"
    );
    assert!(
        html.contains("Instead: "),
        "{backend}: the alternative named"
    );
    // The commitments held: the demo's list, soonest end first, linked
    // from the page.
    assert!(html.contains("href=\"/recommendations/held\""));
    let (status, held_html) = app.get_text("/recommendations/held").await;
    assert_eq!(status, 200, "{backend}: {held_html}");
    let held_rows = held_html.matches("<th scope=\"row\">").count();
    assert!(held_html.contains(">Coverage</th>"), "{backend}");
    assert!(held_rows >= 1, "{backend}: the demo holds commitments");
    // The tile counts those still running; the expired ones are listed
    // ("expired N days ago") and counted in its note.
    let expired = held_html.matches(">expired ").count();
    assert_eq!(
        element_text(&held_html, "tile-held").as_deref(),
        Some((held_rows - expired).to_string().as_str()),
        "{backend}"
    );
    // The built-in catalog's commitment rates are derived: the page says
    // they are not for a purchase order.
    assert!(html.contains("id=\"derived-rates\""), "{backend}");

    // Every resize saves exactly the catalog's price difference.
    let catalog = finops::pricing::built_in();
    let mut resized = 0;
    for r in rows.iter().filter(|r| r["kind"] == "rightsize") {
        let (count, to) = r["recommended"].split_once(" × ").expect("n × type");
        let count: i64 = count.split(' ').next().unwrap().parse().unwrap();
        let price = |t: &str| catalog.prices("ec2", t, &r["region"]).expect(t).on_demand.0;
        let diff = price(&r["instance_type"]) - price(to);
        // 730 hours a month, rounded to the cent in the CSV.
        let exact = count * diff * 730;
        assert!(
            (cents(&r["monthly_savings"]) - exact).abs() <= 5_000,
            "{backend}: {r:?}"
        );
        resized += 1;
    }
    assert!(resized > 0, "{backend}: the oversized backends are resized");
    let idle: Vec<_> = rows.iter().filter(|r| r["kind"] == "terminate").collect();
    assert!(idle.len() >= 3, "{backend}: idle instances found");
    assert!(idle.iter().all(|r| r["reason"].contains("idle")));

    // Commitments carry utilisation, coverage, break-even and P10/P90.
    let c = compute[0];
    let utilisation: f64 = c["expected_utilisation"].parse().unwrap();
    assert!(
        (0.5..=1.0).contains(&utilisation),
        "{backend}: {utilisation}"
    );
    assert!(!c["break_even_month"].is_empty());
    assert!(cents(&c["p10_monthly_savings"]) <= cents(&c["monthly_savings"]));
    assert!(cents(&c["monthly_savings"]) <= cents(&c["p90_monthly_savings"]));
    assert!(
        c["reason"].contains("forecast"),
        "{backend}: {}",
        c["reason"]
    );

    // The JSON API has the fields a script needs.
    let (status, json) = app
        .get_json("/api/v1/recommendations?kind=commitments")
        .await;
    assert_eq!(status, 200);
    let recs = json["recommendations"].as_array().expect("list");
    assert!(!recs.is_empty());
    for r in recs {
        for field in [
            "kind",
            "scope",
            "current",
            "recommended",
            "monthly_savings",
            "reason",
        ] {
            assert!(!r[field].is_null(), "{backend}: {field} in {r}");
        }
        assert!(r["scope"]["region"].is_string());
        if r["status"] == "actionable" {
            assert!(r["expected_utilisation"].is_number(), "{r}");
        }
    }

    let (status, json) = app.get_json("/api/v1/recommendations?kind=bogus").await;
    assert_eq!(status, 400);
    assert!(
        json["error"]["message"].as_str().unwrap().contains("kind"),
        "{json}"
    );

    // Filters and sorting.
    let (_, body) = app
        .get_bytes("/recommendations.csv?kind=terminate&sort=savings&dir=asc")
        .await;
    let only = csv_rows(&body);
    assert!(only.iter().all(|r| r["kind"] == "terminate"));
    let savings: Vec<i64> = only.iter().map(|r| cents(&r["monthly_savings"])).collect();
    assert!(savings.windows(2).all(|w| w[0] <= w[1]), "{savings:?}");
    let (_, body) = app
        .get_bytes("/recommendations.csv?region=eu-west-1&kind=rightsizing")
        .await;
    assert!(csv_rows(&body).iter().all(|r| r["region"] == "eu-west-1"));

    // The detail views: a commitment with every option, a ladder and a
    // what-if; a rightsizing with its utilisation chart.
    let id = &c["id"];
    let (status, detail) = app
        .get_text(&format!(
            "/recommendations/detail?id={}&what_if=10",
            urlencode(id)
        ))
        .await;
    assert_eq!(status, 200, "{backend}: {detail}");
    assert!(
        detail.matches("<tr").count() >= 7,
        "{backend}: six options and more"
    );
    assert!(detail.contains("id=\"options-table\""));
    assert!(detail.contains("id=\"ladder-table\""));
    assert!(
        element_text(&detail, "what-if-savings").is_some(),
        "{backend}"
    );
    assert!(detail.contains("<svg"), "chart");
    // The new commitment covers from the day it is bought (the demo's is
    // queued behind the plan it holds), and the axis names the currency.
    let bought = c["recommended"]
        .rsplit_once(", from ")
        .map(|(_, d)| d.to_string())
        .unwrap_or_default();
    assert!(
        detail.contains(&format!("Covered: held + recommended (from {bought}")),
        "{backend}: {bought}"
    );
    assert!(detail.contains("spend per hour (USD)"), "{backend}");
    assert!(detail.contains("id=\"derived-rates\""), "{backend}");
    assert!(
        detail.contains("id=\"duration\""),
        "{backend}: the hours' distribution"
    );
    let resize = rows.iter().find(|r| r["kind"] == "rightsize").unwrap();
    let (status, detail) = app
        .get_text(&format!(
            "/recommendations/detail?id={}",
            urlencode(&resize["id"])
        ))
        .await;
    assert_eq!(status, 200);
    assert!(detail.contains("<svg") && detail.contains("capacity, % of the current type"));

    // Bad parameters are refused and named; an unknown id is a 404.
    let (status, body) = app.get_text("/recommendations?lookback=10").await;
    assert_eq!(status, 400);
    assert!(body.contains("lookback"));
    let (status, body) = app.get_text("/recommendations?platform=Dreamcast").await;
    assert_eq!(status, 400);
    assert!(body.contains("Dreamcast"), "{body}");
    let (status, _) = app.get_text("/recommendations/detail?id=nothing").await;
    assert_eq!(status, 404);
}

fn urlencode(text: &str) -> String {
    form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn capacity_an_event_needs_is_held_and_named() {
    let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
    app.load_demo(42, 3).await;
    let (_, before) = app.get_bytes("/recommendations.csv?status=all").await;
    let before = csv_rows(&before);
    let resize = before
        .iter()
        .find(|r| r["kind"] == "rightsize" && r["status"] == "actionable")
        .expect("a resize")
        .clone();
    // A launch in that region in ten days, its uplift not yet known.
    let region = resize["region"].clone();
    app.with_conn(move |conn| {
        let start = demo_end() + chrono::Duration::days(10);
        let event = finops::calendar::CalendarEvent {
            id: None,
            name: "Raid expansion launch".to_string(),
            kind: finops::calendar::EventKind::Launch,
            start,
            end: start + chrono::Duration::days(6),
            platforms: Vec::new(),
            regions: vec![region],
            expected_uplift: None,
            ramp_days: None,
            notes: String::new(),
            source: "test".to_string(),
        };
        finops::db::calendar::replace_source(conn, "test", &[event]).unwrap();
    })
    .await;
    app.cache.invalidate();
    let (_, after) = app.get_bytes("/recommendations.csv?status=all").await;
    let after = csv_rows(&after);
    let held: Vec<_> = after
        .iter()
        .filter(|r| r["status"] == "held" && r["region"] == resize["region"])
        .collect();
    assert!(!held.is_empty(), "{after:?}");
    assert!(held
        .iter()
        .all(|r| r["reason"].contains("Raid expansion launch")));
    assert!(held.iter().all(|r| r["monthly_savings"] == "0.00"));
    // Held capacity is not counted; idle machines still are (they serve
    // no one).
    let (_, html) = app.get_text("/recommendations").await;
    let tile = dollars_to_micros(&element_text(&html, "tile-rightsizing").unwrap());
    let counted: i64 = after
        .iter()
        .filter(|r| {
            r["status"] == "actionable" && (r["kind"] == "rightsize" || r["kind"] == "terminate")
        })
        .map(|r| cents(&r["monthly_savings"]))
        .sum();
    assert_eq!(tile, counted);
    assert!(
        after.iter().any(|r| r["kind"] == "terminate"
            && r["region"] == resize["region"]
            && r["status"] == "actionable")
            || !before
                .iter()
                .any(|r| r["kind"] == "terminate" && r["region"] == resize["region"])
    );
}

fn finops(db: &str, args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_finops"))
        .args(["--database", db])
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap()
}

fn stderr(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stderr).to_string()
}

#[test]
fn the_catalog_and_commitments_imports_refuse_bad_files_and_change_nothing() {
    for backend in [Backend::Sqlite, Backend::Postgres] {
        if backend == Backend::Postgres && !crate::helpers::postgres_available() {
            continue;
        }
        imports_on(backend);
    }
}

fn imports_on(backend: Backend) {
    let db = TestDb::create(backend);
    let url = db.url();
    let dir = tempfile::tempdir().unwrap();
    let out = finops(url, &["demo", "--months", "3"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let show =
        |url: &str| String::from_utf8_lossy(&finops(url, &["catalog", "show"]).stdout).to_string();
    assert!(show(url).contains("built in"), "{}", show(url));

    // A bad cell: named by line and column; the built-in catalog stays.
    let built_in = finops::pricing::BUILT_IN;
    let header_line = built_in
        .lines()
        .position(|l| l.starts_with("service,"))
        .unwrap();
    let mut lines: Vec<String> = built_in.lines().map(str::to_string).collect();
    let mut cells: Vec<String> = lines[header_line + 3]
        .split(',')
        .map(str::to_string)
        .collect();
    cells[8] = "lots".to_string();
    lines[header_line + 3] = cells.join(",");
    let bad = dir.path().join("prices.csv");
    std::fs::write(&bad, lines.join("\n")).unwrap();
    let out = finops(url, &["catalog", "import", bad.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains(&format!("prices.csv, line {}", header_line + 4)),
        "{}",
        stderr(&out)
    );
    assert!(show(url).contains("built in"));

    // A good catalog: twice the prices, same types. Savings double.
    let before: serde_json::Value = serde_json::from_slice(
        &finops(url, &["recommend", "rightsizing", "--format", "json"]).stdout,
    )
    .unwrap();
    let doubled: Vec<String> = built_in
        .lines()
        .map(|l| {
            if l.starts_with('#') || l.starts_with("service,") {
                return l.to_string();
            }
            let cells: Vec<String> = l
                .split(',')
                .enumerate()
                .map(|(i, c)| {
                    if i >= 8 && !c.is_empty() {
                        let micros = finops::money::Micros::parse(c).unwrap().0;
                        finops::money::Micros(micros * 2).to_decimal(6)
                    } else {
                        c.to_string()
                    }
                })
                .collect();
            cells.join(",")
        })
        .collect();
    let good = dir.path().join("negotiated.csv");
    std::fs::write(&good, doubled.join("\n")).unwrap();
    let out = finops(url, &["catalog", "import", good.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(show(url).contains("negotiated.csv"));
    let after: serde_json::Value = serde_json::from_slice(
        &finops(url, &["recommend", "rightsizing", "--format", "json"]).stdout,
    )
    .unwrap();
    let total = |v: &serde_json::Value| -> i64 {
        v.as_array()
            .unwrap()
            .iter()
            .map(|r| {
                finops::money::Micros::parse(r["monthly_savings"].as_str().unwrap())
                    .unwrap()
                    .0
            })
            .sum()
    };
    let (b, a) = (total(&before), total(&after));
    assert!(
        (a - 2 * b).abs() <= 10_000 * before.as_array().unwrap().len() as i64,
        "{b} → {a}"
    );

    // Commitments held: a bad date is named; a good file replaces the list.
    let bad = dir.path().join("held.csv");
    std::fs::write(
        &bad,
        "commitment_id,kind,region,family,instance_type,instance_count,hourly_commitment,term_years,payment,start_date,end_date\n\
         ri-1,reserved,eu-west-1,c6i,c6i.4xlarge,10,4.2,1,all,2026-13-01,2027-11-30\n",
    )
    .unwrap();
    let out = finops(url, &["ingest", "commitments", bad.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("line 2") && stderr(&out).contains("start_date"),
        "{}",
        stderr(&out)
    );
    let good = dir.path().join("held-good.csv");
    std::fs::write(
        &good,
        "commitment_id,kind,region,family,instance_type,instance_count,hourly_commitment,term_years,payment,start_date,end_date\n\
         ri-1,reserved,eu-west-1,c6i,c6i.4xlarge,10,4.2,1,all,2026-10-01,2027-09-30\n",
    )
    .unwrap();
    let out = finops(url, &["ingest", "commitments", good.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = finops(
        url,
        &[
            "recommend",
            "commitments",
            "--kind",
            "reserved_instances",
            "--format",
            "csv",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let rows = csv_rows(&out.stdout);
    let eu = rows
        .iter()
        .find(|r| r["region"] == "eu-west-1" && r["family"] == "c6i")
        .expect("eu-west-1 c6i");
    assert!(
        !eu["current"].contains("$0.00 /h already covered"),
        "{eu:?}"
    );

    // What if: the outcome of a typed commitment.
    let out = finops(url, &["recommend", "commitments", "--what-if", "50"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("What if $50.00 /h") && text.contains("utilisation"),
        "{text}"
    );
    let out = finops(url, &["recommend", "rightsizing", "--lookback", "20"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("14, 32 or 93"));
}

#[tokio::test(flavor = "multi_thread")]
async fn hourly_utilisation_shapes_the_commitment_within_the_day() {
    let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
    app.load_demo(42, 3).await;
    let commitment = |app: &TestApp| {
        let pool = app.pool.clone();
        async move {
            tokio::task::spawn_blocking(move || {
                let mut conn = pool.get().unwrap();
                let c = finops::recommend::run::commitments(
                    &mut conn,
                    &finops::recommend::purchase::PurchaseOptions::default(),
                )
                .unwrap();
                let plan = &c.plans[0];
                (
                    plan.usage.steps_per_day,
                    plan.options[plan.best.unwrap()].outcome.commitment,
                )
            })
            .await
            .unwrap()
        }
    };
    let (steps, daily) = commitment(&app).await;
    assert_eq!(steps, 1, "daily data: the day's average hour");
    // Ten days of hourly data: a fleet three times as busy in the evening.
    app.with_conn(|conn| {
        let start = (demo_end() - chrono::Duration::days(10)).and_time(chrono::NaiveTime::MIN);
        let rows: Vec<finops::db::utilisation::NewUtilisation> = (0..24 * 10)
            .map(|i| finops::db::utilisation::NewUtilisation {
                period_start: start + chrono::Duration::hours(i),
                granularity: "hour".to_string(),
                resource_id: "fleet-hourly".to_string(),
                resource_kind: "instance".to_string(),
                instance_type: "c6i.4xlarge".to_string(),
                region: "eu-west-1".to_string(),
                platform: "PC".to_string(),
                running_hours: if (18..24).contains(&(i % 24)) {
                    3.0
                } else {
                    1.0
                },
                cpu_avg: 40.0,
                cpu_p95: None,
                cpu_p99: None,
                cpu_max: 60.0,
                mem_avg: None,
                mem_max: None,
                network_bytes: None,
                source: "test".to_string(),
                ingest_run_id: None,
            })
            .collect();
        finops::db::utilisation::insert_utilisation(conn, &rows).unwrap();
    })
    .await;
    let (steps, hourly) = commitment(&app).await;
    assert_eq!(steps, 24);
    // The night-time trough is uncovered usage no more: the optimum drops.
    assert!(hourly < daily * 0.95, "{hourly} against {daily}");
}

/// Commitments are sized on the usage left after the recommended
/// rightsizing, so the two can be added up: on the demo, the Compute
/// Savings Plan bought after rightsizing is smaller than the one bought on
/// the usage as billed, by no more than the on-demand spend rightsizing
/// removes, and says why.
#[tokio::test(flavor = "multi_thread")]
async fn commitments_are_sized_on_the_usage_after_rightsizing() {
    let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
    app.load_demo(42, 3).await;
    let pool = app.pool.clone();
    tokio::task::spawn_blocking(move || {
        let mut conn = pool.get().unwrap();
        let options = finops::recommend::purchase::PurchaseOptions::default();
        let fleet = finops::recommend::run::rightsizing(
            &mut conn,
            &finops::recommend::fleet::FleetOptions::default(),
        )
        .unwrap();
        let cut = finops::recommend::run::rightsized(&fleet.decisions);
        assert!(cut.total > 0.0, "the demo has rightsizing to do");
        let compute = |c: &finops::recommend::run::Commitments| {
            let plan = &c.plans[0];
            let o = &plan.options[plan.best.unwrap()];
            (o.outcome.commitment / o.rate_ratio, c.recommendations[0].reason.clone())
        };
        let billed =
            finops::recommend::run::commitments_after(&mut conn, &options, None).unwrap();
        let after = finops::recommend::run::commitments(&mut conn, &options).unwrap();
        let (covers_billed, _) = compute(&billed);
        let (covers_after, reason) = compute(&after);
        assert!(
            covers_after < covers_billed && covers_billed - covers_after <= cut.total + 0.01,
            "covers {covers_after} /h after rightsizing, {covers_billed} /h as billed, rightsizing removes {}",
            cut.total
        );
        assert!(
            reason.contains("sized on the usage after the recommended rightsizing"),
            "{reason}"
        );
    })
    .await
    .unwrap();
}

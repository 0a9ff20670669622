//! The forecaster on a real series with a real event calendar: daily
//! Wikipedia page views of Peyton Manning (log scale) with the playoff and
//! Super Bowl dates (`../shared/data/`).

use chrono::NaiveDate;
use finops::calendar::{CalendarEvent, EventKind};
use finops::forecast::model::ModelOptions;

use crate::ingest::shared_data;

/// A daily series and its event calendar.
type Series = (Vec<(NaiveDate, f64)>, Vec<CalendarEvent>);

fn read_series() -> Option<Series> {
    let series = shared_data("wp-log-peyton-manning.csv")?;
    let events = shared_data("peyton-manning-events.csv")?;
    let mut history = Vec::new();
    let mut reader = csv::Reader::from_path(series).unwrap();
    for r in reader.records() {
        let r = r.unwrap();
        let day = NaiveDate::parse_from_str(&r[0], "%Y-%m-%d").unwrap();
        history.push((day, r[1].parse::<f64>().unwrap()));
    }
    let mut calendar = Vec::new();
    let mut reader = csv::Reader::from_path(events).unwrap();
    for r in reader.records() {
        let r = r.unwrap();
        let day = NaiveDate::parse_from_str(&r[1], "%Y-%m-%d").unwrap();
        let before: i64 = r[2].parse::<i64>().unwrap().abs();
        let after: i64 = r[3].parse().unwrap();
        calendar.push(CalendarEvent {
            id: None,
            name: format!("{} {}", &r[0], &r[1]),
            // Two kinds, learned separately.
            kind: if &r[0] == "superbowl" {
                EventKind::Launch
            } else {
                EventKind::PlatformEvent
            },
            start: day,
            end: day + chrono::Duration::days(after),
            platforms: vec![],
            regions: vec![],
            expected_uplift: None,
            ramp_days: Some(before as u32),
            notes: String::new(),
            source: "peyton-manning-events.csv".into(),
        });
    }
    Some((history, calendar))
}

#[test]
fn beats_seasonal_naive_on_a_real_event_driven_series() {
    let Some((history, events)) = read_series() else {
        return;
    };
    assert_eq!(history.len(), 2905);
    // The series is already a logarithm: model it as it is.
    let options = ModelOptions {
        log: false,
        ..ModelOptions::default()
    };
    let f = finops::forecast::forecast(&history, &events, 90, &options).expect("forecast");
    let acc = f.backtest.expect("backtest");
    eprintln!("peyton manning: {acc:?}");
    assert_eq!(acc.origins, finops::forecast::select::MAX_ORIGINS);
    assert!(acc.mase < acc.baseline_mase, "{acc:?}");
    // Held out: each window's band was calibrated on the other windows.
    assert!((0.65..=0.95).contains(&acc.coverage80), "{acc:?}");
    assert!((0.85..=1.0).contains(&acc.coverage95), "{acc:?}");
}

#[test]
fn the_forecast_command_gives_points_and_backtest_figures_as_json() {
    let (_dir, url) = crate::helpers::scratch_sqlite("f.db");
    let finops = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_finops"))
            .args(["--database", &url])
            .args(args)
            .output()
            .unwrap()
    };
    let out = finops(&["demo", "--months", "8", "--end", "2026-10-31"]);
    crate::helpers::assert_ran(&out);
    let out = finops(&[
        "forecast",
        "--metric",
        "cost",
        "--platform",
        "ps5",
        "--horizon-days",
        "120",
        "--format",
        "json",
    ]);
    crate::helpers::assert_ran(&out);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let series = &json["series"][0];
    assert_eq!(series["metric"], "cost");
    assert_eq!(series["platform"], "PlayStation");
    let points = series["points"].as_array().unwrap();
    assert_eq!(points[0]["date"], "2026-11-01");
    assert_eq!(points.iter().filter(|p| p["period"] == "day").count(), 90);
    assert_eq!(
        points.iter().filter(|p| p["period"] == "month").count(),
        2,
        "January and February 2027"
    );
    for p in points {
        let v = |k: &str| p[k].as_f64().unwrap();
        assert!(
            v("lower95") <= v("lower80")
                && v("lower80") <= v("mean")
                && v("mean") <= v("upper80")
                && v("upper80") <= v("upper95"),
            "{p}"
        );
    }
    let bt = &series["backtest"];
    for k in ["mase", "wape", "coverage80", "coverage95", "baseline_mase"] {
        assert!(bt[k].as_f64().is_some(), "backtest.{k}: {bt}");
    }
    // The table names the calendar's events next to their days.
    let out = finops(&["forecast", "--metric", "ccu", "--horizon-days", "40"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && text.contains("Black Friday Sale 2026") && text.contains("MASE"),
        "{text}"
    );
    // Bad input: exit 2 with the option named.
    let out = finops(&["forecast", "--metric", "revenue"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--metric: 'revenue' is not a metric"));
    let out = finops(&["forecast", "--horizon-days", "600"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("18 months"));
}

#[tokio::test]
async fn a_planner_sees_the_next_launch_with_bands_and_accuracy() {
    let Some(app) = crate::helpers::TestApp::spawn(crate::helpers::Backend::Sqlite).await else {
        return;
    };
    app.load_demo(42, 24).await;
    let (status, html) = app.get_text("/forecast?metric=cost&horizon=120").await;
    assert_eq!(status, 200, "{html}");
    assert!(html.contains("<svg"), "the chart is drawn");
    for id in [
        "tile-next-30",
        "tile-mase",
        "tile-coverage",
        "tile-wape",
        "forecast-months",
        "forecast-events",
    ] {
        assert!(html.contains(&format!("id=\"{id}\"")), "{id}");
    }
    // The demo calendar's December launch is in the horizon, its effect
    // learned from earlier launches.
    assert!(html.contains("Season 10 launch"), "next launch listed");
    assert!(html.contains("learned from past events of this kind"));
    // The same forecast as JSON from the API.
    let (status, json) = app
        .get_json("/api/v1/forecast?metric=cost&horizon=30")
        .await;
    assert_eq!(status, 200, "{json}");
    assert_eq!(json["series"][0]["points"].as_array().unwrap().len(), 30);
    assert!(
        json["series"][0]["backtest"]["baseline_mase"]
            .as_f64()
            .is_some(),
        "{json}"
    );
    let (status, json) = app.get_json("/api/v1/forecast?metric=revenue").await;
    assert_eq!(status, 400);
    assert_eq!(json["error"]["code"], "bad_request");
    // The capacity plan says which region needs what by when.
    let (status, html) = app
        .get_text("/capacity?target=70&launch_buffer=25&horizon=60")
        .await;
    assert_eq!(status, 200, "{html}");
    assert!(html.contains("id=\"capacity-table\""), "{html}");
    for region in ["us-east-1", "eu-west-1", "ap-northeast-1"] {
        assert!(html.contains(region), "{region} planned");
    }
    assert!(html.contains("id=\"tile-short\"") && html.contains("id=\"tile-extra-cost\""));
    let (status, _) = app.get_text("/capacity?target=5").await;
    assert_eq!(status, 400);
    let (status, html) = app
        .get_text("/forecast?metric=ccu&platform=Switch&region=eu-west-1")
        .await;
    assert_eq!(status, 200, "{html}");
    // Capacity's backend fleet serves every platform: it is named so, not
    // mistaken for the unallocated leftover of the cost pages.
    let (status, html) = app.get_text("/forecast?metric=capacity").await;
    assert_eq!(status, 200, "{html}");
    assert!(
        html.contains(">shared (serves all platforms)</a>"),
        "{html}"
    );
    assert!(
        html.contains("id=\"capacity-note\""),
        "runs against needs, said"
    );
    for (query, message) in [
        (
            "metric=revenue",
            "metric: &#39;revenue&#39; is not one of cost, ccu, capacity",
        ),
        (
            "horizon=900",
            "horizon: &#39;900&#39; must be 7 to 548 days",
        ),
        ("platform=Dreamcast", "unknown platform"),
        ("region=mars-1", "unknown region"),
    ] {
        let (status, html) = app.get_text(&format!("/forecast?{query}")).await;
        assert_eq!(status, 400, "{query}");
        assert!(
            html.contains(message) || html.contains(&message.replace("&#39;", "'")),
            "{query}: {html}"
        );
    }
}

#[test]
fn a_series_from_a_file_can_be_forecast_without_the_database() {
    let dir = tempfile::tempdir().unwrap();
    let series = dir.path().join("series.csv");
    let mut text = String::from("date,value\n");
    let start = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
    for t in 0..120 {
        let d = start + chrono::Duration::days(t);
        text.push_str(&format!("{d},{}\n", 100.0 + 20.0 * ((t % 7) as f64)));
    }
    std::fs::write(&series, &text).unwrap();
    let calendar = dir.path().join("calendar.toml");
    std::fs::write(&calendar, "[[event]]\nname = \"Sale\"\nkind = \"sale\"\nstart = 2026-05-10\nend = 2026-05-12\nexpected_uplift = 0.5\n").unwrap();
    let run = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_finops"))
            .args(args)
            .output()
            .unwrap()
    };
    let out = run(&[
        "forecast",
        "--series-csv",
        series.to_str().unwrap(),
        "--calendar",
        calendar.to_str().unwrap(),
        "--horizon-days",
        "30",
        "--format",
        "json",
    ]);
    crate::helpers::assert_ran(&out);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let points = json["series"][0]["points"].as_array().unwrap();
    assert_eq!(points.len(), 30);
    // 10 May is in the sale: +50 % on the calendar's word (a kind never seen).
    let at = |d: &str| {
        points.iter().find(|p| p["date"] == d).unwrap()["mean"]
            .as_f64()
            .unwrap()
    };
    let ratio = at("2026-05-10") / at("2026-05-03");
    assert!((1.35..1.65).contains(&ratio), "{ratio}");
    std::fs::write(&series, "date,value\n2026-01-01,1\n2026-01-02,x\n").unwrap();
    let out = run(&["forecast", "--series-csv", series.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("line 3, column 2: 'x' is not a number"));
}

fn finops_on(url: &str, args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_finops"))
        .args(["--database", url])
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap()
}

fn json_of(out: &std::process::Output) -> serde_json::Value {
    crate::helpers::assert_ran(out);
    serde_json::from_slice(&out.stdout).unwrap()
}

fn means(series: &serde_json::Value) -> Vec<(String, f64)> {
    series["points"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["date"].as_str().unwrap().to_string(),
                p["mean"].as_f64().unwrap(),
            )
        })
        .collect()
}

#[test]
fn platforms_regions_and_the_total_add_up_and_scenarios_change_them() {
    let (dir, url) = crate::helpers::scratch_sqlite("s.db");
    let out = finops_on(&url, &["demo", "--months", "14", "--end", "2026-10-31"]);
    crate::helpers::assert_ran(&out);

    // The total is the sum of the platforms, and a platform the sum of its
    // regions, point by point (daily, then monthly for cost).
    for args in [
        vec!["--metric", "cost"],
        vec!["--metric", "ccu", "--platform", "PC"],
    ] {
        let mut all = vec!["forecast", "--horizon-days", "150", "--format", "json"];
        all.extend(args.iter().copied());
        let json = json_of(&finops_on(&url, &all));
        assert_eq!(json["reconciliation"], "wls");
        let series = json["series"].as_array().unwrap();
        assert!(
            series.len() > 2,
            "{args:?}: the series one level down follow"
        );
        let top = means(&series[0]);
        // Monthly points of peak players are each month's highest day, which
        // do not add up; every day does.
        let days = series[0]["points"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|p| p["period"] == "day" || args[1] == "cost")
            .count();
        for (i, (date, mean)) in top.iter().enumerate().take(days) {
            let sum: f64 = series[1..].iter().map(|s| means(s)[i].1).sum();
            assert!(
                (mean - sum).abs() <= 1e-6 * mean.abs().max(1.0),
                "{args:?} {date}: {mean} vs parts {sum}"
            );
        }
    }

    let ccu = |scenario: Option<&str>, region: Option<&str>| {
        let mut args = vec![
            "forecast",
            "--metric",
            "ccu",
            "--horizon-days",
            "200",
            "--format",
            "json",
        ];
        if let Some(s) = scenario {
            args.extend(["--scenario", s]);
        }
        if let Some(r) = region {
            args.extend(["--region", r]);
        }
        json_of(&finops_on(&url, &args))
    };
    let month = |json: &serde_json::Value, m: &str| {
        means(&json["series"][0])
            .into_iter()
            .find(|(d, _)| d == m)
            .unwrap()
            .1
    };
    // The expansion (23 February 2027) slips four weeks: less in
    // February, more in April (its last days and the tail after it).
    let base = ccu(None, None);
    let slipped = ccu(Some("forecasts/scenarios/expansion-slips.toml"), None);
    assert_eq!(slipped["scenario"], "Expansion slips a month");
    assert!(month(&slipped, "2027-02-01") < month(&base, "2027-02-01") * 0.995);
    assert!(month(&slipped, "2027-04-01") > month(&base, "2027-04-01") * 1.005);
    // Half as much extra demand again: more in the launch month only.
    let bigger = ccu(Some("forecasts/scenarios/bigger-expansion.toml"), None);
    assert!(month(&bigger, "2027-03-01") > month(&base, "2027-03-01") * 1.005);
    assert!((month(&bigger, "2027-05-01") / month(&base, "2027-05-01") - 1.0).abs() < 0.01);
    // A region opens: it gets 35 % of Frankfurt from 1 March 2027.
    let me = ccu(
        Some("forecasts/scenarios/middle-east-region.toml"),
        Some("me-central-1"),
    );
    let eu = ccu(None, Some("eu-central-1"));
    assert_eq!(month(&me, "2027-02-01"), 0.0);
    let share = month(&me, "2027-04-01") / month(&eu, "2027-04-01");
    assert!((0.33..0.38).contains(&share), "{share}");

    // Scenario files are validated with the file, section and field named.
    let bad = dir.path().join("bad.toml");
    std::fs::write(
        &bad,
        "name = \"x\"\n[[new_region]]\nregion = \"me-central-1\"\nopens = 2027-03-01\nfrom_region = \"eu-central-1\"\nshare = 35\n",
    )
    .unwrap();
    let out = finops_on(&url, &["ingest", "scenario", bad.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("bad.toml: new_region 1: field 'share' is 35"),
        "{err}"
    );
    // A region with no data to take players from is named.
    let nowhere = dir.path().join("nowhere.toml");
    std::fs::write(
        &nowhere,
        "name = \"From nowhere\"\n[[new_region]]\nregion = \"me-central-1\"\nopens = 2027-03-01\nfrom_region = \"ca-central-1\"\nshare = 0.2\n",
    )
    .unwrap();
    let out = finops_on(&url, &["forecast", "--scenario", nowhere.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr)
        .contains("scenario 'From nowhere': new_region: from_region 'ca-central-1' has no data"));
    let out = finops_on(&url, &["forecast", "--scenario", bad.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
}

#[tokio::test]
async fn scenarios_are_compared_side_by_side_and_the_capacity_plan_is_charted() {
    for app in crate::helpers::apps().await {
        scenarios_and_capacity_on(app).await;
    }
}

async fn scenarios_and_capacity_on(app: crate::helpers::TestApp) {
    app.load_demo(42, 14).await;
    let (status, html) = app.get_text("/scenarios?horizon=150").await;
    assert_eq!(status, 200, "{html}");
    assert!(html.contains("id=\"scenario-compare\""), "{html}");
    for name in [
        "Plan of record",
        "Expansion slips a month",
        "Expansion 1.5× bigger",
        "Middle East region opens",
    ] {
        assert!(html.contains(name), "{name}");
    }
    // The new region shows up in the capacity comparison, sized from the
    // measured regions.
    assert!(html.contains("me-central-1"), "new region planned");
    assert!(html.contains("<svg"), "chart drawn");

    let (status, html) = app.get_text("/capacity?horizon=120").await;
    assert_eq!(status, 200, "{html}");
    assert!(
        html.contains("Instances needed as a share of today"),
        "{html}"
    );
    // The demo fleet is sized for last month: regions run short on
    // different days (sales, launches), not all at once.
    let table = &html[html.find("id=\"capacity-table\"").unwrap()..];
    let table = &table[..table.find("</table>").unwrap()];
    let mut short_days: Vec<&str> = table
        .split("<tr")
        .skip(2)
        .filter_map(|row| row.split("<td>").nth(7)?.split('<').next())
        .collect();
    assert_eq!(short_days.len(), 8, "{table}");
    short_days.sort();
    short_days.dedup();
    assert!(short_days.len() >= 2, "{short_days:?}");
    assert!(html.contains("<svg"));
    let (status, html) = app
        .get_text("/capacity?horizon=120&scenario=Middle%20East%20region%20opens")
        .await;
    assert_eq!(status, 200, "{html}");
    assert!(html.contains("id=\"scenario-applied\"") && html.contains("me-central-1"));
    let (status, _) = app.get_text("/capacity?scenario=Nope").await;
    assert_eq!(status, 400);

    // The forecast page lists the platforms that add up to the total.
    let (status, html) = app.get_text("/forecast?metric=cost&horizon=60").await;
    assert_eq!(status, 200);
    assert!(html.contains("id=\"forecast-parts\""), "{html}");
    let (status, json) = app
        .get_json("/api/v1/forecast?metric=ccu&horizon=30&scenario=Expansion%20slips%20a%20month")
        .await;
    assert_eq!(status, 200, "{json}");
    assert_eq!(json["scenario"], "Expansion slips a month");
}

/// Runs `finops forecast --series-csv FILE` on `text`.
fn forecast_file(text: &str, extra: &[&str]) -> std::process::Output {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("series.csv");
    std::fs::write(&path, text).unwrap();
    let path = path.display().to_string();
    let mut args = vec!["forecast", "--series-csv", path.as_str()];
    args.extend_from_slice(extra);
    std::process::Command::new(env!("CARGO_BIN_EXE_finops"))
        .args(&args)
        .output()
        .unwrap()
}

/// `date,value` rows for `n` steps from `first`, each `step` later.
fn series_text(
    n: i64,
    first: NaiveDate,
    step: impl Fn(NaiveDate, i64) -> NaiveDate,
    line_end: &str,
) -> String {
    let mut out = format!("date,value{line_end}");
    for i in 0..n {
        let v = 7.0 + 0.5 * ((i % 12) as f64 / 11.0) + 0.001 * i as f64;
        out.push_str(&format!("{},{v:.4}{line_end}", step(first, i)));
    }
    out
}

#[test]
fn a_series_file_is_read_however_a_user_has_it_or_refused_with_a_reason() {
    let d = NaiveDate::from_ymd_opt(2015, 1, 1).unwrap();
    let monthly = |first: NaiveDate, i: i64| {
        first
            .checked_add_months(chrono::Months::new(i as u32))
            .unwrap()
    };
    let daily = |first: NaiveDate, i: i64| first + chrono::Duration::days(i);
    let weekly = |first: NaiveDate, i: i64| first + chrono::Duration::days(7 * i);
    // Monthly values: twelve monthly steps ahead, labelled as months.
    let out = forecast_file(
        &series_text(96, d, monthly, "\n"),
        &["--horizon-days", "365", "--format", "json", "--linear"],
    );
    crate::helpers::assert_ran(&out);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let s = &json["series"][0];
    assert_eq!(s["frequency"], "month");
    let points = s["points"].as_array().unwrap();
    assert_eq!(points.len(), 12);
    assert_eq!(points[0]["date"], "2023-01-01");
    assert!(s["backtest"]["coverage80"].as_f64().is_some(), "{s}");
    // Weekly values.
    let out = forecast_file(
        &series_text(200, d, weekly, "\n"),
        &["--horizon-days", "70", "--format", "json"],
    );
    crate::helpers::assert_ran(&out);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["series"][0]["frequency"], "week");
    assert_eq!(json["series"][0]["points"].as_array().unwrap().len(), 10);
    // Old Mac (CR) and Windows (CRLF) line ends read like LF.
    for end in ["\r", "\r\n"] {
        let out = forecast_file(
            &series_text(120, d, daily, end),
            &["--horizon-days", "14", "--format", "csv"],
        );
        crate::helpers::assert_ran(&out);
        assert_eq!(
            String::from_utf8_lossy(&out.stdout).lines().count(),
            15,
            "{end:?}"
        );
    }
    // The table's title names the file and its values keep their digits
    // (log values of 7 to 8 are not printed "7 – 8").
    let out = forecast_file(
        &series_text(120, d, daily, "\n"),
        &["--horizon-days", "14", "--linear"],
    );
    crate::helpers::assert_ran(&out);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.starts_with("Forecast of series.csv (day values)"),
        "{text}"
    );
    assert!(text.contains("Method: "), "{text}");
    let first_row = text.lines().find(|l| l.starts_with("2015-05-01")).unwrap();
    assert!(first_row.contains('.'), "{first_row}");
    // Rows out of order: refused, naming both lines.
    let mut rows: Vec<String> = series_text(60, d, daily, "\n")
        .lines()
        .map(str::to_string)
        .collect();
    rows.swap(10, 11);
    let out = forecast_file(&(rows.join("\n") + "\n"), &[]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("line 12") && err.contains("line 11") && err.contains("date order"),
        "{err}"
    );
    // A date given twice: refused.
    let mut rows: Vec<String> = series_text(60, d, daily, "\n")
        .lines()
        .map(str::to_string)
        .collect();
    rows[11] = rows[10].clone();
    let out = forecast_file(&(rows.join("\n") + "\n"), &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("repeats the date"));
    // Quarterly values: refused with the reason.
    let quarterly = |first: NaiveDate, i: i64| {
        first
            .checked_add_months(chrono::Months::new(3 * i as u32))
            .unwrap()
    };
    let out = forecast_file(&series_text(40, d, quarterly, "\n"), &[]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("neither daily, weekly nor monthly"), "{err}");
}

/// Every series of the demo (cost, peak players and capacity; the total,
/// each platform and each platform × region) is forecast at least as
/// accurately as seasonal naive over its held-out backtests: what the
/// Forecast page shows never does worse than the baseline.
#[tokio::test]
async fn every_demo_series_is_forecast_at_least_as_well_as_seasonal_naive() {
    use finops::forecast::series::Metric;
    let app = crate::helpers::TestApp::spawn(crate::helpers::Backend::Sqlite)
        .await
        .expect("sqlite");
    app.load_demo(42, 24).await;
    let pool = app.pool.clone();
    tokio::task::spawn_blocking(move || {
        let mut conn = pool.get().expect("connection");
        for metric in [Metric::Cost, Metric::Ccu, Metric::Capacity] {
            let mf = finops::forecast::run::metric_forecast(&mut conn, metric, 90, None, true)
                .expect("forecast");
            let mut measured = 0;
            for node in &mf.hierarchy.nodes {
                let Some(a) = &node.forecast.backtest else {
                    continue;
                };
                measured += 1;
                assert!(
                    a.mase <= a.baseline_mase,
                    "{} {:?}/{:?}: {} MASE {:.3} against seasonal naive's {:.3}",
                    metric.as_str(),
                    node.platform,
                    node.region,
                    a.method.label(),
                    a.mase,
                    a.baseline_mase
                );
                assert!(!a.worse_than_baseline());
            }
            assert!(
                measured >= 10,
                "{}: {measured} series with a backtest",
                metric.as_str()
            );
        }
    })
    .await
    .expect("forecasts");
}

#[allow(dead_code)]
#[path = "../../benches/support/bill_shapes.rs"]
mod bill_shapes;

/// A launch last year is not "what this time of year looks like": on the
/// generated launch-heavy bills (launches triple usage and decay over
/// weeks; the calendar lists them), the forecast of the weeks one year
/// after each past launch, where no launch is planned, stays at the
/// usage without launches.
#[test]
fn the_year_after_a_launch_does_not_echo_it() {
    use chrono::Duration;
    for seed in 1..=3 {
        let shape = bill_shapes::shapes(seed)
            .into_iter()
            .find(|s| s.name == "launch-heavy")
            .expect("launch-heavy shape");
        let history: Vec<(NaiveDate, f64)> = shape
            .series
            .iter()
            .filter(|(d, _)| *d < shape.buy)
            .cloned()
            .collect();
        let f = finops::forecast::forecast(&history, &shape.events, 365, &ModelOptions::default())
            .expect("forecast");
        let past: Vec<NaiveDate> = shape
            .events
            .iter()
            .filter(|e| e.start < shape.buy)
            .map(|e| e.start)
            .collect();
        let mut checked = 0;
        for launch in past {
            let from = launch + Duration::days(365);
            let to = from + Duration::days(14);
            // Only inside the forecast, and where no launch of the calendar
            // falls near the echo.
            if from < shape.buy
                || shape.events.iter().any(|e| {
                    e.start < to + Duration::days(7) && e.start + Duration::days(60) > from
                })
            {
                continue;
            }
            let window = |points: &mut dyn Iterator<Item = (NaiveDate, f64)>| {
                let v: Vec<f64> = points
                    .filter(|(d, _)| *d >= from && *d < to)
                    .map(|(_, v)| v)
                    .collect();
                v.iter().sum::<f64>() / v.len().max(1) as f64
            };
            let forecast = window(&mut f.points.iter().map(|p| (p.date, p.mean)));
            let actual = window(&mut shape.series.iter().cloned());
            if actual <= 0.0 {
                continue;
            }
            assert!(
                forecast / actual < 1.15,
                "seed {seed}: the launch of {launch} echoes a year later: forecast {forecast:.0} against {actual:.0} a day"
            );
            checked += 1;
        }
        assert!(checked >= 1, "seed {seed}: no echo window was checked");
    }
}

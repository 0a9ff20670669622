//! The monthly CSV ties out to the database, the Month review page and the
//! API to the cent, and the CLI and HTTP exports are byte-identical.

use diesel::sql_types::BigInt;
use diesel::{QueryableByName, RunQueryDsl};
use finops::db::DbConnection;

use crate::helpers::{apps, decimal_micros, dollars_to_micros, element_text};

#[derive(QueryableByName)]
struct Totals {
    #[diesel(sql_type = BigInt)]
    billed: i64,
    #[diesel(sql_type = BigInt)]
    effective: i64,
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// Totals straight from the table, independent of the report code.
fn database_totals(conn: &mut DbConnection, from: &str, to: &str) -> (i64, i64, i64) {
    let sql = format!(
        "SELECT CAST(SUM(billed_micros) AS BIGINT) AS billed, CAST(SUM(effective_micros) AS BIGINT) AS effective, \
         CAST(COUNT(*) AS BIGINT) AS n FROM cost_daily WHERE day >= '{from}' AND day <= '{to}'"
    );
    let t: Totals = diesel::sql_query(sql).get_result(conn).expect("totals");
    (t.billed, t.effective, t.n)
}

fn round_to_cents(micros: i64) -> i64 {
    let q = micros / 10_000;
    let r = micros % 10_000;
    if r.abs() * 2 >= 10_000 {
        q + micros.signum()
    } else {
        q
    }
}

#[tokio::test]
async fn monthly_csv_ties_out_to_database_page_and_api_and_cli_matches_http() {
    for app in apps().await {
        let backend = app.backend.name();
        app.load_demo(42, 3).await;
        let month = "2026-10";

        let response = app.get(&format!("/export/monthly.csv?month={month}")).await;
        assert_eq!(response.status(), 200, "{backend}");
        assert_eq!(
            response.headers()["content-type"].to_str().unwrap(),
            "text/csv; charset=utf-8"
        );
        assert!(response.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .contains("finops-monthly-2026-10.csv"));
        let http_bytes = response.bytes().await.unwrap().to_vec();

        // The CLI writes exactly the same bytes.
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_finops"))
            .args([
                "--database",
                app.db.url(),
                "export",
                "monthly",
                "--month",
                month,
            ])
            .output()
            .expect("run finops");
        crate::helpers::assert_ran(&output);
        assert_eq!(
            output.stdout, http_bytes,
            "{backend}: CLI and HTTP exports differ"
        );

        // Parse with an independent RFC 4180 reader and sum.
        let mut reader = csv::ReaderBuilder::new().from_reader(http_bytes.as_slice());
        let headers = reader.headers().unwrap().clone();
        let header_line: Vec<&str> = headers.iter().collect();
        assert_eq!(
            &header_line[..7],
            &[
                "month",
                "platform",
                "region",
                "service",
                "billed_cost",
                "effective_cost",
                "currency"
            ]
        );
        let (mut billed, mut effective, mut lines) = (0_i64, 0_i64, 0);
        for record in reader.records() {
            let r = record.unwrap();
            assert_eq!(&r[0], month);
            billed += decimal_micros(&r[4]);
            effective += decimal_micros(&r[5]);
            lines += 1;
        }
        assert!(lines > 100, "{backend}: {lines} lines");

        let (db_billed, db_effective, rows) = app
            .with_conn(|c| database_totals(c, "2026-10-01", "2026-10-31"))
            .await;
        assert!(rows > lines, "the export aggregates daily rows");
        assert_eq!(
            billed, db_billed,
            "{backend}: billed ties out to the micro-unit"
        );
        assert_eq!(
            effective, db_effective,
            "{backend}: effective ties out to the micro-unit"
        );

        // The Month review page shows the same totals to the cent.
        let (status, page) = app.get_text(&format!("/month?month={month}")).await;
        assert_eq!(status, 200);
        let page_billed = dollars_to_micros(&element_text(&page, "month-total-billed").unwrap());
        let page_effective =
            dollars_to_micros(&element_text(&page, "month-total-effective").unwrap());
        assert_eq!(
            page_billed / 10_000,
            round_to_cents(billed),
            "{backend}: page billed"
        );
        assert_eq!(
            page_effective / 10_000,
            round_to_cents(effective),
            "{backend}: page effective"
        );

        // And the API's rows sum to it exactly.
        let (status, json) = app
            .get_json("/api/v1/costs?from=2026-10-01&to=2026-10-31&group_by=platform,region&granularity=day")
            .await;
        assert_eq!(status, 200);
        let api_sum: i64 = json["rows"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| decimal_micros(r["effective_cost"].as_str().unwrap()))
            .sum();
        assert_eq!(api_sum, effective, "{backend}: API rows");
        assert_eq!(
            decimal_micros(json["total"]["billed_cost"].as_str().unwrap()),
            billed
        );
    }
}

/// A month the data does not reach answers "no data yet" everywhere: a
/// 404 naming the imported range from the CSV export and the API, and a
/// notice (with no download button) on the Month review; never a file of
/// zeros or "-100 %" on every row.
#[tokio::test]
async fn months_without_data_say_so_on_the_page_the_api_and_the_csv() {
    for app in apps().await {
        app.load_demo(42, 3).await;
        let (_, review) = app.get_json("/api/v1/month").await;
        let last = review["month"].as_str().unwrap().to_string();
        let (status, body) = app.get_text("/export/monthly.csv?month=2099-01").await;
        assert_eq!(status, 404, "{body}");
        assert!(body.contains("no data yet for 2099-01"), "{body}");
        let (status, body) = app.get_text("/export/monthly.csv?month=1999-01").await;
        assert_eq!(status, 404, "{body}");
        assert!(body.contains("no data for 1999-01"), "{body}");
        let (status, json) = app.get_json("/api/v1/month?month=2099-01").await;
        assert_eq!(status, 404, "{json}");
        assert!(
            json.to_string().contains("no data yet for 2099-01"),
            "{json}"
        );

        // The month after the data ends (the case that showed -100 % on
        // every row) and one far ahead read the same.
        let after: finops::report::period::Month = last.parse().unwrap();
        for month in [after.next().to_string(), "2099-01".to_string()] {
            let (status, html) = app.get_text(&format!("/month?month={month}")).await;
            assert_eq!(status, 200);
            assert!(html.contains("No data yet for"), "{month}");
            assert!(
                !html.contains("-100.0 %") && !html.contains("−100.0 %"),
                "{month}"
            );
            assert!(!html.contains("id=\"download-csv\""), "{month}");
        }
        let (status, _) = app
            .get_text(&format!("/export/monthly.csv?month={last}"))
            .await;
        assert_eq!(status, 200);
    }
}

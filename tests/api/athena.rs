//! The Athena pull. The query's text is run on a real engine, DuckDB, over
//! a Parquet written in CUR 2.0's schema (typed columns, a MAP of tags,
//! every kind of line item), and what it answers, imported as the pull
//! imports Athena's answer, must equal finops' own import of the same file
//! to the micro-unit. The SDK path (StartQueryExecution, GetQueryExecution
//! until it ends, GetQueryResults page by page) runs against moto's Athena
//! seeded with that same answer.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use chrono::NaiveDate;
use diesel::prelude::*;
use finops::db::DbConnection;
use finops::pull::athena::{self, AthenaOptions};

use crate::cost_explorer::Moto;
use crate::helpers::{require_or_skip, Need};
use crate::ingest::databases;

fn python() -> Option<PathBuf> {
    let candidate = std::env::var("FINOPS_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|_| {
            PathBuf::from(std::env::var("HOME").unwrap_or_default())
                .join(".cache/finops-venv/bin/python")
        });
    let ok = Command::new(&candidate)
        .args(["-c", "import duckdb"])
        .status()
        .is_ok_and(|s| s.success());
    ok.then_some(candidate)
}

fn harness(python: &Path, args: &[&str]) -> String {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/tools/athena_duckdb.py");
    let out = Command::new(python)
        .arg(script)
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[derive(QueryableByName, Debug, PartialEq)]
struct Sum {
    #[diesel(sql_type = diesel::sql_types::Text)]
    k: String,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    billed: i64,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    effective: i64,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    list: i64,
}

/// Billed, effective and list micro-units per day, account, platform,
/// region, service, class and charge category, as reports read them.
fn sums(conn: &mut DbConnection) -> BTreeMap<String, (i64, i64, i64)> {
    let k = match conn {
        DbConnection::Sqlite(_) => "day || '|' || account_id || '|' || platform || '|' || region || '|' || service || '|' || usage_class || '|' || charge_category",
        DbConnection::Postgres(_) => "CAST(day AS TEXT) || '|' || account_id || '|' || platform || '|' || region || '|' || service || '|' || usage_class || '|' || charge_category",
    };
    let sql = format!(
        "SELECT {k} AS k, CAST(SUM(billed_micros) AS BIGINT) AS billed, \
         CAST(SUM(effective_micros) AS BIGINT) AS effective, \
         CAST(SUM(COALESCE(list_micros, 0)) AS BIGINT) AS list FROM cost_daily GROUP BY 1"
    );
    diesel::sql_query(sql)
        .load::<Sum>(conn)
        .unwrap()
        .into_iter()
        .map(|s| (s.k, (s.billed, s.effective, s.list)))
        .collect()
}

/// Equal sums, or the first differences.
fn same(
    got: &BTreeMap<String, (i64, i64, i64)>,
    expected: &BTreeMap<String, (i64, i64, i64)>,
    what: &str,
) {
    let differ: Vec<String> = expected
        .iter()
        .filter(|(k, v)| got.get(*k) != Some(v))
        .take(8)
        .map(|(k, v)| format!("{k}: expected {v:?}, got {:?}", got.get(k)))
        .collect();
    assert!(
        differ.is_empty() && got.len() == expected.len(),
        "{what}: {} of {} differ ({} vs {} keys):\n{}",
        expected
            .iter()
            .filter(|(k, v)| got.get(*k) != Some(v))
            .count(),
        expected.len(),
        got.len(),
        expected.len(),
        differ.join("\n")
    );
}

/// Athena's answer as moto serves it: the header row first, then rows of
/// text (a null has no value).
fn seeded(names: &[String], rows: &[Vec<String>]) -> serde_json::Value {
    let row = |cells: Vec<serde_json::Value>| serde_json::json!({ "Data": cells });
    let mut out = vec![row(names
        .iter()
        .map(|n| serde_json::json!({"VarCharValue": n}))
        .collect())];
    for r in rows {
        out.push(row(r
            .iter()
            .map(|v| {
                if v.is_empty() {
                    serde_json::json!({})
                } else {
                    serde_json::json!({ "VarCharValue": v })
                }
            })
            .collect()));
    }
    serde_json::json!({
        "rows": out,
        "column_info": names.iter().map(|n| serde_json::json!({
            "CatalogName": "hive", "SchemaName": "cur", "TableName": "data",
            "Name": n, "Label": n, "Type": "varchar", "Precision": 0, "Scale": 0,
            "Nullable": "UNKNOWN", "CaseSensitive": true
        })).collect::<Vec<_>>(),
    })
}

#[tokio::test(flavor = "multi_thread")]
async fn the_athena_query_matches_the_local_import_to_the_micro_unit() {
    let Some(python) = python() else {
        require_or_skip(Need::DuckDb, "Python with duckdb not found (see .ci/run)");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let parquet = dir.path().join("cur2.parquet");
    harness(&python, &["generate", parquet.to_str().unwrap()]);
    let columns: Vec<String> = harness(&python, &["columns", parquet.to_str().unwrap()])
        .lines()
        .map(str::to_string)
        .collect();
    let from = NaiveDate::from_ymd_opt(2026, 10, 1).unwrap();
    let to = NaiveDate::from_ymd_opt(2026, 12, 1).unwrap();
    let table = athena::query::table_name("cur", "data").unwrap();
    let sql = athena::query::build(&table, &columns, from, to).unwrap();
    let sql_path = dir.path().join("query.sql");
    std::fs::write(&sql_path, &sql).unwrap();
    let answer = dir.path().join("answer.csv");
    harness(
        &python,
        &[
            "query",
            parquet.to_str().unwrap(),
            sql_path.to_str().unwrap(),
            answer.to_str().unwrap(),
        ],
    );
    let mut reader = csv::Reader::from_path(&answer).unwrap();
    let names: Vec<String> = reader
        .headers()
        .unwrap()
        .iter()
        .map(str::to_string)
        .collect();
    let rows: Vec<Vec<String>> = reader
        .records()
        .map(|r| r.unwrap().iter().map(str::to_string).collect())
        .collect();
    assert!(
        rows.len() > 1000 && rows.len() < 30_000,
        "{} rows",
        rows.len()
    );

    let Some(moto) = Moto::start() else { return };
    for db in databases() {
        let mut conn = db.pool.get().unwrap();
        // finops' own import of the file…
        let local = finops::ingest::import_billing(
            &mut conn,
            finops::ingest::BillingFormat::Cur,
            &finops::ingest::Input::new(&parquet),
            &mut |_| {},
        )
        .unwrap();
        assert_eq!(local.rows_read, 30_000);
        let expected = sums(&mut conn);
        assert!(expected.len() > 500, "{}", expected.len());
        // …and what DuckDB answered, imported as the pull imports Athena's
        // answer: replacing the same periods.
        let engine = finops::ingest::import_billing(
            &mut conn,
            finops::ingest::BillingFormat::Cur,
            &finops::ingest::Input::new(&answer).named("athena cur.data"),
            &mut |_| {},
        )
        .unwrap();
        assert_eq!(engine.replaced_rows, local.resource_rows);
        same(
            &sums(&mut conn),
            &expected,
            &format!("{:?}: DuckDB's answer", db.backend),
        );
        assert_eq!(engine.totals, local.totals);

        // The SDK path against moto's Athena: the column probe, then the
        // query, answered with the same rows.
        for result in [seeded(&columns, &[]), seeded(&names, &rows)] {
            let r = reqwest::Client::new()
                .post(format!("{}/moto-api/static/athena/query-results", moto.url))
                .json(&serde_json::json!({ "results": [result] }))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status().as_u16(), 201);
        }
        let opts = AthenaOptions {
            database: "cur".into(),
            table: "data".into(),
            workgroup: "primary".into(),
            output: Some("s3://athena-results/finops/".into()),
            from,
            to,
            endpoint_url: Some(moto.url.clone()),
            region: Some("us-east-1".into()),
            static_credentials: Some(("testing".into(), "testing".into())),
            max_attempts: 2,
            timeout: std::time::Duration::from_secs(60),
            poll: std::time::Duration::from_millis(10),
        };
        let summary = std::thread::scope(|s| {
            s.spawn(|| {
                athena::pull(
                    &mut conn,
                    &opts,
                    finops::ingest::Limits::default(),
                    &mut |_| {},
                )
            })
            .join()
            .unwrap()
        })
        .unwrap_or_else(|e| panic!("the Athena pull: {e}"));
        assert_eq!(summary.result_rows, rows.len() as u64);
        if db.backend == crate::helpers::Backend::Sqlite {
            // The command line, as a cron job runs it, on a database of its own.
            for result in [seeded(&columns, &[]), seeded(&names, &rows)] {
                reqwest::Client::new()
                    .post(format!("{}/moto-api/static/athena/query-results", moto.url))
                    .json(&serde_json::json!({ "results": [result] }))
                    .send()
                    .await
                    .unwrap();
            }
            let (_keep, url) = crate::helpers::scratch_sqlite("athena.db");
            let out = Command::new(env!("CARGO_BIN_EXE_finops"))
                .args([
                    "--database",
                    &url,
                    "pull",
                    "athena",
                    "--glue-database",
                    "cur",
                    "--table",
                    "data",
                    "--output",
                    "s3://athena-results/finops/",
                    "--from",
                    "2026-10",
                    "--to",
                    "2026-11",
                    "--endpoint-url",
                    &moto.url,
                    "--region",
                    "us-east-1",
                    "--json",
                ])
                .env("AWS_ACCESS_KEY_ID", "testing")
                .env("AWS_SECRET_ACCESS_KEY", "testing")
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
            assert_eq!(json["result_rows"], rows.len());
            let mut cli_db = finops::db::connect(&url).unwrap();
            same(&sums(&mut cli_db), &expected, "the command line");
            let bad = Command::new(env!("CARGO_BIN_EXE_finops"))
                .args([
                    "--database",
                    &url,
                    "pull",
                    "athena",
                    "--glue-database",
                    "cur",
                    "--table",
                    "data",
                    "--from",
                    "2026-11",
                    "--to",
                    "2026-10",
                ])
                .output()
                .unwrap();
            assert_eq!(bad.status.code(), Some(2));
            assert!(String::from_utf8_lossy(&bad.stderr)
                .contains("--from 2026-11 is after --to 2026-10"));
        }
        assert!(summary.requests >= 6, "{}", summary.requests);
        same(
            &sums(&mut conn),
            &expected,
            &format!("{:?}: through the SDK", db.backend),
        );
    }
}

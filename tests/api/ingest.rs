//! Billing, activity and utilisation imports against real SQLite and
//! PostgreSQL: the real samples tie out to the cent, re-imports change
//! nothing, every kind of bad file is refused with the database unchanged.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};
use finops::db::{self, DbConnection, DbPool};
use finops::ingest::{
    self, activity, allocate::RuleInput, rules, utilisation, BillingFormat, ImportError, Input,
};

use crate::helpers::{postgres_available, Backend, TestDb};

pub struct Db {
    _db: TestDb,
    pub pool: DbPool,
    pub backend: Backend,
}

impl Db {
    pub fn url(&self) -> &str {
        self._db.url()
    }
}

/// A fresh migrated database per available backend.
pub fn databases() -> Vec<Db> {
    let mut out = Vec::new();
    for backend in [Backend::Sqlite, Backend::Postgres] {
        if backend == Backend::Postgres && !postgres_available() {
            continue;
        }
        let test_db = TestDb::create(backend);
        let pool = db::connect_pool(test_db.url(), 2).expect("pool");
        db::run_migrations(&mut pool.get().expect("conn")).expect("migrations");
        out.push(Db {
            _db: test_db,
            pool,
            backend,
        });
    }
    out
}

pub use crate::helpers::shared_data;

/// Exact decimal (with optional exponent) in 1e-12 units, written
/// independently of the importer.
fn pico(text: &str) -> i128 {
    let t = text.trim();
    if t.is_empty() || t == "NULL" {
        return 0;
    }
    let (mantissa, exp) = match t.find(['e', 'E']) {
        Some(i) => (&t[..i], t[i + 1..].parse::<i32>().unwrap()),
        None => (t, 0),
    };
    let (neg, m) = match mantissa.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, mantissa),
    };
    let (whole, frac) = m.split_once('.').unwrap_or((m, ""));
    let digits = format!("{whole}{frac}");
    let mut value: i128 = digits.parse().unwrap();
    let mut scale = frac.len() as i32 - exp; // value = digits × 10^-scale
    while scale > 12 {
        // Not in the samples; keep the test honest if it ever is.
        assert_eq!(value % 10, 0, "more than 12 decimals: {text}");
        value /= 10;
        scale -= 1;
    }
    value *= 10_i128.pow((12 - scale) as u32);
    if neg {
        -value
    } else {
        value
    }
}

fn cents_of_pico(v: i128) -> i128 {
    let half = if v >= 0 {
        5_000_000_000
    } else {
        -5_000_000_000
    };
    (v + half) / 10_000_000_000
}

fn micros_of_pico(v: i128) -> i64 {
    let half = if v >= 0 { 500_000 } else { -500_000 };
    ((v + half) / 1_000_000) as i64
}

fn cents_of_micros(v: i64) -> i64 {
    let half = if v >= 0 { 5_000 } else { -5_000 };
    (v + half) / 10_000
}

#[derive(QueryableByName, Debug)]
struct GroupSum {
    #[diesel(sql_type = Text)]
    k1: String,
    #[diesel(sql_type = Text)]
    k2: String,
    #[diesel(sql_type = Text)]
    k3: String,
    #[diesel(sql_type = BigInt)]
    billed: i64,
    #[diesel(sql_type = BigInt)]
    effective: i64,
}

/// Sums of cost_daily by three key expressions.
pub fn sums(
    conn: &mut DbConnection,
    k1: &str,
    k2: &str,
    k3: &str,
) -> BTreeMap<(String, String, String), (i64, i64)> {
    let sql =
        format!(
        "SELECT {k1} AS k1, {k2} AS k2, {k3} AS k3, CAST(SUM(billed_micros) AS BIGINT) AS billed, \
         CAST(SUM(effective_micros) AS BIGINT) AS effective \
         FROM cost_daily GROUP BY {}",
        [k1, k2, k3].iter().filter(|k| **k != "''").cloned().collect::<Vec<_>>().join(", ")
    );
    let rows: Vec<GroupSum> = diesel::sql_query(sql).load(conn).expect("sums");
    rows.into_iter()
        .map(|r| ((r.k1, r.k2, r.k3), (r.billed, r.effective)))
        .collect()
}

pub fn month_expr(backend: Backend) -> &'static str {
    match backend {
        Backend::Sqlite => "substr(day, 1, 7)",
        Backend::Postgres => "to_char(day, 'YYYY-MM')",
    }
}

/// Row counts and sums of every table an import writes.
pub fn fingerprint(conn: &mut DbConnection) -> (i64, i64, i64, i64, i64) {
    #[derive(QueryableByName)]
    struct F {
        #[diesel(sql_type = BigInt)]
        a: i64,
        #[diesel(sql_type = BigInt)]
        b: i64,
        #[diesel(sql_type = BigInt)]
        c: i64,
        #[diesel(sql_type = BigInt)]
        d: i64,
        #[diesel(sql_type = BigInt)]
        e: i64,
    }
    let f: F = diesel::sql_query(
        "SELECT (SELECT CAST(COUNT(*) AS BIGINT) FROM cost_daily) AS a, \
         (SELECT CAST(COALESCE(SUM(billed_micros), 0) AS BIGINT) FROM cost_daily) AS b, \
         (SELECT CAST(COUNT(*) AS BIGINT) FROM cost_resource_daily) AS c, \
         (SELECT CAST(COUNT(*) AS BIGINT) FROM player_activity) AS d, \
         (SELECT CAST(COUNT(*) AS BIGINT) FROM utilisation) AS e",
    )
    .get_result(conn)
    .expect("fingerprint");
    (f.a, f.b, f.c, f.d, f.e)
}

fn import(
    conn: &mut DbConnection,
    format: BillingFormat,
    path: &Path,
) -> Result<ingest::ImportSummary, ImportError> {
    ingest::import_billing(conn, format, &Input::new(path), &mut |_| {})
}

fn read_csv(path: &Path) -> Vec<BTreeMap<String, String>> {
    crate::helpers::csv_records(std::fs::File::open(path).expect("csv"))
}

#[test]
fn focus_sample_ties_out_to_the_cent_and_reimport_changes_nothing() {
    let Some(path) = shared_data("focus-1.0-sample.csv") else {
        return;
    };
    // Expected totals from the file itself, with the csv crate and an
    // exact decimal reader: per charge month × provider × region, and per
    // billing period × provider (the invoice).
    let mut expected: BTreeMap<(String, String, String), (i128, i128)> = BTreeMap::new();
    let mut invoice: BTreeMap<(String, String), i128> = BTreeMap::new();
    let rows = read_csv(&path);
    for r in &rows {
        let region = match r["RegionId"].as_str() {
            "NULL" | "" => "global".to_string(),
            other => other.to_string(),
        };
        let e = expected
            .entry((
                r["ChargePeriodStart"][..7].to_string(),
                r["ProviderName"].clone(),
                region,
            ))
            .or_default();
        e.0 += pico(&r["BilledCost"]);
        e.1 += pico(&r["EffectiveCost"]);
        *invoice
            .entry((
                r["BillingPeriodStart"][..7].to_string(),
                r["ProviderName"].clone(),
            ))
            .or_default() += pico(&r["BilledCost"]);
    }
    assert_eq!(rows.len(), 1000);

    for db in databases() {
        let mut conn = db.pool.get().unwrap();
        let summary =
            import(&mut conn, BillingFormat::Focus, &path).expect("the sample imports as it is");
        assert_eq!(summary.rows_read, 1000, "{:?}", db.backend);
        let month = month_expr(db.backend);
        let check = |conn: &mut DbConnection| {
            let got = sums(conn, month, "provider", "region");
            assert_eq!(
                got.keys().collect::<Vec<_>>(),
                expected.keys().collect::<Vec<_>>(),
                "{:?}: the same month × provider × region groups",
                db.backend
            );
            for (k, (billed, effective)) in &expected {
                let (gb, ge) = got[k];
                assert_eq!(
                    cents_of_micros(gb) as i128,
                    cents_of_pico(*billed),
                    "{:?} billed {k:?}",
                    db.backend
                );
                assert_eq!(
                    cents_of_micros(ge) as i128,
                    cents_of_pico(*effective),
                    "{:?} effective {k:?}",
                    db.backend
                );
                // Stronger: the stored total is the exact total rounded to
                // the micro-unit, not a sum of separately rounded rows.
                assert_eq!(
                    gb,
                    micros_of_pico(*billed),
                    "{:?} billed {k:?} in micro-units",
                    db.backend
                );
                assert_eq!(
                    ge,
                    micros_of_pico(*effective),
                    "{:?} effective {k:?} in micro-units",
                    db.backend
                );
            }
            let by_period = sums(conn, "billing_period", "provider", "''");
            for ((period, provider), billed) in &invoice {
                let (gb, _) = by_period[&(period.clone(), provider.clone(), String::new())];
                assert_eq!(
                    cents_of_micros(gb) as i128,
                    cents_of_pico(*billed),
                    "{:?} invoice {period} {provider}",
                    db.backend
                );
            }
        };
        check(&mut conn);
        // The late-billed Oracle row keeps its October billing period.
        let periods = sums(&mut conn, "billing_period", "provider", "''");
        assert!(periods.contains_key(&("2024-10".into(), "Oracle".into(), String::new())));

        let before = fingerprint(&mut conn);
        let again = import(&mut conn, BillingFormat::Focus, &path).expect("re-import");
        assert_eq!(
            again.replaced_rows, summary.resource_rows,
            "re-import replaces what the first import stored"
        );
        assert_eq!(
            fingerprint(&mut conn),
            before,
            "{:?}: re-importing changes nothing",
            db.backend
        );
        check(&mut conn);
    }
}

/// The classes of the sample's AWS usage lines, read independently from
/// their descriptions: EC2 instance hours, Fargate vCPU and memory, Lambda
/// compute. Everything else (EBS, snapshots, transfer, NAT gateway hours,
/// the EBS-optimised "instance-hour" lines) is none of them.
fn sample_line_class(r: &BTreeMap<String, String>) -> &'static str {
    let service = r["ServiceName"].as_str();
    let description = r["ChargeDescription"].as_str();
    if service == "Amazon Elastic Compute Cloud" && description.contains("Instance Hour") {
        "compute_instance"
    } else if service == "Amazon Elastic Container Service"
        && description.starts_with("AWS Fargate - ")
        && (description.contains("vCPU") || description.contains("Memory"))
    {
        "fargate"
    } else if service == "AWS Lambda" && description.contains("Total Compute") {
        "lambda"
    } else {
        "other"
    }
}

#[derive(QueryableByName, Debug)]
struct ClassSum {
    #[diesel(sql_type = Text)]
    usage_class: String,
    #[diesel(sql_type = BigInt)]
    micros: i64,
    #[diesel(sql_type = BigInt)]
    n: i64,
}

#[test]
fn focus_sample_eligible_compute_is_exactly_its_instance_fargate_and_lambda_lines() {
    let Some(path) = shared_data("focus-1.0-sample.csv") else {
        return;
    };
    let rows = read_csv(&path);
    let mut expected: BTreeMap<&str, (i128, usize)> = BTreeMap::new();
    for r in rows
        .iter()
        .filter(|r| r["ProviderName"] == "AWS" && r["ChargeCategory"] == "Usage")
    {
        let e = expected.entry(sample_line_class(r)).or_default();
        e.0 += pico(&r["ListCost"]);
        e.1 += 1;
    }
    // The sample holds EC2 storage, transfer and NAT lines beside its
    // instance hours: the case where service-level eligibility overstates.
    let ec2_hours: i128 = rows
        .iter()
        .filter(|r| {
            r["ProviderName"] == "AWS"
                && r["ServiceName"] == "Amazon Elastic Compute Cloud"
                && r["ConsumedUnit"] == "Hours"
        })
        .map(|r| pico(&r["ListCost"]))
        .sum();
    assert_eq!(cents_of_pico(ec2_hours), 1772, "EC2 lines billed in hours");
    assert_eq!(cents_of_pico(expected["compute_instance"].0), 1730);

    for db in databases() {
        let mut conn = db.pool.get().unwrap();
        import(&mut conn, BillingFormat::Focus, &path).expect("the sample imports");
        let got: Vec<ClassSum> = diesel::sql_query(
            "SELECT usage_class, CAST(SUM(COALESCE(list_micros, effective_micros)) AS BIGINT) AS micros, \
             CAST(COUNT(*) AS BIGINT) AS n FROM cost_daily \
             WHERE provider = 'AWS' AND charge_category = 'Usage' GROUP BY usage_class",
        )
        .load(&mut conn)
        .expect("class sums");
        let got: BTreeMap<String, (i64, i64)> = got
            .into_iter()
            .map(|c| (c.usage_class, (c.micros, c.n)))
            .collect();
        for (class, (pico_sum, lines)) in &expected {
            let (micros, _) = got.get(*class).copied().unwrap_or_default();
            // Each stored row is rounded to the micro-unit with its
            // month × region group: at most one micro-unit per line off.
            let exact = micros_of_pico(*pico_sum);
            assert!(
                (micros - exact).abs() <= *lines as i64,
                "{:?} {class}: stored {micros} µ, lines {exact} µ",
                db.backend
            );
            assert_eq!(
                cents_of_micros(micros) as i128,
                cents_of_pico(*pico_sum),
                "{:?} {class} to the cent",
                db.backend
            );
        }
        // What a commitment is sized on: those three classes, nothing else.
        let (daily, currency) =
            finops::recommend::usage::eligible_compute(&mut conn).expect("eligible compute");
        assert_eq!(currency, "USD");
        let eligible_micros: i64 = daily.iter().map(|(_, v)| (v * 1e6).round() as i64).sum();
        let want: i128 = ["compute_instance", "fargate", "lambda"]
            .iter()
            .map(|c| expected.get(c).map(|e| e.0).unwrap_or(0))
            .sum();
        assert_eq!(
            cents_of_micros(eligible_micros) as i128,
            cents_of_pico(want),
            "{:?}: eligible compute is the instance, Fargate and Lambda lines",
            db.backend
        );
        assert!(
            cents_of_pico(want) < cents_of_pico(ec2_hours),
            "and less than every EC2 line billed in hours"
        );
    }
}

#[test]
fn legacy_cur_sample_ties_out_per_month_account_and_region() {
    let Some(path) = shared_data("aws-cur-legacy-sample.csv") else {
        return;
    };
    let mut expected: BTreeMap<(String, String, String), i128> = BTreeMap::new();
    let mut total: i128 = 0;
    for r in read_csv(&path) {
        let region = [
            r["product/regionCode"].as_str(),
            r["product/region"].as_str(),
        ]
        .into_iter()
        .find(|v| !v.is_empty())
        .unwrap_or("global")
        .to_string();
        let v = pico(&r["lineItem/UnblendedCost"]);
        total += v;
        *expected
            .entry((
                r["lineItem/UsageStartDate"][..7].to_string(),
                r["lineItem/UsageAccountId"].clone(),
                region,
            ))
            .or_default() += v;
    }
    // The file's documented total, 1.6823086974.
    assert_eq!(total, 1_682_308_697_400);
    for db in databases() {
        let mut conn = db.pool.get().unwrap();
        let summary =
            import(&mut conn, BillingFormat::Cur, &path).expect("the sample imports as it is");
        assert_eq!(summary.rows_read, 1281);
        let got = sums(&mut conn, month_expr(db.backend), "account_id", "region");
        assert_eq!(got.len(), expected.len(), "{:?}", db.backend);
        for (k, v) in &expected {
            assert_eq!(
                cents_of_micros(got[k].0) as i128,
                cents_of_pico(*v),
                "{:?} {k:?}",
                db.backend
            );
            // Without reservations or Savings Plans, amortised = unblended.
            assert_eq!(got[k].0, got[k].1);
        }
        let all: i64 = got.values().map(|v| v.0).sum();
        assert!(
            (all as i128 - total / 1_000_000).abs() <= 1281,
            "micro-unit rounding only"
        );
        // No tags in the file: everything is unallocated.
        let by_platform = sums(&mut conn, "platform", "''", "''");
        assert_eq!(
            by_platform.keys().map(|k| k.0.as_str()).collect::<Vec<_>>(),
            ["unallocated"]
        );
        let before = fingerprint(&mut conn);
        import(&mut conn, BillingFormat::Cur, &path).expect("re-import");
        assert_eq!(fingerprint(&mut conn), before);
    }
}

fn write_file(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

const FOCUS_HEADER: &str = "BilledCost,EffectiveCost,ListCost,BillingAccountId,BillingCurrency,BillingPeriodStart,BillingPeriodEnd,ChargeCategory,ChargePeriodStart,ChargePeriodEnd,ProviderName,RegionId,ServiceName,SubAccountId,ResourceId,Tags,ConsumedQuantity,ConsumedUnit";

fn focus_line(billed: &str, start: &str, end: &str, tags: &str) -> String {
    format!(
        "{billed},{billed},{billed},100,USD,2026-03-01T00:00:00Z,2026-04-01T00:00:00Z,Usage,{start},{end},AWS,eu-west-1,Amazon EC2,200,i-1,\"{}\",1,Hours",
        tags.replace('"', "\"\"")
    )
}

fn good_focus() -> String {
    let mut s = format!("{FOCUS_HEADER}\n");
    s.push_str(&focus_line(
        "10.50",
        "2026-03-02T00:00:00Z",
        "2026-03-02T01:00:00Z",
        r#"{"platform":"PC"}"#,
    ));
    s.push('\n');
    s.push_str(&focus_line(
        "4.25",
        "2026-03-02T01:00:00Z",
        "2026-03-02T02:00:00Z",
        r#"{"platform":"shared"}"#,
    ));
    s.push('\n');
    s
}

/// Every kind of bad file is refused with a message that names the file
/// (and the line and column where there is one), and nothing changes.
#[test]
fn bad_files_are_refused_and_change_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let good = write_file(d, "good.csv", good_focus().as_bytes());

    let mut invalid_utf8 = good_focus().into_bytes();
    let at = invalid_utf8.len() - 5;
    invalid_utf8[at] = 0xff;
    let missing_column = good_focus().replace("BilledCost,", "Cost,");
    let wrong_type = format!(
        "{FOCUS_HEADER}\n{}\n{}\n",
        focus_line("10.50", "2026-03-02T00:00:00Z", "2026-03-02T01:00:00Z", ""),
        focus_line("ten", "2026-03-02T00:00:00Z", "2026-03-02T01:00:00Z", "")
    );
    let bad_date = format!(
        "{FOCUS_HEADER}\n{}\n",
        focus_line("1.00", "2026-02-30T00:00:00Z", "2026-03-02T01:00:00Z", "")
    );
    let crossing = format!(
        "{FOCUS_HEADER}\n{}\n",
        focus_line("1.00", "2026-03-31T23:00:00Z", "2026-04-01T01:00:00Z", "")
    );
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(good_focus().as_bytes()).unwrap();
    let gz = gz.finish().unwrap();

    type Case<'a> = (PathBuf, &'a str, Box<dyn Fn(&ImportError) -> bool>);
    let cases: Vec<Case> = vec![
        (
            write_file(d, "latin1.csv", &invalid_utf8),
            "latin1.csv: line 3: invalid UTF-8",
            Box::new(|e| matches!(e, ImportError::Encoding { line: 3, .. })),
        ),
        (
            write_file(d, "missing.csv", missing_column.as_bytes()),
            "missing.csv: missing required column BilledCost",
            Box::new(|e| matches!(e, ImportError::MissingColumns { .. })),
        ),
        (
            write_file(d, "wrong-type.csv", wrong_type.as_bytes()),
            "wrong-type.csv: 1 row with errors, nothing imported; line 3, column BilledCost: 'ten' is not a decimal number",
            Box::new(|e| matches!(e, ImportError::BadRows { count: 1, .. })),
        ),
        (
            write_file(d, "bad-date.csv", bad_date.as_bytes()),
            "line 2, column ChargePeriodStart: '2026-02-30T00:00:00Z' is not a date",
            Box::new(|e| matches!(e, ImportError::BadRows { .. })),
        ),
        (
            write_file(d, "crossing.csv", crossing.as_bytes()),
            "line 2, column ChargePeriodStart: '2026-03-31T23:00:00Z – 2026-04-01T01:00:00Z' the charge period crosses the boundary of its billing period",
            Box::new(|e| matches!(e, ImportError::BadRows { .. })),
        ),
        (
            write_file(d, "empty.csv", b""),
            "empty.csv: the file is empty",
            Box::new(|e| matches!(e, ImportError::Empty { .. })),
        ),
        (
            write_file(d, "header-only.csv", format!("{FOCUS_HEADER}\n").as_bytes()),
            "header-only.csv: the file has a header but no rows",
            Box::new(|e| matches!(e, ImportError::NoRows { .. })),
        ),
        (
            write_file(d, "truncated.csv.gz", &gz[..gz.len() - 12]),
            "truncated.csv.gz: the gzip data is truncated or corrupt",
            Box::new(|e| matches!(e, ImportError::Gzip { .. })),
        ),
        (
            wrong_schema_parquet(d),
            "wrong-schema.parquet: missing required columns BilledCost, EffectiveCost",
            Box::new(|e| matches!(e, ImportError::MissingColumns { .. })),
        ),
    ];

    for db in databases() {
        let mut conn = db.pool.get().unwrap();
        import(&mut conn, BillingFormat::Focus, &good).expect("the good file imports");
        let before = fingerprint(&mut conn);
        assert!(before.0 > 0);
        for (path, message, kind) in &cases {
            let e = import(&mut conn, BillingFormat::Focus, path).expect_err("refused");
            assert!(
                kind(&e),
                "{:?} {}: unexpected error {e:?}",
                db.backend,
                path.display()
            );
            assert!(e.is_bad_input());
            let text = e.to_string();
            assert!(
                text.contains(message),
                "{:?}: '{text}' should contain '{message}'",
                db.backend
            );
            assert!(
                text.contains(path.file_name().unwrap().to_str().unwrap()),
                "names the file: {text}"
            );
            assert_eq!(
                fingerprint(&mut conn),
                before,
                "{:?} {}: the database is unchanged",
                db.backend,
                path.display()
            );
        }
        // Every attempt is logged as an import run.
        let runs = finops::db::ingest_runs::latest(&mut conn, 100).unwrap();
        assert_eq!(
            runs.iter().filter(|r| r.status == "failed").count(),
            cases.len()
        );
        // And the process still imports afterwards.
        import(&mut conn, BillingFormat::Focus, &good).expect("still imports");
        assert_eq!(fingerprint(&mut conn), before);
    }
}

fn wrong_schema_parquet(dir: &Path) -> PathBuf {
    use polars::prelude::*;
    let path = dir.join("wrong-schema.parquet");
    let mut df = df!(
        "Cost" => [1.5f64, 2.0],
        "ChargePeriodStart" => ["2026-03-02", "2026-03-02"],
        "ChargePeriodEnd" => ["2026-03-03", "2026-03-03"],
        "BillingAccountId" => ["1", "1"],
        "BillingCurrency" => ["USD", "USD"],
        "BillingPeriodStart" => ["2026-03-01", "2026-03-01"],
        "ChargeCategory" => ["Usage", "Usage"],
        "ProviderName" => ["AWS", "AWS"]
    )
    .unwrap();
    let file = std::fs::File::create(&path).unwrap();
    ParquetWriter::new(file).finish(&mut df).unwrap();
    path
}

#[test]
fn parquet_and_gzip_focus_files_import_like_csv() {
    use polars::prelude::*;
    let dir = tempfile::tempdir().unwrap();
    let csv_path = write_file(dir.path(), "march.csv", good_focus().as_bytes());
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(good_focus().as_bytes()).unwrap();
    let gz_path = write_file(dir.path(), "march.csv.gz", &gz.finish().unwrap());
    // Parquet with typed columns, as exports write them.
    let pq_path = dir.path().join("march.parquet");
    let ts = |s: &str| {
        chrono::DateTime::parse_from_rfc3339(s)
            .unwrap()
            .timestamp_millis()
    };
    let mut df = df!(
        "BilledCost" => [10.5f64, 4.25],
        "EffectiveCost" => [10.5f64, 4.25],
        "BillingAccountId" => ["100", "100"],
        "BillingCurrency" => ["USD", "USD"],
        "BillingPeriodStart" => [ts("2026-03-01T00:00:00Z"), ts("2026-03-01T00:00:00Z")],
        "ChargeCategory" => ["Usage", "Usage"],
        "ChargePeriodStart" => [ts("2026-03-02T00:00:00Z"), ts("2026-03-02T01:00:00Z")],
        "ChargePeriodEnd" => [ts("2026-03-02T01:00:00Z"), ts("2026-03-02T02:00:00Z")],
        "ProviderName" => ["AWS", "AWS"],
        "RegionId" => ["eu-west-1", "eu-west-1"],
        "Tags" => [r#"{"platform":"PC"}"#, r#"{"platform":"shared"}"#]
    )
    .unwrap();
    for c in ["BillingPeriodStart", "ChargePeriodStart", "ChargePeriodEnd"] {
        let s = df
            .column(c)
            .unwrap()
            .cast(&DataType::Datetime(TimeUnit::Milliseconds, None))
            .unwrap();
        df.with_column(s).unwrap();
    }
    ParquetWriter::new(std::fs::File::create(&pq_path).unwrap())
        .finish(&mut df)
        .unwrap();

    for db in databases() {
        let mut conn = db.pool.get().unwrap();
        for path in [&csv_path, &gz_path, &pq_path] {
            let s = import(&mut conn, BillingFormat::Focus, path)
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            assert_eq!(s.rows_read, 2);
            assert_eq!(s.totals[0].billed.0, 14_750_000, "{}", path.display());
            // Each import of the same period replaces the previous one.
            let total = sums(&mut conn, "currency", "''", "''");
            assert_eq!(
                total[&("USD".into(), String::new(), String::new())].0,
                14_750_000
            );
        }
    }
}

/// A CUR with every amortisation case, checked by hand against AWS's
/// definitions of amortised cost.
#[test]
fn cur_amortisation_matches_cost_explorer_definitions() {
    let header = "bill/PayerAccountId,bill/BillingPeriodStartDate,bill/BillingPeriodEndDate,lineItem/UsageAccountId,lineItem/LineItemType,lineItem/UsageStartDate,lineItem/UsageEndDate,lineItem/ProductCode,lineItem/UnblendedCost,lineItem/CurrencyCode,lineItem/UsageAmount,product/regionCode,reservation/ReservationARN,reservation/EffectiveCost,reservation/UnusedAmortizedUpfrontFeeForBillingPeriod,reservation/UnusedRecurringFee,savingsPlan/SavingsPlanEffectiveCost,savingsPlan/TotalCommitmentToDate,savingsPlan/UsedCommitment,resourceTags/user:platform,reservation/EndTime";
    let line = |ty: &str,
                cost: &str,
                arn: &str,
                ri_eff: &str,
                ri_unused_up: &str,
                ri_unused_rec: &str,
                sp_eff: &str,
                sp_total: &str,
                sp_used: &str,
                platform: &str| {
        format!("111,2026-03-01T00:00:00Z,2026-04-01T00:00:00Z,222,{ty},2026-03-05T10:00:00Z,2026-03-05T11:00:00Z,AmazonEC2,{cost},USD,1,eu-west-1,{arn},{ri_eff},{ri_unused_up},{ri_unused_rec},{sp_eff},{sp_total},{sp_used},{platform}")
    };
    let rows = [
        // On-demand usage: billed = effective = 2.00
        line("Usage", "2.00", "", "", "", "", "", "", "", "PC"),
        // Savings Plan covers usage worth 1.00 on demand at an effective 0.60;
        // the negation cancels the on-demand cost on the invoice.
        line(
            "SavingsPlanCoveredUsage",
            "1.00",
            "",
            "",
            "",
            "",
            "0.60",
            "",
            "",
            "PC",
        ),
        line(
            "SavingsPlanNegation",
            "-1.00",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
            "PC",
        ),
        // The hour's commitment 0.75, of which 0.60 used: 0.15 unused.
        line(
            "SavingsPlanRecurringFee",
            "0.75",
            "",
            "",
            "",
            "",
            "",
            "0.75",
            "0.60",
            "",
        ),
        // Reserved instance: usage billed 0, effective 0.40 (amortised
        // upfront + recurring); the RI fee billed 0.30 with 0.05 + 0.02 unused.
        line(
            "DiscountedUsage",
            "0",
            "arn:aws:ec2:ri/1",
            "0.40",
            "",
            "",
            "",
            "",
            "",
            "Xbox",
        ),
        line(
            "RIFee",
            "0.30",
            "arn:aws:ec2:ri/1",
            "",
            "0.05",
            "0.02",
            "",
            "",
            "",
            "",
        ),
        // The upfront payment: billed when paid, amortised into the above.
        line(
            "Fee",
            "100.00",
            "arn:aws:ec2:ri/1",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
        ),
        line("Tax", "0.50", "", "", "", "", "", "", "", ""),
    ];
    // The reservation's lines say when it ends.
    let rows: Vec<String> = rows
        .iter()
        .map(|r| {
            let end = if r.contains("arn:aws:ec2:ri/1") {
                "2026-05-31T23:59:59Z"
            } else {
                ""
            };
            format!("{r},{end}")
        })
        .collect();
    let text = format!("{header}\n{}\n", rows.join("\n"));
    let dir = tempfile::tempdir().unwrap();
    let path = write_file(dir.path(), "cur.csv", text.as_bytes());
    for db in databases() {
        let mut conn = db.pool.get().unwrap();
        let s = import(&mut conn, BillingFormat::Cur, &path).expect("imports");
        // Invoice: 2 + 1 − 1 + 0.75 + 0 + 0.30 + 100 + 0.50 = 103.55
        assert_eq!(s.totals[0].billed.0, 103_550_000);
        // Amortised: 2 + 0.60 + 0 + 0.15 + 0.40 + 0.07 + 0 + 0.50 = 3.72
        assert_eq!(s.totals[0].effective.0, 3_720_000);
        let by = sums(&mut conn, "platform", "charge_category", "''");
        assert_eq!(
            by[&("PC".into(), "Usage".into(), String::new())],
            (2_000_000, 2_600_000)
        );
        assert_eq!(
            by[&("Xbox".into(), "Usage".into(), String::new())],
            (0, 400_000)
        );
        assert_eq!(
            by[&("unallocated".into(), "Purchase".into(), String::new())],
            (101_050_000, 220_000)
        );
        assert_eq!(
            by[&("unallocated".into(), "Tax".into(), String::new())],
            (500_000, 500_000)
        );
        // The reservation's lines keep its id, type and status.
        #[derive(QueryableByName)]
        struct C {
            #[diesel(sql_type = Text)]
            commitment_id: String,
            #[diesel(sql_type = Text)]
            commitment_type: String,
            #[diesel(sql_type = Text)]
            commitment_status: String,
        }
        let mut commitments: Vec<(String, String, String)> = diesel::sql_query(
            "SELECT commitment_id, commitment_type, commitment_status FROM cost_resource_daily \
             WHERE commitment_id <> ''",
        )
        .load::<C>(&mut conn)
        .unwrap()
        .into_iter()
        .map(|c| (c.commitment_id, c.commitment_type, c.commitment_status))
        .collect();
        commitments.sort();
        let ri = |status: &str| {
            (
                "arn:aws:ec2:ri/1".to_string(),
                "Reserved Instance".to_string(),
                status.to_string(),
            )
        };
        assert_eq!(commitments, vec![ri(""), ri("Unused"), ri("Used")]);
        // The inventory: the reservation's utilisation is its covered
        // usage over covered usage plus what went unused, 0.40 / 0.47.
        let today = chrono::NaiveDate::from_ymd_opt(2026, 4, 1).unwrap();
        let held = finops::recommend::held::inventory(&mut conn, today).unwrap();
        assert_eq!(held.len(), 1, "{:?}", db.backend);
        let h = &held[0];
        assert_eq!(h.id, "arn:aws:ec2:ri/1");
        assert_eq!(h.seen_in, "bill");
        assert_eq!((h.used.0, h.unused.0), (400_000, 70_000));
        assert!((h.utilisation.unwrap() - 0.40 / 0.47).abs() < 1e-9);
        assert_eq!(h.months.len(), 1);
        assert_eq!(h.months[0].month, "2026-03");
        // Its end date from the bill: 60 days after 2026-04-01.
        assert_eq!(h.end_date, chrono::NaiveDate::from_ymd_opt(2026, 5, 31));
        assert_eq!(h.expires_in_days, Some(60));
        assert!(h.expires_soon());
    }
}

#[test]
fn allocation_rules_apply_in_order_and_reapply_to_stored_data() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_file(dir.path(), "march.csv", good_focus().as_bytes());
    let activity_path = write_file(
        dir.path(),
        "activity.csv",
        b"day,platform,region,peak_concurrent_players,player_hours\n2026-03-02,PC,eu-west-1,100,300\n2026-03-02,ps5,eu-west-1,100,100\n",
    );
    for db in databases() {
        let mut conn = db.pool.get().unwrap();
        import(&mut conn, BillingFormat::Focus, &path).unwrap();
        let by = |conn: &mut DbConnection| -> BTreeMap<String, i64> {
            sums(conn, "platform", "''", "''")
                .into_iter()
                .map(|(k, v)| (k.0, v.0))
                .collect()
        };
        // No activity yet: the shared 4.25 splits equally over six platforms.
        let before = by(&mut conn);
        assert_eq!(before.values().sum::<i64>(), 14_750_000);
        assert_eq!(before["PC"], 10_500_000 + 708_334);
        // Activity arrives: shared cost re-splits 3:1 by player-hours.
        activity::import(&mut conn, &Input::new(&activity_path)).expect("activity imports");
        let after = by(&mut conn);
        assert_eq!(after["PC"], 10_500_000 + 3_187_500);
        assert_eq!(after["PlayStation"], 1_062_500);
        assert_eq!(after.len(), 2);
        // A new first rule sends the whole account to Switch.
        let mut list: Vec<RuleInput> = db::allocation_rules::list(&mut conn)
            .unwrap()
            .iter()
            .map(RuleInput::from)
            .collect();
        list.insert(
            0,
            RuleInput {
                kind: "account".into(),
                pattern: "200".into(),
                platform: "Switch".into(),
                driver: String::new(),
                note: "test".into(),
            },
        );
        rules::save(&mut conn, &list, "test").expect("rules save");
        assert_eq!(
            by(&mut conn),
            BTreeMap::from([("Switch".to_string(), 14_750_000)])
        );
        // A bad rule changes nothing.
        list.insert(
            0,
            RuleInput {
                kind: "resource".into(),
                pattern: "([".into(),
                platform: "PC".into(),
                driver: String::new(),
                note: String::new(),
            },
        );
        let e = rules::save(&mut conn, &list, "test").expect_err("bad regex");
        assert!(e.to_string().starts_with("rule 1:"), "{e}");
        assert_eq!(
            by(&mut conn),
            BTreeMap::from([("Switch".to_string(), 14_750_000)])
        );
        assert_eq!(db::allocation_rules::list(&mut conn).unwrap().len(), 4);
    }
}

#[test]
fn activity_and_utilisation_files_import_and_bad_rows_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let good_activity = write_file(
        dir.path(),
        "activity.csv",
        b"day,platform,region,peak_concurrent_players,player_hours\n2026-03-02,PC,eu-west-1,100,300.5\n2026-03-03,Switch,eu-west-1,50,100\n",
    );
    let bad_activity = write_file(
        dir.path(),
        "bad-activity.csv",
        b"day,platform,region,peak_concurrent_players,player_hours\n2026-03-02,Dreamcast,eu-west-1,100,300.5\n2026-03-32,PC,eu-west-1,-4,x\n",
    );
    let good_util = write_file(
        dir.path(),
        "util.csv",
        b"timestamp,instance_id,instance_type,region,platform,cpu_avg,cpu_max,cpu_p95,mem_avg,mem_max\n2026-03-02T14:00:00Z,i-1,c6i.2xlarge,eu-west-1,PC,41.2,78.9,71.0,55.1,60.3\n2026-03-02T15:00:00Z,i-1,c6i.2xlarge,eu-west-1,PC,40,70,65,,\n",
    );
    let bad_util = write_file(
        dir.path(),
        "bad-util.csv",
        b"timestamp,instance_id,instance_type,region,cpu_avg,cpu_max\n2026-03-02T14:00:00Z,i-1,c6i.2xlarge,eu-west-1,141,78.9\n",
    );
    for db in databases() {
        let mut conn = db.pool.get().unwrap();
        let a = activity::import(&mut conn, &Input::new(&good_activity)).expect("activity");
        assert_eq!(a.rows, 2);
        let again = activity::import(&mut conn, &Input::new(&good_activity)).expect("again");
        assert_eq!(again.replaced_rows, 2);
        let u = utilisation::import(&mut conn, &Input::new(&good_util)).expect("utilisation");
        assert_eq!(
            (u.rows, u.resources, u.granularity.as_str()),
            (2, 1, "hour")
        );
        let before = fingerprint(&mut conn);
        assert_eq!((before.3, before.4), (2, 2));

        let e = activity::import(&mut conn, &Input::new(&bad_activity)).expect_err("bad activity");
        let lines = e.details();
        assert!(
            lines[0].contains(
                "bad-activity.csv: line 2, column platform: 'Dreamcast' unknown platform"
            ),
            "{lines:?}"
        );
        assert!(
            lines
                .iter()
                .any(|l| l.contains("line 3, column day: '2026-03-32' is not a date")),
            "{lines:?}"
        );
        assert!(
            lines
                .iter()
                .any(|l| l.contains("line 3, column peak_concurrent_players: '-4'")),
            "{lines:?}"
        );
        assert!(
            lines
                .iter()
                .any(|l| l.contains("line 3, column player_hours: 'x' is not a number")),
            "{lines:?}"
        );
        let e =
            utilisation::import(&mut conn, &Input::new(&bad_util)).expect_err("bad utilisation");
        assert!(
            e.to_string()
                .contains("line 2, column cpu_avg: '141' is not a percentage"),
            "{e}"
        );
        assert_eq!(fingerprint(&mut conn), before);
    }
}

#[test]
fn cur2_parquet_reads_resource_tags_maps() {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/cur2-resource-tags.parquet");
    for db in databases() {
        let mut conn = db.pool.get().unwrap();
        let s = import(&mut conn, BillingFormat::Cur, &path).expect("CUR 2.0 Parquet imports");
        assert_eq!(s.totals[0].billed.0, 4_500_000);
        let by: BTreeMap<String, i64> = sums(&mut conn, "platform", "''", "''")
            .into_iter()
            .map(|(k, v)| (k.0, v.0))
            .collect();
        assert_eq!(
            by,
            BTreeMap::from([
                ("PC".to_string(), 2_500_000),
                ("PlayStation".to_string(), 1_250_000),
                ("unallocated".to_string(), 750_000)
            ])
        );
    }
}

#[test]
fn cloudwatch_metric_data_imports_as_utilisation() {
    let dir = tempfile::tempdir().unwrap();
    let base = "instance_id=i-9 instance_type=m6i.large region=us-east-1 platform=Xbox";
    let series = |metric: &str, stat: &str, values: [f64; 2]| {
        serde_json::json!({
            "Id": "q", "Label": format!("{base} metric={metric} stat={stat}"),
            "Timestamps": ["2026-03-02T00:00:00Z", "2026-03-03T00:00:00Z"],
            "Values": values, "StatusCode": "Complete"
        })
    };
    let answer = serde_json::json!({"MetricDataResults": [
        series("CPUUtilization", "Average", [12.0, 14.0]),
        series("CPUUtilization", "Maximum", [30.0, 33.0]),
        series("mem_used_percent", "Average", [50.0, 52.0]),
    ], "Messages": []});
    let path = write_file(dir.path(), "cw.json", answer.to_string().as_bytes());
    for db in databases() {
        let mut conn = db.pool.get().unwrap();
        let s = utilisation::import(&mut conn, &Input::new(&path)).expect("imports");
        assert_eq!((s.rows, s.resources, s.granularity.as_str()), (2, 1, "day"));
        assert_eq!(fingerprint(&mut conn).4, 2);
    }
}

#[test]
fn focus_commitment_discount_columns_are_kept() {
    let dir = tempfile::tempdir().unwrap();
    let text = format!(
        "{FOCUS_HEADER},CommitmentDiscountId\n{},sp-1\n{},\n",
        focus_line("1.00", "2026-03-02T00:00:00Z", "2026-03-02T01:00:00Z", ""),
        focus_line("2.00", "2026-03-02T00:00:00Z", "2026-03-02T01:00:00Z", "")
    );
    let path = write_file(dir.path(), "commit.csv", text.as_bytes());
    for db in databases() {
        let mut conn = db.pool.get().unwrap();
        import(&mut conn, BillingFormat::Focus, &path).expect("imports");
        use finops::db::schema::cost_resource_daily::dsl as r;
        let mut got: Vec<(String, String, i64)> = r::cost_resource_daily
            .select((r::commitment_id, r::commitment_type, r::billed_micros))
            .load(&mut conn)
            .unwrap();
        got.sort();
        assert_eq!(
            got,
            vec![
                (String::new(), String::new(), 2_000_000),
                ("sp-1".into(), String::new(), 1_000_000)
            ]
        );
    }
}

/// The columns of [`cur_day_lines`].
pub const CUR_DAY_HEADER: &str = "bill_payer_account_id,bill_billing_period_start_date,bill_billing_period_end_date,line_item_usage_account_id,line_item_line_item_type,line_item_usage_start_date,line_item_usage_end_date,line_item_product_code,product_product_name,line_item_usage_type,line_item_line_item_description,line_item_resource_id,line_item_usage_amount,pricing_unit,line_item_unblended_cost,pricing_public_on_demand_cost,line_item_currency_code,product_region_code,resource_tags";

/// Billed micro-units of [`cur_day_lines`]' day.
pub const CUR_DAY_MICROS: i64 = 226_981_333;

/// CUR 2.0 lines of one day: instance hours of two types, and under the
/// same EC2 service EBS, transfer and Spot hours.
pub fn cur_day_lines(day: chrono::NaiveDate) -> Vec<String> {
    use chrono::Datelike;
    let month = day.format("%Y-%m-01").to_string();
    let next = (day.with_day(1).unwrap() + chrono::Duration::days(32))
        .format("%Y-%m-01")
        .to_string();
    let line = |usage_type: &str,
                description: &str,
                region: &str,
                amount: f64,
                unit: &str,
                cost: f64| {
        format!(
            "111122223333,{month}T00:00:00Z,{next}T00:00:00Z,444455556666,Usage,{day}T00:00:00Z,{}T00:00:00Z,AmazonEC2,Amazon Elastic Compute Cloud,{usage_type},{description},res-{region},{amount},{unit},{cost:.6},{cost:.6},USD,{region},\"{{\"\"user_platform\"\":\"\"PC\"\"}}\"",
            day + chrono::Duration::days(1)
        )
    };
    vec![
        line(
            "USE1-BoxUsage:c6i.4xlarge",
            "$0.68 per On Demand Linux c6i.4xlarge Instance Hour",
            "us-east-1",
            240.0,
            "Hrs",
            163.2,
        ),
        line(
            "EU-BoxUsage:m6i.2xlarge",
            "$0.428 per On Demand Linux m6i.2xlarge Instance Hour",
            "eu-west-1",
            96.0,
            "Hrs",
            41.088,
        ),
        line(
            "USE1-EBS:VolumeUsage.gp3",
            "$0.08 per GB-month of General Purpose (gp3) provisioned storage",
            "us-east-1",
            500.0,
            "GB-Mo",
            1.333333,
        ),
        line(
            "USE1-DataTransfer-Out-Bytes",
            "$0.09 per GB - first 10 TB / month data transfer out",
            "us-east-1",
            200.0,
            "GB",
            18.0,
        ),
        line(
            "USE1-SpotUsage:c5.xlarge",
            "$0.07 per Linux/UNIX Spot Instance-hour c5.xlarge",
            "us-east-1",
            48.0,
            "Hrs",
            3.36,
        ),
    ]
}

#[test]
fn a_bill_alone_gives_instance_families_and_eligible_compute_without_storage_or_spot() {
    use chrono::Datelike;
    let dir = tempfile::tempdir().unwrap();
    let header = CUR_DAY_HEADER;
    let first = chrono::NaiveDate::from_ymd_opt(2026, 8, 1).unwrap();
    let days: Vec<chrono::NaiveDate> = (0..122)
        .map(|i| first + chrono::Duration::days(i))
        .collect();
    let mut files = Vec::new();
    for month in 8..=11 {
        let path = dir.path().join(format!("cur-2026-{month:02}.csv"));
        let mut text = format!("{header}\n");
        for d in days.iter().filter(|d| d.month() == month) {
            for l in cur_day_lines(*d) {
                text.push_str(&l);
                text.push('\n');
            }
        }
        std::fs::write(&path, text).unwrap();
        files.push(path);
    }
    for db in databases() {
        let mut conn = db.pool.get().unwrap();
        for f in &files {
            import(&mut conn, BillingFormat::Cur, f).expect("the bill imports");
        }
        // Eligible compute: the two instance types' list cost, nothing else.
        let (daily, _) = finops::recommend::usage::eligible_compute(&mut conn).unwrap();
        assert_eq!(daily.len(), 122, "{:?}", db.backend);
        assert!(
            daily.iter().all(|(_, v)| (v - 204.288).abs() < 1e-6),
            "{:?}: {:?}",
            db.backend,
            &daily[..2]
        );
        // The fleet's types come from the bill: hours per type and day.
        let hours = finops::recommend::usage::billed_hours(&mut conn).unwrap();
        let keys: Vec<(String, String)> = hours.keys().cloned().collect();
        assert_eq!(
            keys,
            vec![
                ("eu-west-1".to_string(), "m6i.2xlarge".to_string()),
                ("us-east-1".to_string(), "c6i.4xlarge".to_string())
            ],
            "{:?}: no Spot type",
            db.backend
        );
        assert!(hours[&("us-east-1".to_string(), "c6i.4xlarge".to_string())]
            .values()
            .all(|h| (h - 240.0).abs() < 1e-9));
        // The bill's own on-demand rates price them (eu-west-1 is derived
        // in the built-in catalog), commitment discounts kept.
        let built_in = finops::pricing::built_in();
        let catalog = finops::recommend::price_catalog(&mut conn).unwrap();
        let eu = catalog.prices("ec2", "m6i.2xlarge", "eu-west-1").unwrap();
        assert_eq!(eu.on_demand.0, 428_000, "{:?}", db.backend);
        let ratio = |c: &finops::pricing::PriceCatalog| {
            c.rate_ratio(
                "m6i.2xlarge",
                "eu-west-1",
                finops::pricing::Offer::ComputeSp,
                1,
                finops::pricing::Payment::NoUpfront,
            )
            .unwrap()
        };
        assert!((ratio(&catalog) - ratio(&built_in)).abs() < 1e-5);
        assert!(
            catalog.source.contains("from the bill"),
            "{}",
            catalog.source
        );
        assert!(catalog.commitment_rates_derived());
        // So the per-family plans exist for a bill-only user.
        let c = finops::recommend::run::commitments(
            &mut conn,
            &finops::recommend::purchase::PurchaseOptions::default(),
        )
        .unwrap();
        assert!(c
            .recommendations
            .iter()
            .all(|r| r.price_source.starts_with("on demand: your bill")
                && finops::pricing::origin_is_derived(&r.price_source)));
        let families: Vec<(String, Option<String>)> = c
            .plans
            .iter()
            .filter(|p| p.usage.kind == finops::recommend::Kind::Ec2InstanceSavingsPlan)
            .map(|p| (p.usage.scope.region.clone(), p.usage.scope.family.clone()))
            .collect();
        assert_eq!(
            families,
            vec![
                ("eu-west-1".to_string(), Some("m6i".to_string())),
                ("us-east-1".to_string(), Some("c6i".to_string()))
            ],
            "{:?}",
            db.backend
        );

        // AWS's price list laid over it: the bill's on-demand rates still
        // come first; the commitment rates are the list's discounts on them,
        // and each recommendation says so.
        let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/price-list");
        let inputs: Vec<Input> = [
            "ec2-us-east-1.json",
            "ec2-eu-west-1.csv",
            "savings-plans-us-east-1.json",
            "savings-plans-eu-west-1.json",
        ]
        .iter()
        .map(|f| Input::new(fixtures.join(f)))
        .collect();
        let summary = finops::ingest::catalog::import_aws(&mut conn, &inputs, &mut |_| {})
            .expect("the price list imports");
        assert_eq!(summary.merge.on_demand, 3, "{:?}", db.backend);
        let catalog = finops::recommend::price_catalog(&mut conn).unwrap();
        let c6i = catalog.prices("ec2", "c6i.4xlarge", "us-east-1").unwrap();
        let sp1 = (
            finops::pricing::Offer::ComputeSp,
            1,
            finops::pricing::Payment::NoUpfront,
        );
        // The list's 0.4896 ÷ 0.68 discount on the billed rate.
        let billed = c6i.on_demand.0 as f64;
        assert!(
            (c6i.commitments[&sp1].0 as f64 / billed - 0.72).abs() < 1e-5,
            "{:?}: {} of {billed}",
            db.backend,
            c6i.commitments[&sp1].0
        );
        assert_eq!(
            c6i.commitment_origins[&sp1],
            "AWS Price List AWSComputeSavingsPlan, published 2026-11-01, as a discount on your bill's rate"
        );
        let c = finops::recommend::run::commitments(
            &mut conn,
            &finops::recommend::purchase::PurchaseOptions {
                terms: vec![1],
                payments: vec![finops::pricing::Payment::NoUpfront],
                ..Default::default()
            },
        )
        .unwrap();
        let compute = c
            .recommendations
            .iter()
            .find(|r| r.kind == finops::recommend::Kind::ComputeSavingsPlan)
            .expect("a Compute Savings Plan recommendation");
        assert_eq!(
            compute.price_source,
            "on demand: your bill (on-demand rate of the last 30 days); commitment rates: AWS Price List AWSComputeSavingsPlan, published 2026-11-01, as a discount on your bill's rate",
            "{:?}",
            db.backend
        );
        assert!(!finops::pricing::origin_is_derived(&compute.price_source));
        // Its rate is the list's: 0.72 of on demand for both types.
        assert!(
            (compute.rate_ratio.unwrap_or(0.0) - 0.72).abs() < 1e-3,
            "{:?}: {:?}",
            db.backend,
            compute.rate_ratio
        );
        let ri = c
            .recommendations
            .iter()
            .find(|r| {
                r.kind == finops::recommend::Kind::ReservedInstances
                    && r.scope.region == "us-east-1"
            })
            .expect("an RI plan for c6i in us-east-1");
        assert!(
            ri.price_source
                .contains("AWS Price List AmazonEC2, published 2026-11-01"),
            "{}",
            ri.price_source
        );
        assert!(!finops::pricing::origin_is_derived(&ri.price_source));
    }
}

/// The rates a commitment held pays on the bill price that offer: a
/// Compute Savings Plan (1 year, no upfront) covering c6i.4xlarge hours at
/// 0.4624 an hour against 0.68 on demand makes that offer 0.68 of on
/// demand for the type, whatever the catalog says; offers not held keep
/// the catalog's rates.
#[test]
fn the_rate_a_commitment_held_pays_on_the_bill_prices_its_offer() {
    let dir = tempfile::tempdir().unwrap();
    let header = "bill_payer_account_id,bill_billing_period_start_date,bill_billing_period_end_date,line_item_usage_account_id,line_item_line_item_type,line_item_usage_start_date,line_item_usage_end_date,line_item_product_code,product_product_name,line_item_usage_type,line_item_line_item_description,line_item_resource_id,line_item_usage_amount,pricing_unit,line_item_unblended_cost,pricing_public_on_demand_cost,line_item_currency_code,product_region_code,savings_plan_savings_plan_a_r_n,savings_plan_savings_plan_effective_cost";
    let arn = "arn:aws:savingsplans::111122223333:savingsplan/sp-0a1b";
    let mut text = format!("{header}\n");
    for day in 1..=30 {
        let (d, next) = (
            format!("2026-11-{day:02}"),
            format!("2026-11-{:02}", day + 1),
        );
        let next = if day == 30 {
            "2026-12-01".to_string()
        } else {
            next
        };
        // 10 hours on demand, 20 hours under the plan (negated on the
        // invoice, 0.4624 an hour effective).
        text.push_str(&format!(
            "111122223333,2026-11-01T00:00:00Z,2026-12-01T00:00:00Z,444455556666,Usage,{d}T00:00:00Z,{next}T00:00:00Z,AmazonEC2,Amazon Elastic Compute Cloud,USE1-BoxUsage:c6i.4xlarge,$0.68 per On Demand Linux c6i.4xlarge Instance Hour,i-od,10,Hrs,6.8,6.8,USD,us-east-1,,\n"
        ));
        text.push_str(&format!(
            "111122223333,2026-11-01T00:00:00Z,2026-12-01T00:00:00Z,444455556666,SavingsPlanCoveredUsage,{d}T00:00:00Z,{next}T00:00:00Z,AmazonEC2,Amazon Elastic Compute Cloud,USE1-BoxUsage:c6i.4xlarge,$0.68 per On Demand Linux c6i.4xlarge Instance Hour,i-sp,20,Hrs,13.6,13.6,USD,us-east-1,{arn},9.248\n"
        ));
    }
    let bill = dir.path().join("cur-2026-11.csv");
    std::fs::write(&bill, text).unwrap();
    let held = dir.path().join("held.csv");
    std::fs::write(
        &held,
        format!("commitment_id,kind,region,family,instance_type,instance_count,hourly_commitment,term_years,payment,start_date,end_date\n{arn},compute_sp,,,,0,9.248,1,no,2026-06-01,2027-05-31\n"),
    )
    .unwrap();
    for db in databases() {
        let mut conn = db.pool.get().unwrap();
        import(&mut conn, BillingFormat::Cur, &bill).expect("the bill imports");
        let catalog = finops::recommend::price_catalog(&mut conn).unwrap();
        let sp = (
            finops::pricing::Offer::ComputeSp,
            1,
            finops::pricing::Payment::NoUpfront,
        );
        let p = catalog.prices("ec2", "c6i.4xlarge", "us-east-1").unwrap();
        // Without the list of commitments held, the plan's terms are not
        // known: the catalog's rate stays.
        assert!(
            p.commitment_origins[&sp].contains("(built in)"),
            "{:?}: {}",
            db.backend,
            p.commitment_origins[&sp]
        );
        finops::ingest::commitments::import(&mut conn, &Input::new(&held))
            .expect("the list imports");
        let catalog = finops::recommend::price_catalog(&mut conn).unwrap();
        let p = catalog.prices("ec2", "c6i.4xlarge", "us-east-1").unwrap();
        assert_eq!(p.on_demand.0, 680_000, "{:?}", db.backend);
        assert_eq!(p.commitments[&sp].0, 462_400, "{:?}", db.backend);
        assert_eq!(
            p.commitment_origins[&sp],
            "your bill (what your Compute Savings Plan 1-year no upfront pays)"
        );
        let other = (
            finops::pricing::Offer::ComputeSp,
            3,
            finops::pricing::Payment::AllUpfront,
        );
        assert!(finops::pricing::origin_is_derived(
            &p.commitment_origins[&other]
        ));
    }
}

/// A CUR converted by a user's own tools (pandas, DuckDB, Spark) types
/// account ids as integers and dates as timestamps or dates. Those hold
/// the same information as AWS's text, so the file imports to the same
/// figures, to the micro-unit; a float id could have lost digits and is
/// refused, naming the column.
#[test]
fn cur_parquet_with_integer_ids_and_typed_dates_imports_like_the_text_file() {
    use polars::prelude::*;
    let Some(csv_path) = shared_data("aws-cur-legacy-sample.csv") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let text = LazyCsvReader::new(PlRefPath::try_from_path(&csv_path).unwrap())
        .with_has_header(true)
        .with_infer_schema_length(Some(0))
        .finish()
        .unwrap();
    let stamp = |c: &str| {
        col(c)
            .str()
            .to_datetime(
                Some(TimeUnit::Milliseconds),
                None,
                StrptimeOptions {
                    format: Some("%Y-%m-%dT%H:%M:%S%.fZ".into()),
                    ..Default::default()
                },
                lit("raise"),
            )
            .alias(c)
    };
    let converted = text.clone().with_columns([
        col("bill/PayerAccountId").cast(DataType::Int64),
        col("lineItem/UsageAccountId").cast(DataType::UInt64),
        stamp("lineItem/UsageStartDate"),
        stamp("lineItem/UsageEndDate"),
        stamp("bill/BillingPeriodStartDate").cast(DataType::Date),
        stamp("bill/BillingPeriodEndDate"),
    ]);
    let write = |name: &str, frame: LazyFrame| {
        let path = dir.path().join(name);
        let mut df = frame.collect().unwrap();
        ParquetWriter::new(std::fs::File::create(&path).unwrap())
            .finish(&mut df)
            .unwrap();
        path
    };
    let typed = write("converted.parquet", converted.clone());
    let float_ids = write(
        "float-ids.parquet",
        converted.with_column(col("bill/PayerAccountId").cast(DataType::Float64)),
    );
    for db in databases() {
        let mut conn = db.pool.get().unwrap();
        import(&mut conn, BillingFormat::Cur, &csv_path).expect("the text file imports");
        let from_text = sums(&mut conn, month_expr(db.backend), "account_id", "region");
        let before = fingerprint(&mut conn);
        match import(&mut conn, BillingFormat::Cur, &float_ids) {
            Err(ImportError::ColumnType { column, found, .. }) => {
                assert_eq!(column, "bill/PayerAccountId");
                assert_eq!(found, "f64");
            }
            other => panic!("a float id must be refused: {other:?}"),
        }
        assert_eq!(
            fingerprint(&mut conn),
            before,
            "a refused file changes nothing"
        );
        let s = import(&mut conn, BillingFormat::Cur, &typed)
            .unwrap_or_else(|e| panic!("integer ids and typed dates import: {e}"));
        assert_eq!(s.rows_read, 1281);
        let from_typed = sums(&mut conn, month_expr(db.backend), "account_id", "region");
        assert_eq!(from_typed, from_text, "{:?}", db.backend);
        assert!(from_typed
            .keys()
            .all(|(_, account, _)| account == "123412340534"));
    }
}

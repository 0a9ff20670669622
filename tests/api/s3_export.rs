//! Pulling billing exports from S3 through the real AWS SDK against moto's
//! S3 (server mode): a bucket laid out as AWS Data Exports delivers CUR 2.0
//! (data/BILLING_PERIOD=…/ parts, metadata/…-Manifest.json rewritten on
//! each refresh), and a legacy Cost and Usage Report.

use std::io::Write;

use chrono::NaiveDate;
use finops::db::DbConnection;
use finops::pull::s3_export::{self, fetch::Connection, layout::ExportUri, PeriodOutcome};

use crate::cost_explorer::Moto;
use crate::ingest::{cur_day_lines, databases, fingerprint, sums, CUR_DAY_HEADER, CUR_DAY_MICROS};

pub const BUCKET: &str = "studio-billing";

/// An S3 client of the test's own, to lay out the bucket.
pub fn client(moto: &Moto) -> aws_sdk_s3::Client {
    let config = aws_sdk_s3::Config::builder()
        .behavior_version(aws_sdk_s3::config::BehaviorVersion::latest())
        .region(aws_sdk_s3::config::Region::new("us-east-1"))
        .endpoint_url(&moto.url)
        .credentials_provider(aws_sdk_s3::config::Credentials::new(
            "testing", "testing", None, None, "test",
        ))
        .force_path_style(true)
        .build();
    aws_sdk_s3::Client::from_conf(config)
}

pub async fn put(s3: &aws_sdk_s3::Client, key: &str, body: Vec<u8>) {
    s3.put_object()
        .bucket(BUCKET)
        .key(key)
        .body(body.into())
        .send()
        .await
        .unwrap_or_else(|e| panic!("put {key}: {e:?}"));
}

pub fn gzip(text: &str) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(text.as_bytes()).unwrap();
    gz.finish().unwrap()
}

/// CUR 2.0 CSV text of `days` days from `first`.
pub fn cur_csv(first: NaiveDate, days: i64) -> String {
    let mut text = format!("{CUR_DAY_HEADER}\n");
    for i in 0..days {
        for line in cur_day_lines(first + chrono::Duration::days(i)) {
            text.push_str(&line);
            text.push('\n');
        }
    }
    text
}

/// The same rows as Parquet (typed columns, as Data Exports writes them).
fn cur_parquet(start: NaiveDate, days: i64) -> Vec<u8> {
    use polars::prelude::*;
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("x.csv");
    std::fs::write(&csv, cur_csv(start, days)).unwrap();
    let mut df = LazyCsvReader::new(PlRefPath::try_from_path(&csv).unwrap())
        .with_has_header(true)
        .with_infer_schema_length(Some(0))
        .finish()
        .unwrap()
        .with_column(col("line_item_unblended_cost").cast(DataType::Decimal(18, 6)))
        .collect()
        .unwrap();
    let mut out = Vec::new();
    ParquetWriter::new(&mut out).finish(&mut df).unwrap();
    out
}

/// Lays out one period as Data Exports delivers it (overwrite mode):
/// `parts` data files and the manifest naming them.
pub async fn deliver(
    s3: &aws_sdk_s3::Client,
    root: &str,
    period: &str,
    execution: &str,
    parts: Vec<(String, Vec<u8>)>,
) {
    let name = root.rsplit('/').next().unwrap();
    let mut files = Vec::new();
    for (file, body) in parts {
        let key = format!("{root}/data/BILLING_PERIOD={period}/{file}");
        put(s3, &key, body).await;
        files.push(format!("s3://{BUCKET}/{key}"));
    }
    let manifest = serde_json::json!({
        "executionId": execution,
        "exportArn": format!("arn:aws:bcm-data-exports:us-east-1:111122223333:export/{name}-0f1e2d"),
        "columns": [{"name": "line_item_unblended_cost", "type": "double"}],
        "dataFiles": files,
        "additionalOutputFiles": [],
    });
    put(
        s3,
        &format!("{root}/metadata/BILLING_PERIOD={period}/{name}-Manifest.json"),
        serde_json::to_vec(&manifest).unwrap(),
    )
    .await;
}

pub fn options(moto: &Moto, uri: &str) -> s3_export::S3ExportOptions {
    s3_export::S3ExportOptions {
        uri: ExportUri::parse(uri).unwrap(),
        connection: Connection {
            endpoint_url: Some(moto.url.clone()),
            region: Some("us-east-1".to_string()),
            static_credentials: Some(("testing".to_string(), "testing".to_string())),
            max_attempts: 2,
        },
        format: None,
        limits: finops::ingest::Limits::default(),
        all: false,
    }
}

/// Pulls in a thread of its own (the pull runs its own runtime).
pub fn pull_blocking(
    conn: &mut DbConnection,
    opts: &s3_export::S3ExportOptions,
) -> s3_export::S3PullSummary {
    std::thread::scope(|s| {
        s.spawn(|| s3_export::pull(conn, opts, &mut |_| {}).expect("the pull runs"))
            .join()
            .unwrap()
    })
}

fn billed_by_month(
    conn: &mut DbConnection,
    backend: crate::helpers::Backend,
) -> Vec<(String, i64)> {
    sums(conn, crate::ingest::month_expr(backend), "''", "''")
        .into_iter()
        .map(|(k, v)| (k.0, v.0))
        .collect()
}

fn outcomes(s: &s3_export::S3PullSummary) -> Vec<(String, &'static str)> {
    s.periods
        .iter()
        .map(|p| {
            (
                p.period().to_string(),
                match p {
                    PeriodOutcome::Unchanged { .. } => "unchanged",
                    PeriodOutcome::Imported { .. } => "imported",
                    PeriodOutcome::Failed { .. } => "failed",
                },
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_data_export_is_pulled_and_only_changed_periods_are_imported_again() {
    let Some(moto) = Moto::start() else { return };
    let s3 = client(&moto);
    s3.create_bucket().bucket(BUCKET).send().await.unwrap();
    let oct = NaiveDate::from_ymd_opt(2026, 10, 1).unwrap();
    let nov = NaiveDate::from_ymd_opt(2026, 11, 1).unwrap();
    for db in databases() {
        // Each database pulls an export of its own.
        let root = &format!("exports/{:?}/game-cur2", db.backend).to_lowercase();
        // October in two gzip CSV parts (days 1–10 and 11–15); November
        // as Parquet.
        deliver(
            &s3,
            root,
            "2026-10",
            "exec-oct-1",
            vec![
                ("game-cur2-00001.csv.gz".into(), gzip(&cur_csv(oct, 10))),
                (
                    "game-cur2-00002.csv.gz".into(),
                    gzip(&cur_csv(oct + chrono::Duration::days(10), 5)),
                ),
            ],
        )
        .await;
        deliver(
            &s3,
            root,
            "2026-11",
            "exec-nov-1",
            vec![(
                "game-cur2-00001.snappy.parquet".into(),
                cur_parquet(nov, 30),
            )],
        )
        .await;
        let uri = format!("s3://{BUCKET}/{root}");
        let opts = options(&moto, &uri);
        let mut conn = db.pool.get().unwrap();
        let first = pull_blocking(&mut conn, &opts);
        assert_eq!(
            outcomes(&first),
            [
                ("2026-10".into(), "imported"),
                ("2026-11".into(), "imported")
            ]
        );
        assert_eq!(
            billed_by_month(&mut conn, db.backend),
            [
                ("2026-10".to_string(), 15 * CUR_DAY_MICROS),
                ("2026-11".to_string(), 30 * CUR_DAY_MICROS)
            ],
            "{:?}: ties out to the micro-unit",
            db.backend
        );

        // Nothing changed: one listing, nothing imported.
        let again = pull_blocking(&mut conn, &opts);
        assert_eq!(
            outcomes(&again),
            [
                ("2026-10".into(), "unchanged"),
                ("2026-11".into(), "unchanged")
            ]
        );
        assert_eq!(
            again.requests, 1,
            "unchanged periods cost one listing in all"
        );
        let before = fingerprint(&mut conn);
        assert_eq!(fingerprint(&mut conn), before);

        // AWS refreshes October (now 20 days, one file) and rewrites its
        // manifest: October alone is imported again, replacing itself.
        deliver(
            &s3,
            root,
            "2026-10",
            "exec-oct-2",
            vec![("game-cur2-00001.csv.gz".into(), gzip(&cur_csv(oct, 20)))],
        )
        .await;
        let refreshed = pull_blocking(&mut conn, &opts);
        assert_eq!(
            outcomes(&refreshed),
            [
                ("2026-10".into(), "imported"),
                ("2026-11".into(), "unchanged")
            ]
        );
        assert_eq!(
            billed_by_month(&mut conn, db.backend),
            [
                ("2026-10".to_string(), 20 * CUR_DAY_MICROS),
                ("2026-11".to_string(), 30 * CUR_DAY_MICROS)
            ],
            "replaced, never doubled"
        );

        // A corrupt object: refused, nothing changes, the pull says which
        // object; the next delivery imports.
        let mut truncated = gzip(&cur_csv(nov, 30));
        truncated.truncate(truncated.len() / 2);
        deliver(
            &s3,
            root,
            "2026-11",
            "exec-nov-2",
            vec![("game-cur2-00001.csv.gz".into(), truncated)],
        )
        .await;
        let before = fingerprint(&mut conn);
        let corrupt = pull_blocking(&mut conn, &opts);
        assert_eq!(
            outcomes(&corrupt),
            [
                ("2026-10".into(), "unchanged"),
                ("2026-11".into(), "failed")
            ]
        );
        let PeriodOutcome::Failed { error, .. } = &corrupt.periods[1] else {
            unreachable!()
        };
        assert!(
            error.contains(&format!(
                "s3://{BUCKET}/{root}/data/BILLING_PERIOD=2026-11/game-cur2-00001.csv.gz"
            )) && error.contains("gzip"),
            "{error}"
        );
        assert_eq!(
            fingerprint(&mut conn),
            before,
            "a refused delivery changes nothing"
        );
        let failed = finops::db::ingest_runs::latest(&mut conn, 1).unwrap();
        assert_eq!(failed[0].status, "failed");
        // Still failing until AWS delivers again: tried again, refused again.
        let retried = pull_blocking(&mut conn, &opts);
        assert_eq!(outcomes(&retried)[1].1, "failed");

        deliver(
            &s3,
            root,
            "2026-11",
            "exec-nov-3",
            vec![("game-cur2-00001.csv.gz".into(), gzip(&cur_csv(nov, 29)))],
        )
        .await;
        let fixed = pull_blocking(&mut conn, &opts);
        assert_eq!(
            outcomes(&fixed),
            [
                ("2026-10".into(), "unchanged"),
                ("2026-11".into(), "imported")
            ]
        );
        assert_eq!(
            billed_by_month(&mut conn, db.backend),
            [
                ("2026-10".to_string(), 20 * CUR_DAY_MICROS),
                ("2026-11".to_string(), 29 * CUR_DAY_MICROS)
            ]
        );
        let delivered = finops::db::export_deliveries::of_export(&mut conn, &uri).unwrap();
        assert_eq!(
            delivered
                .iter()
                .map(|d| (d.billing_period.as_str(), d.delivery_id.as_str(), d.files))
                .collect::<Vec<_>>(),
            [("2026-10", "exec-oct-2", 1), ("2026-11", "exec-nov-3", 1)]
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_legacy_cost_and_usage_report_is_pulled_by_its_manifest() {
    let Some(path) = crate::helpers::shared_data("aws-cur-legacy-sample.csv") else {
        return;
    };
    let Some(moto) = Moto::start() else { return };
    let s3 = client(&moto);
    s3.create_bucket().bucket(BUCKET).send().await.unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    let folder = "cur/game-hourly/20231101-20231201";
    let data_key = format!("{folder}/7b1c0d9e-assembly/game-hourly-1.csv.gz");
    put(&s3, &data_key, gzip(&text)).await;
    let manifest = serde_json::json!({
        "assemblyId": "7b1c0d9e-assembly",
        "account": "123412340534",
        "bucket": BUCKET,
        "reportName": "game-hourly",
        "compression": "GZIP",
        "contentType": "text/csv",
        "billingPeriod": {"start": "20231101T000000.000Z", "end": "20231201T000000.000Z"},
        "reportKeys": [data_key],
    });
    put(
        &s3,
        &format!("{folder}/game-hourly-Manifest.json"),
        serde_json::to_vec(&manifest).unwrap(),
    )
    .await;
    let opts = options(&moto, &format!("s3://{BUCKET}/cur/game-hourly"));
    for db in databases() {
        let mut conn = db.pool.get().unwrap();
        let s = pull_blocking(&mut conn, &opts);
        assert_eq!(s.layout, s3_export::Layout::LegacyReport);
        assert_eq!(outcomes(&s), [("2023-11".into(), "imported")]);
        // The sample's documented total, 1.6823086974, to the micro-unit's
        // rounding of its 1,281 lines.
        let total: i64 = billed_by_month(&mut conn, db.backend)
            .iter()
            .map(|m| m.1)
            .sum();
        assert!((total - 1_682_309).abs() <= 2, "{total}");
        let again = pull_blocking(&mut conn, &opts);
        assert_eq!(outcomes(&again), [("2023-11".into(), "unchanged")]);
    }
}

/// Two exports of one payer account (member accounts' own exports) for
/// the same period both count; a delivery holding lines of another
/// billing period is refused; a delivery without files (a period without
/// charges) empties the period of what the export delivered before.
#[tokio::test(flavor = "multi_thread")]
async fn exports_replace_only_what_they_delivered() {
    let Some(moto) = Moto::start() else { return };
    let s3 = client(&moto);
    s3.create_bucket().bucket(BUCKET).send().await.unwrap();
    let oct = NaiveDate::from_ymd_opt(2026, 10, 1).unwrap();
    for db in databases() {
        let base = format!("members/{:?}", db.backend).to_lowercase();
        let (a, b) = (format!("{base}/team-a"), format!("{base}/team-b"));
        deliver(
            &s3,
            &a,
            "2026-10",
            "a-1",
            vec![("team-a-00001.csv.gz".into(), gzip(&cur_csv(oct, 3)))],
        )
        .await;
        deliver(
            &s3,
            &b,
            "2026-10",
            "b-1",
            // Team B's member account, under the same payer.
            vec![(
                "team-b-00001.csv.gz".into(),
                gzip(&cur_csv(oct, 5).replace(",444455556666,", ",777788889999,")),
            )],
        )
        .await;
        let mut conn = db.pool.get().unwrap();
        for root in [&a, &b, &a] {
            let s = pull_blocking(&mut conn, &options(&moto, &format!("s3://{BUCKET}/{root}")));
            assert!(s.failed().is_empty(), "{:?}", s.periods);
        }
        assert_eq!(
            billed_by_month(&mut conn, db.backend),
            [("2026-10".to_string(), 8 * CUR_DAY_MICROS)],
            "{:?}: both member exports count",
            db.backend
        );

        // A stray September line inside October's delivery.
        let mut stray = cur_csv(oct, 2);
        let september = cur_day_lines(NaiveDate::from_ymd_opt(2026, 9, 30).unwrap())
            .remove(0)
            .replace(
                "2026-10-01T00:00:00Z,2026-11-01T00:00:00Z",
                "2026-09-01T00:00:00Z,2026-10-01T00:00:00Z",
            );
        stray.push_str(&september);
        stray.push('\n');
        deliver(
            &s3,
            &a,
            "2026-10",
            "a-2",
            vec![("team-a-00001.csv.gz".into(), gzip(&stray))],
        )
        .await;
        let before = fingerprint(&mut conn);
        let refused = pull_blocking(&mut conn, &options(&moto, &format!("s3://{BUCKET}/{a}")));
        let PeriodOutcome::Failed { error, .. } = &refused.periods[0] else {
            panic!("{:?}", refused.periods)
        };
        assert!(
            error.contains("holds lines of billing period 2026-09"),
            "{error}"
        );
        assert_eq!(fingerprint(&mut conn), before);

        // AWS redelivers team A's October without files: no charges.
        let manifest = serde_json::json!({"executionId": "a-3", "dataFiles": []});
        put(
            &s3,
            &format!("{a}/metadata/BILLING_PERIOD=2026-10/team-a-Manifest.json"),
            serde_json::to_vec(&manifest).unwrap(),
        )
        .await;
        let emptied = pull_blocking(&mut conn, &options(&moto, &format!("s3://{BUCKET}/{a}")));
        assert_eq!(outcomes(&emptied), [("2026-10".into(), "imported")]);
        assert_eq!(
            billed_by_month(&mut conn, db.backend),
            [("2026-10".to_string(), 5 * CUR_DAY_MICROS)],
            "team B's October stays"
        );
    }
}

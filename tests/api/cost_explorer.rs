//! The Cost Explorer pull through the real AWS SDK against moto's server
//! mode (PyPI `moto[server]`), seeded through its
//! `/moto-api/static/ce/cost-and-usage-results` endpoint.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use chrono::NaiveDate;
use finops::pull::{self, cost_explorer};

use crate::ingest::databases;

/// A moto server on a free port, stopped when dropped.
pub struct Moto {
    child: Child,
    pub url: String,
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn moto_binary() -> Option<PathBuf> {
    if let Ok(p) = std::env::var("FINOPS_MOTO_SERVER") {
        return Some(PathBuf::from(p));
    }
    let home = std::env::var("HOME").ok()?;
    let p = PathBuf::from(home).join(".cache/finops-venv/bin/moto_server");
    p.exists().then_some(p)
}

impl Moto {
    /// Starts moto, or `None` (skip) when it is not installed and
    /// `FINOPS_REQUIRE_MOTO` is not set.
    pub fn start() -> Option<Moto> {
        let Some(bin) = moto_binary() else {
            crate::helpers::require_or_skip(
                crate::helpers::Need::Moto,
                "moto_server not found: pip install 'moto[server]' into ~/.cache/finops-venv (see .ci/run) or set FINOPS_MOTO_SERVER",
            );
            return None;
        };
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new(&bin)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("{}: {e}", bin.display()));
        let moto = Moto {
            child,
            url: format!("http://127.0.0.1:{port}"),
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "moto did not start");
            std::thread::sleep(Duration::from_millis(100));
        }
        Some(moto)
    }

    /// Queues GetCostAndUsage answers, in the order requests will come.
    pub async fn seed(&self, results: serde_json::Value) {
        let r = reqwest::Client::new()
            .post(format!(
                "{}/moto-api/static/ce/cost-and-usage-results",
                self.url
            ))
            .json(&serde_json::json!({ "results": results }))
            .send()
            .await
            .expect("seed moto");
        assert_eq!(r.status().as_u16(), 201);
    }
}

fn group(keys: [&str; 2], billed: &str, amortized: &str) -> serde_json::Value {
    serde_json::json!({
        "Keys": keys,
        "Metrics": {
            "UnblendedCost": {"Amount": billed, "Unit": "USD"},
            "AmortizedCost": {"Amount": amortized, "Unit": "USD"},
            "UsageQuantity": {"Amount": "1", "Unit": "N/A"}
        }
    })
}

fn day(
    start: &str,
    end: &str,
    estimated: bool,
    groups: Vec<serde_json::Value>,
) -> serde_json::Value {
    serde_json::json!({
        "TimePeriod": {"Start": start, "End": end},
        "Total": {},
        "Groups": groups,
        "Estimated": estimated
    })
}

/// Pull options with the fixed credentials moto and the stub accept (the
/// test process's environment is left alone: setting variables while other
/// test threads read them is a data race).
fn options(from: NaiveDate, to: NaiveDate) -> cost_explorer::PullOptions {
    let mut opts = cost_explorer::PullOptions::new(from, to);
    opts.static_credentials = Some(("testing".to_string(), "testing".to_string()));
    opts
}

#[tokio::test(flavor = "multi_thread")]
async fn pulls_by_tag_region_and_service_through_the_sdk() {
    let Some(moto) = Moto::start() else { return };
    // Request order: tag × region (two pages), then tag × service for
    // eu-west-1, then for us-east-1.
    moto.seed(serde_json::json!([
        {
            "ResultsByTime": [day("2026-03-01", "2026-03-02", false, vec![
                group(["platform$PC", "eu-west-1"], "10.00", "8.00"),
                group(["platform$", "us-east-1"], "5.00", "5.00"),
            ])],
            "DimensionValueAttributes": [],
            "NextPageToken": "page-2"
        },
        {
            "ResultsByTime": [day("2026-03-02", "2026-03-03", true, vec![
                group(["platform$PC", "eu-west-1"], "3.00", "3.00"),
            ])],
            "DimensionValueAttributes": []
        },
        {
            "ResultsByTime": [
                day("2026-03-01", "2026-03-02", false, vec![
                    group(["platform$PC", "Amazon Elastic Compute Cloud - Compute"], "7.00", "5.00"),
                    group(["platform$PC", "Amazon Simple Storage Service"], "3.00", "3.00"),
                ]),
                day("2026-03-02", "2026-03-03", true, vec![
                    group(["platform$PC", "Amazon Elastic Compute Cloud - Compute"], "3.00", "3.00"),
                ]),
            ],
            "DimensionValueAttributes": []
        },
        {
            "ResultsByTime": [day("2026-03-01", "2026-03-02", false, vec![
                group(["platform$", "AWS Support (Business)"], "5.00", "5.00"),
            ])],
            "DimensionValueAttributes": []
        }
    ]))
    .await;

    let mut opts = options(
        NaiveDate::from_ymd_opt(2026, 3, 1).unwrap(),
        NaiveDate::from_ymd_opt(2026, 3, 3).unwrap(),
    );
    opts.endpoint_url = Some(moto.url.clone());
    let fetched = cost_explorer::fetch(&opts)
        .await
        .expect("pull through the SDK");
    assert_eq!(fetched.requests, 4, "1 + 1 page + 2 regions");
    assert_eq!(fetched.rows.len(), 4);
    assert!(fetched.warnings.is_empty(), "{:?}", fetched.warnings);
    assert_eq!(fetched.estimated_days.len(), 1);

    let started = finops::clock::now();
    for db in databases() {
        let mut conn = db.pool.get().unwrap();
        let s = pull::store(&mut conn, &opts, &fetched, started).expect("stores");
        assert_eq!((s.rows, s.requests, s.estimated_days), (4, 4, 1));
        let by: std::collections::BTreeMap<(String, String), (i64, i64, i32)> = {
            use diesel::prelude::*;
            use finops::db::schema::cost_daily::dsl as c;
            c::cost_daily
                .select((
                    c::platform,
                    c::service,
                    c::billed_micros,
                    c::effective_micros,
                    c::estimated,
                ))
                .load::<(String, String, i64, i64, i32)>(&mut conn)
                .unwrap()
                .into_iter()
                .fold(Default::default(), |mut m, (p, sv, b, e, est)| {
                    let entry = m.entry((p, sv)).or_insert((0, 0, 0));
                    entry.0 += b;
                    entry.1 += e;
                    entry.2 += est;
                    m
                })
        };
        assert_eq!(
            by[&("PC".into(), "Amazon Elastic Compute Cloud - Compute".into())],
            (10_000_000, 8_000_000, 1)
        );
        assert_eq!(
            by[&("PC".into(), "Amazon Simple Storage Service".into())],
            (3_000_000, 3_000_000, 0)
        );
        assert_eq!(
            by[&("unallocated".into(), "AWS Support (Business)".into())],
            (5_000_000, 5_000_000, 0)
        );
        // The next pull of the same days replaces them (estimates included).
        let again = pull::store(&mut conn, &opts, &fetched, started).expect("stores again");
        assert_eq!(again.replaced_rows, 4);
        assert_eq!(crate::ingest::fingerprint(&mut conn).1, 18_000_000);
        // The estimated day is where the next default pull starts.
        let from =
            pull::default_from(&mut conn, NaiveDate::from_ymd_opt(2026, 5, 10).unwrap()).unwrap();
        assert_eq!(from, NaiveDate::from_ymd_opt(2026, 3, 2).unwrap());
    }

    // The CLI makes the same pull (moto answers the same requests the
    // same way) and says how many requests it made.
    let (_dir, url) = crate::helpers::scratch_sqlite("f.db");
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_finops"))
        .args([
            "--database",
            &url,
            "pull",
            "cost-explorer",
            "--from",
            "2026-03-01",
            "--to",
            "2026-03-03",
            "--endpoint-url",
            &moto.url,
            "--json",
        ])
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env_remove("AWS_PROFILE")
        .output()
        .await
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("4 request(s) to Cost Explorer"), "{stderr}");
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["rows"], 4);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failed_pull_is_a_clear_error_and_is_recorded() {
    // Nothing listens there: connection refused, retried, then reported.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut opts = options(
        NaiveDate::from_ymd_opt(2026, 3, 1).unwrap(),
        NaiveDate::from_ymd_opt(2026, 3, 3).unwrap(),
    );
    opts.endpoint_url = Some(format!("http://127.0.0.1:{port}"));
    opts.max_attempts = 2;
    let e = cost_explorer::fetch(&opts).await.expect_err("no server");
    assert!(
        e.to_string().starts_with("Cost Explorer request 1 failed"),
        "{e}"
    );
    let bad_range = options(
        NaiveDate::from_ymd_opt(2026, 3, 3).unwrap(),
        NaiveDate::from_ymd_opt(2026, 3, 3).unwrap(),
    );
    assert!(matches!(
        cost_explorer::fetch(&bad_range).await,
        Err(cost_explorer::PullError::Range { .. })
    ));
    for db in databases() {
        let mut conn = db.pool.get().unwrap();
        pull::record_failure(&mut conn, &opts, finops::clock::now(), &e);
        let run = finops::db::ingest_runs::latest_of(&mut conn, cost_explorer::SOURCE)
            .unwrap()
            .unwrap();
        assert_eq!(run.status, "failed");
        assert!(run.message.contains("request 1 failed"));
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_scheduled_pull_records_its_status_for_the_data_sources_page() {
    let Some(moto) = Moto::start() else { return };
    // Nothing seeded: Cost Explorer (moto) answers with no days.
    let schedule = pull::schedule::Schedule {
        every: std::time::Duration::from_secs(3600),
        endpoint_url: Some(moto.url.clone()),
        tag_key: "platform".to_string(),
        billing_account: "aws".to_string(),
        static_credentials: Some(("testing".to_string(), "testing".to_string())),
    };
    for db in databases() {
        let status = pull::schedule::pull_once(&db.pool, &schedule)
            .await
            .unwrap();
        assert!(status.starts_with("scheduled pull: "), "{status}");
        assert!(status.ends_with("0 rows, 1 requests"), "{status}");
        let mut conn = db.pool.get().unwrap();
        let run = finops::db::ingest_runs::latest_of(&mut conn, cost_explorer::SOURCE)
            .unwrap()
            .unwrap();
        assert_eq!(run.status, "ok");
        assert!(
            run.message.starts_with("1 request(s) to Cost Explorer"),
            "{}",
            run.message
        );
    }
}

type Seen = std::sync::Arc<std::sync::Mutex<Vec<String>>>;

/// A stub Cost Explorer that speaks its JSON 1.1 protocol: answers each
/// request with the next of `answers` (status, JSON body), repeating the
/// last; counts requests and keeps each one's headers and body.
fn stub_server(
    answers: Vec<(u16, &'static str)>,
) -> (String, std::sync::Arc<std::sync::atomic::AtomicUsize>, Seen) {
    use std::io::{BufRead, BufReader, Read, Write};
    use std::sync::atomic::Ordering;
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let count = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let seen = count.clone();
    let requests: Seen = Default::default();
    let kept = requests.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            loop {
                // One request: headers, then Content-Length bytes of body.
                let mut length = 0usize;
                let mut line = String::new();
                let mut got_any = false;
                let mut request = String::new();
                loop {
                    line.clear();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 {
                        break;
                    }
                    got_any = true;
                    request.push_str(&line);
                    if line == "\r\n" {
                        break;
                    }
                    if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                        length = v.trim().parse().unwrap_or(0);
                    }
                }
                if !got_any {
                    break;
                }
                let mut body = vec![0u8; length];
                let _ = reader.read_exact(&mut body);
                request.push_str(&String::from_utf8_lossy(&body));
                if let Ok(mut all) = kept.lock() {
                    all.push(request);
                }
                let n = seen.fetch_add(1, Ordering::SeqCst);
                let (status, json) = answers[n.min(answers.len() - 1)];
                let response = format!(
                    "HTTP/1.1 {status} X\r\nContent-Type: application/x-amz-json-1.1\r\nContent-Length: {}\r\n\r\n{json}",
                    json.len()
                );
                if stream.write_all(response.as_bytes()).is_err() {
                    break;
                }
            }
        }
    });
    (url, count, requests)
}

const THROTTLED: (u16, &str) = (
    400,
    r#"{"__type":"com.amazonaws.costexplorer#LimitExceededException","Message":"Rate exceeded"}"#,
);

#[tokio::test(flavor = "multi_thread")]
async fn throttling_is_retried_with_backoff_then_reported() {
    let from = NaiveDate::from_ymd_opt(2026, 3, 1).unwrap();
    let to = NaiveDate::from_ymd_opt(2026, 3, 2).unwrap();
    // Throttled once, then answered: the pull succeeds.
    let (url, count, _) = stub_server(vec![
        THROTTLED,
        (200, r#"{"ResultsByTime":[],"DimensionValueAttributes":[]}"#),
    ]);
    let mut opts = options(from, to);
    opts.endpoint_url = Some(url);
    opts.services = false;
    let fetched = cost_explorer::fetch(&opts)
        .await
        .expect("retried after throttling");
    assert_eq!(fetched.requests, 1, "one logical request");
    assert_eq!(
        count.load(std::sync::atomic::Ordering::SeqCst),
        2,
        "sent twice"
    );

    // Always throttled: gives up after the attempts allowed, and says why.
    let (url, count, _) = stub_server(vec![THROTTLED]);
    opts.endpoint_url = Some(url);
    opts.max_attempts = 3;
    let e = cost_explorer::fetch(&opts).await.expect_err("gives up");
    assert_eq!(count.load(std::sync::atomic::Ordering::SeqCst), 3);
    let text = e.to_string();
    assert!(
        text.contains("LimitExceededException") || text.contains("Rate exceeded"),
        "{text}"
    );
}

/// moto does not implement the recommendation operations: the stub
/// answers as Cost Explorer does.
const SP_ADVICE: &str = r#"{"Metadata":{"RecommendationId":"r-1","GenerationTimestamp":"2026-11-24T00:00:00Z","LookbackPeriodInDays":"THIRTY_DAYS"},
"SavingsPlansPurchaseRecommendation":{"SavingsPlansType":"COMPUTE_SP","TermInYears":"ONE_YEAR","PaymentOption":"NO_UPFRONT","LookbackPeriodInDays":"THIRTY_DAYS",
"SavingsPlansPurchaseRecommendationDetails":[{"AccountId":"111122223333","HourlyCommitmentToPurchase":"41.25","UpfrontCost":"0","EstimatedMonthlySavingsAmount":"9134.6","EstimatedSavingsPercentage":"23.4","EstimatedAverageUtilization":"97.8","CurrencyCode":"USD","SavingsPlansDetails":{"OfferingId":"o-1"}}]}}"#;

#[tokio::test(flavor = "multi_thread")]
async fn aws_savings_plans_advice_is_pulled_through_the_sdk() {
    let day = NaiveDate::from_ymd_opt(2026, 11, 24).unwrap();
    let (url, count, requests) = stub_server(vec![(200, SP_ADVICE)]);
    let mut opts = options(day, day.succ_opt().unwrap());
    opts.endpoint_url = Some(url);
    let request = finops::pull::aws_advice::AdviceRequest {
        compute: true,
        three_years: false,
        upfront: "no",
        lookback_days: 30,
    };
    let advice = finops::pull::aws_advice::savings_plans(&opts, &request)
        .await
        .expect("pulled");
    assert_eq!(count.load(std::sync::atomic::Ordering::SeqCst), 1);
    let sent = requests.lock().unwrap()[0].clone();
    assert!(
        sent.contains("AWSInsightsIndexService.GetSavingsPlansPurchaseRecommendation"),
        "{sent}"
    );
    for field in [
        r#""SavingsPlansType":"COMPUTE_SP""#,
        r#""TermInYears":"ONE_YEAR""#,
        r#""PaymentOption":"NO_UPFRONT""#,
        r#""LookbackPeriodInDays":"THIRTY_DAYS""#,
    ] {
        assert!(sent.contains(field), "{field} in {sent}");
    }
    assert_eq!(advice.len(), 1);
    let a = &advice[0];
    assert_eq!(a.hourly_commitment.to_decimal(2), "41.25");
    assert_eq!(a.estimated_monthly_savings.0, 9_134_600_000);
    assert_eq!(a.estimated_average_utilization, 97.8);
    assert_eq!(a.account_id.as_deref(), Some("111122223333"));
    assert_eq!(
        (a.term.as_str(), a.payment_option.as_str()),
        ("ONE_YEAR", "NO_UPFRONT")
    );

    // A lookback AWS does not offer is refused before any request.
    let bad = finops::pull::aws_advice::AdviceRequest {
        lookback_days: 14,
        ..request
    };
    let e = finops::pull::aws_advice::savings_plans(&opts, &bad)
        .await
        .expect_err("refused");
    assert!(e.to_string().contains("7, 30 or 60"), "{e}");
    assert_eq!(count.load(std::sync::atomic::Ordering::SeqCst), 1);

    // The same through the CLI (credentials for the child process only).
    let (url, _, requests) = stub_server(vec![(200, SP_ADVICE)]);
    let db = crate::helpers::TestDb::create(crate::helpers::Backend::Sqlite);
    let cli = |extra: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_finops"))
            .args(["--database", db.url()])
            .args(["pull", "savings-plans-advice", "--endpoint-url", &url])
            .args(extra)
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .output()
            .unwrap()
    };
    let out = cli(&[
        "--term",
        "3",
        "--upfront",
        "partial",
        "--lookback",
        "60",
        "--json",
    ]);
    crate::helpers::assert_ran(&out);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json[0]["hourly_commitment"], "41.250000");
    assert!(String::from_utf8_lossy(&out.stderr).contains("AWS recommends 41.25 USD/h"));
    let sent = requests.lock().unwrap()[0].clone();
    for field in [
        r#""TermInYears":"THREE_YEARS""#,
        r#""PaymentOption":"PARTIAL_UPFRONT""#,
        r#""LookbackPeriodInDays":"SIXTY_DAYS""#,
    ] {
        assert!(sent.contains(field), "{field} in {sent}");
    }
    let out = cli(&["--lookback", "14"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--lookback"));

    // Stored, and set beside finops' own Compute Savings Plan.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_finops"))
        .args(["--database", db.url()])
        .args([
            "recommend",
            "commitments",
            "--kind",
            "compute_savings_plan",
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    crate::helpers::assert_ran(&out);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let aws = json[0]["aws"].as_str().expect("AWS's view attached");
    assert!(
        aws.contains("$41.25 /h") && aws.contains("60-day lookback"),
        "{aws}"
    );
    assert!(aws.contains("$9,134.60 a month"), "{aws}");
}

const RI_ADVICE: &str = r#"{"Metadata":{"RecommendationId":"r-2","GenerationTimestamp":"2026-11-24T00:00:00Z"},
"Recommendations":[{"AccountScope":"PAYER","LookbackPeriodInDays":"THIRTY_DAYS","TermInYears":"ONE_YEAR","PaymentOption":"ALL_UPFRONT",
"RecommendationDetails":[{"AccountId":"111122223333","InstanceDetails":{"EC2InstanceDetails":{"Family":"c6i","InstanceType":"c6i.4xlarge","Region":"us-east-1","Platform":"Linux/UNIX","Tenancy":"shared"}},
"RecommendedNumberOfInstancesToPurchase":"24","AverageUtilization":"91.5","EstimatedBreakEvenInMonths":"7.2","CurrencyCode":"USD","EstimatedMonthlySavingsAmount":"3921.3","UpfrontCost":"86400","RecurringStandardMonthlyCost":"0"}]}]}"#;

#[tokio::test(flavor = "multi_thread")]
async fn aws_reserved_instance_advice_is_pulled_through_the_sdk() {
    let day = NaiveDate::from_ymd_opt(2026, 11, 24).unwrap();
    let (url, _, requests) = stub_server(vec![(200, RI_ADVICE)]);
    let mut opts = options(day, day.succ_opt().unwrap());
    opts.endpoint_url = Some(url);
    let request = finops::pull::aws_advice::AdviceRequest {
        compute: false,
        three_years: false,
        upfront: "all",
        lookback_days: 30,
    };
    let advice = finops::pull::aws_advice::reserved_instances(&opts, &request)
        .await
        .expect("pulled");
    let sent = requests.lock().unwrap()[0].clone();
    assert!(
        sent.contains("AWSInsightsIndexService.GetReservationPurchaseRecommendation"),
        "{sent}"
    );
    assert!(
        sent.contains(r#""Service":"Amazon Elastic Compute Cloud - Compute""#),
        "{sent}"
    );
    assert!(sent.contains(r#""PaymentOption":"ALL_UPFRONT""#), "{sent}");
    assert_eq!(advice.len(), 1);
    let a = &advice[0];
    assert_eq!(a.instance_type.as_deref(), Some("c6i.4xlarge"));
    assert_eq!(a.region.as_deref(), Some("us-east-1"));
    assert_eq!(a.instances, 24.0);
    assert_eq!(a.break_even_months, 7.2);
    assert_eq!(a.upfront_cost.0, 86_400_000_000);
    assert_eq!(a.estimated_monthly_savings.0, 3_921_300_000);
}

const RIGHTSIZING_PAGE_1: &str = r#"{"Metadata":{"RecommendationId":"r-3","LookbackPeriodInDays":"FOURTEEN_DAYS"},"NextPageToken":"p2",
"RightsizingRecommendations":[{"AccountId":"111122223333","RightsizingType":"Modify",
"CurrentInstance":{"ResourceId":"i-0abc","InstanceName":"leaderboard-us-east-1-0","MonthlyCost":"735.84","CurrencyCode":"USD",
"ResourceDetails":{"EC2ResourceDetails":{"InstanceType":"r6i.4xlarge","Region":"US East (N. Virginia)","HourlyOnDemandRate":"1.008"}}},
"ModifyRecommendationDetail":{"TargetInstances":[
{"EstimatedMonthlyCost":"367.92","EstimatedMonthlySavings":"367.92","CurrencyCode":"USD","DefaultTargetInstance":false,"ResourceDetails":{"EC2ResourceDetails":{"InstanceType":"r6i.2xlarge"}}},
{"EstimatedMonthlyCost":"183.96","EstimatedMonthlySavings":"551.88","CurrencyCode":"USD","DefaultTargetInstance":true,"ResourceDetails":{"EC2ResourceDetails":{"InstanceType":"r6i.xlarge"}}}]}}]}"#;

const RIGHTSIZING_PAGE_2: &str = r#"{"RightsizingRecommendations":[{"AccountId":"111122223333","RightsizingType":"Terminate",
"CurrentInstance":{"ResourceId":"i-0def","InstanceName":"","MonthlyCost":"121.47","CurrencyCode":"USD","ResourceDetails":{"EC2ResourceDetails":{"InstanceType":"t3.xlarge"}}},
"TerminateRecommendationDetail":{"EstimatedMonthlySavings":"121.47","CurrencyCode":"USD"}}]}"#;

#[tokio::test(flavor = "multi_thread")]
async fn aws_rightsizing_advice_is_pulled_page_by_page() {
    let day = NaiveDate::from_ymd_opt(2026, 11, 24).unwrap();
    let (url, count, requests) =
        stub_server(vec![(200, RIGHTSIZING_PAGE_1), (200, RIGHTSIZING_PAGE_2)]);
    let mut opts = options(day, day.succ_opt().unwrap());
    opts.endpoint_url = Some(url);
    let (advice, sent) = finops::pull::aws_advice::rightsizing(&opts, false)
        .await
        .expect("pulled");
    assert_eq!(
        (sent, count.load(std::sync::atomic::Ordering::SeqCst)),
        (2, 2)
    );
    let seen = requests.lock().unwrap().clone();
    assert!(seen[0].contains("AWSInsightsIndexService.GetRightsizingRecommendation"));
    assert!(
        seen[0].contains(r#""RecommendationTarget":"SAME_INSTANCE_FAMILY""#),
        "{}",
        seen[0]
    );
    assert!(seen[1].contains(r#""NextPageToken":"p2""#), "{}", seen[1]);
    assert_eq!(advice.len(), 2);
    // The default target, not the first listed.
    assert_eq!(advice[0].action, "Modify");
    assert_eq!(advice[0].target_type.as_deref(), Some("r6i.xlarge"));
    assert_eq!(advice[0].estimated_monthly_savings.0, 551_880_000);
    assert_eq!(
        advice[0].instance_name.as_deref(),
        Some("leaderboard-us-east-1-0")
    );
    assert_eq!(advice[1].action, "Terminate");
    assert_eq!(advice[1].estimated_monthly_savings.0, 121_470_000);
    assert_eq!(advice[1].instance_name, None);
}

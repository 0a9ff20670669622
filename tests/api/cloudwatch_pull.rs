//! Utilisation pulled from CloudWatch through the real AWS SDK. The SDK
//! speaks Smithy's rpc-v2-cbor protocol to CloudWatch, which moto does not
//! (it answers Query and JSON only), so the network edge is a stub of our
//! own: GetMetricData over CBOR, answering from metrics the test puts in,
//! paging its answers with NextToken and counting what it was asked.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

use chrono::NaiveDate;
use finops::db::DbConnection;
use finops::pull::cloudwatch::{self, UtilisationPullOptions};

use crate::cbor::{self, text, Cbor};
use crate::ingest::databases;

/// Points per (instance, metric, statistic): (epoch seconds, value).
type Metrics = BTreeMap<(String, String, String), Vec<(i64, f64)>>;

#[derive(Default, Debug)]
struct Seen {
    requests: usize,
    largest_batch: usize,
    regions: BTreeSet<String>,
}

/// Results per answer page, so that big batches are paged.
const PAGE: usize = 200;

fn answer(metrics: &Metrics, body: &Cbor) -> Cbor {
    let start = body.get("StartTime").and_then(Cbor::number).unwrap() as i64;
    let end = body.get("EndTime").and_then(Cbor::number).unwrap() as i64;
    let skip: usize = body
        .get("NextToken")
        .and_then(Cbor::text)
        .map(|t| t.parse().unwrap())
        .unwrap_or(0);
    let queries = body.get("MetricDataQueries").unwrap().items();
    let mut results = Vec::new();
    for q in queries.iter().skip(skip).take(PAGE) {
        let stat = q.get("MetricStat").unwrap();
        let metric = stat.get("Metric").unwrap();
        assert_eq!(stat.get("Period").and_then(Cbor::number), Some(3600.0));
        let instance = metric.get("Dimensions").unwrap().items()[0]
            .get("Value")
            .and_then(Cbor::text)
            .unwrap();
        let key = (
            instance.to_string(),
            metric
                .get("MetricName")
                .and_then(Cbor::text)
                .unwrap()
                .to_string(),
            stat.get("Stat").and_then(Cbor::text).unwrap().to_string(),
        );
        let points: Vec<&(i64, f64)> = metrics
            .get(&key)
            .map(|p| p.iter().filter(|(t, _)| *t >= start && *t < end).collect())
            .unwrap_or_default();
        results.push(Cbor::Map(vec![
            (text("Id"), q.get("Id").unwrap().clone()),
            (text("Label"), q.get("Label").unwrap().clone()),
            (
                text("Timestamps"),
                Cbor::Array(
                    points
                        .iter()
                        .map(|(t, _)| Cbor::Tag(1, Box::new(Cbor::Float(*t as f64))))
                        .collect(),
                ),
            ),
            (
                text("Values"),
                Cbor::Array(points.iter().map(|(_, v)| Cbor::Float(*v)).collect()),
            ),
            (text("StatusCode"), text("Complete")),
        ]));
    }
    let mut out = vec![(text("MetricDataResults"), Cbor::Array(results))];
    if skip + PAGE < queries.len() {
        out.push((text("NextToken"), text(&(skip + PAGE).to_string())));
    }
    out.push((text("Messages"), Cbor::Array(vec![])));
    Cbor::Map(out)
}

/// Serves GetMetricData from `metrics` on a free port.
fn stub(metrics: Metrics) -> (String, Arc<Mutex<Seen>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let seen = Arc::new(Mutex::new(Seen::default()));
    let metrics = Arc::new(metrics);
    let seen2 = seen.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { continue };
            let (metrics, seen) = (metrics.clone(), seen2.clone());
            std::thread::spawn(move || {
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut stream = stream;
                loop {
                    let mut request_line = String::new();
                    if reader.read_line(&mut request_line).unwrap_or(0) == 0 {
                        return;
                    }
                    let mut length = 0;
                    let mut region = String::new();
                    loop {
                        let mut line = String::new();
                        reader.read_line(&mut line).unwrap();
                        let line = line.trim_end();
                        if line.is_empty() {
                            break;
                        }
                        let (name, value) = line.split_once(':').unwrap();
                        match name.to_ascii_lowercase().as_str() {
                            "content-length" => length = value.trim().parse().unwrap(),
                            "authorization" => {
                                // Credential=KEY/DATE/REGION/monitoring/aws4_request
                                region = value
                                    .split("Credential=")
                                    .nth(1)
                                    .and_then(|c| c.split('/').nth(2))
                                    .unwrap_or_default()
                                    .to_string();
                            }
                            _ => {}
                        }
                    }
                    let mut body = vec![0; length];
                    reader.read_exact(&mut body).unwrap();
                    assert!(
                        request_line.contains("/operation/GetMetricData"),
                        "{request_line}"
                    );
                    let request = cbor::decode(&body);
                    {
                        let mut s = seen.lock().unwrap();
                        s.requests += 1;
                        let n = request.get("MetricDataQueries").unwrap().items().len();
                        s.largest_batch = s.largest_batch.max(n);
                        s.regions.insert(region);
                    }
                    let mut out = Vec::new();
                    cbor::encode(&answer(&metrics, &request), &mut out);
                    let head = format!(
                        "HTTP/1.1 200 OK\r\nContent-Type: application/cbor\r\nsmithy-protocol: rpc-v2-cbor\r\nContent-Length: {}\r\n\r\n",
                        out.len()
                    );
                    stream.write_all(head.as_bytes()).unwrap();
                    stream.write_all(&out).unwrap();
                }
            });
        }
    });
    (url, seen)
}

/// A bill of `instances` (id, type, region, platform tag) over October
/// 1–2: instance hours, so the bill names them.
fn bill(instances: &[(String, &str, &str, &str)]) -> String {
    let mut text = format!("{}\n", crate::ingest::CUR_DAY_HEADER);
    for day in [1, 2] {
        for (id, instance_type, region, platform) in instances {
            text.push_str(&format!(
                "111122223333,2026-10-01T00:00:00Z,2026-11-01T00:00:00Z,444455556666,Usage,2026-10-0{day}T00:00:00Z,2026-10-0{}T00:00:00Z,AmazonEC2,Amazon Elastic Compute Cloud,BoxUsage:{instance_type},On Demand Linux {instance_type} Instance Hour,{id},24,Hrs,4.080000,4.080000,USD,{region},\"{{\"\"user_platform\"\":\"\"{platform}\"\"}}\"\n",
                day + 1
            ));
        }
    }
    text
}

#[derive(diesel::Queryable, Debug)]
struct Row {
    resource_id: String,
    instance_type: String,
    region: String,
    platform: String,
    period_start: chrono::NaiveDateTime,
    cpu_avg: f64,
    cpu_max: f64,
    mem_avg: Option<f64>,
    mem_max: Option<f64>,
    network_bytes: Option<f64>,
}

fn stored(conn: &mut DbConnection) -> Vec<Row> {
    use diesel::prelude::*;
    use finops::db::schema::utilisation as u;
    u::table
        .select((
            u::resource_id,
            u::instance_type,
            u::region,
            u::platform,
            u::period_start,
            u::cpu_avg,
            u::cpu_max,
            u::mem_avg,
            u::mem_max,
            u::network_bytes,
        ))
        .load(conn)
        .unwrap()
}

fn hour(h: i64) -> i64 {
    NaiveDate::from_ymd_opt(2026, 10, 1)
        .unwrap()
        .and_hms_opt(0, 0, 0)
        .unwrap()
        .and_utc()
        .timestamp()
        + h * 3600
}

fn pull(
    conn: &mut DbConnection,
    opts: &UtilisationPullOptions,
) -> cloudwatch::UtilisationPullSummary {
    let instances = cloudwatch::billed_instances(conn, opts.from, opts.to).unwrap();
    let fetched = std::thread::scope(|s| {
        s.spawn(|| {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap()
                .block_on(cloudwatch::fetch(opts, &instances, &mut |_, _| {}))
        })
        .join()
        .unwrap()
    })
    .expect("the pull fetches");
    cloudwatch::store(conn, opts, &fetched, finops::clock::now()).expect("stored")
}

#[test]
fn utilisation_of_the_billed_instances_arrives_from_cloudwatch() {
    // 100 instances in us-east-1 (600 queries: two requests of at most
    // 500, each paged) and one in eu-west-1 with the CloudWatch agent.
    let mut instances: Vec<(String, &str, &str, &str)> = (0..100)
        .map(|n| (format!("i-0a{n:014x}"), "c6i.4xlarge", "us-east-1", "PC"))
        .collect();
    instances.push((
        "i-0bbbb2222cccc".to_string(),
        "m6i.2xlarge",
        "eu-west-1",
        "PlayStation",
    ));
    let mut metrics = Metrics::new();
    for (n, (id, ..)) in instances.iter().enumerate() {
        for h in 0..48 {
            let avg = (n % 50) as f64 + h as f64 / 10.0;
            let mut put = |metric: &str, stat: &str, v: f64| {
                metrics
                    .entry((id.clone(), metric.to_string(), stat.to_string()))
                    .or_default()
                    .push((hour(h), v));
            };
            put("CPUUtilization", "Average", avg);
            put("CPUUtilization", "Maximum", avg + 20.0);
            put("NetworkIn", "Sum", 1_000.0);
            put("NetworkOut", "Sum", 500.0);
        }
    }
    // The agent's memory on the eu-west-1 instance only, and a point
    // outside the range that must not come back.
    for h in 0..48 {
        for (stat, v) in [("Average", 61.5), ("Maximum", 80.0)] {
            metrics
                .entry((
                    "i-0bbbb2222cccc".into(),
                    "mem_used_percent".into(),
                    stat.into(),
                ))
                .or_default()
                .push((hour(h), v));
        }
    }
    metrics
        .get_mut(&(
            "i-0bbbb2222cccc".into(),
            "CPUUtilization".into(),
            "Average".into(),
        ))
        .unwrap()
        .push((hour(24 * 40), 99.0));
    let (url, seen) = stub(metrics);
    let dir = tempfile::tempdir().unwrap();
    let bill_path = dir.path().join("october.csv");
    std::fs::write(&bill_path, bill(&instances)).unwrap();
    let opts = UtilisationPullOptions {
        from: NaiveDate::from_ymd_opt(2026, 10, 1).unwrap(),
        to: NaiveDate::from_ymd_opt(2026, 10, 3).unwrap(),
        endpoint_url: Some(url.clone()),
        static_credentials: Some(("testing".into(), "testing".into())),
        max_attempts: 2,
    };
    for db in databases() {
        let mut conn = db.pool.get().unwrap();
        finops::ingest::import_billing(
            &mut conn,
            finops::ingest::BillingFormat::Cur,
            &finops::ingest::Input::new(&bill_path),
            &mut |_| {},
        )
        .unwrap();
        let before = seen.lock().unwrap().requests;
        let s = pull(&mut conn, &opts);
        assert_eq!((s.instances, s.regions), (101, 2));
        assert_eq!(s.rows, 101 * 48, "{:?}", db.backend);
        {
            let seen = seen.lock().unwrap();
            assert!(seen.largest_batch <= 500, "{}", seen.largest_batch);
            // us-east-1: 500 + 100 queries, pages of 200 (3 + 1); eu-west-1: 1.
            assert_eq!(seen.requests - before, 5);
            assert_eq!(s.requests, 5);
            assert_eq!(
                seen.regions.iter().map(String::as_str).collect::<Vec<_>>(),
                ["eu-west-1", "us-east-1"]
            );
        }
        let rows = stored(&mut conn);
        assert_eq!(rows.len(), 101 * 48);
        let eu: Vec<_> = rows
            .iter()
            .filter(|r| r.resource_id == "i-0bbbb2222cccc")
            .collect();
        assert_eq!(eu.len(), 48);
        assert_eq!(
            (
                eu[0].instance_type.as_str(),
                eu[0].region.as_str(),
                eu[0].platform.as_str(),
                eu[0].mem_avg,
                eu[0].mem_max,
                eu[0].network_bytes
            ),
            (
                "m6i.2xlarge",
                "eu-west-1",
                "PlayStation",
                Some(61.5),
                Some(80.0),
                Some(1_500.0)
            )
        );
        let first_us = rows
            .iter()
            .find(|r| {
                r.resource_id == instances[7].0 && r.period_start.and_utc().timestamp() == hour(5)
            })
            .unwrap();
        assert_eq!(
            (first_us.cpu_avg, first_us.cpu_max, first_us.mem_avg),
            (7.5, 27.5, None)
        );
        assert_eq!(first_us.platform, "PC");

        // Pulled again: the same hours are replaced, not doubled.
        let again = pull(&mut conn, &opts);
        assert_eq!(again.replaced_rows, (101 * 48) as u64);
        assert_eq!(stored(&mut conn).len(), 101 * 48);
        let run = finops::db::ingest_runs::latest_of(&mut conn, cloudwatch::SOURCE)
            .unwrap()
            .unwrap();
        assert_eq!(run.status, "ok");
        assert!(
            run.message.contains("101 instance(s) in 2 region(s)"),
            "{}",
            run.message
        );
    }
}

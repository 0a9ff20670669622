//! A team deployment: two `finops serve` processes on one PostgreSQL
//! database, as behind a load balancer. A scheduled S3 export pull due in
//! both runs once; an import through one server is read whole (never
//! half, never twice) through the other; the sign-in limit counts attempts
//! made at either server.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use chrono::NaiveDate;
use diesel::prelude::*;

use crate::cost_explorer::Moto;
use crate::helpers::{client_with_token, finops_cli, postgres_available, Backend, TestDb};
use crate::ingest::CUR_DAY_MICROS;
use crate::s3_export::{client, cur_csv, deliver, gzip, BUCKET};

struct Server {
    child: Child,
    base: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn serve(url: &str, config: &std::path::Path, log: &std::path::Path) -> Server {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new(env!("CARGO_BIN_EXE_finops"))
        .args([
            "--database",
            url,
            "--config",
            config.to_str().unwrap(),
            "serve",
            "--bind",
            &format!("127.0.0.1:{port}"),
        ])
        // The export's credentials, for this process only.
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_REGION", "us-east-1")
        .env("FINOPS_LOG", "info")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(log).unwrap())
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let anon = client_with_token("");
    let deadline = Instant::now() + Duration::from_secs(30);
    while anon.get(format!("{base}/healthz")).send().await.is_err() {
        assert!(Instant::now() < deadline, "the server starts");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Server { child, base }
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

fn count(conn: &mut PgConnection, sql: &str) -> i64 {
    diesel::sql_query(sql).get_result::<Count>(conn).unwrap().n
}

async fn billed_total(client: &reqwest::Client, base: &str) -> String {
    let r = client
        .get(format!(
            "{base}/api/v1/costs?from=2026-10-01&to=2026-12-31&group_by=none&granularity=month"
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let body: serde_json::Value = r.json().await.unwrap();
    body["total"]["billed_cost"].as_str().unwrap().to_string()
}

fn dollars(micros: i64) -> String {
    format!("{}.{:06}", micros / 1_000_000, micros % 1_000_000)
}

#[tokio::test(flavor = "multi_thread")]
async fn two_servers_on_one_postgres_pull_once_and_share_imports_and_sign_in_limits() {
    if !postgres_available() {
        return;
    }
    let Some(moto) = Moto::start() else { return };
    let s3 = client(&moto);
    s3.create_bucket().bucket(BUCKET).send().await.unwrap();
    let root = "team/game-cur2";
    let oct = NaiveDate::from_ymd_opt(2026, 10, 1).unwrap();
    let nov = NaiveDate::from_ymd_opt(2026, 11, 1).unwrap();
    deliver(
        &s3,
        root,
        "2026-10",
        "exec-1",
        vec![("game-cur2-00001.csv.gz".into(), gzip(&cur_csv(oct, 31)))],
    )
    .await;
    deliver(
        &s3,
        root,
        "2026-11",
        "exec-2",
        vec![("game-cur2-00001.csv.gz".into(), gzip(&cur_csv(nov, 30)))],
    )
    .await;

    let db = TestDb::create(Backend::Postgres);
    let url = db.url().to_string();
    let cli = |args: &[&str], stdin: &str| {
        let out = finops_cli(&url, args, stdin);
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap().trim().to_string()
    };
    cli(&["migrate"], "");
    let token = cli(&["token", "add", "loader", "--role", "admin"], "");
    cli(
        &["user", "add", "fin", "--role", "viewer"],
        "correct horse battery staple\n",
    );
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("finops.toml");
    std::fs::write(
        &config,
        format!(
            "pull_every_hours = 1\nschedule_tick_seconds = 1\npull_cost_explorer = false\n\n\
             [[s3_export]]\nuri = \"s3://{BUCKET}/{root}\"\nendpoint_url = \"{}\"\nregion = \"us-east-1\"\n",
            moto.url
        ),
    )
    .unwrap();
    let a = serve(&url, &config, &dir.path().join("a.log")).await;
    let b = serve(&url, &config, &dir.path().join("b.log")).await;

    // Both servers look every second; the pull is due in both at once.
    let mut conn = PgConnection::establish(&url).unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let done = count(
            &mut conn,
            "SELECT COUNT(*) AS n FROM scheduled_jobs WHERE last_finished_at IS NOT NULL AND last_status = 'ok'",
        );
        if done == 1 {
            break;
        }
        assert!(Instant::now() < deadline, "the scheduled pull ran");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // Several more ticks of both servers: still one pull (an hour apart).
    tokio::time::sleep(Duration::from_secs(4)).await;
    assert_eq!(
        count(&mut conn, "SELECT runs AS n FROM scheduled_jobs"),
        1,
        "one pull between the two servers"
    );
    assert_eq!(
        count(
            &mut conn,
            "SELECT COUNT(*) AS n FROM ingest_runs WHERE source = 'cur' AND status = 'ok'"
        ),
        2,
        "each period imported once"
    );
    let pulled = 61 * CUR_DAY_MICROS;
    let admin = client_with_token(&token);
    assert_eq!(billed_total(&admin, &b.base).await, dollars(pulled));
    let sources = admin
        .get(format!("{}/sources", a.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        sources.contains(&format!("s3-export s3://{BUCKET}/{root}")) && sources.contains("exec-2"),
        "the Data sources page shows the scheduled pull and the deliveries"
    );

    // December through server A while server B is read: B answers the
    // total before or after the import, nothing in between.
    let dec = NaiveDate::from_ymd_opt(2026, 12, 1).unwrap();
    let file = gzip(&cur_csv(dec, 31));
    let upload = {
        let admin = admin.clone();
        let base = a.base.clone();
        tokio::spawn(async move {
            let form = reqwest::multipart::Form::new().text("kind", "cur").part(
                "file",
                reqwest::multipart::Part::bytes(file).file_name("december.csv.gz"),
            );
            admin
                .post(format!("{base}/sources/upload"))
                .multipart(form)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        })
    };
    let after = dollars(pulled + 31 * CUR_DAY_MICROS);
    let mut seen = std::collections::BTreeSet::new();
    while !upload.is_finished() {
        seen.insert(billed_total(&admin, &b.base).await);
    }
    assert_eq!(upload.await.unwrap(), 200);
    seen.insert(billed_total(&admin, &b.base).await);
    assert!(
        seen.iter().all(|t| *t == dollars(pulled) || *t == after),
        "B saw {seen:?}"
    );
    // A's own pages have it at once; B's within its version recheck.
    assert_eq!(billed_total(&admin, &a.base).await, after);
    let deadline = Instant::now() + Duration::from_secs(10);
    while billed_total(&admin, &b.base).await != after {
        assert!(Instant::now() < deadline, "B reads A's import");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    // Five wrong passwords at A; the sixth attempt, at B, waits.
    let mut statuses = Vec::new();
    for (i, server) in [&a, &a, &a, &b, &b, &b].into_iter().enumerate() {
        let form = crate::helpers::login_form(&server.base).await;
        let r = crate::helpers::login_request(&server.base, &form, "fin", "wrong", "/")
            .send()
            .await
            .unwrap();
        statuses.push((i, r.status().as_u16()));
    }
    assert_eq!(
        statuses.last().unwrap().1,
        429,
        "the limit holds across servers: {statuses:?}"
    );
    drop(a);
    drop(b);
    drop(conn);
    db.drop_postgres_database();
}

/// A pull stopped half-way (Ctrl-C, a crash) never blocks the next one: on
/// PostgreSQL the claim is an advisory lock its connection holds, freed
/// when the process's connection goes; on SQLite a job whose process is
/// gone is not running.
#[test]
fn a_pull_whose_process_died_does_not_block_the_next() {
    use finops::pull::schedule;
    let job = "s3-export s3://bucket/prefix/name";
    for db in crate::ingest::databases() {
        let now = finops::clock::now();
        let mut first = finops::db::connect(db.url()).unwrap();
        assert!(schedule::claim(&mut first, job, Duration::ZERO, now).unwrap());
        let mut other = db.pool.get().unwrap();
        assert!(
            !schedule::claim(&mut other, job, Duration::ZERO, now).unwrap(),
            "{:?}: refused while it runs",
            db.backend
        );
        match db.backend {
            // The process dies: its connection closes.
            Backend::Postgres => drop(first),
            Backend::Sqlite => {
                drop(first);
                let host = schedule::this_process();
                let host = host.rsplit_once(" pid ").unwrap().0;
                diesel::sql_query(format!(
                    "UPDATE scheduled_jobs SET started_by = '{host} pid 4194999'"
                ))
                .execute(&mut other)
                .unwrap();
            }
        }
        // PostgreSQL frees the lock once it has noticed the closed
        // connection.
        let deadline = Instant::now() + Duration::from_secs(10);
        while !schedule::claim(&mut other, job, Duration::ZERO, now).unwrap() {
            assert!(
                Instant::now() < deadline,
                "{:?}: the next pull runs",
                db.backend
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        schedule::finish(&mut other, job, now, &Ok("done".to_string()));
    }
}

//! Faults survived: a PostgreSQL server stopped under a running service
//! and started again (no restart of finops), and an import process killed
//! at any moment (all of the file or none of it, never part).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use crate::helpers::{require_or_skip, Backend, Need, TestApp, TestDb};

/// The directory of PostgreSQL's server programs, if installed.
fn postgres_bin() -> Option<PathBuf> {
    let root = Path::new("/usr/lib/postgresql");
    let mut versions: Vec<PathBuf> = std::fs::read_dir(root)
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
        .filter(|p| p.join("pg_ctl").exists())
        .collect();
    versions.sort();
    versions.pop()
}

/// A private PostgreSQL server (its own data directory and port), run as
/// the `postgres` user, that a test may stop and start without touching
/// the shared one.
struct PrivatePostgres {
    bin: PathBuf,
    data: tempfile::TempDir,
    port: u16,
}

impl PrivatePostgres {
    fn run_as_postgres(&self, program: &str, args: &[&str]) -> bool {
        Command::new("runuser")
            .args(["-u", "postgres", "--"])
            .arg(self.bin.join(program))
            .args(args)
            .output()
            .map(|o| o.status.success())
            .unwrap_or(false)
    }

    /// A new server, or why there cannot be one here.
    fn start_new() -> Result<PrivatePostgres, String> {
        let bin = postgres_bin().ok_or("no pg_ctl under /usr/lib/postgresql")?;
        let data = tempfile::tempdir().map_err(|e| format!("temporary directory: {e}"))?;
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map_err(|e| format!("a free port: {e}"))?
            .port();
        let chown = Command::new("chown")
            .args(["-R", "postgres:postgres"])
            .arg(data.path())
            .status()
            .map_err(|e| format!("chown: {e}"))?;
        if !chown.success() {
            return Err("cannot hand a directory to the postgres user (not root?)".to_string());
        }
        let pg = PrivatePostgres { bin, data, port };
        let dir = pg.data.path().join("db");
        let dir = dir.to_str().ok_or("a temporary path that is not UTF-8")?;
        if !pg.run_as_postgres(
            "initdb",
            &["-D", dir, "-U", "postgres", "--auth=trust", "-E", "UTF8"],
        ) {
            return Err(
                "initdb as the postgres user failed (runuser missing or not root?)".to_string(),
            );
        }
        if pg.start() {
            Ok(pg)
        } else {
            Err("pg_ctl start of a private server failed".to_string())
        }
    }

    fn start(&self) -> bool {
        let dir = self.data.path().join("db");
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1",
            self.port,
            self.data.path().display()
        );
        self.run_as_postgres(
            "pg_ctl",
            &[
                "-D",
                dir.to_str().unwrap_or(""),
                "-o",
                &options,
                "-w",
                "-l",
                "/dev/null",
                "start",
            ],
        )
    }

    fn stop(&self) -> bool {
        let dir = self.data.path().join("db");
        self.run_as_postgres(
            "pg_ctl",
            &["-D", dir.to_str().unwrap_or(""), "-m", "fast", "-w", "stop"],
        )
    }

    fn url(&self) -> String {
        format!(
            "postgres://postgres@127.0.0.1:{}/postgres?sslmode=disable",
            self.port
        )
    }
}

impl Drop for PrivatePostgres {
    fn drop(&mut self) {
        let _ = self.stop();
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_service_recovers_when_postgresql_comes_back_without_a_restart() {
    let pg = match PrivatePostgres::start_new() {
        Ok(pg) => pg,
        Err(why) => {
            require_or_skip(
                Need::Postgres,
                &format!("cannot run a private PostgreSQL server: {why}"),
            );
            return;
        }
    };
    let url = pg.url();
    let app = TestApp::spawn_on(&url).await;
    app.load_demo(42, 1).await;
    let page = "/month?month=2026-10";
    assert_eq!(app.get_text(page).await.0, 200);

    assert!(pg.stop(), "the server stops");
    app.cache.invalidate();
    let (status, body) = app.get_json("/readyz").await;
    assert_eq!(status, 503, "{body}");
    let (status, html) = app.get_text(page).await;
    assert_eq!(status, 503);
    assert!(html.contains("database is unavailable"), "{html}");
    assert_eq!(
        app.get_text("/healthz").await.0,
        200,
        "the process keeps serving"
    );

    assert!(pg.start(), "the server starts again");
    let mut ready = false;
    for _ in 0..60 {
        if app.get_json("/readyz").await.0 == 200 {
            ready = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert!(ready, "ready again within 15 s, without a restart");
    app.cache.invalidate();
    let (status, html) = app.get_text(page).await;
    assert_eq!(status, 200, "{html}");
}

/// A FOCUS file of `resources` × `days` usage lines, each its own
/// resource-day, so the import stores that many rows (in slices of
/// 50,000). Made here: the test needs nothing beside the project.
fn generated_focus(dir: &Path, resources: usize, days: u32) -> PathBuf {
    use std::fmt::Write as _;
    let platforms = ["PC", "PlayStation", "Xbox", "Switch", "iOS", "Android"];
    let mut out = String::from(
        "BilledCost,EffectiveCost,BillingAccountId,BillingCurrency,BillingPeriodStart,ChargeCategory,ChargePeriodStart,ChargePeriodEnd,ProviderName,RegionId,ServiceName,SubAccountId,ResourceId,Tags\n",
    );
    for r in 0..resources {
        let platform = platforms[r % platforms.len()];
        for d in 1..=days {
            let cents = 100 + (r * 7 + d as usize * 13) % 900;
            let _ = writeln!(
                out,
                "{}.{:02},{}.{:02},100,USD,2026-03-01,Usage,2026-03-{d:02}T00:00:00Z,2026-03-{d:02}T01:00:00Z,AWS,eu-west-1,Amazon EC2,200,i-{r:05},\"{{\"\"platform\"\": \"\"{platform}\"\"}}\"",
                cents / 100,
                cents % 100,
                cents / 100,
                cents % 100,
            );
        }
    }
    let path = dir.join(format!("focus-{resources}x{days}.csv"));
    std::fs::write(&path, out).expect("the generated FOCUS file is written");
    path
}

fn cost_rows(url: &str) -> i64 {
    let pool = finops::db::connect_pool(url, 1).unwrap();
    let mut conn = pool.get().unwrap();
    // A process killed before it migrated leaves an empty database.
    finops::db::run_migrations(&mut conn).unwrap();
    finops::db::costs::count_rows(&mut conn).unwrap()
}

/// Starts `finops ingest focus FILE` on `url`, logging at debug level to
/// a pipe.
fn spawn_import(url: &str, file: &Path) -> std::process::Child {
    Command::new(env!("CARGO_BIN_EXE_finops"))
        .args(["--database", url, "ingest", "focus"])
        .arg(file)
        .env("FINOPS_LOG", "finops=debug")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("finops runs")
}

/// Kills `child` as soon as it logs that it stored a slice of rows (inside
/// the import's transaction, before the commit). `true` when it was killed
/// there; `false` when it finished first.
fn kill_after_first_slice(mut child: std::process::Child) -> bool {
    use std::io::BufRead;
    let stderr = child.stderr.take().expect("stderr piped");
    let mut reached = false;
    for line in std::io::BufReader::new(stderr).lines() {
        let Ok(line) = line else { break };
        if line.contains("stored a slice of resource-days") {
            reached = true;
            break;
        }
    }
    let finished = child.try_wait().ok().flatten().is_some();
    let _ = child.kill();
    let _ = child.wait();
    reached && !finished
}

#[test]
fn an_import_killed_at_any_moment_leaves_all_or_nothing() {
    for backend in [Backend::Sqlite, Backend::Postgres] {
        if backend == Backend::Postgres && !crate::helpers::postgres_available() {
            continue;
        }
        let db = TestDb::create(backend);
        let dir = tempfile::tempdir().unwrap();
        // 3,600 resources × 31 days: three slices of rows to store.
        let file = generated_focus(dir.path(), 3_600, 31);
        // The whole file, imported undisturbed: what "all" is.
        let full = spawn_import(db.url(), &file).wait_with_output().unwrap();
        crate::helpers::assert_ran(&full);
        let all = cost_rows(db.url());
        assert!(all > 0);
        let empty = TestDb::create(backend);
        let mut outcomes = (0, 0);
        let check = |n: i64, when: &str, outcomes: &mut (i32, i32)| {
            assert!(
                n == 0 || n == all,
                "{}: killed {when}, {n} rows of {all}",
                backend.name()
            );
            if n == 0 {
                outcomes.0 += 1;
            } else {
                outcomes.1 += 1;
                // Start again from nothing for the next kill.
                let pool = finops::db::connect_pool(empty.url(), 1).unwrap();
                let mut conn = pool.get().unwrap();
                finops::db::costs::delete_source(&mut conn, "focus").unwrap();
            }
        };
        // Kills spread over the whole import: parsing, aggregating, writing.
        for delay_ms in (50..=2_450).step_by(200) {
            let mut child = spawn_import(empty.url(), &file);
            std::thread::sleep(Duration::from_millis(delay_ms));
            let _ = child.kill();
            let _ = child.wait();
            check(
                cost_rows(empty.url()),
                &format!("after {delay_ms} ms"),
                &mut outcomes,
            );
        }
        // Kills that land while rows are being written, before the commit.
        let mut mid_write = 0;
        for _ in 0..3 {
            let killed = kill_after_first_slice(spawn_import(empty.url(), &file));
            let n = cost_rows(empty.url());
            if killed {
                assert_eq!(n, 0, "{}: killed mid-write, rows left", backend.name());
                mid_write += 1;
            }
            check(n, "after the first stored slice", &mut outcomes);
        }
        assert!(
            mid_write >= 1,
            "{}: no kill landed while rows were being written",
            backend.name()
        );
        eprintln!(
            "{}: {} kills left nothing ({mid_write} of them mid-write), {} came after the import finished",
            backend.name(),
            outcomes.0,
            outcomes.1
        );
        // And the database takes the file again as if nothing happened.
        let again = spawn_import(empty.url(), &file).wait_with_output().unwrap();
        assert!(again.status.success());
        assert_eq!(cost_rows(empty.url()), all, "{}", backend.name());
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_stopping_server_finishes_the_requests_in_flight() {
    let db = TestDb::create(Backend::Sqlite);
    let demo = Command::new(env!("CARGO_BIN_EXE_finops"))
        .args(["--database", db.url(), "demo", "--months", "6"])
        .output()
        .unwrap();
    assert!(demo.status.success());
    let made = Command::new(env!("CARGO_BIN_EXE_finops"))
        .args([
            "--database",
            db.url(),
            "token",
            "add",
            "sigterm",
            "--role",
            "viewer",
        ])
        .output()
        .unwrap();
    assert!(made.status.success());
    let token = String::from_utf8(made.stdout).unwrap().trim().to_string();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut server = Command::new(env!("CARGO_BIN_EXE_finops"))
        .args([
            "--database",
            db.url(),
            "serve",
            "--bind",
            &format!("127.0.0.1:{port}"),
        ])
        .env("FINOPS_LOG", "warn")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let client = crate::helpers::client_with_token(&token);
    let mut up = false;
    for _ in 0..100 {
        if client.get(format!("{base}/healthz")).send().await.is_ok() {
            up = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(up, "the server starts");
    // A slow page (every forecast and plan computed, nothing cached yet).
    let slow = tokio::spawn({
        let client = client.clone();
        let url = format!("{base}/recommendations");
        async move {
            let r = client.get(url).send().await?;
            let status = r.status().as_u16();
            Ok::<_, reqwest::Error>((status, r.text().await?))
        }
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    let signalled = Command::new("kill")
        .args(["-TERM", &server.id().to_string()])
        .status()
        .unwrap();
    assert!(signalled.success());
    let answer = slow
        .await
        .unwrap()
        .expect("the request in flight is answered");
    assert_eq!(answer.0, 200);
    assert!(answer.1.contains("recommendations-table") || answer.1.contains("no-recommendations"));
    let status = tokio::task::spawn_blocking(move || server.wait().unwrap())
        .await
        .unwrap();
    assert!(status.success(), "a clean exit: {status:?}");
    assert!(
        client.get(format!("{base}/healthz")).send().await.is_err(),
        "no longer listening"
    );
}

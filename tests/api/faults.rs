//! Faults survived: a PostgreSQL server stopped under a running service
//! and started again (no restart of finops), and an import process killed
//! at any moment (all of the file or none of it, never part).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use crate::helpers::{Backend, TestApp, TestDb};

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

    fn start_new() -> Option<PrivatePostgres> {
        let bin = postgres_bin()?;
        let data = tempfile::tempdir().ok()?;
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .ok()?
            .local_addr()
            .ok()?
            .port();
        Command::new("chown")
            .args(["-R", "postgres:postgres"])
            .arg(data.path())
            .status()
            .ok()?;
        let pg = PrivatePostgres { bin, data, port };
        let dir = pg.data.path().join("db");
        let dir = dir.to_str()?;
        if !pg.run_as_postgres(
            "initdb",
            &["-D", dir, "-U", "postgres", "--auth=trust", "-E", "UTF8"],
        ) {
            return None;
        }
        pg.start().then_some(pg)
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
    let Some(pg) = PrivatePostgres::start_new() else {
        eprintln!("skipped: cannot run a private PostgreSQL server here");
        return;
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

/// A FOCUS file of `copies` × the sample's rows (the copies add up in
/// the daily totals; the import has `copies` times the rows to read).
fn big_focus(dir: &Path, copies: usize) -> PathBuf {
    let sample = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data/focus-1.0-sample.csv"),
    )
    .expect("the shared FOCUS sample");
    let mut lines = sample.lines();
    let header = lines.next().unwrap().to_string();
    let rows: Vec<&str> = lines.collect();
    let mut out = String::with_capacity(sample.len() * copies);
    out.push_str(&header);
    out.push('\n');
    for _ in 0..copies {
        for r in &rows {
            out.push_str(r);
            out.push('\n');
        }
    }
    let path = dir.join("big-focus.csv");
    std::fs::write(&path, out).unwrap();
    path
}

fn cost_rows(url: &str) -> i64 {
    let pool = finops::db::connect_pool(url, 1).unwrap();
    let mut conn = pool.get().unwrap();
    // A process killed before it migrated leaves an empty database.
    finops::db::run_migrations(&mut conn).unwrap();
    finops::db::costs::count_rows(&mut conn).unwrap()
}

#[test]
fn an_import_killed_at_any_moment_leaves_all_or_nothing() {
    for backend in [Backend::Sqlite, Backend::Postgres] {
        if backend == Backend::Postgres && !crate::helpers::postgres_available() {
            continue;
        }
        let db = TestDb::create(backend);
        let dir = tempfile::tempdir().unwrap();
        let file = big_focus(dir.path(), 60);
        let finops = |args: &[&str]| {
            Command::new(env!("CARGO_BIN_EXE_finops"))
                .args(["--database", db.url()])
                .args(args)
                .current_dir(dir.path())
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .spawn()
                .unwrap()
        };
        // The whole file, imported undisturbed: what "all" is.
        let mut full = finops(&["ingest", "focus", file.to_str().unwrap()]);
        assert!(full.wait().unwrap().success());
        let all = cost_rows(db.url());
        assert!(all > 0);
        let empty = TestDb::create(backend);
        // The import takes about 0.3 s here: kills spread over all of it,
        // parsing, aggregating and writing.
        let mut outcomes = (0, 0);
        for delay_ms in (10..=490).step_by(40) {
            let mut child = Command::new(env!("CARGO_BIN_EXE_finops"))
                .args([
                    "--database",
                    empty.url(),
                    "ingest",
                    "focus",
                    file.to_str().unwrap(),
                ])
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .spawn()
                .unwrap();
            std::thread::sleep(Duration::from_millis(delay_ms));
            let _ = child.kill();
            let _ = child.wait();
            let n = cost_rows(empty.url());
            assert!(
                n == 0 || n == all,
                "{}: killed after {delay_ms} ms, {n} rows of {all}",
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
        }
        eprintln!(
            "{}: {} kills left nothing, {} came after the import finished",
            backend.name(),
            outcomes.0,
            outcomes.1
        );
        // And the database takes the file again as if nothing happened.
        let mut again = Command::new(env!("CARGO_BIN_EXE_finops"))
            .args([
                "--database",
                empty.url(),
                "ingest",
                "focus",
                file.to_str().unwrap(),
            ])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        assert!(again.wait().unwrap().success());
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

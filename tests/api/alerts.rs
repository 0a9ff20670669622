//! Alerts reach people: an unplanned spike in imported data raises one
//! anomaly alert (the launch on the calendar none) that arrives at a local
//! webhook, after a failed first attempt and a retry, and at a real local
//! SMTP server (aiosmtpd); a budget past its threshold alerts too; each
//! episode is sent once; the webhook's secret address appears in no page,
//! output or log. In `serve`, a failed upload alerts within seconds; one
//! process at a time evaluates (the PostgreSQL advisory lock).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{Datelike, NaiveDate};

use crate::helpers::{assert_ran, postgres_available, Backend, Need, TestApp, TestDb};

/// The part of the webhook address that is its secret.
const SECRET: &str = "T0KEN-s3cr3t-PATH";

/// A local webhook receiver: records each request's path and body and
/// answers 500 to the first `fail_first`, 200 after.
struct Hook {
    port: u16,
    requests: Arc<Mutex<Vec<(String, String)>>>,
}

impl Hook {
    fn start(fail_first: usize) -> Hook {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let seen = requests.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let Some(request) = read_request(&stream) else {
                    continue;
                };
                let n = {
                    let mut g = seen.lock().unwrap();
                    g.push(request);
                    g.len()
                };
                let status = if n <= fail_first {
                    "500 Internal Server Error"
                } else {
                    "200 OK"
                };
                let _ = write!(
                    stream,
                    "HTTP/1.1 {status}\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"
                );
            }
        });
        Hook { port, requests }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}/hooks/{SECRET}", self.port)
    }

    fn received(&self) -> Vec<(String, String)> {
        self.requests.lock().unwrap().clone()
    }

    /// Waits up to `limit` for at least `n` requests.
    fn wait_for(&self, n: usize, limit: Duration) -> Vec<(String, String)> {
        let start = Instant::now();
        loop {
            let got = self.received();
            if got.len() >= n || start.elapsed() > limit {
                return got;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

fn read_request(stream: &TcpStream) -> Option<(String, String)> {
    let mut reader = BufReader::new(stream);
    let mut first = String::new();
    reader.read_line(&mut first).ok()?;
    let path = first.split_whitespace().nth(1)?.to_string();
    let mut length = 0usize;
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).ok()?;
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some((k, v)) = line.split_once(':') {
            if k.eq_ignore_ascii_case("content-length") {
                length = v.trim().parse().ok()?;
            }
        }
    }
    let mut body = vec![0u8; length];
    reader.read_exact(&mut body).ok()?;
    Some((path, String::from_utf8_lossy(&body).into_owned()))
}

/// aiosmtpd writing every message it receives into a Maildir.
struct Smtpd {
    child: Child,
    port: u16,
    dir: tempfile::TempDir,
}

impl Drop for Smtpd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn aiosmtpd_binary() -> Option<PathBuf> {
    if let Ok(p) = std::env::var("FINOPS_AIOSMTPD") {
        return Some(PathBuf::from(p));
    }
    let home = std::env::var("HOME").ok()?;
    let p = PathBuf::from(home).join(".cache/finops-venv/bin/aiosmtpd");
    p.exists().then_some(p)
}

impl Smtpd {
    fn start() -> Option<Smtpd> {
        let Some(bin) = aiosmtpd_binary() else {
            crate::helpers::require_or_skip(
                Need::Smtp,
                "aiosmtpd not found: pip install aiosmtpd into ~/.cache/finops-venv (see .ci/run) or set FINOPS_AIOSMTPD",
            );
            return None;
        };
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let dir = tempfile::tempdir().unwrap();
        let maildir = dir.path().join("mail");
        let child = Command::new(&bin)
            .args(["-n", "-l", &format!("127.0.0.1:{port}")])
            .args(["-c", "aiosmtpd.handlers.Mailbox"])
            .arg(&maildir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("{}: {e}", bin.display()));
        let s = Smtpd { child, port, dir };
        let start = Instant::now();
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "aiosmtpd did not start"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        Some(s)
    }

    /// Every message received, as its raw text.
    fn messages(&self) -> Vec<String> {
        let new = self.dir.path().join("mail").join("new");
        let mut out: Vec<String> = std::fs::read_dir(&new)
            .map(|entries| {
                entries
                    .filter_map(Result::ok)
                    .filter_map(|e| std::fs::read_to_string(e.path()).ok())
                    .collect()
            })
            .unwrap_or_default();
        out.sort();
        out
    }
}

const HEADER: &str = "BilledCost,EffectiveCost,BillingAccountId,BillingCurrency,BillingPeriodStart,ChargeCategory,ChargePeriodStart,ChargePeriodEnd,ProviderName,RegionId,ServiceName,SubAccountId,ResourceId,Tags\n";

fn day(i: i64) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 1, 5).unwrap() + chrono::Duration::days(i)
}

fn line(cost: f64, d: NaiveDate, account: &str, resource: &str) -> String {
    let period = NaiveDate::from_ymd_opt(d.year(), d.month(), 1).unwrap();
    format!(
        "{cost:.2},{cost:.2},100,USD,{period},Usage,{d}T00:00:00Z,{}T00:00:00Z,AWS,eu-west-1,Amazon EC2,{account},{resource},\"{{\"\"platform\"\": \"\"PC\"\"}}\"\n",
        d + chrono::Duration::days(1)
    )
}

/// 120 days of PC spend: a launch on the calendar (days 106–112, +80 %)
/// and an unplanned spike from one resource of account 300 on day 116,
/// both within the last week or two of the data.
fn bill() -> String {
    let mut text = HEADER.to_string();
    for i in 0..120 {
        let d = day(i);
        let weekly = if i % 7 >= 5 { 1150.0 } else { 1000.0 };
        let mut v = weekly * (1.0 + 0.02 * ((i as f64) * 1.7).sin());
        if (106..113).contains(&i) {
            v *= 1.8;
        }
        text.push_str(&line(v, d, "200", "fleet-pc"));
        if i == 116 {
            text.push_str(&line(1_600.0, d, "300", "i-runaway"));
        }
    }
    text
}

fn calendar() -> String {
    format!(
        "[[event]]\nname = \"Season 5 launch\"\nkind = \"launch\"\nstart = {}\nend = {}\nexpected_uplift = 0.8\n",
        day(106),
        day(112)
    )
}

fn settings_file(dir: &Path, smtp_port: u16) -> PathBuf {
    let path = dir.join("finops.toml");
    std::fs::write(
        &path,
        format!(
            r#"public_url = "https://finops.example"

[[alert_channel]]
name = "ops-hook"
kind = "webhook"
url_env = "FINOPS_TEST_HOOK_URL"

[[alert_channel]]
name = "finance-mail"
kind = "email"
smtp_host = "127.0.0.1"
smtp_port = {smtp_port}
smtp_security = "none"
from = "finops@example.com"
to = ["finance@example.com", "platform@example.com"]
"#
        ),
    )
    .unwrap();
    path
}

/// `finops --database URL --config FILE ARGS…` with the webhook's address
/// in the environment.
fn cli(url: &str, config: &Path, hook: &Hook, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_finops"))
        .args(["--database", url, "--config"])
        .arg(config)
        .args(args)
        .env("FINOPS_TEST_HOOK_URL", hook.url())
        .env("FINOPS_LOG", "info")
        .stdin(Stdio::null())
        .output()
        .expect("finops runs")
}

fn text(out: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[test]
fn a_spike_alerts_a_webhook_and_a_mail_server_once_and_the_launch_does_not() {
    let Some(smtpd) = Smtpd::start() else { return };
    for backend in [Backend::Sqlite, Backend::Postgres] {
        if backend == Backend::Postgres && !postgres_available() {
            continue;
        }
        let before = smtpd.messages().len();
        let hook = Hook::start(1);
        let db = TestDb::create(backend);
        let url = db.url();
        let dir = tempfile::tempdir().unwrap();
        let config = settings_file(dir.path(), smtpd.port);
        let mut said = String::new();
        let mut run = |args: &[&str]| {
            let out = cli(url, &config, &hook, args);
            said.push_str(&text(&out));
            assert_ran(&out);
            out
        };

        let out = run(&["alerts", "channels"]);
        let channels = String::from_utf8_lossy(&out.stdout).to_string();
        assert!(
            channels.contains("127.0.0.1:") && channels.contains("address hidden"),
            "{channels}"
        );
        run(&[
            "alerts",
            "add",
            "spikes",
            "--kind",
            "anomaly",
            "--min-impact",
            "500",
            "--channel",
            "ops-hook",
            "--channel",
            "finance-mail",
        ]);
        // A rule naming a channel that does not exist is refused.
        let out = cli(
            url,
            &config,
            &hook,
            &[
                "alerts",
                "add",
                "x",
                "--kind",
                "run-failed",
                "--channel",
                "pager",
            ],
        );
        assert_eq!(out.status.code(), Some(2));
        assert!(text(&out).contains("channel 'pager' is not configured"));

        let cal = dir.path().join("launch.toml");
        std::fs::write(&cal, calendar()).unwrap();
        run(&["ingest", "calendar", cal.to_str().unwrap()]);
        let bill_path = dir.path().join("focus.csv");
        std::fs::write(&bill_path, bill()).unwrap();
        let out = run(&["ingest", "focus", bill_path.to_str().unwrap()]);
        let stderr = String::from_utf8_lossy(&out.stderr).to_string();
        assert!(
            stderr.contains("1 new alerts; 1 sent, 1 to retry"),
            "{stderr}"
        );

        // The mail arrived, with the explanation and the link.
        let mail = smtpd.messages();
        assert_eq!(mail.len(), before + 1, "one message: {mail:#?}");
        let m = mail
            .iter()
            .find(|m| m.contains(&day(116).to_string()) && m.contains("Cost anomaly"))
            .expect("the spike's message");
        assert!(m.contains("Subject: [finops] Cost anomaly: PC"), "{m}");
        assert!(m.contains("account 300"), "{m}");
        assert!(m.contains("https://finops.example/anomalies?from="), "{m}");
        assert!(m.contains("finance@example.com") && m.contains("platform@example.com"));

        // The webhook's first answer was 500: retried after the wait.
        assert_eq!(hook.received().len(), 1);
        let list = run(&["alerts", "list", "--format", "json"]);
        let alerts: Vec<serde_json::Value> = serde_json::from_slice(&list.stdout).unwrap();
        assert_eq!(alerts.len(), 1, "only the spike alerts: {alerts:#?}");
        assert!(alerts[0]["title"]
            .as_str()
            .unwrap()
            .contains(&day(116).to_string()));
        let hook_delivery = alerts[0]["deliveries"]
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["channel"] == "ops-hook")
            .unwrap()
            .clone();
        assert_eq!(hook_delivery["status"], "pending");
        assert_eq!(hook_delivery["attempts"], 1);
        assert!(hook_delivery["last_error"]
            .as_str()
            .unwrap()
            .contains("HTTP 500"));
        let settings = finops::config::Settings::load_from(
            Some(config.as_path()),
            &Default::default(),
            &|v| (v == "FINOPS_TEST_HOOK_URL").then(|| hook.url()),
        )
        .unwrap();
        let alerting = finops::alert::AlertSettings::from_settings(&settings);
        let mut conn = finops::db::connect(url).unwrap();
        let now = finops::clock::now();
        let early =
            finops::alert::deliver::deliver_due(&mut conn, &alerting.channels, None, now).unwrap();
        assert_eq!(early.sent, 0, "not due before its wait");
        let later = finops::alert::deliver::deliver_due(
            &mut conn,
            &alerting.channels,
            alerting.public_url.as_deref(),
            now + chrono::Duration::seconds(31),
        )
        .unwrap();
        assert_eq!(later.sent, 1);
        let got = hook.received();
        assert_eq!(got.len(), 2);
        let body: serde_json::Value = serde_json::from_str(&got[1].1).unwrap();
        assert_eq!(body["kind"], "anomaly");
        assert_eq!(body["rule"], "spikes");
        assert!(
            body["body"].as_str().unwrap().contains("i-runaway")
                || body["body"].as_str().unwrap().contains("account 300")
        );

        // Evaluating again sends nothing new: one message per episode.
        let out = run(&["alerts", "run"]);
        assert!(
            String::from_utf8_lossy(&out.stdout).contains("0 new alerts"),
            "{}",
            text(&out)
        );
        assert_eq!(smtpd.messages().len(), before + 1);
        assert_eq!(hook.received().len(), 2);

        // A budget past 80 % of itself alerts by mail.
        let month = format!("{}", day(119).format("%Y-%m"));
        run(&["budget", "set", &month, "1000", "--platform", "PC"]);
        run(&[
            "alerts",
            "add",
            "budget 80",
            "--kind",
            "budget",
            "--percent",
            "80",
            "--channel",
            "finance-mail",
        ]);
        let out = run(&["alerts", "run"]);
        let said_now = text(&out);
        assert!(
            said_now.contains("raised: Budget PC: actual at"),
            "{said_now}"
        );
        assert_eq!(smtpd.messages().len(), before + 2);

        // The secret address is nowhere: outputs, logs, stored errors.
        let listed = text(&run(&["alerts", "list", "--format", "json"]));
        for t in [&said, &listed] {
            assert!(!t.contains(SECRET), "the webhook's secret leaked: {t}");
        }
    }
}

#[tokio::test]
async fn a_failed_upload_alerts_from_the_server_and_pages_hide_the_secret() {
    for backend in [Backend::Sqlite, Backend::Postgres] {
        let hook = Hook::start(0);
        let hook_url = hook.url();
        let Some(app) = TestApp::spawn_with(backend, move |s| {
            s.alert_channels = vec![finops::alert::channel::ChannelFile {
                name: "ops".into(),
                kind: "slack".into(),
                url: Some(finops::alert::channel::Secret::new(hook_url)),
                ..Default::default()
            }
            .resolve(&|_| None)
            .unwrap()];
        })
        .await
        else {
            continue;
        };
        let post = |path: &str, body: &str| {
            app.client
                .post(format!("{}{}", app.address, path))
                .header("content-type", "application/x-www-form-urlencoded")
                .body(body.to_string())
                .send()
        };
        // Refused with the field named; nothing stored.
        let r = post(
            "/alerts/rules",
            "name=low&kind=budget&percent=lots&channel=ops",
        )
        .await
        .unwrap();
        assert_eq!(r.status().as_u16(), 422);
        assert!(r.text().await.unwrap().contains("is not a number"));
        let r = post("/alerts/rules", "name=imports&kind=run-failed&channel=ops")
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 303);
        assert_eq!(r.headers()["location"], "/alerts?saved=imports");
        // The same name again replaces it, and the page says so.
        let r = post("/alerts/rules", "name=imports&kind=run-failed&channel=ops")
            .await
            .unwrap();
        assert_eq!(r.headers()["location"], "/alerts?replaced=imports");
        let (_, html) = app.get_text("/alerts?replaced=imports").await;
        assert!(
            html.contains("Rule &#x27;imports&#x27; replaced")
                || html.contains("Rule &#39;imports&#39; replaced"),
            "{html}"
        );

        // A viewer reads the page, cannot add rules, never sees the secret.
        let viewer = app.client_as(finops::auth::Role::Viewer).await;
        let page = viewer
            .get(format!("{}/alerts", app.address))
            .send()
            .await
            .unwrap();
        assert_eq!(page.status().as_u16(), 200);
        let html = page.text().await.unwrap();
        assert!(
            html.contains(&format!("127.0.0.1:{} (address hidden)", hook.port)),
            "{html}"
        );
        assert!(html.contains("imports") && !html.contains(SECRET));
        assert!(!html.contains("id=\"rule-form\""));
        let r = viewer
            .post(format!("{}/alerts/rules", app.address))
            .header("content-type", "application/x-www-form-urlencoded")
            .body("name=x&kind=run-failed&channel=ops")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 403);

        // A malformed upload fails; the server alerts within seconds.
        let (status, _) = app
            .upload("focus", "broken.csv", b"not,a,bill\n1,2,3\n".to_vec())
            .await;
        assert!(status >= 400, "{status}");
        let got = tokio::task::spawn_blocking(move || {
            let got = hook.wait_for(1, Duration::from_secs(20));
            (got, hook)
        })
        .await
        .unwrap();
        let (got, _hook) = got;
        assert_eq!(got.len(), 1, "one alert for the failed import");
        let body: serde_json::Value = serde_json::from_str(&got[0].1).unwrap();
        assert!(
            body["text"].as_str().unwrap().contains("Import failed"),
            "{body}"
        );
        assert!(body["blocks"].is_array(), "Slack's shape");
        let (_, html) = app.get_text("/alerts").await;
        assert!(
            html.contains("Import failed") && html.contains("sent"),
            "{html}"
        );
        assert!(!html.contains(SECRET));
    }
}

#[test]
fn one_process_at_a_time_evaluates_on_postgresql() {
    use finops::db::lock::{with_lock, Lock};
    if !postgres_available() {
        return;
    }
    let db = TestDb::create(Backend::Postgres);
    let mut first = finops::db::connect(db.url()).unwrap();
    let mut second = finops::db::connect(db.url()).unwrap();
    finops::db::run_migrations(&mut first).unwrap();
    let inner = with_lock(&mut first, Lock::Alerts, |_| {
        with_lock::<_, finops::db::DbError>(&mut second, Lock::Alerts, |_| Ok(()))
    })
    .unwrap();
    assert_eq!(inner, Some(None), "the second session waits its turn");
    let after = with_lock::<_, finops::db::DbError>(&mut second, Lock::Alerts, |_| Ok(1)).unwrap();
    assert_eq!(after, Some(1), "released when the first is done");
    // On SQLite the lock is always granted.
    let sqlite = TestDb::create(Backend::Sqlite);
    let mut c = finops::db::connect(sqlite.url()).unwrap();
    assert_eq!(
        with_lock::<_, finops::db::DbError>(&mut c, Lock::Alerts, |_| Ok(2)).unwrap(),
        Some(2)
    );
}

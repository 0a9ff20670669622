//! What an outside attacker and each role tried, one regression test per
//! finding, on SQLite and PostgreSQL: access decided on the route that
//! runs (however the path is spelled), `format` read once, a demo sign-in
//! that really ends, sign-in limits that hold under concurrency and forged
//! headers, decompression bombs, a refused-sign-in flood, API tokens kept
//! apart from sessions, the CSRF token only where forms want it, and no
//! leaks of paths, database URLs or cacheable pages.

use std::io::{Read, Write};

use finops::auth::policy::{MetricsAccess, Rule, ROUTES};
use finops::auth::Role;
use finops::config::Settings;

use crate::helpers::{
    apps, client_with_token, finops_cli, input_value, login_form, set_cookie, Backend, TestApp,
};

const PASSWORD: &str = "correct horse battery staple";

/// The backends, each with settings changed by `adjust`.
async fn apps_with(adjust: impl Fn(&mut Settings) + Copy) -> Vec<TestApp> {
    let mut out = Vec::new();
    for b in [Backend::Sqlite, Backend::Postgres] {
        if let Some(app) = TestApp::spawn_with(b, adjust).await {
            out.push(app);
        }
    }
    out
}

/// Sends a request exactly as written (no client-side normalising of the
/// path); returns the status and the body.
async fn raw(address: &str, method: &str, path: &str, headers: &[(&str, String)]) -> (u16, String) {
    let host = address.trim_start_matches("http://").to_string();
    let mut request = format!("{method} {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n");
    for (k, v) in headers {
        request.push_str(&format!("{k}: {v}\r\n"));
    }
    request.push_str("Content-Length: 0\r\n\r\n");
    tokio::task::spawn_blocking(move || {
        let mut stream = std::net::TcpStream::connect(&host).expect("connect");
        stream.write_all(request.as_bytes()).expect("send");
        let mut answer = Vec::new();
        stream.read_to_end(&mut answer).expect("answer");
        let text = String::from_utf8_lossy(&answer).to_string();
        let status = text
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        let body = text
            .split_once("\r\n\r\n")
            .map(|(_, b)| b.to_string())
            .unwrap_or_default();
        (status, body)
    })
    .await
    .expect("raw request")
}

/// Spellings the router reads as `path`: each letter, digit, dot, dash
/// or underscore percent-encoded on its own (upper- and lower-case hex),
/// and the whole path encoded with mixed-case escapes.
fn same_route_spellings(path: &str) -> Vec<String> {
    let mut out = Vec::new();
    for (i, c) in path.char_indices() {
        if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
            let b = c as u8;
            out.push(format!("{}%{b:02X}{}", &path[..i], &path[i + 1..]));
            if format!("{b:02X}") != format!("{b:02x}") {
                out.push(format!("{}%{b:02x}{}", &path[..i], &path[i + 1..]));
            }
        }
    }
    let whole: String = path
        .bytes()
        .enumerate()
        .map(|(i, b)| match b {
            b'/' => "/".to_string(),
            _ if i % 2 == 0 => format!("%{b:02X}"),
            _ => format!("%{b:02x}"),
        })
        .collect();
    out.push(whole);
    out
}

/// Spellings that name no route: a double-encoded letter, an encoded
/// slash, a trailing slash.
fn other_route_spellings(path: &str) -> Vec<String> {
    let mut out = vec![
        format!("/%25{:02X}{}", path.as_bytes()[1], &path[2..]),
        format!("{path}/"),
    ];
    if let Some(i) = path[1..].find('/') {
        out.push(format!("{}%2F{}", &path[..i + 1], &path[i + 2..]));
        out.push(format!("{}%2f{}", &path[..i + 1], &path[i + 2..]));
    }
    out
}

fn bearer(token: &str) -> Vec<(&'static str, String)> {
    vec![("Authorization", format!("Bearer {token}"))]
}

#[tokio::test]
async fn a_path_spelled_any_way_meets_the_check_of_the_route_it_reaches() {
    for app in apps().await {
        // October's costs, so the export has a month to give.
        app.load_demo(42, 1).await;
        let viewer = crate::helpers::make_token(&app.pool, "spelling-viewer", Role::Viewer).await;
        let analyst =
            crate::helpers::make_token(&app.pool, "spelling-analyst", Role::Analyst).await;
        // What the red team reached, and every other route beyond a viewer.
        let mut beyond_viewer: Vec<(&str, String, &str)> = vec![
            ("GET", "/api/v1/costs".to_string(), "?format=csv"),
            ("GET", "/export/monthly.csv".to_string(), "?month=2026-10"),
        ];
        for (method, pattern, rule) in ROUTES {
            if let Rule::Role(role) = rule {
                if *role > Role::Viewer {
                    beyond_viewer.push((method, pattern.to_string(), ""));
                }
            }
        }
        let mut requests = 0;
        for (method, path, query) in &beyond_viewer {
            for spelled in same_route_spellings(path) {
                let (status, body) = raw(
                    &app.address,
                    method,
                    &format!("{spelled}{query}"),
                    &bearer(&viewer),
                )
                .await;
                assert_eq!(status, 403, "{method} {spelled}{query} as a viewer: {body}");
                // Anonymous: sent to sign in, never served.
                let (status, _) =
                    raw(&app.address, method, &format!("{spelled}{query}"), &[]).await;
                assert!(
                    status == 303 || status == 401,
                    "{method} {spelled}{query} anonymous: {status}"
                );
                requests += 2;
            }
            for spelled in other_route_spellings(path) {
                let (status, body) = raw(
                    &app.address,
                    method,
                    &format!("{spelled}{query}"),
                    &bearer(&viewer),
                )
                .await;
                assert!(
                    status == 403 || status == 404 || status == 405,
                    "{method} {spelled}{query} as a viewer: {status} {body}"
                );
                assert!(!body.contains("billed_cost"), "{spelled}: {body}");
                requests += 1;
            }
        }
        assert!(requests > 100, "{requests} spellings tried");
        // Refusals are audited under the route, not the spelling.
        let denied = app.audit_entries("access.denied").await;
        assert!(!denied.is_empty());
        for e in &denied {
            let route = e.target.split_once(' ').map(|(_, r)| r).unwrap_or("");
            assert!(
                ROUTES.iter().any(|(_, p, _)| *p == route),
                "audited as {}",
                e.target
            );
        }
        // An analyst may take the export under any spelling, and the audit
        // log names the route that ran.
        let (status, body) = raw(
            &app.address,
            "GET",
            "/%65xport/monthly%2Ecsv?month=2026-10",
            &bearer(&analyst),
        )
        .await;
        assert_eq!(status, 200, "{body}");
        assert!(body.starts_with("month,platform,region,service,billed_cost"));
        let exports = app.audit_entries("export").await;
        assert_eq!(exports.len(), 1);
        assert_eq!(exports[0].target, "monthly CSV 2026-10");
        assert_eq!(exports[0].detail, "/export/monthly.csv?month=2026-10");
        // A viewer still reads what viewers read, however spelled.
        let (status, _) = raw(
            &app.address,
            "GET",
            "/%6Donth?month=2026-10",
            &bearer(&viewer),
        )
        .await;
        assert_eq!(status, 200);
    }
}

#[tokio::test]
async fn csv_however_format_is_spelled_is_an_export() {
    for app in apps().await {
        let viewer = app.client_as(Role::Viewer).await;
        let analyst = app.client_as(Role::Analyst).await;
        let base = format!("{}/api/v1/costs?from=2026-10-01&to=2026-10-31", app.address);
        for format in ["csv%20", "+csv", "csv+", "CSV", "%63sv", "%20csv%20"] {
            let r = viewer
                .get(format!("{base}&format={format}"))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status().as_u16(), 403, "format={format}");
            let r = analyst
                .get(format!("{base}&format={format}"))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status().as_u16(), 200, "format={format}");
            assert!(r.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/csv"));
        }
        // Each CSV was audited, under the route.
        let exports = app.audit_entries("export").await;
        assert_eq!(exports.len(), 6);
        assert!(exports
            .iter()
            .all(|e| e.target == "costs CSV" && e.detail.starts_with("/api/v1/costs?")));
        // Asking twice, or for something else, is a clear 400.
        for bad in ["format=xml", "format=csv&format=json"] {
            let r = viewer.get(format!("{base}&{bad}")).send().await.unwrap();
            assert_eq!(r.status().as_u16(), 400, "{bad}");
            let body: serde_json::Value = r.json().await.unwrap();
            assert!(body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("format"));
        }
        let r = viewer
            .get(format!("{base}&format=json"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 200);
    }
}

/// Signs in with the demo button for `role`; the session cookie.
async fn demo_sign_in(address: &str, role: &str) -> reqwest::Response {
    let (login_cookie, token) = login_form(address).await;
    client_with_token("")
        .post(format!("{address}/login/demo"))
        .header("cookie", login_cookie)
        .form(&[("role", role), ("csrf", token.as_str()), ("next", "/")])
        .send()
        .await
        .unwrap()
}

async fn status_with_cookie(address: &str, path: &str, cookie: &str) -> u16 {
    let request = client_with_token("")
        .get(format!("{address}{path}"))
        .header("cookie", cookie);
    crate::helpers::status(request).await
}

#[tokio::test]
async fn the_demo_sign_in_ends_when_real_users_arrive_and_with_a_restart() {
    for app in apps_with(|s| s.demo_sign_in = true).await {
        let r = demo_sign_in(&app.address, "admin").await;
        assert_eq!(r.status().as_u16(), 303);
        let cookie = set_cookie(&r, "finops_session").unwrap();
        assert_eq!(
            status_with_cookie(&app.address, "/admin", &cookie).await,
            200
        );

        // A real admin is added while the service runs.
        let out = finops_cli(
            app.db.url(),
            &["user", "add", "ops-admin", "--role", "admin"],
            &format!("{PASSWORD}\n"),
        );
        crate::helpers::assert_ran(&out);
        assert!(String::from_utf8_lossy(&out.stderr).contains("demo sign-in is off"));
        // The demo button no longer signs anyone in, and is not offered.
        let r = demo_sign_in(&app.address, "admin").await;
        assert_eq!(r.status().as_u16(), 404);
        assert!(set_cookie(&r, "finops_session").is_none());
        let (_, html) = app.get_text("/login").await;
        assert!(!html.contains("id=\"demo-sign-in\""));
        // The earlier demo session ends (after the identity cache's few
        // seconds at most), and the demo users are gone.
        app.clock.offset(finops::web::guard::IDENTITY_TTL);
        assert_eq!(
            status_with_cookie(&app.address, "/admin", &cookie).await,
            303
        );
        let users = app
            .with_conn(|conn| finops::db::users::all(conn).unwrap())
            .await;
        let names: Vec<&str> = users.iter().map(|u| u.username.as_str()).collect();
        assert_eq!(names, vec!["ops-admin"]);
    }
}

#[tokio::test]
async fn a_demo_session_does_not_outlive_a_restart_without_demo() {
    for backend in [Backend::Sqlite, Backend::Postgres] {
        let Some(app) = TestApp::spawn_with(backend, |s| s.demo_sign_in = true).await else {
            continue;
        };
        let r = demo_sign_in(&app.address, "admin").await;
        let cookie = set_cookie(&r, "finops_session").unwrap();
        // The same database served again, without --demo.
        let settings = Settings {
            database_url: app.db.url().to_string(),
            bind: "127.0.0.1:0".to_string(),
            pool_size: 2,
            ..Settings::default()
        };
        let again = finops::web::Application::build(&settings).unwrap();
        let address = format!("http://127.0.0.1:{}", again.port());
        tokio::spawn(again.into_server());
        assert_eq!(status_with_cookie(&address, "/admin", &cookie).await, 303);
        let r = demo_sign_in(&address, "admin").await;
        assert_eq!(r.status().as_u16(), 404);
        let demo_users = app
            .with_conn(|conn| {
                finops::db::users::all(conn)
                    .unwrap()
                    .into_iter()
                    .filter(|u| u.username.starts_with("demo-"))
                    .count()
            })
            .await;
        assert_eq!(demo_users, 0, "{}", backend.name());
    }
}

#[tokio::test]
async fn simultaneous_guesses_get_no_more_than_the_limit() {
    for app in apps().await {
        app.add_user("cy", Role::Viewer, PASSWORD).await;
        // 40 forms first, then 40 wrong guesses at once. (A right password
        // in the flood would clear the counts when it lands, by design: a
        // success resets the user's budget.)
        let mut forms = Vec::new();
        for _ in 0..40 {
            forms.push(login_form(&app.address).await);
        }
        let posts = forms.into_iter().map(|form| {
            let base = app.address.clone();
            async move {
                crate::helpers::status(crate::helpers::login_request(
                    &base,
                    &form,
                    "cy",
                    "a-wrong-guess-1234",
                    "/",
                ))
                .await
            }
        });
        let statuses = futures_util::future::join_all(posts).await;
        let checked = statuses.iter().filter(|s| **s == 401).count();
        let limited = statuses.iter().filter(|s| **s == 429).count();
        assert!(
            checked as i64 <= finops::auth::throttle::PER_PAIR,
            "{}: {checked} passwords checked: {statuses:?}",
            app.backend.name()
        );
        assert_eq!(checked + limited, 40, "{statuses:?}");
        // On a loaded machine some guesses of the flood are refused for
        // contention before they are counted: top the pair up to its limit
        // one guess at a time, so the next check is about the limit.
        let mut checked = checked as i64;
        for _ in 0..20 {
            if checked >= finops::auth::throttle::PER_PAIR {
                break;
            }
            let form = login_form(&app.address).await;
            let s = crate::helpers::status(crate::helpers::login_request(
                &app.address,
                &form,
                "cy",
                "a-wrong-guess-1234",
                "/",
            ))
            .await;
            match s {
                401 => checked += 1,
                429 => tokio::time::sleep(std::time::Duration::from_millis(1100)).await,
                other => panic!("{}: a wrong guess answered {other}", app.backend.name()),
            }
        }
        assert_eq!(
            checked,
            finops::auth::throttle::PER_PAIR,
            "{}",
            app.backend.name()
        );
        // While the pair is limited, even the right password waits.
        let r = app.post_login("cy", PASSWORD).await;
        assert_eq!(r.status().as_u16(), 429, "{}", app.backend.name());
    }
}

async fn login_from(
    app: &TestApp,
    user: &str,
    password: &str,
    forwarded_for: &str,
) -> reqwest::Response {
    let form = login_form(&app.address).await;
    crate::helpers::login_request(&app.address, &form, user, password, "/")
        .header("x-forwarded-for", forwarded_for)
        .header("forwarded", format!("for={forwarded_for};proto=https"))
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn forwarding_headers_from_strangers_change_nothing() {
    for app in apps().await {
        // Rotating the header: the address limit still counts the peer.
        let limit = finops::auth::throttle::PER_ADDRESS;
        for i in 0..limit {
            let r = login_from(
                &app,
                &format!("nobody{i}"),
                "wrong-wrong",
                &format!("6.6.6.{i}"),
            )
            .await;
            assert_eq!(r.status().as_u16(), 401, "attempt {i}");
        }
        let r = login_from(&app, "nobody-else", "wrong-wrong", "7.7.7.7").await;
        assert_eq!(r.status().as_u16(), 429);
        // And the header's text never reaches the audit log.
        for e in app.audit_entries("sign-in").await {
            assert!(e.detail.contains("127.0.0.1"), "{}", e.detail);
            assert!(
                !e.detail.contains("6.6.6") && !e.detail.contains("7.7.7"),
                "{}",
                e.detail
            );
        }
        // Metrics are for programs on this machine: a forwarded request is
        // not one of them.
        let (status, _) = raw(
            &app.address,
            "GET",
            "/metrics",
            &[("X-Forwarded-For", "127.0.0.1".to_string())],
        )
        .await;
        assert_eq!(status, 401);
        for header in ["X-Real-IP", "Via"] {
            let (status, _) = raw(
                &app.address,
                "GET",
                "/metrics",
                &[(header, "1.1 proxy".to_string())],
            )
            .await;
            assert_eq!(status, 401, "{header}");
        }
        let (status, _) = raw(&app.address, "GET", "/metrics", &[]).await;
        assert_eq!(status, 200);
    }
}

#[tokio::test]
async fn behind_a_trusted_proxy_a_user_name_slows_down_but_is_not_locked_out() {
    for app in apps_with(|s| s.trusted_proxies = vec!["127.0.0.1".to_string()]).await {
        app.add_user("bo", Role::Viewer, PASSWORD).await;
        // bo's own desk, from before the attack. The proxy says it took the
        // request over TLS, so the session cookie is Secure.
        let r = login_from(&app, "bo", PASSWORD, "198.51.100.3").await;
        assert_eq!(r.status(), 303);
        let cookie = crate::helpers::set_cookie_header(&r, "finops_session").unwrap();
        assert!(cookie.contains("Secure"), "{cookie}");
        for _ in 0..finops::auth::throttle::PER_PAIR {
            let r = login_from(&app, "bo", "guess-guess-guess", "203.0.113.66").await;
            assert_eq!(r.status().as_u16(), 401);
        }
        // The guessing address is locked out for the window.
        let r = login_from(&app, "bo", PASSWORD, "203.0.113.66").await;
        assert_eq!(r.status().as_u16(), 429);
        // The audit log names the proxied client, as the proxy said.
        let log = app.audit_entries("sign-in").await;
        assert!(log.iter().any(|e| e.detail.contains("203.0.113.66")));
        // bo's desk is not slowed down at all.
        assert_eq!(
            login_from(&app, "bo", PASSWORD, "198.51.100.3")
                .await
                .status(),
            303
        );
        for _ in 0..finops::auth::throttle::PER_PAIR {
            login_from(&app, "bo", "guess-guess-guess", "203.0.113.67").await;
        }
        // A clean address waits a little, then the right password works.
        let mut waited = 0;
        let mut signed_in = false;
        for _ in 0..4 {
            let r = login_from(&app, "bo", PASSWORD, "192.0.2.10").await;
            match r.status().as_u16() {
                303 => {
                    signed_in = true;
                    break;
                }
                429 => {
                    let retry: u64 = r.headers()["retry-after"]
                        .to_str()
                        .unwrap()
                        .parse()
                        .unwrap();
                    assert!(
                        retry <= finops::auth::throttle::MAX_BACKOFF_SECONDS as u64,
                        "{retry}"
                    );
                    waited += retry;
                    app.clock.offset(std::time::Duration::from_secs(retry));
                }
                other => panic!("{other}"),
            }
        }
        assert!(signed_in, "the right password from a clean address gets in");
        assert!(waited <= 60, "waited {waited} s");
    }
}

/// A gzip file of `bytes` zeros.
fn gzip_of_zeros(bytes: usize) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    let chunk = vec![b'0'; 1 << 20];
    let mut left = bytes;
    while left > 0 {
        let n = left.min(chunk.len());
        enc.write_all(&chunk[..n]).unwrap();
        left -= n;
    }
    enc.finish().unwrap()
}

#[tokio::test]
async fn a_gzip_bomb_is_refused_on_upload_and_on_the_command_line() {
    for app in apps_with(|s| s.upload_limit_mb = 4).await {
        let bomb = gzip_of_zeros(256 << 20);
        assert!(bomb.len() < 4 << 20, "{} bytes", bomb.len());
        let (status, html) = app.upload("focus", "bomb.csv.gz", bomb.clone()).await;
        assert_eq!(status, 413);
        assert!(
            html.contains("bomb.csv.gz: refused: it expands more than 200 times"),
            "{html}"
        );
        let rows = app
            .with_conn(|conn| finops::db::costs::count_rows(conn).unwrap())
            .await;
        assert_eq!(rows, 0);
        // The service goes on serving.
        assert_eq!(app.get_text("/healthz").await.0, 200);

        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bomb.csv.gz");
        std::fs::write(&path, &bomb).unwrap();
        let out = finops_cli(
            app.db.url(),
            &["ingest", "focus", path.to_str().unwrap()],
            "",
        );
        assert_eq!(out.status.code(), Some(2));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains("bomb.csv.gz: refused: it expands"),
            "{stderr}"
        );
        // A size cap, set lower, holds too.
        let plain = gzip_of_zeros(3 << 20);
        let small = dir.path().join("small.csv.gz");
        std::fs::write(&small, plain).unwrap();
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_finops"))
            .args(["--database", app.db.url(), "ingest", "focus"])
            .arg(&small)
            .env("FINOPS_MAX_DECOMPRESSED_MB", "2")
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2));
        assert!(String::from_utf8_lossy(&out.stderr).contains("expands to more than 2.0 MiB"));
    }
}

#[tokio::test]
async fn a_flood_of_refused_sign_ins_is_one_audit_entry_with_a_count() {
    for app in apps().await {
        // Repeats share an entry within fixed windows of GROUP_MINUTES:
        // a run that straddled a window's edge would see two entries.
        let window = finops::audit::GROUP_MINUTES * 60;
        let into = chrono::Utc::now().timestamp().rem_euclid(window);
        if window - into < 30 {
            tokio::time::sleep(std::time::Duration::from_secs((window - into + 1) as u64)).await;
        }
        app.add_user("dee", Role::Viewer, PASSWORD).await;
        for _ in 0..finops::auth::throttle::PER_PAIR {
            app.post_login("dee", "not-the-password").await;
        }
        for _ in 0..60 {
            assert_eq!(
                app.post_login("dee", "not-the-password").await.status(),
                429
            );
        }
        let by = |log: &[finops::db::audit::AuditEntry], outcome: &str, actor: &str| {
            log.iter()
                .filter(|e| e.outcome == outcome && e.actor == actor)
                .map(|e| e.repeats)
                .collect::<Vec<_>>()
        };
        let log = app.audit_entries("sign-in").await;
        assert_eq!(by(&log, "failed", "dee"), vec![5], "{log:?}");
        assert_eq!(by(&log, "refused", "dee"), vec![60], "{log:?}");
        let refused = log.iter().find(|e| e.outcome == "refused").unwrap();
        assert!(refused.last_at.is_some());
        assert_eq!(refused.detail, "rate limited (last from 127.0.0.1)");
        // A new name each time, or names no user has, are no way round it:
        // one entry for every name that is no user.
        for i in 0..40 {
            let r = app
                .post_login(&format!("flood{i}"), "not-the-password")
                .await;
            assert!(r.status() == 401 || r.status() == 429);
        }
        app.post_login("<script>alert(1)</script>", "x").await;
        let log = app.audit_entries("sign-in").await;
        assert_eq!(log.len(), 4, "{log:?}");
        let nobody = finops::web::signin::NO_SUCH_USER;
        let failed = by(&log, "failed", nobody);
        let refused = by(&log, "refused", nobody);
        assert_eq!(failed.len() + refused.len(), 2, "{log:?}");
        assert_eq!(failed[0] + refused[0], 41);
        assert!(log
            .iter()
            .all(|e| !e.actor.contains("<script>") && !e.actor.contains("flood")));
        // A viewer hammering the admin page is one entry too.
        let viewer = app.client_as(Role::Viewer).await;
        for _ in 0..50 {
            let r = viewer
                .get(format!("{}/admin", app.address))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 403);
        }
        let denied = app.audit_entries("access.denied").await;
        assert_eq!(denied.len(), 1, "{denied:?}");
        assert_eq!(denied[0].repeats, 50);
        assert_eq!(denied[0].target, "GET /admin");
    }
}

#[tokio::test]
async fn an_api_token_is_not_a_session_cookie() {
    for app in apps().await {
        let token = crate::helpers::make_token(&app.pool, "cookie-try", Role::Admin).await;
        let bearer = client_with_token(&token);
        assert_eq!(
            bearer
                .get(format!("{}/admin", app.address))
                .send()
                .await
                .unwrap()
                .status(),
            200
        );
        // The same token as a session cookie, with the identity cached.
        let cookie = format!("finops_session={token}");
        assert_eq!(
            status_with_cookie(&app.address, "/admin", &cookie).await,
            303
        );
        let r = client_with_token("")
            .post(format!("{}/rules", app.address))
            .header("cookie", &cookie)
            .form(&[("rules", "")])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 401);
    }
}

#[tokio::test]
async fn the_csrf_token_goes_only_where_the_template_puts_it() {
    for app in apps().await {
        // A service named with the slot's marker and with the whole field.
        let marker = finops::web::guard::CSRF_SLOT;
        let field = format!("name=\"csrf\" value=\"{marker}\"");
        let focus = format!(
            "BilledCost,EffectiveCost,BillingAccountId,BillingCurrency,BillingPeriodStart,ChargeCategory,ChargePeriodStart,ChargePeriodEnd,ProviderName,RegionId,ServiceName,SubAccountId,ResourceId,Tags\n\
             1.00,1.00,100,USD,2026-10-01,Usage,2026-10-02T00:00:00Z,2026-10-02T01:00:00Z,AWS,eu-west-1,{marker},200,i-1,\"{{\"\"platform\"\": \"\"PC\"\"}}\"\n\
             2.00,2.00,100,USD,2026-10-01,Usage,2026-10-02T00:00:00Z,2026-10-02T01:00:00Z,AWS,eu-west-1,\"{}\",200,i-2,\"{{\"\"platform\"\": \"\"PC\"\"}}\"\n",
            field.replace('"', "\"\"")
        );
        let (status, html) = app.upload("focus", "marker.csv", focus.into_bytes()).await;
        assert_eq!(status, 200, "{html}");
        app.add_user("eve", Role::Analyst, PASSWORD).await;
        let session = app.sign_in("eve", PASSWORD).await;
        let page = client_with_token("")
            .get(format!("{}/month?month=2026-10&platform=PC", app.address))
            .header("cookie", &session.cookie)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let token_count = page.matches(session.csrf.as_str()).count();
        let fields = page
            .matches(&format!("name=\"csrf\" value=\"{}\"", session.csrf))
            .count();
        assert!(fields >= 1, "the sign-out form carries the token");
        assert_eq!(
            token_count, fields,
            "the token appears outside a form field"
        );
        assert!(page.contains(marker), "the imported text is shown as it is");
        assert_eq!(
            input_value(&page, "csrf").as_deref(),
            Some(session.csrf.as_str())
        );
    }
}

#[tokio::test]
async fn nothing_leaks_paths_database_urls_or_cacheable_pages() {
    for app in apps().await {
        // Broken files of each kind, uploaded (each stored under a
        // temporary path while it is read).
        let good = {
            let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
            enc.write_all(b"day,platform,region,peak_concurrent_players,player_hours\n")
                .unwrap();
            enc.finish().unwrap()
        };
        let truncated = good[..good.len() - 6].to_vec();
        for kind in ["focus", "cur", "utilisation", "activity"] {
            let (status, html) = app.upload(kind, "broken.csv.gz", truncated.clone()).await;
            assert_eq!(status, 422, "{kind}");
            assert!(
                html.contains("broken.csv.gz: the gzip data"),
                "{kind}: {html}"
            );
            assert!(!html.contains("finops-upload-"), "{kind}: {html}");
        }
        let viewer = app.client_as(Role::Viewer).await;
        let html = viewer
            .get(format!("{}/sources", app.address))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(html.contains("broken.csv.gz"));
        assert!(
            !html.contains("finops-upload-") && !html.contains("/tmp/"),
            "{html}"
        );
        let runs = app
            .with_conn(|conn| finops::db::ingest_runs::latest(conn, 10).unwrap())
            .await;
        assert_eq!(runs.len(), 4);
        assert!(
            runs.iter().all(|r| !r.message.contains("finops-")),
            "{runs:?}"
        );
        // The database URL is for admins' eyes only, never with a password.
        let shown = app.db.url().split('?').next().unwrap().to_string();
        let viewer_page = viewer
            .get(format!("{}/month", app.address))
            .send()
            .await
            .unwrap();
        assert_eq!(viewer_page.headers()["cache-control"], "no-store");
        let viewer_page = viewer_page.text().await.unwrap();
        assert!(!viewer_page.contains(&shown), "a viewer sees {shown}");
        let admin_page = app.get_text("/month").await.1;
        assert!(admin_page.contains("sqlite://") || admin_page.contains("postgres://"));
        assert!(!admin_page.contains("password="));
        // Signed-in JSON is not cached either.
        let r = viewer
            .get(format!("{}/api/v1/overview", app.address))
            .send()
            .await
            .unwrap();
        assert_eq!(r.headers()["cache-control"], "no-store");
        // Static files are.
        let r = viewer
            .get(format!("{}/static/finops.css", app.address))
            .send()
            .await
            .unwrap();
        assert_ne!(r.headers()["cache-control"], "no-store");
    }
}

#[tokio::test]
async fn metrics_access_is_configurable() {
    for signed_in in apps_with(|s| s.metrics_access = MetricsAccess::SignedIn).await {
        assert_eq!(raw(&signed_in.address, "GET", "/metrics", &[]).await.0, 401);
        assert_eq!(signed_in.get_text("/metrics").await.0, 200);
    }
    for public in apps_with(|s| s.metrics_access = MetricsAccess::Public).await {
        let forwarded = [("X-Forwarded-For", "203.0.113.1".to_string())];
        assert_eq!(
            raw(&public.address, "GET", "/metrics", &forwarded).await.0,
            200
        );
    }
}

//! Sign-in and roles, end to end on both backends: anonymous requests are
//! refused everywhere but the public endpoints; each role can do exactly
//! its part; sessions, CSRF, the login rate limit, API tokens and the
//! audit log work as a demanding finance team expects.

use finops::auth::{secret, Role};
use reqwest::multipart::{Form, Part};

use crate::helpers::{
    apps, client_with_token, finops_cli, login_form, set_cookie, set_cookie_header, Backend,
    TestApp,
};

const PASSWORD: &str = "correct horse battery staple";

const FOCUS: &str = "BilledCost,EffectiveCost,BillingAccountId,BillingCurrency,BillingPeriodStart,ChargeCategory,ChargePeriodStart,ChargePeriodEnd,ProviderName,RegionId,ServiceName,SubAccountId,ResourceId,Tags\n\
10.50,10.50,100,USD,2026-03-01,Usage,2026-03-02T00:00:00Z,2026-03-02T01:00:00Z,AWS,eu-west-1,Amazon EC2,200,i-1,\"{\"\"platform\"\": \"\"PC\"\"}\"\n";

/// Every route a signed-in user can reach (GET), with a query that works.
const PAGES: [&str; 17] = [
    "/",
    "/budgets",
    "/anomalies",
    "/month?month=2026-10",
    "/costs",
    "/forecast",
    "/capacity",
    "/scenarios",
    "/recommendations",
    "/recommendations/detail?id=1",
    "/calendar",
    "/calendar.toml",
    "/sources",
    "/rules",
    "/admin",
    "/export/monthly.csv?month=2026-10",
    "/recommendations.csv",
];
const APIS: [&str; 5] = [
    "/api/v1/costs",
    "/api/v1/overview",
    "/api/v1/month",
    "/api/v1/forecast",
    "/api/v1/recommendations",
];
const WRITES: [&str; 5] = [
    "/sources/upload",
    "/calendar",
    "/calendar/delete",
    "/rules",
    "/logout",
];

#[tokio::test]
async fn anonymous_requests_are_refused_everywhere_but_the_public_endpoints() {
    for app in apps().await {
        let anon = client_with_token("");
        let url = |p: &str| format!("{}{p}", app.address);
        for page in PAGES {
            let r = anon.get(url(page)).send().await.unwrap();
            assert_eq!(r.status().as_u16(), 303, "{page}");
            let location = r.headers()["location"].to_str().unwrap().to_string();
            assert!(location.starts_with("/login?next="), "{page}: {location}");
            // The login form returns to the page asked for.
            let next: String = form_urlencoded::parse(&location.as_bytes()["/login?".len()..])
                .find(|(k, _)| k == "next")
                .map(|(_, v)| v.into_owned())
                .unwrap();
            assert_eq!(next, page);
        }
        for api in APIS {
            let r = anon.get(url(api)).send().await.unwrap();
            assert_eq!(r.status().as_u16(), 401, "{api}");
            assert!(r.headers()["www-authenticate"]
                .to_str()
                .unwrap()
                .starts_with("Bearer"));
            let body: serde_json::Value = r.json().await.unwrap();
            assert_eq!(body["error"]["code"], "unauthorized", "{api}");
        }
        for write in WRITES {
            let r = anon
                .post(url(write))
                .header("content-type", "application/x-www-form-urlencoded")
                .body("id=1")
                .send()
                .await
                .unwrap();
            assert_eq!(r.status().as_u16(), 401, "POST {write}");
        }
        // A forged or revoked token is no better than none.
        let forged = client_with_token(&format!("finops_{}", "0".repeat(64)));
        assert_eq!(forged.get(url("/")).send().await.unwrap().status(), 401);
        assert_eq!(
            forged
                .get(url("/api/v1/costs"))
                .send()
                .await
                .unwrap()
                .status(),
            401
        );
        let junk = client_with_token("not-a-token");
        assert_eq!(junk.get(url("/month")).send().await.unwrap().status(), 401);
        // A made-up session cookie sends the browser to the login form.
        let r = anon
            .get(url("/"))
            .header("cookie", format!("finops_session={}", "a".repeat(64)))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 303);

        // Public: the login form, static files, health and metrics.
        for public in [
            "/login",
            "/static/finops.css",
            "/static/favicon.svg",
            "/healthz",
            "/readyz",
            "/metrics",
        ] {
            let r = anon.get(url(public)).send().await.unwrap();
            assert_eq!(r.status().as_u16(), 200, "{public}");
        }
        // Unknown pages do not reveal whether they exist.
        let r = anon.get(url("/no-such-page")).send().await.unwrap();
        assert_eq!(r.status().as_u16(), 303);
    }
}

#[tokio::test]
async fn metrics_can_require_sign_in() {
    let app = TestApp::spawn_with(Backend::Sqlite, |s| {
        s.metrics_access = finops::auth::policy::MetricsAccess::SignedIn
    })
    .await
    .unwrap();
    let anon = client_with_token("");
    let r = anon
        .get(format!("{}/metrics", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 401);
    let viewer = app.client_as(Role::Viewer).await;
    let r = viewer
        .get(format!("{}/metrics", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert!(r
        .text()
        .await
        .unwrap()
        .contains("finops_http_request_duration_seconds"));
}

async fn upload_as(client: &reqwest::Client, app: &TestApp, name: &str) -> u16 {
    let form = Form::new().text("kind", "focus").part(
        "file",
        Part::bytes(FOCUS.as_bytes().to_vec()).file_name(name.to_string()),
    );
    client
        .post(format!("{}/sources/upload", app.address))
        .multipart(form)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

async fn post_form(client: &reqwest::Client, app: &TestApp, path: &str, body: &str) -> u16 {
    client
        .post(format!("{}{path}", app.address))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body.to_string())
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

async fn status_of(client: &reqwest::Client, app: &TestApp, path: &str) -> u16 {
    crate::helpers::status(client.get(format!("{}{path}", app.address))).await
}

#[tokio::test]
async fn each_role_can_do_exactly_its_part() {
    for app in apps().await {
        app.load_demo(7, 2).await;
        let viewer = app.client_as(Role::Viewer).await;
        let analyst = app.client_as(Role::Analyst).await;
        let admin = app.client_as(Role::Admin).await;
        let clients = [
            (Role::Viewer, &viewer),
            (Role::Analyst, &analyst),
            (Role::Admin, &admin),
        ];
        for (role, client) in clients {
            let who = role.as_str();
            // Everyone reads every page and the API.
            for path in [
                "/",
                "/month?month=2026-10",
                "/costs",
                "/forecast",
                "/capacity",
                "/scenarios",
                "/recommendations",
                "/calendar",
                "/calendar.toml",
                "/sources",
                "/rules",
                "/api/v1/costs",
                "/api/v1/overview",
                "/api/v1/recommendations",
            ] {
                assert_eq!(status_of(client, &app, path).await, 200, "{who} GET {path}");
            }
            // Exports: analysts and admins.
            let export_ok = role >= Role::Analyst;
            for path in [
                "/export/monthly.csv?month=2026-10",
                "/recommendations.csv",
                "/api/v1/costs?format=csv",
            ] {
                let status = status_of(client, &app, path).await;
                assert_eq!(
                    status,
                    if export_ok { 200 } else { 403 },
                    "{who} GET {path}"
                );
            }
            // Imports: analysts and admins.
            let status = upload_as(client, &app, &format!("{who}.csv")).await;
            assert_eq!(status, if export_ok { 200 } else { 403 }, "{who} upload");
            // Calendar edits: analysts and admins.
            let status = post_form(
                client,
                &app,
                "/calendar",
                &format!("name=Sale+by+{who}&kind=sale&start=2027-06-01&end=2027-06-07&expected_uplift=10&ramp_days=1"),
            )
            .await;
            assert_eq!(status, if export_ok { 303 } else { 403 }, "{who} calendar");
            // Allocation rules and the admin page: admins only.
            let status = post_form(
                client,
                &app,
                "/rules",
                "r0_kind=tag&r0_pattern=platform&r0_platform=&r0_driver=player_hours&r0_note=&r0_position=1",
            )
            .await;
            let admin_ok = role == Role::Admin;
            assert_eq!(status, if admin_ok { 303 } else { 403 }, "{who} rules");
            assert_eq!(
                status_of(client, &app, "/admin").await,
                if admin_ok { 200 } else { 403 },
                "{who} admin"
            );
        }
        // A viewer's pages offer no changes; an analyst's offer edits but
        // not the rules; an admin's offer everything.
        let page = |client: reqwest::Client, path: &'static str| {
            let url = format!("{}{path}", app.address);
            async move { client.get(url).send().await.unwrap().text().await.unwrap() }
        };
        let v_sources = page(viewer.clone(), "/sources").await;
        assert!(!v_sources.contains("action=\"/sources/upload\""));
        let v_month = page(viewer.clone(), "/month?month=2026-10").await;
        assert!(!v_month.contains("id=\"download-csv\""));
        let v_calendar = page(viewer.clone(), "/calendar").await;
        assert!(
            v_calendar.contains("id=\"read-only\"") && !v_calendar.contains("id=\"save-event\"")
        );
        let a_sources = page(analyst.clone(), "/sources").await;
        assert!(a_sources.contains("action=\"/sources/upload\""));
        let a_rules = page(analyst.clone(), "/rules").await;
        assert!(!a_rules.contains("id=\"save-rules\"") && !a_rules.contains("id=\"nav-admin\""));
        let d_rules = page(admin.clone(), "/rules").await;
        assert!(d_rules.contains("id=\"save-rules\"") && d_rules.contains("id=\"nav-admin\""));

        // Refusals are audited with who tried what.
        let denied = app.audit_entries("access.denied").await;
        // Viewer: 3 exports, upload, calendar, rules, admin; analyst: rules, admin.
        assert_eq!(denied.len(), 9, "{denied:?}");
        assert!(denied
            .iter()
            .any(|e| e.target == "POST /rules" && e.detail == "role analyst needs admin"));
        assert!(denied.iter().all(|e| e.outcome == "refused"));
    }
}

#[tokio::test]
async fn a_session_signs_in_carries_csrf_on_every_form_and_signs_out() {
    for app in apps().await {
        app.add_user("ana", Role::Analyst, PASSWORD).await;
        // Wrong password: 401 and the form again, no cookie.
        let r = app.post_login("ana", "wrong password!").await;
        assert_eq!(r.status().as_u16(), 401);
        assert!(set_cookie(&r, "finops_session").is_none());
        assert!(r
            .text()
            .await
            .unwrap()
            .contains("The user name or password is wrong."));
        // Unknown user: the same answer.
        let r = app.post_login("nobody", PASSWORD).await;
        assert_eq!(r.status().as_u16(), 401);

        let r = app.post_login("ana", PASSWORD).await;
        assert_eq!(r.status().as_u16(), 303);
        assert_eq!(r.headers()["location"], "/");
        let raw = set_cookie_header(&r, "finops_session").unwrap();
        assert!(raw.contains("HttpOnly"), "{raw}");
        assert!(raw.contains("SameSite=Lax"), "{raw}");
        assert!(raw.contains("Path=/"), "{raw}");
        assert!(!raw.contains("Secure"), "plain HTTP on loopback: {raw}");
        let value = raw["finops_session=".len()..].split(';').next().unwrap();
        // Only the digest is stored.
        let stored = app
            .with_conn(|conn| {
                use diesel::prelude::*;
                use finops::db::schema::sessions;
                sessions::table
                    .select(sessions::token_hash)
                    .load::<String>(conn)
                    .unwrap()
            })
            .await;
        assert_eq!(stored, vec![secret::digest(value)]);

        let session = app.sign_in("ana", PASSWORD).await;
        let browser = client_with_token("");
        let with_cookie = |path: &str| {
            browser
                .get(format!("{}{path}", app.address))
                .header("cookie", &session.cookie)
                .send()
        };
        let r = with_cookie("/calendar").await.unwrap();
        assert_eq!(r.status().as_u16(), 200);
        let html = r.text().await.unwrap();
        assert!(html.contains("id=\"signed-in-as\">ana · analyst"));
        // Every form on the page carries this session's token.
        let forms = html.matches("<form method=\"post\"").count()
            + html
                .matches("<form class=\"filters\" method=\"post\"")
                .count();
        let tokens = html
            .matches(&format!("name=\"csrf\" value=\"{}\"", session.csrf))
            .count();
        assert!(
            forms >= 2 && tokens == forms,
            "{forms} forms, {tokens} tokens"
        );

        let post = |path: &str, body: String| {
            browser
                .post(format!("{}{path}", app.address))
                .header("cookie", &session.cookie)
                .header("content-type", "application/x-www-form-urlencoded")
                .body(body)
                .send()
        };
        let event = "name=Spring+sale&kind=sale&start=2027-04-01&end=2027-04-07&expected_uplift=10&ramp_days=1";
        // No token, a wrong token: refused and nothing stored.
        let r = post("/calendar", event.to_string()).await.unwrap();
        assert_eq!(r.status().as_u16(), 403);
        let r = post("/calendar", format!("{event}&csrf={}", "f".repeat(64)))
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 403);
        let events = app
            .with_conn(|conn| finops::db::calendar::all_events(conn).unwrap().len())
            .await;
        assert_eq!(events, 0);
        let r = post("/calendar", format!("{event}&csrf={}", session.csrf))
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 303);
        // The multipart upload form needs it too, before the file.
        let upload = |csrf: Option<String>| {
            let mut form = Form::new();
            if let Some(c) = csrf {
                form = form.text("csrf", c);
            }
            let form = form.text("kind", "focus").part(
                "file",
                Part::bytes(FOCUS.as_bytes().to_vec()).file_name("s.csv"),
            );
            browser
                .post(format!("{}/sources/upload", app.address))
                .header("cookie", &session.cookie)
                .multipart(form)
                .send()
        };
        assert_eq!(upload(None).await.unwrap().status().as_u16(), 403);
        assert_eq!(
            upload(Some(session.csrf.clone()))
                .await
                .unwrap()
                .status()
                .as_u16(),
            200
        );
        // A cross-site form post is refused even with the cookie.
        let r = browser
            .post(format!("{}/calendar", app.address))
            .header("cookie", &session.cookie)
            .header("origin", "https://evil.example")
            .header("content-type", "application/x-www-form-urlencoded")
            .body(format!("{event}&csrf={}", session.csrf))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 403);

        // Sign-out needs the token, ends the session and clears the cookie.
        let r = post("/logout", String::new()).await.unwrap();
        assert_eq!(r.status().as_u16(), 403);
        let r = post("/logout", format!("csrf={}", session.csrf))
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 303);
        assert_eq!(r.headers()["location"], "/login?signed_out=1");
        let cleared = set_cookie_header(&r, "finops_session").unwrap();
        assert!(cleared.contains("Max-Age=0"), "{cleared}");
        let r = with_cookie("/calendar").await.unwrap();
        assert_eq!(r.status().as_u16(), 303, "the old cookie no longer works");

        // A forwarded "https" from a stranger (no trusted proxy is set)
        // changes nothing; behind a trusted TLS proxy the cookie is Secure
        // (`attacks::behind_a_trusted_proxy…`).
        let r = {
            let anon = client_with_token("");
            let (login_cookie, token) = login_form(&app.address).await;
            anon.post(format!("{}/login", app.address))
                .header("cookie", login_cookie)
                .header("x-forwarded-proto", "https")
                .form(&[
                    ("username", "ana"),
                    ("password", PASSWORD),
                    ("csrf", token.as_str()),
                    ("next", "https://evil.example/"),
                ])
                .send()
                .await
                .unwrap()
        };
        assert_eq!(r.status().as_u16(), 303);
        assert_eq!(r.headers()["location"], "/", "no open redirect");
        let raw = set_cookie_header(&r, "finops_session").unwrap();
        assert!(!raw.contains("Secure"), "{raw}");

        // The login form's own token: a post without it is refused.
        let r = client_with_token("")
            .post(format!("{}/login", app.address))
            .form(&[("username", "ana"), ("password", PASSWORD)])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 403);
        assert!(set_cookie(&r, "finops_session").is_none());
    }
}

#[tokio::test]
async fn failed_sign_ins_are_rate_limited() {
    let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
    app.add_user("bo", Role::Viewer, PASSWORD).await;
    for _ in 0..finops::auth::throttle::PER_PAIR {
        assert_eq!(
            app.post_login("bo", "guess-guess-guess").await.status(),
            401
        );
    }
    // Now even the right password waits.
    let r = app.post_login("bo", PASSWORD).await;
    assert_eq!(r.status().as_u16(), 429);
    let retry: u64 = r.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(retry > 0 && retry <= 15 * 60, "{retry}");
    assert!(set_cookie(&r, "finops_session").is_none());
    assert!(r.text().await.unwrap().contains("Too many failed sign-ins"));
    // One audit entry for the failures and one for the refusal, each with
    // its count.
    let log = app.audit_entries("sign-in").await;
    let failed: Vec<i64> = log
        .iter()
        .filter(|e| e.outcome == "failed")
        .map(|e| e.repeats)
        .collect();
    let refused = log.iter().filter(|e| e.outcome == "refused").count();
    assert_eq!(failed, vec![finops::auth::throttle::PER_PAIR]);
    assert_eq!(refused, 1);
    assert!(log.iter().all(|e| e.actor == "bo"));
}

#[tokio::test]
async fn api_tokens_are_stored_hashed_act_with_their_role_and_can_be_revoked() {
    for app in apps().await {
        // October's costs, so the export has a month to give.
        app.load_demo(42, 1).await;
        let out = finops_cli(
            app.db.url(),
            &["token", "add", "nightly-export", "--role", "analyst"],
            "",
        );
        crate::helpers::assert_ran(&out);
        let token = String::from_utf8(out.stdout).unwrap().trim().to_string();
        assert!(token.starts_with("finops_") && token.len() == 71, "{token}");
        let stored = app
            .with_conn(|conn| finops::db::api_tokens::all(conn).unwrap())
            .await;
        let row = stored.iter().find(|t| t.name == "nightly-export").unwrap();
        assert_eq!(row.token_hash, secret::digest(&token));
        assert_eq!(row.role, "analyst");
        assert!(row.created_by.starts_with("cli:"));
        assert!(row.last_used_at.is_none());

        let client = client_with_token(&token);
        let r = client
            .get(format!("{}/export/monthly.csv?month=2026-10", app.address))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 200);
        let r = client
            .get(format!("{}/admin", app.address))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 403);
        let used = app
            .with_conn(|conn| finops::db::api_tokens::all(conn).unwrap())
            .await;
        assert!(used
            .iter()
            .any(|t| t.name == "nightly-export" && t.last_used_at.is_some()));

        // A second token, revoked before its first use: refused at once.
        let out = finops_cli(
            app.db.url(),
            &["token", "add", "old", "--role", "viewer"],
            "",
        );
        let old = String::from_utf8(out.stdout).unwrap().trim().to_string();
        let out = finops_cli(app.db.url(), &["token", "revoke", "old"], "");
        assert!(out.status.success());
        let r = client_with_token(&old)
            .get(format!("{}/api/v1/costs", app.address))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 401);
        let out = finops_cli(app.db.url(), &["token", "list", "--json"], "");
        let listed: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let names: Vec<&str> = listed
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["name"].as_str().unwrap())
            .collect();
        assert!(names.contains(&"nightly-export") && !names.contains(&"old"));
        assert!(!String::from_utf8_lossy(&out.stdout).contains(&token[7..]));
    }
}

#[tokio::test]
async fn the_audit_log_says_who_did_what_and_admins_can_read_it() {
    for app in apps().await {
        app.load_demo(3, 2).await;
        let analyst = app.client_as(Role::Analyst).await;
        assert_eq!(upload_as(&analyst, &app, "march.csv").await, 200);
        let bad = Form::new().text("kind", "focus").part(
            "file",
            Part::bytes(b"not,a,bill\n1,2,3\n".to_vec()).file_name("bad.csv"),
        );
        let r = analyst
            .post(format!("{}/sources/upload", app.address))
            .multipart(bad)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 422);
        assert_eq!(
            status_of(&analyst, &app, "/export/monthly.csv?month=2026-10").await,
            200
        );
        assert_eq!(
            post_form(
                &analyst,
                &app,
                "/calendar",
                "name=Launch&kind=launch&start=2027-02-01&end=2027-02-03&expected_uplift=50&ramp_days=0",
            )
            .await,
            303
        );
        let out = finops_cli(
            app.db.url(),
            &["user", "add", "cy", "--role", "viewer"],
            &format!("{PASSWORD}\n"),
        );
        assert!(out.status.success());

        let out = finops_cli(app.db.url(), &["audit", "--json", "--limit", "100"], "");
        assert!(out.status.success());
        let log: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
        let find = |action: &str, target: &str| {
            log.iter()
                .find(|e| e["action"] == action && e["target"].as_str().unwrap().contains(target))
                .unwrap_or_else(|| panic!("no {action} {target} in {log:?}"))
                .clone()
        };
        let import = find("import", "march.csv");
        assert!(import["actor"]
            .as_str()
            .unwrap()
            .starts_with("token:tests-analyst"));
        assert_eq!(import["outcome"], "ok");
        let failed = find("import", "bad.csv");
        assert_eq!(failed["outcome"], "failed");
        let export = find("export", "monthly CSV");
        assert!(export["detail"].as_str().unwrap().contains("month=2026-10"));
        let calendar = find("calendar.change", "calendar");
        assert!(calendar["detail"].as_str().unwrap().contains("Launch"));
        let user = find("user.add", "cy");
        assert!(user["actor"].as_str().unwrap().starts_with("cli:"));
        assert!(log.iter().any(|e| e["action"] == "demo.load"));
        // Newest first.
        let ids: Vec<i64> = log.iter().map(|e| e["id"].as_i64().unwrap()).collect();
        assert!(ids.windows(2).all(|w| w[0] > w[1]));

        // The admin page shows it, filtered.
        let (status, html) = app.get_text("/admin?action=import").await;
        assert_eq!(status, 200);
        assert!(html.contains("march.csv") && html.contains("bad.csv"));
        assert!(!html.contains("monthly CSV"));
        assert!(html.contains("id=\"users\"") && html.contains(">cy<"));
        assert!(html.contains("id=\"tokens\"") && html.contains("tests-analyst"));
        let (status, _) = app.get_text("/admin?before=-3").await;
        assert_eq!(status, 400);
    }
}

#[tokio::test]
async fn a_changed_password_or_removed_user_ends_their_sessions() {
    let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
    app.add_user("dee", Role::Admin, PASSWORD).await;
    let session = app.sign_in("dee", PASSWORD).await;
    let value = session.cookie["finops_session=".len()..].to_string();
    let live = |value: String| {
        app.with_conn(move |conn| {
            finops::auth::sessions::from_cookie(conn, &value, finops::clock::now())
                .unwrap()
                .map(|i| (i.name, i.role))
        })
    };
    assert_eq!(
        live(value.clone()).await,
        Some(("dee".to_string(), Role::Admin))
    );
    // A role change applies to the live session.
    let run = |args: &[&str], stdin: &str| {
        assert!(
            finops_cli(app.db.url(), args, stdin).status.success(),
            "{args:?}"
        );
    };
    run(&["user", "role", "dee", "viewer"], "");
    assert_eq!(
        live(value.clone()).await,
        Some(("dee".to_string(), Role::Viewer))
    );
    run(&["user", "passwd", "dee"], "another long passphrase\n");
    assert_eq!(live(value.clone()).await, None);
    let again = app.sign_in("dee", "another long passphrase").await;
    run(&["user", "remove", "dee"], "");
    assert_eq!(
        live(again.cookie["finops_session=".len()..].to_string()).await,
        None
    );
}

#[tokio::test]
async fn the_demo_sign_in_is_labelled_and_only_on_when_asked_for() {
    let off = TestApp::spawn(Backend::Sqlite).await.unwrap();
    let (_, html) = off.get_text("/login").await;
    assert!(!html.contains("id=\"demo-sign-in\""));
    let r = off
        .client
        .post(format!("{}/login/demo", off.address))
        .form(&[("role", "admin")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 404);

    let demo = TestApp::spawn_with(Backend::Sqlite, |s| s.demo_sign_in = true)
        .await
        .unwrap();
    let anon = client_with_token("");
    let form = anon
        .get(format!("{}/login?next=/month", demo.address))
        .send()
        .await
        .unwrap();
    let login_cookie = set_cookie(&form, "finops_login").unwrap();
    let html = form.text().await.unwrap();
    assert!(html.contains("id=\"demo-sign-in\"") && html.contains("--demo"));
    let token = crate::helpers::input_value(&html, "csrf").unwrap();
    let r = anon
        .post(format!("{}/login/demo", demo.address))
        .header("cookie", login_cookie)
        .form(&[
            ("role", "viewer"),
            ("csrf", token.as_str()),
            ("next", "/month"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 303);
    assert_eq!(r.headers()["location"], "/month");
    let cookie = set_cookie(&r, "finops_session").unwrap();
    let page = anon
        .get(format!("{}/", demo.address))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("demo-viewer · viewer"));
    // The demo users have no password anyone could use.
    let r = demo.post_login("demo-viewer", "").await;
    assert_ne!(r.status().as_u16(), 303);
    let real = demo
        .with_conn(|conn| finops::auth::sessions::has_real_users(conn).unwrap())
        .await;
    assert!(!real);
}

#[tokio::test]
async fn security_headers_on_the_public_pages_too() {
    let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
    let r = client_with_token("")
        .get(format!("{}/login", app.address))
        .send()
        .await
        .unwrap();
    let csp = r.headers()["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("frame-ancestors 'none'") && !csp.contains("unsafe-inline"));
    assert_eq!(r.headers()["x-content-type-options"], "nosniff");
    assert_eq!(r.headers()["cache-control"], "no-store");
}

#[tokio::test(flavor = "multi_thread")]
async fn passwords_tokens_and_session_ids_never_reach_the_log() {
    use std::process::{Command, Stdio};
    let (dir, url) = crate::helpers::scratch_sqlite("logs.db");
    let finops = |args: &[&str], stdin: &str| {
        let out = finops_cli(&url, args, stdin);
        assert!(out.status.success(), "{args:?}");
        String::from_utf8(out.stdout).unwrap().trim().to_string()
    };
    finops(
        &["user", "add", "ana", "--role", "analyst"],
        &format!("{PASSWORD}\n"),
    );
    let token = finops(&["token", "add", "scraper", "--role", "viewer"], "");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let log_path = dir.path().join("serve.log");
    let log_file = std::fs::File::create(&log_path).unwrap();
    let mut server = Command::new(env!("CARGO_BIN_EXE_finops"))
        .args([
            "--database",
            &url,
            "serve",
            "--bind",
            &format!("127.0.0.1:{port}"),
        ])
        .env("FINOPS_LOG", "debug")
        .stdout(Stdio::null())
        .stderr(log_file)
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let anon = client_with_token("");
    let mut up = false;
    for _ in 0..100 {
        if anon.get(format!("{base}/healthz")).send().await.is_ok() {
            up = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(up, "the server starts");
    let form = login_form(&base).await;
    let r = crate::helpers::login_request(&base, &form, "ana", PASSWORD, "/")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 303);
    let cookie = set_cookie(&r, "finops_session").unwrap();
    let html = anon
        .get(format!("{base}/calendar"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = crate::helpers::input_value(&html, "csrf").unwrap();
    let r = client_with_token(&token)
        .get(format!("{base}/api/v1/costs"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let r = anon
        .post(format!("{base}/logout"))
        .header("cookie", &cookie)
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 303);
    assert!(Command::new("kill")
        .args(["-TERM", &server.id().to_string()])
        .status()
        .unwrap()
        .success());
    server.wait().unwrap();
    let log = std::fs::read_to_string(&log_path).unwrap();
    assert!(log.contains("answered") && log.contains("ana"), "{log}");
    let session_id = &cookie["finops_session=".len()..];
    for (what, secret_text) in [
        ("password", PASSWORD),
        ("API token", &token[7..]),
        ("session id", session_id),
        ("CSRF token", &csrf),
        ("login token", &form.1),
    ] {
        assert!(
            !log.contains(secret_text),
            "the {what} is in the log:\n{log}"
        );
    }
}

#[tokio::test]
async fn people_change_their_own_password_and_their_other_sessions_end() {
    for app in apps().await {
        app.add_user("eve", Role::Viewer, PASSWORD).await;
        let here = app.sign_in("eve", PASSWORD).await;
        let elsewhere = app.sign_in("eve", PASSWORD).await;
        let browser = client_with_token("");
        let page = browser
            .get(format!("{}/account", app.address))
            .header("cookie", &here.cookie)
            .send()
            .await
            .unwrap();
        assert_eq!(page.status().as_u16(), 200);
        let html = page.text().await.unwrap();
        assert!(
            html.contains("id=\"account-role\">viewer") && html.contains("id=\"change-password\"")
        );
        let change = |body: String| {
            browser
                .post(format!("{}/account/password", app.address))
                .header("cookie", &here.cookie)
                .header("content-type", "application/x-www-form-urlencoded")
                .body(body)
                .send()
        };
        let new = "a much longer passphrase";
        let form = |current: &str, new: &str, repeat: &str, csrf: &str| {
            form_urlencoded::Serializer::new(String::new())
                .append_pair("current", current)
                .append_pair("new", new)
                .append_pair("repeat", repeat)
                .append_pair("csrf", csrf)
                .finish()
        };
        // Without the CSRF token, with a wrong current password, a
        // mismatch or a short one: refused, nothing changes.
        assert_eq!(
            change(form(PASSWORD, new, new, "")).await.unwrap().status(),
            403
        );
        let r = change(form("not my password", new, new, &here.csrf))
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 422);
        assert!(r
            .text()
            .await
            .unwrap()
            .contains("current password is not right"));
        let r = change(form(PASSWORD, new, "something else entirely", &here.csrf))
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 422);
        let r = change(form(PASSWORD, "short", "short", &here.csrf))
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 422);
        assert!(r.text().await.unwrap().contains("at least 12 characters"));
        assert_eq!(app.post_login("eve", PASSWORD).await.status(), 303);

        let r = change(form(PASSWORD, new, new, &here.csrf)).await.unwrap();
        assert_eq!(r.status().as_u16(), 303);
        // Two other sessions: `elsewhere` and the check just above.
        assert_eq!(r.headers()["location"], "/account?changed=2");
        let still = |cookie: String| {
            let url = format!("{}/account", app.address);
            async move {
                client_with_token("")
                    .get(url)
                    .header("cookie", cookie)
                    .send()
                    .await
                    .unwrap()
                    .status()
                    .as_u16()
            }
        };
        assert_eq!(still(here.cookie.clone()).await, 200, "this session stays");
        assert_eq!(still(elsewhere.cookie.clone()).await, 303, "the others end");
        assert_eq!(app.post_login("eve", PASSWORD).await.status(), 401);
        assert_eq!(app.post_login("eve", new).await.status(), 303);
        let log = app.audit_entries("user.passwd").await;
        assert_eq!(
            log.iter().map(|e| e.outcome.as_str()).collect::<Vec<_>>(),
            ["ok", "failed", "failed", "failed"]
        );
        assert!(log.iter().all(|e| e.actor == "eve" && e.target == "eve"));
        // An API token has no password to change.
        let r = app
            .client
            .post(format!("{}/account/password", app.address))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form(PASSWORD, new, new, ""))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 400);
    }
}

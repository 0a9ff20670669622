//! `TestApp`: the real server on a random port, against a fresh SQLite file
//! or a fresh PostgreSQL database, with a helper per endpoint.

use std::sync::atomic::{AtomicU32, Ordering};

use chrono::NaiveDate;
use diesel::connection::SimpleConnection;
use diesel::{Connection, PgConnection};
use finops::auth::Role;
use finops::config::Settings;
use finops::db::{self, DbPool};
use finops::demo::{self, DemoOptions};
use finops::web::Application;

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

/// Where PostgreSQL tests create their databases. On loopback without
/// TLS: libpq's OpenSSL clean-up at process exit races with pooled
/// connections still open in other threads (a crash after every test had
/// passed).
pub fn postgres_admin_url() -> String {
    std::env::var("FINOPS_TEST_POSTGRES_URL").unwrap_or_else(|_| {
        "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable".to_string()
    })
}

/// What a test may need from the machine. On a user's fresh clone a test
/// without it is skipped with the reason; where the matching
/// `FINOPS_REQUIRE_*` variable is 1 (CI), it fails instead.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Need {
    /// A PostgreSQL server (and, for the fault tests, root to run a
    /// private one).
    Postgres,
    /// Chromium and ChromeDriver.
    Browser,
    /// `../shared/data` (or `FINOPS_SHARED_DATA`).
    SharedData,
    /// moto's server mode.
    Moto,
    /// aiosmtpd, a local mail server.
    Smtp,
    /// Python with the `duckdb` package (the Athena query on a real
    /// engine).
    DuckDb,
}

impl Need {
    pub fn variable(self) -> &'static str {
        match self {
            Need::Postgres => "FINOPS_REQUIRE_POSTGRES",
            Need::Browser => "FINOPS_REQUIRE_BROWSER",
            Need::SharedData => "FINOPS_REQUIRE_SHARED_DATA",
            Need::Moto => "FINOPS_REQUIRE_MOTO",
            Need::Smtp => "FINOPS_REQUIRE_SMTP",
            Need::DuckDb => "FINOPS_REQUIRE_DUCKDB",
        }
    }

    pub fn required(self) -> bool {
        std::env::var(self.variable()).is_ok_and(|v| v == "1")
    }
}

/// The one way a test skips: prints why, or fails when `need` is required.
/// Returns `false` so callers can `return` on it.
pub fn require_or_skip(need: Need, why: &str) -> bool {
    if need.required() {
        panic!("{why} ({}=1 makes this required)", need.variable());
    }
    eprintln!(
        "skipping: {why} (set {}=1 to fail instead)",
        need.variable()
    );
    false
}

/// Whether PostgreSQL tests can run. In CI (`FINOPS_REQUIRE_POSTGRES=1`) an
/// unreachable server fails the test instead of skipping it.
pub fn postgres_available() -> bool {
    match PgConnection::establish(&postgres_admin_url()) {
        Ok(_) => true,
        Err(e) => require_or_skip(
            Need::Postgres,
            &format!("PostgreSQL is unreachable: {e} (FINOPS_TEST_POSTGRES_URL sets where)"),
        ),
    }
}

/// A file of the shared test data (`../shared/data/`, or the directory
/// `FINOPS_SHARED_DATA` names), or `None` after `require_or_skip`.
pub fn shared_data(name: &str) -> Option<std::path::PathBuf> {
    let dir = std::env::var("FINOPS_SHARED_DATA")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|_| {
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data")
        });
    let path = dir.join(name);
    if path.exists() {
        return Some(path);
    }
    require_or_skip(
        Need::SharedData,
        &format!("{} is not here (shared test data)", path.display()),
    );
    None
}

/// A database that disappears with the test.
pub enum TestDb {
    Sqlite {
        _dir: tempfile::TempDir,
        url: String,
    },
    Postgres {
        name: String,
        url: String,
    },
    /// A database the test manages itself (a private server).
    External {
        url: String,
    },
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

impl TestDb {
    pub fn create(backend: Backend) -> TestDb {
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("temporary directory");
                let url = format!("sqlite://{}", dir.path().join("finops.db").display());
                TestDb::Sqlite { _dir: dir, url }
            }
            Backend::Postgres => {
                let name = format!(
                    "finops_test_{}_{}_{}",
                    std::process::id(),
                    COUNTER.fetch_add(1, Ordering::SeqCst),
                    chrono::Utc::now().timestamp_subsec_micros()
                );
                let mut admin = PgConnection::establish(&postgres_admin_url())
                    .expect("PostgreSQL admin connection");
                admin
                    .batch_execute(&format!("CREATE DATABASE {name}"))
                    .expect("create test database");
                let base = postgres_admin_url();
                let (base, query) = match base.split_once('?') {
                    Some((b, q)) => (b.to_string(), format!("?{q}")),
                    None => (base, String::new()),
                };
                let url = match base.rsplit_once('/') {
                    Some((prefix, _)) => format!("{prefix}/{name}{query}"),
                    None => panic!("FINOPS_TEST_POSTGRES_URL must end in /DATABASE"),
                };
                TestDb::Postgres { name, url }
            }
        }
    }

    pub fn url(&self) -> &str {
        match self {
            TestDb::Sqlite { url, .. }
            | TestDb::Postgres { url, .. }
            | TestDb::External { url } => url,
        }
    }

    /// Drops a PostgreSQL database now (its connections are terminated).
    pub fn drop_postgres_database(&self) {
        if let TestDb::Postgres { name, .. } = self {
            let mut admin = PgConnection::establish(&postgres_admin_url())
                .expect("PostgreSQL admin connection");
            admin
                .batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .expect("drop test database");
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let TestDb::Postgres { name, .. } = self {
            if let Ok(mut admin) = PgConnection::establish(&postgres_admin_url()) {
                let _ =
                    admin.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
            }
        }
    }
}

pub struct TestApp {
    pub address: String,
    pub pool: DbPool,
    pub cache: std::sync::Arc<finops::web::cache::ResponseCache>,
    pub db: TestDb,
    pub backend: Backend,
    /// The service's clock: move it forward instead of sleeping.
    pub clock: finops::clock::SharedClock,
    /// Sends an admin API token with every request.
    pub client: reqwest::Client,
}

/// The settings tests start the service with: any free port, quiet logs.
fn settings_for(url: &str) -> Settings {
    Settings {
        database_url: url.to_string(),
        bind: "127.0.0.1:0".to_string(),
        pool_size: 4,
        log: "warn".to_string(),
        // Detection in the background would move the data version under
        // tests that do not expect it; the alert tests turn it on.
        detect_anomalies: false,
        // Likewise background page warming: tests time and count their own
        // computations.
        warm_pages: false,
        ..Settings::default()
    }
}

/// A command's output, after checking it succeeded (its stderr is the
/// failure message otherwise).
pub fn assert_ran(out: &std::process::Output) {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A scratch directory and the URL of an SQLite database file in it.
pub fn scratch_sqlite(file: &str) -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().expect("scratch directory");
    let url = format!("sqlite://{}", dir.path().join(file).display());
    (dir, url)
}

/// The status a request is answered with.
pub async fn status(request: reqwest::RequestBuilder) -> u16 {
    request.send().await.expect("an answer").status().as_u16()
}

/// Every record of a CSV, as column → value.
pub fn csv_records(data: impl std::io::Read) -> Vec<std::collections::BTreeMap<String, String>> {
    let mut reader = csv::Reader::from_reader(data);
    let headers = reader.headers().expect("CSV header").clone();
    reader
        .records()
        .map(|r| {
            let r = r.expect("CSV record");
            headers
                .iter()
                .zip(r.iter())
                .map(|(h, v)| (h.to_string(), v.to_string()))
                .collect()
        })
        .collect()
}

/// The day demo data ends in tests: fixed, so tests do not depend on today.
pub fn demo_end() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 10, 31).unwrap()
}

impl TestApp {
    /// Starts the server on a fresh, migrated, empty database. `None` when
    /// the backend is PostgreSQL and it is not available (and not required).
    pub async fn spawn(backend: Backend) -> Option<TestApp> {
        TestApp::spawn_with(backend, |_| {}).await
    }

    /// Starts the server on the database at `url`, which the test manages.
    pub async fn spawn_on(url: &str) -> TestApp {
        let db = TestDb::External {
            url: url.to_string(),
        };
        TestApp::start(&settings_for(url), db, Backend::Postgres).await
    }

    /// As `spawn`, with settings changed by `adjust`.
    pub async fn spawn_with(
        backend: Backend,
        adjust: impl FnOnce(&mut Settings),
    ) -> Option<TestApp> {
        if backend == Backend::Postgres && !postgres_available() {
            return None;
        }
        let db = TestDb::create(backend);
        let mut settings = settings_for(db.url());
        adjust(&mut settings);
        Some(TestApp::start(&settings, db, backend).await)
    }

    /// Builds the service as `finops serve` does and serves it in the
    /// background, with an admin API token for `client`.
    async fn start(settings: &Settings, db: TestDb, backend: Backend) -> TestApp {
        let app = Application::build(settings).expect("application builds");
        let address = format!("http://127.0.0.1:{}", app.port());
        let pool = app.pool().clone();
        let cache = app.cache();
        let clock = app.clock();
        tokio::spawn(app.into_server());
        let token = make_token(&pool, "tests-admin", Role::Admin).await;
        TestApp {
            address,
            pool,
            cache,
            db,
            backend,
            clock,
            client: client_with_token(&token),
        }
    }

    /// Loads `months` months of demo data ending on `demo_end()`, as code
    /// in the server's process would (it empties the response cache).
    pub async fn load_demo(&self, seed: u64, months: u32) -> demo::DemoSummary {
        let pool = self.pool.clone();
        let cache = self.cache.clone();
        tokio::task::spawn_blocking(move || {
            let opts = DemoOptions {
                seed,
                months,
                end: demo_end(),
            };
            let data = demo::generate(&opts).expect("demo generates");
            let mut conn = pool.get().expect("connection");
            let summary = demo::load(&mut conn, &data, &opts, &mut |_, _| {}).expect("demo loads");
            cache.invalidate();
            summary
        })
        .await
        .expect("demo task")
    }

    pub async fn get(&self, path_and_query: &str) -> reqwest::Response {
        self.client
            .get(format!("{}{}", self.address, path_and_query))
            .send()
            .await
            .expect("request")
    }

    pub async fn get_text(&self, path_and_query: &str) -> (u16, String) {
        let r = self.get(path_and_query).await;
        let status = r.status().as_u16();
        (status, r.text().await.expect("body"))
    }

    pub async fn get_json(&self, path_and_query: &str) -> (u16, serde_json::Value) {
        let r = self.get(path_and_query).await;
        let status = r.status().as_u16();
        (status, r.json().await.expect("JSON body"))
    }

    pub async fn get_bytes(&self, path_and_query: &str) -> (u16, Vec<u8>) {
        let r = self.get(path_and_query).await;
        let status = r.status().as_u16();
        (status, r.bytes().await.expect("body").to_vec())
    }

    /// Runs a blocking closure with a database connection.
    pub async fn with_conn<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut db::DbConnection) -> T + Send + 'static,
    ) -> T {
        let pool = self.pool.clone();
        tokio::task::spawn_blocking(move || {
            let mut conn = pool.get().expect("connection");
            f(&mut conn)
        })
        .await
        .expect("blocking task")
    }
}

/// An HTTP client that follows no redirects and sends `token` as a bearer
/// token (none when empty).
pub fn client_with_token(token: &str) -> reqwest::Client {
    let mut headers = reqwest::header::HeaderMap::new();
    if !token.is_empty() {
        headers.insert(
            reqwest::header::AUTHORIZATION,
            reqwest::header::HeaderValue::from_str(&format!("Bearer {token}")).unwrap(),
        );
    }
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .default_headers(headers)
        .build()
        .expect("HTTP client")
}

/// Makes an API token with `role` directly in the database.
pub async fn make_token(pool: &DbPool, name: &str, role: Role) -> String {
    let pool = pool.clone();
    let name = name.to_string();
    tokio::task::spawn_blocking(move || {
        let mut conn = pool.get().expect("connection");
        finops::auth::sessions::add_api_token(&mut conn, &name, role, "tests")
            .expect("token stored")
            .expect("token name free")
    })
    .await
    .expect("token task")
}

/// A browser session: its cookie header value and CSRF token.
pub struct Session {
    pub cookie: String,
    pub csrf: String,
}

/// The `value` of the first `<input … name="NAME" value="…">` in a page.
pub fn input_value(html: &str, name: &str) -> Option<String> {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html.find(&marker)? + marker.len();
    let end = start + html[start..].find('"')?;
    Some(html[start..end].to_string())
}

/// Opens the login form at `base`: its own cookie (`name=value`) and the
/// token the form carries.
pub async fn login_form(base: &str) -> (String, String) {
    let form = client_with_token("")
        .get(format!("{base}/login"))
        .send()
        .await
        .expect("login form");
    let login_cookie = set_cookie(&form, "finops_login").expect("login cookie");
    let html = form.text().await.expect("login page");
    let token = input_value(&html, "csrf").expect("login token");
    (login_cookie, token)
}

/// A login POST for `user` with the cookie and CSRF token of a login
/// form (`login_form`), going on to `next`; add headers before sending.
pub fn login_request(
    base: &str,
    (cookie, token): &(String, String),
    user: &str,
    password: &str,
    next: &str,
) -> reqwest::RequestBuilder {
    client_with_token("")
        .post(format!("{base}/login"))
        .header("Cookie", cookie)
        .form(&[
            ("username", user),
            ("password", password),
            ("csrf", token.as_str()),
            ("next", next),
        ])
}

/// Runs `finops --database URL ARGS…` with `stdin` on standard input.
pub fn finops_cli(url: &str, args: &[&str], stdin: &str) -> std::process::Output {
    use std::io::Write;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_finops"))
        .args(["--database", url])
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("finops runs");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin.as_bytes())
        .expect("stdin written");
    child.wait_with_output().expect("finops finishes")
}

/// The whole Set-Cookie header (with its attributes) for cookie `name`.
pub fn set_cookie_header(r: &reqwest::Response, name: &str) -> Option<String> {
    r.headers()
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{name}=")))
        .map(str::to_string)
}

/// `name=value` of a Set-Cookie header with that name.
pub fn set_cookie(r: &reqwest::Response, name: &str) -> Option<String> {
    set_cookie_header(r, name).map(|v| v.split(';').next().unwrap_or("").to_string())
}

impl TestApp {
    /// A client with a fresh API token of `role`.
    pub async fn client_as(&self, role: Role) -> reqwest::Client {
        let name = format!(
            "tests-{}-{}",
            role.as_str(),
            COUNTER.fetch_add(1, Ordering::SeqCst)
        );
        client_with_token(&make_token(&self.pool, &name, role).await)
    }

    /// Uploads `bytes` as file `name` of `kind` on the Data sources page
    /// (as the admin token); the status and the page.
    pub async fn upload(&self, kind: &str, name: &str, bytes: Vec<u8>) -> (u16, String) {
        let form = reqwest::multipart::Form::new()
            .text("kind", kind.to_string())
            .part(
                "file",
                reqwest::multipart::Part::bytes(bytes).file_name(name.to_string()),
            );
        let r = self
            .client
            .post(format!("{}/sources/upload", self.address))
            .multipart(form)
            .send()
            .await
            .expect("upload");
        let status = r.status().as_u16();
        (status, r.text().await.expect("body"))
    }

    /// Adds a user with a password.
    pub async fn add_user(&self, name: &str, role: Role, password: &str) {
        let hash = finops::auth::password::hash(password).expect("hash");
        let name = name.to_string();
        let added = self
            .with_conn(move |conn| {
                finops::db::users::add(conn, &name, role.as_str(), &hash).expect("add user")
            })
            .await;
        assert!(added, "user added");
    }

    /// The login form's result for a user name and password: the answer
    /// to the POST (a 303 with the session cookie when it worked).
    pub async fn post_login(&self, user: &str, password: &str) -> reqwest::Response {
        let form = login_form(&self.address).await;
        login_request(&self.address, &form, user, password, "/")
            .send()
            .await
            .expect("login post")
    }

    /// The audit log's entries for `action`, newest first.
    pub async fn audit_entries(&self, action: &str) -> Vec<finops::db::audit::AuditEntry> {
        let action = action.to_string();
        self.with_conn(move |conn| {
            finops::db::audit::list(
                conn,
                &finops::db::audit::AuditFilter {
                    action: Some(action),
                    limit: 1000,
                    ..Default::default()
                },
            )
            .expect("audit log")
        })
        .await
    }

    /// Signs in through the login form; the session's cookie and the CSRF
    /// token its pages carry.
    pub async fn sign_in(&self, user: &str, password: &str) -> Session {
        let r = self.post_login(user, password).await;
        assert_eq!(r.status().as_u16(), 303, "signed in");
        let cookie = set_cookie(&r, "finops_session").expect("session cookie");
        let page = client_with_token("")
            .get(format!("{}/calendar", self.address))
            .header("Cookie", &cookie)
            .send()
            .await
            .expect("a page");
        let html = page.text().await.expect("page body");
        let csrf = input_value(&html, "csrf").expect("CSRF token in the page");
        Session { cookie, csrf }
    }
}

/// The backends to run a test on: SQLite always, PostgreSQL when available.
pub async fn apps() -> Vec<TestApp> {
    let mut out = Vec::new();
    for b in [Backend::Sqlite, Backend::Postgres] {
        if let Some(app) = TestApp::spawn(b).await {
            out.push(app);
        }
    }
    out
}

/// Text of the element with `id` in an HTML page (first match, tags
/// stripped). Enough for the pages' own markup.
pub fn element_text(html: &str, id: &str) -> Option<String> {
    let marker = format!("id=\"{id}\"");
    let start = html.find(&marker)?;
    let open_end = start + html[start..].find('>')? + 1;
    let close = open_end + html[open_end..].find('<')?;
    Some(html[open_end..close].trim().to_string())
}

/// "$1,234.56" or "-$12.00" → micro-units, to the cent.
pub fn dollars_to_micros(text: &str) -> i64 {
    let negative = text.starts_with('-') || text.starts_with('−');
    let digits: String = text
        .chars()
        .filter(|c| c.is_ascii_digit() || *c == '.')
        .collect();
    let (whole, frac) = digits.split_once('.').unwrap_or((&digits, "0"));
    let frac = format!("{frac:0<6}");
    let v = whole.parse::<i64>().unwrap() * 1_000_000 + frac[..6].parse::<i64>().unwrap();
    if negative {
        -v
    } else {
        v
    }
}

/// Exact decimal → micro-units, written separately from `finops::money`.
pub fn decimal_micros(text: &str) -> i64 {
    let (negative, body) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let (whole, frac) = body.split_once('.').expect("amount has decimals");
    assert!(
        frac.len() >= 2 && frac.len() <= 6,
        "2 to 6 decimal places: {text}"
    );
    let v =
        whole.parse::<i64>().unwrap() * 1_000_000 + format!("{frac:0<6}").parse::<i64>().unwrap();
    if negative {
        -v
    } else {
        v
    }
}

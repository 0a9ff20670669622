//! A real headless Chromium, driven over WebDriver (chromedriver +
//! fantoccini): load the Overview, change a filter, see the chart and the
//! table change; follow through to the Month review's CSV download.

use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::{ClientBuilder, Locator};
use serde_json::json;

use finops::auth::Role;

use crate::helpers::{dollars_to_micros, Backend, TestApp};

const PASSWORD: &str = "correct horse battery staple";

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

fn browser_available() -> bool {
    Path::new(CHROMIUM).exists() && Path::new(CHROMEDRIVER).exists()
        || crate::helpers::require_or_skip(
            crate::helpers::Need::Browser,
            &format!(
                "{CHROMIUM} or {CHROMEDRIVER} is missing: apt-get install chromium chromium-driver"
            ),
        )
}

struct Driver(Child);

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

async fn start_chromedriver() -> (Driver, String) {
    let port = free_port();
    let driver = Driver(
        Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver"),
    );
    let url = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    for _ in 0..100 {
        if let Ok(r) = client.get(format!("{url}/status")).send().await {
            if r.status().is_success() {
                return (driver, url);
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("chromedriver did not start on port {port}");
}

async fn text_of(client: &fantoccini::Client, css: &str) -> String {
    client
        .find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"))
        .text()
        .await
        .unwrap()
}

async fn wait_for_url(client: &fantoccini::Client, needle: &str) {
    for _ in 0..100 {
        if client
            .current_url()
            .await
            .unwrap()
            .as_str()
            .contains(needle)
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the browser never reached a URL with {needle}");
}

/// Chromium driven over WebDriver; keep all three alive for the session.
async fn start_browser() -> (Driver, fantoccini::Client, tempfile::TempDir) {
    let (driver, driver_url) = start_chromedriver().await;
    let profile = tempfile::tempdir().unwrap();
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".to_string(),
        json!({
            "binary": CHROMIUM,
            "args": [
                "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-quic", "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--window-size=1400,1800",
                format!("--user-data-dir={}", profile.path().display()),
            ]
        }),
    );
    let client = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps)
        .connect(&driver_url)
        .await
        .expect("WebDriver session");
    (driver, client, profile)
}

/// Adds a user of `role` and signs in through the login form, as a person
/// would: an anonymous visit to a page lands on the form, and signing in
/// returns to that page.
async fn sign_in_in_browser(client: &fantoccini::Client, app: &TestApp, role: Role) {
    let user = format!("{}-user", role.as_str());
    app.add_user(&user, role, PASSWORD).await;
    client
        .goto(&format!("{}/costs?granularity=month", app.address))
        .await
        .unwrap();
    wait_for_url(client, "/login?next=").await;
    assert_eq!(client.title().await.unwrap(), "Sign in · finops");
    client
        .find(Locator::Css("#username"))
        .await
        .unwrap()
        .send_keys(&user)
        .await
        .unwrap();
    client
        .find(Locator::Css("#password"))
        .await
        .unwrap()
        .send_keys(PASSWORD)
        .await
        .unwrap();
    client
        .find(Locator::Css("#sign-in"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for_url(client, "/costs?granularity=month").await;
    assert!(text_of(client, "#signed-in-as").await.contains(&user));
}

#[tokio::test]
async fn overview_filter_changes_chart_and_table_in_a_real_browser() {
    if !browser_available() {
        return;
    }
    let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
    app.load_demo(42, 3).await;
    let (_driver, client, _profile) = start_browser().await;
    sign_in_in_browser(&client, &app, Role::Analyst).await;

    let run = async {
        client
            .goto(&format!("{}/?from=2026-10-01&to=2026-10-31", app.address))
            .await
            .unwrap();
        assert_eq!(client.title().await.unwrap(), "Overview · finops");
        let total_before = text_of(&client, "#total-effective").await;
        let chart_before = client
            .find(Locator::Css(".chart-svg"))
            .await
            .unwrap()
            .html(true)
            .await
            .unwrap();
        assert!(chart_before.contains("<svg"), "the chart is drawn");
        let rows_before = client
            .find_all(Locator::Css("#by-platform tbody tr"))
            .await
            .unwrap()
            .len();
        assert_eq!(rows_before, 7, "six platforms and unallocated");

        // Tick PlayStation and apply.
        client
            .find(Locator::Css("input[name=platform][value=PlayStation]"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        client
            .find(Locator::Css("form.filters button[type=submit]"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        wait_for_url(&client, "platform=PlayStation").await;
        client
            .wait()
            .for_element(Locator::Css("#total-effective"))
            .await
            .unwrap();

        let total_after = text_of(&client, "#total-effective").await;
        let chart_after = client
            .find(Locator::Css(".chart-svg"))
            .await
            .unwrap()
            .html(true)
            .await
            .unwrap();
        assert_ne!(chart_before, chart_after, "the chart changed");
        assert!(
            dollars_to_micros(&total_after) < dollars_to_micros(&total_before),
            "{total_after} < {total_before}"
        );
        let rows = client
            .find_all(Locator::Css("#by-platform tbody tr"))
            .await
            .unwrap();
        assert_eq!(rows.len(), 1, "only PlayStation remains in the table");
        assert!(rows[0].text().await.unwrap().starts_with("PlayStation"));
        let checked = client
            .find(Locator::Css("input[name=platform][value=PlayStation]"))
            .await
            .unwrap()
            .prop("checked")
            .await
            .unwrap();
        assert_eq!(checked.as_deref(), Some("true"), "the filter stays ticked");

        // On to the Month review, which offers the CSV.
        client
            .find(Locator::LinkText("Review October 2026 →"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        wait_for_url(&client, "/month?month=2026-10").await;
        let link = client.find(Locator::Css("#download-csv")).await.unwrap();
        assert_eq!(
            link.attr("href").await.unwrap().as_deref(),
            Some("/export/monthly.csv?month=2026-10")
        );
        assert_eq!(link.text().await.unwrap(), "Download CSV");
    };
    let outcome = tokio::time::timeout(Duration::from_secs(120), run).await;
    let _ = client.close().await;
    outcome.expect("the browser test finished within two minutes");
}

#[tokio::test]
async fn upload_a_file_and_add_an_allocation_rule_in_a_real_browser() {
    if !browser_available() {
        return;
    }
    let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("march.csv");
    std::fs::write(
        &file,
        "BilledCost,EffectiveCost,BillingAccountId,BillingCurrency,BillingPeriodStart,ChargeCategory,ChargePeriodStart,ChargePeriodEnd,ProviderName,RegionId,ServiceName,SubAccountId,ResourceId,Tags\n\
         2.50,2.50,100,USD,2026-03-01,Usage,2026-03-02,2026-03-03,AWS,eu-west-1,Amazon S3,200,bucket-1,\n",
    )
    .unwrap();
    let (_driver, client, _profile) = start_browser().await;
    sign_in_in_browser(&client, &app, Role::Admin).await;
    let run = async {
        client
            .goto(&format!("{}/sources", app.address))
            .await
            .unwrap();
        assert_eq!(client.title().await.unwrap(), "Data sources · finops");
        client
            .find(Locator::Css("#kind option[value=focus]"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        client
            .find(Locator::Css("input[type=file]"))
            .await
            .unwrap()
            .send_keys(file.to_str().unwrap())
            .await
            .unwrap();
        client
            .find(Locator::Css(
                "form[action='/sources/upload'] button[type=submit]",
            ))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        let result = client
            .wait()
            .for_element(Locator::Css("#upload-result"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(result.contains("Imported march.csv"), "{result}");
        assert!(text_of(&client, "#runs tbody").await.contains("march.csv"));

        // The untagged bucket is unallocated; a rule for its account fixes it.
        client
            .goto(&format!(
                "{}/rules?from=2026-03-01&to=2026-03-31",
                app.address
            ))
            .await
            .unwrap();
        assert!(text_of(&client, "#unallocated").await.contains("bucket-1"));
        for css in [
            "select[name=r3_kind] option[value=account]",
            "select[name=r3_platform] option[value=Switch]",
        ] {
            client
                .find(Locator::Css(css))
                .await
                .unwrap()
                .click()
                .await
                .unwrap();
        }
        client
            .find(Locator::Css("input[name=r3_pattern]"))
            .await
            .unwrap()
            .send_keys("200")
            .await
            .unwrap();
        client
            .find(Locator::Css("#save-rules"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        wait_for_url(&client, "/rules?saved=4").await;
        assert!(text_of(&client, "#rules-saved")
            .await
            .contains("Saved 4 rule(s)"));
        client
            .goto(&format!(
                "{}/rules?from=2026-03-01&to=2026-03-31",
                app.address
            ))
            .await
            .unwrap();
        assert!(
            client.find(Locator::Css("#no-unallocated")).await.is_ok(),
            "nothing unallocated is left"
        );
    };
    let outcome = tokio::time::timeout(Duration::from_secs(120), run).await;
    let _ = client.close().await;
    outcome.expect("the browser test finished within two minutes");
}

#[tokio::test]
async fn a_planner_filters_sorts_and_tries_a_commitment_in_a_real_browser() {
    if !browser_available() {
        return;
    }
    let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
    app.load_demo(42, 6).await;
    let (_driver, client, _profile) = start_browser().await;
    sign_in_in_browser(&client, &app, Role::Analyst).await;

    let run = async {
        client
            .goto(&format!("{}/recommendations", app.address))
            .await
            .unwrap();
        assert_eq!(client.title().await.unwrap(), "Recommendations · finops");
        let total = dollars_to_micros(&text_of(&client, "#tile-total").await);
        assert!(total > 0);

        // Only idle machines, in the filter form.
        client
            .find(Locator::Css("#kind"))
            .await
            .unwrap()
            .select_by_value("terminate")
            .await
            .unwrap();
        client
            .find(Locator::Css("form.filters button[type=submit]"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        wait_for_url(&client, "kind=terminate").await;
        let rows = client
            .find_all(Locator::Css("#recommendations-table tbody tr"))
            .await
            .unwrap();
        assert!(!rows.is_empty());
        for r in &rows {
            assert!(r.text().await.unwrap().starts_with("Terminate idle"));
        }
        // Sorted by savings, smallest first, by the column header.
        client
            .find(Locator::Css(
                "#recommendations-table thead a[href*='sort=savings']",
            ))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        wait_for_url(&client, "dir=asc").await;
        let cells = client
            .find_all(Locator::Css(
                "#recommendations-table tbody tr td:nth-child(5)",
            ))
            .await
            .unwrap();
        let mut amounts = Vec::new();
        for c in cells {
            amounts.push(dollars_to_micros(&c.text().await.unwrap()));
        }
        assert!(amounts.windows(2).all(|w| w[0] <= w[1]), "{amounts:?}");

        // The Compute Savings Plan's detail, and a what-if.
        client
            .goto(&format!(
                "{}/recommendations?kind=compute_savings_plan",
                app.address
            ))
            .await
            .unwrap();
        client
            .find(Locator::Css("#recommendations-table tbody th a"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        wait_for_url(&client, "/recommendations/detail").await;
        assert!(client.find(Locator::Css("#options-table")).await.is_ok());
        assert!(client.find(Locator::Css(".chart-svg svg")).await.is_ok());
        let input = client.find(Locator::Css("#what_if")).await.unwrap();
        input.send_keys("25").await.unwrap();
        client
            .find(Locator::Css("form[aria-label='What if'] button"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        wait_for_url(&client, "what_if=25").await;
        let utilisation = text_of(&client, "#what-if-utilisation").await;
        assert!(utilisation.ends_with('%'), "{utilisation}");
    };
    let outcome = tokio::time::timeout(Duration::from_secs(120), run).await;
    let _ = client.close().await;
    outcome.expect("the browser test finished within two minutes");
}

#[tokio::test]
async fn a_viewer_reads_but_is_offered_no_changes_and_signs_out_in_a_real_browser() {
    if !browser_available() {
        return;
    }
    let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
    app.load_demo(42, 2).await;
    let (_driver, client, _profile) = start_browser().await;
    sign_in_in_browser(&client, &app, Role::Viewer).await;
    let run = async {
        client
            .goto(&format!("{}/month?month=2026-10", app.address))
            .await
            .unwrap();
        assert!(!text_of(&client, "#content").await.is_empty());
        assert!(
            client.find(Locator::Css("#download-csv")).await.is_err(),
            "no export for a viewer"
        );
        client
            .goto(&format!("{}/sources", app.address))
            .await
            .unwrap();
        assert!(client
            .find(Locator::Css("form[action='/sources/upload']"))
            .await
            .is_err());
        assert!(client.find(Locator::Css("#nav-admin")).await.is_err());
        // Typing the export's address anyway: refused.
        client
            .goto(&format!("{}/export/monthly.csv?month=2026-10", app.address))
            .await
            .unwrap();
        assert!(text_of(&client, "h1").await.contains("403"));
        client.goto(&format!("{}/", app.address)).await.unwrap();
        client
            .find(Locator::Css("#sign-out"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        wait_for_url(&client, "/login?signed_out=1").await;
        assert!(text_of(&client, "#login-notice")
            .await
            .contains("signed out"));
        client
            .goto(&format!("{}/month", app.address))
            .await
            .unwrap();
        wait_for_url(&client, "/login?next=").await;
    };
    run.await;
    let _ = client.close().await;
}

/// What sticks out past the window's right edge: the document's width and
/// the first few elements (tag#id.class) that end beyond it, so a failure
/// names the culprit.
const OVERFLOW_SCRIPT: &str = r#"
const limit = document.documentElement.clientWidth;
const out = [];
for (const el of document.querySelectorAll('body *')) {
  const r = el.getBoundingClientRect();
  if (r.width > 0 && r.right > limit + 1) {
    let inScroller = false;
    for (let p = el.parentElement; p; p = p.parentElement) {
      const o = getComputedStyle(p).overflowX;
      if (o === 'auto' || o === 'scroll' || o === 'hidden') { inScroller = true; break; }
    }
    if (!inScroller) {
      out.push(el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
        (el.className && typeof el.className === 'string' ? '.' + el.className.split(' ').join('.') : '') +
        ' right=' + Math.round(r.right));
    }
  }
  if (out.length >= 5) break;
}
return [document.documentElement.scrollWidth, limit, out];
"#;

/// Every page, signed in as an admin on the demo, at a laptop's and a
/// projector's width (and a small laptop's): nothing may make the page
/// wider than the window (a table that needs more room scrolls inside its
/// own box).
#[tokio::test]
async fn no_page_is_wider_than_the_window_at_1024_1440_and_1920_in_a_real_browser() {
    if !browser_available() {
        return;
    }
    let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
    app.load_demo(42, 6).await;
    let (_driver, client, _profile) = start_browser().await;
    sign_in_in_browser(&client, &app, Role::Admin).await;
    let pages = [
        "/",
        "/month",
        "/month?month=2026-10&platform=PC",
        "/budgets",
        "/anomalies",
        "/alerts",
        "/costs",
        "/costs?granularity=week&group_by=service",
        "/forecast",
        "/forecast?metric=ccu",
        "/capacity",
        "/recommendations",
        "/scenarios",
        "/calendar",
        "/sources",
        "/rules",
        "/unallocated",
        "/admin",
        "/account",
    ];
    let run = async {
        let mut wide = Vec::new();
        for (w, h) in [(1440u32, 900u32), (1920, 1080), (1024, 768)] {
            client.set_window_size(w, h).await.unwrap();
            for page in pages {
                client
                    .goto(&format!("{}{page}", app.address))
                    .await
                    .unwrap();
                let found = client.execute(OVERFLOW_SCRIPT, vec![]).await.unwrap();
                let scroll = found[0].as_u64().unwrap_or(0);
                let limit = found[1].as_u64().unwrap_or(0);
                assert!(limit > 900, "the window is {limit} px wide at {w}");
                if scroll > limit {
                    wide.push(format!(
                        "{page} at {w}: {scroll} px > {limit} px: {}",
                        found[2]
                    ));
                }
            }
        }
        assert!(
            wide.is_empty(),
            "pages wider than the window:\n{}",
            wide.join("\n")
        );
    };
    let outcome = tokio::time::timeout(Duration::from_secs(600), run).await;
    let _ = client.close().await;
    outcome.expect("the overflow check finished within ten minutes");
}

/// A click on a column heading sorts the table by that column (largest
/// first for amounts), a second click reverses it; totals stay at the foot.
#[tokio::test]
async fn a_click_on_a_heading_sorts_a_table_in_a_real_browser() {
    if !browser_available() {
        return;
    }
    let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
    app.load_demo(42, 3).await;
    let (_driver, client, _profile) = start_browser().await;
    sign_in_in_browser(&client, &app, Role::Analyst).await;
    let run = async {
        client
            .goto(&format!("{}/?from=2026-10-01&to=2026-10-31", app.address))
            .await
            .unwrap();
        let effective = || async {
            let mut out = Vec::new();
            for c in client
                .find_all(Locator::Css("#by-region tbody td:nth-child(3)"))
                .await
                .unwrap()
            {
                out.push(dollars_to_micros(&c.text().await.unwrap()));
            }
            out
        };
        let heading = "#by-region thead th:nth-child(3) button.sort";
        client
            .find(Locator::Css(heading))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        let down = effective().await;
        assert!(down.len() > 2);
        assert!(down.windows(2).all(|w| w[0] >= w[1]), "{down:?}");
        client
            .find(Locator::Css(heading))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        let up = effective().await;
        assert!(up.windows(2).all(|w| w[0] <= w[1]), "{up:?}");
        // By name, A to Z.
        client
            .find(Locator::Css("#by-region thead th:nth-child(1) button.sort"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        let mut names = Vec::new();
        for c in client
            .find_all(Locator::Css("#by-region tbody th"))
            .await
            .unwrap()
        {
            names.push(c.text().await.unwrap().to_lowercase());
        }
        let mut sorted = names.clone();
        sorted.sort();
        assert_eq!(names, sorted);
    };
    let outcome = tokio::time::timeout(Duration::from_secs(120), run).await;
    let _ = client.close().await;
    outcome.expect("the sorting check finished within two minutes");
}

//! The marketing calendar: `finops ingest calendar` and the Calendar page
//! (add, edit, delete, validation, TOML download), on both backends.

use finops::ingest::{calendar, Input};

use crate::helpers::apps;
use crate::ingest::databases;

const GOOD: &str = r#"
[[event]]
name = "Season 11 launch"
kind = "launch"
start = 2027-03-02
end = 2027-03-15
platforms = ["PC", "ps5"]
expected_uplift = 0.5
ramp_days = 3

[[event]]
name = "Spring sale"
kind = "sale"
start = 2027-04-01
end = 2027-04-07
regions = ["eu-west-1"]
"#;

#[test]
fn calendar_files_import_replace_and_are_validated() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("launches.toml");
    std::fs::write(&good, GOOD).unwrap();
    let bad = dir.path().join("bad.toml");
    std::fs::write(
        &bad,
        "[[event]]\nname = \"Oops\"\nkind = \"sale\"\nstart = 2027-05-10\nend = 2027-05-01\n",
    )
    .unwrap();
    let dup = dir.path().join("other.toml");
    std::fs::write(
        &dup,
        "[[event]]\nname = \"Spring sale\"\nkind = \"sale\"\nstart = 2027-04-05\nend = 2027-04-09\n",
    )
    .unwrap();
    for db in databases() {
        let mut conn = db.pool.get().unwrap();
        let s = calendar::import(&mut conn, &Input::new(&good)).expect("imports");
        assert_eq!((s.events, s.replaced), (2, 0));
        let again = calendar::import(&mut conn, &Input::new(&good)).expect("re-imports");
        assert_eq!((again.events, again.replaced), (2, 2));
        let events = finops::db::calendar::all_events(&mut conn).unwrap();
        assert_eq!(events.len(), 2);
        assert_eq!(events[0].platforms, vec!["PC", "PlayStation"]);

        let e = calendar::import(&mut conn, &Input::new(&bad)).expect_err("end before start");
        assert!(e.to_string().contains("bad.toml: event 1 ('Oops'): field 'end' (2027-05-01) is before 'start' (2027-05-10)"), "{e}");
        let e = calendar::import(&mut conn, &Input::new(&dup)).expect_err("duplicate");
        assert!(
            e.to_string()
                .contains("other.toml: event 1 ('Spring sale'): duplicates 'Spring sale'"),
            "{e}"
        );
        assert_eq!(
            finops::db::calendar::all_events(&mut conn).unwrap().len(),
            2,
            "nothing changed"
        );
    }
    // The CLI: exit 2 and the message on a bad file.
    let db_dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", db_dir.path().join("f.db").display());
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_finops"))
        .args(["--database", &url, "ingest", "calendar"])
        .arg(&good)
        .arg(&bad)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("imported") && stderr.contains("2 events"),
        "{stderr}"
    );
    assert!(
        stderr.contains("field 'end' (2027-05-01) is before 'start'"),
        "{stderr}"
    );
}

#[tokio::test]
async fn planners_add_edit_and_delete_events_on_the_calendar_page() {
    for app in apps().await {
        let (status, html) = app.get_text("/calendar").await;
        assert_eq!(status, 200);
        assert!(html.contains("Add an event"));
        let post = |path: &str, body: String| {
            app.client
                .post(format!("{}{}", app.address, path))
                .header("content-type", "application/x-www-form-urlencoded")
                .body(body)
                .send()
        };
        let r = post(
            "/calendar",
            "name=Winter+sale&kind=sale&start=2027-12-20&end=2027-12-31&platform=PC&platform=Xbox&regions=&expected_uplift=30&ramp_days=2&notes=Steam+and+Xbox+store".to_string(),
        )
        .await
        .unwrap();
        assert_eq!(r.status().as_u16(), 303);
        let location = r.headers()["location"].to_str().unwrap().to_string();
        let id = location
            .strip_prefix("/calendar?saved=")
            .unwrap()
            .to_string();
        let (_, html) = app.get_text("/calendar").await;
        assert!(
            html.contains("Winter sale")
                && html.contains("+30\u{a0}%")
                && html.contains("PC, Xbox"),
            "{html}"
        );

        // Invalid: unknown platform; then a duplicate of the first event.
        let r = post(
            "/calendar",
            "name=Bad&kind=sale&start=2027-12-20&end=2027-12-31&platform=Dreamcast".to_string(),
        )
        .await
        .unwrap();
        assert_eq!(r.status().as_u16(), 422);
        let html = r.text().await.unwrap();
        assert!(
            html.contains("Not saved")
                && html.contains("unknown platform")
                && html.contains("Dreamcast"),
            "{html}"
        );
        let r = post(
            "/calendar",
            "name=winter+sale&kind=sale&start=2027-12-30&end=2028-01-02".to_string(),
        )
        .await
        .unwrap();
        assert_eq!(r.status().as_u16(), 422);
        assert!(r.text().await.unwrap().contains("duplicates"));

        // Edit: the form is filled in; saving changes the event.
        let (_, html) = app.get_text(&format!("/calendar?edit={id}")).await;
        assert!(
            html.contains("Edit “Winter sale”") && html.contains("value=\"2027-12-20\""),
            "{html}"
        );
        let r = post(
            "/calendar",
            format!("id={id}&name=Winter+sale&kind=sale&start=2027-12-18&end=2027-12-31&expected_uplift=45"),
        )
        .await
        .unwrap();
        assert_eq!(r.status().as_u16(), 303);
        let events = app
            .with_conn(|c| finops::db::calendar::all_events(c).unwrap())
            .await;
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].start.to_string(), "2027-12-18");
        assert_eq!(events[0].expected_uplift, Some(0.45));
        assert!(
            events[0].platforms.is_empty(),
            "no box ticked: all platforms"
        );

        // The TOML download reads back as the same calendar.
        let (status, toml_text) = app.get_text("/calendar.toml").await;
        assert_eq!(status, 200);
        let parsed = finops::calendar::parse_calendar("calendar.toml", &toml_text)
            .expect("valid calendar file");
        assert_eq!(parsed.len(), 1);
        assert_eq!(parsed[0].name, "Winter sale");

        // Delete.
        let r = post("/calendar/delete", format!("id={id}")).await.unwrap();
        assert_eq!(r.status().as_u16(), 303);
        let events = app
            .with_conn(|c| finops::db::calendar::all_events(c).unwrap())
            .await;
        assert!(events.is_empty());
        let r = post("/calendar/delete", format!("id={id}")).await.unwrap();
        assert_eq!(r.status().as_u16(), 404);
    }
}

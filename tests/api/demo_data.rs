//! The demo is deterministic (same seed, same export, on either backend)
//! and re-loading it replaces it rather than doubling it.

use crate::helpers::{apps, Backend, TestApp};

#[tokio::test]
async fn same_seed_gives_byte_identical_exports_on_sqlite_and_postgres() {
    let mut exports = Vec::new();
    for app in apps().await {
        let summary = app.load_demo(7, 2).await;
        assert!(summary.cost_rows > 10_000);
        let (status, csv) = app.get_bytes("/export/monthly.csv?month=2026-10").await;
        assert_eq!(status, 200);
        exports.push((app.backend, csv));
    }
    // A second SQLite database stands in for PostgreSQL when it is absent.
    if exports.len() == 1 {
        let other = TestApp::spawn(Backend::Sqlite).await.unwrap();
        other.load_demo(7, 2).await;
        exports.push((
            Backend::Sqlite,
            other.get_bytes("/export/monthly.csv?month=2026-10").await.1,
        ));
    }
    assert_eq!(
        exports[0].1, exports[1].1,
        "{:?} and {:?} exports differ",
        exports[0].0, exports[1].0
    );

    // Another seed gives other numbers.
    let third = TestApp::spawn(Backend::Sqlite).await.unwrap();
    third.load_demo(8, 2).await;
    assert_ne!(
        third.get_bytes("/export/monthly.csv?month=2026-10").await.1,
        exports[0].1
    );
}

#[tokio::test]
async fn reloading_the_demo_replaces_it() {
    for app in apps().await {
        let first = app.load_demo(42, 2).await;
        let (_, before) = app.get_bytes("/export/monthly.csv?month=2026-09").await;
        let count_before = app
            .with_conn(|c| finops::db::costs::count_rows(c).unwrap())
            .await;
        let second = app.load_demo(42, 2).await;
        let count_after = app
            .with_conn(|c| finops::db::costs::count_rows(c).unwrap())
            .await;
        let (_, after) = app.get_bytes("/export/monthly.csv?month=2026-09").await;
        assert_eq!(first, second);
        assert_eq!(
            count_before,
            count_after,
            "{}: no doubling",
            app.backend.name()
        );
        assert_eq!(before, after);
    }
}

#[tokio::test]
async fn an_import_by_another_process_shows_within_the_recheck_interval() {
    for app in apps().await {
        let (_, before) = app.get_text("/month?month=2026-10").await;
        assert!(before.contains("No costs in October 2026"));
        // Same URL again: served from the cache.
        let (_, again) = app.get_text("/month?month=2026-10").await;
        assert_eq!(before, again);
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_finops"))
            .args([
                "--database",
                app.db.url(),
                "demo",
                "--months",
                "1",
                "--end",
                "2026-10-31",
            ])
            .output()
            .expect("run finops demo");
        crate::helpers::assert_ran(&out);
        // The recheck interval passes (the service's clock moves on).
        app.clock
            .offset(finops::web::state::VERSION_RECHECK + std::time::Duration::from_millis(1));
        let (status, after) = app.get_text("/month?month=2026-10").await;
        assert_eq!(status, 200);
        assert!(
            !after.contains("No costs in October 2026"),
            "{}: stale page",
            app.backend.name()
        );
        assert!(after.contains("id=\"month-table\""));
    }
}

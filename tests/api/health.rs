use crate::helpers::{apps, Backend, TestApp};

#[tokio::test]
async fn healthz_and_readyz_answer_on_both_backends() {
    for app in apps().await {
        let (status, body) = app.get_json("/healthz").await;
        assert_eq!(status, 200, "{}", app.backend.name());
        assert_eq!(body["status"], "ok");
        let (status, body) = app.get_json("/readyz").await;
        assert_eq!(status, 200, "{}", app.backend.name());
        assert_eq!(body["database"], "ok");
    }
}

#[tokio::test]
async fn readyz_is_503_and_pages_say_so_when_the_database_is_gone() {
    let Some(app) = TestApp::spawn(Backend::Postgres).await else {
        return;
    };
    let (status, _) = app.get_text("/").await;
    assert_eq!(status, 200);
    app.db.drop_postgres_database();
    let (status, body) = app.get_json("/readyz").await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["status"], "unavailable");
    let (status, page) = app.get_text("/month?month=2026-10").await;
    assert_eq!(status, 503);
    assert!(page.contains("database is unavailable"), "{page}");
    let (status, body) = app.get_json("/api/v1/costs").await;
    assert_eq!(status, 503);
    assert_eq!(body["error"]["code"], "unavailable");
    // The process keeps serving.
    let (status, _) = app.get_text("/healthz").await;
    assert_eq!(status, 200);
}

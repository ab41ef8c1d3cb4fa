//! Health probes.

use crate::support::TestApp;

#[tokio::test]
async fn the_service_is_live_and_ready_on_a_migrated_database() {
    let app = TestApp::spawn().await;
    let live = app.get("/health/live").await.assert_json(200);
    assert_eq!(live["status"], "ok");
    let ready = app.get("/health/ready").await.assert_json(200);
    assert_eq!(ready["status"], "ok");
}

//! The interactive documentation is served by the binary itself: no asset comes from elsewhere.

use crate::support::TestApp;

/// Every `src="…"` and `href="…"` of an HTML page.
fn references(html: &str) -> Vec<String> {
    let mut found = Vec::new();
    for attribute in ["src=\"", "href=\""] {
        for part in html.split(attribute).skip(1) {
            found.push(part.split('"').next().unwrap().to_string());
        }
    }
    found
}

#[tokio::test]
async fn the_docs_page_and_all_its_assets_come_from_the_service() {
    let app = TestApp::spawn().await;
    let redirect = app.get("/docs").await;
    assert_eq!(redirect.status.as_u16(), 308);
    assert_eq!(redirect.header("location"), Some("/docs/"));

    let page = app.get("/docs/").await;
    assert_eq!(page.status.as_u16(), 200);
    assert!(
        page.content_type().starts_with("text/html"),
        "{}",
        page.content_type()
    );
    let assets = references(&page.text);
    assert!(assets.len() >= 4, "{assets:?}");
    for asset in &assets {
        assert!(
            !asset.contains("://") && !asset.starts_with("//"),
            "external asset {asset}"
        );
        let reply = app
            .get(&format!("/docs/{}", asset.trim_start_matches("./")))
            .await;
        assert_eq!(reply.status.as_u16(), 200, "{asset}");
    }
    let initializer = app.get("/docs/swagger-initializer.js").await;
    assert!(
        initializer
            .text
            .contains("\"url\": \"/api/v1/openapi.json\""),
        "{}",
        initializer.text
    );
    assert!(
        initializer.text.contains("\"validatorUrl\": \"none\""),
        "no external validator badge"
    );
}

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

/// A developer opens the docs in a real browser (headless Chromium), finds every tag,
/// authorises with the client credentials form, and tries a call: it answers 200. Every
/// resource the page loads comes from the service itself, so this works offline.
#[tokio::test]
async fn the_docs_work_in_a_real_browser() {
    use crate::support::browser::Browser;
    use std::time::Duration;

    let app = TestApp::spawn().await;
    let credentials = app
        .client(&[anct_formations::auth::Scope::Admin], &[])
        .await;
    let document = app.get("/api/v1/openapi.json").await.assert_json(200);
    let mut tags: Vec<String> = document["tags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap().to_string())
        .collect();
    tags.sort();

    let browser = Browser::start().await;
    browser.goto(&app.url("/docs/")).await;
    let shown = browser
        .wait_for(
            "const t = Array.from(document.querySelectorAll('.opblock-tag')).map(e => e.getAttribute('data-tag'));
             return t.length > 0 ? t : null;",
            Duration::from_secs(30),
        )
        .await;
    let mut shown: Vec<String> = serde_json::from_value(shown).unwrap();
    shown.sort();
    assert_eq!(shown, tags, "every tag of the document is on the page");
    let title = browser
        .script("return document.querySelector('.info .title').textContent")
        .await;
    assert!(
        title.as_str().unwrap().contains("anct-formations"),
        "{title}"
    );

    // Authorize with the OAuth 2.0 client credentials form.
    browser.click("button.authorize").await;
    browser
        .wait_for(
            "return document.querySelector('input[id^=\"client_id\"]') !== null",
            Duration::from_secs(10),
        )
        .await;
    browser
        .type_into("input[id^=\"client_id\"]", &credentials.client_id)
        .await;
    browser
        .type_into("input[id^=\"client_secret\"]", &credentials.client_secret)
        .await;
    browser
        .click(".auth-btn-wrapper .btn.modal-btn.auth.authorize")
        .await;
    let logged_in = browser
        .wait_for(
            "const b = Array.from(document.querySelectorAll('.auth-btn-wrapper button')).map(b => b.textContent.trim());
             const e = document.querySelector('.modal-ux .errors');
             return b.includes('Logout') ? 'ok' : (e ? 'error: ' + e.textContent : null);",
            Duration::from_secs(15),
        )
        .await;
    assert_eq!(logged_in, "ok", "the browser obtained a token");
    browser.click(".btn.modal-btn.auth.btn-done").await;

    // Try it out: list the programmes. The docs open operations ready to try
    // (`tryItOutEnabled`), so "Execute" is there at once.
    browser
        .click("#operations-programmes-list_programmes .opblock-summary")
        .await;
    let ready = browser
        .wait_for(
            "const op = document.querySelector('#operations-programmes-list_programmes');
             if (op.querySelector('.btn.execute')) return 'execute';
             const t = op.querySelector('.try-out__btn');
             return t && !t.classList.contains('cancel') ? 'try' : null;",
            Duration::from_secs(10),
        )
        .await;
    if ready == "try" {
        browser
            .click("#operations-programmes-list_programmes .try-out__btn")
            .await;
        browser
            .wait_for(
                "return document.querySelector('#operations-programmes-list_programmes .btn.execute') !== null",
                Duration::from_secs(10),
            )
            .await;
    }
    browser
        .click("#operations-programmes-list_programmes .btn.execute")
        .await;
    let status = browser
        .wait_for(
            "const s = document.querySelector('#operations-programmes-list_programmes .live-responses-table tr.response .response-col_status');
             return s ? s.textContent.trim() : null;",
            Duration::from_secs(15),
        )
        .await;
    assert!(status.as_str().unwrap().starts_with("200"), "{status}");
    let body = browser
        .script(
            "const c = document.querySelector('#operations-programmes-list_programmes .live-responses-table .microlight, #operations-programmes-list_programmes .live-responses-table pre');
             return c ? c.textContent : '';",
        )
        .await;
    assert!(body.as_str().unwrap().contains("\"data\""), "{body}");

    // Nothing came from outside the service.
    let origins = browser
        .script("return performance.getEntriesByType('resource').map(r => new URL(r.name).origin)")
        .await;
    let origins: Vec<String> = serde_json::from_value(origins).unwrap();
    assert!(!origins.is_empty());
    assert!(
        origins.iter().all(|o| *o == app.base),
        "{origins:?} vs {}",
        app.base
    );
}

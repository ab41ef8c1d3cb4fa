//! Builds and runs the HTTP server.

use std::{net::TcpListener, time::Duration};

use actix_web::{
    dev::Server,
    http::header,
    middleware::{from_fn, Logger},
    web, App, HttpResponse, HttpServer,
};
use utoipa_actix_web::AppExt;
use utoipa_swagger_ui::SwaggerUi;

use crate::{
    config::Config,
    db::{self, migrations, DbPool},
    http::{fallback, json::BodyLimit, request_id},
    openapi,
};

/// Where the OpenAPI document is served.
pub const OPENAPI_URL: &str = "/api/v1/openapi.json";

/// Swagger UI settings: nothing may be fetched from outside the service (no validator badge).
fn docs_config() -> utoipa_swagger_ui::Config<'static> {
    utoipa_swagger_ui::Config::new([OPENAPI_URL])
        .validator_url("none")
        .try_it_out_enabled(true)
        .persist_authorization(true)
        .display_request_duration(true)
}

/// Starts serving on `listener`. The returned server runs until SIGTERM/SIGINT (or its handle
/// stops it), then lets in-flight requests finish within the shutdown timeout.
pub fn start(config: &Config, pool: DbPool, listener: TcpListener) -> std::io::Result<Server> {
    db::error::set_retry_after(config.retry_after);
    let document = openapi::document();
    let known_paths = web::Data::new(fallback::KnownPaths::from_openapi(&document));
    let pool = web::Data::new(pool);
    let body_limit = BodyLimit(config.max_body_bytes);
    let server = HttpServer::new(move || {
        // The document is registered before the `/api/v1` scope, which would otherwise take
        // its path and answer 404.
        let (app, _) = App::new()
            .service(
                SwaggerUi::new("/docs/{_:.*}")
                    .url(OPENAPI_URL, document.clone())
                    .config(docs_config()),
            )
            .into_utoipa_app()
            .configure(crate::routes::configure)
            .split_for_parts();
        app.app_data(pool.clone())
            .app_data(body_limit)
            .app_data(known_paths.clone())
            .route(
                "/docs",
                web::get().to(|| async {
                    HttpResponse::PermanentRedirect()
                        .insert_header((header::LOCATION, "/docs/"))
                        .finish()
                }),
            )
            .default_service(web::to(fallback::no_route))
            .wrap(from_fn(request_id::middleware))
            .wrap(Logger::new(
                r#"%a "%r" %s %b %Dms request_id=%{x-request-id}o"#,
            ))
    })
    .workers(config.workers)
    .shutdown_timeout(config.shutdown_timeout.as_secs())
    .client_request_timeout(Duration::from_secs(10))
    .listen(listener)?
    .run();
    Ok(server)
}

/// Connects to the database and applies pending migrations, retrying while it is unreachable
/// for up to `wait`.
pub async fn migrate(config: &Config, wait: Duration) -> Result<Vec<String>, db::DbError> {
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        let attempt = db::pool::connect(
            config.database_url.clone(),
            config.connect_timeout,
            Duration::from_secs(600),
        )
        .await;
        match attempt {
            Ok(conn) => return migrations::run_pending(conn).await,
            Err(error) if tokio::time::Instant::now() < deadline => {
                log::warn!("database not reachable yet ({error}); retrying");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
            Err(error) => return Err(db::DbError::Unavailable(error.to_string())),
        }
    }
}

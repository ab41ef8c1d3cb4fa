//! Builds and runs the HTTP server.

use std::{net::TcpListener, sync::Arc, time::Duration};

use actix_web::{
    dev::Server,
    http::header,
    middleware::{from_fn, Condition, Logger},
    web, App, HttpResponse, HttpServer,
};
use utoipa_actix_web::AppExt;
use utoipa_swagger_ui::SwaggerUi;

use crate::{
    auth::{
        caller::AuthState,
        client_states::ClientStates,
        keys::{self, KeyRing},
        rate_limit::RateLimiter,
        tokens::TokenSettings,
        verified::VerifiedTokens,
    },
    config::Config,
    db::{self, migrations, DbPool},
    http::{
        fallback,
        json::{BodyLimit, BodyTimeout},
        request_id,
    },
    openapi,
    webhooks::guard::TargetPolicy,
};

/// How many verified access tokens an instance remembers (a few hundred bytes each).
const VERIFIED_TOKENS: usize = 10_000;

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
pub async fn start(
    config: &Config,
    pool: DbPool,
    listener: TcpListener,
) -> Result<Server, Box<dyn std::error::Error>> {
    db::error::set_retry_after(config.retry_after);
    let auth = web::Data::new(auth_state(config, &pool).await?);
    pool.warm_up().await;
    spawn_pruning(pool.clone(), config.feed_retention, config.idempotency_ttl);
    if config.webhooks.worker {
        crate::webhooks::worker::spawn(pool.clone(), config.webhooks.clone());
    }
    let target_policy = web::Data::new(TargetPolicy {
        allow_private: config.webhooks.allow_private_targets,
    });
    let document = openapi::document();
    let known_paths = web::Data::new(fallback::KnownPaths::from_openapi(&document));
    let pool = web::Data::new(pool);
    let metrics = web::Data::new(crate::metrics::Metrics::new());
    let catalogue_owner = web::Data::new(config.catalogue.clone());
    let session_turns = web::Data::new(crate::enrolments::turns::SessionTurns::default());
    let body_limit = BodyLimit(config.max_body_bytes);
    let body_timeout = BodyTimeout(config.request_timeout);
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
            .app_data(web::Data::new(pool.reads_for_worker()))
            .app_data(auth.clone())
            .app_data(target_policy.clone())
            .app_data(metrics.clone())
            .app_data(catalogue_owner.clone())
            .app_data(session_turns.clone())
            .app_data(body_limit)
            .app_data(body_timeout)
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
            .wrap(from_fn(crate::metrics::middleware))
            // The access log is rendered for every request; skip it when it would be discarded.
            .wrap(Condition::new(
                log::log_enabled!(target: "actix_web::middleware::logger", log::Level::Info),
                Logger::new(r#"%a "%r" %s %b %Dms request_id=%{x-request-id}o"#),
            ))
    })
    .workers(config.workers)
    .shutdown_timeout(config.shutdown_timeout.as_secs())
    .client_request_timeout(config.request_timeout)
    .listen(listener)?
    .run();
    Ok(server)
}

/// Loads the signing keys (creating the first one if needed) and keeps them fresh, so a rotation
/// made by another instance is picked up.
async fn auth_state(
    config: &Config,
    pool: &DbPool,
) -> Result<AuthState, Box<dyn std::error::Error>> {
    let keys = Arc::new(KeyRing::empty());
    let mut conn = pool.get().await?;
    keys::ensure_signing_key(&mut conn).await?;
    keys.reload(&mut conn).await?;
    drop(conn);
    let refreshed = keys.clone();
    let pool = pool.clone();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(KEY_REFRESH);
        tick.tick().await;
        loop {
            tick.tick().await;
            if let Ok(mut conn) = pool.get().await {
                if let Err(error) = refreshed.reload(&mut conn).await {
                    log::warn!("cannot reload the signing keys: {error}");
                }
            }
        }
    });
    let client_states = Arc::new(ClientStates::default());
    client_states.spawn_listener(
        config.database_url.clone(),
        config.connect_timeout,
        config.statement_timeout,
    );
    Ok(AuthState {
        keys,
        settings: TokenSettings {
            issuer: config.jwt_issuer.clone(),
            audience: config.jwt_audience.clone(),
            ttl: config.token_ttl,
        },
        limiter: RateLimiter::new(config.rate_limit_per_minute),
        verified: VerifiedTokens::new(VERIFIED_TOKENS),
        client_states,
    })
}

/// Prunes the change feed and finished webhook deliveries past the feed's retention window, and
/// expired idempotency keys, and vacuums the feed's captures, hourly.
/// Pruning twice is harmless, so every instance may do it.
fn spawn_pruning(pool: DbPool, retention: Duration, idempotency_ttl: Duration) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(3600));
        loop {
            tick.tick().await;
            let Ok(mut conn) = pool.get().await else {
                continue;
            };
            match crate::changes::store::prune(&mut conn, retention).await {
                Ok(0) => {}
                Ok(n) => log::info!("pruned {n} changes older than the feed retention"),
                Err(error) => log::warn!("cannot prune the change feed: {error}"),
            }
            if let Err(error) = crate::idempotency::prune(&mut conn, idempotency_ttl).await {
                log::warn!("cannot prune idempotency keys: {error}");
            }
            if let Err(error) = crate::webhooks::store::prune(&mut conn, retention).await {
                log::warn!("cannot prune webhook deliveries: {error}");
            }
            if let Err(error) = crate::changes::store::vacuum_captures(&mut conn).await {
                log::warn!("cannot vacuum the feed's captures: {error}");
            }
        }
    });
}

/// How often each instance rereads the signing keys.
const KEY_REFRESH: Duration = Duration::from_secs(60);

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

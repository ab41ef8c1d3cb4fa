//! `GET /metrics`: the Prometheus scrape.

use actix_web::{get, web, HttpResponse};
use diesel::prelude::*;
use diesel::sql_types::BigInt;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use crate::db::DbPool;
use crate::metrics::Metrics;

#[derive(QueryableByName)]
struct QueueState {
    #[diesel(sql_type = BigInt)]
    feed_head: i64,
    #[diesel(sql_type = BigInt)]
    fanout_lag: i64,
    #[diesel(sql_type = BigInt)]
    pending: i64,
    #[diesel(sql_type = BigInt)]
    due: i64,
    #[diesel(sql_type = BigInt)]
    oldest_pending_seconds: i64,
    #[diesel(sql_type = BigInt)]
    failed: i64,
    #[diesel(sql_type = BigInt)]
    endpoints_disabled: i64,
}

async fn queue_state(conn: &mut AsyncPgConnection) -> QueryResult<QueueState> {
    diesel::sql_query(
        "SELECT
            COALESCE((SELECT max(position) FROM changes), 0) AS feed_head,
            COALESCE((SELECT max(position) FROM changes), 0)
              - COALESCE((SELECT min(feed_position) FROM webhook_endpoints WHERE enabled),
                         (SELECT max(position) FROM changes), 0) AS fanout_lag,
            (SELECT count(*) FROM webhook_deliveries WHERE status = 'pending') AS pending,
            (SELECT count(*) FROM webhook_deliveries d JOIN webhook_endpoints e ON e.id = d.endpoint_id
              WHERE d.status = 'pending' AND e.enabled AND d.next_attempt_at <= now()) AS due,
            COALESCE((SELECT extract(epoch FROM now() - min(created_at))::bigint
                        FROM webhook_deliveries WHERE status = 'pending'), 0) AS oldest_pending_seconds,
            (SELECT count(*) FROM webhook_deliveries WHERE status = 'failed') AS failed,
            (SELECT count(*) FROM webhook_endpoints WHERE NOT enabled) AS endpoints_disabled",
    )
    .get_result(conn)
    .await
}

/// Metrics
///
/// Prometheus text format: `http_requests_total` and `http_request_duration_seconds` (a
/// histogram) per `method`, `route` (the path pattern, `/api/v1/sessions/{id}`) and `status`;
/// read at each scrape, the connection pool (`anct_db_pool_size`, `…_available`, `…_waiting`,
/// `…_max_size`), `anct_database_up`, the change feed (`anct_feed_head_position`) and webhooks (`anct_webhook_fanout_lag_changes`,
/// `anct_webhook_deliveries_pending`, `…_due`, `…_failed`,
/// `anct_webhook_oldest_pending_seconds`, `anct_webhook_endpoints_disabled`). Not behind a
/// token, like the health probes: restrict it at the network's edge.
#[utoipa::path(
    tag = "operations",
    operation_id = "metrics",
    responses((status = 200, description = "The metrics", content_type = "text/plain; version=0.0.4",
        body = String,
        example = "# HELP http_requests_total HTTP requests answered\n# TYPE http_requests_total counter\nhttp_requests_total{method=\"GET\",route=\"/api/v1/sessions/{id}\",status=\"200\"} 42\n"))
)]
#[get("/metrics")]
pub async fn metrics(metrics: web::Data<Metrics>, pool: web::Data<DbPool>) -> HttpResponse {
    let status = pool.status();
    metrics.set("anct_db_pool_max_size", status.max_size as i64);
    metrics.set("anct_db_pool_size", status.size as i64);
    metrics.set("anct_db_pool_available", status.available as i64);
    metrics.set("anct_db_pool_waiting", status.waiting as i64);
    let state = match pool.get().await {
        Ok(mut conn) => queue_state(&mut conn).await.ok(),
        Err(_) => None,
    };
    metrics.set("anct_database_up", i64::from(state.is_some()));
    if let Some(state) = state {
        metrics.set("anct_feed_head_position", state.feed_head);
        metrics.set("anct_webhook_fanout_lag_changes", state.fanout_lag);
        metrics.set("anct_webhook_deliveries_pending", state.pending);
        metrics.set("anct_webhook_deliveries_due", state.due);
        metrics.set(
            "anct_webhook_oldest_pending_seconds",
            state.oldest_pending_seconds,
        );
        metrics.set("anct_webhook_deliveries_failed", state.failed);
        metrics.set("anct_webhook_endpoints_disabled", state.endpoints_disabled);
    }
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(metrics.render())
}

//! Liveness and readiness probes for load balancers and orchestrators.

use actix_web::{get, web, HttpResponse};
use serde::Serialize;
use utoipa::ToSchema;

use crate::db::{migrations, DbPool};
use crate::error::ApiError;
use crate::openapi::responses::ServiceUnavailable;

/// A probe's verdict.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"status": "ok"}))]
pub struct Health {
    /// Always `ok` on a 200.
    pub status: &'static str,
}

/// Liveness
///
/// 200 whenever the process serves HTTP; it does not touch the database.
#[utoipa::path(
    tag = "operations",
    operation_id = "health_live",
    responses((status = 200, description = "The process is alive", body = Health))
)]
#[get("/health/live")]
pub async fn live() -> HttpResponse {
    HttpResponse::Ok().json(Health { status: "ok" })
}

/// Readiness
///
/// 200 when the database answers and every migration is applied; 503 otherwise.
#[utoipa::path(
    tag = "operations",
    operation_id = "health_ready",
    responses(
        (status = 200, description = "Ready to serve", body = Health),
        (status = 503, response = ServiceUnavailable),
    )
)]
#[get("/health/ready")]
pub async fn ready(pool: web::Data<DbPool>) -> Result<HttpResponse, ApiError> {
    let mut conn = pool.get().await?;
    if migrations::all_applied(&mut conn).await? {
        Ok(HttpResponse::Ok().json(Health { status: "ok" }))
    } else {
        Err(ApiError::new(
            actix_web::http::StatusCode::SERVICE_UNAVAILABLE,
            "migrations_pending",
            "Database migrations are not all applied yet",
        )
        .with_header(
            actix_web::http::header::RETRY_AFTER,
            actix_web::http::header::HeaderValue::from_static("5"),
        ))
    }
}

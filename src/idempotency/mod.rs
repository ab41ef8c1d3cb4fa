//! `Idempotency-Key` on POST: the same key and body replay the first response (marked
//! `Idempotent-Replayed: true`); the same key with another request is a 422; while the first is
//! still running, a 409. The stored response is written in the same transaction as the work, so
//! a crash leaves either both or neither. Keys live `IDEMPOTENCY_TTL_HOURS` (48).

use std::future::{ready, Ready};

use actix_web::{
    body::{to_bytes, BoxBody},
    dev::Payload,
    http::{header, StatusCode},
    FromRequest, HttpRequest, HttpResponse, ResponseError,
};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl, TransactionManager};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::auth::Caller;
use crate::db::schema::idempotency_keys;
use crate::db::DbPool;
use crate::error::{ApiError, FieldError};

/// The `Idempotency-Key` header, when sent (1–255 visible ASCII characters).
#[derive(Debug, Clone, Default)]
pub struct IdempotencyKey {
    key: Option<String>,
    /// SHA-256 of the method and path (the body is added by the handler).
    request: Vec<u8>,
}

pub const HEADER: &str = "idempotency-key";

impl FromRequest for IdempotencyKey {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let request =
            format!("{} {}?{}", req.method(), req.path(), req.query_string()).into_bytes();
        let key = match req.headers().get(HEADER) {
            None => None,
            Some(value) => match value.to_str() {
                Ok(text)
                    if (1..=255).contains(&text.len())
                        && text.bytes().all(|b| b.is_ascii_graphic()) =>
                {
                    Some(text.to_string())
                }
                _ => {
                    let mut error = ApiError::bad_request(
                        "invalid_idempotency_key",
                        "Idempotency-Key must be 1 to 255 visible ASCII characters (a UUID is ideal)",
                    );
                    error.errors = vec![FieldError::new(
                        "Idempotency-Key",
                        "invalid_value",
                        "1 to 255 visible ASCII characters",
                    )];
                    return ready(Err(error));
                }
            },
        };
        ready(Ok(IdempotencyKey { key, request }))
    }
}

impl IdempotencyKey {
    fn fingerprint(&self, body: &[u8]) -> Vec<u8> {
        let mut hasher = Sha256::new();
        hasher.update(&self.request);
        hasher.update([0]);
        hasher.update(body);
        hasher.finalize().to_vec()
    }
}

/// Headers worth replaying.
const KEPT_HEADERS: [header::HeaderName; 3] =
    [header::CONTENT_TYPE, header::LOCATION, header::ETAG];

/// Runs `work` in one transaction with the idempotency record of `key` (if any), and answers
/// with its response, or with the stored one when the request was already done.
pub async fn run<F>(
    pool: &DbPool,
    caller: &Caller,
    key: &IdempotencyKey,
    body: &[u8],
    work: F,
) -> Result<HttpResponse, ApiError>
where
    F: AsyncFnOnce(&mut AsyncPgConnection) -> Result<HttpResponse, ApiError>,
{
    let mut pooled = pool.get().await?;
    let conn: &mut AsyncPgConnection = &mut pooled;
    // Always in an explicit transaction, with or without a key: a statement run on its own
    // commits when its result has already been sent, and a failure at that commit (a deferred
    // trigger interrupted by a shutdown) would reach no one; an explicit COMMIT answers for itself.
    match &key.key {
        None => in_transaction(conn, async |conn| Ok((work(conn).await?, true))).await,
        Some(name) => {
            let fingerprint = key.fingerprint(body);
            in_transaction(conn, async |conn| {
                run_in_transaction(conn, &caller.client_id, name, &fingerprint, work).await
            })
            .await
        }
    }
}

/// Runs `work` between BEGIN and COMMIT; rolled back when it fails or says not to keep its
/// effects (its response is still answered).
async fn in_transaction<F>(conn: &mut AsyncPgConnection, work: F) -> Result<HttpResponse, ApiError>
where
    F: AsyncFnOnce(&mut AsyncPgConnection) -> Result<(HttpResponse, bool), ApiError>,
{
    type Manager = <AsyncPgConnection as AsyncConnection>::TransactionManager;
    Manager::begin_transaction(conn).await?;
    match work(conn).await {
        Ok((response, true)) => {
            Manager::commit_transaction(conn).await?;
            Ok(response)
        }
        Ok((response, false)) => {
            Manager::rollback_transaction(conn).await?;
            Ok(response)
        }
        Err(error) => {
            let _ = Manager::rollback_transaction(conn).await;
            Err(error)
        }
    }
}

/// The response, and whether the transaction (work and record) is to be committed.
async fn run_in_transaction<F>(
    conn: &mut AsyncPgConnection,
    client_id: &str,
    name: &str,
    fingerprint: &[u8],
    work: F,
) -> Result<(HttpResponse, bool), ApiError>
where
    F: AsyncFnOnce(&mut AsyncPgConnection) -> Result<HttpResponse, ApiError>,
{
    // Only one request per key at a time; the others learn it at once.
    let locked: bool =
        diesel::sql_query("SELECT pg_try_advisory_xact_lock(hashtext($1), hashtext($2)) AS locked")
            .bind::<diesel::sql_types::Text, _>(client_id)
            .bind::<diesel::sql_types::Text, _>(name)
            .get_result::<Locked>(conn)
            .await?
            .locked;
    if !locked {
        return Err(ApiError::conflict(
            "idempotency_key_in_use",
            "A request with this Idempotency-Key is still being processed; retry in a moment",
        ));
    }
    let stored: Option<(Vec<u8>, i32, Value, Vec<u8>)> = idempotency_keys::table
        .find((client_id, name))
        .select((
            idempotency_keys::fingerprint,
            idempotency_keys::response_status,
            idempotency_keys::response_headers,
            idempotency_keys::response_body,
        ))
        .first(conn)
        .await
        .optional()?;
    if let Some((stored_fingerprint, status, headers, body)) = stored {
        if stored_fingerprint != fingerprint {
            return Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "idempotency_key_reused",
                "This Idempotency-Key was used for another request; use a new key for a new request",
            ));
        }
        return Ok((replay(status, &headers, body), false));
    }
    let response = match work(conn).await {
        Ok(response) => response,
        Err(error) => error.error_response(),
    };
    // A failure of ours (5xx) is not an answer: the client may retry with the same key.
    if response.status().is_server_error() {
        return Ok((response, false));
    }
    let status = response.status();
    let headers: serde_json::Map<String, Value> = KEPT_HEADERS
        .iter()
        .filter_map(|name| {
            let value = response.headers().get(name)?.to_str().ok()?;
            Some((name.as_str().to_string(), json!(value)))
        })
        .collect();
    let body = to_bytes(response.into_body())
        .await
        .map_err(|_| ApiError::internal("cannot read the response to store it"))?;
    diesel::insert_into(idempotency_keys::table)
        .values((
            idempotency_keys::client_id.eq(client_id),
            idempotency_keys::key.eq(name),
            idempotency_keys::fingerprint.eq(fingerprint),
            idempotency_keys::response_status.eq(i32::from(status.as_u16())),
            idempotency_keys::response_headers.eq(Value::Object(headers.clone())),
            idempotency_keys::response_body.eq(body.to_vec()),
        ))
        .execute(conn)
        .await?;
    Ok((
        rebuild(
            status.as_u16() as i32,
            &Value::Object(headers),
            body.to_vec(),
            false,
        ),
        true,
    ))
}

#[derive(QueryableByName)]
struct Locked {
    #[diesel(sql_type = diesel::sql_types::Bool)]
    locked: bool,
}

fn replay(status: i32, headers: &Value, body: Vec<u8>) -> HttpResponse {
    rebuild(status, headers, body, true)
}

fn rebuild(status: i32, headers: &Value, body: Vec<u8>, replayed: bool) -> HttpResponse {
    let status = StatusCode::from_u16(status as u16).unwrap_or(StatusCode::OK);
    let mut response = HttpResponse::build(status);
    if let Some(headers) = headers.as_object() {
        for (name, value) in headers {
            if let Some(value) = value.as_str() {
                response.insert_header((name.as_str(), value));
            }
        }
    }
    if replayed {
        response.insert_header(("idempotent-replayed", "true"));
    }
    response.body(BoxBody::new(body))
}

/// Forgets keys older than `ttl`.
pub async fn prune(
    conn: &mut AsyncPgConnection,
    ttl: std::time::Duration,
) -> Result<usize, ApiError> {
    let horizon =
        chrono::Utc::now() - chrono::Duration::from_std(ttl).unwrap_or(chrono::Duration::hours(48));
    Ok(
        diesel::delete(idempotency_keys::table.filter(idempotency_keys::created_at.lt(horizon)))
            .execute(conn)
            .await?,
    )
}

//! `GET /api/v1/changes`.

use std::time::Duration;

use actix_web::{get, http::header, web, HttpRequest, HttpResponse};

use crate::auth::{Caller, Scope};
use crate::changes::views::{missing_read_scope, readable_types, ChangePage, FeedQuery};
use crate::changes::{store, FeedCursor};
use crate::db::DbPool;
use crate::error::ApiError;
use crate::openapi::responses::{BadRequest, Common};

/// How often a long poll looks again.
const POLL_INTERVAL: Duration = Duration::from_millis(200);

/// Follow the change feed
///
/// Every committed change of every resource, once, in commit order, as `{cursor, type, id,
/// action, version, occurred_at, data}`: `data` is the resource at `version` as its read
/// operation returns it (null for a deletion). Keep `next_cursor` and pass it as `after` to
/// continue; with `wait`, an empty page waits up to that many seconds for a change.
///
/// The feed never skips a change, even one whose transaction commits after a later one, and
/// never repeats one. To start, read each resource's list once and follow the feed from the
/// `X-Feed-Cursor` header of the list: nothing is missed in between. You receive the types your
/// scopes let you read (`changes:read` plus each type's read scope), within your programmes if
/// your client is restricted. A cursor older than the retention window answers 410: start again
/// from the lists.
#[utoipa::path(
    tag = "changes",
    operation_id = "list_changes",
    security(("oauth2" = ["changes:read"])),
    params(FeedQuery),
    responses(
        (status = 200, description = "The next changes", body = ChangePage,
            headers(("Link" = String, description = "`<url>; rel=\"next\"`: the same query after `next_cursor`"))),
        (status = 400, response = BadRequest),
        (status = 410, description = "The cursor is older than the retention window: resynchronise from the lists",
            body = crate::error::Problem, content_type = "application/problem+json",
            example = json!({"type": "urn:anct-formations:problem:cursor_expired", "title": "Gone", "status": 410,
                "detail": "This cursor is older than the feed's retention window; read every list again and follow the feed from its X-Feed-Cursor",
                "instance": "/api/v1/changes", "code": "cursor_expired", "request_id": "b4c7e0de-1f0a-4a53-8c0b-6f2e0d0a9a11"})),
        Common,
    )
)]
#[get("/changes")]
pub async fn list_changes(
    caller: Caller,
    pool: web::Data<DbPool>,
    query: crate::http::QueryParams<FeedQuery>,
    request: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::ChangesRead)?;
    let query = query.0;
    let requested = query.types.0.as_deref().unwrap_or_default();
    if let Some(missing) = missing_read_scope(&caller.scopes, requested) {
        caller.require(missing)?;
    }
    let types = readable_types(&caller.scopes, requested);
    let visibility = caller.visibility();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(query.wait.0);
    let mut conn = pool.get().await?;
    let kept_from = store::pruned_before(&mut conn).await?;
    let after = match query.after {
        Some(cursor) if cursor.0 + 1 < kept_from => {
            return Err(ApiError::new(
                actix_web::http::StatusCode::GONE,
                "cursor_expired",
                "This cursor is older than the feed's retention window; read every list again and follow the feed from its X-Feed-Cursor",
            ))
        }
        Some(cursor) => cursor,
        None => FeedCursor((kept_from - 1).max(0)),
    };
    let (changes, next) = loop {
        let (changes, next) =
            store::read(&mut conn, after, query.limit.0, &types, &visibility).await?;
        if !changes.is_empty() || tokio::time::Instant::now() >= deadline {
            break (changes, next);
        }
        // Hold no connection while waiting.
        drop(conn);
        tokio::time::sleep(POLL_INTERVAL.min(deadline - tokio::time::Instant::now())).await;
        conn = pool.get().await?;
    };
    let mut link = form_urlencoded::Serializer::new(String::new());
    for (key, value) in form_urlencoded::parse(request.query_string().as_bytes()) {
        if key != "after" {
            link.append_pair(&key, &value);
        }
    }
    link.append_pair("after", &next.encode());
    Ok(HttpResponse::Ok()
        .insert_header((
            header::LINK,
            format!("<{}?{}>; rel=\"next\"", request.path(), link.finish()),
        ))
        .json(ChangePage {
            data: changes,
            next_cursor: next.encode(),
        }))
}

//! Endpoint and delivery queries, always within the calling client's own endpoints: another
//! client's endpoint is a 404, like one that does not exist.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use serde_json::{Map, Value};
use uuid::Uuid;

use crate::auth::{caller::insufficient_scope, Scope};
use crate::changes::views::{missing_read_scope, ResourceType};
use crate::db::schema::{webhook_attempts, webhook_deliveries, webhook_endpoints};
use crate::error::ApiError;
use crate::http::{merge_patch, IfMatch};
use crate::webhooks::domain::EndpointDraft;
use crate::webhooks::guard::{self, TargetPolicy};
use crate::webhooks::views::{
    Delivery, DeliveryAttempt, DeliveryDetail, DeliveryFilter, DeliveryStatus, WebhookEndpoint,
    WebhookEndpointFilter, WebhookEndpointInput,
};

#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = webhook_endpoints, check_for_backend(diesel::pg::Pg))]
struct EndpointRow {
    id: Uuid,
    url: String,
    description: Option<String>,
    types: Vec<String>,
    enabled: bool,
    disabled_at: Option<DateTime<Utc>>,
    disabled_reason: Option<String>,
    previous_secret_expires_at: Option<DateTime<Utc>>,
    version: i64,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl From<EndpointRow> for WebhookEndpoint {
    fn from(row: EndpointRow) -> Self {
        Self {
            id: row.id,
            url: row.url,
            description: row.description,
            types: row
                .types
                .iter()
                .filter_map(|t| ResourceType::parse(t))
                .collect(),
            enabled: row.enabled,
            disabled_at: row.disabled_at,
            disabled_reason: row.disabled_reason,
            previous_secret_expires_at: row
                .previous_secret_expires_at
                .filter(|expires| *expires > Utc::now()),
            version: row.version,
            created_at: row.created_at,
            updated_at: row.updated_at,
        }
    }
}

/// 403 unless `scopes` let the client read every type in `types`.
pub fn require_readable(scopes: &[Scope], types: &[ResourceType]) -> Result<(), ApiError> {
    match missing_read_scope(scopes, types) {
        Some(missing) => Err(insufficient_scope(missing)),
        None => Ok(()),
    }
}

/// One page (plus one row, to tell whether more follow) of the client's endpoints.
pub async fn list(
    conn: &mut AsyncPgConnection,
    client_id: &str,
    filter: &WebhookEndpointFilter,
) -> Result<Vec<WebhookEndpoint>, ApiError> {
    let mut query = webhook_endpoints::table
        .filter(webhook_endpoints::client_id.eq(client_id))
        .select(EndpointRow::as_select())
        .order(webhook_endpoints::id.asc())
        .limit(filter.limit.get() + 1)
        .into_boxed();
    if let Some(cursor) = filter.cursor {
        query = query.filter(webhook_endpoints::id.gt(cursor.after));
    }
    let rows = query.load(conn).await?;
    Ok(rows.into_iter().map(WebhookEndpoint::from).collect())
}

async fn load(
    conn: &mut AsyncPgConnection,
    client_id: &str,
    id: Uuid,
    for_update: bool,
) -> Result<WebhookEndpoint, ApiError> {
    let query = webhook_endpoints::table
        .find(id)
        .filter(webhook_endpoints::client_id.eq(client_id))
        .select(EndpointRow::as_select());
    let row = if for_update {
        query.for_update().first(conn).await
    } else {
        query.first(conn).await
    };
    row.optional()?
        .map(WebhookEndpoint::from)
        .ok_or_else(ApiError::not_found)
}

/// The client's endpoint `id`.
pub async fn find(
    conn: &mut AsyncPgConnection,
    client_id: &str,
    id: Uuid,
) -> Result<WebhookEndpoint, ApiError> {
    load(conn, client_id, id, false).await
}

/// Registers an endpoint. It receives the changes committed after this moment.
pub async fn create(
    conn: &mut AsyncPgConnection,
    client_id: &str,
    draft: &EndpointDraft,
    secret: &str,
) -> Result<WebhookEndpoint, ApiError> {
    let head = crate::changes::store::head(conn).await?;
    let row = diesel::insert_into(webhook_endpoints::table)
        .values((
            webhook_endpoints::id.eq(Uuid::now_v7()),
            webhook_endpoints::client_id.eq(client_id),
            webhook_endpoints::url.eq(draft.url.as_str()),
            webhook_endpoints::description.eq(&draft.description),
            webhook_endpoints::types.eq(draft.type_names()),
            webhook_endpoints::enabled.eq(draft.enabled),
            webhook_endpoints::disabled_at.eq((!draft.enabled).then(Utc::now)),
            webhook_endpoints::disabled_reason.eq((!draft.enabled).then_some(DISABLED_BY_CLIENT)),
            webhook_endpoints::secret.eq(secret),
            webhook_endpoints::feed_position.eq(head.0),
        ))
        .returning(EndpointRow::as_returning())
        .get_result(conn)
        .await?;
    Ok(row.into())
}

const DISABLED_BY_CLIENT: &str = "Disabled by the client";

/// Applies a merge patch under `If-Match`. A new URL is checked against the guard; new types
/// against the client's scopes. Enabling clears the reason it was disabled for.
pub async fn update(
    conn: &mut AsyncPgConnection,
    client_id: &str,
    id: Uuid,
    if_match: &IfMatch,
    patch: Map<String, Value>,
    scopes: &[Scope],
    policy: TargetPolicy,
) -> Result<WebhookEndpoint, ApiError> {
    conn.transaction::<_, ApiError, _>(async |conn| {
        let current = load(conn, client_id, id, true).await?;
        if_match.check(&current)?;
        let input = merge_patch::patched::<_, crate::webhooks::views::WebhookEndpointPatch>(
            &WebhookEndpointInput::from(&current),
            patch,
            &[
                "id",
                "version",
                "created_at",
                "updated_at",
                "disabled_at",
                "disabled_reason",
                "previous_secret_expires_at",
                "secret",
            ],
        )?;
        let draft = EndpointDraft::try_from(input)?;
        let before = EndpointDraft::try_from(WebhookEndpointInput::from(&current)).ok();
        if before.as_ref() == Some(&draft) {
            return Ok(current);
        }
        require_readable(scopes, &draft.types)?;
        if before.as_ref().is_none_or(|b| b.url != draft.url) {
            guard::check_target(&draft.url, policy).await?;
        }
        let (disabled_at, disabled_reason) = match (current.enabled, draft.enabled) {
            (_, true) => (None, None),
            (true, false) => (Some(Utc::now()), Some(DISABLED_BY_CLIENT.to_string())),
            (false, false) => (current.disabled_at, current.disabled_reason.clone()),
        };
        let row = diesel::update(webhook_endpoints::table.find(id))
            .set((
                webhook_endpoints::url.eq(draft.url.as_str()),
                webhook_endpoints::description.eq(&draft.description),
                webhook_endpoints::types.eq(draft.type_names()),
                webhook_endpoints::enabled.eq(draft.enabled),
                webhook_endpoints::disabled_at.eq(disabled_at),
                webhook_endpoints::disabled_reason.eq(disabled_reason),
                webhook_endpoints::version.eq(webhook_endpoints::version + 1),
                webhook_endpoints::updated_at.eq(diesel::dsl::now),
            ))
            .returning(EndpointRow::as_returning())
            .get_result(conn)
            .await?;
        Ok(row.into())
    })
    .await
}

/// Deletes an endpoint under `If-Match`, with its deliveries and their log.
pub async fn delete(
    conn: &mut AsyncPgConnection,
    client_id: &str,
    id: Uuid,
    if_match: &IfMatch,
) -> Result<(), ApiError> {
    conn.transaction::<_, ApiError, _>(async |conn| {
        let current = load(conn, client_id, id, true).await?;
        if_match.check(&current)?;
        diesel::delete(webhook_endpoints::table.find(id))
            .execute(conn)
            .await?;
        Ok(())
    })
    .await
}

/// How long the previous secret keeps signing after a rotation.
pub const ROTATION_OVERLAP: chrono::Duration = chrono::Duration::hours(24);

/// Makes `secret` the signing secret; the current one keeps signing for `ROTATION_OVERLAP`.
pub async fn rotate_secret(
    conn: &mut AsyncPgConnection,
    client_id: &str,
    id: Uuid,
    secret: &str,
) -> Result<DateTime<Utc>, ApiError> {
    conn.transaction::<_, ApiError, _>(async |conn| {
        load(conn, client_id, id, true).await?;
        let expires: Option<DateTime<Utc>> = diesel::update(webhook_endpoints::table.find(id))
            .set((
                webhook_endpoints::previous_secret.eq(webhook_endpoints::secret.nullable()),
                webhook_endpoints::previous_secret_expires_at.eq(Utc::now() + ROTATION_OVERLAP),
                webhook_endpoints::secret.eq(secret),
                webhook_endpoints::version.eq(webhook_endpoints::version + 1),
                webhook_endpoints::updated_at.eq(diesel::dsl::now),
            ))
            .returning(webhook_endpoints::previous_secret_expires_at)
            .get_result(conn)
            .await?;
        expires.ok_or_else(|| ApiError::internal("the rotation set no expiry"))
    })
    .await
}

#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = webhook_deliveries, check_for_backend(diesel::pg::Pg))]
struct DeliveryRow {
    id: Uuid,
    endpoint_id: Uuid,
    change_position: i64,
    resource_type: String,
    resource_id: Uuid,
    status: String,
    attempts: i32,
    next_attempt_at: DateTime<Utc>,
    last_status_code: Option<i32>,
    last_error: Option<String>,
    created_at: DateTime<Utc>,
    delivered_at: Option<DateTime<Utc>>,
}

impl From<DeliveryRow> for Delivery {
    fn from(row: DeliveryRow) -> Self {
        let status = DeliveryStatus::from_db(&row.status);
        Self {
            id: row.id,
            endpoint_id: row.endpoint_id,
            resource_type: ResourceType::parse(&row.resource_type)
                .unwrap_or(ResourceType::Programme),
            resource_id: row.resource_id,
            cursor: crate::changes::FeedCursor(row.change_position).encode(),
            status,
            attempts: row.attempts,
            next_attempt_at: (status == DeliveryStatus::Pending).then_some(row.next_attempt_at),
            last_status_code: row.last_status_code,
            last_error: row.last_error,
            created_at: row.created_at,
            delivered_at: row.delivered_at,
        }
    }
}

/// One page (plus one row) of an endpoint's deliveries, oldest first.
pub async fn list_deliveries(
    conn: &mut AsyncPgConnection,
    client_id: &str,
    endpoint_id: Uuid,
    filter: &DeliveryFilter,
) -> Result<Vec<Delivery>, ApiError> {
    find(conn, client_id, endpoint_id).await?;
    let mut query = webhook_deliveries::table
        .filter(webhook_deliveries::endpoint_id.eq(endpoint_id))
        .select(DeliveryRow::as_select())
        .order(webhook_deliveries::id.asc())
        .limit(filter.limit.get() + 1)
        .into_boxed();
    if let Some(cursor) = filter.cursor {
        query = query.filter(webhook_deliveries::id.gt(cursor.after));
    }
    if let Some(status) = filter.status {
        query = query.filter(webhook_deliveries::status.eq(status.as_str()));
    }
    let rows = query.load(conn).await?;
    Ok(rows.into_iter().map(Delivery::from).collect())
}

async fn delivery_row(
    conn: &mut AsyncPgConnection,
    client_id: &str,
    endpoint_id: Uuid,
    delivery_id: Uuid,
) -> Result<(DeliveryRow, String), ApiError> {
    find(conn, client_id, endpoint_id).await?;
    webhook_deliveries::table
        .find(delivery_id)
        .filter(webhook_deliveries::endpoint_id.eq(endpoint_id))
        .select((DeliveryRow::as_select(), webhook_deliveries::payload))
        .first(conn)
        .await
        .optional()?
        .ok_or_else(ApiError::not_found)
}

/// A delivery with its body and attempt log.
pub async fn find_delivery(
    conn: &mut AsyncPgConnection,
    client_id: &str,
    endpoint_id: Uuid,
    delivery_id: Uuid,
) -> Result<DeliveryDetail, ApiError> {
    let (row, payload) = delivery_row(conn, client_id, endpoint_id, delivery_id).await?;
    let attempt_log = webhook_attempts::table
        .filter(webhook_attempts::delivery_id.eq(delivery_id))
        .order(webhook_attempts::id.asc())
        .select((
            webhook_attempts::attempted_at,
            webhook_attempts::status_code,
            webhook_attempts::latency_ms,
            webhook_attempts::error,
        ))
        .load::<(DateTime<Utc>, Option<i32>, i32, Option<String>)>(conn)
        .await?
        .into_iter()
        .map(
            |(attempted_at, status_code, latency_ms, error)| DeliveryAttempt {
                attempted_at,
                status_code,
                latency_ms,
                error,
            },
        )
        .collect();
    Ok(DeliveryDetail {
        delivery: row.into(),
        payload: serde_json::from_str(&payload).map_err(ApiError::internal)?,
        attempt_log,
    })
}

/// Sends a delivery again, now, with a fresh budget of attempts (a pending one is brought
/// forward). 409 while the endpoint is disabled: enable it first.
pub async fn redeliver(
    conn: &mut AsyncPgConnection,
    client_id: &str,
    endpoint_id: Uuid,
    delivery_id: Uuid,
) -> Result<Delivery, ApiError> {
    conn.transaction::<_, ApiError, _>(async |conn| {
        let endpoint = load(conn, client_id, endpoint_id, true).await?;
        delivery_row(conn, client_id, endpoint_id, delivery_id).await?;
        if !endpoint.enabled {
            return Err(ApiError::conflict(
                "endpoint_disabled",
                "This endpoint is disabled: enable it (PATCH {\"enabled\": true}) before redelivering",
            ));
        }
        let row = diesel::update(webhook_deliveries::table.find(delivery_id))
            .set((
                webhook_deliveries::status.eq(DeliveryStatus::Pending.as_str()),
                webhook_deliveries::attempts.eq(0),
                webhook_deliveries::next_attempt_at.eq(diesel::dsl::now),
                webhook_deliveries::lease_until.eq(None::<DateTime<Utc>>),
                webhook_deliveries::lease_token.eq(None::<Uuid>),
            ))
            .returning(DeliveryRow::as_returning())
            .get_result(conn)
            .await?;
        Ok(row.into())
    })
    .await
}

/// Removes an erased person's data from the bodies of their deliveries, like from the feed.
pub async fn forget_person(conn: &mut AsyncPgConnection, chef_id: Uuid) -> Result<(), ApiError> {
    diesel::update(
        webhook_deliveries::table
            .filter(webhook_deliveries::resource_type.eq(ResourceType::ChefDeProjet.as_str()))
            .filter(webhook_deliveries::resource_id.eq(chef_id)),
    )
    .set(
        webhook_deliveries::payload.eq(diesel::dsl::sql::<diesel::sql_types::Text>(
            "(payload::jsonb || '{\"data\": null}'::jsonb)::text",
        )),
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Deletes finished deliveries (and their log) older than `retention`.
pub async fn prune(
    conn: &mut AsyncPgConnection,
    retention: std::time::Duration,
) -> Result<usize, ApiError> {
    let horizon =
        Utc::now() - chrono::Duration::from_std(retention).unwrap_or(chrono::Duration::days(30));
    Ok(diesel::delete(
        webhook_deliveries::table
            .filter(webhook_deliveries::status.ne(DeliveryStatus::Pending.as_str()))
            .filter(webhook_deliveries::created_at.lt(horizon)),
    )
    .execute(conn)
    .await?)
}

//! The delivery queue. Fan-out turns the change feed into deliveries, per endpoint, under the
//! endpoint's row lock (SKIP LOCKED: an instance never waits for another) and a unique
//! (endpoint, change) pair, so a change becomes one delivery per endpoint whatever the number of
//! instances. Claiming takes due deliveries with `FOR UPDATE SKIP LOCKED` and leases them, so
//! one instance sends a delivery at a time; a lease lost in a crash expires and the delivery is
//! sent again (at least once, deduplicated by receivers on `webhook-id`).

use std::time::Duration;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Double, Integer, Nullable, Text, Uuid as SqlUuid};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use crate::auth::{Scope, Visibility};
use crate::changes::views::{readable_types, ResourceType};
use crate::changes::{store as feed, FeedCursor};
use crate::config::WebhookSettings;
use crate::db::schema::{api_clients, webhook_attempts, webhook_deliveries, webhook_endpoints};
use crate::error::ApiError;

/// Changes turned into deliveries per endpoint and round.
const FAN_OUT_BATCH: i64 = 500;
/// Rounds per endpoint and call, so one busy endpoint cannot starve the others.
const FAN_OUT_ROUNDS: usize = 20;

/// Creates the deliveries of every enabled endpoint that is behind the feed; returns how many.
pub async fn fan_out(conn: &mut AsyncPgConnection) -> Result<usize, ApiError> {
    let head = feed::head(conn).await?;
    let behind: Vec<Uuid> = webhook_endpoints::table
        .filter(webhook_endpoints::enabled.eq(true))
        .filter(webhook_endpoints::feed_position.lt(head.0))
        .select(webhook_endpoints::id)
        .load(conn)
        .await?;
    let mut created = 0;
    for endpoint in behind {
        for _ in 0..FAN_OUT_ROUNDS {
            let (made, full) = fan_out_endpoint(conn, endpoint).await?;
            created += made;
            if !full {
                break;
            }
        }
    }
    Ok(created)
}

/// One batch of one endpoint; returns the deliveries made and whether the batch was full.
async fn fan_out_endpoint(
    conn: &mut AsyncPgConnection,
    endpoint_id: Uuid,
) -> Result<(usize, bool), ApiError> {
    // REPEATABLE READ: the page of changes and the head the cursor may skip to are one snapshot.
    conn.build_transaction()
        .repeatable_read()
        .run::<_, ApiError, _>(async |conn| {
            let endpoint: Option<(String, Vec<String>, i64)> = webhook_endpoints::table
                .find(endpoint_id)
                .filter(webhook_endpoints::enabled.eq(true))
                .select((
                    webhook_endpoints::client_id,
                    webhook_endpoints::types,
                    webhook_endpoints::feed_position,
                ))
                .for_update()
                .skip_locked()
                .first(conn)
                .await
                .optional()?;
            let Some((client_id, types, position)) = endpoint else {
                return Ok((0, false));
            };
            let client: Option<(Vec<String>, Vec<Uuid>)> = api_clients::table
                .filter(api_clients::client_id.eq(&client_id))
                .filter(api_clients::disabled_at.is_null())
                .select((api_clients::scopes, api_clients::programme_ids))
                .first(conn)
                .await
                .optional()?;
            // A disabled client's endpoints wait, their place in the feed kept.
            let Some((scopes, programmes)) = client else {
                return Ok((0, false));
            };
            let scopes: Vec<Scope> = scopes.iter().filter_map(|s| Scope::parse(s)).collect();
            let wanted: Vec<ResourceType> = types
                .iter()
                .filter_map(|t| ResourceType::parse(t))
                .collect();
            let visibility = if programmes.is_empty() {
                Visibility::All
            } else {
                Visibility::Programmes(programmes)
            };
            let kept_from = feed::pruned_before(conn).await?;
            let after = FeedCursor(position.max(kept_from - 1));
            let (changes, next) = feed::read_in_snapshot(
                conn,
                after,
                FAN_OUT_BATCH,
                &readable_types(&scopes, &wanted),
                &visibility,
            )
            .await?;
            let full = changes.len() as i64 == FAN_OUT_BATCH;
            let rows = changes
                .iter()
                .map(|change| {
                    Ok((
                        webhook_deliveries::id.eq(Uuid::now_v7()),
                        webhook_deliveries::endpoint_id.eq(endpoint_id),
                        webhook_deliveries::change_position.eq(change.position),
                        webhook_deliveries::resource_type.eq(change.resource_type.as_str()),
                        webhook_deliveries::resource_id.eq(change.id),
                        webhook_deliveries::payload
                            .eq(serde_json::to_string(change).map_err(ApiError::internal)?),
                    ))
                })
                .collect::<Result<Vec<_>, ApiError>>()?;
            let made = if rows.is_empty() {
                0
            } else {
                diesel::insert_into(webhook_deliveries::table)
                    .values(rows)
                    .on_conflict_do_nothing()
                    .execute(conn)
                    .await?
            };
            diesel::update(webhook_endpoints::table.find(endpoint_id))
                .set(webhook_endpoints::feed_position.eq(next.0))
                .execute(conn)
                .await?;
            Ok((made, full))
        })
        .await
}

/// A delivery this instance holds the lease of, with what sending it needs.
#[derive(Debug, Clone, QueryableByName)]
pub struct Claimed {
    #[diesel(sql_type = SqlUuid)]
    pub id: Uuid,
    #[diesel(sql_type = SqlUuid)]
    pub endpoint_id: Uuid,
    #[diesel(sql_type = Text)]
    pub url: String,
    #[diesel(sql_type = Text)]
    pub payload: String,
    /// This attempt's number.
    #[diesel(sql_type = Integer)]
    pub attempts: i32,
    #[diesel(sql_type = Text)]
    pub secret: String,
    /// Still signing during a rotation.
    #[diesel(sql_type = Nullable<Text>)]
    pub previous_secret: Option<String>,
    #[diesel(sql_type = SqlUuid)]
    pub lease_token: Uuid,
}

/// Leases up to `limit` due deliveries of enabled endpoints for `lease`.
pub async fn claim(
    conn: &mut AsyncPgConnection,
    limit: i64,
    lease: Duration,
) -> Result<Vec<Claimed>, ApiError> {
    Ok(diesel::sql_query(
        "WITH due AS (
             SELECT d.id FROM webhook_deliveries d
               JOIN webhook_endpoints e ON e.id = d.endpoint_id
              WHERE d.status = 'pending' AND d.next_attempt_at <= now()
                AND (d.lease_until IS NULL OR d.lease_until < now())
                AND e.enabled
              ORDER BY d.next_attempt_at
              LIMIT $1
                FOR UPDATE OF d SKIP LOCKED)
         UPDATE webhook_deliveries d
            SET lease_until = now() + make_interval(secs => $2),
                lease_token = $3,
                attempts = d.attempts + 1
           FROM due, webhook_endpoints e
          WHERE d.id = due.id AND e.id = d.endpoint_id
      RETURNING d.id, d.endpoint_id, e.url, d.payload, d.attempts, e.secret,
                CASE WHEN e.previous_secret_expires_at > now() THEN e.previous_secret END AS previous_secret,
                d.lease_token",
    )
    .bind::<BigInt, _>(limit)
    .bind::<Double, _>(lease.as_secs_f64())
    .bind::<SqlUuid, _>(Uuid::new_v4())
    .load(conn)
    .await?)
}

/// What one attempt came to.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub attempted_at: DateTime<Utc>,
    pub status_code: Option<i32>,
    pub latency_ms: i32,
    /// `None` for a success (2xx).
    pub error: Option<String>,
}

/// The wait before attempt `attempts + 1`: `first × 3^(attempts-1)`, at most 12 hours, ±20%.
pub fn retry_delay(first: Duration, attempts: i32, jitter: f64) -> Duration {
    let exponent = (attempts.max(1) - 1).min(30);
    let base = first.as_secs_f64() * 3f64.powi(exponent);
    let capped = base.min(MAX_RETRY_DELAY.as_secs_f64());
    Duration::from_secs_f64(capped * (0.8 + 0.4 * jitter.clamp(0.0, 1.0)))
}

const MAX_RETRY_DELAY: Duration = Duration::from_secs(12 * 3600);

fn random_unit() -> f64 {
    let mut bytes = [0u8; 4];
    let _ = getrandom::fill(&mut bytes);
    f64::from(u32::from_le_bytes(bytes)) / f64::from(u32::MAX)
}

/// Records an attempt and moves the delivery on: succeeded, scheduled again, or failed for
/// good — which disables its endpoint with the reason. Nothing changes on a delivery whose
/// lease this instance lost.
pub async fn record(
    conn: &mut AsyncPgConnection,
    claimed: &Claimed,
    outcome: &Outcome,
    settings: &WebhookSettings,
) -> Result<(), ApiError> {
    conn.transaction::<_, ApiError, _>(async |conn| {
        diesel::insert_into(webhook_attempts::table)
            .values((
                webhook_attempts::delivery_id.eq(claimed.id),
                webhook_attempts::attempted_at.eq(outcome.attempted_at),
                webhook_attempts::status_code.eq(outcome.status_code),
                webhook_attempts::latency_ms.eq(outcome.latency_ms),
                webhook_attempts::error.eq(&outcome.error),
            ))
            .execute(conn)
            .await?;
        let mine = webhook_deliveries::table
            .filter(webhook_deliveries::id.eq(claimed.id))
            .filter(webhook_deliveries::lease_token.eq(claimed.lease_token));
        let released = (
            webhook_deliveries::lease_until.eq(None::<DateTime<Utc>>),
            webhook_deliveries::lease_token.eq(None::<Uuid>),
            webhook_deliveries::last_status_code.eq(outcome.status_code),
            webhook_deliveries::last_error.eq(&outcome.error),
        );
        let Some(error) = &outcome.error else {
            diesel::update(mine)
                .set((
                    released,
                    webhook_deliveries::status.eq("succeeded"),
                    webhook_deliveries::delivered_at.eq(outcome.attempted_at),
                ))
                .execute(conn)
                .await?;
            return Ok(());
        };
        if claimed.attempts < settings.max_attempts {
            let delay = retry_delay(settings.first_retry, claimed.attempts, random_unit());
            let next = Utc::now() + chrono::Duration::from_std(delay).unwrap_or_default();
            diesel::update(mine)
                .set((released, webhook_deliveries::next_attempt_at.eq(next)))
                .execute(conn)
                .await?;
            return Ok(());
        }
        let failed = diesel::update(mine)
            .set((released, webhook_deliveries::status.eq("failed")))
            .execute(conn)
            .await?;
        if failed > 0 {
            let reason = format!(
                "Delivery {} failed {} attempts in a row; last error: {}",
                claimed.id,
                claimed.attempts,
                error.chars().take(500).collect::<String>()
            );
            diesel::update(
                webhook_endpoints::table
                    .find(claimed.endpoint_id)
                    .filter(webhook_endpoints::enabled.eq(true)),
            )
            .set((
                webhook_endpoints::enabled.eq(false),
                webhook_endpoints::disabled_at.eq(diesel::dsl::now),
                webhook_endpoints::disabled_reason.eq(reason),
                webhook_endpoints::version.eq(webhook_endpoints::version + 1),
                webhook_endpoints::updated_at.eq(diesel::dsl::now),
            ))
            .execute(conn)
            .await?;
            log::warn!(
                "webhook endpoint {} disabled: delivery {} failed {} attempts",
                claimed.endpoint_id,
                claimed.id,
                claimed.attempts
            );
        }
        Ok(())
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_schedule_spans_about_three_days() {
        let first = Duration::from_secs(5);
        let total: f64 = (1..15)
            .map(|n| retry_delay(first, n, 0.5).as_secs_f64())
            .sum();
        let days = total / 86_400.0;
        assert!((2.5..3.5).contains(&days), "{days} days");
        assert_eq!(retry_delay(first, 1, 0.5), first);
        assert_eq!(retry_delay(first, 2, 0.5), first * 3);
        assert!(retry_delay(first, 1, 0.0) < retry_delay(first, 1, 1.0));
        assert_eq!(retry_delay(first, 40, 0.5), MAX_RETRY_DELAY);
    }
}

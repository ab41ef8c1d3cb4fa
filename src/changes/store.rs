//! Reading the feed, and turning the snapshots it holds into the API's representations.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde::Deserialize;
use serde_json::Value;
use uuid::Uuid;

use crate::auth::Visibility;
use crate::changes::views::{Change, ChangeAction, ResourceType};
use crate::changes::FeedCursor;
use crate::db::schema::{change_feed_state, changes};
use crate::error::ApiError;

type FeedRow = (
    i64,
    String,
    Uuid,
    String,
    Option<i64>,
    Option<Value>,
    Option<Vec<Uuid>>,
    DateTime<Utc>,
);

/// The oldest position still kept; a cursor before it cannot be followed.
pub async fn pruned_before(conn: &mut AsyncPgConnection) -> Result<i64, ApiError> {
    Ok(change_feed_state::table
        .select(change_feed_state::pruned_before)
        .first(conn)
        .await?)
}

/// The last position committed (or, when the feed was pruned empty, the last one pruned), for
/// the `X-Feed-Cursor` of a list read in the same snapshot.
pub async fn head(conn: &mut AsyncPgConnection) -> Result<FeedCursor, ApiError> {
    // One statement: a list page reads it inside its transaction, every round trip counts.
    let (pruned_before, head): (i64, Option<i64>) = change_feed_state::table
        .select((
            change_feed_state::pruned_before,
            changes::table
                .select(diesel::dsl::max(changes::position))
                .single_value(),
        ))
        .first(conn)
        .await?;
    Ok(FeedCursor(head.unwrap_or(0).max(pruned_before - 1).max(0)))
}

/// Up to `limit` changes after `after` of `types` that the caller sees, and the cursor to
/// resume from. Read in one snapshot, so the cursor never passes a change not yet returned.
pub async fn read(
    conn: &mut AsyncPgConnection,
    after: FeedCursor,
    limit: i64,
    types: &[ResourceType],
    visibility: &Visibility,
) -> Result<(Vec<Change>, FeedCursor), ApiError> {
    conn.build_transaction()
        .repeatable_read()
        .read_only()
        .run::<_, ApiError, _>(async |conn| {
            read_in_snapshot(conn, after, limit, types, visibility).await
        })
        .await
}

/// `read`, inside a transaction the caller opened at REPEATABLE READ: the page and the head it
/// may skip to must come from one snapshot.
pub async fn read_in_snapshot(
    conn: &mut AsyncPgConnection,
    after: FeedCursor,
    limit: i64,
    types: &[ResourceType],
    visibility: &Visibility,
) -> Result<(Vec<Change>, FeedCursor), ApiError> {
    let type_names: Vec<&str> = types.iter().map(|t| t.as_str()).collect();
    let mut query = changes::table
        .filter(changes::position.gt(after.0))
        .filter(changes::resource_type.eq_any(&type_names))
        .order(changes::position.asc())
        .limit(limit)
        .select((
            changes::position,
            changes::resource_type,
            changes::resource_id,
            changes::action,
            changes::version,
            changes::row_data,
            changes::programme_ids,
            changes::occurred_at,
        ))
        .into_boxed();
    if let Some(mine) = visibility.restricted_to() {
        query = query.filter(
            changes::programme_ids
                .is_null()
                .or(changes::programme_ids.overlaps_with(mine.to_vec())),
        );
    }
    let rows: Vec<FeedRow> = query.load(conn).await?;
    let next = if rows.len() as i64 == limit {
        FeedCursor(rows.last().map_or(after.0, |r| r.0))
    } else {
        FeedCursor(head(conn).await?.0.max(after.0))
    };
    let changes = rows
        .into_iter()
        .map(|row| to_change(row, visibility))
        .collect::<Result<Vec<_>, _>>()?;
    Ok((changes, next))
}

fn to_change(row: FeedRow, visibility: &Visibility) -> Result<Change, ApiError> {
    let (position, kind, id, action, version, row_data, _, occurred_at) = row;
    let resource_type = ResourceType::parse(&kind)
        .ok_or_else(|| ApiError::internal(format!("unknown change type {kind}")))?;
    let action = match action.as_str() {
        "delete" => ChangeAction::Delete,
        _ => ChangeAction::Upsert,
    };
    let data = match row_data {
        Some(snapshot) if action == ChangeAction::Upsert => Some(
            representation(resource_type, snapshot, visibility).map_err(|e| {
                ApiError::internal(format!("cannot read the snapshot of {kind} {id}: {e}"))
            })?,
        ),
        _ => None,
    };
    Ok(Change {
        position,
        cursor: FeedCursor(position).encode(),
        resource_type,
        id,
        action,
        version: version.unwrap_or_default(),
        occurred_at,
        data,
    })
}

/// A programme a snapshot names (memberships, targets).
#[derive(Debug, Deserialize)]
struct SnapshotProgramme {
    programme_id: Uuid,
    programme: String,
    #[serde(default)]
    joined_on: Option<NaiveDate>,
}

fn programmes_of(
    snapshot: &Value,
    visibility: &Visibility,
) -> Result<Vec<SnapshotProgramme>, serde_json::Error> {
    let all: Vec<SnapshotProgramme> = serde_json::from_value(
        snapshot
            .get("programmes")
            .cloned()
            .unwrap_or(Value::Array(vec![])),
    )?;
    Ok(all
        .into_iter()
        .filter(|p| visibility.sees_programme(p.programme_id))
        .collect())
}

/// The API representation of a snapshot: the same as the resource's read operation returns.
fn representation(
    resource_type: ResourceType,
    snapshot: Value,
    visibility: &Visibility,
) -> Result<Value, serde_json::Error> {
    use crate::{chefs_de_projet, collectivites, enrolments, programmes, sessions, trainings};
    match resource_type {
        ResourceType::Programme => {
            let row: programmes::rows::ProgrammeRow = serde_json::from_value(snapshot)?;
            serde_json::to_value(programmes::views::Programme::from(row))
        }
        ResourceType::Collectivite => {
            let memberships = programmes_of(&snapshot, visibility)?
                .into_iter()
                .map(|p| collectivites::views::Membership {
                    programme: p.programme,
                    joined_on: p.joined_on,
                })
                .collect();
            let row: collectivites::rows::CollectiviteRow = serde_json::from_value(snapshot)?;
            serde_json::to_value(row.into_view(memberships))
        }
        ResourceType::ChefDeProjet => {
            let codes = programmes_of(&snapshot, visibility)?
                .into_iter()
                .map(|p| p.programme)
                .collect();
            let row: chefs_de_projet::rows::ChefRow = serde_json::from_value(snapshot)?;
            serde_json::to_value(row.into_view(codes))
        }
        ResourceType::Training => {
            let codes = programmes_of(&snapshot, visibility)?
                .into_iter()
                .map(|p| p.programme)
                .collect();
            let row: trainings::rows::TrainingRow = serde_json::from_value(snapshot)?;
            serde_json::to_value(row.into_view(codes))
        }
        ResourceType::Session => {
            let row: sessions::rows::SessionRow = serde_json::from_value(snapshot)?;
            serde_json::to_value(sessions::views::Session::from(row))
        }
        ResourceType::Enrolment => {
            let position = snapshot.get("waitlist_position").and_then(Value::as_i64);
            let row: enrolments::rows::EnrolmentRow = serde_json::from_value(snapshot)?;
            serde_json::to_value(row.into_view(position))
        }
    }
}

/// Forgets personal data in the past changes of an erased chef de projet (their erasure itself
/// reaches partners as an anonymised change).
pub async fn forget_person(conn: &mut AsyncPgConnection, chef_id: Uuid) -> Result<(), ApiError> {
    diesel::update(
        changes::table
            .filter(changes::resource_type.eq(ResourceType::ChefDeProjet.as_str()))
            .filter(changes::resource_id.eq(chef_id)),
    )
    .set(changes::row_data.eq(None::<Value>))
    .execute(conn)
    .await?;
    Ok(())
}

/// Deletes the changes older than `retention` (a prefix of the feed: positions are given in
/// time order) and records where the feed now starts. Returns how many were deleted.
pub async fn prune(
    conn: &mut AsyncPgConnection,
    retention: std::time::Duration,
) -> Result<usize, ApiError> {
    let horizon =
        Utc::now() - chrono::Duration::from_std(retention).unwrap_or(chrono::Duration::days(30));
    let deleted: Vec<i64> = diesel::delete(changes::table.filter(changes::occurred_at.lt(horizon)))
        .returning(changes::position)
        .get_results(conn)
        .await?;
    if let Some(last) = deleted.iter().max() {
        diesel::update(change_feed_state::table)
            .set(change_feed_state::pruned_before.eq(
                diesel::dsl::sql::<diesel::sql_types::BigInt>(&format!(
                    "GREATEST(pruned_before, {})",
                    last + 1
                )),
            ))
            .execute(conn)
            .await?;
    }
    Ok(deleted.len())
}

/// Vacuums the feed's scratch table of captures: every write transaction leaves a dead row in
/// it (its capture, consumed at commit). Autovacuum does it every 1,000 rows where it runs; this
/// keeps the table small where it does not.
pub async fn vacuum_captures(conn: &mut AsyncPgConnection) -> Result<(), ApiError> {
    use diesel_async::SimpleAsyncConnection;
    conn.batch_execute("VACUUM change_captures").await?;
    Ok(())
}

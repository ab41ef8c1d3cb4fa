//! Training queries.

use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::sql_types::Bool;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use serde_json::{Map, Value};
use uuid::Uuid;

use crate::auth::Visibility;
use crate::db::schema::{programmes, sessions, training_programmes, trainings};
use crate::db::search::{contains_pattern, search_fold};
use crate::db::unique_violation;
use crate::error::ApiError;
use crate::http::{merge_patch, IfMatch};
use crate::programmes::store::resolve_codes;
use crate::trainings::domain::TrainingDraft;
use crate::trainings::rows::{TrainingRow, TrainingValues};
use crate::trainings::target_codes::TargetCodes;
use crate::trainings::views::{Training, TrainingFilter, TrainingInput};

fn conflict_or(error: diesel::result::Error, code: &str) -> ApiError {
    match unique_violation(&error) {
        Some("trainings_code_key") => ApiError::conflict(
            "training_code_taken",
            format!("A training with code `{code}` already exists"),
        ),
        _ => error.into(),
    }
}

type Visible = Box<dyn BoxableExpression<trainings::table, Pg, SqlType = Bool>>;

/// Trainings open to one of `mine`: targeting it, or open to all.
pub fn open_to(mine: &[Uuid]) -> Visible {
    let targeting = training_programmes::table
        .filter(training_programmes::programme_id.eq_any(mine.to_vec()))
        .select(training_programmes::training_id);
    let targeted = training_programmes::table.select(training_programmes::training_id);
    Box::new(
        trainings::id
            .eq_any(targeting)
            .or(diesel::dsl::not(trainings::id.eq_any(targeted))),
    )
}

/// Whether the caller sees training `id`.
pub async fn is_visible(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    visibility: &Visibility,
) -> Result<bool, ApiError> {
    let Some(mine) = visibility.restricted_to() else {
        return Ok(true);
    };
    let seen: i64 = trainings::table
        .filter(trainings::id.eq(id))
        .filter(open_to(mine))
        .count()
        .get_result(conn)
        .await?;
    Ok(seen > 0)
}

/// One page (plus one row) of live trainings the caller sees.
pub async fn list(
    conn: &mut AsyncPgConnection,
    filter: &TrainingFilter,
    visibility: &Visibility,
) -> Result<Vec<Training>, ApiError> {
    let mut query = trainings::table
        .filter(trainings::deleted_at.is_null())
        .select((TrainingRow::as_select(), TargetCodes::seen_by(visibility)))
        .order(trainings::id.asc())
        .limit(filter.limit.get() + 1)
        .into_boxed();
    if let Some(mine) = visibility.restricted_to() {
        query = query.filter(open_to(mine));
    }
    if let Some(cursor) = filter.cursor {
        query = query.filter(trainings::id.gt(cursor.after));
    }
    if let Some(status) = filter.status {
        query = query.filter(trainings::status.eq(status.as_str()));
    }
    if let Some(modality) = filter.modality {
        query = query.filter(trainings::modality.eq(modality.as_str()));
    }
    if let Some(code) = &filter.programme {
        let targeting = training_programmes::table
            .inner_join(programmes::table)
            .filter(programmes::code.eq(code.trim().to_string()))
            .select(training_programmes::training_id);
        let targeted = training_programmes::table.select(training_programmes::training_id);
        query = query.filter(
            trainings::id
                .eq_any(targeting)
                .or(diesel::dsl::not(trainings::id.eq_any(targeted))),
        );
    }
    if let Some(term) = filter.q.as_deref().filter(|q| !q.trim().is_empty()) {
        let pattern = contains_pattern(term);
        query = query.filter(
            search_fold(trainings::title)
                .like(search_fold(pattern.clone()))
                .or(search_fold(trainings::code).like(search_fold(pattern))),
        );
    }
    if let Some(after) = filter.updated_after {
        query = query.filter(trainings::updated_at.gt(after));
    }
    let rows: Vec<(TrainingRow, Vec<String>)> = query.load(conn).await?;
    Ok(rows
        .into_iter()
        .map(|(row, targets)| row.into_view(targets))
        .collect())
}

async fn load_one(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    for_update: bool,
    visibility: &Visibility,
) -> Result<Training, ApiError> {
    if !for_update {
        return find(conn, id, visibility).await;
    }
    if !is_visible(conn, id, visibility).await? {
        return Err(ApiError::not_found());
    }
    let (row, targets): (TrainingRow, Vec<String>) = trainings::table
        .find(id)
        .filter(trainings::deleted_at.is_null())
        .select((TrainingRow::as_select(), TargetCodes::seen_by(visibility)))
        .for_update()
        .first(conn)
        .await
        .optional()?
        .ok_or_else(ApiError::not_found)?;
    Ok(row.into_view(targets))
}

/// The live training `id`, if the caller sees it. One statement: fit for a shared read
/// connection.
pub async fn find(
    mut conn: &AsyncPgConnection,
    id: Uuid,
    visibility: &Visibility,
) -> Result<Training, ApiError> {
    // Not boxed: each shape has a type of its own, so diesel finds its prepared statement by
    // that type instead of writing out the SQL on every read to look it up.
    let query = trainings::table
        .filter(trainings::id.eq(id))
        .filter(trainings::deleted_at.is_null())
        .select((TrainingRow::as_select(), TargetCodes::seen_by(visibility)));
    let found: Option<(TrainingRow, Vec<String>)> = match visibility.restricted_to() {
        None => query.first(&mut conn).await.optional()?,
        Some(mine) => query
            .filter(open_to(mine))
            .first(&mut conn)
            .await
            .optional()?,
    };
    let (row, targets) = found.ok_or_else(ApiError::not_found)?;
    Ok(row.into_view(targets))
}

async fn replace_targets(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    programme_ids: &[Uuid],
) -> Result<(), diesel::result::Error> {
    diesel::delete(training_programmes::table.filter(training_programmes::training_id.eq(id)))
        .execute(conn)
        .await?;
    let rows: Vec<_> = programme_ids
        .iter()
        .map(|p| {
            (
                training_programmes::training_id.eq(id),
                training_programmes::programme_id.eq(*p),
            )
        })
        .collect();
    diesel::insert_into(training_programmes::table)
        .values(rows)
        .execute(conn)
        .await?;
    Ok(())
}

/// Resolves the target codes; a restricted caller must target one of its programmes, and the
/// targets of `id` it does not see are kept.
async fn resolve_targets(
    conn: &mut AsyncPgConnection,
    draft: &TrainingDraft,
    id: Option<Uuid>,
    visibility: &Visibility,
) -> Result<Vec<Uuid>, ApiError> {
    let mut ids = resolve_codes(
        conn,
        &draft.target_programmes,
        |i| format!("target_programmes[{i}]"),
        visibility,
    )
    .await?;
    visibility.require_one_of_mine("target_programmes", &ids)?;
    if let (Some(id), Some(mine)) = (id, visibility.restricted_to()) {
        let hidden: Vec<Uuid> = training_programmes::table
            .filter(training_programmes::training_id.eq(id))
            .filter(diesel::dsl::not(
                training_programmes::programme_id.eq_any(mine.to_vec()),
            ))
            .select(training_programmes::programme_id)
            .load(conn)
            .await?;
        ids.extend(hidden);
    }
    Ok(ids)
}

/// Creates a training; 409 when its code is taken.
pub async fn create(
    conn: &mut AsyncPgConnection,
    draft: &TrainingDraft,
    visibility: &Visibility,
) -> Result<Training, ApiError> {
    conn.transaction::<_, ApiError, _>(async |conn| {
        let targets = resolve_targets(conn, draft, None, visibility).await?;
        let id = Uuid::now_v7();
        diesel::insert_into(trainings::table)
            .values((trainings::id.eq(id), TrainingValues::from(draft)))
            .execute(conn)
            .await
            .map_err(|e| conflict_or(e, &draft.code))?;
        replace_targets(conn, id, &targets).await?;
        load_one(conn, id, false, visibility).await
    })
    .await
}

/// Applies a merge patch under `If-Match`; the code cannot change.
pub async fn update(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    if_match: &IfMatch,
    patch: Map<String, Value>,
    visibility: &Visibility,
) -> Result<Training, ApiError> {
    conn.transaction::<_, ApiError, _>(async |conn| {
        let current = load_one(conn, id, true, visibility).await?;
        if_match.check(&current)?;
        let before = TrainingInput::from(&current);
        let input = merge_patch::patched::<_, crate::trainings::views::TrainingPatch>(
            &before,
            patch,
            &merge_patch::SERVER_FIELDS,
        )?;
        if input.code != current.code {
            return Err(ApiError::invalid_field(
                "code",
                "immutable",
                "code cannot be changed once created",
            ));
        }
        let draft = TrainingDraft::try_from(input)?;
        if TrainingDraft::try_from(before).is_ok_and(|b| b == draft) {
            return Ok(current);
        }
        let targets = resolve_targets(conn, &draft, Some(id), visibility).await?;
        diesel::update(trainings::table.find(id))
            .set((
                TrainingValues::from(&draft),
                trainings::version.eq(trainings::version + 1),
                trainings::updated_at.eq(diesel::dsl::now),
            ))
            .execute(conn)
            .await?;
        replace_targets(conn, id, &targets).await?;
        load_one(conn, id, false, visibility).await
    })
    .await
}

/// Soft-deletes a training that has no session left; archive it otherwise.
pub async fn delete(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    if_match: &IfMatch,
    visibility: &Visibility,
) -> Result<(), ApiError> {
    conn.transaction::<_, ApiError, _>(async |conn| {
        let current = load_one(conn, id, true, visibility).await?;
        if_match.check(&current)?;
        let live_sessions: i64 = sessions::table
            .filter(sessions::training_id.eq(id))
            .filter(sessions::deleted_at.is_null())
            .count()
            .get_result(conn)
            .await?;
        if live_sessions > 0 {
            return Err(ApiError::conflict(
                "training_has_sessions",
                format!("The training has {live_sessions} session(s); archive it instead (status archived)"),
            ));
        }
        diesel::update(trainings::table.find(id))
            .set((
                trainings::deleted_at.eq(diesel::dsl::now),
                trainings::version.eq(trainings::version + 1),
                trainings::updated_at.eq(diesel::dsl::now),
            ))
            .execute(conn)
            .await?;
        Ok(())
    })
    .await
}

//! Session queries. Seat counts are written by the database trigger on enrolments, never here.

use chrono::Utc;
use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use serde_json::{Map, Value};
use uuid::Uuid;

use crate::auth::Visibility;
use crate::db::schema::{enrolments, programmes, sessions, training_programmes, trainings};
use crate::enrolments::lifecycle::{self, Actor};
use crate::error::ApiError;
use crate::http::{merge_patch, IfMatch};
use crate::sessions::domain::SessionDraft;
use crate::sessions::rows::{SessionRow, SessionValues};
use crate::sessions::views::{Session, SessionFilter, SessionInput, SessionStatus};
use crate::trainings::store::{is_visible as is_training_visible, open_to};

/// One page (plus one row) of live sessions the caller sees (those of trainings it sees).
pub async fn list(
    conn: &mut AsyncPgConnection,
    filter: &SessionFilter,
    visibility: &Visibility,
) -> Result<Vec<Session>, ApiError> {
    let mut query = sessions::table
        .filter(sessions::deleted_at.is_null())
        .select(SessionRow::as_select())
        .order(sessions::id.asc())
        .limit(filter.limit.get() + 1)
        .into_boxed();
    if let Some(mine) = visibility.restricted_to() {
        // The catalogue is small: its visible part is read first.
        let visible_trainings: Vec<Uuid> = trainings::table
            .filter(open_to(mine))
            .select(trainings::id)
            .load(conn)
            .await?;
        query = query.filter(sessions::training_id.eq_any(visible_trainings));
    }
    if let Some(cursor) = filter.cursor {
        query = query.filter(sessions::id.gt(cursor.after));
    }
    if let Some(training_id) = filter.training_id {
        query = query.filter(sessions::training_id.eq(training_id));
    }
    if let Some(code) = &filter.programme {
        let targeting = training_programmes::table
            .inner_join(programmes::table)
            .filter(programmes::code.eq(code.trim().to_string()))
            .select(training_programmes::training_id);
        let targeted = training_programmes::table.select(training_programmes::training_id);
        query = query.filter(
            sessions::training_id
                .eq_any(targeting)
                .or(diesel::dsl::not(sessions::training_id.eq_any(targeted))),
        );
    }
    if let Some(region) = &filter.region {
        query = query.filter(sessions::region_code.eq(region.trim().to_string()));
    }
    if let Some(status) = filter.status {
        query = query.filter(sessions::status.eq(status.as_str()));
    }
    if let Some(remote) = filter.remote {
        query = query.filter(sessions::remote.eq(remote));
    }
    if let Some(after) = filter.starts_after {
        query = query.filter(sessions::starts_at.ge(after));
    }
    if let Some(before) = filter.starts_before {
        query = query.filter(sessions::starts_at.lt(before));
    }
    if let Some(after) = filter.updated_after {
        query = query.filter(sessions::updated_at.gt(after));
    }
    let rows = query.load(conn).await?;
    Ok(rows.into_iter().map(Session::from).collect())
}

/// The live session `id`, if the caller sees it.
pub async fn find(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    visibility: &Visibility,
) -> Result<Session, ApiError> {
    find_visible_row(conn, id, false, visibility)
        .await
        .map(Session::from)
}

/// `find_row`, answering 404 for a session of a training the caller does not see.
pub async fn find_visible_row(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    for_update: bool,
    visibility: &Visibility,
) -> Result<SessionRow, ApiError> {
    let row = find_row(conn, id, for_update).await?;
    if is_training_visible(conn, row.training_id, visibility).await? {
        Ok(row)
    } else {
        Err(ApiError::not_found())
    }
}

/// The live session row, locked for the rest of the transaction when `for_update`: every change
/// of a session's enrolments takes this lock first, which serialises them per session.
pub async fn find_row(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    for_update: bool,
) -> Result<SessionRow, ApiError> {
    let query = sessions::table
        .find(id)
        .filter(sessions::deleted_at.is_null())
        .select(SessionRow::as_select());
    let row = if for_update {
        query.for_update().first(conn).await.optional()?
    } else {
        query.first(conn).await.optional()?
    };
    row.ok_or_else(ApiError::not_found)
}

/// The training of a new session must exist, be seen by the caller and not be archived.
async fn check_training(
    conn: &mut AsyncPgConnection,
    training_id: Uuid,
    visibility: &Visibility,
) -> Result<(), ApiError> {
    if !is_training_visible(conn, training_id, visibility).await? {
        return Err(ApiError::invalid_field(
            "training_id",
            "unknown_training",
            "no training has this id",
        ));
    }
    let status: Option<String> = trainings::table
        .find(training_id)
        .filter(trainings::deleted_at.is_null())
        .select(trainings::status)
        .first(conn)
        .await
        .optional()?;
    match status.as_deref() {
        None => Err(ApiError::invalid_field(
            "training_id",
            "unknown_training",
            "no training has this id",
        )),
        Some("archived") => Err(ApiError::invalid_field(
            "training_id",
            "training_archived",
            "the training is archived: it gets no new session",
        )),
        Some(_) => Ok(()),
    }
}

fn capacity_or(error: diesel::result::Error) -> ApiError {
    match &error {
        diesel::result::Error::DatabaseError(
            diesel::result::DatabaseErrorKind::CheckViolation,
            info,
        ) if info.constraint_name() == Some("sessions_capacity_respected") => ApiError::conflict(
            "capacity_below_confirmed",
            "capacity cannot go below the number of confirmed enrolments; cancel some first",
        ),
        _ => error.into(),
    }
}

/// Creates a session of a training.
pub async fn create(
    conn: &mut AsyncPgConnection,
    draft: &SessionDraft,
    visibility: &Visibility,
) -> Result<Session, ApiError> {
    conn.transaction::<_, ApiError, _>(async |conn| {
        check_training(conn, draft.training_id, visibility).await?;
        let row = diesel::insert_into(sessions::table)
            .values((
                sessions::id.eq(Uuid::now_v7()),
                sessions::training_id.eq(draft.training_id),
                sessions::status.eq(SessionStatus::Scheduled.as_str()),
                SessionValues::from(draft),
            ))
            .returning(SessionRow::as_returning())
            .get_result(conn)
            .await?;
        Ok(Session::from(row))
    })
    .await
}

fn not_scheduled(status: &str) -> ApiError {
    ApiError::conflict(
        "session_not_scheduled",
        format!("The session is {status}; only a scheduled session can change"),
    )
}

/// Applies a merge patch under `If-Match`. A raised capacity confirms waitlisted enrolments,
/// first in line first.
pub async fn update(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    if_match: &IfMatch,
    patch: Map<String, Value>,
    actor: &Actor,
    visibility: &Visibility,
) -> Result<Session, ApiError> {
    conn.transaction::<_, ApiError, _>(async |conn| {
        let current = Session::from(find_visible_row(conn, id, true, visibility).await?);
        if_match.check(&current)?;
        let mut read_only = merge_patch::SERVER_FIELDS.to_vec();
        read_only.extend([
            "status",
            "seats_confirmed",
            "seats_waitlisted",
            "seats_left",
        ]);
        let before = SessionInput::from(&current);
        let input = merge_patch::patched::<_, crate::sessions::views::SessionPatch>(
            &before, patch, &read_only,
        )?;
        if input.training_id != current.training_id {
            return Err(ApiError::invalid_field(
                "training_id",
                "immutable",
                "a session cannot move to another training",
            ));
        }
        let draft = SessionDraft::try_from(input)?;
        if SessionDraft::try_from(before).is_ok_and(|b| b == draft) {
            return Ok(current);
        }
        if current.status != SessionStatus::Scheduled {
            return Err(not_scheduled(current.status.as_str()));
        }
        diesel::update(sessions::table.find(id))
            .set((
                SessionValues::from(&draft),
                sessions::version.eq(sessions::version + 1),
                sessions::updated_at.eq(diesel::dsl::now),
            ))
            .execute(conn)
            .await
            .map_err(capacity_or)?;
        if draft.capacity > current.capacity {
            lifecycle::promote_waitlisted(conn, id, actor).await?;
        }
        find(conn, id, visibility).await
    })
    .await
}

/// Soft-deletes a session that never had an enrolment; cancel it otherwise.
pub async fn delete(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    if_match: &IfMatch,
    visibility: &Visibility,
) -> Result<(), ApiError> {
    conn.transaction::<_, ApiError, _>(async |conn| {
        let current = Session::from(find_visible_row(conn, id, true, visibility).await?);
        if_match.check(&current)?;
        let count: i64 = enrolments::table
            .filter(enrolments::session_id.eq(id))
            .count()
            .get_result(conn)
            .await?;
        if count > 0 {
            return Err(ApiError::conflict(
                "session_has_enrolments",
                format!("The session has {count} enrolment(s); cancel it instead"),
            ));
        }
        diesel::update(sessions::table.find(id))
            .set((
                sessions::deleted_at.eq(diesel::dsl::now),
                sessions::version.eq(sessions::version + 1),
                sessions::updated_at.eq(diesel::dsl::now),
            ))
            .execute(conn)
            .await?;
        Ok(())
    })
    .await
}

/// Cancels a scheduled session and, with it, every active enrolment (reason
/// `session_cancelled`).
pub async fn cancel(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    if_match: &IfMatch,
    reason: Option<String>,
    actor: &Actor,
    visibility: &Visibility,
) -> Result<Session, ApiError> {
    let reason = crate::values::text::optional("reason", reason.as_deref(), 500)
        .map_err(|e| ApiError::validation(vec![e]))?;
    conn.transaction::<_, ApiError, _>(async |conn| {
        let current = Session::from(find_visible_row(conn, id, true, visibility).await?);
        if_match.check(&current)?;
        if current.status != SessionStatus::Scheduled {
            return Err(not_scheduled(current.status.as_str()));
        }
        diesel::update(sessions::table.find(id))
            .set((
                sessions::status.eq(SessionStatus::Cancelled.as_str()),
                sessions::version.eq(sessions::version + 1),
                sessions::updated_at.eq(diesel::dsl::now),
            ))
            .execute(conn)
            .await?;
        let why = match &reason {
            Some(text) => format!("session_cancelled: {text}"),
            None => "session_cancelled".to_string(),
        };
        lifecycle::cancel_all_active(conn, id, actor, &why).await?;
        find(conn, id, visibility).await
    })
    .await
}

/// Marks a session completed, once it has ended.
pub async fn complete(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    if_match: &IfMatch,
    visibility: &Visibility,
) -> Result<Session, ApiError> {
    conn.transaction::<_, ApiError, _>(async |conn| {
        let current = Session::from(find_visible_row(conn, id, true, visibility).await?);
        if_match.check(&current)?;
        if current.status != SessionStatus::Scheduled {
            return Err(not_scheduled(current.status.as_str()));
        }
        if current.ends_at > Utc::now() {
            return Err(ApiError::new(
                actix_web::http::StatusCode::UNPROCESSABLE_ENTITY,
                "session_not_ended",
                format!(
                    "The session ends at {}; it can be completed after that",
                    current.ends_at
                ),
            ));
        }
        diesel::update(sessions::table.find(id))
            .set((
                sessions::status.eq(SessionStatus::Completed.as_str()),
                sessions::version.eq(sessions::version + 1),
                sessions::updated_at.eq(diesel::dsl::now),
            ))
            .execute(conn)
            .await?;
        find(conn, id, visibility).await
    })
    .await
}

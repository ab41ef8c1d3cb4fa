//! Programme queries. Every write bumps `version` and `updated_at` in the same statement.

use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use serde_json::{Map, Value};
use uuid::Uuid;

use crate::auth::Visibility;
use crate::db::{schema::programmes, search::search_fold, unique_violation};
use crate::error::ApiError;
use crate::http::{merge_patch, IfMatch};
use crate::programmes::domain::ProgrammeDraft;
use crate::programmes::rows::{NewProgrammeRow, ProgrammeChanges, ProgrammeRow};
use crate::programmes::views::{Programme, ProgrammeFilter, ProgrammeInput};

fn code_taken(code: &str) -> ApiError {
    ApiError::conflict(
        "programme_code_taken",
        format!("A programme with code `{code}` already exists"),
    )
}

/// One page (plus one row, to tell whether more follow) of live programmes.
pub async fn list(
    conn: &mut AsyncPgConnection,
    filter: &ProgrammeFilter,
    visibility: &Visibility,
) -> Result<Vec<Programme>, ApiError> {
    let mut query = programmes::table
        .filter(programmes::deleted_at.is_null())
        .select(ProgrammeRow::as_select())
        .order(programmes::id.asc())
        .limit(filter.limit.get() + 1)
        .into_boxed();
    if let Some(mine) = visibility.restricted_to() {
        query = query.filter(programmes::id.eq_any(mine.to_vec()));
    }
    if let Some(cursor) = filter.cursor {
        query = query.filter(programmes::id.gt(cursor.after));
    }
    if let Some(status) = filter.status {
        query = query.filter(programmes::status.eq(status.as_str()));
    }
    if let Some(term) = filter.q.as_deref().filter(|q| !q.trim().is_empty()) {
        let pattern = crate::db::search::contains_pattern(term);
        query = query.filter(
            search_fold(programmes::name)
                .like(search_fold(pattern.clone()))
                .or(search_fold(programmes::code).like(search_fold(pattern))),
        );
    }
    if let Some(after) = filter.updated_after {
        query = query.filter(programmes::updated_at.gt(after));
    }
    let rows = query.load(conn).await?;
    Ok(rows.into_iter().map(Programme::from).collect())
}

/// The live programme `id`, if the caller sees it.
pub async fn find(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    visibility: &Visibility,
) -> Result<Programme, ApiError> {
    if !visibility.sees_programme(id) {
        return Err(ApiError::not_found());
    }
    programmes::table
        .find(id)
        .filter(programmes::deleted_at.is_null())
        .select(ProgrammeRow::as_select())
        .first(conn)
        .await
        .optional()?
        .map(Programme::from)
        .ok_or_else(ApiError::not_found)
}

async fn find_for_update(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    visibility: &Visibility,
) -> Result<Programme, ApiError> {
    if !visibility.sees_programme(id) {
        return Err(ApiError::not_found());
    }
    programmes::table
        .find(id)
        .filter(programmes::deleted_at.is_null())
        .select(ProgrammeRow::as_select())
        .for_update()
        .first(conn)
        .await
        .optional()?
        .map(Programme::from)
        .ok_or_else(ApiError::not_found)
}

/// Creates a programme; 409 when its code is taken.
pub async fn create(
    conn: &mut AsyncPgConnection,
    draft: &ProgrammeDraft,
) -> Result<Programme, ApiError> {
    let row = NewProgrammeRow::from_draft(Uuid::now_v7(), draft);
    diesel::insert_into(programmes::table)
        .values(&row)
        .returning(ProgrammeRow::as_returning())
        .get_result(conn)
        .await
        .map(Programme::from)
        .map_err(|e| match unique_violation(&e) {
            Some("programmes_code_key") => code_taken(draft.code.as_str()),
            _ => e.into(),
        })
}

/// Applies a merge patch under `If-Match`. A patch that changes nothing keeps the version.
pub async fn update(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    if_match: &IfMatch,
    patch: Map<String, Value>,
    visibility: &Visibility,
) -> Result<Programme, ApiError> {
    conn.transaction::<_, ApiError, _>(async |conn| {
        let current = find_for_update(conn, id, visibility).await?;
        if_match.check(&current)?;
        let input = merge_patch::patched::<_, crate::programmes::views::ProgrammePatch>(
            &ProgrammeInput::from(&current),
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
        let draft = ProgrammeDraft::try_from(input)?;
        let unchanged = ProgrammeDraft::try_from(ProgrammeInput::from(&current))
            .is_ok_and(|before| before == draft);
        if unchanged {
            return Ok(current);
        }
        let row = diesel::update(programmes::table.find(id))
            .set((
                ProgrammeChanges::from(&draft),
                programmes::version.eq(programmes::version + 1),
                programmes::updated_at.eq(diesel::dsl::now),
            ))
            .returning(ProgrammeRow::as_returning())
            .get_result(conn)
            .await?;
        Ok(Programme::from(row))
    })
    .await
}

/// Soft-deletes under `If-Match`: the row stays as a tombstone (for partners' sync) and its code
/// is free again.
pub async fn delete(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    if_match: &IfMatch,
    visibility: &Visibility,
) -> Result<(), ApiError> {
    conn.transaction::<_, ApiError, _>(async |conn| {
        let current = find_for_update(conn, id, visibility).await?;
        if_match.check(&current)?;
        diesel::update(programmes::table.find(id))
            .set((
                programmes::deleted_at.eq(diesel::dsl::now),
                programmes::version.eq(programmes::version + 1),
                programmes::updated_at.eq(diesel::dsl::now),
            ))
            .execute(conn)
            .await?;
        Ok(())
    })
    .await
}

/// The ids of the live programmes named by `codes`, in the same order; a 422 naming each
/// unknown code (or one the caller does not see), with `field(i)` as its field.
pub async fn resolve_codes(
    conn: &mut AsyncPgConnection,
    codes: &[String],
    field: impl Fn(usize) -> String,
    visibility: &Visibility,
) -> Result<Vec<Uuid>, ApiError> {
    if codes.is_empty() {
        return Ok(Vec::new());
    }
    let found: Vec<(Uuid, String)> = programmes::table
        .filter(programmes::deleted_at.is_null())
        .filter(programmes::code.eq_any(codes))
        .select((programmes::id, programmes::code))
        .load(conn)
        .await?;
    let mut ids = Vec::with_capacity(codes.len());
    let mut errors = Vec::new();
    for (i, code) in codes.iter().enumerate() {
        match found
            .iter()
            .find(|(id, c)| c == code && visibility.sees_programme(*id))
        {
            Some((id, _)) => ids.push(*id),
            None => errors.push(crate::error::FieldError::new(
                field(i),
                "unknown_programme",
                format!("no programme has the code `{code}`"),
            )),
        }
    }
    if errors.is_empty() {
        Ok(ids)
    } else {
        Err(ApiError::validation(errors))
    }
}

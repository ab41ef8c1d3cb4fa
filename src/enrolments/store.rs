//! Enrolment reads, with waitlist positions derived at read time (1..n, never a gap).

use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use crate::auth::Visibility;
use crate::chefs_de_projet::store::{is_visible as is_chef_visible, visible_ids as visible_chefs};
use crate::db::schema::{chef_programmes, enrolment_transitions, enrolments, programmes};
use crate::enrolments::rows::{EnrolmentRow, TransitionRow};
use crate::enrolments::views::{Enrolment, EnrolmentFilter, Transition};
use crate::enrolments::waitlist_position::WaitlistPosition;
use crate::error::ApiError;

/// One page (plus one row) of the enrolments the caller sees (those of chefs de projet it sees).
pub async fn list(
    conn: &mut AsyncPgConnection,
    filter: &EnrolmentFilter,
    visibility: &Visibility,
) -> Result<Vec<Enrolment>, ApiError> {
    let mut query = enrolments::table
        .select((EnrolmentRow::as_select(), WaitlistPosition))
        .order(enrolments::id.asc())
        .limit(filter.limit.get() + 1)
        .into_boxed();
    if let Some(mine) = visibility.restricted_to() {
        query = query.filter(enrolments::chef_de_projet_id.eq_any(visible_chefs(mine)));
    }
    if let Some(cursor) = filter.cursor {
        query = query.filter(enrolments::id.gt(cursor.after));
    }
    if let Some(session_id) = filter.session_id {
        query = query.filter(enrolments::session_id.eq(session_id));
    }
    if let Some(chef_id) = filter.chef_de_projet_id {
        query = query.filter(enrolments::chef_de_projet_id.eq(chef_id));
    }
    if let Some(status) = filter.status {
        query = query.filter(enrolments::status.eq(status.as_str()));
    }
    if let Some(code) = &filter.programme {
        let chefs = chef_programmes::table
            .inner_join(programmes::table)
            .filter(programmes::code.eq(code.trim().to_string()))
            .select(chef_programmes::chef_de_projet_id);
        query = query.filter(enrolments::chef_de_projet_id.eq_any(chefs));
    }
    if let Some(after) = filter.updated_after {
        query = query.filter(enrolments::updated_at.gt(after));
    }
    let rows: Vec<(EnrolmentRow, Option<i64>)> = query.load(conn).await?;
    Ok(rows
        .into_iter()
        .map(|(row, position)| row.into_view(position))
        .collect())
}

/// The enrolment `id`, if the caller sees it.
pub async fn find(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    visibility: &Visibility,
) -> Result<Enrolment, ApiError> {
    let (row, position): (EnrolmentRow, Option<i64>) = enrolments::table
        .find(id)
        .select((EnrolmentRow::as_select(), WaitlistPosition))
        .first(conn)
        .await
        .optional()?
        .ok_or_else(ApiError::not_found)?;
    if !is_chef_visible(conn, row.chef_de_projet_id, visibility).await? {
        return Err(ApiError::not_found());
    }
    Ok(row.into_view(position))
}

/// The session and the chef de projet of enrolment `id`, if the caller sees it.
pub async fn parties(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    visibility: &Visibility,
) -> Result<(Uuid, Uuid), ApiError> {
    let (session_id, chef_id): (Uuid, Uuid) = enrolments::table
        .find(id)
        .select((enrolments::session_id, enrolments::chef_de_projet_id))
        .first(conn)
        .await
        .optional()?
        .ok_or_else(ApiError::not_found)?;
    if !is_chef_visible(conn, chef_id, visibility).await? {
        return Err(ApiError::not_found());
    }
    Ok((session_id, chef_id))
}

/// Every transition of enrolment `id`, oldest first.
pub async fn history(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    visibility: &Visibility,
) -> Result<Vec<Transition>, ApiError> {
    find(conn, id, visibility).await?;
    let rows: Vec<TransitionRow> = enrolment_transitions::table
        .filter(enrolment_transitions::enrolment_id.eq(id))
        .order(enrolment_transitions::id.asc())
        .select(TransitionRow::as_select())
        .load(conn)
        .await?;
    Ok(rows.into_iter().map(Transition::from).collect())
}

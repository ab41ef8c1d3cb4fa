//! Territory queries. A territory's programme memberships are part of it: changing them bumps its
//! version like any other field.

use std::collections::HashMap;

use chrono::NaiveDate;
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::sql_types::Bool;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use serde_json::{Map, Value};
use uuid::Uuid;

use crate::auth::Visibility;
use crate::collectivites::domain::CollectiviteDraft;
use crate::collectivites::rows::{CollectiviteRow, CollectiviteValues, NewMembershipRow};
use crate::collectivites::views::{
    Collectivite, CollectiviteFilter, CollectiviteInput, Membership,
};
use crate::db::schema::{chefs_de_projet, collectivite_programmes, collectivites, programmes};
use crate::db::search::{contains_pattern, search_fold};
use crate::db::unique_violation;
use crate::error::ApiError;
use crate::http::{merge_patch, IfMatch};
use crate::programmes::store::resolve_codes;

/// The 409 for a unique index, or the error as it is.
fn conflict_or(error: diesel::result::Error) -> ApiError {
    match unique_violation(&error) {
        Some("collectivites_insee_key") => ApiError::conflict(
            "collectivite_insee_code_taken",
            "A territory with this INSEE code and code-list year already exists",
        ),
        Some("collectivites_siren_key") => ApiError::conflict(
            "collectivite_siren_taken",
            "A territory with this SIREN already exists",
        ),
        _ => error.into(),
    }
}

type Visible = Box<dyn BoxableExpression<collectivites::table, Pg, SqlType = Bool>>;

/// Territories taking part in one of `mine`.
fn taking_part_in(mine: &[Uuid]) -> Visible {
    Box::new(
        collectivites::id.eq_any(
            collectivite_programmes::table
                .filter(collectivite_programmes::programme_id.eq_any(mine.to_vec()))
                .select(collectivite_programmes::collectivite_id),
        ),
    )
}

/// One page (plus one row) of live territories the caller sees.
pub async fn list(
    conn: &mut AsyncPgConnection,
    filter: &CollectiviteFilter,
    visibility: &Visibility,
) -> Result<Vec<Collectivite>, ApiError> {
    let mut query = collectivites::table
        .filter(collectivites::deleted_at.is_null())
        .select(CollectiviteRow::as_select())
        .order(collectivites::id.asc())
        .limit(filter.limit.get() + 1)
        .into_boxed();
    if let Some(mine) = visibility.restricted_to() {
        query = query.filter(taking_part_in(mine));
    }
    if let Some(cursor) = filter.cursor {
        query = query.filter(collectivites::id.gt(cursor.after));
    }
    if let Some(kind) = filter.kind {
        query = query.filter(collectivites::kind.eq(kind.as_str()));
    }
    if let Some(region) = &filter.region {
        query = query.filter(collectivites::region_code.eq(region.trim().to_string()));
    }
    if let Some(department) = &filter.department {
        query =
            query.filter(collectivites::department_code.eq(department.trim().to_ascii_uppercase()));
    }
    if let Some(insee_code) = &filter.insee_code {
        query = query.filter(collectivites::insee_code.eq(insee_code.trim().to_ascii_uppercase()));
    }
    if let Some(term) = filter.q.as_deref().filter(|q| !q.trim().is_empty()) {
        query = query
            .filter(search_fold(collectivites::name).like(search_fold(contains_pattern(term))));
    }
    if let Some(after) = filter.updated_after {
        query = query.filter(collectivites::updated_at.gt(after));
    }
    if let Some(code) = &filter.programme {
        let members = collectivite_programmes::table
            .inner_join(programmes::table)
            .filter(programmes::code.eq(code.trim().to_string()))
            .filter(programmes::deleted_at.is_null())
            .select(collectivite_programmes::collectivite_id);
        query = query.filter(collectivites::id.eq_any(members));
    }
    let rows = query.load(conn).await?;
    with_memberships(conn, rows, visibility).await
}

/// Attaches their memberships (those the caller sees) to `rows`, in one query.
async fn with_memberships(
    conn: &mut AsyncPgConnection,
    rows: Vec<CollectiviteRow>,
    visibility: &Visibility,
) -> Result<Vec<Collectivite>, ApiError> {
    let ids: Vec<Uuid> = rows.iter().map(|r| r.id).collect();
    let mut memberships: HashMap<Uuid, Vec<Membership>> = HashMap::new();
    if !ids.is_empty() {
        let found: Vec<(Uuid, Uuid, String, Option<NaiveDate>)> = collectivite_programmes::table
            .inner_join(programmes::table)
            .filter(collectivite_programmes::collectivite_id.eq_any(&ids))
            .filter(programmes::deleted_at.is_null())
            .select((
                collectivite_programmes::collectivite_id,
                programmes::id,
                programmes::code,
                collectivite_programmes::joined_on,
            ))
            .order((collectivite_programmes::collectivite_id, programmes::code))
            .load(conn)
            .await?;
        for (id, programme_id, programme, joined_on) in found {
            if !visibility.sees_programme(programme_id) {
                continue;
            }
            memberships.entry(id).or_default().push(Membership {
                programme,
                joined_on,
            });
        }
    }
    Ok(rows
        .into_iter()
        .map(|row| {
            let programmes = memberships.remove(&row.id).unwrap_or_default();
            row.into_view(programmes)
        })
        .collect())
}

async fn load_one(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    for_update: bool,
    visibility: &Visibility,
) -> Result<Collectivite, ApiError> {
    if let Some(mine) = visibility.restricted_to() {
        let seen: i64 = collectivites::table
            .filter(collectivites::id.eq(id))
            .filter(taking_part_in(mine))
            .count()
            .get_result(conn)
            .await?;
        if seen == 0 {
            return Err(ApiError::not_found());
        }
    }
    let query = collectivites::table
        .find(id)
        .filter(collectivites::deleted_at.is_null())
        .select(CollectiviteRow::as_select());
    let row = if for_update {
        query.for_update().first(conn).await.optional()?
    } else {
        query.first(conn).await.optional()?
    };
    let row = row.ok_or_else(ApiError::not_found)?;
    Ok(with_memberships(conn, vec![row], visibility)
        .await?
        .remove(0))
}

/// The live territory `id`, if the caller sees it.
pub async fn find(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    visibility: &Visibility,
) -> Result<Collectivite, ApiError> {
    load_one(conn, id, false, visibility).await
}

/// Resolves the draft's programme codes to ids (422 for an unknown one, or one the caller does
/// not see); a restricted caller must keep one of its programmes. Memberships of `id` in
/// programmes the caller does not see are kept as they are.
async fn resolve_memberships(
    conn: &mut AsyncPgConnection,
    draft: &CollectiviteDraft,
    id: Option<Uuid>,
    visibility: &Visibility,
) -> Result<Vec<(Uuid, Option<NaiveDate>)>, ApiError> {
    let codes: Vec<String> = draft.programmes.iter().map(|(c, _)| c.clone()).collect();
    let ids = resolve_codes(
        conn,
        &codes,
        |i| format!("programmes[{i}].programme"),
        visibility,
    )
    .await?;
    visibility.require_one_of_mine("programmes", &ids)?;
    let mut wanted: Vec<(Uuid, Option<NaiveDate>)> = ids
        .into_iter()
        .zip(draft.programmes.iter().map(|(_, joined)| *joined))
        .collect();
    if let (Some(id), Some(mine)) = (id, visibility.restricted_to()) {
        let hidden: Vec<(Uuid, Option<NaiveDate>)> = collectivite_programmes::table
            .filter(collectivite_programmes::collectivite_id.eq(id))
            .filter(diesel::dsl::not(
                collectivite_programmes::programme_id.eq_any(mine.to_vec()),
            ))
            .select((
                collectivite_programmes::programme_id,
                collectivite_programmes::joined_on,
            ))
            .load(conn)
            .await?;
        wanted.extend(hidden);
    }
    Ok(wanted)
}

/// Makes the memberships of `id` exactly `wanted`, keeping what partners' imports attached to
/// the ones that stay (their external reference).
pub async fn replace_memberships(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    wanted: &[(Uuid, Option<NaiveDate>)],
    external_ref: Option<&str>,
) -> Result<(), diesel::result::Error> {
    let keep: Vec<Uuid> = wanted.iter().map(|(p, _)| *p).collect();
    diesel::delete(
        collectivite_programmes::table
            .filter(collectivite_programmes::collectivite_id.eq(id))
            .filter(collectivite_programmes::programme_id.ne_all(&keep)),
    )
    .execute(conn)
    .await?;
    for (programme_id, joined_on) in wanted {
        diesel::insert_into(collectivite_programmes::table)
            .values(NewMembershipRow {
                collectivite_id: id,
                programme_id: *programme_id,
                joined_on: *joined_on,
                external_ref,
            })
            .on_conflict((
                collectivite_programmes::collectivite_id,
                collectivite_programmes::programme_id,
            ))
            .do_update()
            .set(collectivite_programmes::joined_on.eq(*joined_on))
            .execute(conn)
            .await?;
    }
    Ok(())
}

/// Creates a territory with its memberships.
pub async fn create(
    conn: &mut AsyncPgConnection,
    draft: &CollectiviteDraft,
    visibility: &Visibility,
) -> Result<Collectivite, ApiError> {
    conn.transaction::<_, ApiError, _>(async |conn| {
        let memberships = resolve_memberships(conn, draft, None, visibility).await?;
        let id = Uuid::now_v7();
        diesel::insert_into(collectivites::table)
            .values((collectivites::id.eq(id), CollectiviteValues::from(draft)))
            .execute(conn)
            .await
            .map_err(conflict_or)?;
        replace_memberships(conn, id, &memberships, None).await?;
        load_one(conn, id, false, visibility).await
    })
    .await
}

/// Applies a merge patch under `If-Match`. A patch that changes nothing keeps the version.
pub async fn update(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    if_match: &IfMatch,
    patch: Map<String, Value>,
    visibility: &Visibility,
) -> Result<Collectivite, ApiError> {
    conn.transaction::<_, ApiError, _>(async |conn| {
        let current = load_one(conn, id, true, visibility).await?;
        if_match.check(&current)?;
        let before = CollectiviteInput::from(&current);
        let input = merge_patch::patched::<_, crate::collectivites::views::CollectivitePatch>(
            &before,
            patch,
            &merge_patch::SERVER_FIELDS,
        )?;
        let draft = CollectiviteDraft::try_from(input)?;
        if CollectiviteDraft::try_from(before).is_ok_and(|b| b == draft) {
            return Ok(current);
        }
        let memberships = resolve_memberships(conn, &draft, Some(id), visibility).await?;
        diesel::update(collectivites::table.find(id))
            .set((
                CollectiviteValues::from(&draft),
                collectivites::version.eq(collectivites::version + 1),
                collectivites::updated_at.eq(diesel::dsl::now),
            ))
            .execute(conn)
            .await
            .map_err(conflict_or)?;
        replace_memberships(conn, id, &memberships, None).await?;
        load_one(conn, id, false, visibility).await
    })
    .await
}

/// Soft-deletes a territory that employs no chef de projet.
pub async fn delete(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    if_match: &IfMatch,
    visibility: &Visibility,
) -> Result<(), ApiError> {
    conn.transaction::<_, ApiError, _>(async |conn| {
        let current = load_one(conn, id, true, visibility).await?;
        if_match.check(&current)?;
        let employees: i64 = chefs_de_projet::table
            .filter(chefs_de_projet::collectivite_id.eq(id))
            .filter(chefs_de_projet::deleted_at.is_null())
            .count()
            .get_result(conn)
            .await?;
        if employees > 0 {
            return Err(ApiError::conflict(
                "collectivite_in_use",
                format!("{employees} chef(s) de projet are employed by this territory; move or delete them first"),
            ));
        }
        diesel::update(collectivites::table.find(id))
            .set((
                collectivites::deleted_at.eq(diesel::dsl::now),
                collectivites::version.eq(collectivites::version + 1),
                collectivites::updated_at.eq(diesel::dsl::now),
            ))
            .execute(conn)
            .await?;
        Ok(())
    })
    .await
}

//! Chef de projet queries.

use std::collections::{HashMap, HashSet};

use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::sql_types::Bool;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use serde_json::{Map, Value};
use uuid::Uuid;

use crate::auth::Visibility;
use crate::chefs_de_projet::domain::ChefDraft;
use crate::chefs_de_projet::rows::{ChefRow, ChefValues};
use crate::chefs_de_projet::views::{ChefDeProjet, ChefDeProjetInput, ChefFilter};
use crate::db::schema::{chef_programmes, chefs_de_projet, collectivites, programmes};
use crate::db::search::{contains_pattern, search_fold};
use crate::db::unique_violation;
use crate::error::ApiError;
use crate::http::{merge_patch, IfMatch};
use crate::programmes::store::resolve_codes;

fn conflict_or(error: diesel::result::Error) -> ApiError {
    match unique_violation(&error) {
        Some("chefs_de_projet_email_key") => ApiError::conflict(
            "chef_email_taken",
            "A chef de projet with this e-mail address already exists",
        ),
        _ => error.into(),
    }
}

fn erased() -> ApiError {
    ApiError::conflict(
        "chef_erased",
        "This person's data was erased; the record can no longer change",
    )
}

type Visible = Box<dyn BoxableExpression<chefs_de_projet::table, Pg, SqlType = Bool>>;

/// Chefs de projet working for one of `mine`.
fn working_for(mine: &[Uuid]) -> Visible {
    Box::new(
        chefs_de_projet::id.eq_any(
            chef_programmes::table
                .filter(chef_programmes::programme_id.eq_any(mine.to_vec()))
                .select(chef_programmes::chef_de_projet_id),
        ),
    )
}

/// Whether the caller sees chef de projet `id` (deleted or not).
pub async fn is_visible(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    visibility: &Visibility,
) -> Result<bool, ApiError> {
    let Some(mine) = visibility.restricted_to() else {
        return Ok(true);
    };
    let seen: i64 = chefs_de_projet::table
        .filter(chefs_de_projet::id.eq(id))
        .filter(working_for(mine))
        .count()
        .get_result(conn)
        .await?;
    Ok(seen > 0)
}

/// Which of `ids` a caller restricted to the programmes `mine` sees (deleted or not): the set
/// form of `is_visible`, in one statement.
pub async fn visible_among(
    conn: &mut AsyncPgConnection,
    ids: &[Uuid],
    mine: &[Uuid],
) -> Result<HashSet<Uuid>, ApiError> {
    Ok(chef_programmes::table
        .filter(chef_programmes::chef_de_projet_id.eq_any(ids))
        .filter(chef_programmes::programme_id.eq_any(mine))
        .select(chef_programmes::chef_de_projet_id)
        .load::<Uuid>(conn)
        .await?
        .into_iter()
        .collect())
}

/// The ids of the chefs de projet a restricted caller sees, as a filter for other tables.
pub fn visible_ids(
    mine: &[Uuid],
) -> chef_programmes::BoxedQuery<'static, Pg, diesel::sql_types::Uuid> {
    chef_programmes::table
        .filter(chef_programmes::programme_id.eq_any(mine.to_vec()))
        .select(chef_programmes::chef_de_projet_id)
        .into_boxed()
}

/// One page (plus one row) of chefs de projet the caller sees.
pub async fn list(
    conn: &mut AsyncPgConnection,
    filter: &ChefFilter,
    visibility: &Visibility,
) -> Result<Vec<ChefDeProjet>, ApiError> {
    let mut query = chefs_de_projet::table
        .filter(chefs_de_projet::deleted_at.is_null())
        .select(ChefRow::as_select())
        .order(chefs_de_projet::id.asc())
        .limit(filter.limit.get() + 1)
        .into_boxed();
    if let Some(mine) = visibility.restricted_to() {
        query = query.filter(working_for(mine));
    }
    if let Some(cursor) = filter.cursor {
        query = query.filter(chefs_de_projet::id.gt(cursor.after));
    }
    if let Some(status) = filter.status {
        query = query.filter(chefs_de_projet::status.eq(status.as_str()));
    }
    if let Some(collectivite_id) = filter.collectivite_id {
        query = query.filter(chefs_de_projet::collectivite_id.eq(collectivite_id));
    }
    if let Some(code) = &filter.programme {
        let members = chef_programmes::table
            .inner_join(programmes::table)
            .filter(programmes::code.eq(code.trim().to_string()))
            .select(chef_programmes::chef_de_projet_id);
        query = query.filter(chefs_de_projet::id.eq_any(members));
    }
    if let Some(region) = &filter.region {
        let employers = collectivites::table
            .filter(collectivites::region_code.eq(region.trim().to_string()))
            .select(collectivites::id);
        query = query.filter(chefs_de_projet::collectivite_id.eq_any(employers));
    }
    if let Some(department) = &filter.department {
        let employers = collectivites::table
            .filter(collectivites::department_code.eq(department.trim().to_ascii_uppercase()))
            .select(collectivites::id);
        query = query.filter(chefs_de_projet::collectivite_id.eq_any(employers));
    }
    if let Some(term) = filter.q.as_deref().filter(|q| !q.trim().is_empty()) {
        let pattern = contains_pattern(term);
        query = query.filter(
            search_fold(chefs_de_projet::first_name)
                .like(search_fold(pattern.clone()))
                .or(search_fold(chefs_de_projet::last_name).like(search_fold(pattern.clone())))
                .or(search_fold(chefs_de_projet::email).like(search_fold(pattern))),
        );
    }
    if let Some(after) = filter.updated_after {
        query = query.filter(chefs_de_projet::updated_at.gt(after));
    }
    let rows = query.load(conn).await?;
    with_programmes(conn, rows, visibility).await
}

/// Attaches their programme codes (those the caller sees) to `rows`, in one query.
async fn with_programmes(
    conn: &mut AsyncPgConnection,
    rows: Vec<ChefRow>,
    visibility: &Visibility,
) -> Result<Vec<ChefDeProjet>, ApiError> {
    let ids: Vec<Uuid> = rows.iter().map(|r| r.id).collect();
    let mut codes: HashMap<Uuid, Vec<String>> = HashMap::new();
    if !ids.is_empty() {
        let found: Vec<(Uuid, Uuid, String)> = chef_programmes::table
            .inner_join(programmes::table)
            .filter(chef_programmes::chef_de_projet_id.eq_any(&ids))
            .filter(programmes::deleted_at.is_null())
            .select((
                chef_programmes::chef_de_projet_id,
                programmes::id,
                programmes::code,
            ))
            .order((chef_programmes::chef_de_projet_id, programmes::code))
            .load(conn)
            .await?;
        for (id, programme_id, code) in found {
            if visibility.sees_programme(programme_id) {
                codes.entry(id).or_default().push(code);
            }
        }
    }
    Ok(rows
        .into_iter()
        .map(|row| {
            let programmes = codes.remove(&row.id).unwrap_or_default();
            row.into_view(programmes)
        })
        .collect())
}

async fn load_one(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    for_update: bool,
    visibility: &Visibility,
) -> Result<ChefDeProjet, ApiError> {
    if !is_visible(conn, id, visibility).await? {
        return Err(ApiError::not_found());
    }
    let query = chefs_de_projet::table
        .find(id)
        .filter(chefs_de_projet::deleted_at.is_null())
        .select(ChefRow::as_select());
    let row = if for_update {
        query.for_update().first(conn).await.optional()?
    } else {
        query.first(conn).await.optional()?
    };
    let row = row.ok_or_else(ApiError::not_found)?;
    Ok(with_programmes(conn, vec![row], visibility)
        .await?
        .remove(0))
}

/// The live chef de projet `id`, if the caller sees them.
pub async fn find(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    visibility: &Visibility,
) -> Result<ChefDeProjet, ApiError> {
    load_one(conn, id, false, visibility).await
}

/// Checks the employer exists (and is seen by the caller) and resolves the programmes, keeping
/// the ones of `id` the caller does not see.
async fn check_references(
    conn: &mut AsyncPgConnection,
    draft: &ChefDraft,
    id: Option<Uuid>,
    visibility: &Visibility,
) -> Result<Vec<Uuid>, ApiError> {
    let employer = crate::collectivites::store::find(conn, draft.collectivite_id, visibility).await;
    if employer.is_err() {
        return Err(ApiError::invalid_field(
            "collectivite_id",
            "unknown_collectivite",
            "no territory has this id",
        ));
    }
    let mut ids = resolve_codes(
        conn,
        &draft.programmes,
        |i| format!("programmes[{i}]"),
        visibility,
    )
    .await?;
    visibility.require_one_of_mine("programmes", &ids)?;
    if let (Some(id), Some(mine)) = (id, visibility.restricted_to()) {
        let hidden: Vec<Uuid> = chef_programmes::table
            .filter(chef_programmes::chef_de_projet_id.eq(id))
            .filter(diesel::dsl::not(
                chef_programmes::programme_id.eq_any(mine.to_vec()),
            ))
            .select(chef_programmes::programme_id)
            .load(conn)
            .await?;
        ids.extend(hidden);
    }
    Ok(ids)
}

async fn replace_programmes(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    programme_ids: &[Uuid],
) -> Result<(), diesel::result::Error> {
    diesel::delete(chef_programmes::table.filter(chef_programmes::chef_de_projet_id.eq(id)))
        .execute(conn)
        .await?;
    let rows: Vec<_> = programme_ids
        .iter()
        .map(|p| {
            (
                chef_programmes::chef_de_projet_id.eq(id),
                chef_programmes::programme_id.eq(*p),
            )
        })
        .collect();
    diesel::insert_into(chef_programmes::table)
        .values(rows)
        .execute(conn)
        .await?;
    Ok(())
}

/// Creates a chef de projet; 409 when the e-mail address is taken.
pub async fn create(
    conn: &mut AsyncPgConnection,
    draft: &ChefDraft,
    visibility: &Visibility,
) -> Result<ChefDeProjet, ApiError> {
    conn.transaction::<_, ApiError, _>(async |conn| {
        let programme_ids = check_references(conn, draft, None, visibility).await?;
        let id = Uuid::now_v7();
        diesel::insert_into(chefs_de_projet::table)
            .values((chefs_de_projet::id.eq(id), ChefValues::from(draft)))
            .execute(conn)
            .await
            .map_err(conflict_or)?;
        replace_programmes(conn, id, &programme_ids).await?;
        load_one(conn, id, false, visibility).await
    })
    .await
}

/// Applies a merge patch under `If-Match`. An erased person cannot change (409).
pub async fn update(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    if_match: &IfMatch,
    patch: Map<String, Value>,
    visibility: &Visibility,
) -> Result<ChefDeProjet, ApiError> {
    conn.transaction::<_, ApiError, _>(async |conn| {
        let current = load_one(conn, id, true, visibility).await?;
        if_match.check(&current)?;
        if current.erased_at.is_some() {
            return Err(erased());
        }
        let before = ChefDeProjetInput::from(&current);
        let mut read_only = merge_patch::SERVER_FIELDS.to_vec();
        read_only.push("erased_at");
        let input = merge_patch::patched::<_, crate::chefs_de_projet::views::ChefDeProjetPatch>(
            &before, patch, &read_only,
        )?;
        let draft = ChefDraft::try_from(input)?;
        if ChefDraft::try_from(before).is_ok_and(|b| b == draft) {
            return Ok(current);
        }
        let programme_ids = check_references(conn, &draft, Some(id), visibility).await?;
        diesel::update(chefs_de_projet::table.find(id))
            .set((
                ChefValues::from(&draft),
                chefs_de_projet::version.eq(chefs_de_projet::version + 1),
                chefs_de_projet::updated_at.eq(diesel::dsl::now),
            ))
            .execute(conn)
            .await
            .map_err(conflict_or)?;
        replace_programmes(conn, id, &programme_ids).await?;
        load_one(conn, id, false, visibility).await
    })
    .await
}

/// Soft-deletes a chef de projet; their enrolments stay, for the statistics.
pub async fn delete(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    if_match: &IfMatch,
    visibility: &Visibility,
) -> Result<(), ApiError> {
    conn.transaction::<_, ApiError, _>(async |conn| {
        let current = load_one(conn, id, true, visibility).await?;
        if_match.check(&current)?;
        diesel::update(chefs_de_projet::table.find(id))
            .set((
                chefs_de_projet::deleted_at.eq(diesel::dsl::now),
                chefs_de_projet::version.eq(chefs_de_projet::version + 1),
                chefs_de_projet::updated_at.eq(diesel::dsl::now),
            ))
            .execute(conn)
            .await?;
        Ok(())
    })
    .await
}

/// Erases a person's data (GDPR): names, e-mail and phone are replaced by placeholders, the
/// status becomes `left`, and the record keeps its id so that enrolment statistics stay whole.
/// Active enrolments are cancelled by the caller in the same transaction.
pub async fn erase(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    visibility: &Visibility,
) -> Result<ChefDeProjet, ApiError> {
    let current = load_one(conn, id, true, visibility).await?;
    if current.erased_at.is_some() {
        return Ok(current);
    }
    diesel::update(chefs_de_projet::table.find(id))
        .set((
            chefs_de_projet::first_name.eq(ERASED),
            chefs_de_projet::last_name.eq(ERASED),
            chefs_de_projet::email.eq(format!("erased-{id}@erased.invalid")),
            chefs_de_projet::phone.eq(None::<String>),
            chefs_de_projet::status.eq("left"),
            chefs_de_projet::erased_at.eq(diesel::dsl::now),
            chefs_de_projet::version.eq(chefs_de_projet::version + 1),
            chefs_de_projet::updated_at.eq(diesel::dsl::now),
        ))
        .execute(conn)
        .await?;
    load_one(conn, id, false, visibility).await
}

/// What erased personal fields hold.
pub const ERASED: &str = "[effacé]";

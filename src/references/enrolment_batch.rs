//! `POST /enrolments/batch`: up to 1,000 enrolments by reference in a few statements.
//!
//! Each item means what `PUT /enrolments/ref:<ref>` means (a known reference must name the same
//! chef de projet and session; an unknown one enrols), with the same answers, but the batch reads
//! and writes set by set: the references are locked and looked up with one statement each, the
//! new enrolments go through `enrolments::bulk`, and their references are saved with one
//! statement. A reference that appears twice is settled in a second round, once the first has
//! created (or failed to create) its enrolment.

use std::collections::{HashMap, HashSet};

use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Nullable, Text};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use crate::auth::Caller;
use crate::changes::views::ResourceType;
use crate::chefs_de_projet::store::visible_among;
use crate::enrolments::bulk::{enrol_many, Wanted};
use crate::enrolments::views::EnrolmentInput;
use crate::error::ApiError;
use crate::references::upsert::{other_parties, reference_lock_key};

/// The outcome of one item: the enrolment's id and whether it was created.
pub type Outcome = Result<(Uuid, bool), ApiError>;

/// An item whose reference and body are readable.
pub struct Item {
    pub index: usize,
    pub reference: String,
    pub input: EnrolmentInput,
}

/// Applies `items` for `caller` inside the caller's transaction; outcomes by item index.
pub async fn apply(
    conn: &mut AsyncPgConnection,
    caller: &Caller,
    items: Vec<Item>,
) -> Result<HashMap<usize, Outcome>, ApiError> {
    let references: Vec<String> = {
        let mut all: Vec<String> = items.iter().map(|i| i.reference.clone()).collect();
        all.sort_unstable();
        all.dedup();
        all
    };
    lock_references(conn, caller, &references).await?;
    let mut known = known_references(conn, caller, &references).await?;
    let mut outcomes = HashMap::with_capacity(items.len());
    let mut remaining = items;
    while !remaining.is_empty() {
        // One round: the first occurrence of each reference still to settle.
        let mut in_round = HashSet::new();
        let (round, later): (Vec<Item>, Vec<Item>) = remaining
            .into_iter()
            .partition(|item| in_round.insert(item.reference.clone()));
        remaining = later;
        let mut new = Vec::new();
        for item in round {
            match known.get(&item.reference) {
                Some(parties) => {
                    let outcome = parties.same_as(&item.input).map(|id| (id, false));
                    outcomes.insert(item.index, outcome);
                }
                None => new.push(item),
            }
        }
        let wanted: Vec<Wanted> = new
            .iter()
            .map(|item| Wanted {
                session_id: item.input.session_id,
                chef_id: item.input.chef_de_projet_id,
            })
            .collect();
        let enrolled = enrol_many(conn, caller, &wanted).await?;
        let mut saved = Vec::new();
        for (item, result) in new.into_iter().zip(enrolled) {
            if let Ok(id) = &result {
                known.insert(
                    item.reference.clone(),
                    Parties::Visible {
                        id: *id,
                        session_id: item.input.session_id,
                        chef_id: item.input.chef_de_projet_id,
                    },
                );
                saved.push((item.reference.clone(), *id));
            }
            outcomes.insert(item.index, result.map(|id| (id, true)));
        }
        save_references(conn, caller, &saved).await?;
    }
    Ok(outcomes)
}

/// What a known reference names.
enum Parties {
    Visible {
        id: Uuid,
        session_id: Uuid,
        chef_id: Uuid,
    },
    /// An enrolment the caller does not see (any more).
    Hidden,
}

impl Parties {
    /// The enrolment's id when `input` names the same chef de projet and session.
    fn same_as(&self, input: &EnrolmentInput) -> Result<Uuid, ApiError> {
        match self {
            Parties::Hidden => Err(ApiError::not_found()),
            Parties::Visible {
                id,
                session_id,
                chef_id,
            } if *session_id == input.session_id && *chef_id == input.chef_de_projet_id => Ok(*id),
            Parties::Visible { .. } => Err(other_parties()),
        }
    }
}

/// A known reference, with the session and chef de projet of its enrolment (if it still exists).
#[derive(QueryableByName)]
struct NamedReference {
    #[diesel(sql_type = Text)]
    reference: String,
    #[diesel(sql_type = diesel::sql_types::Uuid)]
    resource_id: Uuid,
    #[diesel(sql_type = Nullable<diesel::sql_types::Uuid>)]
    session_id: Option<Uuid>,
    #[diesel(sql_type = Nullable<diesel::sql_types::Uuid>)]
    chef_de_projet_id: Option<Uuid>,
}

#[derive(QueryableByName)]
struct Locked {
    #[diesel(sql_type = BigInt)]
    #[allow(dead_code)]
    count: i64,
}

/// The reference locks of single upserts (`upsert::lock_reference`), all in one statement, in
/// reference order so two batches cannot deadlock.
async fn lock_references(
    conn: &mut AsyncPgConnection,
    caller: &Caller,
    references: &[String],
) -> Result<(), ApiError> {
    let keys: Vec<String> = references
        .iter()
        .map(|r| reference_lock_key(ResourceType::Enrolment, r))
        .collect();
    diesel::sql_query(
        "SELECT count(*) AS count FROM (\
           SELECT pg_advisory_xact_lock(hashtext($1), hashtext(key)) \
           FROM unnest($2) WITH ORDINALITY AS k(key, n) ORDER BY n) AS locks",
    )
    .bind::<Text, _>(&caller.client_id)
    .bind::<Array<Text>, _>(&keys)
    .get_result::<Locked>(conn)
    .await?;
    Ok(())
}

/// The caller's known references among `references`, with what they name.
async fn known_references(
    conn: &mut AsyncPgConnection,
    caller: &Caller,
    references: &[String],
) -> Result<HashMap<String, Parties>, ApiError> {
    // One primary-key lookup per reference, then per enrolment, one after the other (LATERAL …
    // OFFSET 0). As `reference = ANY($3)`, PostgreSQL's generic plan for it (a connection runs
    // it a sixth time) walked every reference of the client through the other index; as a plain
    // join, the plan read the whole table once it believed that cheaper (35 ms per 1,000 at
    // 60,000 references, growing with them).
    let named: Vec<NamedReference> = diesel::sql_query(
        "SELECT p.reference, p.resource_id, e.session_id, e.chef_de_projet_id \
           FROM unnest($3::text[]) AS r(reference) \
          CROSS JOIN LATERAL (SELECT x.reference, x.resource_id FROM partner_refs x \
                               WHERE x.client_id = $1 AND x.resource_type = $2 \
                                 AND x.reference = r.reference OFFSET 0) AS p \
           LEFT JOIN LATERAL (SELECT y.session_id, y.chef_de_projet_id FROM enrolments y \
                               WHERE y.id = p.resource_id OFFSET 0) AS e ON true",
    )
    .bind::<Text, _>(&caller.client_id)
    .bind::<Text, _>(ResourceType::Enrolment.as_str())
    .bind::<Array<Text>, _>(references)
    .load(conn)
    .await?;
    let seen_chefs: Option<HashSet<Uuid>> = match caller.programmes.as_deref() {
        Some(mine) if !named.is_empty() => {
            let chefs: Vec<Uuid> = named.iter().filter_map(|n| n.chef_de_projet_id).collect();
            Some(visible_among(conn, &chefs, mine).await?)
        }
        _ => None,
    };
    Ok(named
        .into_iter()
        .map(|n| {
            let what = match (n.session_id, n.chef_de_projet_id) {
                (Some(session_id), Some(chef_id))
                    if seen_chefs
                        .as_ref()
                        .is_none_or(|seen| seen.contains(&chef_id)) =>
                {
                    Parties::Visible {
                        id: n.resource_id,
                        session_id,
                        chef_id,
                    }
                }
                _ => Parties::Hidden,
            };
            (n.reference, what)
        })
        .collect())
}

/// The references of the enrolments just created, in one statement.
async fn save_references(
    conn: &mut AsyncPgConnection,
    caller: &Caller,
    saved: &[(String, Uuid)],
) -> Result<(), ApiError> {
    if saved.is_empty() {
        return Ok(());
    }
    let (references, ids): (Vec<&str>, Vec<Uuid>) = saved
        .iter()
        .map(|(reference, id)| (reference.as_str(), *id))
        .unzip();
    diesel::sql_query(
        "INSERT INTO partner_refs (client_id, resource_type, reference, resource_id) \
         SELECT $1, $2, * FROM unnest($3::text[], $4::uuid[])",
    )
    .bind::<Text, _>(&caller.client_id)
    .bind::<Text, _>(ResourceType::Enrolment.as_str())
    .bind::<Array<Text>, _>(&references)
    .bind::<Array<diesel::sql_types::Uuid>, _>(&ids)
    .execute(conn)
    .await?;
    Ok(())
}

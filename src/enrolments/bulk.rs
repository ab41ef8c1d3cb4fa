//! Many enrolments in a few statements: the path of the batch upsert.
//!
//! The rows every rule needs are read once for the whole batch (the sessions locked, in id
//! order), the rules of `lifecycle::admit` run in memory item after item (counting the seats the
//! earlier items take), and the enrolments and their history lines are written with one
//! statement each. An item that breaks a rule gets the problem the single enrolment would answer,
//! and nothing is written for it.

use std::collections::{HashMap, HashSet};

use chrono::Utc;
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Integer, Nullable, Text, Uuid as SqlUuid};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use crate::auth::Caller;
use crate::chefs_de_projet::store::visible_among;
use crate::db::schema::{sessions, trainings};
use crate::enrolments::lifecycle::{self, admit, already_enrolled, unknown_chef, unknown_session};
use crate::enrolments::views::EnrolmentStatus;
use crate::error::ApiError;
use crate::sessions::rows::SessionRow;
use crate::trainings::store::open_to;

/// One enrolment asked for.
#[derive(Debug, Clone, Copy)]
pub struct Wanted {
    pub session_id: Uuid,
    pub chef_id: Uuid,
}

/// Enrols each of `wanted`, in order, for `caller`, inside the caller's transaction: the new
/// enrolment's id, or the problem of that item.
pub async fn enrol_many(
    conn: &mut AsyncPgConnection,
    caller: &Caller,
    wanted: &[Wanted],
) -> Result<Vec<Result<Uuid, ApiError>>, ApiError> {
    if wanted.is_empty() {
        return Ok(Vec::new());
    }
    let session_ids = distinct(wanted.iter().map(|w| w.session_id));
    let chef_ids = distinct(wanted.iter().map(|w| w.chef_id));
    // Sessions first and in id order: the lock order of every enrolment change.
    let mut sessions: HashMap<Uuid, SessionRow> = sessions::table
        .filter(sessions::id.eq_any(&session_ids))
        .filter(sessions::deleted_at.is_null())
        .order(sessions::id)
        .for_update()
        .select(SessionRow::as_select())
        .load::<SessionRow>(conn)
        .await?
        .into_iter()
        .map(|row| (row.id, row))
        .collect();
    let training_ids = distinct(sessions.values().map(|s| s.training_id));
    let seen = Seen::read(conn, caller, &training_ids, &chef_ids).await?;
    let candidates = lifecycle::candidates(conn, &chef_ids).await?;
    let offers = lifecycle::offers(conn, &training_ids).await?;
    let mut active = active_among(conn, wanted).await?;

    let now = Utc::now();
    let mut outcomes = Vec::with_capacity(wanted.len());
    let mut admitted = Vec::new();
    for want in wanted {
        let outcome = (|| {
            let session = sessions
                .get_mut(&want.session_id)
                .filter(|s| seen.training(s.training_id))
                .ok_or_else(unknown_session)?;
            if !seen.chef(want.chef_id) {
                return Err(unknown_chef());
            }
            let offer = offers
                .get(&session.training_id)
                .ok_or_else(|| ApiError::internal("a session's training is missing"))?;
            let status = admit(session, candidates.get(&want.chef_id), offer, now)?;
            if !active.insert((want.session_id, want.chef_id)) {
                return Err(already_enrolled());
            }
            // As the seat-counting trigger will, so later items see the seats taken.
            match status {
                EnrolmentStatus::Confirmed => session.seats_confirmed += 1,
                EnrolmentStatus::Waitlisted => session.seats_waitlisted += 1,
                _ => {}
            }
            Ok((Uuid::now_v7(), status))
        })();
        if let Ok((id, status)) = &outcome {
            admitted.push((*id, *want, *status));
        }
        outcomes.push(outcome.map(|(id, _)| id));
    }
    write(conn, caller, &admitted).await?;
    Ok(outcomes)
}

#[derive(QueryableByName)]
struct Pair {
    #[diesel(sql_type = SqlUuid)]
    session_id: Uuid,
    #[diesel(sql_type = SqlUuid)]
    chef_de_projet_id: Uuid,
}

/// The (session, chef de projet) pairs among `wanted` already enrolled (actively). Each pair is
/// looked up in the unique index of active enrolments, one after the other: as two lists
/// (`session_id = ANY … AND chef_de_projet_id = ANY …`) the statement was planned through every
/// enrolment of each chef de projet, more with every session they joined.
async fn active_among(
    conn: &mut AsyncPgConnection,
    wanted: &[Wanted],
) -> Result<HashSet<(Uuid, Uuid)>, ApiError> {
    let (sessions, chefs): (Vec<Uuid>, Vec<Uuid>) =
        wanted.iter().map(|w| (w.session_id, w.chef_id)).unzip();
    // The statuses are written out, as in the index's predicate, so the index applies.
    let statuses = EnrolmentStatus::ACTIVE
        .map(|s| format!("'{}'", s.as_str()))
        .join(", ");
    let pairs: Vec<Pair> = diesel::sql_query(format!(
        "SELECT e.session_id, e.chef_de_projet_id \
           FROM unnest($1::uuid[], $2::uuid[]) AS w(session_id, chef_id) \
          CROSS JOIN LATERAL (SELECT a.session_id, a.chef_de_projet_id FROM enrolments a \
                               WHERE a.session_id = w.session_id \
                                 AND a.chef_de_projet_id = w.chef_id \
                                 AND a.status IN ({statuses}) OFFSET 0) AS e"
    ))
    .bind::<Array<SqlUuid>, _>(&sessions)
    .bind::<Array<SqlUuid>, _>(&chefs)
    .load(conn)
    .await?;
    Ok(pairs
        .into_iter()
        .map(|p| (p.session_id, p.chef_de_projet_id))
        .collect())
}

/// What a restricted caller sees among the trainings and chefs de projet of a batch.
struct Seen {
    /// `None` for an unrestricted caller, who sees everything.
    restricted: Option<(HashSet<Uuid>, HashSet<Uuid>)>,
}

impl Seen {
    async fn read(
        conn: &mut AsyncPgConnection,
        caller: &Caller,
        training_ids: &[Uuid],
        chef_ids: &[Uuid],
    ) -> Result<Self, ApiError> {
        let Some(mine) = caller.programmes.as_deref() else {
            return Ok(Seen { restricted: None });
        };
        let trainings: HashSet<Uuid> = trainings::table
            .filter(trainings::id.eq_any(training_ids))
            .filter(open_to(mine))
            .select(trainings::id)
            .load::<Uuid>(conn)
            .await?
            .into_iter()
            .collect();
        let chefs = visible_among(conn, chef_ids, mine).await?;
        Ok(Seen {
            restricted: Some((trainings, chefs)),
        })
    }

    fn training(&self, id: Uuid) -> bool {
        self.restricted
            .as_ref()
            .is_none_or(|(t, _)| t.contains(&id))
    }

    fn chef(&self, id: Uuid) -> bool {
        self.restricted
            .as_ref()
            .is_none_or(|(_, c)| c.contains(&id))
    }
}

fn distinct(ids: impl Iterator<Item = Uuid>) -> Vec<Uuid> {
    let mut ids: Vec<Uuid> = ids.collect();
    ids.sort_unstable();
    ids.dedup();
    ids
}

/// The admitted enrolments, column by column.
struct Columns {
    ids: Vec<Uuid>,
    sessions: Vec<Uuid>,
    chefs: Vec<Uuid>,
    statuses: Vec<&'static str>,
    orders: Vec<Option<i64>>,
}

impl Columns {
    fn with_capacity(n: usize) -> Self {
        Columns {
            ids: Vec::with_capacity(n),
            sessions: Vec::with_capacity(n),
            chefs: Vec::with_capacity(n),
            statuses: Vec::with_capacity(n),
            orders: Vec::with_capacity(n),
        }
    }
}

#[derive(QueryableByName)]
struct Next {
    #[diesel(sql_type = BigInt)]
    value: i64,
}

/// The enrolments admitted, with their waitlist orders, and their first history lines: three
/// statements whatever their number.
async fn write(
    conn: &mut AsyncPgConnection,
    caller: &Caller,
    admitted: &[(Uuid, Wanted, EnrolmentStatus)],
) -> Result<(), ApiError> {
    if admitted.is_empty() {
        return Ok(());
    }
    let waitlisted = admitted
        .iter()
        .filter(|(_, _, s)| *s == EnrolmentStatus::Waitlisted)
        .count();
    let mut orders: Vec<i64> = if waitlisted == 0 {
        Vec::new()
    } else {
        diesel::sql_query("SELECT nextval('waitlist_order') AS value FROM generate_series(1, $1)")
            .bind::<Integer, _>(waitlisted as i32)
            .load::<Next>(conn)
            .await?
            .into_iter()
            .map(|n| n.value)
            .collect()
    };
    // Waitlist places in the order of the items.
    orders.sort_unstable();
    let mut orders = orders.into_iter();
    let mut columns = Columns::with_capacity(admitted.len());
    for (id, want, status) in admitted {
        columns.ids.push(*id);
        columns.sessions.push(want.session_id);
        columns.chefs.push(want.chef_id);
        columns.statuses.push(status.as_str());
        columns.orders.push(
            (*status == EnrolmentStatus::Waitlisted)
                .then(|| orders.next())
                .flatten(),
        );
    }
    // Column arrays, not a VALUES list: five parameters whatever the number of rows, so the
    // statement is short to send and to parse.
    diesel::sql_query(
        "INSERT INTO enrolments (id, session_id, chef_de_projet_id, status, waitlist_order) \
         SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::text[], $5::int8[])",
    )
    .bind::<Array<SqlUuid>, _>(&columns.ids)
    .bind::<Array<SqlUuid>, _>(&columns.sessions)
    .bind::<Array<SqlUuid>, _>(&columns.chefs)
    .bind::<Array<Text>, _>(&columns.statuses)
    .bind::<Array<Nullable<BigInt>>, _>(&columns.orders)
    .execute(conn)
    .await
    .map_err(|e| match crate::db::unique_violation(&e) {
        // A concurrent request enrolled one of them since the check: the batch is retried.
        Some("enrolments_active_key") => ApiError::conflict(
            "concurrent_update",
            "A concurrent change got there first; retry the request",
        ),
        _ => e.into(),
    })?;
    let actor = caller.actor();
    diesel::sql_query(
        "INSERT INTO enrolment_transitions (enrolment_id, to_status, actor) \
         SELECT id, status, $3 FROM unnest($1::uuid[], $2::text[]) AS t(id, status)",
    )
    .bind::<Array<SqlUuid>, _>(&columns.ids)
    .bind::<Array<Text>, _>(&columns.statuses)
    .bind::<Text, _>(&actor.0)
    .execute(conn)
    .await?;
    Ok(())
}

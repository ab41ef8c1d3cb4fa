//! Every change of an enrolment's status goes through here, inside the caller's transaction.
//!
//! Concurrency: each operation first locks the session row (`SELECT … FOR UPDATE`), so the
//! changes of one session's enrolments happen one at a time, on any number of API instances.
//! The database backs this up: a trigger keeps the session's seat counts, a CHECK keeps
//! `seats_confirmed <= capacity`, and a partial unique index keeps one active enrolment per chef
//! and session. Waitlist positions are derived from a sequence order, so they have no gap.

use std::collections::HashMap;

use actix_web::http::StatusCode;
use chrono::Utc;
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use crate::auth::Visibility;
use crate::db::schema::{
    chef_programmes, chefs_de_projet, enrolment_transitions, enrolments, training_programmes,
    trainings,
};
use crate::db::unique_violation;
use crate::enrolments::rows::EnrolmentRow;
use crate::enrolments::views::EnrolmentStatus;
use crate::error::ApiError;
use crate::http::IfMatch;
use crate::sessions::rows::SessionRow;
use crate::sessions::store::find_row as find_session_row;

/// Who makes a transition: an API client's id, or `system` for automatic ones.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor(pub String);

impl Actor {
    pub fn system() -> Self {
        Actor("system".into())
    }
}

fn rule(code: &'static str, detail: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, code, detail)
}

fn invalid_transition(from: EnrolmentStatus, action: &str) -> ApiError {
    ApiError::conflict(
        "invalid_transition",
        format!("An enrolment that is {} cannot be {action}", from.as_str()),
    )
}

diesel::define_sql_function! {
    fn nextval(sequence: diesel::sql_types::Text) -> diesel::sql_types::BigInt;
}

/// Writes a transition: the enrolment's new status (and waitlist order) and its history line.
async fn record(
    conn: &mut AsyncPgConnection,
    enrolment: &EnrolmentRow,
    to: EnrolmentStatus,
    actor: &Actor,
    reason: Option<&str>,
) -> Result<(), ApiError> {
    let waitlist_order = if to == EnrolmentStatus::Waitlisted {
        Some(
            diesel::select(nextval("waitlist_order"))
                .get_result::<i64>(conn)
                .await?,
        )
    } else {
        None
    };
    diesel::update(enrolments::table.find(enrolment.id))
        .set((
            enrolments::status.eq(to.as_str()),
            enrolments::waitlist_order.eq(waitlist_order),
            enrolments::reason.eq(reason),
            enrolments::version.eq(enrolments::version + 1),
            enrolments::updated_at.eq(diesel::dsl::now),
        ))
        .execute(conn)
        .await?;
    history_line(
        conn,
        enrolment.id,
        Some(enrolment.status()),
        to,
        actor,
        reason,
    )
    .await
}

async fn history_line(
    conn: &mut AsyncPgConnection,
    enrolment_id: Uuid,
    from: Option<EnrolmentStatus>,
    to: EnrolmentStatus,
    actor: &Actor,
    reason: Option<&str>,
) -> Result<(), ApiError> {
    diesel::insert_into(enrolment_transitions::table)
        .values((
            enrolment_transitions::enrolment_id.eq(enrolment_id),
            enrolment_transitions::from_status.eq(from.map(EnrolmentStatus::as_str)),
            enrolment_transitions::to_status.eq(to.as_str()),
            enrolment_transitions::actor.eq(&actor.0),
            enrolment_transitions::reason.eq(reason),
        ))
        .execute(conn)
        .await?;
    Ok(())
}

/// Where an enrolment lands when it may take a seat: confirmed while seats are left, else
/// waitlisted. `session` must be the locked, current row.
fn placement(session: &SessionRow) -> EnrolmentStatus {
    if session.seats_confirmed < session.capacity {
        EnrolmentStatus::Confirmed
    } else {
        EnrolmentStatus::Waitlisted
    }
}

/// A chef de projet as the enrolment rules see them: `None` when there is no live one.
#[derive(Debug, Clone)]
pub struct Candidate {
    pub status: String,
    pub erased: bool,
    /// The programmes they work for.
    pub programmes: Vec<Uuid>,
}

/// The training of a session, as the enrolment rules see it.
#[derive(Debug, Clone)]
pub struct Offer {
    pub status: String,
    /// Its target programmes; none means open to all.
    pub targets: Vec<Uuid>,
}

/// Every eligibility rule of a new enrolment, on rows already read (`session` locked and
/// current): the status the enrolment starts in. One definition for single and batch enrolments.
pub fn admit(
    session: &SessionRow,
    candidate: Option<&Candidate>,
    offer: &Offer,
    now: chrono::DateTime<Utc>,
) -> Result<EnrolmentStatus, ApiError> {
    if session.status != "scheduled" {
        return Err(rule(
            "session_not_scheduled",
            format!("The session is {}: it takes no enrolment", session.status),
        ));
    }
    if now < session.enrolment_opens_at {
        return Err(rule(
            "enrolment_not_open",
            format!("Enrolment opens at {}", session.enrolment_opens_at),
        ));
    }
    if now >= session.enrolment_closes_at {
        return Err(rule(
            "enrolment_closed",
            format!("Enrolment closed at {}", session.enrolment_closes_at),
        ));
    }
    match candidate {
        None => return Err(unknown_chef()),
        Some(chef) if chef.status != "active" || chef.erased => {
            return Err(rule(
                "chef_not_active",
                "The chef de projet has left the position: they cannot enrol",
            ))
        }
        Some(_) => {}
    }
    if offer.status != "published" {
        return Err(rule(
            "training_not_published",
            format!("The training is {}: it takes no enrolment", offer.status),
        ));
    }
    let works_for_a_target = candidate.is_some_and(|chef| {
        offer.targets.is_empty() || chef.programmes.iter().any(|p| offer.targets.contains(p))
    });
    if !works_for_a_target {
        return Err(rule(
            "programme_not_targeted",
            "The training is reserved to programmes the chef de projet does not work for",
        ));
    }
    Ok(if session.requires_approval {
        EnrolmentStatus::PendingApproval
    } else {
        placement(session)
    })
}

/// The 422 for a session that does not exist for the caller.
pub fn unknown_session() -> ApiError {
    ApiError::invalid_field("session_id", "unknown_session", "no session has this id")
}

/// The 422 for a chef de projet that does not exist for the caller.
pub fn unknown_chef() -> ApiError {
    ApiError::invalid_field(
        "chef_de_projet_id",
        "unknown_chef_de_projet",
        "no chef de projet has this id",
    )
}

/// The 409 for a second active enrolment of a chef de projet on a session.
pub fn already_enrolled() -> ApiError {
    ApiError::conflict(
        "already_enrolled",
        "The chef de projet already has an active enrolment on this session",
    )
}

/// Enrols a chef de projet on a session, after checking every eligibility rule.
pub async fn enrol(
    conn: &mut AsyncPgConnection,
    session_id: Uuid,
    chef_id: Uuid,
    actor: &Actor,
) -> Result<Uuid, ApiError> {
    let session = find_session_row(conn, session_id, true)
        .await
        .map_err(|_| unknown_session())?;
    let candidates = candidates(conn, &[chef_id]).await?;
    let offers = offers(conn, &[session.training_id]).await?;
    let offer = offers
        .get(&session.training_id)
        .ok_or_else(|| ApiError::internal("a session's training is missing"))?;
    let status = admit(&session, candidates.get(&chef_id), offer, Utc::now())?;
    let waitlist_order = if status == EnrolmentStatus::Waitlisted {
        Some(
            diesel::select(nextval("waitlist_order"))
                .get_result::<i64>(conn)
                .await?,
        )
    } else {
        None
    };
    let id = Uuid::now_v7();
    diesel::insert_into(enrolments::table)
        .values((
            enrolments::id.eq(id),
            enrolments::session_id.eq(session_id),
            enrolments::chef_de_projet_id.eq(chef_id),
            enrolments::status.eq(status.as_str()),
            enrolments::waitlist_order.eq(waitlist_order),
        ))
        .execute(conn)
        .await
        .map_err(|e| match unique_violation(&e) {
            Some("enrolments_active_key") => already_enrolled(),
            _ => e.into(),
        })?;
    history_line(conn, id, None, status, actor, None).await?;
    Ok(id)
}

/// The live chefs de projet among `ids`, with their programmes, in two statements.
pub async fn candidates(
    conn: &mut AsyncPgConnection,
    ids: &[Uuid],
) -> Result<HashMap<Uuid, Candidate>, ApiError> {
    let rows: Vec<(Uuid, String, Option<chrono::DateTime<Utc>>)> = chefs_de_projet::table
        .filter(chefs_de_projet::id.eq_any(ids))
        .filter(chefs_de_projet::deleted_at.is_null())
        .select((
            chefs_de_projet::id,
            chefs_de_projet::status,
            chefs_de_projet::erased_at,
        ))
        .load(conn)
        .await?;
    let mut found: HashMap<Uuid, Candidate> = rows
        .into_iter()
        .map(|(id, status, erased_at)| {
            let candidate = Candidate {
                status,
                erased: erased_at.is_some(),
                programmes: Vec::new(),
            };
            (id, candidate)
        })
        .collect();
    let memberships: Vec<(Uuid, Uuid)> = chef_programmes::table
        .filter(chef_programmes::chef_de_projet_id.eq_any(ids))
        .select((
            chef_programmes::chef_de_projet_id,
            chef_programmes::programme_id,
        ))
        .load(conn)
        .await?;
    for (chef, programme) in memberships {
        if let Some(candidate) = found.get_mut(&chef) {
            candidate.programmes.push(programme);
        }
    }
    Ok(found)
}

/// The trainings `ids` with their targets, in two statements.
pub async fn offers(
    conn: &mut AsyncPgConnection,
    ids: &[Uuid],
) -> Result<HashMap<Uuid, Offer>, ApiError> {
    let rows: Vec<(Uuid, String)> = trainings::table
        .filter(trainings::id.eq_any(ids))
        .select((trainings::id, trainings::status))
        .load(conn)
        .await?;
    let mut found: HashMap<Uuid, Offer> = rows
        .into_iter()
        .map(|(id, status)| {
            let offer = Offer {
                status,
                targets: Vec::new(),
            };
            (id, offer)
        })
        .collect();
    let targets: Vec<(Uuid, Uuid)> = training_programmes::table
        .filter(training_programmes::training_id.eq_any(ids))
        .select((
            training_programmes::training_id,
            training_programmes::programme_id,
        ))
        .load(conn)
        .await?;
    for (training, programme) in targets {
        if let Some(offer) = found.get_mut(&training) {
            offer.targets.push(programme);
        }
    }
    Ok(found)
}

/// The enrolment and its session, both locked, session first (the one lock order used
/// everywhere, so no two transactions can deadlock on them).
async fn lock(
    conn: &mut AsyncPgConnection,
    id: Uuid,
) -> Result<(SessionRow, EnrolmentRow), ApiError> {
    let session_id: Uuid = enrolments::table
        .find(id)
        .select(enrolments::session_id)
        .first(conn)
        .await
        .optional()?
        .ok_or_else(ApiError::not_found)?;
    let session = find_session_row(conn, session_id, true).await?;
    let enrolment = enrolments::table
        .find(id)
        .select(EnrolmentRow::as_select())
        .for_update()
        .first(conn)
        .await?;
    Ok((session, enrolment))
}

/// A transition asked for by a client.
#[derive(Debug, Clone)]
pub enum Change {
    Approve(Option<String>),
    Refuse(String),
    Cancel(String),
    Attendance {
        attended: bool,
        reason: Option<String>,
    },
}

/// Applies `change` to enrolment `id` if it is still at the version `if_match` names.
pub async fn apply(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    change: Change,
    actor: &Actor,
    if_match: &IfMatch,
    visibility: &Visibility,
) -> Result<(), ApiError> {
    let (session, enrolment) = lock(conn, id).await?;
    if_match.check(&crate::enrolments::store::find(conn, id, visibility).await?)?;
    match change {
        Change::Approve(reason) => {
            approve(conn, &session, &enrolment, actor, reason.as_deref()).await
        }
        Change::Refuse(reason) => refuse(conn, &enrolment, actor, &reason).await,
        Change::Cancel(reason) => {
            if !enrolment.status().is_active() {
                return Err(invalid_transition(enrolment.status(), "cancelled"));
            }
            cancel_locked(conn, &session, &enrolment, actor, &reason).await
        }
        Change::Attendance { attended, reason } => {
            record_attendance(
                conn,
                &session,
                &enrolment,
                attended,
                actor,
                reason.as_deref(),
            )
            .await
        }
    }
}

/// pending_approval → confirmed, or waitlisted when the session is full.
async fn approve(
    conn: &mut AsyncPgConnection,
    session: &SessionRow,
    enrolment: &EnrolmentRow,
    actor: &Actor,
    reason: Option<&str>,
) -> Result<(), ApiError> {
    if enrolment.status() != EnrolmentStatus::PendingApproval {
        return Err(invalid_transition(enrolment.status(), "approved"));
    }
    record(conn, enrolment, placement(session), actor, reason).await
}

/// pending_approval → refused.
async fn refuse(
    conn: &mut AsyncPgConnection,
    enrolment: &EnrolmentRow,
    actor: &Actor,
    reason: &str,
) -> Result<(), ApiError> {
    if enrolment.status() != EnrolmentStatus::PendingApproval {
        return Err(invalid_transition(enrolment.status(), "refused"));
    }
    record(
        conn,
        enrolment,
        EnrolmentStatus::Refused,
        actor,
        Some(reason),
    )
    .await
}

/// pending_approval | waitlisted | confirmed → cancelled; a freed seat goes to the waitlist.
async fn cancel_locked(
    conn: &mut AsyncPgConnection,
    session: &SessionRow,
    enrolment: &EnrolmentRow,
    actor: &Actor,
    reason: &str,
) -> Result<(), ApiError> {
    record(
        conn,
        enrolment,
        EnrolmentStatus::Cancelled,
        actor,
        Some(reason),
    )
    .await?;
    if enrolment.status() == EnrolmentStatus::Confirmed {
        promote_waitlisted(conn, session.id, &Actor::system()).await?;
    }
    Ok(())
}

/// confirmed → attended | absent, once the session has started.
async fn record_attendance(
    conn: &mut AsyncPgConnection,
    session: &SessionRow,
    enrolment: &EnrolmentRow,
    attended: bool,
    actor: &Actor,
    reason: Option<&str>,
) -> Result<(), ApiError> {
    let to = if attended {
        EnrolmentStatus::Attended
    } else {
        EnrolmentStatus::Absent
    };
    if enrolment.status() != EnrolmentStatus::Confirmed {
        return Err(invalid_transition(
            enrolment.status(),
            "marked attended or absent",
        ));
    }
    if Utc::now() < session.starts_at {
        return Err(rule(
            "session_not_started",
            format!(
                "The session starts at {}: attendance comes after",
                session.starts_at
            ),
        ));
    }
    record(conn, enrolment, to, actor, reason).await
}

/// Confirms waitlisted enrolments, first in line first, while seats are left. The caller holds
/// the session's lock.
pub async fn promote_waitlisted(
    conn: &mut AsyncPgConnection,
    session_id: Uuid,
    actor: &Actor,
) -> Result<(), ApiError> {
    loop {
        let session = find_session_row(conn, session_id, true).await?;
        if session.seats_confirmed >= session.capacity || session.status != "scheduled" {
            return Ok(());
        }
        let next = enrolments::table
            .filter(enrolments::session_id.eq(session_id))
            .filter(enrolments::status.eq(EnrolmentStatus::Waitlisted.as_str()))
            .order(enrolments::waitlist_order.asc())
            .select(EnrolmentRow::as_select())
            .for_update()
            .first(conn)
            .await
            .optional()?;
        match next {
            None => return Ok(()),
            Some(enrolment) => {
                record(
                    conn,
                    &enrolment,
                    EnrolmentStatus::Confirmed,
                    actor,
                    Some("seat_freed"),
                )
                .await?
            }
        }
    }
}

/// Cancels every active enrolment of a session (the caller holds its lock).
pub async fn cancel_all_active(
    conn: &mut AsyncPgConnection,
    session_id: Uuid,
    actor: &Actor,
    reason: &str,
) -> Result<(), ApiError> {
    let active: Vec<EnrolmentRow> = enrolments::table
        .filter(enrolments::session_id.eq(session_id))
        .filter(enrolments::status.eq_any(EnrolmentStatus::ACTIVE.map(EnrolmentStatus::as_str)))
        .order(enrolments::id)
        .select(EnrolmentRow::as_select())
        .for_update()
        .load(conn)
        .await?;
    for enrolment in &active {
        record(
            conn,
            enrolment,
            EnrolmentStatus::Cancelled,
            actor,
            Some(reason),
        )
        .await?;
    }
    Ok(())
}

/// Cancels every active enrolment of a chef de projet, session by session in id order, and
/// gives the freed seats to the waitlists.
pub async fn cancel_all_of_chef(
    conn: &mut AsyncPgConnection,
    chef_id: Uuid,
    actor: &Actor,
    reason: &str,
) -> Result<(), ApiError> {
    let ids: Vec<(Uuid, Uuid)> = enrolments::table
        .filter(enrolments::chef_de_projet_id.eq(chef_id))
        .filter(enrolments::status.eq_any(EnrolmentStatus::ACTIVE.map(EnrolmentStatus::as_str)))
        .order((enrolments::session_id, enrolments::id))
        .select((enrolments::session_id, enrolments::id))
        .load(conn)
        .await?;
    for (_, id) in ids {
        let (session, enrolment) = lock(conn, id).await?;
        // Another transaction may have moved it on since the list was read.
        if enrolment.status().is_active() {
            cancel_locked(conn, &session, &enrolment, actor, reason).await?;
        }
    }
    Ok(())
}

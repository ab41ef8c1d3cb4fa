//! Create or update a resource by the caller's reference, in one (nested) transaction.

use diesel::sql_types::{Bool, Text};
use diesel::QueryableByName;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use serde_json::Value;

use crate::auth::Caller;
use crate::changes::views::ResourceType;
use crate::enrolments::views::{Enrolment, EnrolmentInput};
use crate::error::ApiError;
use crate::http::resource_key::{find_reference, save_reference};
use crate::http::IfMatch;
use crate::sessions::domain::SessionDraft;
use crate::sessions::views::{Session, SessionInput};

/// What an upsert did.
pub enum Upserted<T> {
    Created(T),
    Updated(T),
}

#[derive(QueryableByName)]
struct Locked {
    #[diesel(sql_type = Bool)]
    #[allow(dead_code)]
    locked: bool,
}

/// Serialises the upserts of one reference (two partners' retries must not create two).
async fn lock_reference(
    conn: &mut AsyncPgConnection,
    caller: &Caller,
    resource_type: ResourceType,
    reference: &str,
) -> Result<(), ApiError> {
    diesel::sql_query("SELECT true AS locked FROM (SELECT pg_advisory_xact_lock(hashtext($1), hashtext($2))) AS l")
        .bind::<Text, _>(&caller.client_id)
        .bind::<Text, _>(format!("{}:{reference}", resource_type.as_str()))
        .get_result::<Locked>(conn)
        .await?;
    Ok(())
}

/// Creates the session `reference` names, or applies `input` to it (as a merge patch: fields
/// left out keep their value).
pub async fn session(
    conn: &mut AsyncPgConnection,
    caller: &Caller,
    reference: &str,
    input: SessionInput,
    if_match: &IfMatch,
) -> Result<Upserted<Session>, ApiError> {
    let visibility = caller.visibility();
    let actor = caller.actor();
    conn.transaction::<_, ApiError, _>(async |conn| {
        lock_reference(conn, caller, ResourceType::Session, reference).await?;
        match find_reference(conn, &caller.client_id, ResourceType::Session, reference).await? {
            Some(id) => {
                let Value::Object(patch) =
                    serde_json::to_value(&input).map_err(ApiError::internal)?
                else {
                    return Err(ApiError::internal("a session serialises to an object"));
                };
                let session =
                    crate::sessions::store::update(conn, id, if_match, patch, &actor, &visibility)
                        .await?;
                Ok(Upserted::Updated(session))
            }
            None => {
                let draft = SessionDraft::try_from(input)?;
                let session = crate::sessions::store::create(conn, &draft, &visibility).await?;
                save_reference(
                    conn,
                    &caller.client_id,
                    ResourceType::Session,
                    reference,
                    session.id,
                )
                .await?;
                Ok(Upserted::Created(session))
            }
        }
    })
    .await
}

/// Enrols as `input` says under `reference`, or, when the reference exists, checks it names the
/// same chef de projet and session (an enrolment changes through its transitions).
pub async fn enrolment(
    conn: &mut AsyncPgConnection,
    caller: &Caller,
    reference: &str,
    input: EnrolmentInput,
) -> Result<Upserted<Enrolment>, ApiError> {
    let visibility = caller.visibility();
    conn.transaction::<_, ApiError, _>(async |conn| {
        lock_reference(conn, caller, ResourceType::Enrolment, reference).await?;
        match find_reference(conn, &caller.client_id, ResourceType::Enrolment, reference).await? {
            Some(id) => {
                let current = crate::enrolments::store::find(conn, id, &visibility).await?;
                if current.session_id != input.session_id || current.chef_de_projet_id != input.chef_de_projet_id {
                    return Err(ApiError::invalid_field(
                        "session_id",
                        "immutable",
                        "this reference names an enrolment of another chef de projet or session; it changes through its transitions only",
                    ));
                }
                Ok(Upserted::Updated(current))
            }
            None => {
                let id = crate::enrolments::handlers::enrol_as(conn, caller, &input).await?;
                save_reference(conn, &caller.client_id, ResourceType::Enrolment, reference, id).await?;
                let enrolment = crate::enrolments::store::find(conn, id, &visibility).await?;
                Ok(Upserted::Created(enrolment))
            }
        }
    })
    .await
}

//! Create or update a resource by the caller's reference, in one (nested) transaction.

use diesel::sql_types::Text;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use serde_json::Value;
use uuid::Uuid;

use crate::auth::Caller;
use crate::changes::views::ResourceType;
use crate::chefs_de_projet::{
    domain::ChefDraft,
    views::{ChefDeProjet, ChefDeProjetInput},
};
use crate::collectivites::{
    domain::CollectiviteDraft,
    views::{Collectivite, CollectiviteInput},
};
use crate::enrolments::views::EnrolmentInput;
use crate::error::ApiError;
use crate::http::resource_key::{find_reference, save_reference};
use crate::http::IfMatch;
use crate::programmes::{
    domain::ProgrammeDraft,
    views::{Programme, ProgrammeInput},
};
use crate::sessions::domain::SessionDraft;
use crate::sessions::views::{Session, SessionInput};
use crate::trainings::{
    domain::TrainingDraft,
    views::{Training, TrainingInput},
};

/// What an upsert did.
pub enum Upserted<T> {
    Created(T),
    Updated(T),
}

impl<T> Upserted<T> {
    /// The same outcome, about what `f` makes of the resource.
    pub async fn then<U>(
        self,
        f: impl AsyncFnOnce(T) -> Result<U, ApiError>,
    ) -> Result<Upserted<U>, ApiError> {
        Ok(match self {
            Upserted::Created(t) => Upserted::Created(f(t).await?),
            Upserted::Updated(t) => Upserted::Updated(f(t).await?),
        })
    }
}

diesel::define_sql_function! {
    fn pg_advisory_xact_lock(key1: diesel::sql_types::Integer, key2: diesel::sql_types::Integer);
}

diesel::define_sql_function! {
    fn hashtext(text: Text) -> diesel::sql_types::Integer;
}

/// The advisory lock key of a reference (with the client id), shared by single and batch upserts
/// so they serialise against each other.
pub fn reference_lock_key(resource_type: ResourceType, reference: &str) -> String {
    format!("{}:{reference}", resource_type.as_str())
}

/// The 422 for an enrolment reference sent with another chef de projet or session.
pub fn other_parties() -> ApiError {
    ApiError::invalid_field(
        "session_id",
        "immutable",
        "this reference names an enrolment of another chef de projet or session; it changes through its transitions only",
    )
}

/// Serialises the upserts of one reference (two partners' retries must not create two).
async fn lock_reference(
    conn: &mut AsyncPgConnection,
    caller: &Caller,
    resource_type: ResourceType,
    reference: &str,
) -> Result<(), ApiError> {
    // A prepared statement (a raw SQL query would be parsed again for every item of a batch).
    diesel::select(pg_advisory_xact_lock(
        hashtext(&caller.client_id),
        hashtext(reference_lock_key(resource_type, reference)),
    ))
    .execute(conn)
    .await?;
    Ok(())
}

/// `input` as the merge patch applied to an existing resource: every field it carries.
fn as_patch<T: serde::Serialize>(input: &T) -> Result<serde_json::Map<String, Value>, ApiError> {
    match serde_json::to_value(input).map_err(ApiError::internal)? {
        Value::Object(patch) => Ok(patch),
        _ => Err(ApiError::internal("an input serialises to an object")),
    }
}

/// Creates or updates the resource `reference` names, in one nested transaction with the
/// reference lock. `$create` and `$update` are the store's operations.
macro_rules! upsert_by_reference {
    ($conn:expr, $caller:expr, $kind:expr, $reference:expr, $create:expr, $update:expr) => {{
        let caller: &Caller = $caller;
        $conn
            .transaction::<_, ApiError, _>(async |conn| {
                lock_reference(conn, caller, $kind, $reference).await?;
                match find_reference(conn, &caller.client_id, $kind, $reference).await? {
                    Some(id) => Ok(Upserted::Updated($update(conn, id).await?)),
                    None => {
                        let created = $create(conn).await?;
                        save_reference(conn, &caller.client_id, $kind, $reference, created.id)
                            .await?;
                        Ok(Upserted::Created(created))
                    }
                }
            })
            .await
    }};
}

/// Creates the training `reference` names, or applies `input` to it.
pub async fn training(
    conn: &mut AsyncPgConnection,
    caller: &Caller,
    reference: &str,
    input: TrainingInput,
    if_match: &IfMatch,
) -> Result<Upserted<Training>, ApiError> {
    let visibility = caller.visibility();
    let patch = as_patch(&input)?;
    upsert_by_reference!(
        conn,
        caller,
        ResourceType::Training,
        reference,
        async |conn: &mut AsyncPgConnection| {
            let draft = TrainingDraft::try_from(input)?;
            crate::trainings::store::create(conn, &draft, &visibility).await
        },
        async |conn: &mut AsyncPgConnection, id| {
            crate::trainings::store::update(conn, id, if_match, patch, &visibility).await
        }
    )
}

/// Creates the territory `reference` names, or applies `input` to it.
pub async fn collectivite(
    conn: &mut AsyncPgConnection,
    caller: &Caller,
    reference: &str,
    input: CollectiviteInput,
    if_match: &IfMatch,
) -> Result<Upserted<Collectivite>, ApiError> {
    let visibility = caller.visibility();
    let patch = as_patch(&input)?;
    upsert_by_reference!(
        conn,
        caller,
        ResourceType::Collectivite,
        reference,
        async |conn: &mut AsyncPgConnection| {
            let draft = CollectiviteDraft::try_from(input)?;
            crate::collectivites::store::create(conn, &draft, &visibility).await
        },
        async |conn: &mut AsyncPgConnection, id| {
            crate::collectivites::store::update(conn, id, if_match, patch, &visibility).await
        }
    )
}

/// Creates the chef de projet `reference` names, or applies `input` to them.
pub async fn chef_de_projet(
    conn: &mut AsyncPgConnection,
    caller: &Caller,
    reference: &str,
    input: ChefDeProjetInput,
    if_match: &IfMatch,
) -> Result<Upserted<ChefDeProjet>, ApiError> {
    let visibility = caller.visibility();
    let patch = as_patch(&input)?;
    upsert_by_reference!(
        conn,
        caller,
        ResourceType::ChefDeProjet,
        reference,
        async |conn: &mut AsyncPgConnection| {
            let draft = ChefDraft::try_from(input)?;
            crate::chefs_de_projet::store::create(conn, &draft, &visibility).await
        },
        async |conn: &mut AsyncPgConnection, id| {
            crate::chefs_de_projet::store::update(conn, id, if_match, patch, &visibility).await
        }
    )
}

/// Creates the programme `reference` names (unrestricted clients), or applies `input` to it.
pub async fn programme(
    conn: &mut AsyncPgConnection,
    caller: &Caller,
    reference: &str,
    input: ProgrammeInput,
    if_match: &IfMatch,
) -> Result<Upserted<Programme>, ApiError> {
    let visibility = caller.visibility();
    let patch = as_patch(&input)?;
    upsert_by_reference!(
        conn,
        caller,
        ResourceType::Programme,
        reference,
        async |conn: &mut AsyncPgConnection| {
            caller.require_unrestricted()?;
            let draft = ProgrammeDraft::try_from(input)?;
            crate::programmes::store::create(conn, &draft).await
        },
        async |conn: &mut AsyncPgConnection, id| {
            crate::programmes::store::update(conn, id, if_match, patch, &visibility).await
        }
    )
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
    let patch = as_patch(&input)?;
    upsert_by_reference!(
        conn,
        caller,
        ResourceType::Session,
        reference,
        async |conn: &mut AsyncPgConnection| {
            let draft = SessionDraft::try_from(input)?;
            crate::sessions::store::create(conn, &draft, &visibility).await
        },
        async |conn: &mut AsyncPgConnection, id| {
            crate::sessions::store::update(conn, id, if_match, patch, &actor, &visibility).await
        }
    )
}

/// Enrols as `input` says under `reference`, or, when the reference exists, checks it names the
/// same chef de projet and session (an enrolment changes through its transitions). Answers the
/// enrolment's id: a batch needs no more, and a single upsert reads the enrolment afterwards.
pub async fn enrolment(
    conn: &mut AsyncPgConnection,
    caller: &Caller,
    reference: &str,
    input: EnrolmentInput,
) -> Result<Upserted<Uuid>, ApiError> {
    let visibility = caller.visibility();
    conn.transaction::<_, ApiError, _>(async |conn| {
        lock_reference(conn, caller, ResourceType::Enrolment, reference).await?;
        match find_reference(conn, &caller.client_id, ResourceType::Enrolment, reference).await? {
            Some(id) => {
                let (session_id, chef_de_projet_id) =
                    crate::enrolments::store::parties(conn, id, &visibility).await?;
                if session_id != input.session_id || chef_de_projet_id != input.chef_de_projet_id {
                    return Err(other_parties());
                }
                Ok(Upserted::Updated(id))
            }
            None => {
                let id = crate::enrolments::handlers::enrol_as(conn, caller, &input).await?;
                save_reference(
                    conn,
                    &caller.client_id,
                    ResourceType::Enrolment,
                    reference,
                    id,
                )
                .await?;
                Ok(Upserted::Created(id))
            }
        }
    })
    .await
}

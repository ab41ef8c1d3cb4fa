//! The `{id}` of a resource path: a UUID, or `ref:<reference>` — the caller's own reference to
//! the resource, in its namespace. Anything that names nothing is a 404 like any unknown id,
//! never a 400 that would tell ids and garbage apart.

use std::{future::Future, pin::Pin};

use actix_web::{dev::Payload, web, FromRequest, HttpRequest};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use crate::auth::Caller;
use crate::changes::views::ResourceType;
use crate::db::schema::partner_refs;
use crate::db::DbPool;
use crate::error::ApiError;

/// The resource named by the `{id}` segment of the path, resolved to its id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResourceKey(pub Uuid);

/// A partner reference: 1–200 visible characters.
pub fn parse_reference(text: &str) -> Option<&str> {
    let valid = (1..=200).contains(&text.chars().count())
        && text.chars().all(|c| !c.is_control() && !c.is_whitespace());
    valid.then_some(text)
}

/// The `{id}` segment as sent.
pub enum PathKey<'a> {
    Id(Uuid),
    Reference(&'a str),
    Nothing,
}

pub fn path_key(segment: &str) -> PathKey<'_> {
    if let Some(reference) = segment.strip_prefix("ref:") {
        return parse_reference(reference).map_or(PathKey::Nothing, PathKey::Reference);
    }
    Uuid::parse_str(segment).map_or(PathKey::Nothing, PathKey::Id)
}

/// The resource type a route is about, from its path pattern (`/api/v1/sessions/{id}…`).
fn resource_type_of(request: &HttpRequest) -> Option<ResourceType> {
    let pattern = request.match_pattern()?;
    let collection = pattern.trim_start_matches("/api/v1/").split('/').next()?;
    Some(match collection {
        "programmes" => ResourceType::Programme,
        "collectivites" => ResourceType::Collectivite,
        "chefs_de_projet" => ResourceType::ChefDeProjet,
        "trainings" => ResourceType::Training,
        "sessions" => ResourceType::Session,
        "enrolments" => ResourceType::Enrolment,
        _ => return None,
    })
}

/// The id `reference` names for `client_id`, if any.
pub async fn find_reference(
    conn: &mut AsyncPgConnection,
    client_id: &str,
    resource_type: ResourceType,
    reference: &str,
) -> Result<Option<Uuid>, ApiError> {
    Ok(partner_refs::table
        .find((client_id, resource_type.as_str(), reference))
        .select(partner_refs::resource_id)
        .first(conn)
        .await
        .optional()?)
}

/// Records that `reference` names `id` for `client_id`.
pub async fn save_reference(
    conn: &mut AsyncPgConnection,
    client_id: &str,
    resource_type: ResourceType,
    reference: &str,
    id: Uuid,
) -> Result<(), ApiError> {
    diesel::insert_into(partner_refs::table)
        .values((
            partner_refs::client_id.eq(client_id),
            partner_refs::resource_type.eq(resource_type.as_str()),
            partner_refs::reference.eq(reference),
            partner_refs::resource_id.eq(id),
        ))
        .execute(conn)
        .await
        .map_err(|e| match crate::db::unique_violation(&e) {
            Some(_) => ApiError::conflict(
                "reference_taken",
                "This resource already has another reference of yours, or the reference names another resource",
            ),
            None => e.into(),
        })?;
    Ok(())
}

impl FromRequest for ResourceKey {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let segment = req.match_info().get("id").unwrap_or_default().to_string();
        let resource_type = resource_type_of(req);
        let pool = req.app_data::<web::Data<DbPool>>().cloned();
        let request = req.clone();
        Box::pin(async move {
            match path_key(&segment) {
                PathKey::Id(id) => Ok(ResourceKey(id)),
                // Not an id: perhaps a sibling path (`/sessions/batch`) under another method.
                PathKey::Nothing => Err(crate::http::fallback::unrouted(&request)),
                PathKey::Reference(reference) => {
                    let (Some(resource_type), Some(pool)) = (resource_type, pool) else {
                        return Err(ApiError::not_found());
                    };
                    // Extractors run side by side: the caller is authenticated again here
                    // (only for `ref:` paths) to know whose namespace the reference is in.
                    let caller = Caller::from_request(&request, &mut Payload::None).await?;
                    let mut conn = pool.get().await?;
                    find_reference(&mut conn, &caller.client_id, resource_type, reference)
                        .await?
                        .map(ResourceKey)
                        .ok_or_else(ApiError::not_found)
                }
            }
        })
    }
}

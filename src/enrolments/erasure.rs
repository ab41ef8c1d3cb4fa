//! Erasure of a chef de projet (GDPR): their personal data is anonymised and their active
//! enrolments cancelled, in one transaction; past enrolments stay for the statistics.

use diesel_async::{AsyncConnection, AsyncPgConnection};
use uuid::Uuid;

use crate::auth::Visibility;
use crate::chefs_de_projet::{store, views::ChefDeProjet};
use crate::enrolments::lifecycle::{self, Actor};
use crate::error::ApiError;

pub async fn erase_chef(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    visibility: &Visibility,
) -> Result<ChefDeProjet, ApiError> {
    conn.transaction::<_, ApiError, _>(async |conn| {
        let chef = store::erase(conn, id, visibility).await?;
        lifecycle::cancel_all_of_chef(conn, id, &Actor::system(), "chef_erased").await?;
        crate::changes::store::forget_person(conn, id).await?;
        crate::webhooks::store::forget_person(conn, id).await?;
        Ok(chef)
    })
    .await
}

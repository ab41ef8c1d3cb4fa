//! API clients: who may call the API, with which scopes, restricted to which programmes.
//! Secrets are random, shown once, and stored as Argon2id hashes.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use crate::auth::scopes::Scope;
use crate::db::schema::api_clients;

/// A client as the service knows it.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = api_clients, check_for_backend(diesel::pg::Pg))]
pub struct ApiClient {
    pub id: Uuid,
    pub client_id: String,
    pub name: String,
    pub secret_hash: String,
    pub scopes: Vec<String>,
    pub programme_ids: Vec<Uuid>,
    pub disabled_at: Option<DateTime<Utc>>,
}

impl ApiClient {
    pub fn scopes(&self) -> Vec<Scope> {
        self.scopes.iter().filter_map(|s| Scope::parse(s)).collect()
    }
}

/// A new client's credentials; the secret exists only here.
#[derive(Debug, serde::Serialize)]
pub struct NewCredentials {
    pub client_id: String,
    pub client_secret: String,
}

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error(transparent)]
    Database(#[from] diesel::result::Error),
    #[error("no random source: {0}")]
    Random(String),
    #[error("cannot hash the secret: {0}")]
    Hash(String),
    #[error("no client has the id {0}")]
    Unknown(String),
}

fn random_text(bytes: usize) -> Result<String, ClientError> {
    let mut buffer = vec![0u8; bytes];
    getrandom::fill(&mut buffer).map_err(|e| ClientError::Random(e.to_string()))?;
    Ok(URL_SAFE_NO_PAD.encode(buffer))
}

/// Argon2id hash (PHC string) of `secret`.
pub fn hash_secret(secret: &str) -> Result<String, ClientError> {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(|e| ClientError::Random(e.to_string()))?;
    let salt = SaltString::encode_b64(&salt).map_err(|e| ClientError::Hash(e.to_string()))?;
    Argon2::default()
        .hash_password(secret.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|e| ClientError::Hash(e.to_string()))
}

/// Whether `secret` matches `hash`. Costs tens of milliseconds on purpose: call it off the
/// async workers.
pub fn verify_secret(secret: &str, hash: &str) -> bool {
    PasswordHash::new(hash)
        .map(|parsed| {
            Argon2::default()
                .verify_password(secret.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false)
}

/// Creates a client and returns its credentials (the only time the secret is seen).
pub async fn create(
    conn: &mut AsyncPgConnection,
    name: &str,
    scopes: &[Scope],
    programme_ids: &[Uuid],
) -> Result<NewCredentials, ClientError> {
    let client_id = format!(
        "cli_{}",
        random_text(12)?.to_ascii_lowercase().replace('-', "_")
    );
    let client_secret = random_text(32)?;
    let secret_hash = tokio::task::spawn_blocking({
        let secret = client_secret.clone();
        move || hash_secret(&secret)
    })
    .await
    .map_err(|e| ClientError::Hash(e.to_string()))??;
    diesel::insert_into(api_clients::table)
        .values((
            api_clients::id.eq(Uuid::now_v7()),
            api_clients::client_id.eq(&client_id),
            api_clients::name.eq(name),
            api_clients::secret_hash.eq(secret_hash),
            api_clients::scopes.eq(scopes
                .iter()
                .map(|s| s.as_str().to_string())
                .collect::<Vec<_>>()),
            api_clients::programme_ids.eq(programme_ids),
        ))
        .execute(conn)
        .await?;
    Ok(NewCredentials {
        client_id,
        client_secret,
    })
}

/// The client `client_id`, disabled or not.
pub async fn find(
    conn: &mut AsyncPgConnection,
    client_id: &str,
) -> Result<Option<ApiClient>, ClientError> {
    Ok(api_clients::table
        .filter(api_clients::client_id.eq(client_id))
        .select(ApiClient::as_select())
        .first(conn)
        .await
        .optional()?)
}

/// Whether `client_id` exists and is not disabled (checked on every request, so disabling takes
/// effect at once on every instance).
/// One statement: fit for a shared read connection.
pub async fn is_enabled(
    mut conn: &AsyncPgConnection,
    client_id: &str,
) -> Result<bool, diesel::result::Error> {
    let found: Option<Option<DateTime<Utc>>> = api_clients::table
        .filter(api_clients::client_id.eq(client_id))
        .select(api_clients::disabled_at)
        .first(&mut conn)
        .await
        .optional()?;
    Ok(matches!(found, Some(None)))
}

/// Disables a client: its tokens stop working at once.
pub async fn disable(
    conn: &mut AsyncPgConnection,
    client_id: &str,
    reason: Option<&str>,
) -> Result<(), ClientError> {
    let changed = diesel::update(api_clients::table.filter(api_clients::client_id.eq(client_id)))
        .set((
            api_clients::disabled_at.eq(diesel::dsl::now),
            api_clients::disabled_reason.eq(reason),
            api_clients::updated_at.eq(diesel::dsl::now),
        ))
        .execute(conn)
        .await?;
    if changed == 0 {
        return Err(ClientError::Unknown(client_id.to_string()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn secrets_hash_and_verify() {
        let hash = super::hash_secret("s3cret").unwrap();
        assert!(hash.starts_with("$argon2id$"), "{hash}");
        assert!(super::verify_secret("s3cret", &hash));
        assert!(!super::verify_secret("S3cret", &hash));
        assert!(!super::verify_secret("s3cret", "not a hash"));
    }
}

//! The keys that sign access tokens: Ed25519 (`EdDSA`), each with a `kid`, kept in the database so
//! every instance signs and verifies with the same set.
//!
//! Rotation (`anct-formations keys rotate`) adds a key that signs from then on and retires the
//! previous one, which keeps verifying until every token it signed has expired. Instances reload
//! the set periodically and at once when a token names a `kid` they do not know.

use std::{collections::HashMap, sync::RwLock, time::Duration};

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use chrono::Utc;
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use jsonwebtoken::{DecodingKey, EncodingKey};
use serde_json::{json, Value};

use crate::db::schema::signing_keys;

/// PKCS#8 v1 header of an Ed25519 private key; the 32-byte seed follows.
const PKCS8_ED25519_PREFIX: [u8; 16] = [
    0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
];

/// Key of the advisory lock taken while creating or rotating keys.
const KEYS_LOCK: i64 = 0x616e_6374_6b65_7973;

#[derive(Queryable)]
struct KeyRow {
    kid: String,
    private_key: Vec<u8>,
    public_key: Vec<u8>,
    retired: bool,
}

/// A fresh key: its kid, PKCS#8 DER private key and raw public key.
fn generate() -> Result<(String, Vec<u8>, Vec<u8>), getrandom::Error> {
    let mut seed = [0u8; 32];
    getrandom::fill(&mut seed)?;
    let public = ed25519_dalek::SigningKey::from_bytes(&seed)
        .verifying_key()
        .to_bytes()
        .to_vec();
    let mut private = PKCS8_ED25519_PREFIX.to_vec();
    private.extend_from_slice(&seed);
    let kid = format!(
        "{}-{}",
        Utc::now().format("%Y%m%d%H%M%S"),
        hex_prefix(&public)
    );
    Ok((kid, private, public))
}

fn hex_prefix(bytes: &[u8]) -> String {
    bytes[..4].iter().map(|b| format!("{b:02x}")).collect()
}

async fn insert_new_key(conn: &mut AsyncPgConnection) -> Result<String, KeyError> {
    let (kid, private, public) = generate().map_err(|e| KeyError::Random(e.to_string()))?;
    diesel::insert_into(signing_keys::table)
        .values((
            signing_keys::kid.eq(&kid),
            signing_keys::algorithm.eq("EdDSA"),
            signing_keys::private_key.eq(private),
            signing_keys::public_key.eq(public),
        ))
        .execute(conn)
        .await?;
    Ok(kid)
}

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error(transparent)]
    Database(#[from] diesel::result::Error),
    #[error("no random source: {0}")]
    Random(String),
}

async fn with_lock<T>(
    conn: &mut AsyncPgConnection,
    work: impl AsyncFnOnce(&mut AsyncPgConnection) -> Result<T, KeyError>,
) -> Result<T, KeyError> {
    diesel::sql_query(format!("SELECT pg_advisory_lock({KEYS_LOCK})"))
        .execute(conn)
        .await?;
    let result = work(conn).await;
    diesel::sql_query(format!("SELECT pg_advisory_unlock({KEYS_LOCK})"))
        .execute(conn)
        .await?;
    result
}

/// Creates the first signing key if there is none (instances starting together create one).
pub async fn ensure_signing_key(conn: &mut AsyncPgConnection) -> Result<(), KeyError> {
    with_lock(conn, async |conn| {
        let active: i64 = signing_keys::table
            .filter(signing_keys::retired_at.is_null())
            .count()
            .get_result(conn)
            .await?;
        if active == 0 {
            let kid = insert_new_key(conn).await?;
            log::info!("created signing key {kid}");
        }
        Ok(())
    })
    .await
}

/// Adds a new signing key, retires the others, and forgets keys retired longer ago than
/// `keep_retired` (past the lifetime of any token they signed). Returns the new kid.
pub async fn rotate(
    conn: &mut AsyncPgConnection,
    keep_retired: Duration,
) -> Result<String, KeyError> {
    with_lock(conn, async |conn| {
        let kid = insert_new_key(conn).await?;
        diesel::update(
            signing_keys::table
                .filter(signing_keys::retired_at.is_null())
                .filter(signing_keys::kid.ne(&kid)),
        )
        .set(signing_keys::retired_at.eq(diesel::dsl::now))
        .execute(conn)
        .await?;
        let horizon = Utc::now()
            - chrono::Duration::from_std(keep_retired).unwrap_or(chrono::Duration::hours(1));
        diesel::delete(signing_keys::table.filter(signing_keys::retired_at.lt(horizon)))
            .execute(conn)
            .await?;
        Ok(kid)
    })
    .await
}

/// The keys of one load.
struct Keys {
    signing: Option<(String, EncodingKey)>,
    verifying: HashMap<String, DecodingKey>,
    jwks: Value,
}

/// The signing and verifying keys every request uses, reloaded from the database as needed.
pub struct KeyRing {
    keys: RwLock<Keys>,
}

impl KeyRing {
    pub fn empty() -> Self {
        Self {
            keys: RwLock::new(Keys {
                signing: None,
                verifying: HashMap::new(),
                jwks: json!({"keys": []}),
            }),
        }
    }

    /// Reads every key from the database.
    pub async fn reload(&self, conn: &mut AsyncPgConnection) -> Result<(), KeyError> {
        let rows: Vec<KeyRow> = signing_keys::table
            .order(signing_keys::created_at.desc())
            .select((
                signing_keys::kid,
                signing_keys::private_key,
                signing_keys::public_key,
                signing_keys::retired_at.is_not_null(),
            ))
            .load(conn)
            .await?;
        let signing = rows
            .iter()
            .find(|r| !r.retired)
            .map(|r| (r.kid.clone(), EncodingKey::from_ed_der(&r.private_key)));
        let verifying = rows
            .iter()
            .map(|r| (r.kid.clone(), DecodingKey::from_ed_der(&r.public_key)))
            .collect();
        let jwks = json!({
            "keys": rows.iter().map(|r| json!({
                "kty": "OKP",
                "crv": "Ed25519",
                "alg": "EdDSA",
                "use": "sig",
                "kid": r.kid,
                "x": URL_SAFE_NO_PAD.encode(&r.public_key),
            })).collect::<Vec<_>>()
        });
        let mut keys = self.keys.write().unwrap_or_else(|p| p.into_inner());
        *keys = Keys {
            signing,
            verifying,
            jwks,
        };
        Ok(())
    }

    /// The key that signs new tokens, with its kid.
    pub fn signing_key(&self) -> Option<(String, EncodingKey)> {
        self.keys
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .signing
            .clone()
    }

    /// The public key named `kid`, if known.
    pub fn verifying_key(&self, kid: &str) -> Option<DecodingKey> {
        self.keys
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .verifying
            .get(kid)
            .cloned()
    }

    /// The public keys as a JWK Set (RFC 7517).
    /// Whether the key `kid` still verifies tokens.
    pub fn knows(&self, kid: &str) -> bool {
        self.keys
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .verifying
            .contains_key(kid)
    }

    #[cfg(test)]
    pub fn insert_verifying_for_tests(&self, kid: &str) {
        self.keys
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .verifying
            .insert(kid.to_string(), DecodingKey::from_ed_der(&[0u8; 32]));
    }

    pub fn jwks(&self) -> Value {
        self.keys
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .jwks
            .clone()
    }
}

#[cfg(test)]
mod tests {
    use jsonwebtoken::{decode, encode, Algorithm, Header, Validation};

    #[test]
    fn a_generated_key_signs_what_its_public_key_verifies() {
        let (kid, private, public) = super::generate().unwrap();
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(kid);
        let claims = serde_json::json!({"sub": "x", "exp": 4_000_000_000u64});
        let token = encode(
            &header,
            &claims,
            &jsonwebtoken::EncodingKey::from_ed_der(&private),
        )
        .unwrap();
        let mut validation = Validation::new(Algorithm::EdDSA);
        validation.validate_aud = false;
        let decoded = decode::<serde_json::Value>(
            &token,
            &jsonwebtoken::DecodingKey::from_ed_der(&public),
            &validation,
        )
        .unwrap();
        assert_eq!(decoded.claims["sub"], "x");
        let (_, _, other_public) = super::generate().unwrap();
        assert!(decode::<serde_json::Value>(
            &token,
            &jsonwebtoken::DecodingKey::from_ed_der(&other_public),
            &validation
        )
        .is_err());
    }
}

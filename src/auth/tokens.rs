//! Access tokens: short-lived JWTs signed with the current Ed25519 key. Verification pins the
//! algorithm and checks issuer, audience, expiry and not-before; the token's header is never
//! trusted for anything but the `kid`.

use std::time::Duration;

use chrono::Utc;
use jsonwebtoken::{decode, decode_header, encode, Algorithm, Header, Validation};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::auth::keys::KeyRing;

/// The claims of an access token.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    pub iss: String,
    pub aud: String,
    /// The client's `client_id`.
    pub sub: String,
    pub exp: i64,
    pub iat: i64,
    pub nbf: i64,
    pub jti: String,
    /// Space-separated scopes (RFC 8693 §4.2).
    pub scope: String,
    /// The programmes a restricted client may see; absent for unrestricted clients.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub programmes: Option<Vec<Uuid>>,
}

/// Who tokens are issued by and for.
#[derive(Debug, Clone)]
pub struct TokenSettings {
    pub issuer: String,
    pub audience: String,
    pub ttl: Duration,
}

#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("no signing key is loaded")]
    NoKey,
    #[error("the token is not valid: {0}")]
    Invalid(String),
    #[error("the token names an unknown key")]
    UnknownKey,
    #[error("cannot sign: {0}")]
    Signing(String),
}

/// Signs a token for `client_id` with `scopes` (space-separated) and `programmes`.
pub fn issue(
    keys: &KeyRing,
    settings: &TokenSettings,
    client_id: &str,
    scope: &str,
    programmes: Option<Vec<Uuid>>,
) -> Result<(String, Claims), TokenError> {
    let (kid, key) = keys.signing_key().ok_or(TokenError::NoKey)?;
    let now = Utc::now().timestamp();
    let claims = Claims {
        iss: settings.issuer.clone(),
        aud: settings.audience.clone(),
        sub: client_id.to_string(),
        exp: now + settings.ttl.as_secs() as i64,
        iat: now,
        nbf: now,
        jti: Uuid::new_v4().to_string(),
        scope: scope.to_string(),
        programmes,
    };
    let mut header = Header::new(Algorithm::EdDSA);
    header.kid = Some(kid);
    let token = encode(&header, &claims, &key).map_err(|e| TokenError::Signing(e.to_string()))?;
    Ok((token, claims))
}

/// The `kid` a token names, read without trusting anything else of the header.
pub fn kid_of(token: &str) -> Result<String, TokenError> {
    decode_header(token)
        .map_err(|e| TokenError::Invalid(e.to_string()))?
        .kid
        .ok_or_else(|| TokenError::Invalid("the token has no kid".into()))
}

/// Verifies `token` with the key it names: EdDSA only, issuer, audience, exp and nbf checked.
pub fn verify(keys: &KeyRing, settings: &TokenSettings, token: &str) -> Result<Claims, TokenError> {
    let kid = kid_of(token)?;
    let key = keys.verifying_key(&kid).ok_or(TokenError::UnknownKey)?;
    let mut validation = Validation::new(Algorithm::EdDSA);
    validation.set_issuer(&[&settings.issuer]);
    validation.set_audience(&[&settings.audience]);
    validation.set_required_spec_claims(&["exp", "nbf", "iss", "aud", "sub"]);
    validation.validate_nbf = true;
    validation.leeway = 5;
    decode::<Claims>(token, &key, &validation)
        .map(|data| data.claims)
        .map_err(|e| TokenError::Invalid(e.to_string()))
}

//! `POST /api/v1/oauth/token` (RFC 6749 §4.4, client credentials) and
//! `GET /.well-known/jwks.json`.

use actix_web::{
    get,
    http::{header, StatusCode},
    post, web, HttpRequest, HttpResponse,
};
use base64::{engine::general_purpose::STANDARD, Engine};
use futures_util::StreamExt;
use serde::Serialize;
use utoipa::ToSchema;

use crate::auth::{
    caller::AuthState,
    clients,
    scopes::{parse_list, Scope},
    tokens,
};
use crate::db::DbPool;
use crate::http::request_id::KeepErrorBody;
use crate::openapi::responses::{InternalError, ServiceUnavailable};

/// A successful token response (RFC 6749 §5.1).
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "access_token": "eyJhbGciOiJFZERTQSIsImtpZCI6IjIwMjYxMTI2MTAwMDAwLTFhMmIzYzRkIn0.eyJ…",
    "token_type": "Bearer",
    "expires_in": 900,
    "scope": "programmes:read trainings:read"
}))]
pub struct TokenResponse {
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: &'static str,
    /// Seconds until the token expires.
    pub expires_in: u64,
    /// The scopes granted, space-separated.
    pub scope: String,
}

/// An error response (RFC 6749 §5.2).
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"error": "invalid_client", "error_description": "Unknown client or wrong secret"}))]
pub struct OAuthError {
    /// `invalid_request`, `invalid_client`, `unsupported_grant_type` or `invalid_scope`.
    pub error: &'static str,
    pub error_description: String,
}

/// The form of a token request (RFC 6749 §4.4.2), for the document.
#[derive(Debug, ToSchema)]
#[allow(dead_code)]
pub struct TokenRequest {
    /// Must be `client_credentials`.
    #[schema(example = "client_credentials")]
    grant_type: String,
    /// Unless sent with HTTP Basic authentication.
    client_id: Option<String>,
    /// Unless sent with HTTP Basic authentication.
    client_secret: Option<String>,
    /// Space-separated scopes to request; default: all of the client's.
    scope: Option<String>,
}

const MAX_FORM_BYTES: usize = 8 * 1024;

fn oauth_error(
    status: StatusCode,
    error: &'static str,
    description: impl Into<String>,
    basic: bool,
) -> HttpResponse {
    let mut response = HttpResponse::build(status);
    response
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::PRAGMA, "no-cache"));
    if status == StatusCode::UNAUTHORIZED {
        let challenge = if basic {
            "Basic realm=\"anct-formations\""
        } else {
            "Basic realm=\"anct-formations\", Bearer"
        };
        response.insert_header((header::WWW_AUTHENTICATE, challenge));
    }
    let mut response = response.json(OAuthError {
        error,
        error_description: description.into(),
    });
    response.extensions_mut().insert(KeepErrorBody);
    response
}

fn invalid_request(description: impl Into<String>) -> HttpResponse {
    oauth_error(
        StatusCode::BAD_REQUEST,
        "invalid_request",
        description,
        false,
    )
}

/// `client_id:client_secret` from `Authorization: Basic`, form-url-decoded (RFC 6749 §2.3.1).
fn basic_credentials(request: &HttpRequest) -> Option<Result<(String, String), ()>> {
    let value = request
        .headers()
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?;
    let (scheme, encoded) = value.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decode = || -> Option<(String, String)> {
        let text = String::from_utf8(STANDARD.decode(encoded.trim()).ok()?).ok()?;
        let (id, secret) = text.split_once(':')?;
        let unescape = |s: &str| {
            form_urlencoded::parse(format!("x={s}").as_bytes())
                .next()
                .map(|(_, v)| v.into_owned())
        };
        Some((unescape(id)?, unescape(secret)?))
    };
    Some(decode().ok_or(()))
}

/// Get an access token
///
/// OAuth 2.0 client credentials (RFC 6749 §4.4): send `grant_type=client_credentials` as
/// `application/x-www-form-urlencoded`, with the client's credentials in HTTP Basic
/// authentication or as `client_id`/`client_secret` form fields. The token is a JWT signed with
/// EdDSA (public keys at `/.well-known/jwks.json`), valid for `expires_in` seconds; send it as
/// `Authorization: Bearer <token>`. Errors follow RFC 6749 §5.2.
#[utoipa::path(
    tag = "authentication",
    operation_id = "issue_token",
    request_body(content = TokenRequest, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "A token", body = TokenResponse),
        (status = 400, description = "`invalid_request`, `unsupported_grant_type` or `invalid_scope`", body = OAuthError,
            example = json!({"error": "unsupported_grant_type", "error_description": "Only client_credentials is supported"})),
        (status = 401, description = "`invalid_client`: unknown client, wrong secret or disabled client", body = OAuthError,
            example = json!({"error": "invalid_client", "error_description": "Unknown client or wrong secret"})),
        (status = 500, response = InternalError),
        (status = 503, response = ServiceUnavailable),
    )
)]
#[post("/oauth/token")]
pub async fn issue_token(
    request: HttpRequest,
    mut payload: web::Payload,
    auth: web::Data<AuthState>,
    pool: web::Data<DbPool>,
) -> HttpResponse {
    let form_type = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.to_ascii_lowercase()
                .starts_with("application/x-www-form-urlencoded")
        });
    if !form_type {
        return invalid_request("Send the request as application/x-www-form-urlencoded");
    }
    let mut body = Vec::new();
    while let Some(chunk) = payload.next().await {
        let Ok(chunk) = chunk else {
            return invalid_request("The request body could not be read");
        };
        if body.len() + chunk.len() > MAX_FORM_BYTES {
            return invalid_request("The request body is too large");
        }
        body.extend_from_slice(&chunk);
    }
    let mut grant_type = None;
    let mut form_id = None;
    let mut form_secret = None;
    let mut scope = None;
    for (key, value) in form_urlencoded::parse(&body) {
        let slot = match key.as_ref() {
            "grant_type" => &mut grant_type,
            "client_id" => &mut form_id,
            "client_secret" => &mut form_secret,
            "scope" => &mut scope,
            _ => continue,
        };
        if slot.replace(value.into_owned()).is_some() {
            return invalid_request(format!("`{key}` is given more than once"));
        }
    }
    match grant_type.as_deref() {
        None => return invalid_request("`grant_type` is required"),
        Some("client_credentials") => {}
        Some(_) => {
            return oauth_error(
                StatusCode::BAD_REQUEST,
                "unsupported_grant_type",
                "Only client_credentials is supported",
                false,
            )
        }
    }
    let basic = basic_credentials(&request);
    let used_basic = basic.is_some();
    let (client_id, secret) = match (basic, form_id, form_secret) {
        (Some(Err(())), _, _) => {
            return oauth_error(
                StatusCode::UNAUTHORIZED,
                "invalid_client",
                "The Basic credentials cannot be read",
                true,
            )
        }
        (Some(Ok(_)), Some(_), _) | (Some(Ok(_)), _, Some(_)) => {
            return invalid_request(
                "Send the credentials once: in HTTP Basic or in the form, not both",
            )
        }
        (Some(Ok(pair)), None, None) => pair,
        (None, Some(id), Some(secret)) => (id, secret),
        (None, _, _) => {
            return oauth_error(
                StatusCode::UNAUTHORIZED,
                "invalid_client",
                "Client authentication is required",
                false,
            )
        }
    };
    let mut conn = match pool.get().await {
        Ok(conn) => conn,
        Err(error) => {
            return actix_web::ResponseError::error_response(&crate::error::ApiError::from(error))
        }
    };
    let client = match clients::find(&mut conn, &client_id).await {
        Ok(client) => client,
        Err(error) => {
            return actix_web::ResponseError::error_response(&crate::error::ApiError::internal(
                error,
            ))
        }
    };
    drop(conn);
    // An unknown client costs the same time as a wrong secret.
    let hash = match &client {
        Some(client) => client.secret_hash.clone(),
        None => dummy_hash().to_string(),
    };
    let verified = tokio::task::spawn_blocking(move || clients::verify_secret(&secret, &hash))
        .await
        .unwrap_or(false);
    let client = match client {
        Some(client) if verified && client.disabled_at.is_none() => client,
        Some(_) if verified => {
            return oauth_error(
                StatusCode::UNAUTHORIZED,
                "invalid_client",
                "The client is disabled",
                used_basic,
            );
        }
        _ => {
            return oauth_error(
                StatusCode::UNAUTHORIZED,
                "invalid_client",
                "Unknown client or wrong secret",
                used_basic,
            )
        }
    };
    let held = client.scopes();
    let granted: Vec<Scope> = match scope.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => held.clone(),
        Some(requested) => match parse_list(requested) {
            Err(unknown) => {
                return oauth_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_scope",
                    format!("Unknown scopes: {}", unknown.join(" ")),
                    false,
                )
            }
            Ok(wanted) => {
                let missing: Vec<&str> = wanted
                    .iter()
                    .filter(|w| !crate::auth::scopes::grants(&held, **w))
                    .map(|w| w.as_str())
                    .collect();
                if !missing.is_empty() {
                    return oauth_error(
                        StatusCode::BAD_REQUEST,
                        "invalid_scope",
                        format!("The client does not hold: {}", missing.join(" ")),
                        false,
                    );
                }
                wanted
            }
        },
    };
    let scope_text = granted
        .iter()
        .map(|s| s.as_str())
        .collect::<Vec<_>>()
        .join(" ");
    let programmes = (!client.programme_ids.is_empty()).then(|| client.programme_ids.clone());
    match tokens::issue(
        &auth.keys,
        &auth.settings,
        &client.client_id,
        &scope_text,
        programmes,
    ) {
        Ok((token, _)) => HttpResponse::Ok()
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .insert_header((header::PRAGMA, "no-cache"))
            .json(TokenResponse {
                access_token: token,
                token_type: "Bearer",
                expires_in: auth.settings.ttl.as_secs(),
                scope: scope_text,
            }),
        Err(error) => {
            actix_web::ResponseError::error_response(&crate::error::ApiError::internal(error))
        }
    }
}

/// An Argon2id hash of a secret nobody knows, verified for unknown clients so that they cost
/// the same time as a wrong secret.
fn dummy_hash() -> &'static str {
    static HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    HASH.get_or_init(|| clients::hash_secret("not-a-secret-of-any-client").unwrap_or_default())
}

/// Public keys (JWK Set)
///
/// The Ed25519 public keys that verify access tokens, by `kid` (RFC 7517). During a rotation the
/// set holds the old and the new key.
#[utoipa::path(
    tag = "authentication",
    operation_id = "jwks",
    responses((status = 200, description = "The JWK Set", body = Object,
        example = json!({"keys": [{"kty": "OKP", "crv": "Ed25519", "alg": "EdDSA", "use": "sig", "kid": "20261126100000-1a2b3c4d", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}]})))
)]
#[get("/.well-known/jwks.json")]
pub async fn jwks(auth: web::Data<AuthState>) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "public, max-age=300"))
        .json(auth.keys.jwks())
}

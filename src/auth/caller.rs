//! `Caller`: the authenticated client of a request. Authentication is this extractor;
//! authorisation is one line in each handler: `caller.require(Scope::…)?`.

use std::{future::Future, pin::Pin, sync::Arc};

use actix_web::{
    dev::Payload,
    http::{header, StatusCode},
    web, FromRequest, HttpRequest,
};
use uuid::Uuid;

use crate::auth::{
    client_states::ClientStates,
    clients,
    keys::KeyRing,
    rate_limit::RateLimiter,
    scopes::{grants, Scope},
    tokens::{self, TokenError, TokenSettings},
    verified::{Verified, VerifiedTokens},
};
use crate::db::{reads::ReadConnections, DbPool};
use crate::error::ApiError;

/// What authentication needs, shared by every worker.
pub struct AuthState {
    pub keys: Arc<KeyRing>,
    pub settings: TokenSettings,
    pub limiter: RateLimiter,
    pub verified: VerifiedTokens,
    pub client_states: Arc<ClientStates>,
}

/// The client making the request.
#[derive(Debug, Clone)]
pub struct Caller {
    pub client_id: String,
    pub scopes: Vec<Scope>,
    /// `Some` for a client restricted to these programmes.
    pub programmes: Option<Vec<Uuid>>,
}

impl Caller {
    /// 403 unless the caller holds `scope` (or `admin`).
    pub fn require(&self, scope: Scope) -> Result<(), ApiError> {
        if grants(&self.scopes, scope) {
            Ok(())
        } else {
            Err(insufficient_scope(scope))
        }
    }

    /// What the caller may see.
    pub fn visibility(&self) -> crate::auth::Visibility {
        match &self.programmes {
            Some(ids) => crate::auth::Visibility::Programmes(ids.clone()),
            None => crate::auth::Visibility::All,
        }
    }

    /// 403 for a caller restricted to programmes: some operations are for unrestricted clients.
    pub fn require_unrestricted(&self) -> Result<(), ApiError> {
        if self.programmes.is_some() {
            Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "restricted_client",
                "A client restricted to programmes cannot do this",
            ))
        } else {
            Ok(())
        }
    }

    /// The actor recorded in histories.
    pub fn actor(&self) -> crate::enrolments::lifecycle::Actor {
        crate::enrolments::lifecycle::Actor(self.client_id.clone())
    }
}

/// The 403 for a missing scope, with the challenge RFC 6750 describes.
pub fn insufficient_scope(scope: Scope) -> ApiError {
    ApiError::new(
        StatusCode::FORBIDDEN,
        "insufficient_scope",
        format!("This operation needs the scope `{scope}`"),
    )
    .with_header(
        header::WWW_AUTHENTICATE,
        header::HeaderValue::from_str(&format!(
            "Bearer error=\"insufficient_scope\", scope=\"{scope}\""
        ))
        .expect("scope names are valid header text"),
    )
}

fn unauthorized(code: &'static str, detail: &str, token_error: bool) -> ApiError {
    let challenge = if token_error {
        "Bearer realm=\"anct-formations\", error=\"invalid_token\""
    } else {
        "Bearer realm=\"anct-formations\""
    };
    ApiError::new(StatusCode::UNAUTHORIZED, code, detail).with_header(
        header::WWW_AUTHENTICATE,
        header::HeaderValue::from_static(challenge),
    )
}

async fn authenticate(
    token: Option<String>,
    state: web::Data<AuthState>,
    pool: web::Data<DbPool>,
    reads: web::Data<ReadConnections>,
) -> Result<Caller, ApiError> {
    let token = token.ok_or_else(|| {
        unauthorized(
            "missing_token",
            "This operation needs an access token: `Authorization: Bearer <token>` (see POST /api/v1/oauth/token)",
            false,
        )
    })?;
    let invalid = |e: TokenError| {
        unauthorized(
            "invalid_token",
            &format!("The access token is not valid: {e}"),
            true,
        )
    };
    let now = chrono::Utc::now().timestamp();
    let verified = match state.verified.get(&token, now, &state.keys) {
        Some(verified) => verified,
        None => {
            let claims = match tokens::verify(&state.keys, &state.settings, &token) {
                Err(TokenError::UnknownKey) => {
                    // Another instance may have rotated the keys: reload once, then decide.
                    let mut conn = pool.get().await?;
                    state
                        .keys
                        .reload(&mut conn)
                        .await
                        .map_err(ApiError::internal)?;
                    tokens::verify(&state.keys, &state.settings, &token).map_err(invalid)?
                }
                other => other.map_err(invalid)?,
            };
            let kid = tokens::kid_of(&token).map_err(invalid)?;
            state.verified.insert(&token, Verified { kid, claims }, now)
        }
    };
    let claims = &verified.claims;
    if !client_enabled(&state.client_states, &reads, &claims.sub).await? {
        return Err(unauthorized(
            "client_disabled",
            "The client of this token is disabled",
            true,
        ));
    }
    if let Err(wait) = state.limiter.check(&claims.sub) {
        return Err(ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            "Too many requests from this client; retry after the Retry-After delay",
        )
        .with_header(
            header::RETRY_AFTER,
            header::HeaderValue::from(wait.as_secs().max(1)),
        ));
    }
    Ok(Caller {
        client_id: claims.sub.clone(),
        scopes: claims.scope.split(' ').filter_map(Scope::parse).collect(),
        programmes: claims.programmes.clone(),
    })
}

/// Whether `client_id` is enabled: remembered, or asked (see `client_states`).
async fn client_enabled(
    states: &ClientStates,
    reads: &ReadConnections,
    client_id: &str,
) -> Result<bool, ApiError> {
    if let Some(enabled) = states.get(client_id) {
        return Ok(enabled);
    }
    let reading = states.reading();
    let conn = reads.get().await?;
    let enabled = clients::is_enabled(&conn, client_id).await?;
    states.remember(reading, client_id, enabled);
    Ok(enabled)
}

impl FromRequest for Caller {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let token = req
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| {
                let (scheme, token) = v.trim().split_once(' ')?;
                scheme
                    .eq_ignore_ascii_case("bearer")
                    .then(|| token.trim().to_string())
            });
        let state = req.app_data::<web::Data<AuthState>>().cloned();
        let pool = req.app_data::<web::Data<DbPool>>().cloned();
        let reads = req.app_data::<web::Data<ReadConnections>>().cloned();
        Box::pin(async move {
            match (state, pool, reads) {
                (Some(state), Some(pool), Some(reads)) => {
                    authenticate(token, state, pool, reads).await
                }
                _ => Err(ApiError::internal("authentication is not configured")),
            }
        })
    }
}

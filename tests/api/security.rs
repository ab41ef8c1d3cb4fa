//! Security: the token endpoint, the tokens themselves, scopes on every operation.

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
use reqwest::Method;
use serde_json::{json, Value};

use anct_formations::auth::Scope;

use crate::support::{Options, TestApp};

const TOKEN: &str = "/api/v1/oauth/token";

fn claims_of(token: &str) -> (Value, Value) {
    let mut parts = token.split('.');
    let header = URL_SAFE_NO_PAD.decode(parts.next().unwrap()).unwrap();
    let payload = URL_SAFE_NO_PAD.decode(parts.next().unwrap()).unwrap();
    (
        serde_json::from_slice(&header).unwrap(),
        serde_json::from_slice(&payload).unwrap(),
    )
}

async fn token_request(
    app: &TestApp,
    form: &[(&str, &str)],
    basic: Option<(&str, &str)>,
) -> crate::support::Reply {
    let mut request = app.anonymous(Method::POST, TOKEN).form(form);
    if let Some((id, secret)) = basic {
        request = request.basic_auth(id, Some(secret));
    }
    app.send(request).await
}

#[tokio::test]
async fn a_client_gets_a_short_lived_signed_token_as_any_oauth_library_would_ask() {
    let app = TestApp::spawn().await;
    let credentials = app
        .client(&[Scope::ProgrammesRead, Scope::TrainingsRead], &[])
        .await;
    let form = [
        ("grant_type", "client_credentials"),
        ("client_id", credentials.client_id.as_str()),
        ("client_secret", credentials.client_secret.as_str()),
    ];
    let reply = token_request(&app, &form, None).await;
    let body = reply.assert_json(200);
    assert_eq!(reply.header("cache-control"), Some("no-store"));
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 900);
    assert_eq!(body["scope"], "programmes:read trainings:read");
    let (header, claims) = claims_of(body["access_token"].as_str().unwrap());
    assert_eq!(header["alg"], "EdDSA");
    assert!(header["kid"].is_string());
    assert_eq!(claims["sub"], credentials.client_id.as_str());
    assert_eq!(claims["aud"], "anct-formations");
    assert_eq!(
        claims["iss"],
        app.base.as_str(),
        "the issuer is the public base URL"
    );
    assert_eq!(
        claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
        900
    );
    assert!(claims["jti"].is_string());
    assert!(claims.get("programmes").is_none(), "unrestricted");

    // HTTP Basic works too, and a narrower scope can be asked for.
    let basic = [
        ("grant_type", "client_credentials"),
        ("scope", "trainings:read"),
    ];
    let body = token_request(
        &app,
        &basic,
        Some((&credentials.client_id, &credentials.client_secret)),
    )
    .await
    .assert_json(200);
    assert_eq!(body["scope"], "trainings:read");
    let narrow = body["access_token"].as_str().unwrap();
    let reply = app
        .send(app.with_token(Method::GET, "/api/v1/programmes", narrow))
        .await;
    reply.assert_problem(403, "insufficient_scope");
    assert!(reply
        .header("www-authenticate")
        .unwrap()
        .contains("insufficient_scope"));

    // A restricted client's token names its programmes.
    app.programme("petites-villes-de-demain").await;
    let restricted = app
        .client(&[Scope::ProgrammesRead], &["petites-villes-de-demain"])
        .await;
    let token = app.token_of(&restricted).await;
    let (_, claims) = claims_of(&token);
    assert_eq!(claims["programmes"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn token_errors_follow_rfc_6749() {
    let app = TestApp::spawn().await;
    let credentials = app.client(&[Scope::ProgrammesRead], &[]).await;
    let id = credentials.client_id.as_str();
    let secret = credentials.client_secret.as_str();
    type Form<'a> = Vec<(&'a str, &'a str)>;
    type Basic<'a> = Option<(&'a str, &'a str)>;
    let cases: Vec<(Form, Basic, u16, &str)> = vec![
        (
            vec![
                ("grant_type", "client_credentials"),
                ("client_id", id),
                ("client_secret", "wrong"),
            ],
            None,
            401,
            "invalid_client",
        ),
        (
            vec![
                ("grant_type", "client_credentials"),
                ("client_id", "cli_unknown_client"),
                ("client_secret", secret),
            ],
            None,
            401,
            "invalid_client",
        ),
        (
            vec![("grant_type", "client_credentials")],
            None,
            401,
            "invalid_client",
        ),
        (
            vec![("grant_type", "client_credentials")],
            Some((id, "wrong")),
            401,
            "invalid_client",
        ),
        (
            vec![("client_id", id), ("client_secret", secret)],
            None,
            400,
            "invalid_request",
        ),
        (
            vec![
                ("grant_type", "password"),
                ("client_id", id),
                ("client_secret", secret),
            ],
            None,
            400,
            "unsupported_grant_type",
        ),
        (
            vec![
                ("grant_type", "client_credentials"),
                ("client_id", id),
                ("client_secret", secret),
                ("scope", "admin"),
            ],
            None,
            400,
            "invalid_scope",
        ),
        (
            vec![
                ("grant_type", "client_credentials"),
                ("client_id", id),
                ("client_secret", secret),
                ("scope", "everything"),
            ],
            None,
            400,
            "invalid_scope",
        ),
        (
            vec![("grant_type", "client_credentials"), ("client_id", id)],
            Some((id, secret)),
            400,
            "invalid_request",
        ),
    ];
    for (form, basic, status, error) in cases {
        let reply = token_request(&app, &form, basic).await;
        assert_eq!(reply.status.as_u16(), status, "{form:?} → {}", reply.text);
        assert_eq!(reply.content_type(), "application/json");
        let body = reply.json();
        assert_eq!(body["error"], error, "{form:?}");
        assert!(body["error_description"].is_string());
        if status == 401 {
            assert!(reply.header("www-authenticate").is_some());
        }
    }
    let reply = app
        .send(
            app.anonymous(Method::POST, TOKEN)
                .json(&json!({"grant_type": "client_credentials"})),
        )
        .await;
    assert_eq!(
        reply.json()["error"],
        "invalid_request",
        "JSON is not the OAuth form"
    );
}

#[tokio::test]
async fn the_jwk_set_verifies_the_tokens() {
    let app = TestApp::spawn().await;
    let jwks = app.get("/.well-known/jwks.json").await.assert_json(200);
    let (header, _) = claims_of(&app.token);
    let key = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kid"] == header["kid"])
        .expect("the token's key");
    assert_eq!(
        (
            key["kty"].as_str(),
            key["crv"].as_str(),
            key["alg"].as_str()
        ),
        (Some("OKP"), Some("Ed25519"), Some("EdDSA"))
    );
    let decoding =
        jsonwebtoken::DecodingKey::from_ed_components(key["x"].as_str().unwrap()).unwrap();
    let mut validation = jsonwebtoken::Validation::new(Algorithm::EdDSA);
    validation.set_audience(&["anct-formations"]);
    assert!(jsonwebtoken::decode::<Value>(&app.token, &decoding, &validation).is_ok());
}

/// The server's current signing key, read from its database, to forge otherwise valid tokens.
async fn server_key(app: &TestApp) -> (String, EncodingKey, Vec<u8>) {
    use anct_formations::db::schema::signing_keys;
    use diesel::prelude::*;
    use diesel_async::RunQueryDsl;
    let mut conn = app.db().await;
    let (kid, private, public): (String, Vec<u8>, Vec<u8>) = signing_keys::table
        .filter(signing_keys::retired_at.is_null())
        .select((
            signing_keys::kid,
            signing_keys::private_key,
            signing_keys::public_key,
        ))
        .first(&mut conn)
        .await
        .unwrap();
    (kid, EncodingKey::from_ed_der(&private), public)
}

#[tokio::test]
async fn forged_expired_and_misdirected_tokens_are_refused() {
    let app = TestApp::spawn().await;
    let (kid, key, public) = server_key(&app).await;
    let now = chrono::Utc::now().timestamp();
    let good = json!({"iss": app.base, "aud": "anct-formations", "sub": app.client_id, "exp": now + 600,
                      "iat": now, "nbf": now, "jti": "t", "scope": "admin"});
    let sign = |claims: &Value| {
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(kid.clone());
        encode(&header, claims, &key).unwrap()
    };
    let with = |change: Value| {
        let mut claims = good.clone();
        for (k, v) in change.as_object().unwrap() {
            claims[k] = v.clone();
        }
        claims
    };
    // The control: a well-formed token made the same way is accepted.
    let valid = sign(&good);
    assert_eq!(
        app.send(app.with_token(Method::GET, "/api/v1/programmes", &valid))
            .await
            .status
            .as_u16(),
        200
    );

    let b64 = |v: &Value| URL_SAFE_NO_PAD.encode(serde_json::to_vec(v).unwrap());
    let unsigned = format!(
        "{}.{}.",
        b64(&json!({"alg": "none", "typ": "JWT", "kid": kid})),
        b64(&good)
    );
    let hs256 = {
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some(kid.clone());
        encode(&header, &good, &EncodingKey::from_secret(&public)).unwrap()
    };
    let other_key = {
        let seed = [7u8; 32];
        let mut der = vec![
            0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22,
            0x04, 0x20,
        ];
        der.extend_from_slice(&seed);
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(kid.clone());
        encode(&header, &good, &EncodingKey::from_ed_der(&der)).unwrap()
    };
    let tampered = {
        let mut parts: Vec<String> = sign(&with(json!({"scope": "programmes:read"})))
            .split('.')
            .map(str::to_string)
            .collect();
        parts[1] = b64(&with(json!({"scope": "admin"})));
        parts.join(".")
    };
    let cases = [
        ("unsigned (alg none)", unsigned),
        ("HS256 signed with the public key", hs256),
        ("signed with another key", other_key),
        (
            "expired",
            sign(&with(
                json!({"exp": now - 120, "iat": now - 1000, "nbf": now - 1000}),
            )),
        ),
        ("not yet valid", sign(&with(json!({"nbf": now + 600})))),
        (
            "wrong issuer",
            sign(&with(json!({"iss": "https://evil.example"}))),
        ),
        ("wrong audience", sign(&with(json!({"aud": "another-api"})))),
        ("tampered payload", tampered),
        (
            "exp as a string",
            sign(&with(json!({"exp": (now + 600).to_string()}))),
        ),
        (
            "no exp",
            sign(&{
                let mut c = good.clone();
                c.as_object_mut().unwrap().remove("exp");
                c
            }),
        ),
        ("unknown kid", {
            let mut h = Header::new(Algorithm::EdDSA);
            h.kid = Some("nope".into());
            encode(&h, &good, &key).unwrap()
        }),
        ("garbage", "not.a.token".to_string()),
    ];
    for (name, token) in cases {
        let reply = app
            .send(app.with_token(Method::GET, "/api/v1/programmes", &token))
            .await;
        let body = reply.assert_problem(401, "invalid_token");
        assert!(
            reply
                .header("www-authenticate")
                .unwrap()
                .contains("invalid_token"),
            "{name}"
        );
        assert!(!body["detail"].as_str().unwrap().is_empty(), "{name}");
    }
    let reply = app
        .send(app.anonymous(Method::GET, "/api/v1/programmes"))
        .await;
    reply.assert_problem(401, "missing_token");
    let reply = app
        .send(
            app.anonymous(Method::GET, "/api/v1/programmes")
                .header("authorization", format!("Basic {valid}")),
        )
        .await;
    reply.assert_problem(401, "missing_token");
}

/// Instances remember that a client is enabled and forget it when PostgreSQL announces a change
/// (`auth::client_states`): disabling takes effect on every instance within moments.
#[tokio::test]
async fn a_disabled_clients_tokens_stop_working_at_once() {
    let app = TestApp::spawn().await;
    let other = TestApp::start(Default::default(), app.database_url.clone()).await;
    let credentials = app.client(&[Scope::ProgrammesRead], &[]).await;
    // Each test instance has its own issuer (its own address), so its own token.
    let tokens = [
        app.token_of(&credentials).await,
        other.token_of(&credentials).await,
    ];
    // Both instances have answered (and remember the client as enabled).
    for (instance, token) in [&app, &other].into_iter().zip(&tokens) {
        for _ in 0..3 {
            let reply = instance
                .send(instance.with_token(Method::GET, "/api/v1/programmes", token))
                .await;
            assert_eq!(reply.status.as_u16(), 200);
        }
    }
    let mut conn = app.db().await;
    anct_formations::auth::clients::disable(
        &mut conn,
        &credentials.client_id,
        Some("contrat terminé"),
    )
    .await
    .unwrap();
    let disabled_at = std::time::Instant::now();
    for (instance, token) in [&app, &other].into_iter().zip(&tokens) {
        loop {
            let reply = instance
                .send(instance.with_token(Method::GET, "/api/v1/programmes", token))
                .await;
            if reply.status.as_u16() == 401 {
                reply.assert_problem(401, "client_disabled");
                eprintln!("refused {:?} after the change", disabled_at.elapsed());
                break;
            }
            assert_eq!(reply.status.as_u16(), 200);
            assert!(
                disabled_at.elapsed() < std::time::Duration::from_millis(500),
                "the instance still accepts the disabled client's token"
            );
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
    }
    let form = [
        ("grant_type", "client_credentials"),
        ("client_id", credentials.client_id.as_str()),
        ("client_secret", credentials.client_secret.as_str()),
    ];
    let reply = token_request(&app, &form, None).await;
    assert_eq!(
        (reply.status.as_u16(), reply.json()["error"].clone()),
        (401, json!("invalid_client"))
    );
}

#[tokio::test]
async fn keys_rotate_without_invalidating_live_tokens_across_instances() {
    let first = TestApp::spawn().await;
    let old_token = first.token.clone();
    let mut conn = first.db().await;
    let new_kid =
        anct_formations::auth::keys::rotate(&mut conn, std::time::Duration::from_secs(1800))
            .await
            .unwrap();
    // A second instance on the same database signs with the new key …
    let shared_issuer = Options {
        jwt_issuer: Some(first.base.clone()),
        ..Options::default()
    };
    let second = TestApp::start(shared_issuer, first.database_url.clone()).await;
    let (header, _) = claims_of(&second.token);
    assert_eq!(header["kid"], new_kid.as_str());
    // … which the first instance accepts (it reloads on an unknown kid), while old tokens live on.
    let reply = first
        .send(first.with_token(Method::GET, "/api/v1/programmes", &second.token))
        .await;
    assert_eq!(reply.status.as_u16(), 200, "{}", reply.text);
    let reply = second
        .send(second.with_token(Method::GET, "/api/v1/programmes", &old_token))
        .await;
    assert_eq!(reply.status.as_u16(), 200, "{}", reply.text);
    let jwks = second.get("/.well-known/jwks.json").await.assert_json(200);
    assert_eq!(
        jwks["keys"].as_array().unwrap().len(),
        2,
        "old and new during the rotation"
    );
}

#[tokio::test]
async fn each_client_has_a_request_budget() {
    let app = TestApp::spawn_with(Options {
        rate_limit_per_minute: 60,
        ..Options::default()
    })
    .await;
    let token = app.token_for(&[Scope::ProgrammesRead], &[]).await;
    let mut statuses = Vec::new();
    for _ in 0..8 {
        let reply = app
            .send(app.with_token(Method::GET, "/api/v1/programmes", &token))
            .await;
        statuses.push(reply.status.as_u16());
        if reply.status.as_u16() == 429 {
            reply.assert_problem(429, "rate_limited");
            let wait: u64 = reply.header("retry-after").unwrap().parse().unwrap();
            assert!((1..=2).contains(&wait), "{wait}");
        }
    }
    assert_eq!(
        &statuses[..6],
        [200; 6],
        "a burst of a tenth of the minute's budget"
    );
    assert_eq!(statuses[6], 429);
    let other = app.token_for(&[Scope::ProgrammesRead], &[]).await;
    assert_eq!(
        app.send(app.with_token(Method::GET, "/api/v1/programmes", &other))
            .await
            .status
            .as_u16(),
        200,
        "per client"
    );
}

/// Every operation of the route table: no token → 401, a token without the operation's scope →
/// 403, a token with just that scope → neither. An operation added without a scope fails here.
#[tokio::test]
async fn every_operation_requires_its_scope() {
    let app = TestApp::spawn().await;
    let document = app.get("/api/v1/openapi.json").await.assert_json(200);
    let mut tokens = std::collections::HashMap::new();
    let mut checked = 0;
    for (path, item) in document["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            let name = format!("{method} {path}");
            let public = [
                "issue_token",
                "jwks",
                "health_live",
                "health_ready",
                "metrics",
                "get_sessions_calendar",
            ];
            let id = operation["operationId"].as_str().unwrap();
            if public.contains(&id) {
                assert!(operation.get("security").is_none(), "{name} is public");
                continue;
            }
            // Every scope the operation declares is needed (most declare one).
            let wanted: Vec<Scope> = operation["security"][0]["oauth2"]
                .as_array()
                .filter(|scopes| !scopes.is_empty())
                .unwrap_or_else(|| panic!("{name} declares no scope"))
                .iter()
                .map(|s| {
                    let s = s.as_str().unwrap();
                    Scope::parse(s).unwrap_or_else(|| panic!("{name}: unknown scope {s}"))
                })
                .collect();
            let scope = wanted
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(" ");
            let url = path.replace("{id}", "0193a1f2-7c4e-7b3a-9f10-2b6f1c9d4e01");
            let method = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let with_body = |request: reqwest::RequestBuilder| {
                if operation.get("requestBody").is_some() {
                    request.json(&json!({}))
                } else {
                    request
                }
            };
            let reply = app
                .send(with_body(app.anonymous(method.clone(), &url)))
                .await;
            reply.assert_problem(401, "missing_token");

            // Missing any one of them is a 403.
            for missing in &wanted {
                let others: Vec<Scope> = Scope::ALL
                    .into_iter()
                    .filter(|s| s != missing && *s != Scope::Admin)
                    .collect();
                let without = tokens
                    .entry(format!("without {missing}"))
                    .or_insert(app.token_for(&others, &[]).await)
                    .clone();
                let reply = app
                    .send(with_body(app.with_token(method.clone(), &url, &without)))
                    .await;
                reply.assert_problem(403, "insufficient_scope");
            }

            let with = tokens
                .entry(scope.clone())
                .or_insert(app.token_for(&wanted, &[]).await)
                .clone();
            let reply = app
                .send(with_body(app.with_token(method.clone(), &url, &with)))
                .await;
            assert!(
                ![401, 403].contains(&reply.status.as_u16()),
                "{name} with {scope}: {}",
                reply.text
            );
            checked += 1;
        }
    }
    assert!(checked >= 30, "{checked} operations checked");
}

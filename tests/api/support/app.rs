//! `TestApp`: the real service on a fresh database, listening on a free port of 127.0.0.1, driven
//! through real HTTP.

use std::{net::TcpListener, sync::mpsc, thread, time::Duration};

use actix_web::dev::ServerHandle;
use anct_formations::auth::{clients, clients::NewCredentials, Scope};
use anct_formations::{config::Config, db::DbPool, server};
use reqwest::{header::HeaderMap, Method, RequestBuilder, Response, StatusCode};
use serde_json::Value;

use super::database;

pub struct TestApp {
    pub base: String,
    /// The test's own database, for checks and set-up the API does not offer.
    pub database_url: String,
    pub client: reqwest::Client,
    handle: ServerHandle,
    thread: Option<thread::JoinHandle<()>>,
    /// An administrator's token, sent by `request` and the helpers built on it.
    pub token: String,
    /// That administrator's client id (the actor of the transitions it makes).
    pub client_id: String,
}

/// Settings a test may change before the app starts.
pub struct Options {
    pub max_body_bytes: usize,
    /// Requests per minute per client (0: no limit).
    pub rate_limit_per_minute: u32,
    /// The tokens' issuer, when instances must share one (default: the app's own URL).
    pub jwt_issuer: Option<String>,
    /// Connect through this URL instead of the test database's own (a proxy, say).
    pub database_url: Option<String>,
    /// Whether webhooks may target loopback (the tests' receivers live there).
    pub webhook_allow_private: bool,
    /// Attempts before a delivery fails for good.
    pub webhook_max_attempts: u32,
    /// Connections in the pool.
    pub pool_size: usize,
    /// How long a request waits for a connection before a 503.
    pub checkout_timeout_ms: u64,
    /// How long a client has to send its headers, then its body.
    pub request_timeout_ms: u64,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            max_body_bytes: 1024 * 1024,
            rate_limit_per_minute: 0,
            jwt_issuer: None,
            database_url: None,
            webhook_allow_private: true,
            webhook_max_attempts: 15,
            pool_size: 4,
            checkout_timeout_ms: 15_000,
            request_timeout_ms: 10_000,
        }
    }
}

impl TestApp {
    pub async fn spawn() -> Self {
        Self::spawn_with(Options::default()).await
    }

    pub async fn spawn_with(options: Options) -> Self {
        let database_url = database::fresh_database().await;
        Self::start(options, database_url).await
    }

    /// Starts the service on an existing database.
    pub async fn start(options: Options, database_url: String) -> Self {
        // Silent unless RUST_LOG asks for the server's logs.
        if std::env::var_os("RUST_LOG").is_some() {
            anct_formations::logging::init();
        }
        let listener = TcpListener::bind("127.0.0.1:0").expect("a free port");
        let base = format!("http://{}", listener.local_addr().unwrap());
        let connect_url = options
            .database_url
            .clone()
            .unwrap_or_else(|| database_url.clone());
        let config = Config::from_lookup(|name| match name {
            "DATABASE_URL" => Some(connect_url.clone()),
            "BIND_ADDRESS" => Some("127.0.0.1:0".into()),
            "PUBLIC_BASE_URL" => Some(base.clone()),
            "JWT_ISSUER" => Some(options.jwt_issuer.clone().unwrap_or_else(|| base.clone())),
            "HTTP_WORKERS" => Some("1".into()),
            "DATABASE_POOL_SIZE" => Some(options.pool_size.to_string()),
            // By default long enough for hundreds of concurrent requests to queue for the 4
            // connections.
            "DATABASE_CHECKOUT_TIMEOUT_MS" => Some(options.checkout_timeout_ms.to_string()),
            "REQUEST_TIMEOUT_MS" => Some(options.request_timeout_ms.to_string()),
            "DATABASE_CONNECT_TIMEOUT_MS" => Some("5000".into()),
            "RETRY_AFTER_S" => Some("2".into()),
            "SHUTDOWN_TIMEOUT_S" => Some("1".into()),
            "MAX_BODY_BYTES" => Some(options.max_body_bytes.to_string()),
            "RATE_LIMIT_PER_MINUTE" => Some(options.rate_limit_per_minute.to_string()),
            // Deliveries within a test's patience: quick polls, retries after 150 ms, ×3 each.
            "WEBHOOK_ALLOW_PRIVATE_TARGETS" => Some(options.webhook_allow_private.to_string()),
            "WEBHOOK_MAX_ATTEMPTS" => Some(options.webhook_max_attempts.to_string()),
            "WEBHOOK_POLL_MS" => Some("50".into()),
            "WEBHOOK_FIRST_RETRY_MS" => Some("150".into()),
            "WEBHOOK_TIMEOUT_MS" => Some("3000".into()),
            _ => None,
        })
        .expect("test configuration");
        // The server runs on its own thread and runtime, so it can be stopped from `Drop`.
        let (sender, receiver) = mpsc::channel();
        let thread = thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            runtime.block_on(async move {
                let pool = DbPool::new(&config).expect("pool");
                let server = server::start(&config, pool, listener)
                    .await
                    .expect("server starts");
                sender.send(server.handle()).expect("handle sent");
                let _ = server.await;
            });
        });
        let handle = receiver.recv().expect("server started");
        // reqwest here has rustls without a default crypto provider: use the service's.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let mut app = Self {
            base,
            database_url,
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .timeout(Duration::from_secs(30))
                .build()
                .unwrap(),
            handle,
            thread: Some(thread),
            token: String::new(),
            client_id: String::new(),
        };
        let admin = app.client(&[Scope::Admin], &[]).await;
        app.token = app.token_of(&admin).await;
        app.client_id = admin.client_id;
        app
    }

    /// A new client with `scopes`, restricted to `programmes` (codes) when not empty; returns
    /// its credentials.
    pub async fn client(&self, scopes: &[Scope], programmes: &[&str]) -> NewCredentials {
        let mut conn = self.db().await;
        let codes: Vec<String> = programmes.iter().map(|c| c.to_string()).collect();
        let ids = anct_formations::programmes::store::resolve_codes(
            &mut conn,
            &codes,
            |i| i.to_string(),
            &anct_formations::auth::Visibility::All,
        )
        .await
        .expect("known programmes");
        clients::create(&mut conn, "test client", scopes, &ids)
            .await
            .expect("client created")
    }

    /// A token for a new client with `scopes` (and `programmes`).
    pub async fn token_for(&self, scopes: &[Scope], programmes: &[&str]) -> String {
        let credentials = self.client(scopes, programmes).await;
        self.token_of(&credentials).await
    }

    /// A token for existing credentials, through the token endpoint.
    pub async fn token_of(&self, credentials: &NewCredentials) -> String {
        let reply = self
            .client
            .post(self.url("/api/v1/oauth/token"))
            .form(&[
                ("grant_type", "client_credentials"),
                ("client_id", &credentials.client_id),
                ("client_secret", &credentials.client_secret),
            ])
            .send()
            .await
            .expect("token request sent");
        let reply = Reply::from(reply).await;
        reply.assert_json(200)["access_token"]
            .as_str()
            .unwrap()
            .to_string()
    }

    /// A request with no token.
    pub fn anonymous(&self, method: Method, path: &str) -> RequestBuilder {
        self.client.request(method, self.url(path))
    }

    /// A request with `token`.
    pub fn with_token(&self, method: Method, path: &str, token: &str) -> RequestBuilder {
        self.anonymous(method, path).bearer_auth(token)
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// A request as an administrator.
    pub fn request(&self, method: Method, path: &str) -> RequestBuilder {
        self.with_token(method, path, &self.token)
    }

    pub async fn get(&self, path: &str) -> Reply {
        Reply::from(
            self.request(Method::GET, path)
                .send()
                .await
                .expect("request sent"),
        )
        .await
    }

    pub async fn post_json(&self, path: &str, body: &Value) -> Reply {
        Reply::from(
            self.request(Method::POST, path)
                .json(body)
                .send()
                .await
                .unwrap(),
        )
        .await
    }

    pub async fn patch_json(&self, path: &str, body: &Value) -> Reply {
        Reply::from(
            self.request(Method::PATCH, path)
                .header("content-type", "application/merge-patch+json")
                .body(body.to_string())
                .send()
                .await
                .unwrap(),
        )
        .await
    }

    /// A direct connection to the test's database.
    pub async fn db(&self) -> diesel_async::AsyncPgConnection {
        use diesel_async::AsyncConnection;
        diesel_async::AsyncPgConnection::establish(&self.database_url)
            .await
            .expect("test database")
    }

    pub async fn send(&self, request: RequestBuilder) -> Reply {
        Reply::from(request.send().await.expect("request sent")).await
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        // `stop` sends its command at once; the server thread then ends.
        drop(self.handle.stop(false));
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// A response, read whole.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub text: String,
}

impl Reply {
    pub async fn from(response: Response) -> Self {
        let status = response.status();
        let headers = response.headers().clone();
        let text = response.text().await.unwrap_or_default();
        Self {
            status,
            headers,
            text,
        }
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub fn content_type(&self) -> &str {
        self.header("content-type").unwrap_or_default()
    }

    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text)
            .unwrap_or_else(|e| panic!("body is not JSON ({e}): {:?}", self.text))
    }

    /// Asserts a problem+json body with this status and code; returns the body.
    #[track_caller]
    pub fn assert_problem(&self, status: u16, code: &str) -> Value {
        assert_eq!(self.status.as_u16(), status, "status of {:?}", self.text);
        assert_eq!(
            self.content_type(),
            "application/problem+json",
            "content type"
        );
        let body = self.json();
        assert_eq!(body["code"], code, "code in {body}");
        assert_eq!(body["status"], status, "status in {body}");
        assert_eq!(body["type"], format!("urn:anct-formations:problem:{code}"));
        assert!(
            body["title"].is_string() && body["detail"].is_string(),
            "{body}"
        );
        assert_eq!(
            body["request_id"].as_str(),
            self.header("x-request-id"),
            "the problem names the request id"
        );
        body
    }

    /// Asserts a JSON success with this status; returns the body.
    #[track_caller]
    pub fn assert_json(&self, status: u16) -> Value {
        assert_eq!(self.status.as_u16(), status, "status of {:?}", self.text);
        assert_eq!(self.content_type(), "application/json", "content type");
        self.json()
    }
}

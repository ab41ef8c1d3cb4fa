//! Typed configuration, read once from the environment.
//!
//! Every variable has a default that suits a developer's machine; README lists them all.

use std::{env, fmt, time::Duration};

/// The service's configuration. Secrets are never printed: `Debug` masks the database password.
#[derive(Clone)]
pub struct Config {
    /// `DATABASE_URL`: PostgreSQL connection URL.
    /// Default `postgres://postgres@127.0.0.1:5432/anct_formations`.
    pub database_url: String,
    /// `BIND_ADDRESS`: where the HTTP server listens. Default `127.0.0.1:8080`.
    pub bind_address: String,
    /// `PUBLIC_BASE_URL`: the URL clients reach the service at, used in printed hints.
    /// Default `http://<BIND_ADDRESS>`.
    pub public_base_url: String,
    /// `DATABASE_POOL_SIZE`: maximum connections per instance. Default 10.
    pub pool_size: usize,
    /// `DATABASE_READ_CONNECTIONS`: connections per HTTP worker shared by single-statement reads,
    /// which pipeline on them (outside the pool). Default 1.
    pub read_connections: usize,
    /// `DATABASE_CHECKOUT_TIMEOUT_MS`: how long a request waits for a free connection before a 503.
    /// Default 2000.
    pub checkout_timeout: Duration,
    /// `DATABASE_CONNECT_TIMEOUT_MS`: how long opening a new connection may take. Default 3000.
    pub connect_timeout: Duration,
    /// `DATABASE_STATEMENT_TIMEOUT_MS`: PostgreSQL `statement_timeout` set on every connection.
    /// Default 5000.
    pub statement_timeout: Duration,
    /// `HTTP_WORKERS`: actix worker threads. Default: the number of CPU cores.
    pub workers: usize,
    /// `SHUTDOWN_TIMEOUT_S`: on SIGTERM, how long in-flight requests get to finish. Default 30.
    pub shutdown_timeout: Duration,
    /// `MAX_BODY_BYTES`: largest request body accepted (413 beyond). Default 1048576 (1 MiB).
    pub max_body_bytes: usize,
    /// `REQUEST_TIMEOUT_MS`: how long a client may take to send a request's headers, and then
    /// its body (408 beyond). Default 10000.
    pub request_timeout: Duration,
    /// `RETRY_AFTER_S`: the `Retry-After` sent with a 503 when the database is unavailable. Default 2.
    pub retry_after: Duration,
    /// `JWT_ISSUER`: the `iss` of access tokens. Default `PUBLIC_BASE_URL`.
    pub jwt_issuer: String,
    /// `JWT_AUDIENCE`: the `aud` of access tokens. Default `anct-formations`.
    pub jwt_audience: String,
    /// `TOKEN_TTL_S`: lifetime of an access token. Default 900 (15 minutes).
    pub token_ttl: Duration,
    /// `RATE_LIMIT_PER_MINUTE`: requests a client may make per minute on one instance (429
    /// beyond, with `Retry-After`). Default 6000; 0 disables the limit.
    pub rate_limit_per_minute: u32,
    /// `FEED_RETENTION_DAYS`: how long changes stay in the feed (a cursor older than that gets
    /// 410). Default 30.
    pub feed_retention: Duration,
    /// `IDEMPOTENCY_TTL_HOURS`: how long an `Idempotency-Key` and its response are kept. Default
    /// 48 (at least 24).
    pub idempotency_ttl: Duration,
    /// Webhook delivery settings (`WEBHOOK_*`).
    pub webhooks: WebhookSettings,
    /// The organisation responsible for the catalogue, as the LHEO export names it (`LHEO_*`).
    pub catalogue: CatalogueOwner,
}

/// The training organisation responsible for the offers in the LHEO export. The defaults name
/// CNFPT; the registration numbers default to zeros ("unknown") until the operator sets them.
#[derive(Debug, Clone)]
pub struct CatalogueOwner {
    /// `LHEO_ORGANISME_NAME`. Default `CNFPT`.
    pub name: String,
    /// `LHEO_RAISON_SOCIALE`. Default `Centre national de la fonction publique territoriale`.
    pub legal_name: String,
    /// `LHEO_SIRET`: 14 digits. Default `00000000000000`.
    pub siret: String,
    /// `LHEO_NUMERO_ACTIVITE`: the 11-character declaration number. Default `00000000000`.
    pub activity_number: String,
    /// `LHEO_ADRESSE`: street line of the registration address. Default `80 rue de Reuilly`.
    pub street: String,
    /// `LHEO_CODE_POSTAL`. Default `75012`.
    pub postal_code: String,
    /// `LHEO_VILLE`. Default `Paris`.
    pub city: String,
    /// `LHEO_COURRIEL`: contact e-mail, optional.
    pub email: Option<String>,
    /// `LHEO_WEB`: website. Default `https://www.cnfpt.fr`.
    pub web: Option<String>,
    /// `LHEO_CODE_PUBLIC_VISE`: FORMACODE of the audience. Default `80006` (all audiences; the
    /// export adds that the offers are for the chefs de projet of ANCT's programmes).
    pub audience_code: String,
    /// `LHEO_FORMACODE_VERSION`: the FORMACODE version of that code. Default `V13`.
    pub formacode_version: String,
}

/// How webhooks are delivered.
#[derive(Debug, Clone)]
pub struct WebhookSettings {
    /// `WEBHOOK_WORKER`: whether this instance delivers webhooks (`true`/`false`). Default true;
    /// any number of instances may, each delivery is claimed by one.
    pub worker: bool,
    /// `WEBHOOK_ALLOW_PRIVATE_TARGETS`: let endpoints target private, loopback and link-local
    /// addresses (`true`/`false`). Default false: only public addresses.
    pub allow_private_targets: bool,
    /// `WEBHOOK_TIMEOUT_MS`: how long a receiver has to answer one delivery. Default 10000.
    pub timeout: Duration,
    /// `WEBHOOK_POLL_MS`: how often the worker looks for new changes and due deliveries.
    /// Default 500.
    pub poll_interval: Duration,
    /// `WEBHOOK_FIRST_RETRY_MS`: the delay before the first retry; each next one is three times
    /// longer (with ±20% jitter), at most 12 hours. Default 5000.
    pub first_retry: Duration,
    /// `WEBHOOK_MAX_ATTEMPTS`: attempts before a delivery fails for good and its endpoint is
    /// disabled. Default 15 (about three days with the default first retry).
    pub max_attempts: i32,
    /// `WEBHOOK_CONCURRENCY`: deliveries one instance sends at once. Default 16.
    pub concurrency: usize,
}

/// A variable that is set but cannot be read as its type.
#[derive(Debug, thiserror::Error)]
#[error("environment variable {name} = {value:?} is not valid: {reason}")]
pub struct ConfigError {
    name: &'static str,
    value: String,
    reason: String,
}

impl Config {
    /// Reads the configuration from the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| env::var(name).ok())
    }

    /// Reads the configuration through `lookup`, so tests can give their own variables.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let text =
            |name: &'static str, default: &str| lookup(name).unwrap_or_else(|| default.into());
        let number = |name: &'static str, default: u64| -> Result<u64, ConfigError> {
            match lookup(name) {
                None => Ok(default),
                Some(value) => value.trim().parse::<u64>().map_err(|e| ConfigError {
                    name,
                    reason: e.to_string(),
                    value,
                }),
            }
        };
        let millis = |name, default| number(name, default).map(Duration::from_millis);
        let flag = |name: &'static str, default: bool| -> Result<bool, ConfigError> {
            match lookup(name).map(|v| v.trim().to_ascii_lowercase()) {
                None => Ok(default),
                Some(v) if matches!(v.as_str(), "1" | "true" | "yes" | "on") => Ok(true),
                Some(v) if matches!(v.as_str(), "0" | "false" | "no" | "off") => Ok(false),
                Some(value) => Err(ConfigError {
                    name,
                    reason: "expected true or false".into(),
                    value,
                }),
            }
        };
        let bind_address = text("BIND_ADDRESS", "127.0.0.1:8080");
        let default_base = format!("http://{bind_address}");
        let public_base_url = text("PUBLIC_BASE_URL", &default_base)
            .trim_end_matches('/')
            .to_string();
        let exact = |name: &'static str, default: &str, len: usize, digits: bool| {
            let value = text(name, default);
            let valid = value.chars().count() == len
                && (!digits || value.chars().all(|c| c.is_ascii_digit()));
            if valid {
                Ok(value)
            } else {
                Err(ConfigError {
                    name,
                    reason: format!(
                        "expected {len} {}",
                        if digits { "digits" } else { "characters" }
                    ),
                    value,
                })
            }
        };
        let workers = match number("HTTP_WORKERS", 0)? {
            0 => std::thread::available_parallelism().map_or(2, |n| n.get()),
            n => n as usize,
        };
        Ok(Self {
            database_url: text(
                "DATABASE_URL",
                "postgres://postgres@127.0.0.1:5432/anct_formations",
            ),
            public_base_url: public_base_url.clone(),
            bind_address,
            pool_size: number("DATABASE_POOL_SIZE", 10)?.max(1) as usize,
            read_connections: number("DATABASE_READ_CONNECTIONS", 1)?.max(1) as usize,
            checkout_timeout: millis("DATABASE_CHECKOUT_TIMEOUT_MS", 2000)?,
            connect_timeout: millis("DATABASE_CONNECT_TIMEOUT_MS", 3000)?,
            statement_timeout: millis("DATABASE_STATEMENT_TIMEOUT_MS", 5000)?,
            workers,
            shutdown_timeout: Duration::from_secs(number("SHUTDOWN_TIMEOUT_S", 30)?),
            max_body_bytes: number("MAX_BODY_BYTES", 1024 * 1024)? as usize,
            request_timeout: millis("REQUEST_TIMEOUT_MS", 10_000)?.max(Duration::from_millis(100)),
            retry_after: Duration::from_secs(number("RETRY_AFTER_S", 2)?.max(1)),
            jwt_issuer: text("JWT_ISSUER", &public_base_url),
            jwt_audience: text("JWT_AUDIENCE", "anct-formations"),
            token_ttl: Duration::from_secs(number("TOKEN_TTL_S", 900)?.clamp(60, 86_400)),
            rate_limit_per_minute: number("RATE_LIMIT_PER_MINUTE", 6000)?.min(u64::from(u32::MAX))
                as u32,
            feed_retention: Duration::from_secs(number("FEED_RETENTION_DAYS", 30)?.max(1) * 86_400),
            idempotency_ttl: Duration::from_secs(
                number("IDEMPOTENCY_TTL_HOURS", 48)?.max(24) * 3600,
            ),
            webhooks: WebhookSettings {
                worker: flag("WEBHOOK_WORKER", true)?,
                allow_private_targets: flag("WEBHOOK_ALLOW_PRIVATE_TARGETS", false)?,
                timeout: millis("WEBHOOK_TIMEOUT_MS", 10_000)?.max(Duration::from_millis(100)),
                poll_interval: millis("WEBHOOK_POLL_MS", 500)?.max(Duration::from_millis(10)),
                first_retry: millis("WEBHOOK_FIRST_RETRY_MS", 5000)?,
                max_attempts: number("WEBHOOK_MAX_ATTEMPTS", 15)?.clamp(1, 100) as i32,
                concurrency: number("WEBHOOK_CONCURRENCY", 16)?.clamp(1, 256) as usize,
            },
            catalogue: CatalogueOwner {
                name: text("LHEO_ORGANISME_NAME", "CNFPT"),
                legal_name: text(
                    "LHEO_RAISON_SOCIALE",
                    "Centre national de la fonction publique territoriale",
                ),
                siret: exact("LHEO_SIRET", "00000000000000", 14, true)?,
                activity_number: exact("LHEO_NUMERO_ACTIVITE", "00000000000", 11, false)?,
                street: text("LHEO_ADRESSE", "80 rue de Reuilly"),
                postal_code: exact("LHEO_CODE_POSTAL", "75012", 5, false)?,
                city: text("LHEO_VILLE", "Paris"),
                email: lookup("LHEO_COURRIEL").filter(|v| !v.trim().is_empty()),
                web: Some(text("LHEO_WEB", "https://www.cnfpt.fr"))
                    .filter(|v| !v.trim().is_empty()),
                audience_code: exact("LHEO_CODE_PUBLIC_VISE", "80006", 5, false)?,
                formacode_version: text("LHEO_FORMACODE_VERSION", "V13"),
            },
        })
    }
}

/// Hides the password of a connection URL (`postgres://user:secret@host` → `postgres://user:***@host`).
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    match rest.rsplit_once('@') {
        Some((credentials, host)) => match credentials.split_once(':') {
            Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
            None => url.to_string(),
        },
        None => url.to_string(),
    }
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("database_url", &redact_url(&self.database_url))
            .field("bind_address", &self.bind_address)
            .field("public_base_url", &self.public_base_url)
            .field("pool_size", &self.pool_size)
            .field("read_connections", &self.read_connections)
            .field("checkout_timeout", &self.checkout_timeout)
            .field("connect_timeout", &self.connect_timeout)
            .field("statement_timeout", &self.statement_timeout)
            .field("workers", &self.workers)
            .field("shutdown_timeout", &self.shutdown_timeout)
            .field("max_body_bytes", &self.max_body_bytes)
            .field("request_timeout", &self.request_timeout)
            .field("retry_after", &self.retry_after)
            .field("jwt_issuer", &self.jwt_issuer)
            .field("jwt_audience", &self.jwt_audience)
            .field("token_ttl", &self.token_ttl)
            .field("rate_limit_per_minute", &self.rate_limit_per_minute)
            .field("feed_retention", &self.feed_retention)
            .field("idempotency_ttl", &self.idempotency_ttl)
            .field("webhooks", &self.webhooks)
            .field("catalogue", &self.catalogue)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_apply_when_nothing_is_set() {
        let config = Config::from_lookup(|_| None).unwrap();
        assert_eq!(config.bind_address, "127.0.0.1:8080");
        assert_eq!(config.public_base_url, "http://127.0.0.1:8080");
        assert_eq!(config.pool_size, 10);
        assert_eq!(config.max_body_bytes, 1_048_576);
    }

    #[test]
    fn a_bad_number_names_the_variable() {
        let err = Config::from_lookup(|n| (n == "DATABASE_POOL_SIZE").then(|| "ten".into()))
            .unwrap_err()
            .to_string();
        assert!(err.contains("DATABASE_POOL_SIZE"), "{err}");
    }

    #[test]
    fn passwords_are_redacted() {
        assert_eq!(
            redact_url("postgres://app:s3cret@db:5432/x"),
            "postgres://app:***@db:5432/x"
        );
        assert_eq!(redact_url("postgres://app@db/x"), "postgres://app@db/x");
    }
}

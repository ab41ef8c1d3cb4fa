//! Sends one delivery: a signed POST (Standard Webhooks headers), no redirects followed, a
//! timeout, and connections only to addresses the guard permits.

use std::time::Instant;

use chrono::Utc;
use reqwest::header::{HeaderMap, HeaderValue, CONTENT_TYPE, USER_AGENT};
use url::Url;

use crate::config::WebhookSettings;
use crate::webhooks::guard::{self, GuardedResolver, TargetPolicy};
use crate::webhooks::queue::{Claimed, Outcome};
use crate::webhooks::signature;

/// How much of a failing receiver's answer is kept in the attempt log.
const ERROR_BODY_CHARS: usize = 300;

pub struct Sender {
    client: reqwest::Client,
    policy: TargetPolicy,
}

impl Sender {
    pub fn new(settings: &WebhookSettings) -> Result<Self, reqwest::Error> {
        // rustls needs a process-wide crypto provider; another caller may have installed it.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let policy = TargetPolicy {
            allow_private: settings.allow_private_targets,
        };
        let mut headers = HeaderMap::new();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        headers.insert(
            USER_AGENT,
            HeaderValue::from_static(concat!(
                "anct-formations-webhooks/",
                env!("CARGO_PKG_VERSION")
            )),
        );
        let client = reqwest::Client::builder()
            .default_headers(headers)
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .timeout(settings.timeout)
            .connect_timeout(settings.timeout)
            .dns_resolver(GuardedResolver(policy))
            .build()?;
        Ok(Self { client, policy })
    }

    /// One attempt; never fails, the outcome says how it went.
    pub async fn send(&self, delivery: &Claimed) -> Outcome {
        let attempted_at = Utc::now();
        let started = Instant::now();
        let result = self.post(delivery, attempted_at.timestamp()).await;
        let latency_ms = started.elapsed().as_millis().min(i32::MAX as u128) as i32;
        let (status_code, error) = match result {
            Ok((status, _)) if (200..300).contains(&status) => (Some(status), None),
            Ok((status, body)) => (Some(status), Some(format!("HTTP {status}{body}"))),
            Err(error) => (None, Some(error)),
        };
        Outcome {
            attempted_at,
            status_code,
            latency_ms,
            error,
        }
    }

    async fn post(&self, delivery: &Claimed, timestamp: i64) -> Result<(i32, String), String> {
        let url = Url::parse(&delivery.url).map_err(|e| format!("invalid url: {e}"))?;
        if !guard::literal_permitted(&url, self.policy) {
            return Err(format!(
                "{} is not a public address",
                url.host_str().unwrap_or_default()
            ));
        }
        let id = delivery.id.to_string();
        let mut secrets = vec![delivery.secret.as_str()];
        secrets.extend(delivery.previous_secret.as_deref());
        let signature = signature::header(&secrets, &id, timestamp, delivery.payload.as_bytes());
        let response = self
            .client
            .post(url)
            .header("webhook-id", &id)
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", signature)
            .body(delivery.payload.clone())
            .send()
            .await
            .map_err(describe)?;
        let status = i32::from(response.status().as_u16());
        if response.status().is_success() {
            return Ok((status, String::new()));
        }
        let body = excerpt(response).await;
        Ok((status, body))
    }
}

/// The start of an answer's body, as `: <text>`, or nothing.
async fn excerpt(mut response: reqwest::Response) -> String {
    let mut bytes = Vec::new();
    while bytes.len() < ERROR_BODY_CHARS * 4 {
        match response.chunk().await {
            Ok(Some(chunk)) => bytes.extend_from_slice(&chunk),
            _ => break,
        }
    }
    let text: String = String::from_utf8_lossy(&bytes)
        .chars()
        .filter(|c| !c.is_control())
        .take(ERROR_BODY_CHARS)
        .collect();
    if text.trim().is_empty() {
        String::new()
    } else {
        format!(": {}", text.trim())
    }
}

/// A transport error with its causes (reqwest's own message is often just "error sending
/// request").
fn describe(error: reqwest::Error) -> String {
    let kind = if error.is_timeout() {
        "timed out"
    } else if error.is_connect() {
        "cannot connect"
    } else {
        "request failed"
    };
    let mut text = kind.to_string();
    let mut source = std::error::Error::source(&error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text.chars().take(500).collect()
}

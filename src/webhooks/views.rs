//! Webhook endpoints and deliveries as the API shows and accepts them.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::changes::views::ResourceType;
use crate::http::{conditional::ETagged, pagination::Identified, Cursor, Limit};

/// A URL of a partner that receives the changes it may read, signed (Standard Webhooks).
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "0193a1f5-1a2b-7c3d-8e4f-5a6b7c8d9e0f",
    "url": "https://dashboard.region-bretagne.fr/hooks/anct-formations",
    "description": "Tableau de bord régional",
    "types": ["session", "enrolment"],
    "enabled": true,
    "disabled_at": null,
    "disabled_reason": null,
    "previous_secret_expires_at": null,
    "version": 1,
    "created_at": "2026-11-27T09:00:00Z",
    "updated_at": "2026-11-27T09:00:00Z"
}))]
pub struct WebhookEndpoint {
    pub id: Uuid,
    /// Where deliveries are POSTed: http(s), resolving to public addresses only.
    pub url: String,
    pub description: Option<String>,
    /// The change types delivered; empty: every type the client may read.
    pub types: Vec<ResourceType>,
    /// Whether deliveries are sent. The service disables an endpoint whose deliveries keep
    /// failing (see `disabled_reason`); enable it again with a patch once it is fixed, and the
    /// deliveries held meanwhile are sent.
    pub enabled: bool,
    pub disabled_at: Option<DateTime<Utc>>,
    /// Why the endpoint is disabled: by the client, or the failure that made the service stop.
    pub disabled_reason: Option<String>,
    /// During a secret rotation, until when the previous secret still signs deliveries.
    pub previous_secret_expires_at: Option<DateTime<Utc>>,
    /// Incremented on every change; also the `ETag`.
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl ETagged for WebhookEndpoint {
    fn version(&self) -> i64 {
        self.version
    }
}

impl Identified for WebhookEndpoint {
    fn id(&self) -> Uuid {
        self.id
    }
}

/// A new endpoint, with its signing secret: shown this once.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "0193a1f5-1a2b-7c3d-8e4f-5a6b7c8d9e0f",
    "url": "https://dashboard.region-bretagne.fr/hooks/anct-formations",
    "description": "Tableau de bord régional",
    "types": ["session", "enrolment"],
    "enabled": true,
    "disabled_at": null,
    "disabled_reason": null,
    "previous_secret_expires_at": null,
    "version": 1,
    "created_at": "2026-11-27T09:00:00Z",
    "updated_at": "2026-11-27T09:00:00Z",
    "secret": "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD"
}))]
pub struct CreatedWebhookEndpoint {
    #[serde(flatten)]
    pub endpoint: WebhookEndpoint,
    /// The signing secret (`whsec_<base64>`): keep it, it is never shown again.
    pub secret: String,
}

impl ETagged for CreatedWebhookEndpoint {
    fn version(&self) -> i64 {
        self.endpoint.version
    }
}

/// A new signing secret. The previous one keeps signing (a second signature in
/// `webhook-signature`) until `previous_secret_expires_at`, so receivers can switch without
/// losing a delivery.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "secret": "whsec_9pQz0bYkq2Qe3u4Kx1Wm6cN7sVt8rLa5",
    "previous_secret_expires_at": "2026-11-28T09:00:00Z"
}))]
pub struct RotatedSecret {
    /// The new signing secret, shown this once.
    pub secret: String,
    pub previous_secret_expires_at: DateTime<Utc>,
}

/// A new endpoint. Only changes after its creation are delivered.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "url": "https://dashboard.region-bretagne.fr/hooks/anct-formations",
    "description": "Tableau de bord régional",
    "types": ["session", "enrolment"]
}))]
pub struct WebhookEndpointInput {
    /// http(s) URL resolving to public addresses only; at most 2,000 characters.
    #[schema(max_length = 2000, format = "uri")]
    pub url: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 500)]
    pub description: Option<String>,
    /// Change types to receive (default: every type the client may read). Each needs its read
    /// scope.
    #[serde(default)]
    pub types: Vec<ResourceType>,
    /// Default true.
    #[serde(default = "enabled_by_default")]
    pub enabled: bool,
}

fn enabled_by_default() -> bool {
    true
}

/// A JSON merge patch (RFC 7386) of an endpoint.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"enabled": true}))]
#[allow(dead_code)]
pub struct WebhookEndpointPatch {
    url: Option<String>,
    description: Option<String>,
    types: Option<Vec<ResourceType>>,
    enabled: Option<bool>,
}

/// Filters of the endpoint list.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct WebhookEndpointFilter {
    /// Page size, 1 to 500.
    #[serde(default)]
    #[param(value_type = Option<i64>, minimum = 1, maximum = 500, example = 50)]
    pub limit: Limit,
    /// `next_cursor` of the previous page.
    #[param(value_type = Option<String>)]
    pub cursor: Option<Cursor>,
}

/// Where a delivery stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryStatus {
    /// Waiting for its next attempt (`next_attempt_at`).
    Pending,
    /// The receiver answered 2xx.
    Succeeded,
    /// Every attempt failed; redeliver it by hand once the receiver is fixed.
    Failed,
}

impl DeliveryStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Succeeded => "succeeded",
            Self::Failed => "failed",
        }
    }

    pub fn from_db(value: &str) -> Self {
        match value {
            "succeeded" => Self::Succeeded,
            "failed" => Self::Failed,
            _ => Self::Pending,
        }
    }
}

/// One change sent (or to be sent) to one endpoint.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "0193a1f6-2b3c-7d4e-9f50-6a7b8c9d0e1f",
    "endpoint_id": "0193a1f5-1a2b-7c3d-8e4f-5a6b7c8d9e0f",
    "type": "enrolment",
    "resource_id": "0193a1f3-9d8e-7f60-a1b2-c3d4e5f60718",
    "cursor": "123",
    "status": "pending",
    "attempts": 3,
    "next_attempt_at": "2026-11-27T09:02:15Z",
    "last_status_code": 503,
    "last_error": "HTTP 503",
    "created_at": "2026-11-27T09:00:00Z",
    "delivered_at": null
}))]
pub struct Delivery {
    /// Also the `webhook-id` header, the same on every attempt: receivers deduplicate on it.
    pub id: Uuid,
    pub endpoint_id: Uuid,
    /// The type of the changed resource.
    #[serde(rename = "type")]
    pub resource_type: ResourceType,
    pub resource_id: Uuid,
    /// The change's feed cursor.
    pub cursor: String,
    pub status: DeliveryStatus,
    /// Attempts made so far.
    pub attempts: i32,
    /// When the next attempt is due (pending deliveries only).
    pub next_attempt_at: Option<DateTime<Utc>>,
    /// The status code of the last answer, if any came.
    pub last_status_code: Option<i32>,
    /// What went wrong on the last attempt.
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub delivered_at: Option<DateTime<Utc>>,
}

impl Identified for Delivery {
    fn id(&self) -> Uuid {
        self.id
    }
}

/// One attempt to send a delivery.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({"attempted_at": "2026-11-27T09:00:05Z", "status_code": 503, "latency_ms": 42, "error": "HTTP 503"}))]
pub struct DeliveryAttempt {
    pub attempted_at: DateTime<Utc>,
    /// The receiver's status code; null when no answer came (connection refused, timeout…).
    pub status_code: Option<i32>,
    pub latency_ms: i32,
    /// Null for a success.
    pub error: Option<String>,
}

/// A delivery with the body it sends and each attempt so far.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryDetail {
    #[serde(flatten)]
    pub delivery: Delivery,
    /// The body POSTed: the change, as the feed shows it to this client.
    #[schema(value_type = Object)]
    pub payload: Value,
    /// Every attempt, oldest first.
    pub attempt_log: Vec<DeliveryAttempt>,
}

/// Filters of the delivery list.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DeliveryFilter {
    /// Page size, 1 to 500.
    #[serde(default)]
    #[param(value_type = Option<i64>, minimum = 1, maximum = 500, example = 50)]
    pub limit: Limit,
    /// `next_cursor` of the previous page.
    #[param(value_type = Option<String>)]
    pub cursor: Option<Cursor>,
    /// Only deliveries with this status.
    pub status: Option<DeliveryStatus>,
}

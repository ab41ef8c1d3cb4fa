//! The change object, as the feed (and later webhooks) send it.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::auth::scopes::{grants, Scope};
use crate::changes::FeedCursor;

/// The kinds of resources in the feed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ResourceType {
    Programme,
    Collectivite,
    ChefDeProjet,
    Training,
    Session,
    Enrolment,
}

impl ResourceType {
    pub const ALL: [ResourceType; 6] = [
        Self::Programme,
        Self::Collectivite,
        Self::ChefDeProjet,
        Self::Training,
        Self::Session,
        Self::Enrolment,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Programme => "programme",
            Self::Collectivite => "collectivite",
            Self::ChefDeProjet => "chef_de_projet",
            Self::Training => "training",
            Self::Session => "session",
            Self::Enrolment => "enrolment",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == text)
    }

    /// The scope that lets a client read this type's changes (with `changes:read` for the feed,
    /// `webhooks:manage` for webhooks).
    pub fn read_scope(self) -> Scope {
        match self {
            Self::Programme => Scope::ProgrammesRead,
            Self::Collectivite => Scope::CollectivitesRead,
            Self::ChefDeProjet => Scope::PeopleRead,
            Self::Training | Self::Session => Scope::TrainingsRead,
            Self::Enrolment => Scope::EnrolmentsRead,
        }
    }
}

/// Of `requested` (every type when empty), the types `scopes` let a client read.
pub fn readable_types(scopes: &[Scope], requested: &[ResourceType]) -> Vec<ResourceType> {
    let candidates = if requested.is_empty() {
        &ResourceType::ALL[..]
    } else {
        requested
    };
    candidates
        .iter()
        .copied()
        .filter(|t| grants(scopes, t.read_scope()))
        .collect()
}

/// The read scope missing for the first of `requested` that `scopes` do not let a client read.
pub fn missing_read_scope(scopes: &[Scope], requested: &[ResourceType]) -> Option<Scope> {
    requested
        .iter()
        .map(|t| t.read_scope())
        .find(|scope| !grants(scopes, *scope))
}

/// What happened to the resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ChangeAction {
    /// Created or changed: `data` is the resource at `version`.
    Upsert,
    /// Deleted: `data` is null.
    Delete,
}

/// One committed change.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({
    "cursor": "123",
    "type": "session",
    "id": "0193a1f3-9d8e-7f60-a1b2-c3d4e5f60718",
    "action": "upsert",
    "version": 4,
    "occurred_at": "2026-11-26T10:00:00.123456Z",
    "data": {"id": "0193a1f3-9d8e-7f60-a1b2-c3d4e5f60718", "status": "scheduled", "capacity": 20, "seats_confirmed": 13, "version": 4}
}))]
pub struct Change {
    /// The position in the feed (`cursor` is its opaque form).
    #[serde(skip)]
    pub position: i64,
    /// Resume the feed after this change by passing it as `after`.
    pub cursor: String,
    #[serde(rename = "type")]
    pub resource_type: ResourceType,
    pub id: Uuid,
    pub action: ChangeAction,
    /// The resource's version after the change.
    pub version: i64,
    pub occurred_at: DateTime<Utc>,
    /// The resource as it is at `version`, exactly as its read operation returns it; null for a
    /// deletion, and for past changes of a chef de projet whose data was erased.
    #[schema(value_type = Option<Object>)]
    pub data: Option<Value>,
}

/// A page of the feed.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChangePage {
    pub data: Vec<Change>,
    /// Where to resume: pass it as `after` (also when `data` is empty).
    pub next_cursor: String,
}

/// `?types=session,enrolment`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TypeList(pub Option<Vec<ResourceType>>);

impl<'de> Deserialize<'de> for TypeList {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        let mut types = Vec::new();
        for name in text.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            let parsed = ResourceType::parse(name).ok_or_else(|| {
                serde::de::Error::custom(format!(
                    "unknown type `{name}`: programme, collectivite, chef_de_projet, training, session or enrolment"
                ))
            })?;
            if !types.contains(&parsed) {
                types.push(parsed);
            }
        }
        if types.is_empty() {
            return Err(serde::de::Error::custom(
                "types must name at least one type (or be left out for every type)",
            ));
        }
        Ok(TypeList(Some(types)))
    }
}

/// `?limit=` of the feed: 1 to 1000, default 100.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FeedLimit(pub i64);

impl Default for FeedLimit {
    fn default() -> Self {
        FeedLimit(100)
    }
}

impl<'de> Deserialize<'de> for FeedLimit {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        match text.trim().parse::<i64>() {
            Ok(n) if (1..=1000).contains(&n) => Ok(FeedLimit(n)),
            _ => Err(serde::de::Error::custom(
                "limit must be a whole number from 1 to 1000",
            )),
        }
    }
}

/// `?wait=`: seconds to wait for a change when there is none yet, 0 to 30.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Wait(pub u64);

impl<'de> Deserialize<'de> for Wait {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        match text.trim().parse::<u64>() {
            Ok(n) if n <= 30 => Ok(Wait(n)),
            _ => Err(serde::de::Error::custom(
                "wait must be a whole number of seconds from 0 to 30",
            )),
        }
    }
}

/// Parameters of the feed.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct FeedQuery {
    /// Read the changes after this cursor (`next_cursor`, a change's `cursor`, or a list's
    /// `X-Feed-Cursor` header). Absent: from the oldest change kept.
    #[param(value_type = Option<String>)]
    pub after: Option<FeedCursor>,
    /// Changes per page, 1 to 1000 (default 100).
    #[serde(default)]
    #[param(value_type = Option<i64>, minimum = 1, maximum = 1000, example = 100)]
    pub limit: FeedLimit,
    /// Comma-separated types to receive (default: every type the token may read).
    #[serde(default)]
    #[param(value_type = Option<String>, example = "session,enrolment")]
    pub types: TypeList,
    /// When no change is ready, wait up to this many seconds for one (long poll).
    #[serde(default)]
    #[param(value_type = Option<u64>, minimum = 0, maximum = 30, example = 20)]
    pub wait: Wait,
}

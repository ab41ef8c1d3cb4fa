//! HTTP plumbing shared by every resource: extractors, conditional requests, pagination,
//! request ids and the problem+json safety net.

pub mod conditional;
pub mod fallback;
pub mod json;
pub mod merge_patch;
pub mod pagination;
pub mod query;
pub mod request_id;
pub mod resource_key;

pub use conditional::{ETagged, IfMatch, IfNoneMatch};
pub use json::JsonBody;
pub use pagination::{Cursor, Limit, Page};
pub use query::QueryParams;
pub use resource_key::ResourceKey;

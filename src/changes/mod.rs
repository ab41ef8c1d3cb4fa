//! The change feed: `GET /api/v1/changes`, every committed change of every resource, once, in
//! commit order (see migration `change_feed` for how the database guarantees it), and the feed
//! cursor every list carries so a full pull hands over to the feed without a gap.
//!
//! - `views`: the change object and the query parameters
//! - `cursor`: the opaque feed cursor
//! - `store`: reading the feed, converting snapshots to API representations
//! - `handlers`: the HTTP operation

pub mod cursor;
pub mod handlers;
pub mod store;
pub mod views;

pub use cursor::FeedCursor;

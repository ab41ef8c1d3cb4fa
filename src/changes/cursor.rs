//! A position in the change feed, opaque to clients.

use serde::{Deserialize, Deserializer};

/// The feed position after which to read; `0` is the beginning. Opaque to clients; written as
/// the position's digits, so the document can state its form (`FEED_CURSOR_PATTERN`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FeedCursor(pub i64);

/// The form of a feed cursor, as the OpenAPI document states it.
pub const FEED_CURSOR_PATTERN: &str = "^[0-9]{1,18}$";

impl FeedCursor {
    pub fn encode(self) -> String {
        self.0.to_string()
    }

    pub fn decode(text: &str) -> Option<Self> {
        let valid = (1..=18).contains(&text.len()) && text.bytes().all(|b| b.is_ascii_digit());
        valid.then(|| text.parse().ok().map(FeedCursor)).flatten()
    }
}

impl<'de> Deserialize<'de> for FeedCursor {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        FeedCursor::decode(&text).ok_or_else(|| {
            serde::de::Error::custom(
                "not a feed cursor of this API: use next_cursor, or the X-Feed-Cursor header of a list",
            )
        })
    }
}

/// The header every list response carries: the feed cursor its data is consistent with.
pub const FEED_CURSOR_HEADER: &str = "x-feed-cursor";

#[cfg(test)]
mod tests {
    use super::FeedCursor;

    #[test]
    fn round_trip() {
        assert_eq!(
            FeedCursor::decode(&FeedCursor(42).encode()),
            Some(FeedCursor(42))
        );
        assert_eq!(FeedCursor::decode("42"), Some(FeedCursor(42)));
        assert_eq!(FeedCursor::decode("-1"), None);
        assert_eq!(FeedCursor::decode("4 2"), None);
    }
}

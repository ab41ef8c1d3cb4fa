//! A position in the change feed, opaque to clients.

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use serde::{Deserialize, Deserializer};

/// The feed position after which to read; `0` is the beginning.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FeedCursor(pub i64);

const PREFIX: &str = "f1:";

impl FeedCursor {
    pub fn encode(self) -> String {
        URL_SAFE_NO_PAD.encode(format!("{PREFIX}{}", self.0))
    }

    pub fn decode(text: &str) -> Option<Self> {
        let bytes = URL_SAFE_NO_PAD.decode(text.trim()).ok()?;
        let text = String::from_utf8(bytes).ok()?;
        let position: i64 = text.strip_prefix(PREFIX)?.parse().ok()?;
        (position >= 0).then_some(FeedCursor(position))
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
        assert_eq!(FeedCursor::decode("42"), None);
    }
}

//! Cursor pagination: `?limit=` (1–500, default 50) and an opaque `?cursor=`; the body is
//! `{"data": [...], "next_cursor": ...}` and an RFC 8288 `Link: <…>; rel="next"` points to the
//! next page.
//!
//! Lists are ordered by id. Ids are UUIDv7 (time-ordered), so a page follows creation order, and
//! a cursor is the last id seen: stable under concurrent inserts and deletes.

use actix_web::{http::header, HttpRequest, HttpResponse};
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::changes::{cursor::FEED_CURSOR_HEADER, FeedCursor};

pub const DEFAULT_LIMIT: i64 = 50;
pub const MAX_LIMIT: i64 = 500;

/// `?limit=`: how many items a page holds, 1 to 500.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit(i64);

impl Limit {
    pub fn get(self) -> i64 {
        self.0
    }
}

impl Default for Limit {
    fn default() -> Self {
        Limit(DEFAULT_LIMIT)
    }
}

impl<'de> Deserialize<'de> for Limit {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        match text.trim().parse::<i64>() {
            Ok(n) if (1..=MAX_LIMIT).contains(&n) => Ok(Limit(n)),
            _ => Err(serde::de::Error::custom(format!(
                "limit must be a whole number from 1 to {MAX_LIMIT}"
            ))),
        }
    }
}

/// `?cursor=`: where the previous page ended. Opaque to clients; it is the last id seen, in 32
/// lowercase hexadecimal digits, so the document can state its exact form (`CURSOR_PATTERN`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor {
    pub after: Uuid,
}

/// The form of a list cursor, as the OpenAPI document states it.
pub const CURSOR_PATTERN: &str = "^[0-9a-f]{32}$";

impl Cursor {
    pub fn encode(&self) -> String {
        self.after.simple().to_string()
    }

    pub fn decode(text: &str) -> Option<Self> {
        let valid =
            text.len() == 32 && text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
        valid
            .then(|| Uuid::parse_str(text).ok())
            .flatten()
            .map(|after| Cursor { after })
    }
}

impl<'de> Deserialize<'de> for Cursor {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Cursor::decode(&text).ok_or_else(|| {
            serde::de::Error::custom("cursor is not one this API issued; start again without it")
        })
    }
}

/// One page of a list.
#[derive(Debug, Serialize, ToSchema)]
pub struct Page<T> {
    /// The items of this page.
    pub data: Vec<T>,
    /// Pass as `cursor` to get the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

/// Anything listed by id.
pub trait Identified {
    fn id(&self) -> Uuid;
}

impl<T: Identified + Serialize> Page<T> {
    /// Builds a page from up to `limit + 1` rows: the extra row only says that more follow.
    pub fn from_rows(mut rows: Vec<T>, limit: Limit) -> Self {
        let more = rows.len() as i64 > limit.get();
        rows.truncate(limit.get() as usize);
        let next_cursor = more
            .then(|| rows.last().map(|last| Cursor { after: last.id() }.encode()))
            .flatten();
        Page {
            data: rows,
            next_cursor,
        }
    }

    /// 200 with the page, the feed cursor it is consistent with (`X-Feed-Cursor`) and, when
    /// more follow, a `Link` to the next one (the request's own query, with the new cursor).
    pub fn into_response(self, request: &HttpRequest, feed: FeedCursor) -> HttpResponse {
        self.respond(request, Some(feed))
    }

    /// 200 with the page and its `Link`, for lists that are not in the change feed.
    pub fn into_unsynced_response(self, request: &HttpRequest) -> HttpResponse {
        self.respond(request, None)
    }

    fn respond(self, request: &HttpRequest, feed: Option<FeedCursor>) -> HttpResponse {
        let mut response = HttpResponse::Ok();
        if let Some(feed) = feed {
            response.insert_header((FEED_CURSOR_HEADER, feed.encode()));
        }
        if let Some(cursor) = &self.next_cursor {
            let mut query = form_urlencoded::Serializer::new(String::new());
            for (key, value) in form_urlencoded::parse(request.query_string().as_bytes()) {
                if key != "cursor" {
                    query.append_pair(&key, &value);
                }
            }
            query.append_pair("cursor", cursor);
            let link = format!("<{}?{}>; rel=\"next\"", request.path(), query.finish());
            response.insert_header((header::LINK, link));
        }
        response.json(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_reject_foreign_text() {
        let cursor = Cursor {
            after: Uuid::now_v7(),
        };
        assert_eq!(Cursor::decode(&cursor.encode()), Some(cursor));
        assert_eq!(Cursor::decode("not-a-cursor"), None);
        assert_eq!(Cursor::decode(&cursor.encode().to_uppercase()), None);
    }
}

//! Tokens this instance has already verified.
//!
//! A partner sends the same access token with every request until it expires; checking its
//! EdDSA signature each time would cost more than the rest of a small read. A token that passed
//! the full verification is remembered (by its exact text) with its claims, and accepted again
//! without a signature check while it is within its validity window and the key that signed it
//! is still known (a retired and dropped key ends it at once). The cache is bounded: when it is
//! full, expired entries go, and if none has expired, all of them (the next requests verify
//! again).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::auth::keys::KeyRing;
use crate::auth::tokens::Claims;

/// A verified token's claims and the key it was signed with.
#[derive(Debug)]
pub struct Verified {
    pub kid: String,
    pub claims: Claims,
}

/// Verified tokens, bounded.
pub struct VerifiedTokens {
    entries: Mutex<HashMap<String, Arc<Verified>>>,
    capacity: usize,
}

impl VerifiedTokens {
    pub fn new(capacity: usize) -> Self {
        Self {
            entries: Mutex::new(HashMap::new()),
            capacity: capacity.max(1),
        }
    }

    /// The claims of `token` if it was verified before and is still valid at `now` (Unix
    /// seconds) under a key `keys` still hold.
    pub fn get(&self, token: &str, now: i64, keys: &KeyRing) -> Option<Arc<Verified>> {
        let found = self
            .entries
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(token)
            .cloned()?;
        (within_validity(&found.claims, now) && keys.knows(&found.kid)).then_some(found)
    }

    /// Remembers a token that has just passed the full verification.
    pub fn insert(&self, token: &str, verified: Verified, now: i64) -> Arc<Verified> {
        let verified = Arc::new(verified);
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        if entries.len() >= self.capacity {
            entries.retain(|_, v| within_validity(&v.claims, now));
            if entries.len() >= self.capacity {
                entries.clear();
            }
        }
        entries.insert(token.to_string(), verified.clone());
        verified
    }
}

/// Strictly within `nbf..exp` (the full verification allows some leeway; a remembered token does
/// not need it).
fn within_validity(claims: &Claims, now: i64) -> bool {
    claims.nbf <= now && now < claims.exp
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(nbf: i64, exp: i64) -> Claims {
        Claims {
            iss: "i".into(),
            aud: "a".into(),
            sub: "client".into(),
            exp,
            iat: nbf,
            nbf,
            jti: "j".into(),
            scope: "admin".into(),
            programmes: None,
        }
    }

    fn ring_with(kid: &str) -> KeyRing {
        let ring = KeyRing::empty();
        ring.insert_verifying_for_tests(kid);
        ring
    }

    #[test]
    fn a_remembered_token_is_valid_only_within_its_window_and_while_its_key_is_known() {
        let cache = VerifiedTokens::new(10);
        let ring = ring_with("k1");
        cache.insert(
            "t",
            Verified {
                kid: "k1".into(),
                claims: claims(100, 200),
            },
            100,
        );
        assert!(cache.get("t", 150, &ring).is_some());
        assert!(cache.get("t", 99, &ring).is_none());
        assert!(cache.get("t", 200, &ring).is_none());
        assert!(cache.get("other", 150, &ring).is_none());
        assert!(cache.get("t", 150, &KeyRing::empty()).is_none());
    }

    #[test]
    fn a_full_cache_drops_expired_entries_then_everything() {
        let cache = VerifiedTokens::new(2);
        let ring = ring_with("k1");
        let verified = |exp| Verified {
            kid: "k1".into(),
            claims: claims(0, exp),
        };
        cache.insert("old", verified(10), 5);
        cache.insert("live", verified(100), 5);
        cache.insert("new", verified(100), 50);
        assert!(cache.get("live", 50, &ring).is_some());
        assert!(cache.get("new", 50, &ring).is_some());
        cache.insert("newest", verified(100), 50);
        assert!(cache.get("newest", 50, &ring).is_some());
        assert!(cache.get("live", 50, &ring).is_none());
    }
}

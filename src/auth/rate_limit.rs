//! Per-client rate limiting: a token bucket per client on each instance.

use std::{
    collections::HashMap,
    sync::Mutex,
    time::{Duration, Instant},
};

/// Allows `per_minute` requests a minute per client, in bursts of up to a tenth of that.
pub struct RateLimiter {
    per_minute: u32,
    buckets: Mutex<HashMap<String, Bucket>>,
}

struct Bucket {
    tokens: f64,
    updated: Instant,
}

impl RateLimiter {
    pub fn new(per_minute: u32) -> Self {
        Self {
            per_minute,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    fn capacity(&self) -> f64 {
        (f64::from(self.per_minute) / 10.0).max(1.0)
    }

    /// `Ok` when `client` may make a request now, else how long to wait.
    pub fn check(&self, client: &str) -> Result<(), Duration> {
        if self.per_minute == 0 {
            return Ok(());
        }
        let rate = f64::from(self.per_minute) / 60.0;
        let capacity = self.capacity();
        let now = Instant::now();
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        if buckets.len() > 10_000 {
            buckets.retain(|_, b| now.duration_since(b.updated) < Duration::from_secs(120));
        }
        let bucket = buckets.entry(client.to_string()).or_insert(Bucket {
            tokens: capacity,
            updated: now,
        });
        let elapsed = now.duration_since(bucket.updated).as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * rate).min(capacity);
        bucket.updated = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64((1.0 - bucket.tokens) / rate))
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_burst_is_allowed_then_refused_with_a_wait() {
        let limiter = super::RateLimiter::new(60);
        for _ in 0..6 {
            assert!(limiter.check("a").is_ok());
        }
        let wait = limiter.check("a").unwrap_err();
        assert!(
            wait.as_secs_f64() > 0.5 && wait.as_secs_f64() <= 1.0,
            "{wait:?}"
        );
        assert!(limiter.check("b").is_ok(), "per client");
        assert!(super::RateLimiter::new(0).check("a").is_ok());
    }
}

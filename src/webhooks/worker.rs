//! The delivery worker each instance runs: fan the feed out into deliveries, claim the due
//! ones, send them side by side, record each outcome. Several instances share the work through
//! the database (see `queue`); none holds a connection while it waits on a receiver.

use std::time::Duration;

use crate::config::WebhookSettings;
use crate::db::DbPool;
use crate::error::ApiError;
use crate::webhooks::queue;
use crate::webhooks::sender::Sender;

/// Starts the worker on the current runtime.
pub fn spawn(pool: DbPool, settings: WebhookSettings) {
    let sender = match Sender::new(&settings) {
        Ok(sender) => sender,
        Err(error) => {
            log::error!("webhooks will not be delivered: cannot build the HTTP client: {error}");
            return;
        }
    };
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(settings.poll_interval);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            if let Err(error) = run_once(&pool, &sender, &settings).await {
                log::warn!("webhook worker: {}", error.detail);
            }
        }
    });
}

/// The lease outlives the request timeout, so a delivery is never sent by two instances at once
/// unless one of them died mid-send.
fn lease(settings: &WebhookSettings) -> Duration {
    settings.timeout * 2 + Duration::from_secs(30)
}

/// One round: fan out, then send what is due until nothing is.
pub async fn run_once(
    pool: &DbPool,
    sender: &Sender,
    settings: &WebhookSettings,
) -> Result<(), ApiError> {
    {
        let mut conn = pool.get().await?;
        queue::fan_out(&mut conn).await?;
    }
    loop {
        let claimed = {
            let mut conn = pool.get().await?;
            queue::claim(&mut conn, settings.concurrency as i64, lease(settings)).await?
        };
        if claimed.is_empty() {
            return Ok(());
        }
        let outcomes = futures_util::future::join_all(claimed.iter().map(|d| sender.send(d))).await;
        let mut conn = pool.get().await?;
        for (delivery, outcome) in claimed.iter().zip(&outcomes) {
            queue::record(&mut conn, delivery, outcome, settings).await?;
        }
        if claimed.len() < settings.concurrency {
            return Ok(());
        }
    }
}

//! The delivery worker each instance runs: fan the feed out into deliveries, claim the due
//! ones, send each on its own task (at most `WEBHOOK_CONCURRENCY` at once, so a slow receiver
//! does not hold up the others), record each outcome. Several instances share the work through
//! the database (see `queue`); no connection is held while a receiver is waited on.

use std::{sync::Arc, time::Duration};

use tokio::sync::Semaphore;

use crate::config::WebhookSettings;
use crate::db::DbPool;
use crate::error::ApiError;
use crate::webhooks::queue::{self, Claimed};
use crate::webhooks::sender::Sender;

/// What every delivery task shares.
struct Worker {
    pool: DbPool,
    sender: Sender,
    settings: WebhookSettings,
    slots: Arc<Semaphore>,
}

/// Starts the worker on the current runtime.
pub fn spawn(pool: DbPool, settings: WebhookSettings) {
    let sender = match Sender::new(&settings) {
        Ok(sender) => sender,
        Err(error) => {
            log::error!("webhooks will not be delivered: cannot build the HTTP client: {error}");
            return;
        }
    };
    let worker = Arc::new(Worker {
        slots: Arc::new(Semaphore::new(settings.concurrency)),
        pool,
        sender,
        settings,
    });
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(worker.settings.poll_interval);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            if let Err(error) = run_once(&worker).await {
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

/// One round: fan out, then start sending what is due, as long as slots are free.
async fn run_once(worker: &Arc<Worker>) -> Result<(), ApiError> {
    let mut conn = worker.pool.get().await?;
    queue::fan_out(&mut conn).await?;
    loop {
        let free = worker.slots.available_permits();
        if free == 0 {
            return Ok(());
        }
        let claimed = queue::claim(&mut conn, free as i64, lease(&worker.settings)).await?;
        let exhausted = claimed.len() < free;
        for delivery in claimed {
            let Ok(slot) = worker.slots.clone().acquire_owned().await else {
                return Ok(());
            };
            let worker = worker.clone();
            tokio::spawn(async move {
                deliver(&worker, &delivery).await;
                drop(slot);
            });
        }
        if exhausted {
            return Ok(());
        }
    }
}

/// Sends one delivery and records the outcome. If the outcome cannot be recorded (database
/// gone), the lease expires and the delivery is sent again later: at least once.
async fn deliver(worker: &Worker, delivery: &Claimed) {
    let outcome = worker.sender.send(delivery).await;
    let recorded = async {
        let mut conn = worker.pool.get().await?;
        queue::record(&mut conn, delivery, &outcome, &worker.settings).await
    };
    if let Err(error) = recorded.await {
        log::warn!(
            "webhook delivery {}: cannot record the attempt: {}",
            delivery.id,
            error.detail
        );
    }
}

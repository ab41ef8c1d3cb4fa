//! A webhook receiver on 127.0.0.1: records every POST, and answers 503 to the first
//! `failures` ones (or to all, until told otherwise).

use std::{
    net::TcpListener,
    sync::{
        atomic::{AtomicUsize, Ordering},
        mpsc, Arc, Mutex,
    },
    thread,
    time::Duration,
};

use actix_web::{dev::ServerHandle, web, App, HttpRequest, HttpResponse, HttpServer};

/// One request as received.
#[derive(Debug, Clone)]
pub struct Received {
    pub id: String,
    pub timestamp: String,
    pub signature: String,
    pub body: String,
    /// The status the receiver answered.
    pub answered: u16,
}

impl Received {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).expect("a JSON body")
    }
}

#[derive(Default)]
struct State {
    received: Mutex<Vec<Received>>,
    failures_left: AtomicUsize,
    /// How long each answer takes.
    delay: Duration,
}

pub struct Receiver {
    pub url: String,
    state: Arc<State>,
    handle: ServerHandle,
    thread: Option<thread::JoinHandle<()>>,
}

async fn receive(request: HttpRequest, body: web::Bytes, state: web::Data<State>) -> HttpResponse {
    let header = |name: &str| {
        request
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string()
    };
    let failing = state
        .failures_left
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
        .is_ok();
    let answered = if failing { 503 } else { 204 };
    tokio::time::sleep(state.delay).await;
    state.received.lock().unwrap().push(Received {
        id: header("webhook-id"),
        timestamp: header("webhook-timestamp"),
        signature: header("webhook-signature"),
        body: String::from_utf8_lossy(&body).into_owned(),
        answered,
    });
    if failing {
        HttpResponse::ServiceUnavailable().body("receiver down for maintenance")
    } else {
        HttpResponse::NoContent().finish()
    }
}

impl Receiver {
    /// A receiver whose first `failures` answers are 503.
    pub fn start(failures: usize) -> Self {
        Self::start_with(failures, Duration::ZERO)
    }

    /// A receiver that takes `delay` to answer each request.
    pub fn slow(delay: Duration) -> Self {
        Self::start_with(0, delay)
    }

    fn start_with(failures: usize, delay: Duration) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("a free port");
        let url = format!("http://{}/hooks/anct", listener.local_addr().unwrap());
        let state = Arc::new(State {
            delay,
            ..State::default()
        });
        state.failures_left.store(failures, Ordering::SeqCst);
        let data = web::Data::from(state.clone());
        let (sender, receiver) = mpsc::channel();
        let thread = thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            runtime.block_on(async move {
                let server = HttpServer::new(move || {
                    App::new()
                        .app_data(data.clone())
                        .default_service(web::post().to(receive))
                })
                .workers(2)
                .shutdown_timeout(0)
                .listen(listener)
                .expect("listens")
                .run();
                sender.send(server.handle()).expect("handle sent");
                let _ = server.await;
            });
        });
        let handle = receiver.recv().expect("receiver started");
        Self {
            url,
            state,
            handle,
            thread: Some(thread),
        }
    }

    /// From now on, answer 503 to the next `failures` requests.
    pub fn fail_next(&self, failures: usize) {
        self.state.failures_left.store(failures, Ordering::SeqCst);
    }

    pub fn received(&self) -> Vec<Received> {
        self.state.received.lock().unwrap().clone()
    }

    /// Waits (up to `patience`) until `done` holds for what was received; returns it.
    pub async fn wait_until(
        &self,
        patience: Duration,
        done: impl Fn(&[Received]) -> bool,
    ) -> Vec<Received> {
        let deadline = tokio::time::Instant::now() + patience;
        loop {
            let received = self.received();
            if done(&received) || tokio::time::Instant::now() >= deadline {
                return received;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        drop(self.handle.stop(false));
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

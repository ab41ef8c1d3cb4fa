//! env_logger set up so that every line written while a request is served carries its id.

use std::io::Write;

use crate::http::request_id;

/// Initialises logging from `RUST_LOG` (default `info`). Safe to call more than once.
pub fn init() {
    let _ = env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info"))
        .format(|buf, record| {
            let timestamp = buf.timestamp_millis();
            match request_id::current() {
                Some(id) => writeln!(
                    buf,
                    "{timestamp} {:<5} {} [request_id={id}] {}",
                    record.level(),
                    record.target(),
                    record.args()
                ),
                None => writeln!(
                    buf,
                    "{timestamp} {:<5} {} {}",
                    record.level(),
                    record.target(),
                    record.args()
                ),
            }
        })
        .try_init();
}

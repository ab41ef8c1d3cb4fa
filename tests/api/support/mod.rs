pub mod app;
pub mod browser;
pub mod database;
pub mod db_proxy;
pub mod fixtures;
pub mod private_postgres;
pub mod receiver;

pub use app::{Options, Reply, TestApp};

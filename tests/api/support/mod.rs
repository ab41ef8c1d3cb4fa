pub mod app;
pub mod database;
pub mod db_proxy;

pub use app::{Options, TestApp};

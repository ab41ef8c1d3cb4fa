//! Validated values shared by several resources: a request field becomes one of these before any
//! SQL runs, or the request is a 422 naming the field and the rule.

pub mod email;
pub mod insee;
pub mod siren;
pub mod text;

pub use email::Email;
pub use insee::{DepartmentCode, InseeCode, RegionCode};
pub use siren::Siren;

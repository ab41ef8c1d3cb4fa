//! What partners and ANCT staff take out of the service besides JSON:
//!
//! - `attendance`: a session's attendance sheet, CSV for French spreadsheets
//! - `calendar`: the sessions as an iCalendar feed to subscribe to
//! - `lheo`: the training catalogue in LHÉO, the French standard for training offers
//! - `xml`: the small XML writer LHÉO is written with

pub mod attendance;
pub mod calendar;
pub mod lheo;
pub mod xml;

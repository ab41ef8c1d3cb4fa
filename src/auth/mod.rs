//! Who may call the API: OAuth 2.0 client credentials, EdDSA-signed JWTs, scopes and
//! programme-restricted clients.
//!
//! - `scopes`: the permissions
//! - `clients`: API clients and their Argon2id-hashed secrets
//! - `client_states`: which clients are enabled, remembered per instance until a change is announced
//! - `keys`: the signing keys (database-held, rotated without downtime) and the JWK Set
//! - `tokens`: issuing and verifying access tokens
//! - `verified`: tokens already verified by this instance, remembered until they expire
//! - `caller`: the `Caller` extractor every protected handler takes first
//! - `rate_limit`: per-client request budget
//! - `handlers`: the token endpoint and the JWK Set

pub mod caller;
pub mod client_states;
pub mod clients;
pub mod handlers;
pub mod keys;
pub mod rate_limit;
pub mod scopes;
pub mod tokens;
pub mod verified;
pub mod visibility;

pub use caller::Caller;
pub use scopes::Scope;
pub use visibility::Visibility;

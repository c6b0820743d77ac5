//! Coffer: a self-hosted secrets manager that speaks the AWS Secrets Manager API.
//!
//! # Layout
//!
//! - [`cli`] parses the command line; [`config`] turns it into a validated [`config::Config`].
//! - [`server`] owns HTTP: one `POST /` route, the request path, graceful shutdown.
//! - [`protocol`] is the AWS contract (AWS JSON 1.1): operations, shapes, validation, errors.
//! - [`auth`] says who is calling (the SigV4 `Authorization` header).
//! - [`service`] holds every business rule; [`service::model`] the version and label rules.
//! - [`crypto`] holds the types that carry plaintext.
//! - [`audit`] is the audit trail: one CloudTrail-shaped event per call, never a secret.
//! - [`store`] persists secrets (embedded SQLite by default), with no business rules.
//! - [`policy`] parses IAM policy documents and runs the public-access and validation checks.
//! - [`jobs`] runs background work (the purge of deleted secrets) through the service.
//! - [`clock`] is the only reader of wall time.
//! - [`bench`] is `coffer bench`, a load generator for any Secrets Manager endpoint (a SigV4
//!   signing client; not used by the server).
//!
//! See ARCHITECTURE.md for the invariants that hold these together.

pub mod audit;
pub mod auth;
pub mod bench;
pub mod cli;
pub mod clock;
pub mod config;
pub mod crypto;
pub mod jobs;
pub mod policy;
pub mod protocol;
pub mod server;
pub mod service;
pub mod store;

//! Every decision of ngx-dash-auth, with no nginx dependency.
//!
//! The nginx module is a thin layer: it hands raw request bytes to
//! [`access::Policy::decide`] and turns the [`access::Decision`] into a status
//! and headers. Keeping the logic here means all of it is unit-tested without
//! linking nginx, and nothing in this crate may panic on request data: a panic
//! would abort an nginx worker.

#![forbid(unsafe_code)]

pub mod access;
pub mod basic;
pub mod basic_cache;
pub mod cookie;
pub mod dash;
pub mod endpoint;
pub mod grants;
pub mod hash;
pub mod login;
pub mod rate_limit;
pub mod return_path;
pub mod revocation;
pub mod section;
pub mod session;
pub mod shared_table;
pub mod syntax;
pub mod token;
pub mod users;

pub use access::{Decision, DenyReason, Identity, Policy, RequestView};

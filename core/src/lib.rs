//! Every decision of ngx-dash-auth, with no nginx dependency.
//!
//! The nginx module is a thin layer: once per phase it hands a plain view
//! of the request to [`Policy::decide`], [`Policy::decide_body`] or
//! [`Policy::reply_head`] / [`Policy::decide_reply`], and carries out the
//! [`Plan`] it gets back: headers, status, body, log line. Keeping the logic here means all of it is unit-tested without
//! linking nginx, and nothing in this crate may panic on request data: a panic
//! would abort an nginx worker.

#![forbid(unsafe_code)]

pub mod access;
pub mod basic;
pub mod basic_cache;
pub mod config;
pub mod cookie;
pub mod csrf;
pub mod dash;
pub mod decide;
pub mod device;
pub mod endpoint;
pub mod grants;
pub mod hash;
pub mod login;
pub mod oidc;
pub mod page;
pub mod password_check;
pub mod plan;
pub mod rate_limit;
pub mod refusal;
pub mod reply;
pub mod return_path;
pub mod revocation;
pub mod section;
pub mod session;
pub mod shared_table;
pub mod store;
pub mod syntax;
pub mod token;
pub mod users;

pub use access::{Decision, DenyReason, Identity, Policy, RequestView};
pub use plan::Plan;

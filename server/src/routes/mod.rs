//! The BFF's routes, one module per group.

pub mod auth;
pub mod backchannel;
pub mod health;
pub mod page;
pub mod server_fns;
pub mod session;

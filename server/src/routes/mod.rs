//! The BFF's own routes; the page and its server functions are Leptos'.

pub mod auth;
pub mod backchannel;
pub mod health;
pub mod page;
pub mod session;

//! The server: serves the Leptos app with `leptos-authgear`'s login (routes and layer), its own
//! health routes, logs and security headers.

// The app's view types are deep (typed, not boxed, children).
#![recursion_limit = "256"]

pub mod error_page;
pub mod every_response;
pub mod routes;
pub mod site;
pub mod startup;
pub mod telemetry;

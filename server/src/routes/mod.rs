//! The server's own routes, beside the app's pages and `leptos-authgear`'s login routes.

pub mod health;

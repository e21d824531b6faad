//! The backend-for-frontend: serves the Leptos app, runs the OpenID Connect flow as a
//! confidential client and keeps every token in the server-side session.

pub mod configuration;
pub mod error;
pub mod every_response;
pub mod logout_token;
pub mod oidc;
pub mod provider_http;
pub mod return_to;
pub mod routes;
pub mod same_origin;
pub mod startup;
pub mod stores;
pub mod telemetry;
pub mod tokens;

//! `GET /healthz` (the process answers) and `GET /readyz` (it can serve logins: the provider's
//! discovery is loaded and the session store answers), for load balancers and orchestrators.

use axum::http::StatusCode;
use axum::Json;
use leptos_authgear::server::Auth;
use serde_json::{json, Value};

pub async fn healthz() -> &'static str {
    "ok"
}

/// 200 or 503 with each part `"ok"` or `"not ready"`: the reason (an error text that may name
/// hosts, paths or the store's address) goes to the log only, not to whoever asks.
pub async fn readyz(auth: Auth) -> (StatusCode, Json<Value>) {
    let readiness = auth.readiness().await;
    let status = if readiness.is_ready() {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let mut public = serde_json::Map::new();
    for (part, result) in [
        ("provider", &readiness.provider),
        ("session_store", &readiness.session_store),
    ] {
        if let Err(error) = result {
            tracing::warn!(part, %error, "not ready");
        }
        let state = if result.is_ok() { "ok" } else { "not ready" };
        public.insert(part.to_owned(), json!(state));
    }
    (status, Json(Value::Object(public)))
}

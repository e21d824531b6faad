//! `GET /healthz` (the process answers) and `GET /readyz` (it can serve logins: the provider's
//! discovery is loaded and the session store answers), for load balancers and orchestrators.

use crate::startup::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde_json::{json, Value};

pub async fn healthz() -> &'static str {
    "ok"
}

pub async fn readyz(State(state): State<AppState>) -> (StatusCode, Json<Value>) {
    let provider = state.provider.client().await.map(|_| ());
    let store = state.sessions.ping().await;
    let status = if provider.is_ok() && store.is_ok() {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let describe = |result: Result<(), String>| match result {
        Ok(()) => json!("ok"),
        Err(error) => json!({ "error": error }),
    };
    let body = json!({
        "provider": describe(provider.map_err(|e| e.to_string())),
        "session_store": describe(store),
    });
    if status != StatusCode::OK {
        tracing::warn!(report = %body, "not ready");
    }
    (status, Json(body))
}

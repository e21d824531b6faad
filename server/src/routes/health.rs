//! `GET /healthz` (the process answers) and `GET /readyz` (it can serve logins: the provider's
//! discovery is loaded and the session store answers), for load balancers and orchestrators.

use axum::http::StatusCode;
use axum::Json;
use leptos_authgear::server::Auth;
use serde_json::{json, Value};

pub async fn healthz() -> &'static str {
    "ok"
}

pub async fn readyz(auth: Auth) -> (StatusCode, Json<Value>) {
    let readiness = auth.readiness().await;
    let status = if readiness.is_ready() {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let describe = |result: Result<(), String>| match result {
        Ok(()) => json!("ok"),
        Err(error) => json!({ "error": error }),
    };
    let body = json!({
        "provider": describe(readiness.provider),
        "session_store": describe(readiness.session_store),
    });
    if status != StatusCode::OK {
        tracing::warn!(report = %body, "not ready");
    }
    (status, Json(body))
}

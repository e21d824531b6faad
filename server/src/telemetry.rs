//! Logging: `tracing` to stderr, level from `RUST_LOG` (default `info`), human-readable or, with
//! `LOG_FORMAT=json`, one JSON object per line. Every request runs in a span carrying its
//! request id (the `x-request-id` it came with, if sane, else a new one), which each of its log
//! lines shows and the response echoes.
//!
//! Nothing at info level carries a token or secret: handlers log subjects and reasons only.

use axum::extract::Request;
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;
use std::io::IsTerminal;
use tracing::Instrument;
use tracing_subscriber::EnvFilter;

const REQUEST_ID: &str = "x-request-id";

pub fn init() {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,tower_sessions=warn"));
    let json = std::env::var("LOG_FORMAT").is_ok_and(|format| format.eq_ignore_ascii_case("json"));
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        // Colours only for a person at a terminal: not in files and journals (and formatting
        // them cost ≈ 2% of a page view, bench/README.md).
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr);
    if json {
        logs.json()
            .with_current_span(true)
            .with_span_list(false)
            .init();
    } else {
        logs.init();
    }
}

/// Runs the request in a `request` span with its id, method and path.
pub async fn request_span(mut request: Request, next: Next) -> Response {
    let id = request
        .headers()
        .get(REQUEST_ID)
        .and_then(|value| value.to_str().ok())
        .filter(|id| is_sane(id))
        .map(str::to_owned)
        .unwrap_or_else(new_id);
    if let Ok(value) = HeaderValue::from_str(&id) {
        request.headers_mut().insert(REQUEST_ID, value);
    }
    let span = tracing::info_span!(
        "request",
        id = %id,
        method = %request.method(),
        path = %request.uri().path(),
    );
    let mut response = next.run(request).instrument(span).await;
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(REQUEST_ID, value);
    }
    response
}

/// An incoming id is kept only if it cannot forge log lines or bloat them.
fn is_sane(id: &str) -> bool {
    (1..=64).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

/// 12 random bytes, base64url: 16 characters, unique enough to find one request's lines.
fn new_id() -> String {
    openidconnect::CsrfToken::new_random_len(12).into_secret()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_sane_incoming_ids_are_kept() {
        assert!(is_sane("3f2a-b_c.9"));
        for bad in ["", "a b", "x\ny", "ünï", &"a".repeat(65), "id\"}{"] {
            assert!(!is_sane(bad), "{bad:?}");
        }
        let id = new_id();
        assert!(is_sane(&id) && id.len() == 16, "{id}");
        assert_ne!(id, new_id());
    }
}

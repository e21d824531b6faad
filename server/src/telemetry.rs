//! Logging: `tracing` to stderr, level from `RUST_LOG` (default `info`), human-readable or, with
//! `LOG_FORMAT=json`, one JSON object per line. Every request runs in a span carrying its
//! request id (the `x-request-id` it came with, if sane, else a new one), which each of its log
//! lines shows and the response echoes.
//!
//! Nothing at info level carries a token or secret: handlers log subjects and reasons only.

use axum::extract::Request;
use axum::http::{HeaderName, HeaderValue};
use std::io::IsTerminal;
use tracing::Span;
use tracing_subscriber::EnvFilter;

pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

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

/// The `request` span for `request`, with its id, method and path; and that id, for the
/// response's `x-request-id` (see `every_response`).
pub fn request_span(request: &Request) -> (Span, HeaderValue) {
    let id = request
        .headers()
        .get(&REQUEST_ID)
        .filter(|id| id.to_str().is_ok_and(is_sane))
        .cloned()
        .unwrap_or_else(new_id);
    let span = tracing::info_span!(
        "request",
        id = %id.to_str().unwrap_or_default(),
        method = %request.method(),
        path = %request.uri().path(),
    );
    (span, id)
}

/// An incoming id is kept only if it cannot forge log lines or bloat them.
fn is_sane(id: &str) -> bool {
    (1..=64).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

/// 12 random bytes, base64url: 16 characters, unique enough to find one request's lines.
fn new_id() -> HeaderValue {
    HeaderValue::try_from(openidconnect::CsrfToken::new_random_len(12).into_secret())
        .unwrap_or(HeaderValue::from_static("no-id"))
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
        let text = id.to_str().expect("ascii");
        assert!(is_sane(text) && text.len() == 16, "{text}");
        assert_ne!(id, new_id());
    }
}

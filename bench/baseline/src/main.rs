//! The benchmark's bare baseline: a minimal axum handler returning a fixed small HTML page, on
//! the same tokio runtime, in the same release profile, on the same machine as the app
//! (`bench/run` starts both). Every figure of the app is read as a ratio of this one.
//!
//! `BARE_ADDR` (default `127.0.0.1:3299`). With `BARE_COPY_FILE`, `/copy` serves that file's
//! contents as another fixed page: `bench/run` gives it a copy of the app's guest page, to tell
//! the cost of the bytes on the wire from the cost of the app's work.
//!
//! `/session` is the floor under the app's session reads: the same session layer as the app
//! (tower-sessions, encrypted cookie, memory store) around a handler that reads one record of
//! the size of a signed-in user's and answers with part of it as JSON. `/session/new` creates
//! such a session. Nothing else of the app is there: no Leptos, no spans, no headers.
//!
//! `/events` is the floor under the app's `/session/events`: an idle server-sent event stream
//! with a keep-alive comment every 25 s, as the app's, that never says anything else.

use axum::http::StatusCode;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::Html;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Value};
use tower_sessions::cookie::Key;
use tower_sessions::{MemoryStore, Session, SessionManagerLayer};

const PAGE: &str = "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
    <title>Baseline</title></head><body><h1>Welcome Guest</h1>\
    <a id=\"qsLoginBtn\" href=\"/login\">Login</a></body></html>";

// The same allocator as the app, so that the comparison is of the work, not of malloc.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let addr = std::env::var("BARE_ADDR").unwrap_or_else(|_| "127.0.0.1:3299".into());
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    let copy: &'static str = match std::env::var("BARE_COPY_FILE") {
        Ok(path) => Box::leak(std::fs::read_to_string(path)?.into_boxed_str()),
        Err(_) => PAGE,
    };
    let sessions = SessionManagerLayer::new(MemoryStore::default())
        .with_name("session")
        .with_secure(false)
        .with_private(Key::derive_from(
            b"bare-baseline-only-0123456789abcdef0123456789",
        ));
    let app = Router::new()
        .route("/", get(|| async { Html(PAGE) }))
        .route("/copy", get(move || async move { Html(copy) }))
        .route("/session", get(read_session))
        .route("/session/new", get(new_session))
        .route("/events", get(idle_events))
        .layer(sessions);
    axum::serve(listener, app).await
}

async fn idle_events() -> Sse<impl futures::Stream<Item = Result<Event, std::convert::Infallible>>>
{
    Sse::new(futures::stream::pending())
        .keep_alive(KeepAlive::new().interval(std::time::Duration::from_secs(25)))
}

async fn read_session(session: Session) -> Result<Json<Value>, StatusCode> {
    let record = session
        .get_value("auth")
        .await
        .map_err(|_| StatusCode::INTERNAL_SERVER_ERROR)?
        .ok_or(StatusCode::UNAUTHORIZED)?;
    Ok(Json(record["user"]["claims"].clone()))
}

async fn new_session(session: Session) -> StatusCode {
    match session.insert("auth", signed_in_record()).await {
        Ok(()) => StatusCode::OK,
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// The shape and size of the app's record for a signed-in user.
fn signed_in_record() -> Value {
    let claims = json!({
        "email": "bench@example.com",
        "email_verified": true,
        "https://authgear.com/claims/user/is_anonymous": false,
        "https://authgear.com/claims/user/is_verified": true,
        "https://authgear.com/claims/user/roles": [],
        "sub": "12aceb8c-6179-c466-4ac4-795835f7084d",
    });
    json!({
        "user": {
            "subject": "12aceb8c-6179-c466-4ac4-795835f7084d",
            "sid": "uuDWpf-Pb7Hi5Mj9DoM440qgdd7m47SrSaz4al7Z6wf",
            "claims": {
                "display_name": "bench@example.com",
                "email": "bench@example.com",
                "email_verified": true,
                "pretty_json": serde_json::to_string_pretty(&claims).unwrap_or_default(),
            },
            "tokens": {
                "access_token": "a".repeat(43),
                "refresh_token": "r".repeat(43),
                "id_token": "i".repeat(1000),
                "access_token_expires_at": 1_795_836_231,
                "obtained_at": 1_795_834_431,
            },
            "refreshes": 0,
            "last_refreshed_at": null,
            "signed_in_at": 1_795_834_431,
            "last_seen_at": 1_795_834_512,
            "ends_at": 1_795_920_912,
        }
    })
}

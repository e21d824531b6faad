//! The benchmark's bare baseline: a minimal axum handler returning a fixed small HTML page, on
//! the same tokio runtime, in the same release profile, on the same machine as the app
//! (`bench/run` starts both). Every figure of the app is read as a ratio of this one.
//!
//! `BARE_ADDR` (default `127.0.0.1:3299`). With `BARE_COPY_FILE`, `/copy` serves that file's
//! contents as another fixed page: `bench/run` gives it a copy of the app's guest page, to tell
//! the cost of the bytes on the wire from the cost of the app's work.

use axum::response::Html;
use axum::routing::get;
use axum::Router;

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
    let app = Router::new()
        .route("/", get(|| async { Html(PAGE) }))
        .route("/copy", get(move || async move { Html(copy) }));
    axum::serve(listener, app).await
}

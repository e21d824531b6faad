//! Logging: `tracing` to stderr, level from `RUST_LOG` (default `info`).
//!
//! Nothing at info level carries a token or secret: handlers log subjects and reasons only.

use tracing_subscriber::EnvFilter;

pub fn init() {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,tower_sessions=warn"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .init();
}

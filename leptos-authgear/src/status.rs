//! The browser's question to `GET /session/status` (a plain JSON endpoint, not a server
//! function, so that it can be a cheap GET).

use serde::Deserialize;

#[derive(Deserialize)]
struct SessionStatus {
    signed_in: bool,
}

/// `Some(signed_in)`, or `None` when the server could not be asked (offline, restarting):
/// then nothing is concluded.
pub async fn signed_in(path: &str) -> Option<bool> {
    let response = gloo_net::http::Request::get(path).send().await.ok()?;
    if !response.ok() {
        return None;
    }
    // From bytes, as server functions read their answers (`json()` would compile a second JSON
    // reader into the bundle).
    let status: SessionStatus = serde_json::from_slice(&response.binary().await.ok()?).ok()?;
    Some(status.signed_in)
}

//! The browser's question to `GET /session/status` (a plain JSON endpoint, not a server
//! function, so that it can be a cheap GET).

/// The answer's beginning for a signed-in browser and for a guest: the server writes
/// `{"signed_in":true,…}` or `{"signed_in":false}` (`server/routes/status.rs`, whose test holds it
/// to these). Read by its beginning, not by a JSON reader of its own: each struct serde reads
/// adds its own code to the bundle (bench/README.md).
pub(crate) const SIGNED_IN: &[u8] = b"{\"signed_in\":true";
pub(crate) const GUEST: &[u8] = b"{\"signed_in\":false";

/// `Some(signed_in)`, or `None` when the server could not be asked (offline, restarting) or
/// answered something else: then nothing is concluded.
#[cfg(feature = "hydrate")]
pub async fn signed_in(path: &str) -> Option<bool> {
    let response = gloo_net::http::Request::get(path).send().await.ok()?;
    if !response.ok() {
        return None;
    }
    let body = response.binary().await.ok()?;
    if body.starts_with(SIGNED_IN) {
        Some(true)
    } else if body.starts_with(GUEST) {
        Some(false)
    } else {
        None
    }
}

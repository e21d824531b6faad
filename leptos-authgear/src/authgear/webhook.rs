//! `POST /webhooks/authgear` (`AUTHGEAR_WEBHOOK_PATH`): Authgear's signed events that end app
//! sessions. Authgear sends no back-channel logout; it tells an app that sessions ended with
//! these (`docs/specs/event.md` and `hook.md` in authgear-server):
//!
//! - `user.signed_out`, `user.session.terminated` (`individual`, `all_except_current`): the
//!   listed Authgear sessions ended; every app session whose ID token's `sid` is
//!   `base64url_no_padding("<type>:<id>")` of one of them ends.
//! - `user.session.terminated` with `all`, `user.disabled`, `user.deleted`: every app session of
//!   the user (`payload.user.id`, the ID token's `sub`) ends.
//!
//! Authgear may deliver an event more than once and late (it retries for days, with the same
//! `context.timestamp`), so an event never ends a session signed in after its timestamp. The
//! body is checked against `x-authgear-body-signature` (hex HMAC-SHA256 under the webhook
//! secret, compared in constant time) before anything in it is read.

use crate::server::configuration::WebhookSettings;
use crate::server::security_headers::NO_STORE;
use crate::server::stores::Sessions;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use secrecy::ExposeSecret;
use serde::Deserialize;
use serde_json::value::RawValue;
use sha2::Sha256;

/// The header that carries the body's signature.
const SIGNATURE_HEADER: &str = "x-authgear-body-signature";

/// The largest body read: Authgear's events are a few kilobytes (the user's profile).
pub(crate) const MAX_BODY_BYTES: usize = 256 * 1024;

/// Seconds Authgear is asked to wait before delivering again, after a store failure.
const RETRY_AFTER_SECS: &str = "30";

/// An event, as far as this module reads it; every other field is ignored.
#[derive(Deserialize)]
struct Event<'a> {
    #[serde(rename = "type")]
    kind: String,
    #[serde(borrow)]
    payload: Option<&'a RawValue>,
    context: Context,
}

#[derive(Deserialize)]
struct Context {
    /// When the event happened (Unix seconds); the same on every delivery.
    timestamp: i64,
}

#[derive(Deserialize)]
struct Payload {
    user: UserRef,
    #[serde(default)]
    sessions: Vec<SessionRef>,
    termination_type: Option<String>,
}

#[derive(Deserialize)]
struct UserRef {
    id: String,
}

#[derive(Deserialize)]
struct SessionRef {
    id: String,
    #[serde(rename = "type")]
    kind: String,
}

/// Which app sessions an event ends.
#[derive(Debug, PartialEq, Eq)]
enum Ending {
    /// Those signed in under these Authgear sessions (the ID tokens' `sid`s), of this user.
    Sessions { sub: String, sids: Vec<String> },
    /// Every session of this user.
    User { sub: String },
}

impl Ending {
    /// The user whose sessions end.
    fn sub(&self) -> &str {
        match self {
            Ending::Sessions { sub, .. } | Ending::User { sub } => sub,
        }
    }

    /// The deletions to make: one per listed `sid`, or one (`None`) for all of the user's.
    fn sids(&self) -> Vec<Option<&str>> {
        match self {
            Ending::Sessions { sids, .. } => sids.iter().map(|sid| Some(sid.as_str())).collect(),
            Ending::User { .. } => vec![None],
        }
    }
}

/// Why a delivery is refused.
#[derive(Debug, thiserror::Error)]
pub(crate) enum WebhookError {
    #[error("missing or wrong signature")]
    Signature,
    #[error("not an Authgear event: {0}")]
    Malformed(String),
    #[error("session store unavailable: {0}")]
    Store(String),
}

impl IntoResponse for WebhookError {
    fn into_response(self) -> Response {
        match self {
            WebhookError::Signature => {
                tracing::warn!("Authgear webhook refused: {self}");
                (StatusCode::UNAUTHORIZED, [NO_STORE]).into_response()
            }
            WebhookError::Malformed(_) => {
                tracing::warn!("Authgear webhook refused: {self}");
                (StatusCode::BAD_REQUEST, [NO_STORE]).into_response()
            }
            WebhookError::Store(_) => {
                tracing::error!("Authgear webhook not handled, Authgear will retry: {self}");
                let retry = (header::RETRY_AFTER, RETRY_AFTER_SECS);
                (StatusCode::SERVICE_UNAVAILABLE, [NO_STORE, retry]).into_response()
            }
        }
    }
}

/// What the route needs, and no more: its secret, how far Authgear's clock may be off, and the
/// sessions it ends.
#[derive(Clone)]
pub(crate) struct Webhooks {
    pub(crate) settings: WebhookSettings,
    pub(crate) clock_skew: std::time::Duration,
    pub(crate) sessions: Sessions,
}

/// The route's handler (the body is capped at [`MAX_BODY_BYTES`] by the route's layer).
pub(crate) async fn receive(
    State(webhooks): State<Webhooks>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<StatusCode, WebhookError> {
    verify_signature(
        webhooks.settings.secret.expose_secret().as_bytes(),
        &body,
        headers.get(SIGNATURE_HEADER).map(|value| value.as_bytes()),
    )?;
    let event: Event<'_> = serde_json::from_slice(&body)
        .map_err(|error| WebhookError::Malformed(error.to_string()))?;
    let Some(ending) = ending(&event)? else {
        tracing::debug!(kind = %event.kind, "Authgear webhook: an event that ends no session, ignored");
        return Ok(StatusCode::OK);
    };
    let signed_in_by = Some(cutoff(event.context.timestamp, webhooks.clock_skew));
    let mut deleted = 0;
    for sid in ending.sids() {
        deleted += webhooks
            .sessions
            .delete_matching(Some(ending.sub()), sid, signed_in_by)
            .await
            .map_err(|error| WebhookError::Store(error.to_string()))?;
    }
    tracing::info!(kind = %event.kind, ?ending, deleted, "Authgear webhook: sessions ended");
    Ok(StatusCode::OK)
}

/// The latest login time (our clock) an event at `timestamp` (Authgear's clock) ends: moved
/// later by the `skew` the clocks may differ by, so that a session signed in just before the
/// event ends even when our clock is ahead (a login just after it, within the skew, ends too:
/// the safe side; that user signs in again).
fn cutoff(timestamp: i64, skew: std::time::Duration) -> i64 {
    timestamp.saturating_add(i64::try_from(skew.as_secs()).unwrap_or(i64::MAX))
}

/// Checks `signature` (hex) against the HMAC-SHA256 of `body` under `secret`, in constant time.
fn verify_signature(
    secret: &[u8],
    body: &[u8],
    signature: Option<&[u8]>,
) -> Result<(), WebhookError> {
    let signature = signature
        .and_then(|hex_text| hex::decode(hex_text).ok())
        .ok_or(WebhookError::Signature)?;
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).map_err(|_| WebhookError::Signature)?;
    mac.update(body);
    mac.verify_slice(&signature)
        .map_err(|_| WebhookError::Signature)
}

/// What `event` ends, or `None` for an event that ends no session (of a type this app does not
/// act on, or future ones).
fn ending(event: &Event<'_>) -> Result<Option<Ending>, WebhookError> {
    let ends_sessions = matches!(
        event.kind.as_str(),
        "user.signed_out" | "user.session.terminated" | "user.disabled" | "user.deleted"
    );
    if !ends_sessions {
        return Ok(None);
    }
    let payload: Payload = event
        .payload
        .map(|payload| serde_json::from_str(payload.get()))
        .ok_or_else(|| WebhookError::Malformed("no payload".into()))?
        .map_err(|error| WebhookError::Malformed(error.to_string()))?;
    let sub = payload.user.id;
    let whole_user = match event.kind.as_str() {
        "user.disabled" | "user.deleted" => true,
        _ => payload.termination_type.as_deref() == Some("all"),
    };
    Ok(Some(if whole_user {
        Ending::User { sub }
    } else {
        let sids = payload.sessions.iter().map(authgear_sid).collect();
        Ending::Sessions { sub, sids }
    }))
}

/// The `sid` Authgear puts in ID tokens of this session: `base64url_no_padding("<type>:<id>")`
/// (`pkg/lib/oauth/sid.go`).
fn authgear_sid(session: &SessionRef) -> String {
    URL_SAFE_NO_PAD.encode(format!("{}:{}", session.kind, session.id))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sign(secret: &[u8], body: &[u8]) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("any key");
        mac.update(body);
        hex::encode(mac.finalize().into_bytes())
    }

    #[test]
    fn the_cut_off_errs_on_the_safe_side_by_the_skew() {
        use std::time::Duration;
        // Authgear's clock 30 s behind ours: a session we signed in at 1,000 (before the event,
        // which Authgear stamps 975) still ends.
        let signed_in_at = 1_000;
        assert!(signed_in_at <= cutoff(975, Duration::from_secs(60)));
        assert!(
            signed_in_at > cutoff(975, Duration::ZERO),
            "without the skew, it stayed"
        );
        assert_eq!(cutoff(i64::MAX - 1, Duration::from_secs(60)), i64::MAX);
    }

    #[test]
    fn only_the_right_signature_of_the_exact_body_passes() {
        let body = br#"{"type":"user.disabled"}"#;
        let good = sign(b"secret", body);
        assert!(verify_signature(b"secret", body, Some(good.as_bytes())).is_ok());
        assert!(verify_signature(b"secret", body, Some(good.to_uppercase().as_bytes())).is_ok());
        for bad in [
            None,
            Some(""),
            Some("zz"),
            Some(&good[..good.len() - 2]),
            Some(sign(b"other", body).as_str()),
            Some(sign(b"secret", b"{}").as_str()),
        ] {
            let bad = bad.map(str::as_bytes);
            assert!(verify_signature(b"secret", body, bad).is_err(), "{bad:?}");
        }
    }

    fn ending_of(json: serde_json::Value) -> Result<Option<Ending>, WebhookError> {
        let text = json.to_string();
        let event: Event<'_> = serde_json::from_str(&text).expect("event");
        ending(&event)
    }

    fn event(kind: &str, payload: serde_json::Value) -> serde_json::Value {
        serde_json::json!({
            "id": "e1", "seq": 7, "type": kind, "payload": payload,
            "context": { "timestamp": 1_700_000_000, "triggered_by": "user", "new_field": [1] }
        })
    }

    #[test]
    fn listed_sessions_end_by_authgears_sid() {
        let payload = serde_json::json!({
            "user": { "id": "u1", "standard_attributes": {} },
            "sessions": [{ "id": "s1", "type": "idp", "display_name": "Chrome" },
                         { "id": "s2", "type": "offline_grant" }],
        });
        let expected = Ending::Sessions {
            sub: "u1".into(),
            // base64url("idp:s1"), base64url("offline_grant:s2"), no padding.
            sids: vec!["aWRwOnMx".into(), "b2ZmbGluZV9ncmFudDpzMg".into()],
        };
        let signed_out = ending_of(event("user.signed_out", payload.clone()));
        assert_eq!(signed_out.expect("ok"), Some(expected));
        for termination in ["individual", "all_except_current"] {
            let mut payload = payload.clone();
            payload["termination_type"] = termination.into();
            let ended = ending_of(event("user.session.terminated", payload)).expect("ok");
            assert!(
                matches!(ended, Some(Ending::Sessions { .. })),
                "{termination}"
            );
        }
    }

    #[test]
    fn whole_users_end_on_all_disabled_and_deleted() {
        let user = Some(Ending::User { sub: "u1".into() });
        let payload = serde_json::json!({ "user": { "id": "u1" }, "sessions": [],
                                          "termination_type": "all" });
        let all = ending_of(event("user.session.terminated", payload)).expect("ok");
        assert_eq!(all, user);
        for kind in ["user.disabled", "user.deleted"] {
            let ended = ending_of(event(kind, serde_json::json!({ "user": { "id": "u1" } })));
            assert_eq!(ended.expect("ok"), user, "{kind}");
        }
    }

    #[test]
    fn other_events_are_ignored_and_broken_ones_refused() {
        let created = event("user.created", serde_json::json!({ "anything": [] }));
        assert_eq!(ending_of(created).expect("ok"), None);
        let future = event("some.future.event", serde_json::json!(null));
        assert_eq!(ending_of(future).expect("ok"), None);
        let no_user = event("user.disabled", serde_json::json!({ "sessions": [] }));
        assert!(ending_of(no_user).is_err());
        assert!(serde_json::from_str::<Event<'_>>(r#"{"type":"user.disabled"}"#).is_err());
    }
}

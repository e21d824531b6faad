//! The user's own sessions, "your devices": listed with opaque handles, ended one at a time or
//! all but this browser's. The list is found by the verified subject of this browser's session,
//! and every record in it is checked to be that subject's (`Sessions::of_subject`): nobody can
//! see or end another user's sessions. A session's id never leaves the server; its handle is a
//! keyed hash of it, which names it to [`end_session`] and to nothing else.

use super::error::store_error;
use super::functions::{bad_request, not_signed_in, recent_login, request_session};
use super::session::{record_user, AuthSession};
use super::Auth;
use crate::{AuthError, SessionInfo};
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use tower_sessions::cookie::Key;
use tower_sessions::session::{Id, Record};
use tower_sessions::SessionStore;

/// This browser's and the user's other live sessions, this browser's first, then the most
/// recently active. Counts as activity. [`AuthError::NotSignedIn`] answers 401.
pub async fn list_sessions() -> Result<Vec<SessionInfo>, AuthError> {
    let (auth, session) = request_session()?;
    let user = session.active_user().await.map_err(store_error)?;
    let Some(user) = user else {
        return Err(not_signed_in(AuthError::NotSignedIn));
    };
    let records = sessions_of(&auth, &user.subject).await?;
    let this = session.session_id();
    let mut sessions: Vec<SessionInfo> = records
        .iter()
        .filter_map(|record| {
            let user = record_user(&record.data)?;
            Some(SessionInfo {
                handle: handle(auth.cookie_key(), &record.id),
                device: user
                    .device
                    .clone()
                    .unwrap_or_else(|| UNKNOWN_DEVICE.to_owned()),
                signed_in_at: user.signed_in_at,
                last_active_at: user.last_seen_at,
                this_browser: Some(record.id) == this,
            })
        })
        .collect();
    sessions.sort_by_key(|info| (!info.this_browser, -info.last_active_at));
    Ok(sessions)
}

/// Ends the user's session that `handle` names (from [`list_sessions`]): its record is deleted,
/// its open pages turn to the guest view within seconds, and its refresh token is revoked at
/// the provider. A handle that names none of the user's live sessions (ended already, or not
/// theirs) ends nothing and is not an error; one that cannot be a handle is
/// [`AuthError::Call`] (400). Needs a recent login when the settings say so
/// (`RECENT_LOGIN_TO_END_SESSIONS`).
pub async fn end_session(handle: &str) -> Result<(), AuthError> {
    if !is_handle(handle) {
        return Err(bad_request("not a session handle"));
    }
    let (auth, session) = request_session()?;
    let subject = allowed_to_end(&auth, &session).await?;
    let records = sessions_of(&auth, &subject).await?;
    let named = records
        .into_iter()
        .filter(|record| self::handle(auth.cookie_key(), &record.id) == handle);
    end(&auth, named.collect()).await
}

/// Ends every session of the user but this browser's (as [`end_session`] ends one), e.g. after
/// a lost phone. Returns how many it ended.
pub async fn end_other_sessions() -> Result<usize, AuthError> {
    let (auth, session) = request_session()?;
    let subject = allowed_to_end(&auth, &session).await?;
    let this = session.session_id();
    let others: Vec<Record> = sessions_of(&auth, &subject)
        .await?
        .into_iter()
        .filter(|record| Some(record.id) != this)
        .collect();
    let count = others.len();
    end(&auth, others).await?;
    Ok(count)
}

/// The signed-in subject, if this session may end sessions: signed in, and recently enough
/// when the settings ask for it.
async fn allowed_to_end(auth: &Auth, session: &AuthSession) -> Result<String, AuthError> {
    let user = match auth.settings().session.recent_login_to_end_sessions {
        Some(max_age) => recent_login(session, max_age).await?,
        None => session
            .active_user()
            .await
            .map_err(store_error)?
            .ok_or_else(|| not_signed_in(AuthError::NotSignedIn))?,
    };
    Ok(user.subject.clone())
}

async fn sessions_of(auth: &Auth, subject: &str) -> Result<Vec<Record>, AuthError> {
    auth.0
        .sessions
        .of_subject(subject)
        .await
        .map_err(store_error)
}

/// Deletes `records` (which tells their pages) and revokes their refresh tokens (best effort,
/// as at logout: the sessions are gone either way).
async fn end(auth: &Auth, records: Vec<Record>) -> Result<(), AuthError> {
    let mut refresh_tokens = Vec::new();
    for record in records {
        auth.0
            .sessions
            .delete(&record.id)
            .await
            .map_err(store_error)?;
        if let Some(user) = record_user(&record.data) {
            tracing::info!(subject = %user.subject, "session ended from the user's list");
            refresh_tokens.extend(user.tokens.refresh_token.clone());
        }
    }
    if refresh_tokens.is_empty() {
        return Ok(());
    }
    match auth.provider().client().await {
        Ok(client) => {
            for token in &refresh_tokens {
                client.revoke(token).await;
            }
        }
        Err(error) => {
            tracing::warn!(%error, "cannot reach the provider to revoke the ended sessions' tokens")
        }
    }
    Ok(())
}

/// What a session signed in without a User-Agent is called.
const UNKNOWN_DEVICE: &str = "Unknown browser";

/// Bytes of the keyed hash a handle keeps: 128 bits, 22 characters of URL-safe base64.
const HANDLE_BYTES: usize = 16;
const HANDLE_LEN: usize = 22;

/// The handle of session `id`: HMAC-SHA256 of it under the app's cookie-signing key.
fn handle(key: &Key, id: &Id) -> String {
    let mac = Hmac::<Sha256>::new_from_slice(key.signing())
        .map(|mac| {
            mac.chain_update(b"leptos-authgear session handle\0")
                .chain_update(id.to_string().as_bytes())
                .finalize()
                .into_bytes()
        })
        .unwrap_or_default();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&mac[..HANDLE_BYTES])
}

fn is_handle(text: &str) -> bool {
    text.len() == HANDLE_LEN
        && text
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || byte == b'-' || byte == b'_')
}

/// A coarse label for the browser of `user_agent`, e.g. "Firefox on Windows": the browser's and
/// the system's names only (no versions), enough for a person to recognise their devices.
pub(crate) fn device_label(user_agent: &str) -> String {
    let has = |needle: &str| user_agent.contains(needle);
    let browser = if has("Edg/") {
        Some("Edge")
    } else if has("OPR/") || has("Opera") {
        Some("Opera")
    } else if has("Firefox/") || has("FxiOS/") {
        Some("Firefox")
    } else if has("Chrome/") || has("CriOS/") || has("Chromium/") {
        Some("Chrome")
    } else if has("Safari/") {
        Some("Safari")
    } else {
        None
    };
    let system = if has("iPhone") {
        Some("iPhone")
    } else if has("iPad") {
        Some("iPad")
    } else if has("Android") {
        Some("Android")
    } else if has("Windows") {
        Some("Windows")
    } else if has("CrOS") {
        Some("ChromeOS")
    } else if has("Mac OS X") || has("Macintosh") {
        Some("macOS")
    } else if has("Linux") {
        Some("Linux")
    } else {
        None
    };
    match (browser, system) {
        (Some(browser), Some(system)) => format!("{browser} on {system}"),
        (Some(browser), None) => browser.to_owned(),
        (None, Some(system)) => format!("A browser on {system}"),
        (None, None) => UNKNOWN_DEVICE.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn devices_are_named_coarsely() {
        let cases = [
            ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/131.0.0.0 Safari/537.36", "Chrome on Linux"),
            ("Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0", "Firefox on Windows"),
            ("Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1", "Safari on iPhone"),
            ("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0", "Edge on macOS"),
            ("Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36", "Chrome on Android"),
            ("curl/8.5.0", UNKNOWN_DEVICE),
            ("", UNKNOWN_DEVICE),
        ];
        for (agent, label) in cases {
            assert_eq!(device_label(agent), label, "{agent}");
        }
    }

    #[test]
    fn a_handle_names_one_session_under_one_key_and_reveals_nothing_of_its_id() {
        let (key, other_key) = (Key::derive_from(&[7; 64]), Key::derive_from(&[8; 64]));
        let (id, other_id) = (Id::default(), Id::default());
        let named = handle(&key, &id);
        assert!(is_handle(&named), "{named}");
        assert_eq!(named, handle(&key, &id));
        assert_ne!(named, handle(&key, &other_id));
        assert_ne!(named, handle(&other_key, &id));
        assert!(!named.contains(&id.to_string()));
    }

    #[test]
    fn only_what_a_handle_can_be_is_looked_up() {
        assert!(is_handle("abcdefghijklmnopqrs-_0"));
        for text in [
            "",
            "short",
            "abcdefghijklmnopqrs-_0x",
            "abcdefghijklmnopqrs+/0",
            "é",
        ] {
            assert!(!is_handle(text), "{text}");
        }
    }
}

//! What the crate's benchmark tools need to fill a store the way logins would, without logins:
//! a signed-in record of this version's shape and realistic size, and the cookie a browser
//! would hold for it. Behind `__bench`: not part of the API.

use super::session::{SessionData, SignedInUser, TokenSet, UserClaims};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use std::sync::Arc;
use tower_sessions::cookie::time::OffsetDateTime;
use tower_sessions::cookie::Key;
use tower_sessions::session::{Id, Record};

/// User `n` signed in at `signed_in_at` (Unix time), its record expiring at `ends_at`: claims as
/// Authgear sends them for an email + passwordless user, an access token of Authgear's size
/// (a JWT of about 900 bytes) and an ID token carrying the claims.
pub fn signed_in_record(n: usize, signed_in_at: i64, ends_at: i64) -> Record {
    let subject = format!("bench-{n:08}-6179-c466-4ac4-795835f7084d");
    let claims = serde_json::json!({
        "sub": subject,
        "email": format!("user-{n}@example.com"),
        "email_verified": true,
        "https://authgear.com/claims/user/is_anonymous": false,
        "https://authgear.com/claims/user/is_verified": true,
        "https://authgear.com/claims/user/can_reauthenticate": true,
        "https://authgear.com/claims/user/roles": [],
    });
    let jwt = |payload: &str| {
        format!(
            "{}.{}.{}",
            URL_SAFE_NO_PAD.encode(r#"{"alg":"RS256","kid":"bench","typ":"JWT"}"#),
            URL_SAFE_NO_PAD.encode(payload),
            "s".repeat(342)
        )
    };
    let id_token = jwt(&format!(
        r#"{{"iss":"https://bench.authgear.cloud","aud":["bench"],"iat":{signed_in_at},"exp":{},"auth_time":{signed_in_at},"sid":"sid-{n}","claims":{claims}}}"#,
        signed_in_at + 3600
    ));
    let access_token = jwt(&format!(
        r#"{{"iss":"https://bench.authgear.cloud","sub":"{subject}","client_id":"bench","jti":"{}","iat":{signed_in_at},"exp":{}}}"#,
        "j".repeat(300),
        signed_in_at + 1800
    ));
    let serde_json::Value::Object(claims) = claims else {
        unreachable!("an object literal")
    };
    let user = SignedInUser {
        claims: UserClaims::new(&subject, &claims),
        subject,
        sid: Some(format!("sid-{n}")),
        tokens: TokenSet {
            access_token,
            refresh_token: Some(format!("{n:043}")),
            id_token,
            access_token_expires_at: Some(signed_in_at + 1800),
            obtained_at: signed_in_at,
        },
        refreshes: 0,
        last_refreshed_at: None,
        signed_in_at,
        last_seen_at: signed_in_at,
        ends_at,
        // As a login through a browser records them.
        auth_time: Some(signed_in_at),
        device: Some("Chrome on Linux".to_owned()),
    };
    Record {
        id: Id::default(),
        data: SessionData::signed_in(Arc::new(user)).into_record_data(),
        expiry_date: OffsetDateTime::from_unix_timestamp(ends_at)
            .unwrap_or_else(|_| OffsetDateTime::now_utc()),
    }
}

/// The `Cookie` header value (`name=value`) a browser holds for session `id` of an app with
/// `secret_key` (`APP_SECRET_KEY`), served over https or not: the id encrypted as the session
/// layer does it.
pub fn session_cookie(secret_key: &str, https: bool, id: &Id) -> String {
    super::session::session_cookie(&Key::derive_from(secret_key.as_bytes()), https, id)
}

//! OpenID Connect Back-Channel Logout 1.0, §2.6: verifying a logout token.
//!
//! openidconnect verifies ID tokens but not logout tokens, whose rules differ (no `nonce`,
//! an `events` claim, `sub` and/or `sid`, no `exp` required). The signature check uses the
//! same JWKS and algorithms as ID tokens, through openidconnect's `JsonWebKey`.

use crate::server::provider_key::ProviderKey;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use openidconnect::core::CoreJwsSigningAlgorithm;
use openidconnect::JsonWebKey;
use serde::Deserialize;
use serde_json::Value;

const BACKCHANNEL_LOGOUT_EVENT: &str = "http://schemas.openid.net/event/backchannel-logout";
/// Clock skew allowed on `iat` and `exp`.
const SKEW_SECS: i64 = 60;
/// A logout token older than this is refused: it cannot be told apart from a replay once its
/// `jti` has left the replay cache.
pub const MAX_AGE_SECS: i64 = 10 * 60;

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum LogoutTokenError {
    #[error("not a signed JWT")]
    Malformed,
    #[error("algorithm not allowed")]
    Algorithm,
    #[error("signature invalid")]
    Signature,
    /// No key of the provider's JWKS has the token's `kid`: after a key rotation, discovery is
    /// done again (rate-limited) before this is final.
    #[error("signed with a key that is not in the provider's JWKS")]
    UnknownKey,
    #[error("wrong issuer")]
    Issuer,
    #[error("audience does not contain this client")]
    Audience,
    #[error("iat missing, in the future or too old")]
    IssuedAt,
    #[error("expired")]
    Expired,
    #[error("events claim lacks the back-channel logout event")]
    Events,
    #[error("logout tokens must not carry a nonce")]
    Nonce,
    #[error("neither sub nor sid")]
    NoSubject,
    #[error("jti missing")]
    NoJti,
}

pub struct Expected<'a> {
    pub issuer: &'a str,
    pub client_id: &'a str,
    pub keys: &'a [ProviderKey],
    pub algorithms: &'a [CoreJwsSigningAlgorithm],
    pub now: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogoutClaims {
    pub sub: Option<String>,
    pub sid: Option<String>,
    pub jti: String,
    pub iat: i64,
}

#[derive(Deserialize)]
struct Header {
    alg: CoreJwsSigningAlgorithm,
    kid: Option<String>,
}

pub fn verify(token: &str, expected: Expected<'_>) -> Result<LogoutClaims, LogoutTokenError> {
    use LogoutTokenError::*;
    let mut parts = token.split('.');
    let (Some(header), Some(payload), Some(signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(Malformed);
    };
    let header: Header = decode_json(header).ok_or(Malformed)?;
    // Only the provider's advertised asymmetric algorithms: never `none`, never HMAC.
    let asymmetric = !matches!(
        header.alg,
        CoreJwsSigningAlgorithm::None
            | CoreJwsSigningAlgorithm::HmacSha256
            | CoreJwsSigningAlgorithm::HmacSha384
            | CoreJwsSigningAlgorithm::HmacSha512
    );
    if !asymmetric || !expected.algorithms.contains(&header.alg) {
        return Err(Algorithm);
    }
    let signature = URL_SAFE_NO_PAD.decode(signature).map_err(|_| Malformed)?;
    let message = &token.as_bytes()[..header_and_payload_len(token)];
    let mut candidates = expected
        .keys
        .iter()
        .filter(|key| match (&header.kid, key.key_id()) {
            (Some(kid), Some(key_id)) => kid.as_str() == key_id.as_str(),
            _ => true,
        })
        .peekable();
    if candidates.peek().is_none() {
        return Err(UnknownKey);
    }
    let verified = candidates.any(|key| {
        key.verify_signature(&header.alg, message, &signature)
            .is_ok()
    });
    if !verified {
        return Err(Signature);
    }

    let claims: serde_json::Map<String, Value> = decode_json(payload).ok_or(Malformed)?;
    let text = |name: &str| claims.get(name).and_then(Value::as_str).map(str::to_owned);
    if text("iss").as_deref() != Some(expected.issuer) {
        return Err(Issuer);
    }
    let audience_ok = match claims.get("aud") {
        Some(Value::String(aud)) => aud == expected.client_id,
        Some(Value::Array(auds)) => auds
            .iter()
            .any(|aud| aud.as_str() == Some(expected.client_id)),
        _ => false,
    };
    if !audience_ok {
        return Err(Audience);
    }
    let iat = claims.get("iat").and_then(Value::as_i64).ok_or(IssuedAt)?;
    check_times(iat, claims.get("exp"), expected.now)?;
    let has_event = claims
        .get("events")
        .and_then(Value::as_object)
        .and_then(|events| events.get(BACKCHANNEL_LOGOUT_EVENT))
        .is_some_and(Value::is_object);
    if !has_event {
        return Err(Events);
    }
    if claims.contains_key("nonce") {
        return Err(Nonce);
    }
    let (sub, sid) = (text("sub"), text("sid"));
    if sub.is_none() && sid.is_none() {
        return Err(NoSubject);
    }
    let jti = text("jti").ok_or(NoJti)?;
    Ok(LogoutClaims { sub, sid, jti, iat })
}

/// One claim of a JWT's payload, *without* checking the signature: only for tokens that were
/// verified already.
pub fn payload_claim(jwt: &str, name: &str) -> Option<String> {
    let claims: serde_json::Map<String, Value> = decode_json(jwt.split('.').nth(1)?)?;
    claims.get(name)?.as_str().map(str::to_owned)
}

fn header_and_payload_len(token: &str) -> usize {
    token.rfind('.').unwrap_or(token.len())
}

fn decode_json<T: serde::de::DeserializeOwned>(segment: &str) -> Option<T> {
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(segment).ok()?).ok()
}

/// `iat` neither in the future (beyond the skew) nor too old; `exp`, if present, a number not
/// past. Saturating arithmetic: the numbers are the sender's.
fn check_times(iat: i64, exp: Option<&Value>, now: i64) -> Result<(), LogoutTokenError> {
    if iat > now.saturating_add(SKEW_SECS) || iat < now.saturating_sub(MAX_AGE_SECS) {
        return Err(LogoutTokenError::IssuedAt);
    }
    if let Some(exp) = exp {
        if exp
            .as_i64()
            .is_none_or(|exp| exp.saturating_add(SKEW_SECS) < now)
        {
            return Err(LogoutTokenError::Expired);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extreme_times_are_refused_or_accepted_without_overflow() {
        let now = 1_000_000;
        let number = |n: i64| serde_json::json!(n);
        assert_eq!(check_times(now, None, now), Ok(()));
        assert_eq!(check_times(now, Some(&number(i64::MAX)), now), Ok(()));
        for iat in [
            i64::MAX,
            i64::MIN,
            now + SKEW_SECS + 1,
            now - MAX_AGE_SECS - 1,
        ] {
            assert_eq!(
                check_times(iat, None, now),
                Err(LogoutTokenError::IssuedAt),
                "{iat}"
            );
        }
        for exp in [
            number(i64::MIN),
            number(now - SKEW_SECS - 1),
            serde_json::json!(1e300),
        ] {
            assert_eq!(
                check_times(now, Some(&exp), now),
                Err(LogoutTokenError::Expired),
                "{exp}"
            );
        }
        // Near the ends of time, too.
        assert_eq!(check_times(i64::MAX, None, i64::MAX), Ok(()));
        assert_eq!(check_times(i64::MIN, None, i64::MIN), Ok(()));
    }

    fn expected() -> Expected<'static> {
        Expected {
            issuer: "https://issuer.example",
            client_id: "client",
            keys: &[],
            algorithms: &[CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256],
            now: 1_000_000,
        }
    }

    fn segment(value: serde_json::Value) -> String {
        URL_SAFE_NO_PAD.encode(value.to_string())
    }

    #[test]
    fn malformed_tokens_are_refused() {
        for token in ["", "a.b", "a.b.c.d", "!!.??.**"] {
            assert_eq!(
                verify(token, expected()),
                Err(LogoutTokenError::Malformed),
                "{token}"
            );
        }
    }

    #[test]
    fn unsigned_and_hmac_tokens_are_refused_before_any_key_lookup() {
        let payload = segment(serde_json::json!({"iss": "https://issuer.example"}));
        for alg in ["none", "HS256"] {
            let token = format!("{}.{payload}.", segment(serde_json::json!({ "alg": alg })));
            assert_eq!(
                verify(&token, expected()),
                Err(LogoutTokenError::Algorithm),
                "{alg}"
            );
        }
    }

    #[test]
    fn a_signature_without_a_matching_key_is_refused_as_an_unknown_key() {
        let header = segment(serde_json::json!({"alg": "RS256", "kid": "k1"}));
        let payload = segment(serde_json::json!({"iss": "https://issuer.example"}));
        let token = format!("{header}.{payload}.c2ln");
        assert_eq!(
            verify(&token, expected()),
            Err(LogoutTokenError::UnknownKey)
        );
    }

    #[test]
    fn payload_claim_reads_a_string_claim() {
        let token = format!("h.{}.s", segment(serde_json::json!({"sid": "abc", "n": 1})));
        assert_eq!(payload_claim(&token, "sid").as_deref(), Some("abc"));
        assert_eq!(payload_claim(&token, "n"), None);
        assert_eq!(payload_claim("nonsense", "sid"), None);
    }
}

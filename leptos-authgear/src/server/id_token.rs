//! An ID token, verified as OpenID Connect Core §3.1.3.7 asks: openidconnect's verifier checks
//! the signature (JWKS, allowed algorithms), `iss`, `aud`, `exp` and `nonce`; it leaves the
//! authorized party (`azp`), the issue time (`iat`) and the access token's hash (`at_hash`,
//! §3.2.2.9) to the client. They are checked here, for the login and for every refresh.

use crate::server::provider_http::error_chain;
use crate::server::provider_key::ProviderKey;
use openidconnect::core::{CoreIdToken, CoreIdTokenClaims};
use openidconnect::IdTokenVerifier;
use openidconnect::{AccessToken, AccessTokenHash, Audience, ClientId, NonceVerifier};
use openidconnect::{ClaimsVerificationError, SignatureVerificationError};

/// Why an ID token was refused (OIDC Core §3.1.3.7).
#[derive(Debug, thiserror::Error)]
pub enum IdTokenError {
    /// Signed with a key that is not in the JWKS we have: after a key rotation, discovery is
    /// done again once before this is final.
    #[error("signed with a key that is not in the provider's JWKS")]
    UnknownKey,
    #[error("{0}")]
    Invalid(String),
}

impl From<ClaimsVerificationError> for IdTokenError {
    fn from(error: ClaimsVerificationError) -> Self {
        match error {
            ClaimsVerificationError::SignatureVerification(
                SignatureVerificationError::NoMatchingKey,
            ) => IdTokenError::UnknownKey,
            error => IdTokenError::Invalid(error_chain(&error)),
        }
    }
}

/// How far in the future `iat` may be: the provider's clock against ours.
pub(crate) const IAT_LEEWAY_SECS: i64 = 60;

/// The claims of `id_token`, once it passes every check; `now` is Unix time.
pub(crate) fn verify<'a>(
    id_token: &'a CoreIdToken,
    verifier: &IdTokenVerifier<'_, ProviderKey>,
    nonce: impl NonceVerifier,
    access_token: &AccessToken,
    client_id: &ClientId,
    now: i64,
) -> Result<&'a CoreIdTokenClaims, IdTokenError> {
    let verifier = verifier
        .clone()
        .set_issue_time_verifier_fn(move |iat| issued_before(iat.timestamp(), now));
    let claims = id_token.claims(&verifier, nonce)?;
    authorized_party(claims.audiences(), claims.authorized_party(), client_id)?;
    if let Some(expected) = claims.access_token_hash() {
        let invalid = |error: String| IdTokenError::Invalid(format!("at_hash: {error}"));
        let algorithm = id_token
            .signing_alg()
            .map_err(|error| invalid(error.to_string()))?;
        let key = id_token
            .signing_key(&verifier)
            .map_err(|error| invalid(error.to_string()))?;
        let actual = AccessTokenHash::from_token(access_token, algorithm, key)
            .map_err(|error| invalid(error.to_string()))?;
        if actual != *expected {
            return Err(invalid("does not match the access token".into()));
        }
    }
    Ok(claims)
}

/// `iat` not later than `now` (with the leeway). Saturating: the number is the provider's.
fn issued_before(iat: i64, now: i64) -> Result<(), String> {
    if iat > now.saturating_add(IAT_LEEWAY_SECS) {
        return Err(format!("issued in the future (iat {iat}, now {now})"));
    }
    Ok(())
}

/// How far the provider's clock may be behind ours when `auth_time` is checked against
/// `max_age`.
pub(crate) const AUTH_TIME_LEEWAY_SECS: i64 = 30;

/// For a login that asked for `max_age` (OIDC Core §3.1.2.1: the client must then check
/// `auth_time`): the token must say when the user authenticated, and that must be at most
/// `max_age` seconds before `now` (with the leeway). Saturating: the numbers are the provider's.
pub(crate) fn authenticated_within(
    auth_time: Option<i64>,
    max_age: u64,
    now: i64,
) -> Result<(), IdTokenError> {
    let Some(auth_time) = auth_time else {
        return Err(IdTokenError::Invalid(
            "no auth_time, though max_age was asked".into(),
        ));
    };
    let max_age = i64::try_from(max_age).unwrap_or(i64::MAX);
    if now.saturating_sub(auth_time) > max_age.saturating_add(AUTH_TIME_LEEWAY_SECS) {
        return Err(IdTokenError::Invalid(format!(
            "the user authenticated at {auth_time}, more than max_age {max_age} s before now ({now})"
        )));
    }
    Ok(())
}

/// `azp`, if present, names this client; with several audiences it must be present.
fn authorized_party(
    audiences: &[Audience],
    azp: Option<&ClientId>,
    client_id: &ClientId,
) -> Result<(), IdTokenError> {
    match azp {
        Some(azp) if azp.as_str() != client_id.as_str() => Err(IdTokenError::Invalid(format!(
            "the authorized party (azp) is `{}`, not this client",
            azp.as_str()
        ))),
        None if audiences.len() > 1 => Err(IdTokenError::Invalid(
            "several audiences and no authorized party (azp)".into(),
        )),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_authorized_party_is_this_client_and_required_with_several_audiences() {
        let client = ClientId::new("client".into());
        let one = [Audience::new("client".into())];
        let two = [
            Audience::new("client".into()),
            Audience::new("other".into()),
        ];
        let azp = |value: &str| ClientId::new(value.into());
        assert!(authorized_party(&one, None, &client).is_ok());
        assert!(authorized_party(&one, Some(&azp("client")), &client).is_ok());
        assert!(authorized_party(&two, Some(&azp("client")), &client).is_ok());
        assert!(authorized_party(&one, Some(&azp("other")), &client).is_err());
        assert!(authorized_party(&two, None, &client).is_err());
    }

    #[test]
    fn a_login_that_asked_for_max_age_needs_a_recent_enough_auth_time() {
        let now = 10_000;
        assert!(authenticated_within(Some(now), 300, now).is_ok());
        assert!(authenticated_within(Some(now - 300 - AUTH_TIME_LEEWAY_SECS), 300, now).is_ok());
        assert!(authenticated_within(Some(now - 301 - AUTH_TIME_LEEWAY_SECS), 300, now).is_err());
        // Missing: refused, whatever the age asked.
        assert!(authenticated_within(None, 300, now).is_err());
        assert!(authenticated_within(None, u64::MAX, now).is_err());
        // The provider's numbers at their extremes: no overflow.
        assert!(authenticated_within(Some(i64::MIN), 300, i64::MAX).is_err());
        assert!(authenticated_within(Some(i64::MAX), u64::MAX, i64::MIN).is_ok());
        assert!(authenticated_within(Some(0), 0, 0).is_ok());
    }

    #[test]
    fn an_issue_time_in_the_future_is_refused_beyond_the_leeway() {
        assert!(issued_before(1_000, 1_000).is_ok());
        assert!(issued_before(1_000 + IAT_LEEWAY_SECS, 1_000).is_ok());
        assert!(issued_before(1_001 + IAT_LEEWAY_SECS, 1_000).is_err());
        assert!(issued_before(i64::MAX, i64::MAX).is_ok());
        assert!(issued_before(i64::MAX, 0).is_err());
    }
}

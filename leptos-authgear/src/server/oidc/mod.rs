//! The OpenID Connect flow, top to bottom: discovery, authorize URL, code exchange, ID-token
//! verification, userinfo, and the end-session URL. Uses the `openidconnect` crate as a
//! confidential client.

use crate::server::configuration::{ProviderSettings, Settings};
use crate::server::error::OidcError;
use crate::server::id_token;
use crate::server::id_token::IdTokenError;
use crate::server::provider_http::{error_chain, NotingStatus, ProviderHttp};
use crate::server::provider_key::ProviderKey;
use crate::server::session::{unix_now, LoginTransaction, SignedInUser, TokenSet, UserClaims};
use openidconnect::core::CoreJwsSigningAlgorithm;
use openidconnect::core::{
    CoreAuthDisplay, CoreAuthPrompt, CoreClaimName, CoreClaimType, CoreClientAuthMethod,
    CoreErrorResponseType, CoreGenderClaim, CoreGrantType, CoreJweContentEncryptionAlgorithm,
    CoreJweKeyManagementAlgorithm, CoreResponseMode, CoreResponseType, CoreRevocableToken,
    CoreRevocationErrorResponse, CoreSubjectIdentifierType, CoreTokenIntrospectionResponse,
    CoreTokenResponse,
};
use openidconnect::{
    AccessToken, AdditionalClaims, AdditionalProviderMetadata, AuthType, AuthenticationFlow,
    AuthorizationCode, ClientId, ClientSecret, CsrfToken, EndpointMaybeSet, EndpointNotSet,
    EndpointSet, IssuerUrl, Nonce, OAuth2TokenResponse, PkceCodeChallenge, PkceCodeVerifier,
    PostLogoutRedirectUrl, ProviderMetadata, RedirectUrl, RefreshToken, RequestTokenError, Scope,
    SubjectIdentifier, TokenResponse, UserInfoClaims,
};
use openidconnect::{EmptyAdditionalClaims, JsonWebKeySet, LanguageTag, StandardErrorResponse};
use serde::{Deserialize, Serialize};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};
use url::Url;

mod discovery;

pub use discovery::Provider;
pub(crate) use discovery::UNKNOWN_KEY_REDISCOVERY_SECS;

/// The client as `from_provider_metadata` builds it: authorization endpoint set, token and
/// userinfo endpoints present if discovery listed them. openidconnect's `CoreClient` but for
/// the provider's keys ([`ProviderKey`]: RSA signatures verified by `ring`).
type DiscoveredClient = openidconnect::Client<
    EmptyAdditionalClaims,
    CoreAuthDisplay,
    CoreGenderClaim,
    CoreJweContentEncryptionAlgorithm,
    ProviderKey,
    CoreAuthPrompt,
    StandardErrorResponse<CoreErrorResponseType>,
    CoreTokenResponse,
    CoreTokenIntrospectionResponse,
    CoreRevocableToken,
    CoreRevocationErrorResponse,
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

/// Discovery fields beyond OpenID Connect Discovery's core: RP-initiated logout and RFC 7009.
#[derive(Clone, Debug, Deserialize, Serialize)]
struct LogoutAndRevocation {
    end_session_endpoint: Option<Url>,
    revocation_endpoint: Option<Url>,
}
impl AdditionalProviderMetadata for LogoutAndRevocation {}

type DiscoveredMetadata = ProviderMetadata<
    LogoutAndRevocation,
    CoreAuthDisplay,
    CoreClientAuthMethod,
    CoreClaimName,
    CoreClaimType,
    CoreGrantType,
    CoreJweContentEncryptionAlgorithm,
    CoreJweKeyManagementAlgorithm,
    ProviderKey,
    CoreResponseMode,
    CoreResponseType,
    CoreSubjectIdentifierType,
>;

/// Claims beyond the standard ones, such as Authgear's `https://authgear.com/claims/user/*`.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(transparent)]
struct OtherClaims(serde_json::Map<String, serde_json::Value>);
impl AdditionalClaims for OtherClaims {}

/// Why a refresh did not produce new tokens.
#[derive(Debug, thiserror::Error)]
pub enum RefreshError {
    /// The provider no longer honours the grant (revoked, expired, rotated away): the session
    /// is over.
    #[error("refresh token rejected: {0}")]
    GrantEnded(String),
    /// The refreshed ID token does not verify or is for someone else (OIDC Core §12.2): the
    /// session is over.
    #[error("refreshed ID token rejected: {0}")]
    IdToken(IdTokenError),
    /// Network trouble or a provider error: try again later, keep the session.
    #[error("refresh failed for now: {0}")]
    Temporary(String),
}

impl Provider {
    /// Steps 2 and 3 of the flow: exchange the code, verify the ID token and fetch userinfo.
    /// An ID token signed with an unknown key makes us discover once more (the provider may
    /// have rotated its keys since) and verify again; the code is not used twice.
    pub async fn finish_login(
        &self,
        transaction: &LoginTransaction,
        code: String,
    ) -> Result<SignedInUser, OidcError> {
        let client = self.client().await?;
        let response = client.exchange_code(transaction, code).await?;
        match client.signed_in_user(transaction, &response).await {
            Err(OidcError::IdToken(IdTokenError::UnknownKey)) => {
                self.rediscover(&client)
                    .await?
                    .signed_in_user(transaction, &response)
                    .await
            }
            result => result,
        }
    }

    /// The refresh grant, with the same second chance for a rotated signing key.
    pub async fn refresh(&self, user: &SignedInUser) -> Result<TokenSet, RefreshError> {
        let client = self
            .client()
            .await
            .map_err(|error| RefreshError::Temporary(error.to_string()))?;
        let response = client.refresh_grant(user).await?;
        match client.refreshed_tokens(user, &response) {
            Err(RefreshError::IdToken(IdTokenError::UnknownKey)) => self
                .rediscover(&client)
                .await
                .map_err(|error| RefreshError::Temporary(error.to_string()))?
                .refreshed_tokens(user, &response),
            result => result,
        }
    }
}

/// `client_secret_post` wherever discovery offers it (older Authgear releases reject HTTP
/// Basic); otherwise Basic, which is also the default when discovery says nothing.
pub fn choose_auth_type(methods: Option<&Vec<CoreClientAuthMethod>>) -> AuthType {
    match methods {
        Some(methods) if methods.contains(&CoreClientAuthMethod::ClientSecretPost) => {
            AuthType::RequestBody
        }
        _ => AuthType::BasicAuth,
    }
}

/// What the login link asked for.
#[derive(Clone, Debug, Default)]
pub struct AuthorizeOptions {
    /// Open the provider's sign-up page ([`crate::authgear::SIGNUP_PAGE`]).
    pub signup: bool,
    /// Make the provider ask again even if its own session is alive (`prompt=login`).
    pub fresh_login: bool,
    /// A step-up: the user must have authenticated within this many seconds (`max_age`; the
    /// callback checks `auth_time`). `0` also sends `prompt=login`, as Authgear reads it.
    pub max_age: Option<u64>,
    /// The language of the provider's pages (`ui_locales`).
    pub ui_locales: Option<crate::server::ui_locales::UiLocales>,
    /// A silent sign-in (`prompt=none`): no page of the provider's.
    pub silent: bool,
}

pub struct OidcClient {
    client: DiscoveredClient,
    issuer: IssuerUrl,
    http: ProviderHttp,
    scopes: Vec<String>,
    end_session_endpoint: Option<Url>,
    revocation_endpoint: Option<Url>,
    /// For logout tokens, which openidconnect does not verify itself.
    jwks: JsonWebKeySet<ProviderKey>,
    signing_algs: Vec<CoreJwsSigningAlgorithm>,
    // For the revocation request, which openidconnect's typed client only offers when the
    // endpoint is known at compile time.
    client_id: ClientId,
    client_secret: ClientSecret,
    auth_type: AuthType,
    post_logout_redirect_uri: PostLogoutRedirectUrl,
}

impl OidcClient {
    /// A readable summary of what discovery found, for `--check-config`.
    pub fn describe(&self) -> String {
        let auth = match self.auth_type {
            AuthType::RequestBody => "client_secret_post",
            _ => "client_secret_basic",
        };
        let endpoint = |url: &Option<Url>| url.as_ref().map_or("(none)".to_owned(), Url::to_string);
        format!(
            "issuer: {}\nauthorization endpoint: {}\ntoken endpoint: {}\nuserinfo endpoint: {}\n\
             end-session endpoint: {}\nrevocation endpoint: {}\nclient authentication: {auth}\n\
             signing keys: {}\nscopes: openid offline_access {}",
            self.issuer.as_str(),
            self.client.auth_uri().as_str(),
            self.client.token_uri().map_or("(none)", |url| url.as_str()),
            self.client
                .user_info_url()
                .map_or("(none)", |url| url.as_str()),
            endpoint(&self.end_session_endpoint),
            endpoint(&self.revocation_endpoint),
            self.jwks.keys().len(),
            self.scopes.join(" "),
        )
    }

    /// Step 1: the URL to send the browser to, and what the callback needs to finish.
    pub fn authorize(
        &self,
        return_to: String,
        options: AuthorizeOptions,
    ) -> (Url, LoginTransaction) {
        let (pkce_challenge, pkce_verifier) = PkceCodeChallenge::new_random_sha256();
        let scopes = std::iter::once("offline_access".to_owned())
            .chain(self.scopes.iter().cloned())
            .map(Scope::new);
        let mut request = self
            .client
            .authorize_url(
                AuthenticationFlow::<CoreResponseType>::AuthorizationCode,
                CsrfToken::new_random,
                Nonce::new_random,
            )
            .add_scopes(scopes)
            .set_pkce_challenge(pkce_challenge);
        if options.signup {
            let (name, value) = crate::authgear::SIGNUP_PAGE;
            request = request.add_extra_param(name, value);
        }
        if options.silent {
            request = request.add_prompt(CoreAuthPrompt::None);
        } else if options.fresh_login || options.max_age == Some(0) {
            request = request.add_prompt(CoreAuthPrompt::Login);
        }
        if let Some(max_age) = options.max_age {
            request = request.set_max_age(Duration::from_secs(max_age));
        }
        for tag in options.ui_locales.iter().flat_map(|locales| locales.tags()) {
            request = request.add_ui_locale(LanguageTag::new(tag.to_owned()));
        }
        let (url, state, nonce) = request.url();
        let transaction = LoginTransaction {
            state: state.into_secret(),
            nonce: nonce.secret().clone(),
            pkce_verifier: pkce_verifier.into_secret(),
            return_to,
            created_at: unix_now(),
            max_age: options.max_age,
            silent: options.silent,
        };
        (url, transaction)
    }

    /// The authorization endpoint with this client's id, its scopes and `params`, for a request
    /// that is not a login (Authgear's settings link, `crate::authgear::settings_link`).
    pub fn authorization_url(&self, params: &[(&str, &str)]) -> Url {
        let scope = ["openid", "offline_access"]
            .into_iter()
            .chain(self.scopes.iter().map(String::as_str))
            .collect::<Vec<_>>()
            .join(" ");
        let mut url = self.client.auth_uri().url().clone();
        url.query_pairs_mut()
            .append_pair("client_id", self.client_id.as_str())
            .append_pair("scope", &scope)
            .extend_pairs(params);
        url
    }

    /// The client for requests to the provider that openidconnect does not make itself.
    pub fn http(&self) -> &ProviderHttp {
        &self.http
    }

    /// RFC 9207: an `iss` in the authorization response must be the issuer, exactly.
    pub fn is_issuer(&self, iss: &str) -> bool {
        self.issuer.as_str() == iss
    }

    /// Step 2: exchange the code (with the PKCE verifier) for tokens.
    async fn exchange_code(
        &self,
        transaction: &LoginTransaction,
        code: String,
    ) -> Result<CoreTokenResponse, OidcError> {
        self.client
            .exchange_code(AuthorizationCode::new(code))
            .map_err(|error| OidcError::TokenExchange(error.to_string()))?
            .set_pkce_verifier(PkceCodeVerifier::new(transaction.pkce_verifier.clone()))
            .request_async(&self.http)
            .await
            .map_err(|error| OidcError::TokenExchange(error_chain(&error)))
    }

    /// Step 3: verify the ID token, fetch userinfo for the same subject.
    async fn signed_in_user(
        &self,
        transaction: &LoginTransaction,
        token_response: &CoreTokenResponse,
    ) -> Result<SignedInUser, OidcError> {
        let id_token = token_response.id_token().ok_or_else(|| {
            OidcError::IdToken(IdTokenError::Invalid(
                "the token response has no id_token".into(),
            ))
        })?;
        // Signature (JWKS, allowed algorithms), iss, aud (string or array), azp, exp, iat,
        // nonce, at_hash.
        let id_claims = id_token::verify(
            id_token,
            &self.client.id_token_verifier(),
            &Nonce::new(transaction.nonce.clone()),
            token_response.access_token(),
            self.client.client_id(),
            unix_now(),
        )
        .map_err(OidcError::IdToken)?;
        let auth_time = id_claims.auth_time().map(|at| at.timestamp());
        if let Some(max_age) = transaction.max_age {
            id_token::authenticated_within(auth_time, max_age, unix_now())
                .map_err(OidcError::IdToken)?;
        }
        let subject = id_claims.subject().clone();

        let claims = match self
            .userinfo(token_response.access_token(), &subject)
            .await?
        {
            Some(claims) => claims,
            // No userinfo endpoint: the ID token's claims are all there is.
            None => to_claims_map(id_claims),
        };
        Ok(SignedInUser {
            claims: UserClaims::new(subject.as_str(), &claims),
            subject: subject.to_string(),
            // The verified ID token's `sid`, which openidconnect's core claims do not carry.
            sid: crate::server::logout_token::payload_claim(&id_token.to_string(), "sid"),
            tokens: token_set(token_response, None, id_token.to_string()),
            refreshes: 0,
            last_refreshed_at: None,
            // Set by `AuthSession::sign_in`.
            signed_in_at: 0,
            last_seen_at: 0,
            ends_at: 0,
            auth_time,
            // Set by the callback, which has the request's User-Agent.
            device: None,
        })
    }

    /// Userinfo for `subject` (checked by `user_info`: a different `sub` is an error), or
    /// `None` when the provider has no userinfo endpoint.
    pub async fn userinfo(
        &self,
        access_token: &AccessToken,
        subject: &SubjectIdentifier,
    ) -> Result<Option<serde_json::Map<String, serde_json::Value>>, OidcError> {
        let Ok(request) = self
            .client
            .user_info(access_token.clone(), Some(subject.clone()))
        else {
            return Ok(None);
        };
        let userinfo: UserInfoClaims<OtherClaims, CoreGenderClaim> = request
            .request_async(&self.http)
            .await
            .map_err(|error| OidcError::UserInfo(error_chain(&error)))?;
        Ok(Some(to_claims_map(&userinfo)))
    }

    /// The refresh grant itself.
    async fn refresh_grant(&self, user: &SignedInUser) -> Result<CoreTokenResponse, RefreshError> {
        let Some(refresh_token) = user.tokens.refresh_token.as_ref() else {
            return Err(RefreshError::GrantEnded(
                "no refresh token was issued".into(),
            ));
        };
        let refresh_token = RefreshToken::new(refresh_token.clone());
        let http = NotingStatus::new(&self.http);
        let result = self
            .client
            .exchange_refresh_token(&refresh_token)
            .map_err(|error| RefreshError::Temporary(error.to_string()))?
            .request_async(&http)
            .await;
        result.map_err(|error| {
            let parsed_invalid_grant = matches!(&error, RequestTokenError::ServerResponse(response)
                if *response.error() == CoreErrorResponseType::InvalidGrant);
            if parsed_invalid_grant || http.status().is_some_and(refusal_ends_grant) {
                RefreshError::GrantEnded(error_chain(&error))
            } else {
                RefreshError::Temporary(error_chain(&error))
            }
        })
    }

    /// The tokens of a refresh response. Keeps the old refresh token when no new one comes back
    /// (Authgear without rotation) and the old ID token when none comes back; a new ID token
    /// must verify and name the same subject (its issuer is checked by the verifier; it
    /// carries no nonce).
    fn refreshed_tokens(
        &self,
        user: &SignedInUser,
        response: &CoreTokenResponse,
    ) -> Result<TokenSet, RefreshError> {
        let id_token = match response.id_token() {
            Some(id_token) => {
                let claims = id_token::verify(
                    id_token,
                    &self.client.id_token_verifier(),
                    |_: Option<&Nonce>| Ok(()),
                    response.access_token(),
                    self.client.client_id(),
                    unix_now(),
                )
                .map_err(RefreshError::IdToken)?;
                if claims.subject().as_str() != user.subject {
                    return Err(RefreshError::IdToken(IdTokenError::Invalid(
                        "the subject changed".into(),
                    )));
                }
                id_token.to_string()
            }
            None => user.tokens.id_token.clone(),
        };
        Ok(token_set(response, Some(&user.tokens), id_token))
    }

    /// RFC 7009 revocation of the refresh token, which ends the whole grant at the provider.
    /// Best effort: logout goes on whatever happens here.
    pub async fn revoke(&self, refresh_token: &str) {
        let Some(endpoint) = self.revocation_endpoint.clone() else {
            return;
        };
        let mut form = vec![
            ("token", refresh_token),
            ("token_type_hint", "refresh_token"),
        ];
        let mut request = self.http.post(endpoint);
        match self.auth_type {
            AuthType::RequestBody => {
                form.push(("client_id", self.client_id.as_str()));
                form.push(("client_secret", self.client_secret.secret()));
            }
            _ => {
                request =
                    request.basic_auth(self.client_id.as_str(), Some(self.client_secret.secret()));
            }
        }
        match request.form(&form).send().await {
            Ok(response) if response.status().is_success() => {}
            Ok(response) => tracing::warn!(status = %response.status(), "token revocation refused"),
            Err(error) => tracing::warn!(error = %error_chain(&error), "token revocation failed"),
        }
    }

    /// Back-channel logout: the verified claims of a logout token (see `logout_token`).
    pub fn verify_logout_token(
        &self,
        token: &str,
        now: i64,
    ) -> Result<
        crate::server::logout_token::LogoutClaims,
        crate::server::logout_token::LogoutTokenError,
    > {
        crate::server::logout_token::verify(
            token,
            crate::server::logout_token::Expected {
                issuer: self.issuer.as_str(),
                client_id: self.client_id.as_str(),
                keys: self.jwks.keys(),
                algorithms: &self.signing_algs,
                now,
            },
        )
    }

    /// Step 3: RP-initiated logout at the provider, then back to `<APP_URL>/`: its end-session
    /// endpoint, and the parameters (the ID token as the hint, where to come back, a state).
    /// `None` when the provider has no such endpoint.
    pub fn end_session(&self, id_token_hint: &str) -> Option<EndSession> {
        Some(EndSession {
            endpoint: self.end_session_endpoint.clone()?,
            params: [
                ("id_token_hint", id_token_hint.to_owned()),
                (
                    "post_logout_redirect_uri",
                    self.post_logout_redirect_uri.as_str().to_owned(),
                ),
                ("state", CsrfToken::new_random().secret().clone()),
            ],
        })
    }
}

/// A logout at the provider's end-session endpoint (OpenID Connect RP-Initiated Logout 1.0),
/// to be posted by a form (the default: the ID token stays out of every URL) or, for a
/// provider that refuses POST, sent as a redirect.
pub struct EndSession {
    /// The provider's end-session endpoint.
    pub endpoint: Url,
    /// The parameters, in the form's body or the URL's query.
    pub params: [(&'static str, String); 3],
}

impl EndSession {
    /// The endpoint with the parameters in its query (RP-Initiated Logout's GET).
    pub fn into_url(self) -> Url {
        let mut url = self.endpoint;
        url.query_pairs_mut().extend_pairs(&self.params);
        url
    }
}

/// The tokens of a token response. `previous` carries what the response may leave out.
/// A token endpoint's answer to a refresh that ends the grant: any 4xx but 429. RFC 6749 §5.2
/// answers a revoked or expired refresh token with `400 invalid_grant`, but providers also send
/// an empty or non-JSON 400, or 401 (`invalid_client` after the client was removed): none of
/// these get better by retrying, and keeping the session would tell the user "unavailable"
/// until it idles out. 429 and 5xx are the provider's trouble: the session stays.
fn refusal_ends_grant(status: openidconnect::http::StatusCode) -> bool {
    status.is_client_error() && status != openidconnect::http::StatusCode::TOO_MANY_REQUESTS
}

fn token_set(
    response: &CoreTokenResponse,
    previous: Option<&TokenSet>,
    id_token: String,
) -> TokenSet {
    let now = unix_now();
    TokenSet {
        access_token: response.access_token().secret().clone(),
        refresh_token: response
            .refresh_token()
            .map(|token| token.secret().clone())
            .or_else(|| previous.and_then(|tokens| tokens.refresh_token.clone())),
        id_token,
        access_token_expires_at: response
            .expires_in()
            .map(|lifetime| expires_at(now, lifetime.as_secs())),
        obtained_at: now,
    }
}

/// An access token is not trusted for longer than this, whatever `expires_in` says.
const MAX_ACCESS_TOKEN_LIFETIME_SECS: u64 = 365 * 86_400;

/// `now + expires_in`, with the provider's number capped (a year): no overflow, and an absurd
/// lifetime does not make a token live for ever.
fn expires_at(now: i64, expires_in: u64) -> i64 {
    let lifetime = expires_in.min(MAX_ACCESS_TOKEN_LIFETIME_SECS) as i64;
    now.saturating_add(lifetime)
}

fn to_claims_map(claims: &impl Serialize) -> serde_json::Map<String, serde_json::Value> {
    match serde_json::to_value(claims) {
        Ok(serde_json::Value::Object(map)) => map,
        _ => serde_json::Map::new(),
    }
}

/// An error with its causes, on one line: openidconnect's top-level messages are terse.
#[cfg(test)]
mod tests;

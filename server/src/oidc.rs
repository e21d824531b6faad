//! The OpenID Connect flow, top to bottom: discovery, authorize URL, code exchange, ID-token
//! verification, userinfo, and the end-session URL. Uses the `openidconnect` crate as a
//! confidential client.

use crate::configuration::{AppUrl, ProviderSettings};
use app::session::{unix_now, LoginTransaction, SignedInUser, TokenSet};
use openidconnect::core::{CoreClient, CoreClientAuthMethod, CoreGenderClaim, CoreResponseType};
use openidconnect::{
    reqwest, AdditionalClaims, AuthType, AuthenticationFlow, AuthorizationCode, CsrfToken,
    EndpointMaybeSet, EndpointNotSet, EndpointSet, IssuerUrl, Nonce, OAuth2TokenResponse,
    PkceCodeChallenge, PkceCodeVerifier, PostLogoutRedirectUrl, ProviderMetadataWithLogout,
    RedirectUrl, Scope, TokenResponse, UserInfoClaims,
};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::OnceCell;
use url::Url;

/// No call to the provider may hang a request for longer than this.
const PROVIDER_TIMEOUT: Duration = Duration::from_secs(10);

/// The client as `from_provider_metadata` builds it: authorization endpoint set, token and
/// userinfo endpoints present if discovery listed them.
type DiscoveredClient = CoreClient<
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

/// Claims beyond the standard ones, such as Authgear's `https://authgear.com/claims/user/*`.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(transparent)]
struct OtherClaims(serde_json::Map<String, serde_json::Value>);
impl AdditionalClaims for OtherClaims {}

#[derive(Debug, thiserror::Error)]
pub enum OidcError {
    #[error("identity provider unavailable: {0}")]
    Unavailable(String),
    #[error("token exchange failed: {0}")]
    TokenExchange(String),
    #[error("ID token rejected: {0}")]
    IdToken(String),
    #[error("userinfo failed: {0}")]
    UserInfo(String),
}

/// The provider, discovered on first use: if it is down when the app starts, the app still
/// serves guests and discovery is tried again on the next login.
pub struct Provider {
    settings: ProviderSettings,
    redirect_uri: RedirectUrl,
    post_logout_redirect_uri: PostLogoutRedirectUrl,
    http: reqwest::Client,
    discovered: OnceCell<Arc<OidcClient>>,
}

impl Provider {
    pub fn new(settings: ProviderSettings, app_url: &AppUrl) -> Result<Self, String> {
        let http = reqwest::Client::builder()
            // Following redirects would expose the app to SSRF (openidconnect's advice).
            .redirect(reqwest::redirect::Policy::none())
            .timeout(PROVIDER_TIMEOUT)
            .build()
            .map_err(|error| format!("cannot build the HTTP client: {error}"))?;
        Ok(Self {
            settings,
            redirect_uri: RedirectUrl::new(app_url.redirect_uri()).map_err(|e| e.to_string())?,
            post_logout_redirect_uri: PostLogoutRedirectUrl::new(
                app_url.post_logout_redirect_uri(),
            )
            .map_err(|e| e.to_string())?,
            http,
            discovered: OnceCell::new(),
        })
    }

    /// The discovered client; discovers now if that has not succeeded yet.
    pub async fn client(&self) -> Result<Arc<OidcClient>, OidcError> {
        self.discovered
            .get_or_try_init(|| async {
                let client = self.discover().await?;
                tracing::info!(issuer = %self.settings.issuer.as_str(), "provider discovered");
                Ok(Arc::new(client))
            })
            .await
            .cloned()
    }

    async fn discover(&self) -> Result<OidcClient, OidcError> {
        let metadata =
            ProviderMetadataWithLogout::discover_async(self.settings.issuer.clone(), &self.http)
                .await
                .map_err(|error| OidcError::Unavailable(error_chain(&error)))?;
        let auth_type = choose_auth_type(metadata.token_endpoint_auth_methods_supported());
        let end_session_endpoint = metadata
            .additional_metadata()
            .end_session_endpoint
            .as_ref()
            .map(|url| url.url().clone());
        let client = CoreClient::from_provider_metadata(
            metadata,
            self.settings.client_id.clone(),
            Some(self.settings.client_secret.clone()),
        )
        .set_redirect_uri(self.redirect_uri.clone())
        .set_auth_type(auth_type);
        Ok(OidcClient {
            client,
            // Discovery has checked that the document's `issuer` is exactly this one.
            issuer: self.settings.issuer.clone(),
            http: self.http.clone(),
            scopes: self.settings.extra_scopes.clone(),
            end_session_endpoint,
            post_logout_redirect_uri: self.post_logout_redirect_uri.clone(),
        })
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

pub struct OidcClient {
    client: DiscoveredClient,
    issuer: IssuerUrl,
    http: reqwest::Client,
    scopes: Vec<String>,
    end_session_endpoint: Option<Url>,
    post_logout_redirect_uri: PostLogoutRedirectUrl,
}

impl OidcClient {
    /// Step 1: the URL to send the browser to, and what the callback needs to finish.
    pub fn authorize(&self, return_to: String) -> (Url, LoginTransaction) {
        let (pkce_challenge, pkce_verifier) = PkceCodeChallenge::new_random_sha256();
        let scopes = std::iter::once("offline_access".to_owned())
            .chain(self.scopes.iter().cloned())
            .map(Scope::new);
        let (url, state, nonce) = self
            .client
            .authorize_url(
                AuthenticationFlow::<CoreResponseType>::AuthorizationCode,
                CsrfToken::new_random,
                Nonce::new_random,
            )
            .add_scopes(scopes)
            .set_pkce_challenge(pkce_challenge)
            .url();
        let transaction = LoginTransaction {
            state: state.into_secret(),
            nonce: nonce.secret().clone(),
            pkce_verifier: pkce_verifier.into_secret(),
            return_to,
            created_at: unix_now(),
        };
        (url, transaction)
    }

    /// RFC 9207: an `iss` in the authorization response must be the issuer, exactly.
    pub fn is_issuer(&self, iss: &str) -> bool {
        self.issuer.as_str() == iss
    }

    /// Step 2: exchange the code, verify the ID token, fetch userinfo for the same subject.
    pub async fn finish_login(
        &self,
        transaction: &LoginTransaction,
        code: String,
    ) -> Result<SignedInUser, OidcError> {
        let token_response = self
            .client
            .exchange_code(AuthorizationCode::new(code))
            .map_err(|error| OidcError::TokenExchange(error.to_string()))?
            .set_pkce_verifier(PkceCodeVerifier::new(transaction.pkce_verifier.clone()))
            .request_async(&self.http)
            .await
            .map_err(|error| OidcError::TokenExchange(error_chain(&error)))?;

        let id_token = token_response
            .id_token()
            .ok_or_else(|| OidcError::IdToken("the token response has no id_token".into()))?;
        // Signature (JWKS, allowed algorithms), iss, aud (string or array), azp, exp, iat, nonce.
        let id_claims = id_token
            .claims(
                &self.client.id_token_verifier(),
                &Nonce::new(transaction.nonce.clone()),
            )
            .map_err(|error| OidcError::IdToken(error_chain(&error)))?;
        let subject = id_claims.subject().clone();

        // Userinfo must describe the same subject as the ID token (checked by `user_info`).
        let claims = match self
            .client
            .user_info(token_response.access_token().clone(), Some(subject.clone()))
        {
            Ok(request) => {
                let userinfo: UserInfoClaims<OtherClaims, CoreGenderClaim> = request
                    .request_async(&self.http)
                    .await
                    .map_err(|error| OidcError::UserInfo(error_chain(&error)))?;
                to_claims_map(&userinfo)
            }
            // No userinfo endpoint: the ID token's claims are all there is.
            Err(_) => to_claims_map(id_claims),
        };

        let expires_at = token_response
            .expires_in()
            .map(|lifetime| unix_now() + lifetime.as_secs() as i64);
        Ok(SignedInUser {
            subject: subject.to_string(),
            claims,
            tokens: TokenSet {
                access_token: token_response.access_token().secret().clone(),
                refresh_token: token_response.refresh_token().map(|t| t.secret().clone()),
                id_token: id_token.to_string(),
                access_token_expires_at: expires_at,
            },
        })
    }

    /// Step 3: RP-initiated logout at the provider, then back to `<APP_URL>/`.
    pub fn end_session_url(&self, id_token_hint: &str) -> Option<Url> {
        let mut url = self.end_session_endpoint.clone()?;
        url.query_pairs_mut()
            .append_pair("id_token_hint", id_token_hint)
            .append_pair(
                "post_logout_redirect_uri",
                self.post_logout_redirect_uri.as_str(),
            )
            .append_pair("state", CsrfToken::new_random().secret());
        Some(url)
    }
}

fn to_claims_map(claims: &impl Serialize) -> serde_json::Map<String, serde_json::Value> {
    match serde_json::to_value(claims) {
        Ok(serde_json::Value::Object(map)) => map,
        _ => serde_json::Map::new(),
    }
}

/// An error with its causes, on one line: openidconnect's top-level messages are terse.
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_secret_post_is_preferred_when_offered() {
        let both = vec![
            CoreClientAuthMethod::ClientSecretBasic,
            CoreClientAuthMethod::ClientSecretPost,
        ];
        assert!(matches!(
            choose_auth_type(Some(&both)),
            AuthType::RequestBody
        ));
        let basic_only = vec![CoreClientAuthMethod::ClientSecretBasic];
        assert!(matches!(
            choose_auth_type(Some(&basic_only)),
            AuthType::BasicAuth
        ));
        assert!(matches!(choose_auth_type(None), AuthType::BasicAuth));
    }
}

//! [`TestProvider`]: the discovery document and one signing key of an OpenID provider, served on
//! a random local port, that signs back-channel logout tokens (OpenID Connect Back-Channel
//! Logout 1.0) for an app's tests. The key is ES256 and made for the run (`ring` makes one in
//! microseconds; an RSA key would take seconds in a debug build).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use ring::rand::SystemRandom;
use ring::signature::{EcdsaKeyPair, KeyPair, ECDSA_P256_SHA256_FIXED_SIGNING};
use serde_json::json;

/// The key's id in the JWKS and in each token's header.
const KEY_ID: &str = "test-kit";
/// The event a logout token carries.
const BACKCHANNEL_LOGOUT_EVENT: &str = "http://schemas.openid.net/event/backchannel-logout";

/// An OpenID provider for an app's own tests that logs no one in (sign users in with
/// [`mint_session`](super::mint_session)) but signs back-channel logout tokens the app accepts:
/// start it, point the app's issuer (`AUTHGEAR_DOMAIN`) at [`TestProvider::issuer`], and post
/// [`TestProvider::logout_token`] as `logout_token=…` to the app's
/// [`AuthPaths::backchannel_logout`](crate::AuthPaths::backchannel_logout). It stops when
/// dropped.
///
/// ```no_run
/// # async fn example() -> Result<(), String> {
/// use leptos_authgear::server::testing::TestProvider;
///
/// let provider = TestProvider::start().await?;
/// // Settings::builder().provider(provider.issuer(), "client-id", "secret") …, then a session
/// // for "user-1" from mint_session, then:
/// let token = provider.logout_token("client-id", "user-1", None);
/// // reqwest: POST <app>/backchannel-logout with the form logout_token=<token>: 200, and
/// // every session of user-1 has ended.
/// # let _ = token; Ok(()) }
/// ```
pub struct TestProvider {
    issuer: String,
    key: EcdsaKeyPair,
    rng: SystemRandom,
    server: tokio::task::JoinHandle<()>,
}

impl TestProvider {
    /// Makes a key and serves `/.well-known/openid-configuration` and its JWKS on
    /// `127.0.0.1` at a free port. Call it inside the tokio runtime.
    pub async fn start() -> Result<Self, String> {
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
            .map_err(|_| "cannot make a signing key".to_owned())?;
        let key = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), &rng)
            .map_err(|_| "cannot read the signing key".to_owned())?;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .map_err(|error| format!("cannot listen: {error}"))?;
        let address = listener
            .local_addr()
            .map_err(|error| format!("no address: {error}"))?;
        let issuer = format!("http://{address}");
        // The public key's point: 0x04, then x and y, 32 bytes each.
        let point = key.public_key().as_ref();
        let jwks = json!({ "keys": [{
            "kty": "EC",
            "crv": "P-256",
            "x": URL_SAFE_NO_PAD.encode(&point[1..33]),
            "y": URL_SAFE_NO_PAD.encode(&point[33..65]),
            "kid": KEY_ID,
            "use": "sig",
            "alg": "ES256",
        }]});
        let discovery = discovery_document(&issuer, "ES256");
        let router = axum::Router::new()
            .route(
                "/.well-known/openid-configuration",
                axum::routing::get(move || std::future::ready(axum::Json(discovery.clone()))),
            )
            .route(
                "/oauth2/jwks",
                axum::routing::get(move || std::future::ready(axum::Json(jwks.clone()))),
            );
        let server = tokio::spawn(async move {
            if let Err(error) = axum::serve(listener, router).await {
                tracing::warn!(%error, "the test kit's provider stopped");
            }
        });
        Ok(Self {
            issuer,
            key,
            rng,
            server,
        })
    }

    /// Its issuer, `http://127.0.0.1:<port>`: the app's `AUTHGEAR_DOMAIN` (or
    /// `SettingsBuilder::provider`'s first argument).
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// A logout token for the app's `client_id` that ends `subject`'s sessions (all of them,
    /// or only those of the provider session `sid`), issued now, good for two minutes.
    pub fn logout_token(&self, client_id: &str, subject: &str, sid: Option<&str>) -> String {
        let now = super::unix_now();
        let mut claims = json!({
            "iss": self.issuer,
            "aud": client_id,
            "iat": now,
            "exp": now + 120,
            "jti": format!("test-kit-{}", tower_sessions::session::Id::default()),
            "events": { BACKCHANNEL_LOGOUT_EVENT: {} },
            "sub": subject,
        });
        if let Some(sid) = sid {
            claims["sid"] = sid.into();
        }
        let header = json!({ "alg": "ES256", "typ": "logout+jwt", "kid": KEY_ID });
        let message = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        // Signing fails only if the system's random source does; the token is then unsigned
        // garbage the app refuses, which the test will show.
        let signature = self
            .key
            .sign(&self.rng, message.as_bytes())
            .map(|signature| URL_SAFE_NO_PAD.encode(signature.as_ref()))
            .unwrap_or_default();
        format!("{message}.{signature}")
    }
}

/// The least discovery document openidconnect takes, with endpoints under `<issuer>/oauth2/`
/// and ID tokens signed with `algorithm`.
pub(crate) fn discovery_document(issuer: &str, algorithm: &str) -> serde_json::Value {
    json!({
        "issuer": issuer,
        "authorization_endpoint": format!("{issuer}/oauth2/authorize"),
        "token_endpoint": format!("{issuer}/oauth2/token"),
        "jwks_uri": format!("{issuer}/oauth2/jwks"),
        "response_types_supported": ["code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": [algorithm],
        "backchannel_logout_supported": true,
        "backchannel_logout_session_supported": true,
    })
}

impl Drop for TestProvider {
    fn drop(&mut self) {
        self.server.abort();
    }
}

//! The login's settings: built in code with [`Settings::builder`], or read from the environment
//! (and `.env`) with [`Settings::from_env`], which fills the same builder. Every setting is
//! checked before the server starts; all problems are reported at once, one line each, naming
//! the setting (by its environment variable) and the fix.

mod builder;
mod env;
mod production;
mod session;
mod values;

pub use builder::SettingsBuilder;
pub use production::{SecurityHeaders, ServerLimits};
pub use session::{SessionSettings, StoreUrl};
pub use values::{AppUrl, Issuer, SecretKey};

use crate::server::client_address::TrustedProxies;
use crate::server::error::{ErrorPage, RenderErrorPage};
use crate::server::login_rate::{LoginRateLimit, DEFAULT_LOGIN_RATE_LIMIT};
use crate::server::ui_locales::UiLocales;
use crate::AuthPaths;
use openidconnect::{ClientId, ClientSecret};
use std::fmt;
use std::net::SocketAddr;
use std::time::Duration;

use crate::authgear::FULL_ACCESS_SCOPE;

/// Authgear's webhook secrets are long random strings; a short one is a mistake.
const MIN_WEBHOOK_SECRET_CHARS: usize = 16;

/// How long a discovery (and its JWKS) is used before it is done again.
const DEFAULT_DISCOVERY_MAX_AGE: Duration = Duration::from_secs(3600);
const MAX_DISCOVERY_MAX_AGE: Duration = Duration::from_secs(30 * 86_400);

/// How far the provider's clock may be from this server's, by default.
const DEFAULT_CLOCK_SKEW: Duration = Duration::from_secs(60);
const MAX_CLOCK_SKEW: Duration = Duration::from_secs(3600);

/// Everything the login needs. Build it with [`Settings::builder`] (in code) or
/// [`Settings::from_env`] (the environment); both check every setting.
#[derive(Debug, Clone)]
pub struct Settings {
    pub(crate) provider: ProviderSettings,
    pub(crate) app_url: AppUrl,
    pub(crate) secret_key: SecretKey,
    pub(crate) listen_addr: SocketAddr,
    pub(crate) session: SessionSettings,
    pub(crate) login_rate_limit: Option<LoginRateLimit>,
    pub(crate) webhooks: Option<WebhookSettings>,
    pub(crate) end_session_method: EndSessionMethod,
    pub(crate) paths: AuthPaths,
    /// The app's error page; `None`: the crate's neutral one.
    pub(crate) error_page: Option<ErrorPageRenderer>,
    pub(crate) trusted_proxies: TrustedProxies,
    pub(crate) limits: ServerLimits,
    pub(crate) security_headers: SecurityHeaders,
    /// How far the provider's clock may be from this server's (webhook cut-offs).
    pub(crate) clock_skew: Duration,
    /// The language of the provider's pages when a login names none (`AUTHGEAR_UI_LOCALES`).
    pub(crate) ui_locales: Option<UiLocales>,
    /// Take it from the browser's `Accept-Language` first (`UI_LOCALES_FROM_ACCEPT_LANGUAGE`).
    pub(crate) ui_locales_from_accept_language: bool,
    /// A guest's first page in a browser session tries a silent sign-in (`SILENT_LOGIN_ONCE`).
    pub(crate) silent_login_once: bool,
    /// "Manage account" opens Authgear's settings signed in (`AUTHGEAR_SETTINGS_SIGNED_IN`).
    pub(crate) settings_signed_in: bool,
}

/// An app's [`RenderErrorPage`], printable in the settings.
#[derive(Clone)]
pub(crate) struct ErrorPageRenderer(pub(crate) RenderErrorPage);

impl fmt::Debug for ErrorPageRenderer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the app's error page")
    }
}

/// Where Authgear posts its events, and the secret that signs them.
#[derive(Clone)]
pub struct WebhookSettings {
    pub(crate) path: String,
    pub(crate) secret: secrecy::SecretString,
}

impl WebhookSettings {
    /// The route's path (by default [`AuthPaths::webhooks`]).
    pub fn path(&self) -> &str {
        &self.path
    }
}

impl fmt::Debug for WebhookSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebhookSettings")
            .field("path", &self.path)
            .field("secret", &"[redacted]")
            .finish()
    }
}

/// How a logout reaches the provider's end-session endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndSessionMethod {
    /// A form the page posts (the ID token hint in the body, never in a URL): the default, as
    /// OpenID Connect RP-Initiated Logout requires providers to accept it.
    Post,
    /// A redirect with the parameters in the query: only for a provider that refuses POST.
    Get,
}

/// The provider and this app's client registration at it.
#[derive(Debug, Clone)]
pub struct ProviderSettings {
    pub(crate) issuer: Issuer,
    pub(crate) client_id: ClientId,
    pub(crate) client_secret: ClientSecret,
    /// Scopes asked for on top of `openid offline_access`.
    pub(crate) extra_scopes: Vec<String>,
    /// Discovery (with the JWKS) is done again once it is this old, on the next call that
    /// needs the provider: a signing key the provider has withdrawn stops being trusted.
    pub(crate) discovery_max_age: Duration,
}

impl ProviderSettings {
    /// The issuer, exactly as the provider writes it.
    pub fn issuer(&self) -> &Issuer {
        &self.issuer
    }
    /// This app's client id at the provider.
    pub fn client_id(&self) -> &str {
        self.client_id.as_str()
    }
    /// The scopes asked for on top of `openid offline_access`.
    pub fn extra_scopes(&self) -> &[String] {
        &self.extra_scopes
    }
}

/// One problem with one setting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigProblem {
    /// The setting, by the name of its environment variable.
    pub variable: &'static str,
    /// What is wrong with it, and the fix.
    pub message: String,
}

/// All problems found, reported together.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ConfigError(pub Vec<ConfigProblem>);

impl ConfigError {
    fn one(variable: &'static str, message: String) -> Self {
        Self(vec![ConfigProblem { variable, message }])
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "The configuration is not valid:")?;
        for problem in &self.0 {
            writeln!(f, "  - {}: {}", problem.variable, problem.message)?;
        }
        write!(
            f,
            "Set these in the environment or in .env (see .env.example and the README), or in \
             the code that builds the settings."
        )
    }
}

impl Settings {
    /// Settings built in code: the provider and the secret key are required, everything else
    /// has the defaults [`Settings::from_env`] has.
    ///
    /// ```
    /// use leptos_authgear::server::{Settings, StoreUrl};
    /// use std::time::Duration;
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// // From wherever the team keeps them: a file, a secrets manager, the environment.
    /// let client_secret = "secret-from-the-portal".to_owned();
    /// let key = "0123456789abcdef0123456789abcdef".to_owned();
    ///
    /// let settings = Settings::builder()
    ///     // A domain (`https://` implied) or the issuer URL exactly as the provider writes
    ///     // it, path and trailing slash included (Keycloak, Entra ID, Okta, ...).
    ///     .provider("myapp.authgear.cloud", "client-id", client_secret)
    ///     .secret_key(key)
    ///     .app_url("https://app.example.com")
    ///     .base_path("/auth") // /auth/login, /auth/callback, ...
    ///     .scopes(["email", "profile"])
    ///     .session_store(StoreUrl::parse("sqlite://data/sessions.db")?)
    ///     .idle_timeout(Duration::from_secs(2 * 3600))
    ///     .max_lifetime(Duration::from_secs(7 * 86_400))
    ///     .build()?;
    /// assert_eq!(settings.redirect_uri(), "https://app.example.com/auth/callback");
    /// # Ok(()) }
    /// ```
    pub fn builder() -> SettingsBuilder {
        SettingsBuilder::default()
    }

    /// Reads the process environment: `AUTHGEAR_DOMAIN` (or `OIDC_ISSUER`),
    /// `AUTHGEAR_CLIENT_ID` (`OIDC_CLIENT_ID`), `AUTHGEAR_CLIENT_SECRET` (`OIDC_CLIENT_SECRET`),
    /// `APP_SECRET_KEY`, and the optional ones the README lists.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// As [`Settings::from_env`], through `lookup` (a map in tests, the team's own source).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        env::read(lookup)
    }

    /// The provider and this app's registration at it.
    pub fn provider(&self) -> &ProviderSettings {
        &self.provider
    }
    /// The app's public origin.
    pub fn app_url(&self) -> &AppUrl {
        &self.app_url
    }
    /// Where the server listens (`LEPTOS_SITE_ADDR`, its port replaced by `PORT`).
    pub fn listen_addr(&self) -> SocketAddr {
        self.listen_addr
    }
    /// The session store and the session lifetimes.
    pub fn session(&self) -> &SessionSettings {
        &self.session
    }
    /// How often one client may start a login; `None`: no limit.
    pub fn login_rate_limit(&self) -> Option<LoginRateLimit> {
        self.login_rate_limit
    }
    /// Authgear's webhooks; `None` when no secret is set (the route is not mounted).
    pub fn webhooks(&self) -> Option<&WebhookSettings> {
        self.webhooks.as_ref()
    }
    /// How a logout reaches the provider's end-session endpoint.
    pub fn end_session_method(&self) -> EndSessionMethod {
        self.end_session_method
    }
    /// These settings with the app's error page, for settings read from the environment (see
    /// [`SettingsBuilder::error_page`]).
    pub fn with_error_page(
        mut self,
        render: impl Fn(&ErrorPage) -> String + Send + Sync + 'static,
    ) -> Self {
        self.error_page = Some(ErrorPageRenderer(std::sync::Arc::new(render)));
        self
    }

    /// The proxies whose `X-Forwarded-For` / `Forwarded` headers name the client.
    pub fn trusted_proxies(&self) -> &TrustedProxies {
        &self.trusted_proxies
    }
    /// What the server holds open at most, and how long it waits.
    pub fn limits(&self) -> ServerLimits {
        self.limits
    }
    /// The headers the auth layer adds to every response.
    pub fn security_headers(&self) -> SecurityHeaders {
        self.security_headers
    }

    /// Where the login's routes are.
    pub fn paths(&self) -> &AuthPaths {
        &self.paths
    }
    /// `<APP_URL><callback path>`: the redirect URI to register at the provider.
    pub fn redirect_uri(&self) -> String {
        format!("{}{}", self.app_url.origin(), self.paths.callback())
    }
    /// `<APP_URL>/`: where the provider sends the browser after logout (register it too).
    pub fn post_logout_redirect_uri(&self) -> String {
        format!("{}/", self.app_url.origin())
    }
}

/// Collects problems while checking goes on, so that all are reported together.
#[derive(Default)]
pub(crate) struct Problems(Vec<ConfigProblem>);

impl Problems {
    fn check<T>(&mut self, variable: &'static str, result: Result<T, String>) -> Option<T> {
        result
            .map_err(|message| self.0.push(ConfigProblem { variable, message }))
            .ok()
    }

    /// The value, or its problems kept.
    fn take<T>(&mut self, result: Result<T, ConfigError>) -> Option<T> {
        result.map_err(|error| self.0.extend(error.0)).ok()
    }

    fn names(&self, variable: &str) -> bool {
        self.0.iter().any(|problem| problem.variable == variable)
    }
}

const ISSUER: &str = "your Authgear project's domain, e.g. myapp.authgear.cloud";

fn missing(variable: &'static str, what: &str) -> ConfigError {
    ConfigError::one(variable, format!("missing; set it to {what}"))
}

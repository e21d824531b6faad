//! Settings from the environment (and a `.env` file, loaded by `main`).
//!
//! Every variable is checked before the server starts; all problems are reported at once,
//! one line each, naming the variable and the fix.

mod session;

pub use session::{SessionSettings, StoreUrl};

use crate::server::login_rate::{LoginRateLimit, DEFAULT_LOGIN_RATE_LIMIT};

use openidconnect::{ClientId, ClientSecret, IssuerUrl};
use secrecy::ExposeSecret;
use std::fmt;
use std::net::SocketAddr;
use url::Url;

/// Authgear's "full access" scope is for first-party native apps, never for a confidential
/// web client (see `shared/reference/authgear.md`).
const FORBIDDEN_SCOPE: &str = "https://authgear.com/scopes/full-access";

const MIN_SECRET_KEY_BYTES: usize = 32;

/// Everything the login needs, read from the environment: see [`Settings::from_env`].
#[derive(Debug, Clone)]
pub struct Settings {
    /// The provider and this app's client registration at it.
    pub provider: ProviderSettings,
    /// The app's public origin (`APP_URL`).
    pub app_url: AppUrl,
    /// At least 32 bytes; the session cookie's signing and encryption key is derived from it.
    pub secret_key: SecretKey,
    /// Where the server listens: `LEPTOS_SITE_ADDR`, its port replaced by `PORT` if set.
    pub listen_addr: SocketAddr,
    /// The session store and the session lifetimes.
    pub session: SessionSettings,
    /// How often one client may start a login (`LOGIN_RATE_LIMIT`, default `20/1m`); `None`:
    /// no limit.
    pub login_rate_limit: Option<LoginRateLimit>,
    /// Authgear's webhooks (`AUTHGEAR_WEBHOOK_SECRET`, `AUTHGEAR_WEBHOOK_PATH`); `None` when no
    /// secret is set: the route is not mounted.
    pub webhooks: Option<WebhookSettings>,
    /// How a logout reaches the provider's end-session endpoint
    /// (`AUTHGEAR_END_SESSION_METHOD`, default `post`).
    pub end_session_method: EndSessionMethod,
}

/// Where Authgear posts its events, and the secret that signs them.
#[derive(Clone)]
pub struct WebhookSettings {
    /// The route's path (`AUTHGEAR_WEBHOOK_PATH`, default `/webhooks/authgear`).
    pub path: String,
    /// The webhook secret shown in the Authgear portal (`AUTHGEAR_WEBHOOK_SECRET`).
    pub secret: secrecy::SecretString,
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

/// The webhook route's path when `AUTHGEAR_WEBHOOK_PATH` is not set.
const DEFAULT_WEBHOOK_PATH: &str = "/webhooks/authgear";
/// Authgear's webhook secrets are long random strings; a short one is a mistake.
const MIN_WEBHOOK_SECRET_CHARS: usize = 16;

/// The provider and this app's client registration at it.
#[derive(Debug, Clone)]
pub struct ProviderSettings {
    /// The issuer: `https://<AUTHGEAR_DOMAIN>` (discovery at `/.well-known/openid-configuration`).
    pub issuer: IssuerUrl,
    /// `AUTHGEAR_CLIENT_ID`.
    pub client_id: ClientId,
    /// `AUTHGEAR_CLIENT_SECRET`.
    pub client_secret: ClientSecret,
    /// Scopes asked for on top of `openid offline_access`.
    pub extra_scopes: Vec<String>,
    /// The bundled local demo provider, not a real Authgear project: the page says so.
    pub local_demo: bool,
    /// Discovery (with the JWKS) is done again once it is this old, on the next call that
    /// needs the provider: a signing key the provider has withdrawn stops being trusted.
    pub discovery_max_age: std::time::Duration,
}

/// How long a discovery (and its JWKS) is used before it is done again.
const DEFAULT_DISCOVERY_MAX_AGE: &str = "1h";
const MAX_DISCOVERY_MAX_AGE: std::time::Duration = std::time::Duration::from_secs(30 * 86_400);

/// The app's public origin, e.g. `http://localhost:3000`, without a trailing slash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppUrl(String);

impl AppUrl {
    /// `scheme://host[:port]`.
    pub fn origin(&self) -> &str {
        &self.0
    }
    /// `<origin>/callback`, to register at the provider.
    pub fn redirect_uri(&self) -> String {
        format!("{}/callback", self.0)
    }
    /// `<origin>/`, where the provider sends the browser after logout.
    pub fn post_logout_redirect_uri(&self) -> String {
        format!("{}/", self.0)
    }
    /// Served over HTTPS: the cookie is `Secure` and named `__Host-session`.
    pub fn is_https(&self) -> bool {
        self.0.starts_with("https://")
    }
}

/// `APP_SECRET_KEY`: never printed (`secrecy`), wiped from memory when dropped.
#[derive(Clone)]
pub struct SecretKey(secrecy::SecretSlice<u8>);

impl SecretKey {
    /// The key's bytes.
    pub fn as_bytes(&self) -> &[u8] {
        self.0.expose_secret()
    }
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretKey([redacted])")
    }
}

/// One problem with one variable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigProblem {
    /// The environment variable.
    pub variable: &'static str,
    /// What is wrong with it, and the fix.
    pub message: String,
}

/// All problems found, reported together.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ConfigError(pub Vec<ConfigProblem>);

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "The configuration is not valid:")?;
        for problem in &self.0 {
            writeln!(f, "  - {}: {}", problem.variable, problem.message)?;
        }
        write!(
            f,
            "Set these in the environment or in .env (see .env.example and the README)."
        )
    }
}

impl Settings {
    /// Reads the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads settings through `lookup` (the environment, or a map in tests).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |name: &str| {
            lookup(name)
                .map(|value| value.trim().to_owned())
                .filter(|value| !value.is_empty())
        };
        let mut problems = Problems::default();

        let issuer = problems.check(
            "AUTHGEAR_DOMAIN",
            required(
                get("AUTHGEAR_DOMAIN"),
                "your Authgear project's domain, e.g. myapp.authgear.cloud",
            )
            .and_then(|value| parse_issuer(&value)),
        );
        let client_id = problems.check(
            "AUTHGEAR_CLIENT_ID",
            required(
                get("AUTHGEAR_CLIENT_ID"),
                "the client ID of your OIDC Client Application",
            ),
        );
        let client_secret = problems.check(
            "AUTHGEAR_CLIENT_SECRET",
            required(
                get("AUTHGEAR_CLIENT_SECRET"),
                "the client secret of your OIDC Client Application",
            ),
        );
        let extra_scopes = problems.check(
            "AUTHGEAR_SCOPES",
            parse_scopes(get("AUTHGEAR_SCOPES").as_deref().unwrap_or("")),
        );
        let secret_key = problems.check(
            "APP_SECRET_KEY",
            required(
                get("APP_SECRET_KEY"),
                "a random string of at least 32 bytes, e.g. `openssl rand -hex 32`",
            )
            .and_then(|value| parse_secret_key(&value)),
        );
        let app_url = problems.check(
            "APP_URL",
            parse_app_url(get("APP_URL").as_deref().unwrap_or("http://localhost:3000")),
        );
        let site_addr = problems.check(
            "LEPTOS_SITE_ADDR",
            parse_site_addr(
                get("LEPTOS_SITE_ADDR")
                    .as_deref()
                    .unwrap_or("127.0.0.1:3000"),
            ),
        );
        let port = problems.check(
            "PORT",
            get("PORT").map(|value| parse_port(&value)).transpose(),
        );
        let local_demo = problems.check(
            "LOCAL_DEMO_PROVIDER",
            parse_flag(get("LOCAL_DEMO_PROVIDER").as_deref().unwrap_or("false")),
        );
        let discovery_max_age = problems.check(
            "AUTHGEAR_DISCOVERY_MAX_AGE",
            session::parse_duration_at_most(
                get("AUTHGEAR_DISCOVERY_MAX_AGE")
                    .as_deref()
                    .unwrap_or(DEFAULT_DISCOVERY_MAX_AGE),
                MAX_DISCOVERY_MAX_AGE,
                "30d (signing keys change)",
            ),
        );
        let login_rate_limit = problems.check(
            "LOGIN_RATE_LIMIT",
            LoginRateLimit::parse(
                get("LOGIN_RATE_LIMIT")
                    .as_deref()
                    .unwrap_or(DEFAULT_LOGIN_RATE_LIMIT),
            ),
        );
        let webhook_secret = problems.check(
            "AUTHGEAR_WEBHOOK_SECRET",
            parse_webhook_secret(get("AUTHGEAR_WEBHOOK_SECRET")),
        );
        let webhook_path = problems.check(
            "AUTHGEAR_WEBHOOK_PATH",
            parse_webhook_path(
                get("AUTHGEAR_WEBHOOK_PATH")
                    .as_deref()
                    .unwrap_or(DEFAULT_WEBHOOK_PATH),
            ),
        );
        let end_session_method = problems.check(
            "AUTHGEAR_END_SESSION_METHOD",
            parse_end_session_method(
                get("AUTHGEAR_END_SESSION_METHOD")
                    .as_deref()
                    .unwrap_or("post"),
            ),
        );
        let session = session::parse(get, &mut problems);

        match (
            issuer,
            client_id,
            client_secret,
            extra_scopes,
            secret_key,
            app_url,
            site_addr,
            port,
            local_demo,
            discovery_max_age,
            session,
            login_rate_limit,
            webhook_secret,
            webhook_path,
            end_session_method,
        ) {
            (
                Some(issuer),
                Some(client_id),
                Some(client_secret),
                Some(extra_scopes),
                Some(secret_key),
                Some(app_url),
                Some(mut listen_addr),
                Some(port),
                Some(local_demo),
                Some(discovery_max_age),
                Some(session),
                Some(login_rate_limit),
                Some(webhook_secret),
                Some(webhook_path),
                Some(end_session_method),
            ) if problems.0.is_empty() => {
                if let Some(port) = port {
                    listen_addr.set_port(port);
                }
                Ok(Settings {
                    provider: ProviderSettings {
                        issuer,
                        client_id: ClientId::new(client_id),
                        client_secret: ClientSecret::new(client_secret),
                        extra_scopes,
                        local_demo,
                        discovery_max_age,
                    },
                    app_url,
                    secret_key,
                    listen_addr,
                    session,
                    login_rate_limit,
                    webhooks: webhook_secret.map(|secret| WebhookSettings {
                        path: webhook_path,
                        secret,
                    }),
                    end_session_method,
                })
            }
            _ => Err(ConfigError(problems.0)),
        }
    }
}

/// Collects problems while parsing goes on, so that all are reported together.
#[derive(Default)]
struct Problems(Vec<ConfigProblem>);

impl Problems {
    fn check<T>(&mut self, variable: &'static str, result: Result<T, String>) -> Option<T> {
        result
            .map_err(|message| self.0.push(ConfigProblem { variable, message }))
            .ok()
    }
}

fn required(value: Option<String>, what: &str) -> Result<String, String> {
    value.ok_or_else(|| format!("missing; set it to {what}"))
}

/// `myapp.authgear.cloud` (Authgear's guide) means `https://myapp.authgear.cloud`; a full
/// `http(s)://host[:port]` URL is taken as it is (for local providers).
pub fn parse_issuer(value: &str) -> Result<IssuerUrl, String> {
    let with_scheme = if value.contains("://") {
        value.to_owned()
    } else {
        format!("https://{value}")
    };
    let origin = parse_origin(&with_scheme).map_err(|why| {
        format!("{why}; expected a domain like myapp.authgear.cloud or a URL like http://localhost:4000")
    })?;
    IssuerUrl::new(origin).map_err(|error| format!("not a valid issuer URL ({error})"))
}

fn parse_webhook_secret(value: Option<String>) -> Result<Option<secrecy::SecretString>, String> {
    match value.filter(|value| !value.is_empty()) {
        None => Ok(None),
        Some(secret) if secret.chars().count() < MIN_WEBHOOK_SECRET_CHARS => Err(format!(
            "too short; copy the webhook secret from the Authgear portal (at least \
             {MIN_WEBHOOK_SECRET_CHARS} characters), or leave it unset to turn webhooks off"
        )),
        Some(secret) => Ok(Some(secrecy::SecretString::from(secret))),
    }
}

fn parse_webhook_path(value: &str) -> Result<String, String> {
    let valid = value.starts_with('/')
        && value.len() > 1
        && value.len() <= 200
        && !value.contains("//")
        && value
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || b"/-_.~".contains(&byte));
    if valid {
        Ok(value.to_owned())
    } else {
        Err(format!(
            "`{value}` is not a plain path; expected e.g. {DEFAULT_WEBHOOK_PATH} (letters, digits, \
             `/-_.~`)"
        ))
    }
}

fn parse_end_session_method(value: &str) -> Result<EndSessionMethod, String> {
    match value.to_ascii_lowercase().as_str() {
        "post" => Ok(EndSessionMethod::Post),
        "get" => Ok(EndSessionMethod::Get),
        _ => Err(format!("`{value}` is neither `post` nor `get`")),
    }
}

fn parse_app_url(value: &str) -> Result<AppUrl, String> {
    parse_origin(value)
        .map(AppUrl)
        .map_err(|why| format!("{why}; expected the app's address, e.g. http://localhost:3000"))
}

/// Accepts `scheme://host[:port]` with an optional trailing `/` and returns it without one.
fn parse_origin(value: &str) -> Result<String, String> {
    let url = Url::parse(value).map_err(|error| format!("`{value}` is not a URL ({error})"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!("`{value}` must start with http:// or https://"));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(format!("`{value}` has no host"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(format!(
            "`{value}` must not contain a user name or password"
        ));
    }
    if url.path() != "/" || url.query().is_some() || url.fragment().is_some() {
        return Err(format!("`{value}` must not have a path, query or fragment"));
    }
    Ok(url.as_str().trim_end_matches('/').to_owned())
}

fn parse_scopes(value: &str) -> Result<Vec<String>, String> {
    let mut scopes = Vec::new();
    for scope in value.split_ascii_whitespace() {
        // RFC 6749 §3.3: scope tokens are printable ASCII except space, `"` and `\`.
        let valid = scope
            .bytes()
            .all(|b| (0x21..=0x7e).contains(&b) && b != b'"' && b != b'\\');
        if !valid {
            return Err(format!("`{scope}` is not a valid scope name"));
        }
        if scope == FORBIDDEN_SCOPE {
            return Err(format!(
                "`{FORBIDDEN_SCOPE}` must not be requested by a web app; remove it"
            ));
        }
        if !matches!(scope, "openid" | "offline_access") && !scopes.iter().any(|s| s == scope) {
            scopes.push(scope.to_owned());
        }
    }
    Ok(scopes)
}

fn parse_secret_key(value: &str) -> Result<SecretKey, String> {
    if value.len() < MIN_SECRET_KEY_BYTES {
        return Err(format!(
            "is {} bytes long; use at least {MIN_SECRET_KEY_BYTES}, e.g. `openssl rand -hex 32`",
            value.len()
        ));
    }
    Ok(SecretKey(value.as_bytes().to_vec().into()))
}

fn parse_site_addr(value: &str) -> Result<SocketAddr, String> {
    value
        .parse()
        .map_err(|_| format!("`{value}` is not an address like 127.0.0.1:3000"))
}

fn parse_port(value: &str) -> Result<u16, String> {
    value
        .parse()
        .map_err(|_| format!("`{value}` is not a port number (0-65535)"))
}

fn parse_flag(value: &str) -> Result<bool, String> {
    match value.to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" => Ok(true),
        "0" | "false" | "no" => Ok(false),
        _ => Err(format!("`{value}` is not true or false")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    const KEY: &str = "0123456789abcdef0123456789abcdef";

    fn settings(pairs: &[(&str, &str)]) -> Result<Settings, ConfigError> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Settings::from_lookup(|name| map.get(name).cloned())
    }

    fn valid() -> Vec<(&'static str, &'static str)> {
        vec![
            ("AUTHGEAR_DOMAIN", "myapp.authgear.cloud"),
            ("AUTHGEAR_CLIENT_ID", "client"),
            ("AUTHGEAR_CLIENT_SECRET", "secret"),
            ("APP_SECRET_KEY", KEY),
        ]
    }

    fn variables(error: ConfigError) -> Vec<&'static str> {
        error.0.into_iter().map(|p| p.variable).collect()
    }

    #[test]
    fn the_discovery_max_age_is_a_duration() {
        let mut pairs = valid();
        pairs.push(("AUTHGEAR_DISCOVERY_MAX_AGE", "10m"));
        let s = settings(&pairs).expect("valid");
        assert_eq!(
            s.provider.discovery_max_age,
            std::time::Duration::from_secs(600)
        );
        for bad in ["0", "soon", "-1h", "31d", "99999999999999999d"] {
            let mut pairs = valid();
            pairs.push(("AUTHGEAR_DISCOVERY_MAX_AGE", bad));
            let error = settings(&pairs).expect_err(bad);
            assert_eq!(variables(error), ["AUTHGEAR_DISCOVERY_MAX_AGE"], "{bad}");
        }
    }

    #[test]
    fn defaults_follow_the_authgear_guide() {
        let s = settings(&valid()).expect("valid");
        assert_eq!(s.provider.issuer.as_str(), "https://myapp.authgear.cloud");
        assert_eq!(s.app_url.redirect_uri(), "http://localhost:3000/callback");
        assert_eq!(
            s.app_url.post_logout_redirect_uri(),
            "http://localhost:3000/"
        );
        assert_eq!(s.listen_addr, "127.0.0.1:3000".parse().expect("addr"));
        assert!(!s.app_url.is_https());
        assert!(!s.provider.local_demo);
        assert_eq!(
            s.provider.discovery_max_age,
            std::time::Duration::from_secs(3600)
        );
        assert!(s.provider.extra_scopes.is_empty());
    }

    #[test]
    fn full_urls_are_accepted_for_local_providers() {
        assert_eq!(
            parse_issuer("http://localhost:4000/").expect("ok").as_str(),
            "http://localhost:4000"
        );
        assert_eq!(
            parse_issuer("https://auth.example.com")
                .expect("ok")
                .as_str(),
            "https://auth.example.com"
        );
    }

    #[test]
    fn bad_domains_are_rejected() {
        for bad in [
            "ftp://example.com",
            "https://example.com/tenant",
            "https://user:pw@example.com",
            "https://example.com?x=1",
            "exa mple.com",
            "http://",
        ] {
            assert!(parse_issuer(bad).is_err(), "{bad} should be rejected");
        }
    }

    #[test]
    fn every_missing_variable_is_reported_at_once() {
        let error = settings(&[]).expect_err("nothing set");
        assert_eq!(
            variables(error.clone()),
            [
                "AUTHGEAR_DOMAIN",
                "AUTHGEAR_CLIENT_ID",
                "AUTHGEAR_CLIENT_SECRET",
                "APP_SECRET_KEY"
            ]
        );
        let text = error.to_string();
        assert!(text.contains("AUTHGEAR_CLIENT_SECRET: missing"), "{text}");
    }

    #[test]
    fn short_secret_key_is_rejected_with_its_length() {
        let mut pairs = valid();
        pairs[3] = ("APP_SECRET_KEY", "too-short");
        let error = settings(&pairs).expect_err("short key");
        assert_eq!(variables(error.clone()), ["APP_SECRET_KEY"]);
        assert!(error.to_string().contains("9 bytes"));
    }

    #[test]
    fn webhooks_are_off_without_a_secret_and_checked_with_one() {
        let s = settings(&valid()).expect("valid");
        assert!(s.webhooks.is_none());
        assert_eq!(s.end_session_method, EndSessionMethod::Post);
        let mut pairs = valid();
        pairs.push(("AUTHGEAR_WEBHOOK_SECRET", "a-secret-from-the-portal"));
        let s = settings(&pairs).expect("valid");
        let webhooks = s.webhooks.expect("on");
        assert_eq!(webhooks.path, "/webhooks/authgear");
        assert!(
            !format!("{webhooks:?}").contains("portal"),
            "the secret is never printed"
        );
        let mut pairs = valid();
        pairs.extend([
            ("AUTHGEAR_WEBHOOK_SECRET", "short"),
            ("AUTHGEAR_WEBHOOK_PATH", "webhooks"),
            ("AUTHGEAR_END_SESSION_METHOD", "delete"),
        ]);
        let error = settings(&pairs).expect_err("invalid");
        assert_eq!(
            variables(error),
            [
                "AUTHGEAR_WEBHOOK_SECRET",
                "AUTHGEAR_WEBHOOK_PATH",
                "AUTHGEAR_END_SESSION_METHOD"
            ]
        );
        for bad in ["/", "/a//b", "/a?b", "/a b", "https://x/y"] {
            assert!(parse_webhook_path(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn port_overrides_the_site_address_port() {
        let mut pairs = valid();
        pairs.push(("LEPTOS_SITE_ADDR", "0.0.0.0:8080"));
        pairs.push(("PORT", "5000"));
        let s = settings(&pairs).expect("valid");
        assert_eq!(s.listen_addr, "0.0.0.0:5000".parse().expect("addr"));
    }

    #[test]
    fn invalid_optional_values_are_named() {
        let mut pairs = valid();
        pairs.extend([
            ("PORT", "70000"),
            ("LEPTOS_SITE_ADDR", "localhost"),
            ("APP_URL", "localhost:3000"),
            ("LOCAL_DEMO_PROVIDER", "maybe"),
        ]);
        let error = settings(&pairs).expect_err("invalid");
        assert_eq!(
            variables(error),
            ["APP_URL", "LEPTOS_SITE_ADDR", "PORT", "LOCAL_DEMO_PROVIDER"]
        );
    }

    #[test]
    fn https_app_url_is_detected() {
        let mut pairs = valid();
        pairs.push(("APP_URL", "https://app.example.com/"));
        let s = settings(&pairs).expect("valid");
        assert!(s.app_url.is_https());
        assert_eq!(s.app_url.redirect_uri(), "https://app.example.com/callback");
    }

    #[test]
    fn extra_scopes_are_validated_and_deduplicated() {
        assert_eq!(
            parse_scopes("email  profile email openid").expect("ok"),
            ["email", "profile"]
        );
        assert!(parse_scopes("https://authgear.com/scopes/full-access").is_err());
        assert!(parse_scopes("bad\"scope").is_err());
    }

    #[test]
    fn secrets_are_not_printed() {
        let s = settings(&valid()).expect("valid");
        let debug = format!("{s:?}");
        assert!(!debug.contains(KEY));
        assert!(!debug.contains("\"secret\""));
    }

    const VARIABLES: [&str; 13] = [
        "AUTHGEAR_DOMAIN",
        "AUTHGEAR_CLIENT_ID",
        "AUTHGEAR_CLIENT_SECRET",
        "AUTHGEAR_SCOPES",
        "APP_SECRET_KEY",
        "APP_URL",
        "LEPTOS_SITE_ADDR",
        "PORT",
        "LOCAL_DEMO_PROVIDER",
        "SESSION_STORE",
        "SESSION_IDLE_TIMEOUT",
        "SESSION_MAX_LIFETIME",
        "RUST_LOG",
    ];

    proptest::proptest! {
        /// Any values for any variables: parsing never panics, reports problems by variable,
        /// and whatever it accepts keeps its promises.
        #[test]
        fn configuration_parsing_never_panics(
            values in proptest::collection::vec(
                proptest::option::of(proptest::prop_oneof![
                    ".{0,80}",
                    "(https?|redis|sqlite|ftp)://[a-z0-9.:@/%]{0,40}",
                    "[0-9]{1,25}[smhdw]?",
                ]),
                VARIABLES.len(),
            )
        ) {
            let lookup = |name: &str| {
                VARIABLES
                    .iter()
                    .position(|variable| *variable == name)
                    .and_then(|i| values[i].clone())
            };
            match Settings::from_lookup(lookup) {
                Ok(settings) => {
                    proptest::prop_assert!(settings.secret_key.as_bytes().len() >= MIN_SECRET_KEY_BYTES);
                    proptest::prop_assert!(matches!(settings.provider.issuer.url().scheme(), "http" | "https"));
                    proptest::prop_assert!(settings.session.idle_timeout <= settings.session.max_lifetime);
                    proptest::prop_assert!(!settings.app_url.origin().ends_with('/'));
                }
                Err(error) => {
                    proptest::prop_assert!(!error.0.is_empty());
                    for problem in &error.0 {
                        proptest::prop_assert!(VARIABLES.contains(&problem.variable));
                    }
                }
            }
        }
    }
}

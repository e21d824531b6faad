//! [`SettingsBuilder`]: the settings in code, one method per setting, every problem named at
//! once by [`build`](SettingsBuilder::build).

use super::*;

/// Builds [`Settings`] in code; see [`Settings::builder`]. Each method sets one setting;
/// [`build`](SettingsBuilder::build) checks them all and names every problem at once (text that
/// is not a value of its kind included: each method parses what it is given, and keeps the
/// problem for `build` to report).
#[derive(Debug, Clone, Default)]
#[must_use = "call .build() for the settings"]
pub struct SettingsBuilder {
    provider: Option<(Result<Issuer, ConfigError>, String, String)>,
    secret_key: Option<Result<SecretKey, ConfigError>>,
    app_url: Option<Result<AppUrl, ConfigError>>,
    listen_addr: Option<SocketAddr>,
    paths: Option<Result<AuthPaths, String>>,
    scopes: Vec<String>,
    discovery_max_age: Option<Duration>,
    login_rate_limit: Option<Option<LoginRateLimit>>,
    webhook_secret: Option<String>,
    webhook_path: Option<String>,
    end_session_method: Option<EndSessionMethod>,
    session_store: Option<StoreUrl>,
    idle_timeout: Option<Duration>,
    max_lifetime: Option<Duration>,
    session_cache_size: Option<usize>,
    recent_login_to_end_sessions: Option<Duration>,
    ui_locales: Option<Result<UiLocales, String>>,
    ui_locales_from_accept_language: bool,
    silent_login_once: bool,
    settings_signed_in: bool,
    error_page: Option<ErrorPageRenderer>,
    trusted_proxies: Option<Result<TrustedProxies, String>>,
    limits: Option<ServerLimits>,
    security_headers: Option<SecurityHeaders>,
    allow_insecure_http: bool,
    clock_skew: Option<Duration>,
}

impl SettingsBuilder {
    /// The provider and this app's client registration there (required): the issuer as
    /// [`Issuer::parse`] takes it (a domain, or the URL exactly as the provider writes it).
    pub fn provider(
        mut self,
        issuer: &str,
        client_id: impl Into<String>,
        client_secret: impl Into<String>,
    ) -> Self {
        self.provider = Some((
            Issuer::parse(issuer),
            client_id.into(),
            client_secret.into(),
        ));
        self
    }
    /// The key the session cookie's signing and encryption key is derived from (required; at
    /// least 32 bytes, see [`SecretKey::new`]).
    pub fn secret_key(mut self, key: impl Into<Vec<u8>>) -> Self {
        self.secret_key = Some(SecretKey::new(key));
        self
    }
    /// The app's public origin, as [`AppUrl::parse`] takes it (default
    /// `http://localhost:3000`).
    pub fn app_url(mut self, app_url: &str) -> Self {
        self.app_url = Some(AppUrl::parse(app_url));
        self
    }
    /// Where the server listens (default `127.0.0.1:3000`), for an app that asks the settings.
    pub fn listen_addr(mut self, addr: SocketAddr) -> Self {
        self.listen_addr = Some(addr);
        self
    }
    /// Places every route of the login under `base`, e.g. `/auth` (default: at the root);
    /// see [`AuthPaths::under`].
    pub fn base_path(mut self, base: &str) -> Self {
        self.paths = Some(AuthPaths::under(base));
        self
    }
    /// Scopes to ask for on top of `openid offline_access` (default none).
    pub fn scopes<S: Into<String>>(mut self, scopes: impl IntoIterator<Item = S>) -> Self {
        self.scopes = scopes.into_iter().map(Into::into).collect();
        self
    }
    /// How long a discovery and its keys are used before they are fetched again (default 1 h,
    /// at most 30 days).
    pub fn discovery_max_age(mut self, max_age: Duration) -> Self {
        self.discovery_max_age = Some(max_age);
        self
    }
    /// How often one client may start a login (default 20 a minute); `None`: no limit.
    pub fn login_rate_limit(mut self, limit: Option<LoginRateLimit>) -> Self {
        self.login_rate_limit = Some(limit);
        self
    }
    /// Receives Authgear's webhooks, signed with `secret` (default: off).
    pub fn webhooks(mut self, secret: impl Into<String>) -> Self {
        self.webhook_secret = Some(secret.into());
        self
    }
    /// The webhook route's path, when it is not [`AuthPaths::webhooks`].
    pub fn webhook_path(mut self, path: impl Into<String>) -> Self {
        self.webhook_path = Some(path.into());
        self
    }
    /// How a logout reaches the provider's end-session endpoint (default POST).
    pub fn end_session_method(mut self, method: EndSessionMethod) -> Self {
        self.end_session_method = Some(method);
        self
    }
    /// Where sessions are kept (default `sqlite://data/sessions.db`).
    pub fn session_store(mut self, store: StoreUrl) -> Self {
        self.session_store = Some(store);
        self
    }
    /// A session ends after this long without a request (default 24 h, at most 30 days).
    pub fn idle_timeout(mut self, idle: Duration) -> Self {
        self.idle_timeout = Some(idle);
        self
    }
    /// A session ends this long after login, however active (default 7 days, at most 364).
    pub fn max_lifetime(mut self, max: Duration) -> Self {
        self.max_lifetime = Some(max);
        self
    }
    /// How many sessions the SQLite store keeps decoded in memory, the most recently used
    /// (default 20,000; the memory each takes is in bench/README.md, "Scale"); reads of the
    /// others go to the file.
    pub fn session_cache_size(mut self, sessions: usize) -> Self {
        self.session_cache_size = Some(sessions);
        self
    }
    /// Ending sessions from the user's list of them (`end_session`, `end_other_sessions`)
    /// needs a login within `max_age` (default: any signed-in session may): an older one is
    /// answered [`AuthError::RecentLoginRequired`](crate::AuthError::RecentLoginRequired), and a
    /// plain form post of it goes to the login with `max_age` and back.
    pub fn recent_login_to_end_sessions(mut self, max_age: Duration) -> Self {
        self.recent_login_to_end_sessions = Some(max_age);
        self
    }
    /// The language of the provider's pages when a login names none: OpenID Connect's
    /// `ui_locales`, BCP 47 tags preferred first (`"fr"`, `"fr-CA en"`; default none: the
    /// provider's own choice). `/login?ui_locales=…` and [`LoginLink`](crate::LoginLink)'s
    /// `ui_locales` name one for a login.
    pub fn ui_locales(mut self, locales: &str) -> Self {
        self.ui_locales = Some(UiLocales::parse(locales));
        self
    }
    /// A login that names no language takes the browser's `Accept-Language` (its first five,
    /// by preference) before [`SettingsBuilder::ui_locales`]' default (default off).
    pub fn ui_locales_from_accept_language(mut self, on: bool) -> Self {
        self.ui_locales_from_accept_language = on;
        self
    }
    /// A guest's first page in a browser session tries a silent sign-in first (default off):
    /// a redirect to `/login?prompt=none`, which comes back signed in when the provider still
    /// has a session for the user, and a guest, on the same page, when it has none. Once per
    /// browser session (a session cookie remembers it), only for a browser's top-level
    /// navigation (`Sec-Fetch-Mode: navigate`), never after a logout in that session.
    pub fn silent_login_once(mut self, on: bool) -> Self {
        self.silent_login_once = on;
        self
    }
    /// "Manage account" opens Authgear's settings page already signed in, as Authgear's own SDKs
    /// do (default off): logins ask for Authgear's full-access scope, and
    /// [`AuthPaths::account_settings`] exchanges the session's refresh token for a one-time
    /// app session token that signs the browser in there. Only for an Authgear client that may
    /// have full access (Authgear's first-party application types; an "OIDC Client
    /// Application", which is confidential, may not, and Authgear refuses its logins with
    /// `invalid_scope`). Off, "Manage account" is the plain settings link.
    ///
    /// ```
    /// use leptos_authgear::server::Settings;
    ///
    /// let settings = Settings::builder()
    ///     .provider("myapp.authgear.cloud", "client-id", "client-secret")
    ///     .secret_key("0123456789abcdef0123456789abcdef")
    ///     .settings_signed_in(true)
    ///     .build()
    ///     .expect("valid settings");
    /// assert!(settings.provider().extra_scopes().iter().any(|s| s.ends_with("/full-access")));
    /// ```
    pub fn settings_signed_in(mut self, on: bool) -> Self {
        self.settings_signed_in = on;
        self
    }
    /// The reverse proxies in front of the app, whose `X-Forwarded-For` (or RFC 7239
    /// `Forwarded`) names the client: comma-separated addresses and CIDR ranges, e.g.
    /// `"127.0.0.1, 10.0.0.0/8"` (default none: the connection's peer is the client, and those
    /// headers are ignored). Behind a proxy that is not listed, every client has the proxy's
    /// address, and the login rate limit counts them all as one.
    pub fn trusted_proxies(mut self, list: &str) -> Self {
        self.trusted_proxies = Some(TrustedProxies::parse(list));
        self
    }
    /// What the server holds open at most and how long it waits (default
    /// [`ServerLimits::default`]).
    pub fn limits(mut self, limits: ServerLimits) -> Self {
        self.limits = Some(limits);
        self
    }
    /// The headers the auth layer adds to every response (default: all of them).
    pub fn security_headers(mut self, headers: SecurityHeaders) -> Self {
        self.security_headers = Some(headers);
        self
    }
    /// Accepts a plain-http `APP_URL` on a host other than localhost (default: refused, as
    /// cookies would travel without `Secure`): only for a network where that is acceptable.
    pub fn allow_insecure_http(mut self, allow: bool) -> Self {
        self.allow_insecure_http = allow;
        self
    }
    /// How far the provider's clock may be from this server's (default 60 s, at most 1 h): a
    /// webhook's cut-off ("sessions signed in before the event") is moved this much later,
    /// so that a session signed in just before the event ends even when the clocks differ.
    pub fn clock_skew(mut self, skew: Duration) -> Self {
        self.clock_skew = Some(skew);
        self
    }

    /// The page a person sees when one of the login's routes fails, and for the app's 404
    /// ([`not_found`](crate::server::not_found)): a whole HTML document from an [`ErrorPage`] (default:
    /// the crate's neutral page, [`default_page`](crate::server::default_page)). Escape what it
    /// quotes of the page's text.
    ///
    /// ```
    /// use leptos_authgear::server::{ErrorKind, ErrorPage, Settings};
    ///
    /// fn my_error_page(page: &ErrorPage) -> String {
    ///     let title = match page.kind {
    ///         ErrorKind::ProviderUnavailable => "On ne peut pas joindre le service",
    ///         _ => page.title,
    ///     };
    ///     format!(
    ///         "<!DOCTYPE html><title>{title}</title><h1>{title}</h1><a href=\"{}\">Réessayer</a>",
    ///         page.login_url
    ///     )
    /// }
    /// let builder = Settings::builder().error_page(my_error_page);
    /// ```
    pub fn error_page(
        mut self,
        render: impl Fn(&ErrorPage) -> String + Send + Sync + 'static,
    ) -> Self {
        self.error_page = Some(ErrorPageRenderer(std::sync::Arc::new(render)));
        self
    }

    /// The settings, or every problem found.
    pub fn build(self) -> Result<Settings, ConfigError> {
        let mut problems = Problems::default();
        let (issuer, client_id, client_secret) = self.provider.unwrap_or_else(|| {
            (
                Err(missing("AUTHGEAR_DOMAIN", ISSUER)),
                String::new(),
                String::new(),
            )
        });
        let issuer = problems.take(issuer);
        let client_id = problems.check("AUTHGEAR_CLIENT_ID", non_empty(client_id, CLIENT_ID));
        let client_secret = problems.check(
            "AUTHGEAR_CLIENT_SECRET",
            non_empty(client_secret, CLIENT_SECRET),
        );
        let secret_key = problems.take(
            self.secret_key
                .unwrap_or_else(|| Err(missing("APP_SECRET_KEY", SECRET_KEY))),
        );
        let app_url = self.app_url.map(|url| problems.take(url));
        let paths = match self.paths {
            Some(paths) => problems.check("AUTH_BASE_PATH", paths),
            None => Some(AuthPaths::default()),
        };
        let extra_scopes = problems
            .check("AUTHGEAR_SCOPES", check_scopes(self.scopes))
            .map(|mut scopes| {
                if self.settings_signed_in {
                    scopes.push(FULL_ACCESS_SCOPE.to_owned());
                }
                scopes
            });
        let ui_locales = self
            .ui_locales
            .and_then(|locales| problems.check("AUTHGEAR_UI_LOCALES", locales));
        let discovery_max_age = problems.check(
            "AUTHGEAR_DISCOVERY_MAX_AGE",
            session::check_duration(
                self.discovery_max_age.unwrap_or(DEFAULT_DISCOVERY_MAX_AGE),
                MAX_DISCOVERY_MAX_AGE,
                "30d (signing keys change)",
            ),
        );
        let paths = paths.unwrap_or_default();
        let webhooks = match self.webhook_secret {
            None => None,
            Some(secret) => {
                let path = self
                    .webhook_path
                    .unwrap_or_else(|| paths.webhooks().to_owned());
                let secret =
                    problems.check("AUTHGEAR_WEBHOOK_SECRET", check_webhook_secret(secret));
                let path = problems.check("AUTHGEAR_WEBHOOK_PATH", check_plain_path(path));
                secret
                    .zip(path)
                    .map(|(secret, path)| WebhookSettings { path, secret })
            }
        };
        let session = session::check(
            self.session_store,
            self.idle_timeout,
            self.max_lifetime,
            self.session_cache_size,
            self.recent_login_to_end_sessions,
            &mut problems,
        );
        let trusted_proxies = match self.trusted_proxies {
            Some(proxies) => problems.check("TRUSTED_PROXIES", proxies),
            None => Some(TrustedProxies::default()),
        };
        let limits = self.limits.unwrap_or_default();
        for (variable, message) in limits.problems() {
            problems.0.push(ConfigProblem { variable, message });
        }
        let clock_skew = self.clock_skew.unwrap_or(DEFAULT_CLOCK_SKEW);
        if clock_skew > MAX_CLOCK_SKEW {
            problems.0.push(ConfigProblem {
                variable: "CLOCK_SKEW",
                message: "must not be longer than 1h".to_owned(),
            });
        }
        if let Some(Some(url)) = &app_url {
            problems.check(
                "APP_URL",
                production::check_transport(url, self.allow_insecure_http),
            );
        }
        let login_rate_limit = self
            .login_rate_limit
            .unwrap_or_else(|| LoginRateLimit::parse(DEFAULT_LOGIN_RATE_LIMIT).unwrap_or_default());
        match (
            issuer,
            client_id,
            client_secret,
            secret_key,
            extra_scopes,
            discovery_max_age,
            session,
            app_url,
        ) {
            (
                Some(issuer),
                Some(client_id),
                Some(client_secret),
                Some(secret_key),
                Some(extra_scopes),
                Some(discovery_max_age),
                Some(session),
                app_url @ (None | Some(Some(_))),
            ) if problems.0.is_empty() => Ok(Settings {
                provider: ProviderSettings {
                    issuer,
                    client_id: ClientId::new(client_id),
                    client_secret: ClientSecret::new(client_secret),
                    extra_scopes,
                    discovery_max_age,
                },
                app_url: app_url.flatten().unwrap_or_else(AppUrl::localhost),
                secret_key,
                listen_addr: self
                    .listen_addr
                    .unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 3000))),
                session,
                login_rate_limit,
                webhooks,
                end_session_method: self.end_session_method.unwrap_or(EndSessionMethod::Post),
                paths,
                error_page: self.error_page,
                trusted_proxies: trusted_proxies.unwrap_or_default(),
                limits,
                security_headers: self.security_headers.unwrap_or_default(),
                clock_skew,
                ui_locales,
                ui_locales_from_accept_language: self.ui_locales_from_accept_language,
                silent_login_once: self.silent_login_once,
                settings_signed_in: self.settings_signed_in,
            }),
            _ => Err(ConfigError(problems.0)),
        }
    }
}

const CLIENT_ID: &str = "the client ID of your OIDC Client Application";
const CLIENT_SECRET: &str = "the client secret of your OIDC Client Application";
const SECRET_KEY: &str = "a random string of at least 32 bytes, e.g. `openssl rand -hex 32`";

fn non_empty(value: String, what: &str) -> Result<String, String> {
    if value.trim().is_empty() {
        Err(format!("missing; set it to {what}"))
    } else {
        Ok(value)
    }
}

fn check_webhook_secret(secret: String) -> Result<secrecy::SecretString, String> {
    if secret.chars().count() < MIN_WEBHOOK_SECRET_CHARS {
        return Err(format!(
            "too short; copy the webhook secret from the Authgear portal (at least \
             {MIN_WEBHOOK_SECRET_CHARS} characters), or leave it unset to turn webhooks off"
        ));
    }
    Ok(secrecy::SecretString::from(secret))
}

fn check_plain_path(value: String) -> Result<String, String> {
    let valid = value.starts_with('/')
        && value.len() > 1
        && value.len() <= 200
        && !value.contains("//")
        && value
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || b"/-_.~".contains(&byte));
    if valid {
        Ok(value)
    } else {
        Err(format!(
            "`{value}` is not a plain path; expected e.g. /webhooks/authgear (letters, digits, \
             `/-_.~`)"
        ))
    }
}

/// Valid, without `openid` and `offline_access` (always asked for), each once.
fn check_scopes(requested: Vec<String>) -> Result<Vec<String>, String> {
    let mut scopes: Vec<String> = Vec::new();
    for scope in requested {
        // RFC 6749 §3.3: scope tokens are printable ASCII except space, `"` and `\`.
        let valid = !scope.is_empty()
            && scope
                .bytes()
                .all(|b| (0x21..=0x7e).contains(&b) && b != b'"' && b != b'\\');
        if !valid {
            return Err(format!("`{scope}` is not a valid scope name"));
        }
        if scope == FULL_ACCESS_SCOPE {
            return Err(format!(
                "`{FULL_ACCESS_SCOPE}` is asked for by AUTHGEAR_SETTINGS_SIGNED_IN=true (for an \
                 Authgear client that may have it), never listed here; remove it"
            ));
        }
        if !matches!(scope.as_str(), "openid" | "offline_access") && !scopes.contains(&scope) {
            scopes.push(scope);
        }
    }
    Ok(scopes)
}

//! The server side (feature `ssr`): [`Auth`] builds everything from the environment; its
//! [`routes`](Auth::routes) and [`layer`](Auth::layer) go into the app's axum router; server
//! functions call [`require_user`] and [`access_token`].

mod bench_support;
pub(crate) mod client_address;
pub(crate) mod configuration;
mod devices;
pub(crate) mod error;
mod event_streams;
mod extract;
mod functions;
mod head_timer;
pub(crate) mod id_token;
mod layer;
pub(crate) mod login_attempt;
pub(crate) mod login_rate;
pub(crate) mod logout_token;
pub(crate) mod oidc;
mod page_cache;
mod pages;
pub(crate) mod provider_http;
pub(crate) mod provider_key;
pub(crate) mod refresh_backoff;
pub(crate) mod return_to;
pub(crate) mod routes;
mod same_origin;
pub(crate) mod security_headers;
mod serve;
pub(crate) mod session;
pub(crate) mod silent_login;
mod stored_id_token;
pub(crate) mod stores;
#[cfg(test)]
mod test_support;
// In this crate's own tests too, which share its provider's discovery document.
#[cfg(any(test, feature = "testing"))]
pub mod testing;
pub(crate) mod tokens;
pub(crate) mod ui_locales;

pub use client_address::TrustedProxies;
pub use configuration::{
    AppUrl, ConfigError, ConfigProblem, EndSessionMethod, Issuer, ProviderSettings, SecretKey,
    SecurityHeaders, ServerLimits, SessionSettings, Settings, SettingsBuilder, StoreUrl,
    WebhookSettings,
};
pub use devices::{end_other_sessions, end_session, list_sessions};
pub use error::{default_page, escape_html, not_found, ErrorKind, ErrorPage, RenderErrorPage};
pub use extract::{MaybeUser, SignedIn};
pub use functions::{
    access_token, refresh_profile, require_recent_login, require_user, token_activity, AccessToken,
    TokenActivity,
};
pub use layer::{AuthLayer, AuthService};
pub use security_headers::page_security_policy;
pub use serve::serve;
pub use stores::CustomStore;

/// The session store as the crate drives it, and records and cookies as logins make them, for
/// this crate's own benchmarks (`benches/`): not part of the API, and may change at any time.
#[doc(hidden)]
pub mod __bench {
    pub use super::bench_support::{session_cookie, signed_in_record};
    pub use super::login_rate::LoginRate;
    pub use super::stores::Sessions;
}
pub use login_rate::LoginRateLimit;
#[cfg(any(test, feature = "test-fixtures"))]
pub use session::SignedInUser;

pub(crate) use functions::{
    current_auth_state, expiry_warning_before, page_login_within, page_state,
};
pub(crate) use pages::page_waits;

use crate::AuthState;
use login_attempt::LoginAttempts;
use login_rate::LoginRate;
use oidc::Provider;
use routes::backchannel::SeenTokenIds;
use session::{AuthSession, DecodedSessions, SessionLifetimes};
use std::sync::Arc;
use stores::refresh_lock::RefreshLocks;
use stores::Sessions;
use tokens::TokenManager;
use tower_sessions::cookie::Key;

/// The login, built from [`Settings`]: the provider, the session store, the routes and the
/// layer. Cheap to clone (one `Arc`).
#[derive(Clone)]
pub struct Auth(Arc<Inner>);

struct Inner {
    settings: Settings,
    provider: Arc<Provider>,
    tokens: TokenManager,
    sessions: Sessions,
    seen_logout_tokens: Arc<SeenTokenIds>,
    lifetimes: SessionLifetimes,
    decoded: Option<Arc<dyn DecodedSessions>>,
    /// Where the routes are, for as long as the program runs (see `AuthPaths::into_static`).
    paths: &'static crate::AuthPaths,
    /// The state of a page for a visitor without a session.
    guest: AuthState,
    /// Where "Manage account" goes: the provider's settings page, or this crate's route that
    /// opens it signed in (`AUTHGEAR_SETTINGS_SIGNED_IN`).
    account_settings_url: String,
    /// The provider's origin (its pages and end-session endpoint are there, whatever the
    /// issuer's path): the page's policy lets forms go there.
    provider_origin: String,
    /// The session cookie's and the login-attempt cookies' key, from `APP_SECRET_KEY`.
    cookie_key: Key,
    login_attempts: LoginAttempts,
    login_rate: Option<LoginRate>,
    /// Set by [`Auth::stop_event_streams`].
    stopping: tokio::sync::watch::Sender<bool>,
    /// The open `GET /session/events` streams, counted.
    event_streams: Arc<event_streams::EventStreams>,
    /// Whether a login without the client's address was already reported.
    reported_no_client: std::sync::atomic::AtomicBool,
}

/// Its parts, for this crate's own modules: each takes the part it uses through these, and a
/// route that needs only a few takes them as state of its own (`routes::router`).
impl Auth {
    pub(crate) fn provider(&self) -> &Arc<Provider> {
        &self.0.provider
    }
    pub(crate) fn tokens(&self) -> &TokenManager {
        &self.0.tokens
    }
    pub(crate) fn sessions(&self) -> &Sessions {
        &self.0.sessions
    }
    pub(crate) fn seen_logout_tokens(&self) -> &Arc<SeenTokenIds> {
        &self.0.seen_logout_tokens
    }
    pub(crate) fn lifetimes(&self) -> SessionLifetimes {
        self.0.lifetimes
    }
    pub(crate) fn decoded(&self) -> &Option<Arc<dyn DecodedSessions>> {
        &self.0.decoded
    }
    pub(crate) fn paths(&self) -> &'static crate::AuthPaths {
        self.0.paths
    }
    pub(crate) fn provider_origin(&self) -> &str {
        &self.0.provider_origin
    }
    pub(crate) fn cookie_key(&self) -> &Key {
        &self.0.cookie_key
    }
    pub(crate) fn login_attempts(&self) -> &LoginAttempts {
        &self.0.login_attempts
    }
    pub(crate) fn login_rate(&self) -> &Option<LoginRate> {
        &self.0.login_rate
    }
    pub(crate) fn stopping(&self) -> &tokio::sync::watch::Sender<bool> {
        &self.0.stopping
    }
    pub(crate) fn event_streams(&self) -> &Arc<event_streams::EventStreams> {
        &self.0.event_streams
    }
}

/// Why [`Auth`] could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// A variable is missing or invalid; the message names each and its fix.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The session store (`SESSION_STORE`) could not be opened.
    #[error("SESSION_STORE ({store}): {message}")]
    Store {
        /// The store as configured (without its password).
        store: String,
        /// What went wrong.
        message: String,
    },
    /// The provider's settings cannot make a client (e.g. an unusable issuer URL).
    #[error("{0}")]
    Provider(String),
}

/// Expired SQLite sessions are deleted this often (or every idle timeout, if shorter).
const EXPIRED_DELETION_PERIOD: std::time::Duration = std::time::Duration::from_secs(60);

impl Auth {
    /// Reads [`Settings`] from the environment (`AUTHGEAR_*`, `APP_URL`, `APP_SECRET_KEY`,
    /// `SESSION_*`; see the README) and opens the session store. Call it inside the tokio
    /// runtime. Does not wait for the provider: discovery starts in the background and is
    /// retried on the first login if the provider is down.
    pub async fn from_env() -> Result<Self, StartError> {
        Self::new(Settings::from_env()?).await
    }

    /// As [`Auth::from_env`], from settings already read.
    pub async fn new(settings: Settings) -> Result<Self, StartError> {
        let sessions = Sessions::connect(&settings.session)
            .await
            .map_err(|message| StartError::Store {
                store: settings.session.store.to_string(),
                message,
            })?;
        Self::start(settings, sessions)
    }

    /// As [`Auth::new`], with sessions in `store`, any `tower_sessions::SessionStore` the app
    /// already runs (Postgres through `tower-sessions-sqlx-store`, say); the settings' session
    /// store is not used, their lifetimes are. [`CustomStore`] says what such a store does not
    /// guarantee that the built-in ones do.
    ///
    /// ```no_run
    /// # #[cfg(feature = "ssr")]
    /// # async fn example(settings: leptos_authgear::server::Settings) -> Result<(), Box<dyn std::error::Error>> {
    /// use leptos_authgear::server::Auth;
    /// // e.g. tower_sessions_sqlx_store::PostgresStore::new(pool), migrated.
    /// let store = tower_sessions::MemoryStore::default();
    /// let auth = Auth::with_store(settings, store).await?;
    /// # Ok(()) }
    /// ```
    pub async fn with_store(
        settings: Settings,
        store: impl tower_sessions::SessionStore,
    ) -> Result<Self, StartError> {
        Self::start(settings, Sessions::custom(CustomStore::new(store)))
    }

    fn start(settings: Settings, sessions: Sessions) -> Result<Self, StartError> {
        let provider = Provider::new(&settings).map_err(StartError::Provider)?;
        let provider = Arc::new(provider);
        // Discover in the background: a provider that is down must not stop the app starting.
        tokio::spawn({
            let provider = provider.clone();
            async move {
                if let Err(error) = provider.client().await {
                    tracing::warn!(%error, "provider discovery failed; will retry on the next login");
                }
            }
        });
        sessions.spawn_expired_deletion(settings.session.idle_timeout.min(EXPIRED_DELETION_PERIOD));
        let tokens = TokenManager::new(provider.clone(), RefreshLocks::new(&sessions));
        let event_streams = event_streams::EventStreams::new(
            settings.limits.max_event_streams,
            settings.limits.max_event_streams_per_session,
        );
        dispatch_session_ends(&sessions, &event_streams);
        let lifetimes = SessionLifetimes {
            idle_timeout: settings.session.idle_timeout.as_secs() as i64,
            max_lifetime: settings.session.max_lifetime.as_secs() as i64,
        };
        let cookie_key = Key::derive_from(settings.secret_key.as_bytes());
        let paths = settings.paths.clone().into_static();
        let seen_logout_tokens = Arc::new(SeenTokenIds::new(&sessions));
        Ok(Self(Arc::new(Inner {
            paths,
            login_attempts: LoginAttempts::new(
                cookie_key.clone(),
                settings.app_url.is_https(),
                paths.callback(),
            ),
            login_rate: settings.login_rate_limit.map(LoginRate::new),
            cookie_key,
            account_settings_url: if settings.settings_signed_in {
                paths.account_settings().to_owned()
            } else {
                crate::authgear::settings_url(settings.provider.issuer.as_str())
            },
            provider_origin: url::Url::parse(settings.provider.issuer.as_str())
                .map(|url| url.origin().ascii_serialization())
                .unwrap_or_else(|_| settings.provider.issuer.as_str().to_owned()),
            guest: AuthState {
                user: None,
                session_ended: false,
                account_settings_url: None,
            },
            decoded: sessions.decoded(),
            settings,
            provider,
            tokens,
            sessions,
            seen_logout_tokens,
            lifetimes,
            stopping: tokio::sync::watch::Sender::new(false),
            reported_no_client: std::sync::atomic::AtomicBool::new(false),
            event_streams,
        })))
    }

    /// Who the login rate limit and the login's log lines take for the client, in words.
    pub(crate) fn client_source(&self) -> String {
        let proxies = &self.0.settings.trusted_proxies;
        if proxies.is_empty() {
            "the connection's peer (TRUSTED_PROXIES is empty)".to_owned()
        } else {
            format!("X-Forwarded-For or Forwarded from trusted proxies {proxies}")
        }
    }

    /// The client of a login request from `peer` with `headers` (see [`TrustedProxies`]);
    /// `None` when the server gave no peer, which is reported once.
    pub(crate) fn client(
        &self,
        peer: Option<std::net::SocketAddr>,
        headers: &axum::http::HeaderMap,
    ) -> Option<std::net::IpAddr> {
        let Some(peer) = peer else {
            if !self
                .0
                .reported_no_client
                .swap(true, std::sync::atomic::Ordering::Relaxed)
            {
                tracing::error!(
                    "the server gives the login no client address: the login rate limit is \
                     off; serve the app with leptos_authgear::server::serve (or axum's \
                     into_make_service_with_connect_info)"
                );
            }
            return None;
        };
        Some(self.0.settings.trusted_proxies.client(peer.ip(), headers))
    }

    /// The provider's language for a login that names none: the browser's `Accept-Language`
    /// when the settings say so, else the settings' default.
    pub(crate) fn ui_locales_for(
        &self,
        headers: &axum::http::HeaderMap,
    ) -> Option<ui_locales::UiLocales> {
        let settings = &self.0.settings;
        let accepted = || {
            let header = headers.get(axum::http::header::ACCEPT_LANGUAGE)?;
            ui_locales::UiLocales::from_accept_language(header.to_str().ok()?)
        };
        settings
            .ui_locales_from_accept_language
            .then(accepted)
            .flatten()
            .or_else(|| settings.ui_locales.clone())
    }

    /// Ends every open `GET /session/events` stream (the browsers connect again, to whichever
    /// instance answers). Call it when graceful shutdown begins: axum waits for every open
    /// response to finish, and these would not.
    pub fn stop_event_streams(&self) {
        self.0.stopping.send_replace(true);
    }

    /// The settings it was built from.
    pub fn settings(&self) -> &Settings {
        &self.0.settings
    }

    /// The routes of the login: `GET /login`, `GET /callback`, `POST /logout`,
    /// `GET /session/status`, `GET /session/events`, `GET /session/expiry-warning.js`,
    /// `POST /backchannel-logout`, Authgear's webhooks (`POST /webhooks/authgear`, when
    /// `AUTHGEAR_WEBHOOK_SECRET` is set), and the server functions `POST /api/current_user`,
    /// `/api/list_sessions`, `/api/end_session` and `/api/end_other_sessions`. Merge them into the app's router, then add [`Auth::layer`]
    /// around the whole router.
    pub fn routes<S: Clone + Send + Sync + 'static>(&self) -> axum::Router<S> {
        routes::router(self.clone())
    }

    /// The app's pages (`paths`, from `leptos_axum::generate_route_list`) and its server
    /// functions, as `leptos_axum`'s `leptos_routes_with_context` serves them, but rendered and
    /// dispatched by this crate: measured several times cheaper per request
    /// (docs/decisions/0002-pages-and-server-functions.md). `context` runs before each render
    /// and each server function, as there; `app` renders the whole document (the template's
    /// `shell`).
    ///
    /// What it does not do: stream (a page that waits for a resource is an error page), inject
    /// `leptos_meta`'s tags, give server functions the request's parts
    /// (`leptos_axum::extract`). A page without a query string is rendered once per path and
    /// per state of the session (who is signed in, as [`use_auth`](crate::use_auth) sees it)
    /// and sent again with a new nonce, up to 16 MiB of pages: it may depend on nothing else
    /// (not on the time, a header, or data read while rendering). Where any of that matters, use
    /// `leptos_routes_with_context`: everything in this crate works with it too.
    pub fn leptos_routes<S, C, A, IV>(
        &self,
        paths: Vec<leptos_axum::AxumRouteListing>,
        context: C,
        app: A,
    ) -> axum::Router<S>
    where
        S: Clone + Send + Sync + 'static,
        C: Fn() + Clone + Send + Sync + 'static,
        A: Fn() -> IV + Clone + Send + Sync + 'static,
        IV: leptos::prelude::IntoView + 'static,
    {
        pages::router(paths, context, app)
    }

    /// A layer for plain axum routes that only signed-in users may call: a guest's request is
    /// answered `401` with the JSON body `"NotSignedIn"` (see [`SignedIn`]). Inside
    /// [`Auth::layer`].
    ///
    /// ```
    /// # #[cfg(feature = "ssr")]
    /// # fn example(auth: leptos_authgear::server::Auth) -> axum::Router {
    /// use axum::{routing::get, Router};
    /// let api = Router::new()
    ///     .route("/api/plain/export", get(|| async { "signed-in users only" }))
    ///     .route_layer(auth.require_user());
    /// # api }
    /// ```
    pub fn require_user(&self) -> axum::middleware::FromExtractorLayer<SignedIn, ()> {
        axum::middleware::from_extractor::<SignedIn>()
    }

    /// The layer every route of the app goes through: the session cookie (HTTP-only,
    /// `SameSite=Lax`, an encrypted opaque id; every token stays on the server), the refusal of
    /// cross-site requests that change state (403), and, for a page, who is signed in (read by
    /// [`AuthProvider`](crate::AuthProvider)).
    pub fn layer(&self) -> AuthLayer {
        AuthLayer::new(self.clone())
    }

    /// Whether logins can be served now: the provider's discovery loads and the session store
    /// answers. Each part `Ok` or its error, for a readiness probe.
    pub async fn readiness(&self) -> Readiness {
        Readiness {
            provider: self
                .0
                .provider
                .client()
                .await
                .map(|_| ())
                .map_err(|e| e.to_string()),
            session_store: self.0.sessions.ping().await,
        }
    }
}

/// Hands every announced deletion to the streams of that session (and only those), in one task
/// for the process: a logout costs the same however many pages are open.
fn dispatch_session_ends(sessions: &Sessions, streams: &Arc<event_streams::EventStreams>) {
    use tokio::sync::broadcast::error::RecvError;
    let mut announcements = sessions.ends().subscribe();
    let streams = Arc::downgrade(streams);
    tokio::spawn(async move {
        loop {
            let announced = announcements.recv().await;
            let Some(streams) = streams.upgrade() else {
                return;
            };
            match announced {
                Ok(id) => streams.announce(&id),
                // Some were lost: any stream's session may have been among them.
                Err(RecvError::Lagged(_)) => streams.announce_to_all(),
                Err(RecvError::Closed) => return,
            }
        }
    });
}

/// Loads the provider's discovery document and keys for `settings` and says what it found, in
/// readable lines (for a `--check-config`), or why it failed.
pub async fn check_provider(settings: &Settings) -> Result<String, String> {
    let provider = Provider::new(settings)?;
    let client = provider.client().await.map_err(|error| error.to_string())?;
    Ok(client.describe())
}

/// Whether the session store of `settings` opens, for a `--check-config`: as [`Auth::new`]
/// opens it, but without taking SQLite's lock (the server may be running on the same file).
pub async fn check_store(settings: &Settings) -> Result<(), String> {
    Sessions::check(&settings.session).await
}

/// The answer of [`Auth::readiness`].
#[derive(Debug)]
pub struct Readiness {
    /// The provider's discovery document and keys load.
    pub provider: Result<(), String>,
    /// The session store answers.
    pub session_store: Result<(), String>,
}

impl Readiness {
    /// Both parts are ready.
    pub fn is_ready(&self) -> bool {
        self.provider.is_ok() && self.session_store.is_ok()
    }
}

/// Who is signed in to `session`, for the page and for `current_user` alike. Reading it counts
/// as activity; a session that ended elsewhere is reported once.
pub(crate) async fn auth_state(
    auth: &Auth,
    session: &AuthSession,
) -> Result<AuthState, session::SessionError> {
    Ok(page_auth_state(auth, session).await?.0)
}

/// [`auth_state`], and when the user last authenticated at the provider (`auth_time`, for a
/// page that needs more than the page's state: `RequireRecentLogin`).
pub(crate) async fn page_auth_state(
    auth: &Auth,
    session: &AuthSession,
) -> Result<(AuthState, Option<i64>), session::SessionError> {
    // No session cookie: a guest, with nothing to read (the common case for a page).
    if !session.has_cookie() {
        return Ok((auth.0.guest.clone(), None));
    }
    let user = session.active_user().await?;
    let session_ended = user.is_none() && session.take_ended_elsewhere().await?;
    let state = AuthState {
        account_settings_url: user.as_ref().map(|_| auth.0.account_settings_url.clone()),
        user: user.as_deref().map(crate::User::from_signed_in),
        session_ended,
    };
    Ok((state, user.and_then(|user| user.auth_time)))
}

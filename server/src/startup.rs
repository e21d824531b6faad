//! Builds the application: state, session layer, routes. Tests call [`Application::build`]
//! with port 0 to get a server on a random port.

use crate::configuration::{AppUrl, Settings};
use crate::error;
use crate::every_response::EveryResponse;
use crate::oidc::Provider;
use crate::routes::backchannel::{self, SeenTokenIds};
use crate::routes::{auth, health, page, server_fns, session};
use crate::same_origin::RequireSameOriginLayer;
use crate::stores::refresh_lock::RefreshLocks;
use crate::stores::Sessions;
use crate::tokens::TokenManager;
use app::api::server::Accounts;
use app::api::SiteInfo;
use app::session::SessionLifetimes;
use axum::routing::{get, post};
use axum::{Router, ServiceExt};
use leptos::prelude::LeptosOptions;
use std::sync::Arc;
use tokio::net::TcpListener;
use tower::ServiceBuilder;
use tower_http::services::ServeDir;
use tower_sessions::cookie::time::Duration;
use tower_sessions::cookie::{Key, SameSite};
use tower_sessions::service::PrivateCookie;
use tower_sessions::{Expiry, SessionManagerLayer};

/// The stylesheet cargo-leptos writes: `<site-pkg-dir>/<name>.css`, `name` from Cargo.toml.
pub const STYLESHEET_PATH: &str = "/pkg/authgear-leptos.css";

/// What the handlers share. Cloned for every request by each handler and middleware that
/// takes it, so it is one `Arc`, not a clone of each of its parts (bench/README.md).
#[derive(Clone)]
pub struct AppState(Arc<AppStateInner>);

impl std::ops::Deref for AppState {
    type Target = AppStateInner;

    fn deref(&self) -> &AppStateInner {
        &self.0
    }
}

pub struct AppStateInner {
    pub page: page::Page,
    pub site: SiteInfo,
    pub provider: Arc<Provider>,
    pub tokens: Arc<TokenManager>,
    pub sessions: Sessions,
    pub seen_logout_tokens: Arc<SeenTokenIds>,
    pub app_url: AppUrl,
}

pub struct Application {
    listener: TcpListener,
    app: App,
}

/// The router inside what every request and response get.
pub type App = EveryResponse<Router>;

impl Application {
    /// Opens the session store, binds the listener and builds the router. Does not wait for
    /// the provider.
    pub async fn build(settings: Settings, leptos_options: LeptosOptions) -> Result<Self, String> {
        let sessions = Sessions::connect(&settings.session)
            .await
            .map_err(|error| format!("SESSION_STORE ({}): {error}", settings.session.store))?;
        let listener = TcpListener::bind(settings.listen_addr)
            .await
            .map_err(|error| format!("cannot listen on {}: {error}", settings.listen_addr))?;
        let app = app(settings, leptos_options, sessions)?;
        Ok(Self { listener, app })
    }

    pub fn port(&self) -> u16 {
        self.listener
            .local_addr()
            .map(|a| a.port())
            .unwrap_or_default()
    }

    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        axum::serve(self.listener, self.app.into_make_service())
            .with_graceful_shutdown(shutdown_signal())
            .await
    }
}

pub fn app(
    settings: Settings,
    leptos_options: LeptosOptions,
    sessions: Sessions,
) -> Result<App, String> {
    // Leptos renders on tokio. (`leptos_routes` would do this; this app registers its one page
    // and the server functions itself.) An error only means it was set already.
    let _ = any_spawner::Executor::init_tokio();
    let provider = Arc::new(Provider::new(settings.provider.clone(), &settings.app_url)?);
    // Discover in the background: a provider that is down must not stop the app starting.
    tokio::spawn({
        let provider = provider.clone();
        async move {
            if let Err(error) = provider.client().await {
                tracing::warn!(%error, "provider discovery failed; will retry on the next login");
            }
        }
    });
    let tokens = Arc::new(TokenManager::new(
        provider.clone(),
        RefreshLocks::new(sessions.redis()),
    ));
    sessions.spawn_expired_deletion(settings.session.idle_timeout.min(EXPIRED_DELETION_PERIOD));
    let lifetimes = SessionLifetimes {
        idle_timeout: settings.session.idle_timeout.as_secs() as i64,
        max_lifetime: settings.session.max_lifetime.as_secs() as i64,
    };
    let site = SiteInfo {
        local_demo_provider: settings.provider.local_demo,
        account_settings_url: format!(
            "{}/settings",
            settings.provider.issuer.as_str().trim_end_matches('/')
        ),
    };
    let state = AppState(Arc::new(AppStateInner {
        page: page::Page::new(&settings, leptos_options.clone(), &site),
        site: site.clone(),
        provider,
        tokens: tokens.clone(),
        sessions: sessions.clone(),
        seen_logout_tokens: Arc::default(),
        app_url: settings.app_url.clone(),
    }));
    let static_files = ServeDir::new(&*leptos_options.site_root)
        .precompressed_gzip()
        .precompressed_br()
        .not_found_service(get(error::not_found).with_state(()));

    // What the browser calls: same-origin only for anything but GET, with the session cookie.
    // The layers as one stack: axum clones each `Router::layer` level for every request.
    let browser_layers = ServiceBuilder::new()
        .layer(axum::Extension(lifetimes))
        // Sessions the store keeps decoded, which `AuthSession` reads without decoding.
        .option_layer(sessions.decoded().map(axum::Extension))
        .layer(session_layer(&settings, sessions))
        .layer(RequireSameOriginLayer::new(state.app_url.origin()));
    let accounts: Arc<dyn Accounts> = tokens;
    let browser = server_fns::routes(site, accounts)?
        .route("/", get(page::home))
        .route("/login", get(auth::login))
        .route("/callback", get(auth::callback))
        .route("/logout", post(auth::logout))
        .route("/session/status", get(session::status))
        .fallback_service(static_files)
        .layer(browser_layers);
    // What the provider and the infrastructure call: no cookie, no Origin.
    let provider_calls = Router::new()
        .route("/backchannel-logout", post(backchannel::logout))
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz));
    Ok(EveryResponse::new(
        browser.merge(provider_calls).with_state(state),
    ))
}

/// Expired SQLite sessions are deleted this often (or every idle timeout, if shorter).
const EXPIRED_DELETION_PERIOD: std::time::Duration = std::time::Duration::from_secs(60);

/// One HTTP-only, SameSite=Lax cookie holding an opaque, encrypted session id; everything
/// else stays on the server.
fn session_layer(
    settings: &Settings,
    store: Sessions,
) -> SessionManagerLayer<Sessions, PrivateCookie> {
    let secure = settings.app_url.is_https();
    // `__Host-` makes browsers insist on Secure, Path=/ and no Domain.
    let name = if secure { "__Host-session" } else { "session" };
    SessionManagerLayer::new(store)
        .with_name(name)
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_secure(secure)
        .with_path("/")
        // Signed-in records set their own expiry (idle timeout capped by the absolute
        // lifetime, see `AuthSession`); this is the default for the rest.
        .with_expiry(Expiry::OnInactivity(Duration::seconds(
            settings.session.idle_timeout.as_secs() as i64,
        )))
        .with_private(Key::derive_from(settings.secret_key.as_bytes()))
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
    tracing::info!("shutting down");
}

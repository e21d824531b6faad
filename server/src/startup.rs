//! Builds the application: state, session layer, routes. Tests call [`Application::build`]
//! with port 0 to get a server on a random port.

use crate::configuration::{AppUrl, Settings};
use crate::oidc::Provider;
use crate::routes::backchannel::{self, SeenTokenIds};
use crate::routes::{auth, health, session};
use crate::session_index::IndexedStore;
use crate::tokens::TokenManager;
use crate::{error, same_origin};
use app::api::server::Accounts;
use app::api::SiteInfo;
use axum::extract::Request;
use axum::routing::{get, post};
use axum::Router;
use leptos::prelude::{provide_context, LeptosOptions};
use std::sync::Arc;
use tokio::net::TcpListener;
use tower_http::services::ServeDir;
use tower_sessions::cookie::time::Duration;
use tower_sessions::cookie::{Key, SameSite};
use tower_sessions::service::PrivateCookie;
use tower_sessions::{Expiry, MemoryStore, SessionManagerLayer};

/// The stylesheet cargo-leptos writes: `<site-pkg-dir>/<name>.css`, `name` from Cargo.toml.
pub const STYLESHEET_PATH: &str = "/pkg/authgear-leptos.css";

/// A signed-in session ends after this long without a request.
const SESSION_IDLE_TIMEOUT: Duration = Duration::hours(24);

/// Server-side sessions, indexed by user for back-channel logout.
pub type SessionStore = IndexedStore<MemoryStore>;

#[derive(Clone)]
pub struct AppState {
    pub provider: Arc<Provider>,
    pub tokens: Arc<TokenManager>,
    pub sessions: SessionStore,
    pub seen_logout_tokens: Arc<SeenTokenIds>,
    pub app_url: AppUrl,
    pub site: SiteInfo,
}

pub struct Application {
    listener: TcpListener,
    router: Router,
}

impl Application {
    /// Binds the listener and builds the router. Does not wait for the provider.
    pub async fn build(settings: Settings, leptos_options: LeptosOptions) -> Result<Self, String> {
        let listener = TcpListener::bind(settings.listen_addr)
            .await
            .map_err(|error| format!("cannot listen on {}: {error}", settings.listen_addr))?;
        let router = router(settings, leptos_options)?;
        Ok(Self { listener, router })
    }

    pub fn port(&self) -> u16 {
        self.listener
            .local_addr()
            .map(|a| a.port())
            .unwrap_or_default()
    }

    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        axum::serve(self.listener, self.router)
            .with_graceful_shutdown(shutdown_signal())
            .await
    }
}

pub fn router(settings: Settings, leptos_options: LeptosOptions) -> Result<Router, String> {
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
    let tokens = Arc::new(TokenManager::new(provider.clone()));
    let sessions = IndexedStore::new(MemoryStore::default());
    let state = AppState {
        provider,
        tokens: tokens.clone(),
        sessions: sessions.clone(),
        seen_logout_tokens: Arc::default(),
        app_url: settings.app_url.clone(),
        site: SiteInfo {
            local_demo_provider: settings.provider.local_demo,
        },
    };

    let leptos_context = {
        let site = state.site;
        let accounts: Arc<dyn Accounts> = tokens;
        move || {
            provide_context(site);
            provide_context(accounts.clone());
        }
    };
    let render_home = leptos_axum::render_app_async_with_context(leptos_context.clone(), {
        let options = leptos_options.clone();
        move || app::shell(options.clone())
    });
    let server_functions = move |request: Request| {
        leptos_axum::handle_server_fns_with_context(leptos_context.clone(), request)
    };
    let static_files = ServeDir::new(&*leptos_options.site_root)
        .precompressed_gzip()
        .precompressed_br()
        .not_found_service(get(error::not_found).with_state(()));

    // What the browser calls: same-origin only for anything but GET, with the session cookie.
    let browser = Router::new()
        .route("/", get(render_home))
        .route("/api/{*fn_name}", post(server_functions))
        .route("/login", get(auth::login))
        .route("/callback", get(auth::callback))
        .route("/logout", post(auth::logout))
        .route("/session/status", get(session::status))
        .fallback_service(static_files)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            same_origin::require_same_origin,
        ))
        .layer(session_layer(&settings, sessions));
    // What the provider and the infrastructure call: no cookie, no Origin.
    let provider_calls = Router::new()
        .route("/backchannel-logout", post(backchannel::logout))
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz));
    Ok(browser.merge(provider_calls).with_state(state))
}

/// One HTTP-only, SameSite=Lax cookie holding an opaque, encrypted session id; everything
/// else stays on the server.
fn session_layer(
    settings: &Settings,
    store: SessionStore,
) -> SessionManagerLayer<SessionStore, PrivateCookie> {
    let secure = settings.app_url.is_https();
    // `__Host-` makes browsers insist on Secure, Path=/ and no Domain.
    let name = if secure { "__Host-session" } else { "session" };
    SessionManagerLayer::new(store)
        .with_name(name)
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_secure(secure)
        .with_path("/")
        .with_expiry(Expiry::OnInactivity(SESSION_IDLE_TIMEOUT))
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

//! Builds the application: the login, the app's pages and server functions, the static files.
//! Tests call [`Application::build`] with port 0 to get a server on a random port.

use crate::every_response::EveryResponse;
use crate::routes::health;
use crate::site;
use app::{shell, App as LeptosApp, DemoProvider};
use axum::routing::get;
use axum::Router;
use leptos::prelude::{provide_context, LeptosOptions};
use leptos_authgear::server::{Auth, Settings};
use leptos_axum::generate_route_list;
use tokio::net::TcpListener;

pub struct Application {
    listener: TcpListener,
    app: App,
    auth: Auth,
}

/// The router inside what every request and response get.
pub type App = EveryResponse<Router>;

impl Application {
    /// Opens the session store, binds the listener and builds the router. Does not wait for
    /// the provider.
    pub async fn build(
        settings: Settings,
        leptos_options: LeptosOptions,
        demo: DemoProvider,
    ) -> Result<Self, String> {
        let listen_addr = settings.listen_addr();
        let auth = Auth::new(settings.with_error_page(crate::error_page::render))
            .await
            .map_err(|error| error.to_string())?;
        let listener = TcpListener::bind(listen_addr)
            .await
            .map_err(|error| format!("cannot listen on {listen_addr}: {error}"))?;
        Ok(Self {
            listener,
            app: app(auth.clone(), leptos_options, demo),
            auth,
        })
    }

    /// The login it serves (for tests: `leptos_authgear::server::testing` mints sessions with
    /// it).
    pub fn auth(&self) -> &Auth {
        &self.auth
    }

    pub fn port(&self) -> u16 {
        self.listener
            .local_addr()
            .map(|a| a.port())
            .unwrap_or_default()
    }

    /// Serves until SIGINT or SIGTERM, with the connection limits and the client's address
    /// for the login (`leptos_authgear::server::serve`).
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        leptos_authgear::server::serve(self.listener, self.app, &self.auth, shutdown_signal()).await
    }
}

/// The app's pages and server functions (Leptos), the login's routes, the health routes and the
/// static files (a release bundle under content-hashed names: `site`), all behind the login's
/// layer.
pub fn app(auth: Auth, options: LeptosOptions, demo: DemoProvider) -> App {
    let bundle_hash = site::bundle_hash(&options);
    let options = site::with_hashed_bundle(options, bundle_hash.as_deref());
    let static_files = site::static_files(&options, bundle_hash.as_deref());
    let readyz = {
        let auth = auth.clone();
        move || health::readyz(auth.clone())
    };
    // The pages and server functions through leptos-authgear's renderer and dispatcher: the
    // same contexts as `leptos_routes_with_context`, several times cheaper (docs/decisions/0002).
    let pages = auth.leptos_routes(
        generate_route_list(LeptosApp),
        move || provide_context(demo),
        {
            let options = options.clone();
            move || shell(options.clone())
        },
    );
    let router = Router::new()
        .merge(pages)
        .merge(auth.routes())
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(readyz))
        .fallback_service(static_files)
        .layer(auth.layer())
        .with_state(options);
    EveryResponse::new(router)
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
}

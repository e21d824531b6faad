//! The minimal consumer's server: the page, the login's routes and layer, and the WASM bundle
//! (`LEPTOS_SITE_ROOT`/pkg). Configured in code, the way a team adopts the crate: what a
//! deployment changes (the provider's client credentials, the secret key, where it is served)
//! comes from the environment here, as it would from the team's own configuration or secrets
//! manager; everything else is written below.

use axum::response::Html;
use axum::Router;
use leptos::prelude::*;
use leptos_authgear::server::{Auth, ErrorPage, Settings, StoreUrl};
use leptos_axum::{generate_route_list, LeptosRoutes};
use minimal::{shell, App};
use std::time::Duration;

#[tokio::main]
async fn main() {
    let var = |name: &str| std::env::var(name).unwrap_or_default();
    let settings = Settings::builder()
        .provider(
            &var("AUTHGEAR_DOMAIN"),
            var("AUTHGEAR_CLIENT_ID"),
            var("AUTHGEAR_CLIENT_SECRET"),
        )
        .secret_key(var("APP_SECRET_KEY"))
        .app_url(&env_or("APP_URL", "http://localhost:3000"))
        // /auth/login, /auth/callback, /auth/logout, /auth/session/…: this app keeps the root.
        .base_path("/auth")
        .session_store(StoreUrl::Sqlite(
            env_or("SESSIONS_DB", "data/minimal-sessions.db").into(),
        ))
        .idle_timeout(Duration::from_secs(8 * 3600))
        .error_page(error_page)
        .build();
    let settings = match settings {
        Ok(settings) => settings,
        Err(error) => exit(&error),
    };
    let auth = match Auth::new(settings).await {
        Ok(auth) => auth,
        Err(error) => exit(&error),
    };
    let site_root = env_or("LEPTOS_SITE_ROOT", "target/minimal-site");
    let options = LeptosOptions::builder()
        .output_name("minimal")
        .site_root(site_root)
        .build();
    let app = Router::new()
        .leptos_routes(&options, generate_route_list(App), {
            let options = options.clone();
            move || shell(options.clone())
        })
        .merge(auth.routes());
    // A test build only (feature `testing`): the test kit signs users in without the provider.
    #[cfg(feature = "testing")]
    let app = app.merge(auth.testing_routes());
    let app = app
        .fallback(leptos_axum::file_and_error_handler(shell))
        .layer(auth.layer())
        .with_state(options);
    let address = env_or("LEPTOS_SITE_ADDR", "127.0.0.1:3000");
    let listener = match tokio::net::TcpListener::bind(&address).await {
        Ok(listener) => listener,
        Err(error) => exit(&format!("cannot listen on {address}: {error}")),
    };
    println!("listening on http://{address}");
    // Connection limits, the client's address for the login's rate limit, graceful shutdown.
    let stop = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    if let Err(error) = leptos_authgear::server::serve(listener, app, &auth, stop).await {
        exit(&error);
    }
}

/// This app's page for a failed sign-in (and its words): a heading, what happened, a way back.
fn error_page(page: &ErrorPage) -> String {
    let html = view! {
        <!DOCTYPE html>
        <html lang="en">
            <head><title>{format!("{} · Minimal", page.title)}</title></head>
            <body>
                <h1 id="minimalError">{page.title}</h1>
                <p>{page.message.clone()}</p>
                <p><a href=page.login_url.clone()>"Log in again"</a> " or " <a href="/">"go home"</a></p>
            </body>
        </html>
    };
    Html(html.to_html()).0
}

fn env_or(name: &str, default: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| default.to_owned())
}

fn exit(error: &dyn std::fmt::Display) -> ! {
    eprintln!("{error}");
    std::process::exit(1)
}

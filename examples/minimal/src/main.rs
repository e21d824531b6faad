//! The minimal consumer's server: the page, the login's routes and layer, and the WASM bundle
//! (`LEPTOS_SITE_ROOT`/pkg). Configured like the demo app (`AUTHGEAR_*`, `APP_SECRET_KEY`,
//! `APP_URL`, `LEPTOS_SITE_ADDR`).

use axum::Router;
use leptos::prelude::*;
use leptos_authgear::server::Auth;
use leptos_axum::{generate_route_list, LeptosRoutes};
use minimal::{shell, App};

#[tokio::main]
async fn main() {
    let auth = match Auth::from_env().await {
        Ok(auth) => auth,
        Err(error) => {
            eprintln!("{error}");
            std::process::exit(1);
        }
    };
    let site_root =
        std::env::var("LEPTOS_SITE_ROOT").unwrap_or_else(|_| "target/minimal-site".into());
    let options = LeptosOptions::builder()
        .output_name("minimal")
        .site_root(site_root)
        .build();
    let app = Router::new()
        .leptos_routes(&options, generate_route_list(App), {
            let options = options.clone();
            move || shell(options.clone())
        })
        .merge(auth.routes())
        .fallback(leptos_axum::file_and_error_handler(shell))
        .layer(auth.layer())
        .with_state(options);
    let address = auth.settings().listen_addr;
    let listener = tokio::net::TcpListener::bind(address)
        .await
        .expect("a free address");
    println!("listening on http://{address}");
    // With the client's address: `/login` is rate-limited per client.
    let app = app.into_make_service_with_connect_info::<std::net::SocketAddr>();
    axum::serve(listener, app).await.expect("the server runs");
}

//! The smallest app that uses `leptos-authgear`: one page, "Signed in as …" with a Logout
//! button, or a Login link. Server-rendered only (no WASM): the login works without it.
//! Configured like the demo app (`AUTHGEAR_*`, `APP_SECRET_KEY`, `APP_URL`, `LEPTOS_SITE_ADDR`).

use axum::Router;
use leptos::prelude::*;
use leptos_authgear::server::Auth;
use leptos_authgear::{use_user, AuthProvider, LoginLink, LogoutButton};
use leptos_axum::{generate_route_list, LeptosRoutes};

#[component]
fn App() -> impl IntoView {
    view! { <AuthProvider><Greeting/></AuthProvider> }
}

#[component]
fn Greeting() -> impl IntoView {
    let user = use_user();
    move || match user.get() {
        Some(user) => view! {
            <p id="greeting">"Signed in as " {user.display_name}</p>
            <LogoutButton id="logout">"Logout"</LogoutButton>
        }
        .into_any(),
        None => view! { <LoginLink id="login">"Login"</LoginLink> }.into_any(),
    }
}

fn shell() -> impl IntoView {
    view! { <!DOCTYPE html><html lang="en"><head><title>"Minimal"</title></head><body><App/></body></html> }
}

#[tokio::main]
async fn main() {
    let auth = match Auth::from_env().await {
        Ok(auth) => auth,
        Err(error) => {
            eprintln!("{error}");
            std::process::exit(1);
        }
    };
    let options = LeptosOptions::builder().output_name("minimal").build();
    let app = Router::new()
        .leptos_routes(&options, generate_route_list(App), shell)
        .merge(auth.routes())
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

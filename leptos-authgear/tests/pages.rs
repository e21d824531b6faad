//! `Auth::leptos_routes` renders what `leptos_axum`'s `leptos_routes_with_context` renders:
//! the same document (but for the nonce), status and headers, for a routed app with this
//! crate's components. If a Leptos upgrade changes what the standard path sends (new contexts,
//! other hydration data), this fails, and the fast path must follow (or go).
#![cfg(feature = "ssr")]

use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::Router;
use leptos::prelude::*;
use leptos_authgear::server::{Auth, Settings};
use leptos_authgear::{use_user, AuthProvider, LoginLink, RequireUser};
use leptos_axum::{generate_route_list, LeptosRoutes};
use leptos_router::components::{Route, Router as LeptosRouter, Routes, A};
use leptos_router::path;
use std::collections::HashMap;
use tower::ServiceExt;

#[component]
fn App() -> impl IntoView {
    let (count, set_count) = signal(0);
    view! {
        <AuthProvider>
            <LeptosRouter>
                <nav><A href="/account">"Account"</A></nav>
                <button on:click=move |_| set_count.update(|n| *n += 1)>{count}</button>
                <Routes fallback=|| "Not found.">
                    <Route path=path!("/") view=Home/>
                    <Route path=path!("/account") view=|| view! { <RequireUser><p>"Secret"</p></RequireUser> }/>
                </Routes>
            </LeptosRouter>
        </AuthProvider>
    }
}

#[component]
fn Home() -> impl IntoView {
    let user = use_user();
    view! {
        <p>{move || user.get().map_or("Welcome Guest".to_owned(), |u| u.display_name)}</p>
        <LoginLink return_to="/account">"Login"</LoginLink>
    }
}

fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head><HydrationScripts options/></head>
            <body><App/></body>
        </html>
    }
}

async fn auth() -> Auth {
    let vars = HashMap::from([
        ("AUTHGEAR_DOMAIN", "http://127.0.0.1:9"),
        ("AUTHGEAR_CLIENT_ID", "client"),
        ("AUTHGEAR_CLIENT_SECRET", "secret"),
        (
            "APP_SECRET_KEY",
            "pages-test-only-0123456789abcdef0123456789",
        ),
        ("SESSION_STORE", "memory"),
    ]);
    let settings =
        Settings::from_lookup(|name| vars.get(name).map(|v| v.to_string())).expect("settings");
    Auth::new(settings).await.expect("auth")
}

/// Status, the headers that matter and the body with its nonce replaced by `NONCE`.
async fn get(router: Router, path: &str) -> (StatusCode, Option<String>, String) {
    let request = Request::get(path)
        .header("accept", "text/html")
        .body(Body::empty())
        .expect("request");
    let response = router.oneshot(request).await.expect("response");
    let status = response.status();
    let location = response
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let body = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .expect("body");
    let body = String::from_utf8(body.to_vec()).expect("UTF-8");
    let nonce = body
        .split("nonce=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap_or_default()
        .to_owned();
    let body = if nonce.is_empty() {
        body
    } else {
        body.replace(&nonce, "NONCE")
    };
    (status, location, body)
}

#[tokio::test]
async fn the_fast_path_sends_what_leptos_axum_sends() {
    let auth = auth().await;
    let options = LeptosOptions::builder().output_name("pages-test").build();
    let routes = generate_route_list(App);
    let standard = Router::new()
        .leptos_routes(&options, routes.clone(), {
            let options = options.clone();
            move || shell(options.clone())
        })
        .layer(auth.layer())
        .with_state(options.clone());
    let fast: Router = auth
        .leptos_routes(routes, || (), {
            let options = options.clone();
            move || shell(options.clone())
        })
        .layer(auth.layer());
    for path in ["/", "/account"] {
        let expected = get(standard.clone(), path).await;
        // Twice: the second answer of a guest's page is the one rendered once.
        for _ in 0..2 {
            let actual = get(fast.clone(), path).await;
            assert_eq!(actual, expected, "{path}");
        }
    }
    let (status, _, home) = get(fast.clone(), "/").await;
    assert_eq!(status, StatusCode::OK);
    for part in [
        "Welcome Guest",
        "<script nonce=\"NONCE\"",
        "id=\"authState\"",
        "href=\"/account\"",
    ] {
        assert!(home.contains(part), "{part} in {home}");
    }
    let (status, location, body) = get(fast, "/account").await;
    assert_eq!(status, StatusCode::FOUND);
    assert_eq!(location.as_deref(), Some("/login?return_to=/account"));
    assert!(!body.contains("Secret"), "{body}");
}

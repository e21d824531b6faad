//! `Auth::leptos_routes` renders what `leptos_axum`'s `leptos_routes_with_context` renders:
//! the same document (but for the nonce), status and headers, for a routed app with this
//! crate's components, for a guest and for signed-in users, rendered fresh and from the
//! cache. If a Leptos upgrade changes what the standard path sends (new contexts, other
//! hydration data), this fails, and the fast path must follow (or go).

use crate::server::layer::PageState;
use crate::server::{Auth, Settings};
use crate::{use_user, AuthProvider, AuthState, ClaimsJson, LoginLink, RequireUser, User};
use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::Router;
use leptos::prelude::*;
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
    get_with_nonce(router, path).await.0
}

/// [`get`]'s answer, and the nonce that was replaced.
async fn get_with_nonce(
    router: Router,
    path: &str,
) -> ((StatusCode, Option<String>, String), String) {
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
    ((status, location, body), nonce)
}

/// The app's routes, served the standard way and the fast way, each wrapped by `wrap` (the
/// auth layer, or the state the auth layer would have found).
async fn both_paths(wrap: impl Fn(&Auth, Router) -> Router) -> (Router, Router) {
    let auth = auth().await;
    let options = LeptosOptions::builder().output_name("pages-test").build();
    let routes = generate_route_list(App);
    let standard = Router::new()
        .leptos_routes(&options, routes.clone(), {
            let options = options.clone();
            move || shell(options.clone())
        })
        .with_state(options.clone());
    let fast = auth.leptos_routes(routes, || (), move || shell(options.clone()));
    (wrap(&auth, standard), wrap(&auth, fast))
}

/// What the auth layer would have found for every request: `state`.
fn found(state: AuthState) -> axum::Extension<PageState> {
    axum::Extension(PageState(Ok(state), None))
}

#[tokio::test]
async fn the_fast_path_sends_what_leptos_axum_sends() {
    let (standard, fast) = both_paths(|auth, router| router.layer(auth.layer())).await;
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

fn signed_in(subject: &str, name: &str) -> AuthState {
    let claims = serde_json::json!({ "sub": subject, "name": name });
    let serde_json::Value::Object(claims) = claims else {
        unreachable!("an object");
    };
    AuthState {
        user: Some(User {
            display_name: name.into(),
            email: None,
            email_verified: false,
            subject: subject.into(),
            claims_json: ClaimsJson::new(&claims),
            session_ends_at: 1_800_000_000,
            access_token_expires_at: Some(1_800_000_060),
        }),
        session_ended: false,
        account_settings_url: Some("https://auth.example/settings".into()),
    }
}

#[tokio::test]
async fn a_signed_in_page_from_the_cache_is_the_page_rendered_for_that_user() {
    for (subject, name) in [("ada", "Ada Lovelace"), ("bob", "Bob")] {
        let (standard, fast) =
            both_paths(|_, router| router.layer(found(signed_in(subject, name)))).await;
        for path in ["/", "/account"] {
            let expected = get(standard.clone(), path).await;
            assert_eq!(expected.0, StatusCode::OK, "{path}");
            let mut nonces = Vec::new();
            // The first answer is rendered, the next ones come from the cache.
            for _ in 0..3 {
                let (actual, nonce) = get_with_nonce(fast.clone(), path).await;
                assert_eq!(actual, expected, "{subject} {path}");
                nonces.push(nonce);
            }
            nonces.dedup();
            assert_eq!(nonces.len(), 3, "a new nonce each time: {nonces:?}");
        }
        let (_, _, home) = get(fast, "/").await;
        assert!(home.contains(name), "{home}");
    }
}

#[tokio::test]
async fn users_never_get_each_others_page() {
    let ada = signed_in("ada", "Ada Lovelace");
    // What a "Refresh profile" can change: the claims, nothing the key hashes.
    let ada_later = signed_in("ada", "Ada King");
    let (_, fast) = both_paths(|_, router| router).await;
    // One renderer, one cache, the state of each request set as the auth layer sets it.
    for (state, shown, not_shown) in [
        (ada.clone(), "Ada Lovelace", "Bob"),
        (signed_in("bob", "Bob"), "Bob", "Ada"),
        (ada_later, "Ada King", "Ada Lovelace"),
        (ada, "Ada Lovelace", "Ada King"),
    ] {
        let router = fast.clone().layer(found(state));
        let (status, _, home) = get(router, "/").await;
        assert_eq!(status, StatusCode::OK);
        assert!(home.contains(shown), "{shown} in {home}");
        assert!(!home.contains(not_shown), "{not_shown} in {home}");
    }
}

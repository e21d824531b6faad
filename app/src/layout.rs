//! What every page has: the top bar, the "temporarily unavailable" state, the not-found page.

use leptos::either::Either;
use leptos::prelude::*;
use leptos_authgear::{use_auth, use_user, SessionExpiryWarning};
use leptos_router::components::A;

/// The app name, the account link and who is signed in, on every page.
#[component]
pub fn Header() -> impl IntoView {
    view! {
        <header class="topbar">
            <a class="brand" href="/">"Log in with Authgear"</a>
            <nav class="nav">
                <A href="/account" attr:id="accountLink">"Account"</A>
            </nav>
            <LoginState/>
        </header>
        // Two minutes before the idle timeout (or the session's limit) ends the session.
        <SessionExpiryWarning before=120 class="expiry-warning"/>
    }
}

/// Who is signed in: an island, as it changes when the session does.
#[island]
fn LoginState() -> impl IntoView {
    let user = use_user();
    view! {
        <span class="login-state" id="loginState">
            {move || match user.get() {
                Some(user) => format!("Signed in as {}", user.display_name),
                None => "Not signed in".to_owned(),
            }}
        </span>
    }
}

/// Its children, unless the server could not read the session (its store is down): then a
/// notice and a way to try again. The server answers such a page with status 503.
#[component]
pub fn Unavailable<T: IntoView + 'static>(children: TypedChildren<T>) -> impl IntoView {
    match use_auth().unavailable() {
        None => Either::Left(children.into_inner()()),
        Some(error) => Either::Right(view! {
            <section class="card">
                <h1>"Temporarily unavailable"</h1>
                <p class="error" id="pageError" role="alert">{error.to_string()}</p>
                <p><a class="button" href="/">"Try again"</a></p>
            </section>
        }),
    }
}

/// A path the app has no page for (the server answers it with its own 404 page first).
#[component]
pub fn NotFound() -> impl IntoView {
    view! {
        <section class="card">
            <h1>"Page not found"</h1>
            <p><a class="button" href="/">"Back to home"</a></p>
        </section>
    }
}

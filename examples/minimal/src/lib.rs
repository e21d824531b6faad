//! The smallest app that uses `leptos-authgear`: a home page, "Signed in as …" with a Logout
//! button, or a Login link, and a page for signed-in users only. It hydrates the whole page
//! (Leptos' default, where the demo app uses islands) and routes in the browser, so it follows
//! the session without a reload; without WASM the login works the same. The server is `main.rs`.

use leptos::prelude::*;
use leptos_authgear::{use_user, AuthProvider, LoginLink, LogoutButton, RequireUser};
use leptos_router::components::{Route, Router, Routes, A};
use leptos_router::path;

#[component]
pub fn App() -> impl IntoView {
    view! {
        <AuthProvider>
            <Router>
                <nav><A href="/">"Home"</A> " " <A href="/private">"Private"</A></nav>
                <Routes fallback=|| "Not found.">
                    <Route path=path!("/") view=Greeting/>
                    <Route path=path!("/private") view=Private/>
                </Routes>
            </Router>
        </AuthProvider>
    }
}

/// A guest is sent to the login, which comes back here.
#[component]
fn Private() -> impl IntoView {
    view! { <RequireUser><p id="secret">"Only for signed-in users."</p></RequireUser> }
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
        None => view! {
            <LoginLink id="login">"Login"</LoginLink>
            " · "
            // The provider's pages in French (`ui_locales`).
            <LoginLink id="loginFr" ui_locales="fr">"Connexion"</LoginLink>
        }
        .into_any(),
    }
}

/// The whole document, with Leptos' hydration script.
#[cfg(feature = "ssr")]
pub fn shell(options: LeptosOptions) -> impl IntoView {
    // The page's Content-Security-Policy, with the nonce of Leptos' inline scripts.
    leptos_authgear::server::page_security_policy(&options);
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head><title>"Minimal"</title><HydrationScripts options/></head>
            <body><App/></body>
        </html>
    }
}

/// The WASM entry point.
#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    leptos::mount::hydrate_body(App);
}

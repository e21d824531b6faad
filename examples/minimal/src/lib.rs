//! The smallest app that uses `leptos-authgear`: one page, "Signed in as …" with a Logout
//! button, or a Login link. It hydrates the whole page (Leptos' default, where the demo app uses
//! islands), so it follows the session without a reload; without WASM the login works the same.
//! The server is `main.rs`.

use leptos::prelude::*;
use leptos_authgear::{use_user, AuthProvider, LoginLink, LogoutButton};

#[component]
pub fn App() -> impl IntoView {
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

/// The whole document, with Leptos' hydration script.
#[cfg(feature = "ssr")]
pub fn shell(options: LeptosOptions) -> impl IntoView {
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

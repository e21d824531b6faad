//! The Leptos app: its pages and the server function they call. Login comes from
//! `leptos-authgear`; this crate only uses its public API.
//!
//! Built twice: with `ssr` into the server (rendering and server functions), and with
//! `hydrate` into the WASM bundle that makes the server-rendered page interactive. Leptos'
//! islands: only the components marked `#[island]` run in the browser
//! (docs/decisions/0010-islands.md); the rest is HTML from the server.

// The view types of nested components are deep.
#![recursion_limit = "256"]

mod account;
pub mod api;
mod home;
pub use home::DemoProvider;
#[cfg(feature = "ssr")]
mod hydration;
mod layout;

use layout::Unavailable;
use leptos::prelude::*;
use leptos_authgear::AuthProvider;
use leptos_router::components::{FlatRoutes, Route, Router};
use leptos_router::path;

/// The whole document, rendered by the server: the head, then [`App`] in the body.
#[cfg(feature = "ssr")]
pub fn shell(options: LeptosOptions) -> impl IntoView {
    use hydration::HydrationScript;
    leptos_authgear::server::page_security_policy(&options);
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <meta name="description" content="Sign in with Authgear to a Leptos app whose Rust server keeps every token: the user's name, email and session, and nothing a script could steal."/>
                <title>"Log in with Authgear · Leptos"</title>
                <link rel="icon" href="/favicon.svg" type="image/svg+xml"/>
                <link rel="stylesheet" href=format!("/{}/{}.css", options.site_pkg_dir, options.output_name)/>
                <AutoReload options=options.clone()/>
                <HydrationScript options/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

/// The app: `/` (everyone), `/account` and `/account/security` (signed-in users only).
#[component]
pub fn App() -> impl IntoView {
    view! {
        // `data-hydrated` turns "true" once the page's islands are hydrated (hydration.rs).
        <div class="app" data-hydrated="false">
            <AuthProvider>
                <Router>
                    <layout::Header/>
                    <main class="page">
                        // The routes are always there (Leptos lists them by rendering this);
                        // each page says when the server could not read the session.
                        <FlatRoutes fallback=|| view! { <layout::NotFound/> }>
                            <Route path=path!("/") view=|| view! { <home::DemoNotice/><Unavailable><home::Home/></Unavailable> }/>
                            <Route path=path!("/account") view=|| view! { <Unavailable><account::Account/></Unavailable> }/>
                            <Route path=path!("/account/security") view=|| view! { <Unavailable><account::Security/></Unavailable> }/>
                        </FlatRoutes>
                    </main>
                </Router>
            </AuthProvider>
        </div>
    }
}

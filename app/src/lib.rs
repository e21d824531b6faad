//! The Leptos app: the home view and the server functions it calls.
//!
//! Built twice: with `ssr` into the server (rendering and server functions), and with
//! `hydrate` into the WASM bundle that makes the server-rendered page interactive.

pub mod api;
mod home;
#[cfg(feature = "ssr")]
pub mod session;
#[cfg(feature = "hydrate")]
mod status;

pub use home::{App, PageState};

use leptos::prelude::*;

/// The HTML document around [`App`], rendered by the server only.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    let stylesheet = format!("/{}/{}.css", options.site_pkg_dir, options.output_name);
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <title>"Log in with Authgear · Leptos"</title>
                <link rel="icon" href="/favicon.svg" type="image/svg+xml"/>
                <link rel="stylesheet" href=stylesheet/>
                <AutoReload options=options.clone()/>
                <HydrationScripts options/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

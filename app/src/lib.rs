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

/// The document's `<head>`, rendered by the server only. The server writes the document
/// around it: `<!DOCTYPE html><html lang="en">`, this head, then `<body>` with [`App`]
/// (`routes::page` in the server crate). The head is the same on every page but for its CSP
/// nonce, so the server renders it once.
pub fn head(options: LeptosOptions) -> impl IntoView {
    let stylesheet = format!("/{}/{}.css", options.site_pkg_dir, options.output_name);
    view! {
        <head>
            <meta charset="utf-8"/>
            <meta name="viewport" content="width=device-width, initial-scale=1"/>
            <title>"Log in with Authgear · Leptos"</title>
            <link rel="icon" href="/favicon.svg" type="image/svg+xml"/>
            <link rel="stylesheet" href=stylesheet/>
            <AutoReload options=options.clone()/>
            <HydrationScripts options/>
        </head>
    }
}

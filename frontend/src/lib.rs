//! The WASM entry point: hydrates the server-rendered page.

// The app's view types are deep (typed, not boxed, children).
#![recursion_limit = "256"]

#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    // Readable panic messages in the browser console, in development builds only: the hook and
    // the formatting it pulls in would grow the release bundle (bench/README.md).
    #[cfg(debug_assertions)]
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(app::App);
}

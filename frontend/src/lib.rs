//! The WASM entry point: prepares the page's islands, which the page's script then hydrates
//! one by one (each `#[island]` of the app and of `leptos-authgear` is an export of this
//! bundle).

// Links the app, whose islands are the bundle's exports (nothing here calls it).
use app as _;

#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    // Readable panic messages in the browser console, in development builds only: the hook and
    // the formatting it pulls in would grow the release bundle (bench/README.md).
    #[cfg(debug_assertions)]
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_islands();
}

//! With Leptos' islands (feature `islands`) only islands run in the browser: the parts of this
//! crate that must run there are islands of their own, which [`AuthProvider`](crate::AuthProvider)
//! and [`RequireUser`](crate::RequireUser) put on the page. They take the page's state from
//! [`use_auth`](crate::use_auth), which every island of a page shares.

use leptos::prelude::*;

/// Follows the session with the browser's other tabs (see `tabs.rs`).
#[island]
pub(crate) fn SessionWatcher() -> impl IntoView {
    crate::tabs::watch_session(crate::use_auth());
}

/// Once the session ends while a page only for signed-in users is open: hides the page and
/// shows `RequireUser`'s notice, both HTML from the server. (An island with the page as its
/// children, rendering the notice itself, took 5.6 KB more of the bundle: bench/README.md.)
#[island]
pub(crate) fn SignedInOnly() -> impl IntoView {
    let user = crate::use_user();
    Effect::new(move |_| {
        if user.with(Option::is_none) {
            set_hidden("[data-signed-in-only]", true);
            set_hidden("[data-signed-out-notice]", false);
        }
    });
}

/// Sets or removes `hidden` on every element `selector` finds.
fn set_hidden(selector: &str, hidden: bool) {
    #[cfg(feature = "hydrate")]
    if let Ok(elements) = document().query_selector_all(selector) {
        for index in 0..elements.length() {
            let element = elements
                .get(index)
                .and_then(|node| wasm_bindgen::JsCast::dyn_into::<web_sys::Element>(node).ok());
            if let Some(element) = element {
                let _ = if hidden {
                    element.set_attribute("hidden", "")
                } else {
                    element.remove_attribute("hidden")
                };
            }
        }
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = (selector, hidden);
}

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

/// Loads the login page, to come back here, once the user of a page only for signed-in users
/// is a guest (the session ended while the page was open).
#[island]
pub(crate) fn LoginWhenSignedOut() -> impl IntoView {
    let user = crate::use_user();
    Effect::new(move |_| {
        if user.get().is_none() {
            crate::login_here();
        }
    });
}

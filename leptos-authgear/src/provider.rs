//! [`AuthProvider`]: the component around the app that carries the server's answer to the
//! browser and starts the session watcher.

use crate::context::{page_auth, AuthContext, STATE_ELEMENT_ID};
use crate::texts::{AuthTexts, Texts};
use leptos::prelude::*;

/// Provides [`use_auth`](crate::use_auth) and [`use_user`](crate::use_user) to its children and carries the server's answer to
/// the browser. Put it around the app, inside `<Router>` or outside it.
///
/// On the server it reads what the auth layer found for this request (and answers 503 when the
/// session store is down); in the browser it reads the same state from the page, so hydration
/// shows the same user with no request and no flash. Every open tab of the browser then
/// follows the session without a reload: when it ends (logout in another tab, at the provider,
/// an expired or revoked session) each shows the guest view within moments, and a login in
/// one tab shows in the others (one tab listens to the server's event stream and tells the
/// others; each also asks the status route every 30 seconds and on focus).
///
/// With Leptos' islands (this crate's feature `islands`), it renders on the server only and
/// puts the session watcher in an island of its own; every island of the page shares the
/// page's state (see [`use_auth`](crate::use_auth)).
#[component]
pub fn AuthProvider<T: IntoView + 'static>(
    /// The app (typed, not boxed as an `AnyView`: in the browser, boxing a view brings its
    /// asynchronous hydration code into the bundle).
    children: TypedChildren<T>,
    /// The words of the components under it (default [`AuthTexts::ENGLISH`]).
    #[prop(optional)]
    texts: Option<&'static AuthTexts>,
) -> impl IntoView {
    let auth = page_auth();
    if let Some(texts) = texts {
        provide_context(Texts(texts));
    }
    let json = auth
        .state
        .with_untracked(serde_json::to_string)
        .map(|json| json.replace('<', "\\u003c"))
        .unwrap_or_default();
    // The routes' base path, when there is one: the browser's links and session watcher use it.
    let base = Some(auth.base).filter(|base| !base.is_empty());
    provide_context(auth);
    view! {
        <script type="application/json" id=STATE_ELEMENT_ID data-base=base inner_html=json></script>
        {session_watcher(auth)}
        {children.into_inner()()}
    }
}

/// Full hydration: this component runs in the browser, and watches the session itself.
#[cfg(not(feature = "islands"))]
fn session_watcher(auth: AuthContext) -> impl IntoView {
    crate::tabs::watch_session(auth);
}

/// Islands: the session watcher is an island of its own.
#[cfg(feature = "islands")]
fn session_watcher(_auth: AuthContext) -> impl IntoView {
    view! { <crate::islands::SessionWatcher/> }
}

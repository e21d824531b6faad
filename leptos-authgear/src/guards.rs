//! [`RequireUser`]: a page for signed-in users only.

use crate::context::{use_auth, AuthContext};
use crate::links::current_path;
use leptos::either::Either;
use leptos::prelude::*;

/// Shows its children to a signed-in user only. A guest is sent to the login, which comes back
/// to this page: on the server with a redirect (the first request of `/account`, say), in the
/// browser by loading the login page after a client-side navigation. When the session ends
/// while the page is open, the page turns to "Your session has ended. Please log in to see
/// this page." with a login link, and goes nowhere by itself: a move to the provider then
/// could race a logout in another tab (and log the user in again silently, undoing it).
///
/// When the server could not read the session (its store is down), it shows why instead, and
/// sends nobody anywhere.
#[component]
pub fn RequireUser<T: IntoView + 'static>(
    /// The page (typed, see [`AuthProvider`](crate::AuthProvider)).
    children: TypedChildrenFn<T>,
) -> impl IntoView {
    let children = children.into_inner();
    let auth = use_auth();
    if let Some(error) = auth.unavailable() {
        let text = auth
            .texts()
            .unavailable
            .map_or_else(|| error.to_string(), str::to_owned);
        return Either::Left(view! { <p class="error" role="alert">{text}</p> });
    }
    // The server answers a guest's request with a redirect.
    #[cfg(feature = "ssr")]
    if auth.user().get_untracked().is_none() {
        crate::links::send_to_login(&crate::links::login_url(Some(&current_path())));
    }
    Either::Right(shown_to_user(auth, move || children()))
}

/// What a page only for signed-in users shows a guest: why, when the session `ended`, and a
/// login that comes back.
fn signed_out_notice(auth: AuthContext, ended: bool) -> impl IntoView {
    let login = auth.login_url(Some(&current_path()));
    let texts = auth.texts();
    view! {
        <p class="notice" role="status">
            {ended.then_some(texts.session_ended)}
            {texts.before_login_link} <a href=login rel="external">{texts.login_link}</a> {texts.after_login_link}
        </p>
    }
}

/// Full hydration: the children, or the notice once the user is a guest; a guest after a
/// client-side navigation goes to the login.
#[cfg(not(feature = "islands"))]
fn shown_to_user<T: IntoView + 'static>(
    auth: AuthContext,
    children: impl Fn() -> T + Send + Sync + 'static,
) -> impl IntoView {
    let (user, ended) = (auth.user(), auth.session_ended());
    // This page's path, now: after a client-side navigation the address bar shows it only once
    // the new page is in place, after the effect has run.
    let login = crate::links::login_url(Some(&current_path()));
    // The effect runs in the browser only.
    Effect::new(move |_| {
        if user.get().is_none() && !ended.get_untracked() {
            crate::links::send_to_login(&login);
        }
    });
    // Not `<Show>`: it boxes its children as an `AnyView`, which brings their asynchronous
    // hydration code into the WASM bundle (the page's whole view tree a second time).
    let signed_in = Memo::new(move |_| user.get().is_some());
    move || {
        if signed_in.get() {
            Either::Left(children())
        } else {
            Either::Right(signed_out_notice(auth, ended.get_untracked()))
        }
    }
}

/// Islands: the page and the notice are static HTML (the notice hidden); the island after them
/// swaps them once the session ends. The server has sent every guest to the login.
#[cfg(feature = "islands")]
fn shown_to_user<T: IntoView + 'static>(
    auth: AuthContext,
    children: impl Fn() -> T + Send + Sync + 'static,
) -> impl IntoView {
    if auth.user().get_untracked().is_some() {
        Either::Left(view! {
            <div data-signed-in-only="">{children()}</div>
            <div data-signed-out-notice="" hidden>{signed_out_notice(auth, true)}</div>
            <crate::islands::SignedInOnly/>
        })
    } else {
        Either::Right(signed_out_notice(
            auth,
            auth.session_ended().get_untracked(),
        ))
    }
}

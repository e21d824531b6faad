//! Links and buttons that log in and out, and the way to the login from a page or a server
//! function.

use crate::context::use_auth;
use crate::paths::{login_url_at, push_query_param, LOGOUT};
use leptos::prelude::*;

/// `<login path>?return_to=<path>` (by default `/login?return_to=…`): the login that comes
/// back to `return_to` (a local path; the server refuses any other), or to `/` when `None`.
/// The page's [`AuthContext::login_url`](crate::AuthContext::login_url).
pub fn login_url(return_to: Option<&str>) -> String {
    // In the browser, the page's (islands share one); on the server, outside an `AuthProvider`,
    // the default paths.
    #[cfg(all(feature = "hydrate", not(feature = "ssr")))]
    let base = use_auth().base;
    #[cfg(not(all(feature = "hydrate", not(feature = "ssr"))))]
    let base = use_context::<crate::AuthContext>().map_or("", |auth| auth.base);
    login_url_at(base, return_to)
}

/// A link that logs in and comes back to `return_to` (default: the home page). It is
/// `rel="external"`, so that `leptos_router` lets the browser load it (the login is a server
/// route, not one of the app's pages).
#[component]
pub fn LoginLink<T: IntoView + 'static>(
    /// The local path to come back to after login, e.g. `/account`.
    #[prop(optional, into)]
    return_to: Option<String>,
    /// The language of the provider's pages, BCP 47 tags preferred first (`"fr"`,
    /// `"fr-CA en"`: OpenID Connect's `ui_locales`); default: the server's choice.
    #[prop(optional, into)]
    ui_locales: Option<String>,
    /// A silent sign-in (`prompt=none`): no page of the provider's; back signed in when the
    /// provider still has a session for the user, else back a guest, on `return_to`.
    #[prop(optional)]
    silent: bool,
    /// The element's id.
    #[prop(optional, into)]
    id: Option<String>,
    /// The element's class.
    #[prop(optional, into)]
    class: Option<String>,
    /// The link's content, e.g. `"Login"`.
    children: TypedChildren<T>,
) -> impl IntoView {
    let mut href = login_url(return_to.as_deref());
    if let Some(locales) = ui_locales {
        push_query_param(&mut href, "ui_locales", &locales);
    }
    if silent {
        push_query_param(&mut href, "prompt", "none");
    }
    view! { <a href=href id=id class=class rel="external">{children.into_inner()()}</a> }
}

/// [`login_url`] with the provider's pages in `ui_locales` (`"fr"`, `"fr-CA en"`):
/// `<login path>?return_to=<path>&ui_locales=<tags>`.
pub fn login_url_in(ui_locales: &str, return_to: Option<&str>) -> String {
    let mut url = login_url(return_to);
    push_query_param(&mut url, "ui_locales", ui_locales);
    url
}

/// A link that opens the provider's sign-up page (Authgear: `x_page=signup`) and comes back to
/// `return_to` (default: the home page).
#[component]
pub fn SignupLink<T: IntoView + 'static>(
    /// The local path to come back to after sign-up.
    #[prop(optional, into)]
    return_to: Option<String>,
    /// The element's id.
    #[prop(optional, into)]
    id: Option<String>,
    /// The element's class.
    #[prop(optional, into)]
    class: Option<String>,
    /// The link's content, e.g. `"Sign up"`.
    children: TypedChildren<T>,
) -> impl IntoView {
    let mut href = login_url(Some(return_to.as_deref().unwrap_or("/")));
    href.push_str("&screen=signup");
    view! { <a href=href id=id class=class rel="external">{children.into_inner()()}</a> }
}

/// A button that logs out: a same-origin `POST` form (a link could be triggered cross-site).
/// The server ends the session here and at the provider, then comes back to `/`.
#[component]
pub fn LogoutButton<T: IntoView + 'static>(
    /// The button's id.
    #[prop(optional, into)]
    id: Option<String>,
    /// The button's class.
    #[prop(optional, into)]
    class: Option<String>,
    /// The button's content, e.g. `"Logout"`.
    children: TypedChildren<T>,
) -> impl IntoView {
    // No handler: the session watcher sees the form go (so that the button works in static
    // HTML, as with islands).
    let action = use_auth().route(LOGOUT).into_owned();
    view! {
        <form method="post" action=action>
            <button type="submit" id=id class=class>{children.into_inner()()}</button>
        </form>
    }
}

/// Loads the login page, to come back to the current page. For a server function that
/// answered [`AuthError::needs_login`](crate::AuthError::needs_login). Browser only; nothing on the server.
pub fn login_here() {
    send_to_login(&login_url(Some(&current_path())));
}

/// The current path and query: the request's on the server, the location's in the browser.
pub(crate) fn current_path() -> String {
    #[cfg(feature = "ssr")]
    {
        use_context::<axum::http::request::Parts>()
            .and_then(|parts| {
                parts
                    .uri
                    .path_and_query()
                    .map(|path| path.as_str().to_owned())
            })
            .unwrap_or_else(|| "/".to_owned())
    }
    // In a page the router is moving to, its URL (the address bar's changes only after the
    // page is in place); else the address bar's. (With islands, no router runs in the browser.)
    #[cfg(all(feature = "hydrate", not(feature = "ssr"), not(feature = "islands")))]
    if let Some(url) = use_context::<ArcRwSignal<leptos_router::location::Url>>() {
        return url.with_untracked(|url| match url.search() {
            "" => url.path().to_owned(),
            search => format!("{}?{search}", url.path()),
        });
    }
    #[cfg(not(feature = "ssr"))]
    {
        let location = window().location();
        let path = location.pathname().unwrap_or_else(|_| "/".into());
        path + &location.search().unwrap_or_default()
    }
}

pub(crate) fn send_to_login(login: &str) {
    // A 302 whatever the request accepts (`leptos_axum::redirect` sets it for HTML requests
    // only).
    #[cfg(feature = "ssr")]
    if let (Some(response), Ok(location)) = (
        use_context::<leptos_axum::ResponseOptions>(),
        axum::http::HeaderValue::from_str(login),
    ) {
        response.set_status(axum::http::StatusCode::FOUND);
        response.insert_header(axum::http::header::LOCATION, location);
    }
    #[cfg(all(feature = "hydrate", not(feature = "ssr")))]
    if let Err(error) = window().location().assign(login) {
        leptos::logging::warn!("cannot go to the login page: {error:?}");
    }
    #[cfg(not(any(feature = "ssr", feature = "hydrate")))]
    let _ = login;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn login_urls_carry_the_providers_language() {
        assert_eq!(login_url_in("fr", None), "/login?ui_locales=fr");
        assert_eq!(
            login_url_in("fr-CA en", Some("/account")),
            "/login?return_to=/account&ui_locales=fr-CA%20en"
        );
    }

    #[test]
    fn login_urls_encode_the_return_path() {
        assert_eq!(login_url(None), "/login");
        assert_eq!(login_url(Some("/account")), "/login?return_to=/account");
        assert_eq!(
            login_url(Some("/a?b=c&d=é")),
            "/login?return_to=/a%3Fb%3Dc%26d%3D%C3%A9"
        );
    }
}

//! The page's side: who is signed in ([`use_user`]), and ready links and buttons for logging
//! in and out. All of it works under an [`AuthProvider`], which the server seeds with the
//! session it read for this request and which the browser hydrates from without asking again.

use crate::paths::{join, LOGIN, LOGOUT};
use crate::texts::{AuthTexts, Texts};
use crate::{AuthError, AuthState, User};
use leptos::either::Either;
use leptos::prelude::*;
use std::borrow::Cow;

/// The id of the `<script type="application/json">` element that carries the [`AuthState`]
/// from the server's render to the browser's hydration.
const STATE_ELEMENT_ID: &str = "authState";

/// The auth state of the page, shared by every component under [`AuthProvider`]: get it with
/// [`use_auth`].
#[derive(Clone, Copy)]
pub struct AuthContext {
    /// As the server rendered the page, or as it answered later (a login in another tab).
    state: RwSignal<Result<AuthState, AuthError>>,
    /// Set when the session ends while the page is open.
    ended: RwSignal<bool>,
    /// Set when this tab logs out: the page is going, and what follows from the session's end
    /// here (a protected page sending the user to the login) must not race the logout. Read by
    /// the session watcher, in the browser only.
    #[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
    leaving: StoredValue<bool>,
    /// The base path of the login's routes, as the server is configured (`""`: the root).
    base: &'static str,
}

impl AuthContext {
    fn new(state: Result<AuthState, AuthError>, base: &'static str) -> Self {
        AuthContext {
            state: RwSignal::new(state),
            ended: RwSignal::new(false),
            leaving: StoredValue::new(false),
            base,
        }
    }

    /// The words the components show (see [`AuthTexts`]): the [`AuthProvider`]'s.
    pub fn texts(&self) -> &'static AuthTexts {
        use_context::<Texts>().map_or(&AuthTexts::ENGLISH, |texts| texts.0)
    }

    /// The base path of the login's routes (the server's `AuthPaths::base`, written on the
    /// page): `""` when they are at the root.
    pub fn base_path(&self) -> &'static str {
        self.base
    }

    /// One of the login's routes (`paths::LOGIN`, …) under the base path.
    pub(crate) fn route(&self, route: &'static str) -> Cow<'static, str> {
        join(self.base, route)
    }

    /// The login that comes back to `return_to` (a local path; the server refuses any other),
    /// or to `/` when `None`: `<login path>?return_to=<path>`.
    pub fn login_url(&self, return_to: Option<&str>) -> String {
        login_url_at(self.base, return_to)
    }

    /// The signed-in user, `None` for a guest or once the session has ended.
    pub fn user(&self) -> Signal<Option<User>> {
        let (state, ended) = (self.state, self.ended);
        Signal::derive(move || {
            if ended.get() {
                return None;
            }
            state.with(|state| state.as_ref().ok().and_then(|state| state.user.clone()))
        })
    }

    /// True when a session ended without the user asking: while the page was open, or before
    /// this page (the server says so once).
    pub fn session_ended(&self) -> Signal<bool> {
        let (state, ended) = (self.state, self.ended);
        Signal::derive(move || {
            ended.get() || state.with(|state| state.as_ref().is_ok_and(|state| state.session_ended))
        })
    }

    /// Marks the session as ended (a server function answered [`AuthError::needs_login`]): every
    /// [`use_user`] turns to `None`.
    pub fn end_session(&self) {
        self.ended.set(true);
    }

    /// Marks this tab as logging out (the session watcher sees a [`LogoutButton`]'s form go).
    #[cfg(feature = "hydrate")]
    pub(crate) fn leave(&self) {
        self.leaving.set_value(true);
    }

    /// True once this tab is logging out.
    #[cfg(feature = "hydrate")]
    pub(crate) fn is_leaving(&self) -> bool {
        self.leaving.get_value()
    }

    /// Takes the server's newer answer (a login in another tab of this browser).
    #[cfg(feature = "hydrate")]
    pub(crate) fn adopt(&self, state: AuthState) {
        self.state.set(Ok(state));
        self.ended.set(false);
    }

    /// Why the server could not tell who is signed in (its session store is down): the page
    /// should say so. `None` when it could.
    pub fn unavailable(&self) -> Option<AuthError> {
        self.state
            .with_untracked(|state| state.as_ref().err().cloned())
    }

    /// Where the user manages their account at the provider, when signed in: its settings
    /// page, or this crate's route that opens it already signed in
    /// (`AUTHGEAR_SETTINGS_SIGNED_IN`; a server route, so link it with `rel="external"`).
    pub fn account_settings_url(&self) -> Option<String> {
        self.state.with_untracked(|state| {
            state
                .as_ref()
                .ok()
                .and_then(|state| state.account_settings_url.clone())
        })
    }
}

/// Provides [`use_auth`] and [`use_user`] to its children and carries the server's answer to
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
/// page's state (see [`use_auth`]).
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

/// The page's auth state. In the browser there is one per page, shared by every component and
/// island (islands have no common parent to take a context from); on the server, the one the
/// [`AuthProvider`] around the component provides. Outside an [`AuthProvider`] it is that of a
/// page whose state is missing: no user, and [`AuthContext::unavailable`] says why.
pub fn use_auth() -> AuthContext {
    use_context::<AuthContext>().unwrap_or_else(|| {
        #[cfg(all(feature = "hydrate", not(feature = "ssr")))]
        return page_auth();
        #[cfg(not(all(feature = "hydrate", not(feature = "ssr"))))]
        AuthContext::new(Err(missing_provider()), "")
    })
}

/// The signed-in user: seeded by the server's render, the same in the browser after hydration,
/// and `None` once the session ends elsewhere (noticed without a reload).
pub fn use_user() -> Signal<Option<User>> {
    use_auth().user()
}

/// On the server: this request's state, for the [`AuthProvider`] to provide.
#[cfg(not(all(feature = "hydrate", not(feature = "ssr"))))]
fn page_auth() -> AuthContext {
    #[cfg(feature = "ssr")]
    let (state, base) = match crate::server::page_state() {
        Some((state, paths)) => (state, paths.base()),
        None => (Err(missing_provider()), ""),
    };
    #[cfg(not(feature = "ssr"))]
    let (state, base): (Result<AuthState, AuthError>, _) = (Err(missing_provider()), "");
    AuthContext::new(state, base)
}

/// In the browser: the page's state, read from its data block once. Its signals belong to no
/// component (whichever asks first may be an island that goes), but to the page.
#[cfg(all(feature = "hydrate", not(feature = "ssr")))]
fn page_auth() -> AuthContext {
    use leptos::reactive::owner::Owner;
    thread_local! {
        static PAGE: std::cell::OnceCell<AuthContext> = const { std::cell::OnceCell::new() };
    }
    PAGE.with(|page| {
        *page.get_or_init(|| {
            let owner = Owner::new_root(None);
            let (state, base) = from_the_page();
            let auth = owner.with(|| AuthContext::new(state, base));
            // Lives as long as the page.
            std::mem::forget(owner);
            auth
        })
    })
}

/// `<login path>?return_to=<path>` (by default `/login?return_to=…`): the login that comes
/// back to `return_to` (a local path; the server refuses any other), or to `/` when `None`.
/// The page's [`AuthContext::login_url`].
pub fn login_url(return_to: Option<&str>) -> String {
    // In the browser, the page's (islands share one); on the server, outside an `AuthProvider`,
    // the default paths.
    #[cfg(all(feature = "hydrate", not(feature = "ssr")))]
    let base = use_auth().base;
    #[cfg(not(all(feature = "hydrate", not(feature = "ssr"))))]
    let base = use_context::<AuthContext>().map_or("", |auth| auth.base);
    login_url_at(base, return_to)
}

pub(crate) fn login_url_at(base: &str, return_to: Option<&str>) -> String {
    let mut url = join(base, LOGIN).into_owned();
    if let Some(path) = return_to {
        url.push_str("?return_to=");
        encode_query_value(path, &mut url);
    }
    url
}

/// `action?return_to=<path>`: a form's action that names the page to come back to (a plain form
/// post to a server function is answered with a redirect there).
pub(crate) fn with_return_to(action: &str, path: &str) -> String {
    let mut url = action.to_owned();
    url.push_str("?return_to=");
    encode_query_value(path, &mut url);
    url
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

/// Appends `name=value` (encoded) to `url`'s query.
fn push_query_param(url: &mut String, name: &str, value: &str) {
    // A byte search: `str::contains` would bring its pattern searcher into the bundle.
    url.push(if url.as_bytes().contains(&b'?') {
        '&'
    } else {
        '?'
    });
    url.push_str(name);
    url.push('=');
    encode_query_value(value, url);
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
    /// The page (typed, see [`AuthProvider`]).
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
        send_to_login(&login_url(Some(&current_path())));
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
    let login = login_url(Some(&current_path()));
    // The effect runs in the browser only.
    Effect::new(move |_| {
        if user.get().is_none() && !ended.get_untracked() {
            send_to_login(&login);
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

/// Loads the login page, to come back to the current page. For a server function that
/// answered [`AuthError::needs_login`]. Browser only; nothing on the server.
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

/// Appends `value` to `encoded`, percent-encoding everything but unreserved characters and `/`
/// (a path stays readable).
fn encode_query_value(value: &str, encoded: &mut String) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~/".contains(&byte) {
            encoded.push(char::from(byte));
        } else {
            encoded.push('%');
            encoded.push(char::from(HEX[usize::from(byte >> 4)]));
            encoded.push(char::from(HEX[usize::from(byte & 15)]));
        }
    }
}

fn missing_provider() -> AuthError {
    AuthError::Temporary("The page was sent without its sign-in state; reload it.".into())
}

/// In the browser: the state and the routes' base path the server wrote in the page's data
/// block.
#[cfg(all(feature = "hydrate", not(feature = "ssr")))]
fn from_the_page() -> (Result<AuthState, AuthError>, &'static str) {
    let element = document().get_element_by_id(STATE_ELEMENT_ID);
    let state = element
        .as_ref()
        .and_then(|element| element.text_content())
        // From bytes, as server functions read their answers: one JSON reader in the bundle
        // (`from_str` would compile every type's parser a second time).
        .and_then(|json| serde_json::from_slice(json.as_bytes()).ok())
        .unwrap_or_else(|| Err(missing_provider()));
    // The server checked the base path (and the browser's own links are all it can change).
    let base = element
        .and_then(|element| element.get_attribute("data-base"))
        .map_or("", |base| &*base.leak());
    (state, base)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn login_urls_follow_the_paths() {
        assert_eq!(login_url_at("/auth", None), "/auth/login");
        assert_eq!(
            login_url_at("/auth", Some("/account")),
            "/auth/login?return_to=/account"
        );
    }

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

//! The page's auth state, [`AuthContext`], shared by every component under an
//! [`AuthProvider`](crate::AuthProvider), and the hooks that read it: [`use_auth`] and
//! [`use_user`]. The server seeds it with the session it read for this request; the browser
//! hydrates from it without asking again.

use crate::paths::{join, login_url_at};
use crate::texts::{AuthTexts, Texts};
use crate::{AuthError, AuthState, User};
use leptos::prelude::*;
use std::borrow::Cow;

/// The id of the `<script type="application/json">` element that carries the [`AuthState`]
/// from the server's render to the browser's hydration.
pub(crate) const STATE_ELEMENT_ID: &str = "authState";

/// The auth state of the page, shared by every component under [`AuthProvider`](crate::AuthProvider): get it with
/// [`use_auth`](crate::use_auth).
#[derive(Clone, Copy)]
pub struct AuthContext {
    /// As the server rendered the page, or as it answered later (a login in another tab).
    pub(crate) state: RwSignal<Result<AuthState, AuthError>>,
    /// Set when the session ends while the page is open.
    pub(crate) ended: RwSignal<bool>,
    /// Set when this tab logs out: the page is going, and what follows from the session's end
    /// here (a protected page sending the user to the login) must not race the logout. Read by
    /// the session watcher, in the browser only.
    #[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
    pub(crate) leaving: StoredValue<bool>,
    /// The base path of the login's routes, as the server is configured (`""`: the root).
    pub(crate) base: &'static str,
}

impl AuthContext {
    pub(crate) fn new(state: Result<AuthState, AuthError>, base: &'static str) -> Self {
        AuthContext {
            state: RwSignal::new(state),
            ended: RwSignal::new(false),
            leaving: StoredValue::new(false),
            base,
        }
    }

    /// The words the components show (see [`AuthTexts`]): the [`AuthProvider`](crate::AuthProvider)'s.
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
    /// [`use_user`](crate::use_user) turns to `None`.
    pub fn end_session(&self) {
        self.ended.set(true);
    }

    /// Marks this tab as logging out (the session watcher sees a [`LogoutButton`](crate::LogoutButton)'s form go).
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

/// The page's auth state. In the browser there is one per page, shared by every component and
/// island (islands have no common parent to take a context from); on the server, the one the
/// [`AuthProvider`](crate::AuthProvider) around the component provides. Outside an [`AuthProvider`](crate::AuthProvider) it is that of a
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

/// On the server: this request's state, for the [`AuthProvider`](crate::AuthProvider) to provide.
#[cfg(not(all(feature = "hydrate", not(feature = "ssr"))))]
pub(crate) fn page_auth() -> AuthContext {
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
pub(crate) fn page_auth() -> AuthContext {
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

pub(crate) fn missing_provider() -> AuthError {
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

//! Step-up: a recent login before a sensitive action. [`RequireRecentLogin`] for a page,
//! [`login_for`] for a server function's [`AuthError::RecentLoginRequired`]; on the server,
//! [`require_recent_login`](crate::server::require_recent_login).

use crate::links::{current_path, send_to_login};
use crate::{login_url, AuthError, RequireUser};
use leptos::either::Either;
use leptos::prelude::*;

/// Shows its children to a user who logged in at the provider within `max_age` seconds (the ID
/// token's `auth_time`); anyone else is sent to the login, with `max_age`, which comes back to
/// this page. A guest is sent as by [`RequireUser`], which it includes. The provider asks the
/// user to prove who they are again when its own login is older (`max_age`, which Authgear
/// honours), and the callback refuses an ID token whose `auth_time` is missing or older.
///
/// The check is the server's, when it renders the page (the page is then never sent again from
/// [`Auth::leptos_routes`](crate::server::Auth::leptos_routes)' cache: it depends on the time).
/// After a client-side navigation (full hydration), the page is shown as to a signed-in user:
/// the server functions behind a sensitive action check for themselves, with
/// [`require_recent_login`](crate::server::require_recent_login), which is the defence.
///
/// ```
/// use leptos::prelude::*;
/// use leptos_authgear::RequireRecentLogin;
///
/// #[component]
/// fn DeleteAccount() -> impl IntoView {
///     view! {
///         // Within the last five minutes.
///         <RequireRecentLogin max_age=300>
///             <p>"Deleting your account cannot be undone."</p>
///         </RequireRecentLogin>
///     }
/// }
/// ```
#[component]
pub fn RequireRecentLogin<T: IntoView + 'static>(
    /// Seconds since the user last authenticated at the provider.
    max_age: u64,
    /// The page (typed, see [`AuthProvider`](crate::AuthProvider)).
    children: TypedChildrenFn<T>,
) -> impl IntoView {
    // Sent to the login: the page itself is not in the redirect's body.
    #[cfg(feature = "ssr")]
    if crate::use_user().get_untracked().is_some() && !crate::server::page_login_within(max_age) {
        send_to_login(&recent_login_url(max_age));
        return Either::Left(());
    }
    #[cfg(not(feature = "ssr"))]
    let _ = max_age;
    Either::<(), _>::Right(view! { <RequireUser children/> })
}

/// For a server function's error: when it asks for a login ([`AuthError::needs_login`], or
/// [`AuthError::RecentLoginRequired`], whose `max_age` the login then sends), loads that login,
/// which comes back to the current page, and returns true; otherwise false. Browser only.
///
/// ```
/// use leptos::prelude::*;
/// use leptos_authgear::{login_for, AuthError};
///
/// #[server]
/// pub async fn end_everything() -> Result<(), AuthError> {
///     leptos_authgear::server::require_recent_login(std::time::Duration::from_secs(300)).await?;
///     Ok(())
/// }
///
/// #[component]
/// fn EndEverything() -> impl IntoView {
///     let action = Action::new(|_: &()| end_everything());
///     Effect::new(move |_| {
///         if let Some(Err(error)) = action.value().get() {
///             login_for(&error);
///         }
///     });
///     view! { <button on:click=move |_| { action.dispatch(()); }>"End everything"</button> }
/// }
/// ```
pub fn login_for(error: &AuthError) -> bool {
    match error {
        AuthError::RecentLoginRequired(max_age) => send_to_login(&recent_login_url(*max_age)),
        error if error.needs_login() => send_to_login(&login_url(Some(&current_path()))),
        _ => return false,
    }
    true
}

/// The login with `max_age` that comes back to the current page.
fn recent_login_url(max_age: u64) -> String {
    let mut url = login_url(Some(&current_path()));
    url.push_str("&max_age=");
    url.push_str(&max_age.to_string());
    url
}

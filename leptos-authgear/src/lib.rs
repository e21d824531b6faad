//! Log in with Authgear, or any OpenID Connect provider, in a Leptos app: a backend-for-frontend
//! (BFF) that runs the authorization-code flow as a confidential client and keeps every token in
//! a server-side session behind an HTTP-only cookie. The page sees who is signed in, never a
//! token.
//!
//! One crate for both sides, like Leptos' own: feature `ssr` for the server (routes, session
//! layer, server-function helpers), `hydrate` for the browser (the session watcher), and
//! `islands` for an app built with Leptos' islands (the parts that run in the browser become
//! islands; otherwise the same API). The session stores are features of their own, each with
//! the server side: `sqlite` (the default), `redis` and `memory`; `server::Auth::with_store`
//! takes any `tower_sessions::SessionStore` instead.
//!
//! Settings come from the environment (`server::Auth::from_env`, the names of Authgear's
//! guide) or from code (`server::Settings::builder`): any OpenID Connect provider's issuer, the
//! routes under a base path of the app's choosing, the app's own error page
//! (`server::SettingsBuilder::error_page`) and words ([`AuthTexts`]).
//!
//! # Quick start
//!
//! In the server's `main` (an app from Leptos' `start-axum-workspace` template):
//!
//! ```no_run
//! # #[cfg(feature = "ssr")]
//! # mod quick_start {
//! use axum::Router;
//! use leptos::prelude::*;
//! use leptos_authgear::server::Auth;
//! use leptos_axum::{generate_route_list, LeptosRoutes};
//!
//! # #[component] fn App() -> impl IntoView { view! { <p>"app"</p> } }
//! # fn shell(_options: LeptosOptions) -> impl IntoView { view! { <App/> } }
//! # pub async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let options = get_configuration(None)?.leptos_options;
//! // AUTHGEAR_DOMAIN, AUTHGEAR_CLIENT_ID, AUTHGEAR_CLIENT_SECRET, APP_SECRET_KEY, APP_URL.
//! let auth = Auth::from_env().await?;
//! let app = Router::new()
//!     .leptos_routes(&options, generate_route_list(App), {
//!         let options = options.clone();
//!         move || shell(options.clone())
//!     })
//!     .merge(auth.routes()) // /login, /callback, /logout, /session/status, ...
//!     .fallback(leptos_axum::file_and_error_handler(shell))
//!     .layer(auth.layer()) // the session cookie, the same-origin check, headers, the page's user
//!     .with_state(options.clone());
//! let listener = tokio::net::TcpListener::bind(&options.site_addr).await?;
//! // axum::serve with a connection limit, a header-read timeout, the client's address for
//! // `/login`'s rate limit, and a shutdown that ends the pages' event streams.
//! let stop = async { let _ = tokio::signal::ctrl_c().await; };
//! leptos_authgear::server::serve(listener, app, &auth, stop).await?;
//! # Ok(()) }
//! # }
//! ```
//!
//! `auth.leptos_routes(routes, context, shell)` may take the place of `leptos_routes`: the same
//! pages and server functions, rendered and dispatched several times cheaper (its limits are in
//! its documentation).
//!
//! In components, under an [`AuthProvider`]:
//!
//! ```
//! use leptos::prelude::*;
//! use leptos_authgear::{use_user, AuthProvider, LoginLink, LogoutButton};
//!
//! #[component]
//! fn App() -> impl IntoView {
//!     view! { <AuthProvider><Greeting/></AuthProvider> }
//! }
//!
//! #[component]
//! fn Greeting() -> impl IntoView {
//!     let user = use_user();
//!     move || match user.get() {
//!         Some(user) => view! {
//!             <p>"Signed in as " {user.display_name}</p>
//!             <LogoutButton>"Logout"</LogoutButton>
//!         }
//!         .into_any(),
//!         None => view! { <LoginLink return_to="/">"Login"</LoginLink> }.into_any(),
//!     }
//! }
//! ```
//!
//! In a server function:
//!
//! ```
//! use leptos::prelude::*;
//! use leptos_authgear::AuthError;
//!
//! #[server]
//! pub async fn greeting() -> Result<String, AuthError> {
//!     // 401 and `AuthError::NotSignedIn` without a session, never a redirect.
//!     let user = leptos_authgear::server::require_user().await?;
//!     // Refreshed first if it is about to expire, once however many calls ask.
//!     let token = leptos_authgear::server::access_token().await?;
//!     let _ = token.secret(); // for `Authorization: Bearer …` to your API
//!     Ok(format!("Hello, {}", user.display_name))
//! }
//! ```
//!
//! A page only for signed-in users: wrap it in [`RequireUser`]; a guest is redirected to the
//! login, which comes back to that page.

#![warn(missing_docs)]

pub mod authgear;
mod components;
mod expiry_warning;
#[cfg(feature = "islands")]
mod islands;
mod paths;
mod recent_login;
#[cfg(feature = "ssr")]
pub mod server;
mod session_list;
#[cfg(any(feature = "hydrate", all(test, feature = "ssr")))]
mod status;
mod tabs;
mod texts;
mod time_text;
mod user;

pub use components::{
    login_here, login_url, login_url_in, use_auth, use_user, AuthContext, AuthProvider, LoginLink,
    LogoutButton, RequireUser, SignupLink,
};
pub use expiry_warning::SessionExpiryWarning;
#[cfg(feature = "ssr")]
pub use paths::AuthPaths;
pub use recent_login::{login_for, RequireRecentLogin};
pub use session_list::SessionList;
pub use texts::AuthTexts;
pub use time_text::format_utc;
pub use user::{AuthError, AuthState, ClaimsJson, SessionInfo, User};

use leptos::prelude::*;

/// Who is signed in to this browser: the user (or none), and whether a session ended
/// elsewhere. A server function at `POST /api/current_user`, like Duende.BFF's `/bff/user`;
/// reading it counts as activity.
#[server(endpoint = "current_user")]
pub async fn current_user() -> Result<AuthState, AuthError> {
    server::current_auth_state().await
}

/// The signed-in user's live sessions, this browser's first ("your devices", see
/// [`SessionList`]): `POST /api/list_sessions`. Counts as activity; 401
/// [`AuthError::NotSignedIn`] for a guest. Never another user's, never a session's id.
#[server(endpoint = "list_sessions")]
pub async fn list_sessions() -> Result<Vec<SessionInfo>, AuthError> {
    server::list_sessions().await
}

/// Ends the user's session that `handle` names (from [`list_sessions`]): its pages turn to the
/// guest view within seconds and its refresh token is revoked at the provider.
/// `POST /api/end_session`. A handle of none of the user's live sessions ends nothing.
// The generated struct's field is the argument, documented above.
#[allow(missing_docs)]
#[server(endpoint = "end_session")]
pub async fn end_session(handle: String) -> Result<(), AuthError> {
    server::end_session(&handle).await
}

/// Ends every session of the user but this browser's, as [`end_session`] ends one; returns how
/// many. `POST /api/end_other_sessions`.
#[server(endpoint = "end_other_sessions")]
pub async fn end_other_sessions() -> Result<usize, AuthError> {
    server::end_other_sessions().await
}

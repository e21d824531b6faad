//! What a server function calls: [`require_user`], [`access_token`], [`refresh_profile`]. Each
//! reads the session the auth layer attached to this request; none of them redirects: a call
//! without a session answers 401 with [`AuthError::NotSignedIn`], which the page turns into a
//! login ([`login_here`](crate::login_here)).

use super::error::store_error;
use super::layer::{PagePaths, PageState};
use super::pages::RequestAuth;
use super::session::{AuthSession, SignedInUser};
use super::Auth;
use crate::{AuthError, AuthState, User};
use axum::http::request::Parts;
use axum::http::StatusCode;
use leptos::prelude::use_context;
use leptos_axum::ResponseOptions;
use std::fmt;
use tower_sessions::Session;

/// The signed-in user, or [`AuthError::NotSignedIn`] (and status 401). Counts as activity: the
/// idle timeout starts again.
pub async fn require_user() -> Result<User, AuthError> {
    let (_, session) = request_session()?;
    let user = session.active_user().await.map_err(store_error)?;
    match user {
        Some(user) => Ok(User::from_signed_in(&user)),
        None => Err(not_signed_in(AuthError::NotSignedIn)),
    }
}

/// An access token good for a call to an API now: refreshed first when it is about to expire,
/// once per session however many calls ask at the same time. [`AuthError::NotSignedIn`] or
/// [`AuthError::SessionEnded`] (the provider refused the refresh) answer 401.
pub async fn access_token() -> Result<AccessToken, AuthError> {
    let (auth, session) = request_session()?;
    session.active_user().await.map_err(store_error)?;
    match auth.tokens().fresh_user(&session).await {
        Ok(user) => Ok(AccessToken(user.tokens.access_token.clone())),
        Err(error) => Err(not_signed_in(error.into())),
    }
}

/// The user's claims fresh from the provider's userinfo endpoint (the access token refreshed
/// first when due), kept in the session for the next page.
pub async fn refresh_profile() -> Result<User, AuthError> {
    let (auth, session) = request_session()?;
    session.active_user().await.map_err(store_error)?;
    auth.0
        .tokens
        .fresh_profile(&session)
        .await
        .map_err(not_signed_in)
}

/// The signed-in user, if they authenticated at the provider within `max_age` (the ID token's
/// `auth_time`): a step-up before a sensitive action. Otherwise
/// [`AuthError::RecentLoginRequired`] with status 401 (or [`AuthError::NotSignedIn`]); the page
/// then logs in again with that `max_age` ([`login_for`](crate::login_for)) and repeats the
/// action. A plain form post to a server function (no JavaScript) that fails so is sent to that
/// login by [`Auth::leptos_routes`](super::Auth::leptos_routes), which brings it back to the
/// page. Counts as activity.
///
/// ```
/// use leptos::prelude::*;
/// use leptos_authgear::AuthError;
///
/// #[server]
/// pub async fn delete_account() -> Result<(), AuthError> {
///     let five_minutes = std::time::Duration::from_secs(300);
///     let user = leptos_authgear::server::require_recent_login(five_minutes).await?;
///     // ... delete user.subject's data
///     # let _ = user;
///     Ok(())
/// }
/// ```
pub async fn require_recent_login(max_age: std::time::Duration) -> Result<User, AuthError> {
    let (_, session) = request_session()?;
    let user = recent_login(&session, max_age).await?;
    Ok(User::from_signed_in(&user))
}

/// [`require_recent_login`]'s check, on `session`.
pub(super) async fn recent_login(
    session: &AuthSession,
    max_age: std::time::Duration,
) -> Result<std::sync::Arc<SignedInUser>, AuthError> {
    let Some(user) = session.active_user().await.map_err(store_error)? else {
        return Err(not_signed_in(AuthError::NotSignedIn));
    };
    let max_age = max_age.as_secs();
    let now = super::session::unix_now();
    if super::id_token::authenticated_within(user.auth_time, max_age, now).is_err() {
        return Err(not_signed_in(AuthError::RecentLoginRequired(max_age)));
    }
    Ok(user)
}

/// How this session's access token has been refreshed, for a page that shows it (the demo's
/// account page): never refreshes, counts as activity. [`AuthError::NotSignedIn`] answers 401.
pub async fn token_activity() -> Result<TokenActivity, AuthError> {
    let (_, session) = request_session()?;
    match session.active_user().await.map_err(store_error)? {
        Some(user) => Ok(TokenActivity {
            access_token_expires_at: user.tokens.access_token_expires_at,
            refreshes: user.refreshes,
            last_refreshed_at: user.last_refreshed_at,
        }),
        None => Err(not_signed_in(AuthError::NotSignedIn)),
    }
}

/// What [`token_activity`] says: times and counts, never a token.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TokenActivity {
    /// Unix time at which the access token expires, if the provider said.
    pub access_token_expires_at: Option<i64>,
    /// Refreshes in this session so far.
    pub refreshes: u32,
    /// When the last one happened (Unix time).
    pub last_refreshed_at: Option<i64>,
}

/// Who is signed in, as `/api/current_user` answers: the user (or none) and whether a session
/// ended elsewhere.
pub(crate) async fn current_auth_state() -> Result<AuthState, AuthError> {
    let (auth, session) = request_session()?;
    super::auth_state(&auth, &session)
        .await
        .map_err(store_error)
}

/// An OAuth access token, for the `Authorization: Bearer` header of an API call. Never printed
/// by `Debug`.
#[derive(Clone)]
pub struct AccessToken(String);

impl AccessToken {
    /// The token itself. Send it only to the API it is for.
    pub fn secret(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for AccessToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AccessToken([redacted])")
    }
}

/// What the auth layer found for the page being rendered (see
/// [`AuthProvider`](crate::AuthProvider)); `None` outside a request it saw.
pub(crate) fn page_state() -> Option<(Result<AuthState, AuthError>, &'static crate::AuthPaths)> {
    let parts = use_context::<Parts>()?;
    let state = parts.extensions.get::<PageState>()?.0.clone();
    let paths = parts
        .extensions
        .get::<PagePaths>()
        .map_or_else(crate::paths::default_paths, |paths| paths.0);
    if let Some(response) = use_context::<ResponseOptions>() {
        // The page shows who is signed in: no cache may keep it.
        response.insert_header(
            axum::http::header::CACHE_CONTROL,
            axum::http::HeaderValue::from_static("no-store"),
        );
        if state.is_err() {
            response.set_status(StatusCode::SERVICE_UNAVAILABLE);
        }
    }
    Some((state, paths))
}

/// For the page being rendered: whether its user authenticated within `max_age` seconds
/// (`RequireRecentLogin`); false for a guest. Makes the page not reusable (it depends on the
/// time).
pub(crate) fn page_login_within(max_age: u64) -> bool {
    super::pages::page_not_reusable();
    let Some(parts) = use_context::<Parts>() else {
        return false;
    };
    parts.extensions.get::<PageState>().is_some_and(|page| {
        super::id_token::authenticated_within(page.1, max_age, super::session::unix_now()).is_ok()
    })
}

/// `SessionExpiryWarning`'s `before`, at most a third of the idle timeout (a warning on screen
/// all the time warns of nothing).
pub(crate) fn expiry_warning_before(before: u64) -> u64 {
    let idle = use_context::<Parts>().and_then(|parts| {
        let auth = parts.extensions.get::<Auth>()?;
        Some(auth.settings().session.idle_timeout.as_secs())
    });
    idle.map_or(before, |idle| before.min(idle / 3))
}

/// The [`Auth`] and the browser's session for this call, from the request the auth layer saw:
/// in the context [`Auth::leptos_routes`] provides, or in the request's parts that
/// `leptos_axum` provides.
pub(super) fn request_session() -> Result<(Auth, AuthSession), AuthError> {
    if let Some(RequestAuth { auth, session }) = use_context::<RequestAuth>() {
        let session = AuthSession::new(session, &auth);
        return Ok((auth, session));
    }
    let parts = use_context::<Parts>();
    let found = parts.as_ref().and_then(|parts| {
        let auth = parts.extensions.get::<Auth>()?;
        let session = parts.extensions.get::<Session>()?;
        Some((auth.clone(), AuthSession::new(session.clone(), auth)))
    });
    found.ok_or_else(|| {
        tracing::error!("no session for this call: is `Auth::layer` around the router?");
        AuthError::Temporary("The server could not read your session.".into())
    })
}

/// 401 for an error that needs a login (and, for a plain form post, the login to go to); the
/// error as it is.
pub(super) fn not_signed_in(error: AuthError) -> AuthError {
    let max_age = match error {
        AuthError::RecentLoginRequired(max_age) => Some(max_age),
        _ if error.needs_login() => None,
        _ => return error,
    };
    if let Some(response) = use_context::<ResponseOptions>() {
        response.set_status(StatusCode::UNAUTHORIZED);
    }
    if let Some(form) = use_context::<super::pages::PlainFormPost>() {
        form.needs_login(max_age);
    }
    error
}

/// 400 and [`AuthError::Call`]: the call's arguments cannot be right.
pub(super) fn bad_request(why: &str) -> AuthError {
    if let Some(response) = use_context::<ResponseOptions>() {
        response.set_status(StatusCode::BAD_REQUEST);
    }
    AuthError::Call(why.to_owned())
}

impl User {
    /// The page's view of a signed-in user: no token.
    pub(crate) fn from_signed_in(user: &SignedInUser) -> Self {
        let claims = &user.claims;
        Self {
            display_name: claims.display_name.clone(),
            email: claims.email.clone(),
            email_verified: claims.email_verified,
            subject: user.subject.clone(),
            claims_json: claims.pretty_json.clone(),
            session_ends_at: user.ends_at,
            access_token_expires_at: user.tokens.access_token_expires_at,
        }
    }
}

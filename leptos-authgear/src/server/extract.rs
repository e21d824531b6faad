//! For plain axum routes of the same app (an API beside the Leptos pages): who is signed in, as
//! extractors, and a layer that lets only signed-in users through. They read the session
//! [`Auth::layer`](super::Auth::layer) attached to the request, as the server functions do.

use super::session::AuthSession;
use super::Auth;
use crate::{AuthError, User};
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use tower_sessions::Session;

/// The signed-in user, or `None` for a guest. Counts as activity, as a page view does.
///
/// ```
/// # #[cfg(feature = "ssr")]
/// # mod example {
/// use axum::{routing::get, Json, Router};
/// use leptos_authgear::server::MaybeUser;
///
/// async fn whoami(MaybeUser(user): MaybeUser) -> String {
///     match user {
///         Some(user) => format!("signed in as {}", user.display_name),
///         None => "a guest".to_owned(),
///     }
/// }
///
/// // Merged into the app's router, under `auth.layer()`.
/// pub fn api() -> Router { Router::new().route("/api/plain/whoami", get(whoami)) }
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct MaybeUser(pub Option<User>);

/// The signed-in user; a guest's request is answered `401` with the JSON body
/// `"NotSignedIn"` (as a server function's [`AuthError`]), never a redirect.
///
/// ```
/// # #[cfg(feature = "ssr")]
/// # mod example {
/// use axum::{routing::get, Router};
/// use leptos_authgear::server::SignedIn;
///
/// async fn report(SignedIn(user): SignedIn) -> String {
///     format!("the report for {}", user.subject)
/// }
///
/// pub fn api() -> Router { Router::new().route("/api/plain/report", get(report)) }
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct SignedIn(pub User);

impl<S: Send + Sync> FromRequestParts<S> for MaybeUser {
    type Rejection = AuthError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, AuthError> {
        let (Some(auth), Some(session)) = (
            parts.extensions.get::<Auth>(),
            parts.extensions.get::<Session>(),
        ) else {
            tracing::error!("no session for this request: is `Auth::layer` around the router?");
            return Err(AuthError::Temporary(
                "The server could not read your session.".into(),
            ));
        };
        let session = AuthSession::new(session.clone(), auth);
        match session.active_user().await {
            Ok(user) => Ok(Self(user.as_deref().map(User::from_signed_in))),
            Err(error) => Err(super::error::store_error(error)),
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for SignedIn {
    type Rejection = AuthError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, AuthError> {
        match MaybeUser::from_request_parts(parts, state).await? {
            MaybeUser(Some(user)) => Ok(Self(user)),
            MaybeUser(None) => Err(AuthError::NotSignedIn),
        }
    }
}

/// As a server function answers it: 401 for [`AuthError::needs_login`] and
/// [`AuthError::RecentLoginRequired`], 503 when the session
/// store or the provider is unavailable, 500 otherwise; the error as JSON; never cached.
impl IntoResponse for AuthError {
    fn into_response(self) -> Response {
        let status = match &self {
            AuthError::NotSignedIn
            | AuthError::SessionEnded
            | AuthError::RecentLoginRequired(_) => StatusCode::UNAUTHORIZED,
            AuthError::Temporary(_) => StatusCode::SERVICE_UNAVAILABLE,
            AuthError::Call(_) => StatusCode::INTERNAL_SERVER_ERROR,
        };
        let body = serde_json::to_string(&self).unwrap_or_else(|_| "null".to_owned());
        (
            status,
            [
                (
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("application/json"),
                ),
                (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
            ],
            body,
        )
            .into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::test_support::{auth, fetch, sign_in};
    use axum::http::StatusCode;
    use axum::routing::get;
    use axum::Router;

    /// Plain axum routes of an app, on the crate's layer, with sessions in a store of the app's
    /// own.
    async fn app() -> Router {
        let auth = auth(|settings| settings).await;
        let whoami = |MaybeUser(user): MaybeUser| async move {
            user.map_or_else(|| "a guest".to_owned(), |user| user.subject)
        };
        Router::new()
            .route("/whoami", get(whoami))
            .route("/sign-in", sign_in())
            .route(
                "/report",
                get(|SignedIn(user): SignedIn| async move { user.subject }),
            )
            .merge(
                Router::new()
                    .route("/export", get(|| async { "the export" }))
                    .route_layer(auth.require_user()),
            )
            .layer(auth.layer())
    }

    #[tokio::test]
    async fn plain_routes_know_the_user_and_refuse_a_guest_with_401_json() {
        let app = app().await;
        assert_eq!(fetch(&app, "/whoami", None).await.1, "a guest");
        for path in ["/report", "/export"] {
            let (status, body, _) = fetch(&app, path, None).await;
            assert_eq!(status, StatusCode::UNAUTHORIZED, "{path}");
            assert_eq!(body, "\"NotSignedIn\"", "{path}");
        }

        let (_, _, cookie) = fetch(&app, "/sign-in", None).await;
        let cookie = cookie.expect("a session cookie");
        assert_eq!(fetch(&app, "/whoami", Some(&cookie)).await.1, "s-1");
        let (status, body, _) = fetch(&app, "/report", Some(&cookie)).await;
        assert_eq!((status, body.as_str()), (StatusCode::OK, "s-1"));
        assert_eq!(fetch(&app, "/export", Some(&cookie)).await.1, "the export");
    }
}

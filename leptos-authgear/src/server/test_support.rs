//! What the crate's tests of whole routes share: an [`Auth`] on an app's own store, a route
//! that signs a test user in, and a request through a router.

use super::session::{AuthSession, SignedInUser};
use super::{Auth, Settings, SettingsBuilder};
use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use axum::routing::{get, MethodRouter};
use axum::{Extension, Router};
use tower::ServiceExt;
use tower_sessions::Session;

/// An [`Auth`] with sessions in tower-sessions' `MemoryStore` (through `Auth::with_store`),
/// its settings those of `configure` on top of a provider and a key.
pub(crate) async fn auth(configure: impl FnOnce(SettingsBuilder) -> SettingsBuilder) -> Auth {
    let settings = configure(
        Settings::builder()
            .provider("http://127.0.0.1:9", "client", "secret")
            .secret_key("unit-tests-only-0123456789abcdef0123"),
    )
    .build()
    .expect("settings");
    Auth::with_store(settings, tower_sessions::MemoryStore::default())
        .await
        .expect("auth")
}

/// `GET`: signs user `s-1` in to this browser's session.
pub(crate) fn sign_in() -> MethodRouter {
    get(
        |session: Session, Extension(auth): Extension<Auth>| async move {
            let user = SignedInUser::test_user("s-1", None, serde_json::json!({}));
            AuthSession::new(session, &auth)
                .sign_in(user)
                .await
                .map(|()| "signed in")
                .map_err(|_| StatusCode::SERVICE_UNAVAILABLE)
        },
    )
}

/// `GET path` through `app`, with `cookie`: the response.
pub(crate) async fn get_response(
    app: &Router,
    path: &str,
    cookie: Option<&str>,
) -> axum::response::Response {
    let mut request = Request::get(path);
    if let Some(cookie) = cookie {
        request = request.header(header::COOKIE, cookie);
    }
    app.clone()
        .oneshot(request.body(Body::empty()).expect("request"))
        .await
        .expect("response")
}

/// `GET path` through `app`, with `cookie`: the status, the body, and the cookie set (its
/// `name=value`).
pub(crate) async fn fetch(
    app: &Router,
    path: &str,
    cookie: Option<&str>,
) -> (StatusCode, String, Option<String>) {
    let response = get_response(app, path, cookie).await;
    let status = response.status();
    let set_cookie = response
        .headers()
        .get(header::SET_COOKIE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .map(str::to_owned);
    let body = axum::body::to_bytes(response.into_body(), 1 << 16)
        .await
        .expect("body");
    (
        status,
        String::from_utf8_lossy(&body).into_owned(),
        set_cookie,
    )
}

//! [`AuthLayer`]: what every request of the app goes through. Tower services rather than
//! `axum::middleware::from_fn`, which boxes two things per request; only a page request, which
//! reads the session store, is boxed.
//!
//! [`ErrorPage`]: super::ErrorPage

use super::error::{render_again, ErrorPage, RenderErrorPage};
use super::same_origin::RequireSameOrigin;
use super::security_headers::ResponseHeaders;
use super::session::AuthSession;
use super::{page_auth_state, Auth};
use crate::AuthPaths;
use crate::{AuthError, AuthState};
use axum::extract::Request;
use axum::http::Method;
use axum::response::Response;
use futures::future::{BoxFuture, Either};
use std::future::Future;
use std::pin::Pin;
use std::task::{ready, Context, Poll};
use tower::{Layer, Service};
use tower_sessions::cookie::time::Duration;
use tower_sessions::cookie::SameSite;
use tower_sessions::service::PrivateCookie;
use tower_sessions::{Expiry, Session, SessionManagerLayer};

/// The layer [`Auth::layer`] returns.
#[derive(Clone)]
pub struct AuthLayer {
    auth: Auth,
    sessions: SessionManagerLayer<super::stores::Sessions, PrivateCookie>,
}

/// The service [`AuthLayer`] wraps a router in.
pub type AuthService<S> = RenderErrorPages<
    RequireSameOrigin<
        axum::middleware::AddExtension<
            <SessionManagerLayer<super::stores::Sessions, PrivateCookie> as Layer<
                LoadPageState<S>,
            >>::Service,
            Auth,
        >,
    >,
>;

impl AuthLayer {
    pub(crate) fn new(auth: Auth) -> Self {
        let settings = auth.settings();
        let secure = settings.app_url.is_https();
        // `__Host-` makes browsers insist on Secure, Path=/ and no Domain.
        let name = if secure { "__Host-session" } else { "session" };
        // One HTTP-only, SameSite=Lax cookie holding an opaque, encrypted session id; everything
        // else stays on the server.
        let sessions = SessionManagerLayer::new(auth.sessions().clone())
            .with_name(name)
            .with_http_only(true)
            .with_same_site(SameSite::Lax)
            .with_secure(secure)
            .with_path("/")
            // Signed-in records set their own expiry (idle timeout capped by the absolute
            // lifetime, see `AuthSession`); this is the default for the rest.
            .with_expiry(Expiry::OnInactivity(Duration::seconds(
                settings.session.idle_timeout.as_secs() as i64,
            )))
            .with_private(auth.cookie_key().clone());
        Self { auth, sessions }
    }
}

impl<S> Layer<S> for AuthLayer {
    type Service = AuthService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        let sessions = self.sessions.layer(LoadPageState { inner });
        let with_auth = axum::Extension(self.auth.clone()).layer(sessions);
        let settings = self.auth.settings();
        // Posted by the provider's servers, and authenticated by their own signatures.
        let exempt = std::iter::once(self.auth.paths().backchannel_logout().to_owned())
            .chain(
                settings
                    .webhooks
                    .as_ref()
                    .map(|webhooks| webhooks.path.clone()),
            )
            .collect();
        RenderErrorPages {
            inner: RequireSameOrigin::new(with_auth, settings.app_url.origin(), exempt),
            login_path: self.auth.paths().login(),
            render: settings.error_page.as_ref().map(|page| page.0.clone()),
            headers: ResponseHeaders::new(settings.security_headers, settings.app_url.is_https()),
        }
    }
}

/// Renders the error pages of the routes inside it (the login's, and the app's 404) with the
/// app's login path and renderer ([`ErrorPage`]), and adds the security headers to every
/// response ([`SecurityHeaders`](super::SecurityHeaders)).
#[derive(Clone)]
pub struct RenderErrorPages<S> {
    inner: S,
    login_path: &'static str,
    render: Option<RenderErrorPage>,
    headers: ResponseHeaders,
}

impl<S> Service<Request> for RenderErrorPages<S>
where
    S: Service<Request, Response = Response>,
{
    type Response = Response;
    type Error = S::Error;
    type Future = RenderErrorPagesFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request) -> Self::Future {
        RenderErrorPagesFuture {
            response: self.inner.call(request),
            login_path: self.login_path,
            render: self.render.clone(),
            headers: self.headers,
        }
    }
}

pin_project_lite::pin_project! {
    /// The response of [`RenderErrorPages`]'s inner service, its error page rendered again.
    pub struct RenderErrorPagesFuture<F> {
        #[pin]
        response: F,
        login_path: &'static str,
        render: Option<RenderErrorPage>,
        headers: ResponseHeaders,
    }
}

impl<F, E> Future for RenderErrorPagesFuture<F>
where
    F: Future<Output = Result<Response, E>>,
{
    type Output = Result<Response, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let response = ready!(this.response.poll(cx))?;
        let error_page = response.extensions().get::<ErrorPage>().is_some();
        let mut response = render_again(response, this.login_path, this.render.as_ref());
        this.headers.add_to(response.headers_mut(), error_page);
        Poll::Ready(Ok(response))
    }
}

/// What the auth layer found for a page request: read by [`AuthProvider`](crate::AuthProvider)
/// while the page renders; and when the user last authenticated at the provider (`auth_time`),
/// for `RequireRecentLogin`, which alone may read it: the page cache knows the state, not this.
#[derive(Clone)]
pub(crate) struct PageState(
    pub(crate) Result<AuthState, AuthError>,
    pub(crate) Option<i64>,
);

/// Where the login's routes are, for the page being rendered (its links and session watcher).
#[derive(Clone, Copy)]
pub(crate) struct PagePaths(pub(crate) &'static AuthPaths);

/// Reads who is signed in before a page renders (rendering is synchronous; the store is not).
#[derive(Clone)]
pub struct LoadPageState<S> {
    inner: S,
}

impl<S, E> Service<Request> for LoadPageState<S>
where
    S: Service<Request, Response = Response, Error = E> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = E;
    type Future = Either<S::Future, BoxFuture<'static, Result<Response, E>>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), E>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request) -> Self::Future {
        let paths = request
            .extensions()
            .get::<Auth>()
            .map_or_else(crate::paths::default_paths, |auth| auth.paths());
        if !is_page_request(&request, paths) {
            return Either::Left(self.inner.call(request));
        }
        // The clone that is ready is the one to call (tower's rule for services in futures).
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        Either::Right(Box::pin(async move {
            let extensions = request.extensions();
            let found = match (extensions.get::<Auth>(), extensions.get::<Session>()) {
                (Some(auth), Some(session)) => {
                    let session = AuthSession::new(session.clone(), auth);
                    let found = page_auth_state(auth, &session)
                        .await
                        .map_err(super::error::store_error);
                    // A guest's first page may try a silent sign-in first (off by default).
                    let guest = found.as_ref().is_ok_and(|(state, _)| state.user.is_none());
                    if guest && auth.settings().silent_login_once {
                        if let Some(redirect) = super::silent_login::first_page(auth, &request) {
                            return Ok(redirect);
                        }
                    }
                    found
                }
                _ => Err(AuthError::Temporary(
                    "The auth layer is not installed.".into(),
                )),
            };
            let page = match found {
                Ok((state, auth_time)) => PageState(Ok(state), auth_time),
                Err(error) => PageState(Err(error), None),
            };
            request.extensions_mut().insert(page);
            // The default paths need no entry (`page_state` falls back to them).
            if !std::ptr::eq(paths, crate::paths::default_paths()) {
                request.extensions_mut().insert(PagePaths(paths));
            }
            inner.call(request).await
        }))
    }
}

/// A `GET` of what may be a page: not a file (a last segment with a dot: `/pkg/app.js`,
/// `/favicon.svg`), not a server function (`/api/…`), not one of this crate's own routes.
fn is_page_request(request: &Request, paths: &AuthPaths) -> bool {
    if request.method() != Method::GET {
        return false;
    }
    let path = request.uri().path();
    let last_segment = path.rsplit('/').next().unwrap_or_default();
    !last_segment.contains('.') && !path.starts_with("/api/") && !paths.is_route(path)
}

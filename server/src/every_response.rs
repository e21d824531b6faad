//! What every request and response get: the request's span and id
//! ([`telemetry::request_span`]), and the security headers; and `/login`, the client's address.
//!
//! A tower service around the whole router, not `axum::middleware::from_fn` layered on it: axum
//! clones the boxed service of each `Router::layer` level for every request, and `from_fn`
//! boxes two more things (bench/README.md).

use crate::telemetry;
use axum::extract::{ConnectInfo, Request};
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::Response;
use pin_project_lite::pin_project;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{ready, Context, Poll};
use tower::Service;
use tracing::instrument::Instrumented;
use tracing::Instrument;

#[derive(Clone)]
pub struct EveryResponse<S> {
    inner: S,
    /// Served over https (`APP_URL`): browsers are told to use nothing else.
    strict_transport: bool,
    /// The connection's peer, set per connection by [`EveryResponse::for_client`].
    client: Option<SocketAddr>,
    /// The login route's path: the requests that get the client's address.
    login_path: std::sync::Arc<str>,
}

impl<S> EveryResponse<S> {
    pub fn new(inner: S, strict_transport: bool, login_path: &str) -> Self {
        Self {
            inner,
            strict_transport,
            client: None,
            login_path: login_path.into(),
        }
    }

    /// This service for one connection from `client`: `/login` requests get its address as
    /// axum's `ConnectInfo`, for the login rate limit. Only those: axum's
    /// `into_make_service_with_connect_info` inserts it into every request, which costs every
    /// page (docs/decisions/0004-client-address-for-login-only.md).
    pub fn for_client(&self, client: SocketAddr) -> Self
    where
        S: Clone,
    {
        Self {
            client: Some(client),
            ..self.clone()
        }
    }
}

impl<S> Service<Request> for EveryResponse<S>
where
    S: Service<Request, Response = Response>,
{
    type Response = Response;
    type Error = S::Error;
    type Future = EveryResponseFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request) -> Self::Future {
        if let Some(client) = self
            .client
            .filter(|_| request.uri().path() == &*self.login_path)
        {
            request.extensions_mut().insert(ConnectInfo(client));
        }
        let (span, id) = telemetry::request_span(&request);
        let response = span.in_scope(|| self.inner.call(request));
        EveryResponseFuture {
            response: response.instrument(span),
            id: Some(id),
            strict_transport: self.strict_transport,
        }
    }
}

pin_project! {
    pub struct EveryResponseFuture<F> {
        #[pin]
        response: Instrumented<F>,
        id: Option<HeaderValue>,
        strict_transport: bool,
    }
}

impl<F, E> Future for EveryResponseFuture<F>
where
    F: Future<Output = Result<Response, E>>,
{
    type Output = Result<Response, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let mut response = ready!(this.response.poll(cx))?;
        let headers = response.headers_mut();
        if let Some(id) = this.id.take() {
            headers.insert(telemetry::REQUEST_ID, id);
        }
        security_headers(headers);
        if *this.strict_transport {
            // A year; not `includeSubDomains`: other hosts of the domain are not this app's.
            headers.insert(
                header::STRICT_TRANSPORT_SECURITY,
                HeaderValue::from_static("max-age=31536000"),
            );
        }
        Poll::Ready(Ok(response))
    }
}

/// Headers on every response. The page sets its own Content-Security-Policy (with a nonce);
/// everything else (error pages, JSON) gets one that allows no script at all.
fn security_headers(headers: &mut HeaderMap) {
    headers.reserve(5);
    headers
        .entry(header::CONTENT_SECURITY_POLICY)
        .or_insert(HeaderValue::from_static(
            "default-src 'none'; style-src 'self'; img-src 'self'; base-uri 'none'; \
             form-action 'self'; frame-ancestors 'none'",
        ));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
}

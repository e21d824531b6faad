//! What every request and response get: the request's span and id
//! ([`telemetry::request_span`]). (The security headers come from leptos-authgear's layer.)
//!
//! A tower service around the whole router, not `axum::middleware::from_fn` layered on it: axum
//! clones the boxed service of each `Router::layer` level for every request, and `from_fn`
//! boxes two more things (bench/README.md).

use crate::telemetry;
use axum::extract::Request;
use axum::http::HeaderValue;
use axum::response::Response;
use pin_project_lite::pin_project;
use std::future::Future;
use std::pin::Pin;
use std::task::{ready, Context, Poll};
use tower::Service;
use tracing::instrument::Instrumented;
use tracing::Instrument;

#[derive(Clone)]
pub struct EveryResponse<S> {
    inner: S,
}

impl<S> EveryResponse<S> {
    pub fn new(inner: S) -> Self {
        Self { inner }
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

    fn call(&mut self, request: Request) -> Self::Future {
        let (span, id) = telemetry::request_span(&request);
        let response = span.in_scope(|| self.inner.call(request));
        EveryResponseFuture {
            response: response.instrument(span),
            id: Some(id),
        }
    }
}

pin_project! {
    pub struct EveryResponseFuture<F> {
        #[pin]
        response: Instrumented<F>,
        id: Option<HeaderValue>,
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
        if let Some(id) = this.id.take() {
            response.headers_mut().insert(telemetry::REQUEST_ID, id);
        }
        Poll::Ready(Ok(response))
    }
}

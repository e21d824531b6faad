//! CSRF defence for state-changing requests (server functions, logout).
//!
//! Leptos server functions and HTML forms send "simple" POSTs that need no CORS preflight, so
//! SameSite=Lax alone is not enough: every non-GET request must come from this site, as the
//! browser's `Sec-Fetch-Site` or `Origin` header says. Anything else gets 403.

use super::error::RouteError;
use axum::extract::Request;
use axum::http::{header, HeaderMap, Method};
use axum::response::{IntoResponse, Response};
use futures::future::{Either, Ready};
use std::sync::Arc;
use std::task::{Context, Poll};
use tower::Service;

/// Refuses (403) a request that is not a GET, HEAD or OPTIONS and not from the app's origin,
/// except on the paths the provider's servers post to (back-channel logout, webhooks), which
/// check signatures of their own. A tower service that decides before calling the inner service
/// and boxes nothing.
#[derive(Clone)]
pub struct RequireSameOrigin<S> {
    inner: S,
    app_origin: Arc<str>,
    exempt: Arc<[String]>,
}

impl<S> RequireSameOrigin<S> {
    pub(crate) fn new(inner: S, app_origin: &str, exempt: Vec<String>) -> Self {
        Self {
            inner,
            app_origin: app_origin.into(),
            exempt: exempt.into(),
        }
    }
}

impl<S> Service<Request> for RequireSameOrigin<S>
where
    S: Service<Request, Response = Response>,
{
    type Response = Response;
    type Error = S::Error;
    type Future = Either<S::Future, Ready<Result<Response, S::Error>>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request) -> Self::Future {
        let safe = matches!(
            *request.method(),
            Method::GET | Method::HEAD | Method::OPTIONS
        );
        if safe
            || self.exempt.iter().any(|path| request.uri().path() == path)
            || is_same_origin(request.headers(), &self.app_origin)
        {
            Either::Left(self.inner.call(request))
        } else {
            Either::Right(futures::future::ready(Ok(
                RouteError::CrossSite.into_response()
            )))
        }
    }
}

/// `Sec-Fetch-Site: same-origin` (all current browsers), or else an `Origin` equal to the
/// app's. A request with neither is refused: browsers send at least one on every POST.
pub fn is_same_origin(headers: &HeaderMap, app_origin: &str) -> bool {
    if let Some(site) = headers.get("sec-fetch-site") {
        return site == "same-origin";
    }
    headers
        .get(header::ORIGIN)
        .is_some_and(|origin| origin == app_origin)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, HeaderValue::from_static(value));
        }
        map
    }

    const APP: &str = "http://localhost:3000";

    #[test]
    fn same_origin_requests_pass() {
        assert!(is_same_origin(
            &headers(&[("sec-fetch-site", "same-origin")]),
            APP
        ));
        assert!(is_same_origin(&headers(&[("origin", APP)]), APP));
    }

    #[test]
    fn cross_site_and_anonymous_requests_are_refused() {
        for case in [
            headers(&[("sec-fetch-site", "cross-site"), ("origin", APP)]),
            headers(&[("sec-fetch-site", "same-site")]),
            headers(&[("origin", "http://evil.example")]),
            headers(&[("origin", "null")]),
            headers(&[]),
        ] {
            assert!(!is_same_origin(&case, APP), "{case:?}");
        }
    }
}

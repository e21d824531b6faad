//! CSRF defence for state-changing requests (server functions, logout).
//!
//! Leptos server functions and HTML forms send "simple" POSTs that need no CORS preflight, so
//! SameSite=Lax alone is not enough: every non-GET request must come from this site, as the
//! browser's `Sec-Fetch-Site` or `Origin` header says. Anything else gets 403.

use crate::error::AuthError;
use crate::startup::AppState;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

pub async fn require_same_origin(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let safe = matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    );
    if safe || is_same_origin(request.headers(), state.app_url.origin()) {
        next.run(request).await
    } else {
        AuthError::CrossSite.into_response()
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

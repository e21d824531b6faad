//! `SILENT_LOGIN_ONCE`: a guest's first page in a browser session goes through a silent sign-in
//! (`/login?prompt=none`) first, as Duende.BFF and express-openid-connect's
//! `attemptSilentLogin` offer: a top-level redirect, no iframe, so blocked third-party cookies
//! do not break it. The provider answers with a code when it still has a session for the user,
//! else with `login_required`, which the callback turns into a redirect back to the page, as a
//! guest. A session cookie of its own remembers that it was tried: once per browser session,
//! and never again after a logout in it.

use super::return_to::ReturnTo;
use super::Auth;
use axum::body::Body;
use axum::extract::Request;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::Response;

/// The cookie that says a silent sign-in was tried in this browser session (no `Max-Age`: the
/// browser forgets it when it closes).
const TRIED: &str = "silent-login-tried";

/// The redirect to a silent sign-in for a guest's `request`, when this browser has not tried
/// one in this session and the request is a browser's own navigation to a page; else `None`.
pub(crate) fn first_page(auth: &Auth, request: &Request) -> Option<Response> {
    let headers = request.headers();
    let navigation = headers
        .get("sec-fetch-mode")
        .is_some_and(|mode| mode == "navigate");
    if !navigation || has_cookie(headers, cookie_name(auth)) {
        return None;
    }
    let here = request.uri().path_and_query()?.as_str();
    let here = ReturnTo::parse(here).ok()?.into_string();
    let mut login = crate::paths::login_url_at(auth.paths().base(), Some(&here));
    login.push_str("&prompt=none");
    Response::builder()
        .status(StatusCode::FOUND)
        .header(header::LOCATION, HeaderValue::from_str(&login).ok()?)
        .header(header::SET_COOKIE, tried(auth))
        .header(header::CACHE_CONTROL, "no-store")
        .body(Body::empty())
        .ok()
}

/// The `Set-Cookie` value that says a silent sign-in was tried (or must not be: a logout).
pub(crate) fn tried(auth: &Auth) -> HeaderValue {
    let value = if auth.settings().app_url.is_https() {
        "__Host-silent-login-tried=1; Path=/; HttpOnly; SameSite=Lax; Secure"
    } else {
        "silent-login-tried=1; Path=/; HttpOnly; SameSite=Lax"
    };
    HeaderValue::from_static(value)
}

/// `__Host-` over https: a sibling subdomain cannot set it.
fn cookie_name(auth: &Auth) -> &'static str {
    if auth.settings().app_url.is_https() {
        "__Host-silent-login-tried"
    } else {
        TRIED
    }
}

fn has_cookie(headers: &axum::http::HeaderMap, name: &str) -> bool {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .any(|pair| {
            pair.trim()
                .split_once('=')
                .is_some_and(|(key, _)| key == name)
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_marker_is_found_among_other_cookies_only_by_its_name() {
        let mut headers = axum::http::HeaderMap::new();
        headers.insert(
            header::COOKIE,
            HeaderValue::from_static("a=1; silent-login-tried=1"),
        );
        assert!(has_cookie(&headers, TRIED));
        headers.insert(
            header::COOKIE,
            HeaderValue::from_static("x-silent-login-tried=1; b=2"),
        );
        assert!(!has_cookie(&headers, TRIED));
        assert!(!has_cookie(&axum::http::HeaderMap::new(), TRIED));
    }
}
